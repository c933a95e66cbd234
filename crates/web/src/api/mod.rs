//! The JSON API. Each module owns its routes; [`router`] joins them and collects the OpenAPI
//! document from the same handler annotations, so the document matches the real routes.

pub mod cases;
pub mod flat;
pub mod gridteam;
pub mod initiatives;
pub mod legacy;
pub mod people;
pub mod premises;
pub mod privacy;
pub mod regen;
pub mod renewal_indicators;
pub mod renewal_needs;
pub mod renewal_votes;
pub mod renewal_works;
pub mod system;
pub mod territory;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gongzhi (共治) API", description = "Grassroots co-governance: territory, grids, organisations, people, cases."),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health and sign-in"),
        (name = "territory", description = "Divisions (GB/T 2260), hierarchy, grids"),
        (name = "people", description = "Organisations, people and roles"),
        (name = "initiatives", description = "Wicked problems: front-stage committee and back-stage government, hand-offs, milestones, progress"),
        (name = "cases", description = "The case closed loop: intake, steps, photos, catalogue, calendar, indicators"),
        (name = "flat", description = "Flat governance: responsibility lists, workload and push-downs, what-if replay"),
        (name = "regeneration", description = "Urban regeneration (柔性协调): holders, scenarios, resources, contacts, decisions, consent thresholds"),
        (name = "renewal", description = "Co-produced micro-renewal (社区微更新): needs, clusters, proposals and amendments, the council, participatory-budget votes, works and delivery"),
        (name = "grid", description = "The generalist grid: teams, alliances, households, needs/resources/projects with matching, patrols, visits, activities, points, indicators"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// All API routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(privacy::router())
        .merge(territory::router())
        .merge(premises::router())
        .merge(people::router())
        .merge(cases::router())
        .merge(initiatives::router())
        .merge(flat::router())
        .merge(regen::router())
        .merge(gridteam::router())
        .merge(renewal_needs::router())
        .merge(renewal_indicators::router())
        .merge(renewal_votes::router())
        .merge(renewal_works::router())
}

pub use gongzhi_app::people::is_resident_of;

/// Paging parameters shared by list endpoints.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page (default 100, at most 1000).
    pub page_size: Option<u32>,
}

impl Paging {
    pub fn resolve(self) -> Result<(u32, u32), crate::ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(100);
        if page == 0 {
            return Err(crate::ApiError::invalid("page: pages count from 1"));
        }
        if size == 0 || size > 1000 {
            return Err(crate::ApiError::invalid("page_size: use 1 to 1000"));
        }
        Ok((page, size))
    }
}
