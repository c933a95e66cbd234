//! A small builder for SQL with a variable number of `$N` parameters (filters built at run time).

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::Any;

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Start with `prefix`; the first [`Sql::arg`] is appended as `$1`.
    pub fn new(prefix: &str) -> Sql {
        Sql {
            text: prefix.to_owned(),
            args: Vec::new(),
        }
    }

    /// Append a parameter for `a` to the text.
    pub fn arg(&mut self, a: Arg) {
        let p = self.next(a);
        self.text.push_str(&p);
    }

    /// A `$N` parameter for `a`, to be put in the text by the caller.
    pub fn param(&mut self, a: Arg) -> String {
        self.next(a)
    }

    fn next(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn query<'q>(&self, sql: &'q str) -> Query<'q, Any, AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }

    pub fn query_as<'q, T>(&self, sql: &'q str) -> QueryAs<'q, Any, T, AnyArguments<'q>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_as(sql);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
