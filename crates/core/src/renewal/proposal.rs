//! Micro-renewal proposals (方案): what a proposal holds, how residents' amendments (修改建议)
//! change it into a new version, and what changed between any two versions.
//!
//! A proposal's content is checked as a whole ([`Content::check`]); an amendment is a patch of
//! some fields ([`Patch`]) applied to the version it was written against. Money is integer cents.

use serde::{Deserialize, Serialize};

use super::lifecycle::{self, named, row, Party, Refusal, Transition};
use crate::org::string_enum;
use crate::DomainError;

string_enum! {
    /// Where a proposal stands.
    ProposalStatus {
        /// 征求意见 open: residents may suggest amendments.
        Open => "open", "征求意见", "Open for comment";
        /// 提交表决 the council sent it to the vote.
        ToVote => "to_vote", "提交表决", "Sent to the vote";
        /// 退回修改 the council sent it back for revision.
        Revise => "revise", "退回修改", "Sent back for revision";
        /// 否决 the council rejected it.
        Rejected => "rejected", "否决", "Rejected";
        /// 获得资助 funded by a vote.
        Funded => "funded", "获得资助", "Funded";
        /// 未获资助 on a ballot but not funded.
        NotFunded => "not_funded", "未获资助", "Not funded";
    }
}

string_enum! {
    /// What a co-production offer gives.
    OfferKind {
        Labour => "labour", "志愿投工", "Volunteer labour";
        Money => "money", "出资", "Money";
        Materials => "materials", "材料", "Materials";
        Upkeep => "upkeep", "后期维护", "Upkeep";
        Skills => "skills", "专业技能", "Professional skills";
    }
}

string_enum! {
    /// The state of an amendment.
    AmendmentStatus {
        Pending => "pending", "待答复", "Awaiting an answer";
        Accepted => "accepted", "已采纳", "Accepted";
        Rejected => "rejected", "未采纳", "Declined";
    }
}

/// One line of a proposal's budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub item: String,
    /// Integer cents (分).
    pub cents: i64,
}

/// An offer of co-production: who gives what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub who: String,
    pub kind: OfferKind,
    pub gives: String,
    /// Volunteer hours offered, if any.
    #[serde(default)]
    pub hours: Option<u32>,
    /// Money offered in cents, if any.
    #[serde(default)]
    pub cents: Option<i64>,
}

/// A design attachment (image or PDF) stored as a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    /// The stored document's name.
    pub document: String,
    pub bytes: u64,
}

/// What a proposal says at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub title: String,
    pub description: String,
    /// A GeoJSON geometry: a Point or a Polygon, in WGS-84 longitude/latitude.
    pub site: serde_json::Value,
    pub items: Vec<LineItem>,
    #[serde(default)]
    pub offers: Vec<Offer>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// The media types accepted for design attachments, with their magic bytes.
pub const ATTACHMENT_TYPES: &[(&str, &[u8])] = &[
    ("image/png", b"\x89PNG"),
    ("image/jpeg", b"\xFF\xD8\xFF"),
    ("application/pdf", b"%PDF"),
];

/// Checks an attachment's bytes against its declared media type.
pub fn check_attachment(media_type: &str, bytes: &[u8]) -> Result<(), DomainError> {
    let Some((_, magic)) = ATTACHMENT_TYPES.iter().find(|(t, _)| *t == media_type) else {
        return Err(DomainError::invalid(
            "content-type",
            format!("{media_type:?} is not accepted: send image/png, image/jpeg or application/pdf"),
        ));
    };
    if !bytes.starts_with(magic) {
        return Err(DomainError::invalid(
            "file",
            format!("the file is not a {media_type} file (its first bytes do not match)"),
        ));
    }
    if bytes.len() > 10 * 1024 * 1024 {
        return Err(DomainError::invalid("file", "a design attachment may be at most 10 MB"));
    }
    Ok(())
}

fn position(v: &serde_json::Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    if a.len() < 2 {
        return None;
    }
    let (x, y) = (a[0].as_f64()?, a[1].as_f64()?);
    ((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)).then_some((x, y))
}

