//! Organisations, people, role grants, accounts and login tokens.

use crate::sha256_hex;
use crate::write::Write;
use gongzhi_core::access::{Grant, Principal, Scope};
use gongzhi_core::ids::PersonId;
use gongzhi_core::org::{NewOrganisation, OrgKind, Organisation, Person, Role};
use gongzhi_core::territory::CityCode;
use gongzhi_core::territory::DivisionCode;
use serde::Serialize;
use std::future::Future;

use crate::{events, now_ms, Store, StoreError};

/// A new person, with an optional login.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub phone: Option<String>,
    pub org: Option<i64>,
    pub grants: Vec<Grant>,
    /// (username, argon2 PHC hash) when the person may log in.
    pub account: Option<(String, String)>,
}

/// A login account as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub city: CityCode,
    pub username: String,
    pub person_id: PersonId,
    #[serde(skip)]
    pub password_hash: String,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A web login session (cookie).
    Session,
    /// A bearer token for the API.
    Api,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }
}

type OrgRow = (i64, String, String, Option<i64>, String);

fn org_from_row((id, name, kind, parent, jurisdiction): OrgRow) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id,
        name,
        kind: kind.parse()?,
        parent,
        jurisdiction: jurisdiction
            .split(';')
            .filter(|s| !s.is_empty())
            .map(DivisionCode::parse)
            .collect::<Result<_, _>>()?,
    })
}

