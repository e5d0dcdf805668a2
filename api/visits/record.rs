//! `POST /api/v1/visits`: a visit with the statuses recorded at the door, atomically.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{visit_response, Outcome, Visit, VisitResponse};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::auth::Role;
use crate::db::now;
use crate::db::DbConnection;
use crate::households::{id_or_new, Household, RecordScope};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::residents::enum_text;
use crate::schema::{households, visits};
use crate::state::AppState;
use crate::status::{check_events, insert_events, EventInput};

/// How far a phone's clock may run ahead of the server's.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordVisitRequest {
    /// A UUIDv7 made by the client; omit to let the server choose.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
    )]
    pub id: Option<uuid::Uuid>,
    pub household_id: uuid::Uuid,
    /// When the visit happened (RFC 3339); not in the future.
    pub visited_at: DateTime<Utc>,
    pub outcome: Outcome,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Statuses learnt at the door.
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub events: Vec<EventInput>,
}

/// Record a visit and the statuses learnt at it
#[utoipa::path(
    tag = "visits",
    request_body = RecordVisitRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded, with its events", body = VisitResponse),
        (status = 403, description = "Officials do not record visits (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The household was deleted (`household-deleted`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The visit or an event id is taken (`id-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/visits")]
pub async fn record_visit(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<RecordVisitRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let actor = caller.actor(&client);
    let visit = state
        .db
        .write(move |conn| record(conn, &caller, &actor, &request))
        .await?;
    Ok(HttpResponse::Created().json(visit))
}

/// Records a visit and its events (the API and a phone's sync push both come here).
pub fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &crate::audit::Actor,
    request: &RecordVisitRequest,
) -> Result<VisitResponse, ApiError> {
    let received = now();
    if request.visited_at.naive_utc() > received + CLOCK_SKEW {
        return Err(ApiError::invalid_field(
            "/visited_at",
            "date-in-future",
            Text::new(
                "Thời điểm thăm không được ở tương lai",
                "The visit cannot be in the future",
            ),
        ));
    }
    let scope = RecordScope::of(conn, caller)?;
    let household = visited_household(
        conn,
        caller,
        &scope,
        &request.household_id.to_string(),
        request.visited_at.naive_utc(),
    )?;
    check_events(conn, caller, &household, &request.events, "/events")?;
    let id = id_or_new(request.id, "/id")?;
    let taken: i64 = visits::table.find(&id).count().get_result(conn)?;
    if taken > 0 {
        return Err(ProblemCode::IdTaken.into());
    }
    diesel::insert_into(visits::table)
        .values((
            visits::id.eq(&id),
            visits::household_id.eq(&household.id),
            visits::volunteer_id.eq(&caller.user_id),
            visits::visited_at.eq(request.visited_at.naive_utc()),
            visits::outcome.eq(enum_text(&request.outcome)),
            visits::notes.eq(&request.notes),
            visits::received_at.eq(received),
        ))
        .execute(conn)?;
    let event_ids = insert_events(
        conn,
        caller,
        &household,
        Some(&id),
        &request.events,
        "/events",
    )?;
    // The ward's calendar day of the visit, not its UTC date.
    let visited_on = crate::clock::clock().day_of(request.visited_at);
    if household
        .last_visited_on
        .is_none_or(|last| last < visited_on)
    {
        diesel::update(households::table.find(&household.id))
            .set(households::last_visited_on.eq(visited_on))
            .execute(conn)?;
    }
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::VisitRecorded,
            entity_id: Some(&id),
            area_id: Some(&household.area_id),
            changes: json!({"household_id": household.id, "outcome": enum_text(&request.outcome), "event_ids": event_ids}),
        },
    )?;
    let visit: Visit = visits::table
        .find(&id)
        .select(Visit::as_select())
        .first(conn)?;
    visit_response(conn, visit)
}

/// The household a visit is for: one in the caller's scope, or — for a volunteer whose
/// assignment ended while the phone was offline — one of a neighbourhood they were assigned
/// to when the visit happened. A deleted household in reach is `household-deleted`.
fn visited_household(
    conn: &mut DbConnection,
    caller: &Caller,
    scope: &RecordScope,
    household_id: &str,
    visited_at: chrono::NaiveDateTime,
) -> Result<Household, ApiError> {
    let household: Option<Household> = households::table
        .find(household_id)
        .select(Household::as_select())
        .first(conn)
        .optional()?;
    let Some(household) = household else {
        return Err(ProblemCode::HouseholdNotFound.into());
    };
    let in_reach = scope.contains(&household)
        || (caller.role == Role::Volunteer
            && crate::volunteers::was_assigned(
                conn,
                &caller.user_id,
                &household.area_id,
                visited_at,
            )?);
    match (in_reach, household.deleted_at) {
        (false, _) => Err(ProblemCode::HouseholdNotFound.into()),
        (true, Some(_)) => Err(ProblemCode::HouseholdDeleted.into()),
        (true, None) => Ok(household),
    }
}
