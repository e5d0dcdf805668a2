//! `POST /api/v1/reorganisations[?dry_run=true]`, `GET /api/v1/reorganisations`,
//! `GET /api/v1/reorganisations/{id}`, `POST /api/v1/reorganisations/{id}/cancel`:
//! administrators only, within their scope.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::plan::ReorganisationPlan;
use super::{
    cancel, find, submit, ReorganisationResponse, ReorganisationRow, StepReport, Submitted,
};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::i18n::Lang;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiJson, ApiQuery, ProblemCode};
use crate::schema::reorganisations;
use crate::state::AppState;
use crate::status::today;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    /// Check the plan and report what would move, writing nothing.
    pub dry_run: Option<bool>,
}

/// What a plan would do if applied now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReorganisationPreview {
    pub effective_on: NaiveDate,
    /// Whether submitting it would apply it at once (effective on or before today) rather
    /// than schedule it.
    pub takes_effect_at_once: bool,
    pub steps: Vec<StepReport>,
}

/// Check, apply or schedule a reorganisation of the map
#[utoipa::path(
    tag = "reorganisations",
    params(SubmitQuery),
    request_body = ReorganisationPlan,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dry run: what it would do; nothing was written", body = ReorganisationPreview),
        (status = 201, description = "Applied (effective on or before today) or scheduled", body = ReorganisationResponse,
            headers(("Location" = String))),
        (status = 403, description = "Only administrators reorganise areas (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The plan is invalid (`validation-failed`, one error per problem, pointing into the plan: `area-unknown`, `area-ended`, `area-code-taken`, `kind-differs`, `kind-does-not-fit-parent`, `split-incomplete`, `given-twice`, `area-not-empty`, `area-has-heads`, `before-last-reorganisation`, …)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reorganisations")]
pub async fn submit_reorganisation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<SubmitQuery>,
    body: Result<ApiJson<ReorganisationPlan>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let plan = body?.0;
    let check_only = query.0.dry_run.unwrap_or(false);
    let actor = caller.actor(&client);
    let lang = Lang::from_headers(req.headers());
    let day = today();
    let effective_on = plan.effective_on;
    let submitted = state
        .db
        .write(move |conn| submit(conn, &plan, &caller.scope, &actor, day, check_only))
        .await?;
    Ok(match submitted {
        Submitted::Preview(outcomes) => HttpResponse::Ok().json(ReorganisationPreview {
            effective_on,
            takes_effect_at_once: effective_on <= day,
            steps: outcomes
                .into_iter()
                .map(|o| StepReport::of(o, lang))
                .collect(),
        }),
        Submitted::Stored(row) => HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/api/v1/reorganisations/{}", row.id),
            ))
            .json(ReorganisationResponse::of(*row, lang)?),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReorganisationList {
    /// Newest first.
    pub items: Vec<ReorganisationResponse>,
    pub next_cursor: Option<String>,
}

/// Reorganisations within the caller's scope, newest first
#[utoipa::path(
    tag = "reorganisations",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = ReorganisationList),
        (status = 403, description = "Only administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reorganisations")]
pub async fn list_reorganisations(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let after = query.0.after_id()?;
    let limit = query.0.limit();
    let lang = Lang::from_headers(req.headers());
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let mut select = reorganisations::table
                .filter(reorganisations::area_path.like(caller.scope.path_pattern()))
                .order(reorganisations::id.desc())
                .limit(limit + 1)
                .select(ReorganisationRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(reorganisations::id.lt(after));
            }
            let rows: Vec<ReorganisationRow> = select.load(conn)?;
            Ok(pagination::finish(rows, limit, |r| &r.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReorganisationList {
        items: rows
            .into_iter()
            .map(|row| ReorganisationResponse::of(row, lang))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// One reorganisation
#[utoipa::path(
    tag = "reorganisations",
    params(("id" = uuid::Uuid, Path, description = "Reorganisation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reorganisation", body = ReorganisationResponse),
        (status = 403, description = "Only administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`reorganisation-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reorganisations/{id}")]
pub async fn get_reorganisation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner().to_string();
    let lang = Lang::from_headers(req.headers());
    let row = state
        .db
        .read(move |conn| in_scope(find(conn, &id)?, &caller))
        .await?;
    Ok(HttpResponse::Ok().json(ReorganisationResponse::of(row, lang)?))
}

fn in_scope(row: ReorganisationRow, caller: &Caller) -> Result<ReorganisationRow, ApiError> {
    if caller.scope.contains(&row.area_path) {
        Ok(row)
    } else {
        Err(ProblemCode::ReorganisationNotFound.into())
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why it is cancelled (kept with it).
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Cancel a scheduled reorganisation before it takes effect
#[utoipa::path(
    tag = "reorganisations",
    params(("id" = uuid::Uuid, Path, description = "Reorganisation id")),
    request_body = CancelRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled; nothing of it was applied", body = ReorganisationResponse),
        (status = 403, description = "Only administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`reorganisation-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already in effect or cancelled (`reorganisation-not-scheduled`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reorganisations/{id}/cancel")]
pub async fn cancel_reorganisation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<CancelRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let request = body?.0;
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let lang = Lang::from_headers(req.headers());
    let row = state
        .db
        .write(move |conn| {
            in_scope(find(conn, &id)?, &caller)?;
            cancel(conn, &id, &request.reason, &actor)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReorganisationResponse::of(row, lang)?))
}
