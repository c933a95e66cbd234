//! What differs between the SQLite and PostgreSQL backends.

use crate::StoreError;

/// Which database a [`crate::Store`] talks to, chosen from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Unavailable(format!(
                "unsupported database URL '{url}': use sqlite://PATH (e.g. sqlite://./gongzhi.db) or postgres://USER@HOST:PORT/DB"
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// SQLite files are created when missing.
    pub(crate) fn normalise_url(self, url: &str) -> String {
        match self {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_owned(),
        }
    }

    /// The database file of a `sqlite://PATH?…` URL.
    pub(crate) fn file(self, url: &str) -> Option<std::path::PathBuf> {
        match self {
            Backend::Sqlite => {
                let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
                let path = rest.split('?').next().unwrap_or(rest);
                (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
            }
            Backend::Postgres => None,
        }
    }

    pub(crate) fn max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        }
    }

    /// Connections kept apart for analytic reads ([`crate::Store::analytic`]).
    pub(crate) fn analytic_connections(self) -> u32 {
        match self {
            Backend::Sqlite => 3,
            Backend::Postgres => 4,
        }
    }

    /// Statements run on every new connection. On PostgreSQL an interactive statement is
    /// stopped after 30 s (a runaway query cannot hold a connection and its locks for long).
    pub(crate) fn session_setup(self) -> &'static [&'static str] {
        match self {
            Backend::Sqlite => &[
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA busy_timeout = 10000",
                "PRAGMA foreign_keys = ON",
            ],
            Backend::Postgres => &["SET statement_timeout = '30s'"],
        }
    }

    /// Statements run on every new analytic connection: read-only, and on PostgreSQL a longer
    /// timeout (a city-year's indicators) that still ends a runaway query.
    pub(crate) fn analytic_setup(self) -> &'static [&'static str] {
        match self {
            Backend::Sqlite => &["PRAGMA busy_timeout = 10000", "PRAGMA query_only = ON"],
            Backend::Postgres => &[
                "SET statement_timeout = '120s'",
                "SET default_transaction_read_only = on",
            ],
        }
    }

    /// The URL with any password hidden, for messages and logs.
    pub fn redacted(self, url: &str) -> String {
        match (url.find("://"), url.find('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &url[s + 3..at];
                match creds.split_once(':') {
                    Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Backend::from_url("sqlite://./g.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert!(Backend::from_url("mysql://x").is_err());
        assert_eq!(Backend::Sqlite.normalise_url("sqlite://g.db"), "sqlite://g.db?mode=rwc");
        assert_eq!(
            Backend::Sqlite.file("sqlite:///var/lib/g.db?mode=rwc"),
            Some("/var/lib/g.db".into())
        );
        assert_eq!(Backend::Postgres.file("postgres://u@h/db"), None);
        assert_eq!(
            Backend::Postgres.redacted("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