/// Checks a site: a GeoJSON Point or Polygon (closed rings of at least 4 positions).
pub fn check_site(site: &serde_json::Value) -> Result<(), DomainError> {
    let bad = |m: &str| Err(DomainError::invalid("site", m.to_string()));
    let kind = site.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let coords = site.get("coordinates").unwrap_or(&serde_json::Value::Null);
    match kind {
        "Point" => {
            if position(coords).is_none() {
                return bad("a Point needs coordinates [longitude, latitude] within -180..180, -90..90");
            }
        }
        "Polygon" => {
            let Some(rings) = coords.as_array().filter(|r| !r.is_empty()) else {
                return bad("a Polygon needs coordinates: a list of rings");
            };
            for (i, ring) in rings.iter().enumerate() {
                let pts: Option<Vec<(f64, f64)>> = ring.as_array().and_then(|r| r.iter().map(position).collect());
                match pts {
                    Some(p) if p.len() >= 4 && p.first() == p.last() => {}
                    _ => {
                        return Err(DomainError::invalid(
                            "site",
                            format!(
                                "ring {i} of the Polygon must be closed (first = last) with at least 4 valid positions"
                            ),
                        ))
                    }
                }
            }
        }
        _ => return bad("give the site as a GeoJSON geometry of type Point or Polygon"),
    }
    Ok(())
}

impl Content {
    /// The total budget in cents.
    pub fn budget_cents(&self) -> i64 {
        self.items.iter().map(|i| i.cents).sum()
    }

    /// Checks every field; the error names the field and how to fix it.
    pub fn check(&self) -> Result<(), DomainError> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 100 {
            return Err(DomainError::invalid("title", "give a title of 1 to 100 characters"));
        }
        if self.description.trim().is_empty() {
            return Err(DomainError::invalid(
                "description",
                "describe what the proposal would do",
            ));
        }
        check_site(&self.site)?;
        if self.items.is_empty() {
            return Err(DomainError::invalid(
                "items",
                "give the budget as line items: [{\"item\": \"…\", \"cents\": 100000}]",
            ));
        }
        for (i, it) in self.items.iter().enumerate() {
            if it.item.trim().is_empty() {
                return Err(DomainError::invalid(format!("items[{i}].item"), "name the budget line"));
            }
            if it.cents <= 0 {
                return Err(DomainError::invalid(
                    format!("items[{i}].cents"),
                    "an amount is a positive number of cents (分)",
                ));
            }
        }
        if self
            .items
            .iter()
            .try_fold(0i64, |a, i| a.checked_add(i.cents))
            .is_none()
        {
            return Err(DomainError::invalid("items", "the budget is too large"));
        }
        for (i, o) in self.offers.iter().enumerate() {
            if o.who.trim().is_empty() || o.gives.trim().is_empty() {
                return Err(DomainError::invalid(
                    format!("offers[{i}]"),
                    "an offer says who gives (who) and what (gives)",
                ));
            }
            if o.cents.is_some_and(|c| c <= 0) {
                return Err(DomainError::invalid(
                    format!("offers[{i}].cents"),
                    "money offered is positive",
                ));
            }
        }
        Ok(())
    }
}

/// An amendment's changes: the fields it replaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<LineItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Vec<Offer>>,
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.site.is_none()
            && self.items.is_none()
            && self.offers.is_none()
    }

    /// The content with this patch applied, checked.
    pub fn apply(&self, base: &Content) -> Result<Content, DomainError> {
        if self.is_empty() {
            return Err(DomainError::invalid(
                "changes",
                "an amendment changes at least one of title, description, site, items, offers",
            ));
        }
        let mut c = base.clone();
        if let Some(t) = &self.title {
            c.title = t.clone();
        }
        if let Some(d) = &self.description {
            c.description = d.clone();
        }
        if let Some(s) = &self.site {
            c.site = s.clone();
        }
        if let Some(i) = &self.items {
            c.items = i.clone();
        }
        if let Some(o) = &self.offers {
            c.offers = o.clone();
        }
        c.check()?;
        Ok(c)
    }
}

/// One line of a text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum Line {
    Same(String),
    Removed(String),
    Added(String),
}

/// A changed field between two versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    /// For text fields: the line-level diff (longest common subsequence).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
}

