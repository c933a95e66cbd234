//! Micro-renewal indicators (微更新指标) of an area and period: the needs funnel, participation
//! shares, co-produced shares, interventions before and after merging, days from need to
//! delivery (definitions in `gongzhi_core::renewal::indicators`). The dashboard and the map show
//! the same figures.

use axum::extract::{Query, State};
use axum::Json;
use gongzhi_core::renewal::indicators::RenewalIndicators;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;
use gongzhi_app::gridteam::AreaQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(area_indicators))
}

pub use gongzhi_app::renewal_indicators::{may_see, of_area, require};

#[derive(Serialize, ToSchema)]
pub struct AreaRenewal {
    pub within: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// needs {raised, clustered, in_proposals, delivered}; residents; participation {raised,
    /// deliberated, voted, co_produced: {count, share}}; co_production {budget_cents,
    /// money_cents, hours_tenths, hour_value_cents, money_share, hours_share, share};
    /// interventions {before, after, diggings_before, diggings_after}; days_to_delivery {count,
    /// mean, median}.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub indicators: RenewalIndicators,
}

/// The micro-renewal indicators of an area and period, for staff whose jurisdiction covers it.
#[utoipa::path(get, path = "/api/renewal/indicators", tag = "renewal", params(AreaQuery),
    security(("bearer" = [])), responses((status = 200, body = AreaRenewal), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn area_indicators(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Json<AreaRenewal>> {
    let (from, to) = q.days()?;
    let (division, indicators) = gongzhi_app::renewal_indicators::of_division(&s, &p, &q.within, from, to).await?;
    Ok(Json(AreaRenewal {
        indicators,
        within: q.within,
        name: division.name,
        from: from.to_string(),
        to: to.to_string(),
    }))
}
