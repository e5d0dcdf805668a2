//! `POST /api/v1/visits/{id}/void`: a visit recorded by mistake is voided with a reason,
//! together with its status events; the statuses it had set are derived again.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{visit_response, Visit, VisitResponse};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{role_forbidden, Caller, Role};
use crate::db::now;
use crate::households::{find_household, RecordScope};
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::{status_events, visits};
use crate::state::AppState;
use crate::status::refresh_for_events;

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidVisitRequest {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    #[schema(example = "Ghi nhầm hộ")]
    pub reason: String,
}

/// Void a visit and its events (heads, administrators, or the volunteer who recorded it)
#[utoipa::path(
    tag = "visits",
    params(("id" = uuid::Uuid, Path, description = "Visit id")),
    request_body = VoidVisitRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Voided", body = VisitResponse),
        (status = 403, description = "Not allowed to void this visit (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit in the caller's scope (`visit-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/visits/{id}/void")]
pub async fn void_visit(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<VoidVisitRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let reason = body?.0.reason;
    let actor = caller.actor(&client);
    let visit = state
        .db
        .write(move |conn| void(conn, &caller, &actor, &id, &reason))
        .await?;
    Ok(HttpResponse::Ok().json(visit))
}

/// Voids a visit and its events (the API and a phone's sync push both come here); voiding
/// a voided visit changes nothing.
pub fn void(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    actor: &crate::audit::Actor,
    id: &str,
    reason: &str,
) -> Result<VisitResponse, ApiError> {
    let scope = RecordScope::of(conn, caller)?;
    let visit: Visit = visits::table
        .find(id)
        .select(Visit::as_select())
        .first(conn)
        .optional()?
        .ok_or(ProblemCode::VisitNotFound)?;
    let household = find_household(conn, &scope, &visit.household_id)
        .map_err(|e| e.renamed_not_found(ProblemCode::VisitNotFound))?;
    let own = visit.volunteer_id.as_deref() == Some(caller.user_id.as_str());
    if !own && !matches!(caller.role, Role::Head | Role::Admin) {
        return Err(role_forbidden());
    }
    if visit.voided_at.is_none() {
        let at = now();
        diesel::update(visits::table.find(&visit.id))
            .set((
                visits::voided_at.eq(at),
                visits::voided_by.eq(&caller.user_id),
                visits::void_reason.eq(reason.trim()),
            ))
            .execute(conn)?;
        let residents: Vec<Option<String>> = status_events::table
            .filter(status_events::visit_id.eq(&visit.id))
            .select(status_events::resident_id)
            .load(conn)?;
        diesel::update(status_events::table.filter(status_events::visit_id.eq(&visit.id)))
            .set(status_events::voided_at.eq(at))
            .execute(conn)?;
        refresh_for_events(conn, &household.id, residents.into_iter().flatten())?;
        audit::record(
            conn,
            actor,
            Entry {
                action: Action::VisitVoided,
                entity_id: Some(&visit.id),
                area_id: Some(&household.area_id),
                changes: json!({"household_id": household.id}),
            },
        )?;
    }
    let visit: Visit = visits::table
        .find(&visit.id)
        .select(Visit::as_select())
        .first(conn)?;
    visit_response(conn, visit)
}
