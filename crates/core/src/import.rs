//! Idempotent imports (issue 20): every imported row has a natural key (a unit's code, a party's
//! name and units, a need's source id, a case's external id …). A file that names one key twice is
//! refused with both lines; a re-import adds the rows whose key is new, updates those whose key is
//! stored with other values (one event each, describing the change) and leaves the others alone
//! (no write, no event). [`ImportReport`] says which was which.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

use crate::table::LineError;

/// What an import did, each row named by its natural key (or, for stored records, its id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows whose key was new: stored.
    pub added: Vec<String>,
    /// Rows whose key was stored with other values: changed, one event each.
    pub updated: Vec<String>,
    /// Rows already stored as they are in the file: nothing written.
    pub unchanged: Vec<String>,
}

impl ImportReport {
    /// Whether the import changed nothing.
    pub fn is_noop(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty()
    }

    /// "3 added, 1 updated, 5 unchanged".
    pub fn summary(&self) -> String {
        format!(
            "{} added, {} updated, {} unchanged",
            self.added.len(),
            self.updated.len(),
            self.unchanged.len()
        )
    }
}

/// The keys seen so far in one file, with the line each was first seen on.
#[derive(Debug)]
pub struct SeenKeys<K> {
    what: &'static str,
    column: &'static str,
    seen: HashMap<K, usize>,
}

impl<K: Hash + Eq> SeenKeys<K> {
    /// Keys described as `what` ("unit code"), errors reported on `column`.
    pub fn new(what: &'static str, column: &'static str) -> SeenKeys<K> {
        SeenKeys {
            what,
            column,
            seen: HashMap::new(),
        }
    }

    /// Note `key` on `line`; an error naming both lines when the file had it before
    /// ("line 7, column unit: same unit code as line 3").
    pub fn check(&mut self, key: K, line: usize) -> Result<(), LineError> {
        let column = self.column;
        self.check_on(key, line, column)
    }

    /// As [`SeenKeys::check`], the error reported on `column`.
    pub fn check_on(&mut self, key: K, line: usize, column: &str) -> Result<(), LineError> {
        match self.seen.get(&key) {
            Some(&first) => Err(LineError {
                line,
                column: Some(column.to_owned()),
                message: format!("same {} as line {first}; a file names each once", self.what),
            }),
            None => {
                self.seen.insert(key, line);
                Ok(())
            }
        }
    }
}

/// Text as a key compares it: trimmed, inner white space collapsed to one space, lower case
/// (so "Zhang  San " and "zhang san" are one key).
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A coordinate as a key compares it: to 5 decimals (about a metre).
pub fn place(lng: f64, lat: f64) -> String {
    format!("{lng:.5},{lat:.5}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_seen_twice_names_both_lines() {
        let mut k = SeenKeys::new("unit code", "unit");
        assert!(k.check("A-1".to_owned(), 3).is_ok());
        assert!(k.check("A-2".to_owned(), 4).is_ok());
        let e = k.check("A-1".to_owned(), 7).unwrap_err();
        assert_eq!(e.line, 7);
        assert!(
            e.to_string()
                .starts_with("line 7, column unit: same unit code as line 3"),
            "{e}"
        );
    }

    #[test]
    fn keys_ignore_spacing_and_case() {
        assert_eq!(normalise("  Zhang   San "), normalise("zhang san"));
        assert_eq!(place(104.000001, 30.5), place(104.000004, 30.500001));
    }
}
