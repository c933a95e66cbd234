//! Old JSON API paths, answered for one release with 308 Permanent Redirect to their place in the
//! one path scheme (ARCHITECTURE.md, "JSON API paths"). 308 keeps the method and the body, so a
//! client that follows redirects keeps working; the query string is kept.

use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::any;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/grid/{*rest}", any(moved))
        .route("/api/renewal/{community}/needs", any(moved))
        .route("/api/renewal/{community}/clusters", any(moved))
        .route("/api/renewal/{community}/clusters/refresh", any(moved))
}

/// Where an old path lives now, if it is one of the old paths.
pub fn new_path(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("/api/grid/") {
        // Records addressed by their own id: the generalist grid's collections.
        for (old, new) in [
            ("needs/", "/api/grid-needs/"),
            ("projects", "/api/grid-projects"),
            ("visits/", "/api/grid-visits/"),
            ("activities/", "/api/grid-activities/"),
        ] {
            if let Some(tail) = rest.strip_prefix(old) {
                return Some(format!("{new}{tail}"));
            }
        }
        // Everything of one grid: under the grid.
        return Some(format!("/api/grids/{rest}"));
    }
    let rest = path.strip_prefix("/api/renewal/")?;
    let (community, tail) = rest.split_once('/')?;
    Some(format!("/api/renewal/communities/{community}/{tail}"))
}

async fn moved(OriginalUri(uri): OriginalUri) -> Response {
    match new_path(uri.path()) {
        Some(p) => {
            let to = match uri.query() {
                Some(q) => format!("{p}?{q}"),
                None => p,
            };
            Redirect::permanent(&to).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::new_path;

    #[test]
    fn old_paths_map_to_the_one_scheme() {
        let cases = [
            (
                "/api/grid/510104017001001-01/needs",
                "/api/grids/510104017001001-01/needs",
            ),
            (
                "/api/grid/510104017001001-01/lists/needs",
                "/api/grids/510104017001001-01/lists/needs",
            ),
            ("/api/grid/needs/7/proposals", "/api/grid-needs/7/proposals"),
            ("/api/grid/projects", "/api/grid-projects"),
            ("/api/grid/projects/3/finish", "/api/grid-projects/3/finish"),
            ("/api/grid/visits/4/follow-ups", "/api/grid-visits/4/follow-ups"),
            ("/api/grid/activities/5/attendance", "/api/grid-activities/5/attendance"),
            (
                "/api/renewal/510104017001/needs",
                "/api/renewal/communities/510104017001/needs",
            ),
            (
                "/api/renewal/510104017001/clusters/refresh",
                "/api/renewal/communities/510104017001/clusters/refresh",
            ),
        ];
        for (old, new) in cases {
            assert_eq!(new_path(old).as_deref(), Some(new), "{old}");
        }
        assert_eq!(new_path("/api/cases"), None);
    }
}