/// Line-level diff of two texts by the longest common subsequence.
pub fn line_diff(a: &str, b: &str) -> Vec<Line> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(Line::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Line::Added(b[j].to_string()));
            j += 1;
        } else {
            out.push(Line::Removed(a[i].to_string()));
            i += 1;
        }
    }
    out
}

/// What changed from `a` to `b`, field by field (budget total included).
pub fn diff(a: &Content, b: &Content) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, x: serde_json::Value, y: serde_json::Value, text: Option<(&str, &str)>| {
        if x != y {
            out.push(FieldChange {
                field: name.to_string(),
                before: x,
                after: y,
                lines: text.map(|(p, q)| line_diff(p, q)).unwrap_or_default(),
            });
        }
    };
    field("title", j(&a.title), j(&b.title), Some((&a.title, &b.title)));
    field(
        "description",
        j(&a.description),
        j(&b.description),
        Some((&a.description, &b.description)),
    );
    field("site", a.site.clone(), b.site.clone(), None);
    field("items", j(&a.items), j(&b.items), None);
    field("budget_cents", j(&a.budget_cents()), j(&b.budget_cents()), None);
    field("offers", j(&a.offers), j(&b.offers), None);
    field("attachments", j(&a.attachments), j(&b.attachments), None);
    out
}

fn j<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

string_enum! {
    /// The steps of a proposal's lifecycle; [`TRANSITIONS`] says from which status.
    ProposalAction {
        /// 修改方案: the author (or staff) write a new version over the one they saw.
        Edit => "edit", "修改方案", "Edit the proposal";
        /// 提修改建议: a resident (or staff) suggests an amendment.
        Amend => "amend", "提修改建议", "Suggest an amendment";
        /// 提交表决: the council sends it to the vote.
        SendToVote => "send_to_vote", "提交表决", "Send to the vote";
        /// 退回修改: the council sends it back for revision.
        SendBack => "send_back", "退回修改", "Send back for revision";
        /// 否决: the council rejects it.
        Reject => "reject", "否决", "Reject";
        /// 列入选票: a vote puts it on its ballot.
        PutOnBallot => "put_on_ballot", "列入选票", "Put on the ballot";
        /// 获得资助: the count of a closed vote funds it.
        Fund => "fund", "获得资助", "Fund";
        /// 未获资助: the count of a closed vote does not fund it.
        NotFund => "not_fund", "未获资助", "Do not fund";
    }
}

string_enum! {
    /// The answers to an amendment; [`AMENDMENT_TRANSITIONS`] says when.
    AmendmentAction {
        /// 采纳: its changes make a new version.
        Accept => "accept", "采纳", "Accept";
        /// 不采纳, with the reason.
        Decline => "decline", "不采纳", "Decline";
    }
}

named!(ProposalStatus, ProposalAction, AmendmentStatus, AmendmentAction);

impl ProposalStatus {
    /// The council rejected it or a vote counted it: its content no longer changes (no new
    /// version, no amendment). The council and a vote's count may still set its status (see
    /// [`TRANSITIONS`]).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProposalStatus::Rejected | ProposalStatus::Funded | ProposalStatus::NotFunded
        )
    }
}

impl ProposalAction {
    /// The step a vote's count takes for a proposal on its ballot.
    pub fn counted(funded: bool) -> Self {
        if funded {
            ProposalAction::Fund
        } else {
            ProposalAction::NotFund
        }
    }
}

impl AmendmentStatus {
    /// Answered: nothing more happens to it.
    pub fn is_terminal(self) -> bool {
        self != AmendmentStatus::Pending
    }
}

impl AmendmentAction {
    pub fn of(accept: bool) -> Self {
        if accept {
            AmendmentAction::Accept
        } else {
            AmendmentAction::Decline
        }
    }
}

use lifecycle::Target::{Stay, To};
use AmendmentStatus as AS;
use Party as P;
use ProposalAction as PA;
use ProposalStatus as PS;

const AUTHOR_OR_STAFF: &[Party] = &[P::Author, P::Staff];
const RESIDENTS_AND_STAFF: &[Party] = &[P::Resident, P::Staff];
const STAFF: &[Party] = &[P::Staff];
/// Before the content is final: the author may still write versions.
const EDITABLE: &[ProposalStatus] = &[PS::Open, PS::ToVote, PS::Revise];
/// Open to residents' amendments: 征求意见 or back for revision.
const AMENDABLE: &[ProposalStatus] = &[PS::Open, PS::Revise];

