//! `PATCH /api/v1/households/{id}`: correct the address, the head's name, the phone or the
//! register code. Requires `If-Match`.

use actix_web::http::header;
use actix_web::{patch, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{find_household, household_search_text, HouseholdResponse, RecordScope};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::db::now;
use crate::etag;
use crate::patch::double_option;
use crate::problem::{ApiError, ApiJson, IfMatch, ProblemCode};
use crate::schema::households;
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHouseholdRequest {
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub head_name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 6, max = 20), custom(function = "super::validate_phone"))]
    #[schema(min_length = 6, max_length = 20)]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9][0-9 .\-]{4,18}[0-9]$")]
    pub phone: Option<Option<String>>,
}

/// Correct a household
#[utoipa::path(
    tag = "households",
    params(
        ("id" = uuid::Uuid, Path, description = "Household id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body = UpdateHouseholdRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = HouseholdResponse, headers(("ETag" = String))),
        (status = 403, description = "Officials do not work on households (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The register code is taken (`household-code-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read (`precondition-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing (`precondition-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/households/{id}")]
pub async fn update_household(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    if_match: IfMatch,
    body: Result<ApiJson<UpdateHouseholdRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let expected = if_match.version()?;
    let actor = caller.actor(&client);
    let household = state
        .db
        .write(move |conn| update(conn, &caller, &actor, &id, expected, &request))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(household.version)))
        .json(HouseholdResponse::try_from(household)?))
}

/// Corrects a household whose version is `expected_version` (the API's `If-Match`; a phone's
/// sync push passes the current version after settling field conflicts).
pub fn update(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    actor: &crate::audit::Actor,
    id: &str,
    expected_version: i32,
    request: &UpdateHouseholdRequest,
) -> Result<super::Household, ApiError> {
    let scope = RecordScope::of(conn, caller)?;
    let current = find_household(conn, &scope, id)?;
    if current.version != expected_version {
        return Err(ProblemCode::PreconditionFailed.into());
    }
    let code = request.code.clone().unwrap_or(current.code.clone());
    if let Some(code) = code.as_ref().filter(|c| Some(*c) != current.code.as_ref()) {
        let taken: i64 = households::table
            .filter(households::area_id.eq(&current.area_id))
            .filter(households::code.eq(code))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ProblemCode::HouseholdCodeTaken.into());
        }
    }
    let address = request
        .address
        .as_deref()
        .map(str::trim)
        .unwrap_or(&current.address)
        .to_owned();
    let head_name = request
        .head_name
        .as_deref()
        .map(str::trim)
        .unwrap_or(&current.head_name)
        .to_owned();
    let phone = request.phone.clone().unwrap_or(current.phone.clone());
    // Conditional on the version read: of two concurrent edits, one wins.
    let updated = diesel::update(
        households::table
            .filter(households::id.eq(&current.id))
            .filter(households::version.eq(current.version)),
    )
    .set((
        households::code.eq(&code),
        households::address.eq(&address),
        households::head_name.eq(&head_name),
        households::phone.eq(&phone),
        households::search_text.eq(household_search_text(&address, &head_name)),
        households::version.eq(current.version + 1),
        households::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(ProblemCode::PreconditionFailed.into());
    }
    let changes = audit::diff(&[
        ("code", json!(current.code), json!(code)),
        ("address", json!(current.address), json!(address)),
        ("head_name", json!(current.head_name), json!(head_name)),
        ("phone", json!(current.phone), json!(phone)),
    ]);
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::HouseholdUpdated,
            entity_id: Some(&current.id),
            area_id: Some(&current.area_id),
            changes,
        },
    )?;
    find_household(conn, &scope, &current.id)
}
