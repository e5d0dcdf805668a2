//! Door-to-door visits: who came, when, what happened (helped, already done, nobody home,
//! refused, moved away), and the status events recorded at the door, stored together in one
//! transaction. A visit is never edited; a wrong one is voided with a reason, which voids its
//! events too.

pub mod list;
pub mod record;
pub mod void;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::db::DbConnection;
use crate::problem::ApiError;
use crate::residents::enum_parse;
use crate::schema::{status_events, visits};
use crate::status::{StatusEventResponse, StatusEventRow};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Helped,
    AlreadyDone,
    NotHome,
    Refused,
    MovedAway,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visits)]
pub struct Visit {
    pub id: String,
    pub household_id: String,
    pub volunteer_id: Option<String>,
    pub visited_at: NaiveDateTime,
    pub outcome: String,
    pub notes: Option<String>,
    pub received_at: NaiveDateTime,
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitResponse {
    pub id: uuid::Uuid,
    pub household_id: uuid::Uuid,
    /// Who visited.
    pub volunteer_id: Option<uuid::Uuid>,
    pub visited_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub notes: Option<String>,
    pub received_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// The status events recorded at this visit.
    pub events: Vec<StatusEventResponse>,
}

/// A visit without its events (the phone's copy keeps events apart, as the pull sends them).
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitFields {
    pub id: uuid::Uuid,
    pub household_id: uuid::Uuid,
    /// Who visited.
    pub volunteer_id: Option<uuid::Uuid>,
    pub visited_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub notes: Option<String>,
    pub received_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
}

impl TryFrom<Visit> for VisitFields {
    type Error = ApiError;

    fn try_from(visit: Visit) -> Result<Self, ApiError> {
        Ok(VisitFields {
            id: parse_uuid(&visit.id)?,
            household_id: parse_uuid(&visit.household_id)?,
            volunteer_id: visit.volunteer_id.as_deref().map(parse_uuid).transpose()?,
            visited_at: visit.visited_at.and_utc(),
            outcome: enum_parse(&visit.outcome)
                .ok_or_else(|| ApiError::internal("unknown outcome stored"))?,
            notes: visit.notes,
            received_at: visit.received_at.and_utc(),
            voided_at: visit.voided_at.map(|v| v.and_utc()),
            void_reason: visit.void_reason,
        })
    }
}

pub fn visit_response(conn: &mut DbConnection, visit: Visit) -> Result<VisitResponse, ApiError> {
    let events: Vec<StatusEventRow> = status_events::table
        .filter(status_events::visit_id.eq(&visit.id))
        .order(status_events::id.asc())
        .select(StatusEventRow::as_select())
        .load(conn)?;
    let fields = VisitFields::try_from(visit)?;
    Ok(VisitResponse {
        id: fields.id,
        household_id: fields.household_id,
        volunteer_id: fields.volunteer_id,
        visited_at: fields.visited_at,
        outcome: fields.outcome,
        notes: fields.notes,
        received_at: fields.received_at,
        voided_at: fields.voided_at,
        void_reason: fields.void_reason,
        events: events
            .into_iter()
            .map(StatusEventResponse::try_from)
            .collect::<Result<_, _>>()?,
    })
}
