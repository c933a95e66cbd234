//! Typed record ids: a case id cannot be passed where a person's is expected.
//!
//! Each is a `Copy` newtype over the database's `i64` key, serialised as the plain number (so JSON
//! and stored events keep their shape) and shown as the number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl PartialEq<i64> for $name {
            fn eq(&self, other: &i64) -> bool {
                self.0 == *other
            }
        }
    };
}

typed_id!(
    /// A case of the closed loop (案件编号).
    CaseId
);

typed_id!(
    /// A person of the city's register (resident, worker, official or client): the actor of events.
    PersonId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_the_number() {
        assert_eq!(serde_json::to_string(&CaseId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<CaseId>("42").unwrap(), CaseId(42));
        assert_eq!(" 7".parse::<CaseId>().unwrap().to_string(), "7");
        assert!("x".parse::<CaseId>().is_err());
    }
}
