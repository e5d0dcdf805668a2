//! `POST /api/v1/duplicates/{id}/merge` and `POST /api/v1/duplicates/{id}/dismiss`.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::list::{duplicate_response, DuplicatePair, DuplicateResponse};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::{now, DbConnection};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::{duplicate_pairs, households, residents, status_events};
use crate::state::AppState;
use crate::status::refresh_for_events;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record to keep: one of the pair.
    pub survivor_id: uuid::Uuid,
}

fn open_pair(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<DuplicatePair, ApiError> {
    caller.require(&[Role::Head, Role::Admin])?;
    let pair: DuplicatePair = duplicate_pairs::table
        .find(id)
        .select(DuplicatePair::as_select())
        .first(conn)
        .optional()?
        .filter(|p| caller.scope.contains(&p.area_path))
        .ok_or(ProblemCode::DuplicateNotFound)?;
    if super::residents_in_scope(conn, &caller.scope, &[&pair.resident_a, &pair.resident_b])? != 2 {
        return Err(ProblemCode::DuplicateNotFound.into());
    }
    if pair.status != "open" {
        return Err(ProblemCode::DuplicateResolved.into());
    }
    Ok(pair)
}

/// Merge a suspected duplicate into the chosen survivor (heads and administrators)
#[utoipa::path(
    tag = "duplicates",
    params(("id" = uuid::Uuid, Path, description = "Pair id")),
    request_body = MergeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Merged: the other record's events now belong to the survivor", body = DuplicateResponse),
        (status = 403, description = "Only heads and administrators merge (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pair in the caller's scope (`duplicate-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already merged or dismissed (`duplicate-resolved`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/duplicates/{id}/merge")]
pub async fn merge_duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<MergeRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    caller.require(&[Role::Head, Role::Admin])?;
    let survivor = body?.0.survivor_id.to_string();
    let response = state
        .db
        .write(move |conn| {
            let pair = open_pair(conn, &caller, &id)?;
            let merged = if survivor == pair.resident_a {
                pair.resident_b.clone()
            } else if survivor == pair.resident_b {
                pair.resident_a.clone()
            } else {
                return Err(ApiError::invalid_field(
                    "/survivor_id",
                    "not-in-pair",
                    Text::new(
                        "Phải là một trong hai người của cặp",
                        "Must be one of the pair",
                    ),
                ));
            };
            let (survivor_household, survivor_hash): (String, Option<String>) = residents::table
                .find(&survivor)
                .select((residents::household_id, residents::citizen_id_hash))
                .first(conn)?;
            let merged_hash: Option<String> = residents::table
                .find(&merged)
                .select(residents::citizen_id_hash)
                .first(conn)?;
            let at = now();
            diesel::update(status_events::table.filter(status_events::resident_id.eq(&merged)))
                .set((
                    status_events::resident_id.eq(&survivor),
                    status_events::household_id.eq(&survivor_household),
                ))
                .execute(conn)?;
            diesel::update(residents::table.find(&merged))
                .set((
                    residents::deleted_at.eq(at),
                    residents::deleted_by.eq(&caller.user_id),
                    residents::citizen_id_hash.eq(None::<String>),
                    residents::version.eq(residents::version + 1),
                    residents::updated_at.eq(at),
                ))
                .execute(conn)?;
            if survivor_hash.is_none() && merged_hash.is_some() {
                diesel::update(residents::table.find(&survivor))
                    .set(residents::citizen_id_hash.eq(&merged_hash))
                    .execute(conn)?;
            }
            refresh_for_events(conn, &survivor_household, std::iter::once(survivor.clone()))?;
            crate::adoption::counters::sync_resident(conn, &merged)?;
            diesel::update(duplicate_pairs::table.find(&pair.id))
                .set((
                    duplicate_pairs::status.eq("merged"),
                    duplicate_pairs::survivor_id.eq(&survivor),
                    duplicate_pairs::resolved_at.eq(at),
                    duplicate_pairs::resolved_by.eq(&caller.user_id),
                ))
                .execute(conn)?;
            let area_id: String = households::table
                .find(&survivor_household)
                .select(households::area_id)
                .first(conn)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::DuplicateMerged,
                    entity_id: Some(&pair.id),
                    area_id: Some(&area_id),
                    changes: json!({"survivor_id": survivor, "merged_id": merged}),
                },
            )?;
            let pair: DuplicatePair = duplicate_pairs::table
                .find(&pair.id)
                .select(DuplicatePair::as_select())
                .first(conn)?;
            duplicate_response(conn, pair)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Dismiss a suspected duplicate: they are two people (heads and administrators)
#[utoipa::path(
    tag = "duplicates",
    params(("id" = uuid::Uuid, Path, description = "Pair id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dismissed", body = DuplicateResponse),
        (status = 403, description = "Only heads and administrators dismiss (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pair in the caller's scope (`duplicate-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already merged or dismissed (`duplicate-resolved`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/duplicates/{id}/dismiss")]
pub async fn dismiss_duplicate(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let response = state
        .db
        .write(move |conn| {
            let pair = open_pair(conn, &caller, &id)?;
            diesel::update(duplicate_pairs::table.find(&pair.id))
                .set((
                    duplicate_pairs::status.eq("dismissed"),
                    duplicate_pairs::resolved_at.eq(now()),
                    duplicate_pairs::resolved_by.eq(&caller.user_id),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::DuplicateDismissed,
                    entity_id: Some(&pair.id),
                    area_id: None,
                    changes: json!({}),
                },
            )?;
            let pair: DuplicatePair = duplicate_pairs::table
                .find(&pair.id)
                .select(DuplicatePair::as_select())
                .first(conn)?;
            duplicate_response(conn, pair)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}
