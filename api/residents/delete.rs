//! `DELETE /api/v1/residents/{id}`: heads (and administrators) remove a person recorded by
//! mistake (a duplicate entry, a wrong household). The row stays as a tombstone and counts
//! nowhere; a person who left is recorded as moved away instead, which keeps the history.

use actix_web::{delete, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::find_resident;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::now;
use crate::households::RecordScope;
use crate::problem::ApiError;
use crate::schema::residents;
use crate::state::AppState;

/// Delete a resident recorded by mistake (heads and administrators)
#[utoipa::path(
    tag = "residents",
    params(("id" = uuid::Uuid, Path, description = "Resident id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted (kept as a tombstone)"),
        (status = 403, description = "Only heads and administrators delete residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in the caller's scope (`resident-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/residents/{id}")]
pub async fn delete_resident(
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
            let (resident, household) = find_resident(conn, &scope, &id)?;
            caller.require(&[Role::Head, Role::Admin])?;
            let at = now();
            diesel::update(residents::table.find(&resident.id))
                .set((
                    residents::deleted_at.eq(at),
                    residents::deleted_by.eq(&caller.user_id),
                    residents::version.eq(resident.version + 1),
                    residents::updated_at.eq(at),
                ))
                .execute(conn)?;
            crate::adoption::counters::sync_resident(conn, &resident.id)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::ResidentDeleted,
                    entity_id: Some(&resident.id),
                    area_id: Some(&household.area_id),
                    changes: json!({"household_id": household.id}),
                },
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
