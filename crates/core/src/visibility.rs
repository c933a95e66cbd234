//! Visibility (可见范围), enforced by types at the edges rather than by filters remembered in each
//! query.
//!
//! Every record of a front-stage / back-stage initiative carries a [`Stage`]. Content that only
//! the back stage may read is wrapped in [`Internal`], which implements neither `Serialize` nor
//! `Display`, and whose `Debug` prints only `Internal(<back stage>)`: a view, an export, a notification or an error
//! message built from a struct that holds an `Internal` does not compile unless it goes through
//! [`Internal::reveal`], and `reveal` asks for a [`BackStagePass`]. The pass is issued only by
//! [`Seat::back_stage`] for a seat that is back-stage staff of that very initiative, and the seat is
//! built by the access check from memberships. Storage writes internal content through the
//! explicit [`stored`] serde module, used on event payloads only.

use std::fmt;

use serde::Serialize;

crate::org::string_enum! {
    /// Who may see a record.
    Stage {
        /// 前台: the front-stage committee of the initiative (and the back stage, which may read it).
        Front => "front", "前台", "Front stage";
        /// 后台: the back-stage government staff of the initiative only.
        Back => "back", "后台", "Back stage";
        /// 联合: both stages of the initiative.
        Joint => "joint", "联合", "Joint";
        /// 公开: everyone, residents and visitors included.
        Public => "public", "公开", "Public";
    }
}

/// Where a viewer sits with respect to one initiative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "seat", content = "initiative", rename_all = "snake_case")]
pub enum Seat {
    /// A visitor or a resident who is not a member: public records only.
    Public,
    /// A member of the initiative's front stage (the residents' autonomous committee).
    Front(i64),
    /// Back-stage staff of the initiative (town or street government).
    Back(i64),
}

impl Seat {
    /// Whether a record of `stage` in `initiative` may be shown to this seat.
    pub fn sees(self, initiative: i64, stage: Stage) -> bool {
        match (self, stage) {
            (_, Stage::Public) => true,
            (Seat::Front(i), Stage::Front | Stage::Joint) => i == initiative,
            (Seat::Back(i), _) => i == initiative,
            _ => false,
        }
    }

    /// The pass that reveals internal content, for back-stage staff of `initiative` only.
    pub fn back_stage(self, initiative: i64) -> Option<BackStagePass> {
        match self {
            Seat::Back(i) if i == initiative => Some(BackStagePass { initiative }),
            _ => None,
        }
    }
}

/// Proof that the holder is back-stage staff of one initiative. Only [`Seat::back_stage`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackStagePass {
    initiative: i64,
}

impl BackStagePass {
    pub fn initiative(self) -> i64 {
        self.initiative
    }
}

/// Back-stage content. It cannot be serialised, displayed or debug-printed; read it with
/// [`Internal::reveal`] and a [`BackStagePass`] of its initiative.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Internal<T> {
    initiative: i64,
    value: T,
}

impl<T> Internal<T> {
    pub fn new(initiative: i64, value: T) -> Internal<T> {
        Internal { initiative, value }
    }

    /// The content, for back-stage staff of the initiative it belongs to; `None` for a pass of
    /// another initiative.
    pub fn reveal(&self, pass: BackStagePass) -> Option<&T> {
        (pass.initiative == self.initiative).then_some(&self.value)
    }
}

impl<T> fmt::Debug for Internal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Internal(<back stage>)")
    }
}

/// Serde functions for storing internal content in the event log, to be named explicitly with
/// `#[serde(with = "crate::visibility::stored")]` on event payload fields; views never use them.
pub mod stored {
    use super::Internal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Stored<T> {
        initiative: i64,
        internal: T,
    }

    pub fn serialize<T: Serialize, S: Serializer>(v: &Internal<T>, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            initiative: v.initiative,
            internal: &v.value,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Internal<T>, D::Error> {
        let s = Stored::<T>::deserialize(d)?;
        Ok(Internal::new(s.initiative, s.internal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn seats_see_their_stages_of_their_initiative_only() {
        use Stage::*;
        let table = [
            (Seat::Public, [false, false, false, true]),
            (Seat::Front(1), [true, false, true, true]),
            (Seat::Back(1), [true, true, true, true]),
        ];
        for (seat, expect) in table {
            for (stage, e) in [Front, Back, Joint, Public].into_iter().zip(expect) {
                assert_eq!(seat.sees(1, stage), e, "{seat:?} {stage}");
            }
        }
        assert!(
            !Seat::Front(2).sees(1, Front),
            "a front-stage member of one initiative sees nothing of another"
        );
        assert!(!Seat::Back(2).sees(1, Back));
        assert!(Seat::Back(2).sees(1, Public));
    }

    #[test]
    fn internal_content_is_revealed_to_its_own_back_stage_only() {
        let note = Internal::new(1, "CANARY-note".to_owned());
        assert_eq!(format!("{note:?}"), "Internal(<back stage>)");
        assert!(Seat::Front(1).back_stage(1).is_none());
        assert!(Seat::Public.back_stage(1).is_none());
        assert!(Seat::Back(2).back_stage(1).is_none());
        let pass = Seat::Back(1).back_stage(1).unwrap();
        assert_eq!(note.reveal(pass).map(String::as_str), Some("CANARY-note"));
        let other = Seat::Back(2).back_stage(2).unwrap();
        assert_eq!(note.reveal(other), None);
        #[derive(Serialize, Deserialize)]
        struct Payload {
            #[serde(with = "stored")]
            text: Internal<String>,
        }
        let json = serde_json::to_string(&Payload { text: note.clone() }).unwrap();
        let back: Payload = serde_json::from_str(&json).unwrap();
        assert!(back.text == note);
    }
}
