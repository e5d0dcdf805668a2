//! `DELETE /api/v1/households/{id}`: heads (and administrators) remove a household recorded
//! by mistake. It stays as a tombstone, with its residents and history, so phones learn of
//! the deletion and past figures stay explainable.

use actix_web::{delete, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::{find_household, RecordScope};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::now;
use crate::problem::ApiError;
use crate::schema::households;
use crate::state::AppState;

/// Delete a household (heads and administrators)
#[utoipa::path(
    tag = "households",
    params(("id" = uuid::Uuid, Path, description = "Household id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted (kept as a tombstone)"),
        (status = 403, description = "Only heads and administrators delete households (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/households/{id}")]
pub async fn delete_household(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let household = find_household(conn, &scope, &id)?;
            caller.require(&[Role::Head, Role::Admin])?;
            let at = now();
            diesel::update(households::table.find(&household.id))
                .set((
                    households::deleted_at.eq(at),
                    households::deleted_by.eq(&caller.user_id),
                    households::version.eq(household.version + 1),
                    households::updated_at.eq(at),
                ))
                .execute(conn)?;
            crate::adoption::counters::sync_household_and_residents(conn, &household.id)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::HouseholdDeleted,
                    entity_id: Some(&household.id),
                    area_id: Some(&household.area_id),
                    changes: json!({}),
                },
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
