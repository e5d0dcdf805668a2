//! `GET /api/v1/areas/{id}`: one area in the caller's scope, with its `ETag`.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use super::{find_in_scope, AreaResponse};
use crate::auth::Caller;
use crate::etag;
use crate::problem::ApiError;
use crate::state::AppState;

/// Get an area
#[utoipa::path(
    tag = "areas",
    params(("id" = uuid::Uuid, Path, description = "Area id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The area", body = AreaResponse,
            headers(("ETag" = String, description = "The area's version, for If-Match"))),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}")]
pub async fn get_area(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let area = state
        .db
        .read(move |conn| find_in_scope(conn, &caller.scope, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(area.version)))
        .json(AreaResponse::try_from(area)?))
}