/// A proposal's lifecycle: the only place that says which step is allowed from which status, by
/// whom, and where it leads. Its content changes (new versions, amendments) until it is final
/// ([`ProposalStatus::is_final`]). The council's decision (recorded by staff at a quorate
/// meeting) and a vote's count set the status from any status: the council may retake its
/// decision, and a vote's count binds. Answering an amendment is the amendment's lifecycle
/// ([`AMENDMENT_TRANSITIONS`]).
pub const TRANSITIONS: &[Transition<ProposalStatus, ProposalAction>] = &[
    row(EDITABLE, PA::Edit, Stay, AUTHOR_OR_STAFF),
    row(AMENDABLE, PA::Amend, Stay, RESIDENTS_AND_STAFF),
    row(PS::ALL, PA::SendToVote, To(PS::ToVote), STAFF),
    row(PS::ALL, PA::SendBack, To(PS::Revise), STAFF),
    row(PS::ALL, PA::Reject, To(PS::Rejected), STAFF),
    row(&[PS::ToVote], PA::PutOnBallot, Stay, STAFF),
    row(PS::ALL, PA::Fund, To(PS::Funded), STAFF),
    row(PS::ALL, PA::NotFund, To(PS::NotFunded), STAFF),
];

/// An amendment's lifecycle: answered once, by the proposal's author or staff.
pub const AMENDMENT_TRANSITIONS: &[Transition<AmendmentStatus, AmendmentAction>] = &[
    row(
        &[AS::Pending],
        AmendmentAction::Accept,
        To(AS::Accepted),
        AUTHOR_OR_STAFF,
    ),
    row(
        &[AS::Pending],
        AmendmentAction::Decline,
        To(AS::Rejected),
        AUTHOR_OR_STAFF,
    ),
];

/// The row for `action` from `status`, if the step exists.
pub fn transition(
    status: ProposalStatus,
    action: ProposalAction,
) -> Option<&'static Transition<ProposalStatus, ProposalAction>> {
    lifecycle::transition(TRANSITIONS, status, action)
}

/// The steps allowed from `status`, in table order.
pub fn allowed(status: ProposalStatus) -> Vec<ProposalAction> {
    lifecycle::allowed(TRANSITIONS, status)
}

/// The status `action` leads to from `status`, or the refusal naming the status and the steps
/// allowed from it.
pub fn decide(
    status: ProposalStatus,
    action: ProposalAction,
) -> Result<ProposalStatus, Refusal<ProposalStatus, ProposalAction>> {
    lifecycle::decide(TRANSITIONS, status, action).map(|t| t.resolve(status).unwrap_or(status))
}

