//! The two languages of the UI (Simplified Chinese, the default, and English), and what carries a
//! name in both: every enum made by [`crate::org::string_enum`] has `zh()`, `en()` and
//! `label(lang)`, so pages show a value's name in the page's language, never its stored word.

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The BCP 47 code (`zh-CN`, `en`) for `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// One of two texts: the Chinese or the English.
    pub fn pick<T>(self, zh: T, en: T) -> T {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// A value with a stored word and a name in each language (every `string_enum!`, and the few
/// enums with hand-written names): pages call `label(lang)`, the JSON API and CSV machine columns
/// keep `as_str()`.
pub trait Labelled: Copy + 'static {
    /// Every value, in order.
    fn all() -> &'static [Self];
    /// The stored word (JSON, database, command line).
    fn as_str(self) -> &'static str;
    /// The Chinese name.
    fn zh(self) -> &'static str;
    /// The English name.
    fn en(self) -> &'static str;
    /// The name in `lang`.
    fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.en())
    }
}

/// Every enum with labels, by name: for checks that every value has both names (a test here and
/// one in the web crate). Keep in step with the enums (a test reads the sources).
pub fn every_label() -> Vec<(&'static str, Vec<LabelRow>)> {
    fn rows<T: Labelled>() -> Vec<LabelRow> {
        T::all().iter().map(|v| (v.as_str(), v.zh(), v.en())).collect()
    }
    macro_rules! list {
        ($($t:path),+ $(,)?) => { vec![$((stringify!($t), rows::<$t>())),+] };
    }
    list![
        crate::calendar::TimerKind,
        crate::decision::electorate::Measure,
        crate::case::CaseState,
        crate::case::CaseSource,
        crate::case::CloseKind,
        crate::case::Satisfaction,
        crate::case::ActionKind,
        crate::catalogue::CaseKind,
        crate::flat::OwnerKind,
        crate::flat::WarningKind,
        crate::gridteam::MemberRole,
        crate::gridteam::AllianceRole,
        crate::gridteam::KeyGroup,
        crate::gridteam::Category,
        crate::gridteam::NeedSource,
        crate::gridteam::Urgency,
        crate::gridteam::NeedStatus,
        crate::gridteam::ResourceKind,
        crate::gridteam::ProjectStatus,
        crate::gridteam::ActivityKind,
        crate::indicators::Rate,
        crate::indicators::ScoredRole,
        crate::open311::Datatype,
        crate::org::OrgKind,
        crate::org::Role,
        crate::premises::UnitUse,
        crate::regen::HolderKind,
        crate::regen::Organisation,
        crate::regen::ResourceKind,
        crate::regen::Stance,
        crate::regen::Choice,
        crate::renewal::council::MemberKind,
        crate::renewal::council::Stance,
        crate::renewal::council::Decision,
        crate::renewal::council::MeetingState,
        crate::renewal::council::MeetingAction,
        crate::renewal::delivery::MilestoneState,
        crate::renewal::delivery::MilestoneProgress,
        crate::renewal::delivery::MilestoneAction,
        crate::renewal::delivery::ContributorKind,
        crate::renewal::lifecycle::Party,
        crate::renewal::proposal::ProposalStatus,
        crate::renewal::proposal::OfferKind,
        crate::renewal::proposal::AmendmentStatus,
        crate::renewal::proposal::ProposalAction,
        crate::renewal::proposal::AmendmentAction,
        crate::renewal::vote::VoteState,
        crate::renewal::vote::VoteAction,
        crate::renewal::vote::PaperStatus,
        crate::renewal::vote::PaperAction,
        crate::renewal::works::WorkKind,
        crate::renewal::works::Phase,
        crate::renewal::works::Membership,
        crate::renewal::works::MembershipAction,
        crate::territory::Level,
        crate::visibility::Stage,
        crate::wicked::ProblemType,
        crate::wicked::PartyKind,
        crate::wicked::Position,
        crate::wicked::Hazard,
        crate::wicked::Milestone,
        crate::wicked::Side
    ]
}

/// One value's (stored word, 中文, English).
pub type LabelRow = (&'static str, &'static str, &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_both_names() {
        for (name, rows) in every_label() {
            assert!(!rows.is_empty(), "{name} has no values");
            let mut en: Vec<&str> = Vec::new();
            for (word, zh, e) in &rows {
                assert!(
                    !word.is_empty() && !zh.trim().is_empty() && !e.trim().is_empty(),
                    "{name}::{word}"
                );
                assert_ne!(zh, e, "{name}::{word}: the English name is the Chinese one");
                assert!(e.is_ascii(), "{name}::{word}: '{e}' is not English");
                assert!(!e.contains('_'), "{name}::{word}: '{e}' looks like a stored word");
                en.push(e);
            }
            let n = en.len();
            en.sort_unstable();
            en.dedup();
            assert_eq!(en.len(), n, "{name}: two values share an English name");
        }
    }

    /// Every enum made by the label macros is in [`every_label`].
    #[test]
    fn every_labelled_enum_is_listed() {
        let listed: Vec<String> = every_label()
            .into_iter()
            .map(|(n, _)| n.rsplit("::").next().unwrap_or(n).replace(' ', ""))
            .collect();
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source readable");
                for macro_name in ["string_enum! {", "named_enum! {", "enum_labels!("] {
                    for (at, _) in text.match_indices(macro_name) {
                        let rest = &text[at + macro_name.len()..];
                        let name = rest
                            .lines()
                            .map(str::trim)
                            .find(|l| !l.is_empty() && !l.starts_with("///"))
                            .and_then(|l| l.split([' ', '{']).next())
                            .unwrap_or_default();
                        if name.starts_with(|c: char| c.is_ascii_uppercase())
                            && name.chars().all(|c| c.is_ascii_alphanumeric())
                        {
                            found.push(name.to_owned());
                        }
                    }
                }
            }
        }
        for name in &found {
            assert!(listed.contains(name), "{name} is labelled but not in every_label()");
        }
        assert_eq!(found.len(), listed.len(), "found {found:?}");
    }
}
