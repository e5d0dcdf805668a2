//! `POST /api/v1/status-events`: statuses learnt outside a visit (a head's correction, a
//! certificate renewed at the post office).

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{check_events, insert_events, EventInput, StatusEventResponse, StatusEventRow};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::households::{find_household, RecordScope};
use crate::problem::{ApiError, ApiJson};
use crate::schema::status_events;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordStatusRequest {
    pub household_id: uuid::Uuid,
    #[validate(length(min = 1, max = 50), nested)]
    #[schema(min_items = 1, max_items = 50)]
    pub events: Vec<EventInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusEventList {
    pub items: Vec<StatusEventResponse>,
}

/// Record status events outside a visit
#[utoipa::path(
    tag = "status",
    request_body = RecordStatusRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; current statuses are updated", body = StatusEventList),
        (status = 403, description = "Officials do not record statuses (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An event id is taken (`id-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/status-events")]
pub async fn record_status_events(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<RecordStatusRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let rows = state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let household = find_household(conn, &scope, &request.household_id.to_string())?;
            check_events(conn, &caller, &household, &request.events, "/events")?;
            let ids = insert_events(conn, &caller, &household, None, &request.events, "/events")?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::StatusRecorded,
                    entity_id: Some(&household.id),
                    area_id: Some(&household.area_id),
                    changes: json!({"event_ids": ids}),
                },
            )?;
            let rows: Vec<StatusEventRow> = status_events::table
                .filter(status_events::id.eq_any(&ids))
                .order(status_events::id.asc())
                .select(StatusEventRow::as_select())
                .load(conn)?;
            Ok(rows)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(StatusEventResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Created().json(StatusEventList { items }))
}