/// People, their grants, accounts and sessions.
pub trait PeopleStore {
    fn create_organisation(
        &self,
        city: CityCode,
        org: &NewOrganisation,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn organisation(
        &self,
        city: CityCode,
        id: i64,
    ) -> impl Future<Output = Result<Option<Organisation>, StoreError>> + Send;
    /// Organisations of a city, optionally of one kind.
    fn organisations(
        &self,
        city: CityCode,
        kind: Option<OrgKind>,
    ) -> impl Future<Output = Result<Vec<Organisation>, StoreError>> + Send;
    /// Create a person with their grants and (optionally) a login, in one transaction.
    fn create_person(
        &self,
        city: CityCode,
        p: &NewPerson,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<PersonId, StoreError>> + Send;
    /// Create many people in one transaction (bulk loads such as the demo city).
    fn create_people(
        &self,
        city: CityCode,
        people: &[NewPerson],
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<Vec<PersonId>, StoreError>> + Send;
    fn person(&self, city: CityCode, id: PersonId) -> impl Future<Output = Result<Option<Person>, StoreError>> + Send;
    /// People of a city with their grants, paged by id.
    fn people(
        &self,
        city: CityCode,
        after_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(Person, Vec<Grant>)>, StoreError>> + Send;
    fn grants(&self, city: CityCode, person: PersonId) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send;
    /// Find an account by user name (user names are unique across cities).
    fn account(&self, username: &str) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;
    /// Store a new token (only its hash) and return the token text `CITY.SECRET`.
    fn issue_token(
        &self,
        account: &Account,
        kind: TokenKind,
        secret: &str,
        ttl_ms: i64,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// The principal behind a token, if the token is known and not expired.
    fn principal_for_token(&self, token: &str) -> impl Future<Output = Result<Option<Principal>, StoreError>> + Send;
    /// The principal for a person: name, login and grants.
    fn principal(
        &self,
        city: CityCode,
        person_id: PersonId,
    ) -> impl Future<Output = Result<Option<Principal>, StoreError>> + Send;
    fn revoke_token(&self, token: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl PeopleStore for Store {
    async fn create_organisation(
        &self,
        city: CityCode,
        org: &NewOrganisation,
        actor: Option<PersonId>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        if let Some(parent) = org.parent {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE city = $1 AND id = $2")
                .bind(city.as_str())
                .bind(parent)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!("parent organisation {parent}")));
            }
        }
        let jurisdiction: Vec<&str> = org.jurisdiction.iter().map(|d| d.as_str()).collect();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO organisations (city, name, kind, parent_id, jurisdiction) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(city.as_str())
        .bind(&org.name)
        .bind(org.kind.as_str())
        .bind(org.parent)
        .bind(jurisdiction.join(";"))
        .fetch_one(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &format!("organisation:{id}"),
            "organisation_created",
            actor,
            None,
            None,
            &serde_json::to_value(org).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn organisation(&self, city: CityCode, id: i64) -> Result<Option<Organisation>, StoreError> {
        let row: Option<OrgRow> = sqlx::query_as(
            "SELECT id, name, kind, parent_id, jurisdiction FROM organisations WHERE city = $1 AND id = $2",
        )
        .bind(city.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(org_from_row).transpose()
    }

    async fn organisations(&self, city: CityCode, kind: Option<OrgKind>) -> Result<Vec<Organisation>, StoreError> {
        let rows: Vec<OrgRow> = sqlx::query_as(
            "SELECT id, name, kind, parent_id, jurisdiction FROM organisations
             WHERE city = $1 AND ($2 = '' OR kind = $2) ORDER BY id",
        )
        .bind(city.as_str())
        .bind(kind.map(|k| k.as_str()).unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(org_from_row).collect()
    }

    async fn create_person(
        &self,
        city: CityCode,
        p: &NewPerson,
        actor: Option<PersonId>,
    ) -> Result<PersonId, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_person(&mut tx, city, p, actor).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn create_people(
        &self,
        city: CityCode,
        people: &[NewPerson],
        actor: Option<PersonId>,
    ) -> Result<Vec<PersonId>, StoreError> {
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(people.len());
        for p in people {
            ids.push(insert_person(&mut tx, city, p, actor).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn person(&self, city: CityCode, id: PersonId) -> Result<Option<Person>, StoreError> {
        let row: Option<(i64, String, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT id, name, phone, org_id FROM people WHERE city = $1 AND id = $2")
                .bind(city.as_str())
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, name, phone, org)| Person {
            id: PersonId(id),
            name,
            phone,
            org,
        }))
    }

    async fn people(&self, city: CityCode, after_id: i64, limit: u32) -> Result<Vec<(Person, Vec<Grant>)>, StoreError> {
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, phone, org_id FROM people WHERE city = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(city.as_str())
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, name, phone, org) in rows {
            let grants = self.grants(city, PersonId(id)).await?;
            out.push((
                Person {
                    id: PersonId(id),
                    name,
                    phone,
                    org,
                },
                grants,
            ));
        }
        Ok(out)
    }

    async fn grants(&self, city: CityCode, person: PersonId) -> Result<Vec<Grant>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT role, scope FROM grants WHERE city = $1 AND person_id = $2 ORDER BY role, scope")
                .bind(city.as_str())
                .bind(person.0)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(role, scope)| {
                Ok(Grant {
                    role: role.parse::<Role>()?,
                    scope: Scope::decode(&scope)?,
                })
            })
            .collect()
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let row: Option<(String, String, i64, String)> =
            sqlx::query_as("SELECT city, username, person_id, password_hash FROM accounts WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((city, username, person_id, password_hash)) => Some(Account {
                city: CityCode::parse(&city)?,
                username,
                person_id: PersonId(person_id),
                password_hash,
            }),
            None => None,
        })
    }

    async fn issue_token(
        &self,
        account: &Account,
        kind: TokenKind,
        secret: &str,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let token = format!("{}.{}", account.city, secret);
        let now = now_ms();
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO tokens (city, token_hash, person_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(account.city.as_str())
            .bind(sha256_hex(&token))
            .bind(account.person_id.0)
            .bind(kind.as_str())
            .bind(now)
            .bind(now + ttl_ms)
            .execute(&mut *tx)
            .await?;
        events::append(
            &mut tx,
            account.city,
            &format!("person:{}", account.person_id),
            "logged_in",
            Some(account.person_id),
            None,
            None,
            &serde_json::json!({ "kind": kind.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn principal_for_token(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let Some(city) = token.split_once('.').and_then(|(c, _)| CityCode::parse(c).ok()) else {
            return Ok(None);
        };
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT person_id, expires_at FROM tokens WHERE city = $1 AND token_hash = $2")
                .bind(city.as_str())
                .bind(sha256_hex(token))
                .fetch_optional(&self.pool)
                .await?;
        let Some((person_id, expires_at)) = row else {
            return Ok(None);
        };
        if expires_at < now_ms() {
            return Ok(None);
        }
        self.principal(city, PersonId(person_id)).await
    }

    async fn principal(&self, city: CityCode, person_id: PersonId) -> Result<Option<Principal>, StoreError> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT p.name, a.username FROM people p LEFT JOIN accounts a ON a.city = p.city AND a.person_id = p.id
             WHERE p.city = $1 AND p.id = $2",
        )
        .bind(city.as_str())
        .bind(person_id.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, username)) = row else { return Ok(None) };
        Ok(Some(Principal {
            person_id,
            name,
            username: username.unwrap_or_default(),
            city,
            grants: self.grants(city, person_id).await?,
        }))
    }

    async fn revoke_token(&self, token: &str) -> Result<(), StoreError> {
        let Some(city) = token.split_once('.').and_then(|(c, _)| CityCode::parse(c).ok()) else {
            return Ok(());
        };
        sqlx::query("DELETE FROM tokens WHERE city = $1 AND token_hash = $2")
            .bind(city.as_str())
            .bind(sha256_hex(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn insert_person(
    tx: &mut Write<'_>,
    city: CityCode,
    p: &NewPerson,
    actor: Option<PersonId>,
) -> Result<PersonId, StoreError> {
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO people (city, name, phone, org_id) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(city.as_str())
            .bind(&p.name)
            .bind(p.phone.as_deref())
            .bind(p.org)
            .fetch_one(&mut **tx)
            .await?;
    for g in &p.grants {
        sqlx::query("INSERT INTO grants (city, person_id, role, scope) VALUES ($1, $2, $3, $4)")
            .bind(city.as_str())
            .bind(id)
            .bind(g.role.as_str())
            .bind(g.scope.encode())
            .execute(&mut **tx)
            .await?;
    }

    if let Some((username, hash)) = &p.account {
        let taken: Option<(String,)> = sqlx::query_as("SELECT city FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "the user name '{username}' is taken; choose another"
            )));
        }
        sqlx::query(
            "INSERT INTO accounts (city, username, person_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(city.as_str())
        .bind(username)
        .bind(id)
        .bind(hash)
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::from_insert(e, || format!("the user name '{username}' is taken")))?;
    }

    let roles: Vec<String> = p
        .grants
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope.encode()))
        .collect();
    events::append(
            tx,
            city,
            &format!("person:{id}"),
            "person_created",
            actor,
            None,
            None,
            &serde_json::json!({ "name": p.name, "org": p.org, "grants": roles, "login": p.account.as_ref().map(|a| &a.0) }),
        )
        .await?;
    Ok(PersonId(id))
}
