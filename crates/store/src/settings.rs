//! A city's settings (such as its hierarchy) and which cities this database holds.

use crate::{events, Store, StoreError};
use gongzhi_core::ids::PersonId;
use gongzhi_core::territory::CityCode;
use std::future::Future;

/// A city's settings and the cities (tenants) this database holds.
pub trait SettingStore {
    /// A deployment setting (per city), such as the hierarchy.
    fn setting(&self, city: CityCode, key: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    fn set_setting(
        &self,
        city: CityCode,
        key: &str,
        value: &str,
        actor: Option<PersonId>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The cities (tenants) that have divisions in this database.
    fn cities(&self) -> impl Future<Output = Result<Vec<CityCode>, StoreError>> + Send;
}

impl SettingStore for Store {
    async fn setting(&self, city: CityCode, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE city = $1 AND key = $2")
            .bind(city.as_str())
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.map(|v| v.0))
    }

    async fn set_setting(
        &self,
        city: CityCode,
        key: &str,
        value: &str,
        actor: Option<PersonId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO settings (city, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (city, key) DO UPDATE SET value = excluded.value",
        )
        .bind(city.as_str())
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        events::append(
            &mut tx,
            city,
            &format!("setting:{key}"),
            "setting_changed",
            actor,
            None,
            None,
            &serde_json::json!({ "value": value }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cities(&self) -> Result<Vec<CityCode>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM divisions WHERE level = 'city' ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| CityCode::parse(&r.0))
            .collect::<Result<_, _>>()?)
    }
}