/// The status answering an amendment in `status` gives, or the refusal.
pub fn decide_amendment(
    status: AmendmentStatus,
    action: AmendmentAction,
) -> Result<AmendmentStatus, Refusal<AmendmentStatus, AmendmentAction>> {
    lifecycle::decide(AMENDMENT_TRANSITIONS, status, action).map(|t| t.resolve(status).unwrap_or(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn content() -> Content {
        Content {
            title: "口袋公园".into(),
            description: "拆除违建\n铺设透水砖\n增设座椅".into(),
            site: json!({"type": "Point", "coordinates": [104.08, 30.66]}),
            items: vec![
                LineItem {
                    item: "铺装".into(),
                    cents: 3_000_000,
                },
                LineItem {
                    item: "座椅".into(),
                    cents: 500_000,
                },
            ],
            offers: vec![],
            attachments: vec![],
        }
    }

    use super::super::lifecycle::check;

    #[test]
    fn proposal_table_is_well_formed() {
        check::well_formed(TRANSITIONS, ProposalStatus::ALL, ProposalAction::ALL, PS::Open, |_| {
            false
        });
        for s in ProposalStatus::ALL {
            let content = [PA::Edit, PA::Amend].iter().any(|a| allowed(*s).contains(a));
            assert_eq!(content, !s.is_final(), "{s}");
        }
    }

    #[test]
    fn every_proposal_status_and_step_follows_the_table() {
        let ok = check::follows_the_table(TRANSITIONS, ProposalStatus::ALL, ProposalAction::ALL, |s, a| {
            lifecycle::decide(TRANSITIONS, s, a)
        });
        assert_eq!(ok, 3 + 2 + 5 * 6 + 1);
        for s in ProposalStatus::ALL {
            for a in ProposalAction::ALL {
                match (transition(*s, *a), decide(*s, *a)) {
                    (Some(t), Ok(to)) => assert_eq!(Some(to), t.to.resolve(*s)),
                    (None, Err(r)) => assert_eq!(r.allowed, allowed(*s)),
                    other => panic!("{s} {a}: {other:?}"),
                }
            }
        }
        let r = decide(PS::Funded, PA::Edit).unwrap_err();
        assert_eq!(
            r.to_string(),
            "it is funded (获得资助), which does not allow edit (修改方案); allowed: send_to_vote (提交表决), \
             send_back (退回修改), reject (否决), fund (获得资助), not_fund (未获资助)"
        );
        assert_eq!(decide(PS::Revise, PA::Amend), Ok(PS::Revise));
        assert_eq!(decide(PS::ToVote, PA::counted(false)), Ok(PS::NotFunded));
    }

    #[test]
    fn amendment_table_is_well_formed_and_followed() {
        check::well_formed(
            AMENDMENT_TRANSITIONS,
            AmendmentStatus::ALL,
            AmendmentAction::ALL,
            AS::Pending,
            AmendmentStatus::is_terminal,
        );
        let ok = check::follows_the_table(
            AMENDMENT_TRANSITIONS,
            AmendmentStatus::ALL,
            AmendmentAction::ALL,
            |s, a| lifecycle::decide(AMENDMENT_TRANSITIONS, s, a),
        );
        assert_eq!(ok, 2);
        assert_eq!(
            decide_amendment(AS::Pending, AmendmentAction::of(false)),
            Ok(AS::Rejected)
        );
        let r = decide_amendment(AS::Accepted, AmendmentAction::Accept).unwrap_err();
        assert_eq!(
            r.to_string(),
            "it is accepted (已采纳), which does not allow accept (采纳); allowed: nothing"
        );
    }

    #[test]
    fn content_is_checked_field_by_field() {
        let c = content();
        c.check().unwrap();
        assert_eq!(c.budget_cents(), 3_500_000);
        let mut bad = c.clone();
        bad.items[1].cents = 0;
        assert!(bad.check().unwrap_err().to_string().starts_with("items[1].cents"));
        let mut bad = c.clone();
        bad.site = json!({"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.1, 30.0], [104.0, 30.1]]]});
        assert!(bad.check().unwrap_err().to_string().contains("closed"));
        bad.site =
            json!({"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.1, 30.0], [104.0, 30.1], [104.0, 30.0]]]});
        bad.check().unwrap();
        bad.site = json!({"type": "LineString", "coordinates": []});
        assert!(bad.check().is_err());
    }

    #[test]
    fn patches_and_diffs() {
        let a = content();
        let p = Patch {
            description: Some("拆除违建\n铺设透水砖\n增设无障碍坡道\n增设座椅".into()),
            items: Some(vec![LineItem {
                item: "铺装".into(),
                cents: 3_200_000,
            }]),
            ..Patch::default()
        };
        let b = p.apply(&a).unwrap();
        let d = diff(&a, &b);
        let fields: Vec<&str> = d.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["description", "items", "budget_cents"]);
        assert_eq!(
            d[0].lines,
            vec![
                Line::Same("拆除违建".into()),
                Line::Same("铺设透水砖".into()),
                Line::Added("增设无障碍坡道".into()),
                Line::Same("增设座椅".into()),
            ]
        );
        assert!(Patch::default().apply(&a).is_err());
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn attachments_are_checked_by_magic_bytes() {
        check_attachment("application/pdf", b"%PDF-1.4 ...").unwrap();
        assert!(check_attachment("image/png", b"%PDF").is_err());
        assert!(check_attachment("text/html", b"<html>").is_err());
    }
}
