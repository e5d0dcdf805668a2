//! `GET /api/v1/residents/{id}`.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use super::{find_resident, ResidentResponse};
use crate::auth::Caller;
use crate::etag;
use crate::households::RecordScope;
use crate::problem::ApiError;
use crate::state::AppState;

/// Get a resident
#[utoipa::path(
    tag = "residents",
    params(("id" = uuid::Uuid, Path, description = "Resident id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resident", body = ResidentResponse, headers(("ETag" = String))),
        (status = 403, description = "Officials do not see residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in the caller's scope (`resident-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}")]
pub async fn get_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let (resident, _) = state
        .db
        .read(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            find_resident(conn, &scope, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(resident.version)))
        .json(ResidentResponse::try_from(resident)?))
}
