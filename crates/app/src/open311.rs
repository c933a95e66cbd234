//! Open311 GeoReport v2 clients: each client is a person (role resident in the whole city) as
//! whom its requests are reported, with a key shown once.

use crate::auth::random_hex;
use crate::{AppResult, AppState};
use gongzhi_store::prelude::*;

/// Make an Open311 client with its key (shown once) for `city`: a person with role resident in
/// the whole city, as whom the client's requests are reported.
pub async fn create_key(s: &AppState, city: &str, label: &str) -> AppResult<String> {
    let key = format!("o311_{}", random_hex(24));
    s.store.create_open311_client(city, label, &key, None).await?;
    Ok(key)
}
