//! `PATCH /api/v1/areas/{id}`: an administrator renames an area in their scope or sets its
//! official figures. Requires `If-Match` with the version last read.

use actix_web::http::header;
use actix_web::{patch, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::{find_by_code, find_in_scope, validate_area_code, AreaResponse};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::now;
use crate::etag;
use crate::patch::double_option;
use crate::problem::{ApiError, ApiJson, IfMatch, ProblemCode};
use crate::schema::areas;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAreaRequest {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32)]
    #[schema(pattern = r"^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `null` clears the figure.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate_official_count"))]
    #[schema(value_type = Option<i64>)]
    pub official_adult_population: Option<Option<i64>>,
    /// `null` clears the figure.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate_official_count"))]
    #[schema(value_type = Option<i64>)]
    pub official_household_count: Option<Option<i64>>,
}

fn validate_official_count(value: i64) -> Result<(), ValidationError> {
    match value {
        n if !(0..=1_000_000_000).contains(&n) => {
            let mut error = ValidationError::new("range");
            error.add_param("min".into(), &0);
            error.add_param("max".into(), &1_000_000_000);
            Err(error)
        }
        _ => Ok(()),
    }
}

/// Update an area
#[utoipa::path(
    tag = "areas",
    params(
        ("id" = uuid::Uuid, Path, description = "Area id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body = UpdateAreaRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = AreaResponse, headers(("ETag" = String))),
        (status = 403, description = "Only administrators edit areas (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken (`area-code-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The area changed since it was read (`precondition-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing (`precondition-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/areas/{id}")]
pub async fn update_area(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    if_match: IfMatch,
    client: ClientInfo,
    body: Result<ApiJson<UpdateAreaRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor(&client);
    let id = id.into_inner().to_string();
    let request = body?.0;
    let expected = if_match.version()?;
    let area = state
        .db
        .write(move |conn| {
            let current = find_in_scope(conn, &caller.scope, &id)?;
            if current.version != expected {
                return Err(ProblemCode::PreconditionFailed.into());
            }
            if let Some(code) = &request.code {
                if find_by_code(conn, code)?.is_some_and(|other| other.id != current.id) {
                    return Err(ProblemCode::AreaCodeTaken.into());
                }
            }
            let updated = diesel::update(
                areas::table
                    .filter(areas::id.eq(&current.id))
                    .filter(areas::version.eq(current.version)),
            )
            .set((
                areas::code.eq(request.code.clone().unwrap_or(current.code.clone())),
                areas::name.eq(request
                    .name
                    .as_deref()
                    .map(|n| n.trim().to_owned())
                    .unwrap_or(current.name.clone())),
                areas::official_adult_population.eq(request
                    .official_adult_population
                    .unwrap_or(current.official_adult_population)),
                areas::official_household_count.eq(request
                    .official_household_count
                    .unwrap_or(current.official_household_count)),
                areas::version.eq(current.version + 1),
                areas::updated_at.eq(now()),
            ))
            .execute(conn)?;
            if updated != 1 {
                return Err(ProblemCode::PreconditionFailed.into());
            }
            let area = find_in_scope(conn, &caller.scope, &current.id)?;
            let changes = audit::diff(&[
                ("code", json!(current.code), json!(area.code)),
                ("name", json!(current.name), json!(area.name)),
                (
                    "official_adult_population",
                    json!(current.official_adult_population),
                    json!(area.official_adult_population),
                ),
                (
                    "official_household_count",
                    json!(current.official_household_count),
                    json!(area.official_household_count),
                ),
            ]);
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::AreaUpdated,
                    entity_id: Some(&area.id),
                    area_id: Some(&area.id),
                    changes,
                },
            )?;
            Ok(area)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(area.version)))
        .json(AreaResponse::try_from(area)?))
}
