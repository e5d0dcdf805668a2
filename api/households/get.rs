//! `GET /api/v1/households/{id}`.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use super::{find_household, HouseholdResponse, RecordScope};
use crate::auth::Caller;
use crate::etag;
use crate::problem::ApiError;
use crate::state::AppState;

/// Get a household
#[utoipa::path(
    tag = "households",
    params(("id" = uuid::Uuid, Path, description = "Household id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The household", body = HouseholdResponse, headers(("ETag" = String))),
        (status = 403, description = "Officials do not work on households (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households/{id}")]
pub async fn get_household(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let household = state
        .db
        .read(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            find_household(conn, &scope, &id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(household.version)))
        .json(HouseholdResponse::try_from(household)?))
}
