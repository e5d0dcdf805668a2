//! Status events: the dated facts from which every status is derived — a resident's e-ID
//! level, a resident's signature, a household's broadband. They are append-only: a wrong
//! one is fixed by voiding it (with its visit) or by a newer event. Recording or voiding
//! events refreshes the cached current status of the resident or household in the same
//! transaction.

pub mod derive;
pub mod history;
pub mod record;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use self::derive::{
    broadband_on, eid_level_on, signature_on, Broadband, EidLevel, Event, EventKind, SignatureKind,
};
use crate::areas::parse_uuid;
use crate::auth::{Caller, Role};
use crate::db::{now, DbConnection};
use crate::households::{id_or_new, Household};
use crate::i18n::Text;
use crate::problem::{ApiError, FieldError, ProblemCode};
use crate::schema::{households, residents, status_events};

/// One status event as a client sends it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// A UUIDv7 made by the client; omit to let the server choose.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
    )]
    pub id: Option<uuid::Uuid>,
    pub kind: EventKind,
    /// The resident (e-ID and signature events); omitted for broadband.
    pub resident_id: Option<uuid::Uuid>,
    /// e-ID: `none | level1 | level2_pending | level2`; signature: `none | electronic |
    /// digital`; broadband: `yes | no | unknown`.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub value: String,
    /// The date it became true (not in the future).
    pub effective_on: NaiveDate,
    /// Digital signature: the certificate's issue date (default: `effective_on`). It is the
    /// day the certificate starts to count, and is stored as the event's `effective_on`
    /// too: a certificate counts from `issued_on` through `expires_on`, both included.
    pub issued_on: Option<NaiveDate>,
    /// Digital signature: the certificate's expiry date (required for `digital`); it still
    /// counts on that day, not the day after.
    pub expires_on: Option<NaiveDate>,
    /// A head's or administrator's correction of the e-ID level.
    #[serde(default)]
    pub correction: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = status_events)]
pub struct StatusEventRow {
    pub id: String,
    pub household_id: String,
    pub resident_id: Option<String>,
    pub kind: String,
    pub value: String,
    pub effective_on: NaiveDate,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub correction: bool,
    pub visit_id: Option<String>,
    pub recorded_by: Option<String>,
    pub received_at: NaiveDateTime,
    pub voided_at: Option<NaiveDateTime>,
}

impl StatusEventRow {
    pub fn as_event(&self) -> Option<Event> {
        Some(Event {
            kind: EventKind::parse(&self.kind)?,
            value: self.value.clone(),
            effective_on: self.effective_on,
            issued_on: self.issued_on,
            expires_on: self.expires_on,
            correction: self.correction,
            received_at: self.received_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusEventResponse {
    pub id: uuid::Uuid,
    pub kind: EventKind,
    pub household_id: uuid::Uuid,
    pub resident_id: Option<uuid::Uuid>,
    pub value: String,
    pub effective_on: NaiveDate,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub correction: bool,
    /// The visit it was recorded at, if any.
    pub visit_id: Option<uuid::Uuid>,
    pub recorded_by: Option<uuid::Uuid>,
    /// When the server received it (the order of the server decides ties).
    pub received_at: DateTime<Utc>,
    /// Set when the event (or its visit) was voided; a voided event counts nowhere.
    pub voided_at: Option<DateTime<Utc>>,
}

impl TryFrom<StatusEventRow> for StatusEventResponse {
    type Error = ApiError;

    fn try_from(row: StatusEventRow) -> Result<Self, ApiError> {
        Ok(StatusEventResponse {
            id: parse_uuid(&row.id)?,
            kind: EventKind::parse(&row.kind)
                .ok_or_else(|| ApiError::internal("unknown event kind"))?,
            household_id: parse_uuid(&row.household_id)?,
            resident_id: row.resident_id.as_deref().map(parse_uuid).transpose()?,
            value: row.value,
            effective_on: row.effective_on,
            issued_on: row.issued_on,
            expires_on: row.expires_on,
            correction: row.correction,
            visit_id: row.visit_id.as_deref().map(parse_uuid).transpose()?,
            recorded_by: row.recorded_by.as_deref().map(parse_uuid).transpose()?,
            received_at: row.received_at.and_utc(),
            voided_at: row.voided_at.map(|v| v.and_utc()),
        })
    }
}

/// The ward's today (`crate::clock`): events cannot be dated after it.
pub use crate::clock::today;

fn field(pointer: String, code: &str, vi: &'static str, en: &'static str) -> FieldError {
    FieldError {
        pointer,
        code: code.to_owned(),
        detail: Text::new(vi, en),
    }
}

/// Checks events against the household and the caller; every problem gets a pointer under
/// `prefix` (`/events/0/value` …).
pub fn check_events(
    conn: &mut DbConnection,
    caller: &Caller,
    household: &Household,
    events: &[EventInput],
    prefix: &str,
) -> Result<(), ApiError> {
    let today = today();
    let mut errors = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let at = |member: &str| format!("{prefix}/{index}/{member}");
        let value_ok = match event.kind {
            EventKind::Eid => EidLevel::parse(&event.value).is_some(),
            EventKind::Signature => SignatureKind::parse(&event.value).is_some(),
            EventKind::Broadband => Broadband::parse(&event.value).is_some(),
        };
        if !value_ok {
            errors.push(field(
                at("value"),
                "invalid-value",
                "Giá trị không thuộc danh sách cho phép",
                "Value is not one of the allowed values",
            ));
        }
        if event.effective_on > today {
            errors.push(field(
                at("effective_on"),
                "date-in-future",
                "Ngày không được ở tương lai",
                "The date cannot be in the future",
            ));
        }
        if became_true_on(event) < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default() {
            let member = if became_true_on(event) == event.effective_on {
                "effective_on"
            } else {
                "issued_on"
            };
            errors.push(field(
                at(member),
                "date-too-early",
                "Ngày quá xa trong quá khứ",
                "The date is too far in the past",
            ));
        }
        match (event.kind, event.resident_id) {
            (EventKind::Broadband, Some(_)) => errors.push(field(
                at("resident_id"),
                "not-allowed",
                "Internet cáp quang thuộc về hộ, không thuộc về người",
                "Broadband belongs to the household, not a resident",
            )),
            (EventKind::Eid | EventKind::Signature, None) => errors.push(field(
                at("resident_id"),
                "required",
                "Trường này là bắt buộc",
                "This field is required",
            )),
            (EventKind::Eid | EventKind::Signature, Some(resident_id)) => {
                let belongs: i64 = residents::table
                    .filter(residents::id.eq(resident_id.to_string()))
                    .filter(residents::household_id.eq(&household.id))
                    .filter(residents::deleted_at.is_null())
                    .count()
                    .get_result(conn)?;
                if belongs == 0 {
                    errors.push(field(
                        at("resident_id"),
                        "not-in-household",
                        "Người này không thuộc hộ gia đình",
                        "This resident is not in the household",
                    ));
                }
            }
            (EventKind::Broadband, None) => {}
        }
        let digital =
            event.kind == EventKind::Signature && event.value == SignatureKind::Digital.as_str();
        if digital {
            match event.expires_on {
                None => errors.push(field(
                    at("expires_on"),
                    "required",
                    "Chữ ký số cần ngày hết hạn",
                    "A digital signature needs its expiry date",
                )),
                Some(expires) if expires < event.issued_on.unwrap_or(event.effective_on) => errors
                    .push(field(
                        at("expires_on"),
                        "expiry-before-issue",
                        "Ngày hết hạn trước ngày cấp",
                        "The expiry date is before the issue date",
                    )),
                Some(_) => {}
            }
            if event.issued_on.is_some_and(|issued| issued > today) {
                errors.push(field(
                    at("issued_on"),
                    "date-in-future",
                    "Ngày không được ở tương lai",
                    "The date cannot be in the future",
                ));
            }
        } else if event.issued_on.is_some() || event.expires_on.is_some() {
            let member = if event.issued_on.is_some() {
                "issued_on"
            } else {
                "expires_on"
            };
            errors.push(field(
                at(member),
                "not-allowed",
                "Chỉ chữ ký số có ngày cấp và hết hạn",
                "Only a digital signature has issue and expiry dates",
            ));
        }
        if event.correction
            && (event.kind != EventKind::Eid || !matches!(caller.role, Role::Head | Role::Admin))
        {
            errors.push(field(
                at("correction"),
                "correction-not-allowed",
                "Chỉ trưởng khu phố hoặc quản trị viên mới sửa được mức định danh",
                "Only a head or an administrator corrects an e-ID level",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Where an event is stored and who recorded it.
pub struct EventRecord<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    pub resident_id: Option<&'a str>,
    pub visit_id: Option<&'a str>,
    pub recorded_by: Option<&'a str>,
}

/// Inserts one event (the API, the import and the demo all record them here).
pub fn insert_event_row(
    conn: &mut DbConnection,
    record: EventRecord,
    event: &Event,
) -> Result<(), ApiError> {
    diesel::insert_into(status_events::table)
        .values((
            status_events::id.eq(record.id),
            status_events::household_id.eq(record.household_id),
            status_events::resident_id.eq(record.resident_id),
            status_events::kind.eq(event.kind.as_str()),
            status_events::value.eq(&event.value),
            status_events::effective_on.eq(event.effective_on),
            status_events::issued_on.eq(event.issued_on),
            status_events::expires_on.eq(event.expires_on),
            status_events::correction.eq(event.correction),
            status_events::visit_id.eq(record.visit_id),
            status_events::recorded_by.eq(record.recorded_by),
            status_events::received_at.eq(event.received_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The day an event's fact became true. A digital certificate holds from the day it was
/// issued, whatever day the volunteer saw it: its `issued_on` (when given) is its
/// `effective_on`, so it counts from `issued_on` through `expires_on`, both included, in
/// the figures, the recount and the derived status alike.
pub fn became_true_on(event: &EventInput) -> NaiveDate {
    let digital =
        event.kind == EventKind::Signature && event.value == SignatureKind::Digital.as_str();
    match event.issued_on {
        Some(issued) if digital => issued,
        _ => event.effective_on,
    }
}

/// Inserts checked events (with the visit they came from) and refreshes what they change.
pub fn insert_events(
    conn: &mut DbConnection,
    caller: &Caller,
    household: &Household,
    visit_id: Option<&str>,
    events: &[EventInput],
    prefix: &str,
) -> Result<Vec<String>, ApiError> {
    let received = now();
    let mut ids = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let id = id_or_new(event.id, &format!("{prefix}/{index}/id"))?;
        let taken: i64 = status_events::table.find(&id).count().get_result(conn)?;
        if taken > 0 {
            return Err(ProblemCode::IdTaken.into());
        }
        let digital =
            event.kind == EventKind::Signature && event.value == SignatureKind::Digital.as_str();
        let resident_id = event.resident_id.map(|r| r.to_string());
        insert_event_row(
            conn,
            EventRecord {
                id: &id,
                household_id: &household.id,
                resident_id: resident_id.as_deref(),
                visit_id,
                recorded_by: Some(&caller.user_id),
            },
            &Event {
                kind: event.kind,
                value: event.value.clone(),
                effective_on: became_true_on(event),
                issued_on: digital.then(|| became_true_on(event)),
                expires_on: event.expires_on,
                correction: event.correction,
                received_at: received,
            },
        )?;
        ids.push(id);
    }
    refresh_for_events(
        conn,
        &household.id,
        events
            .iter()
            .filter_map(|e| e.resident_id.map(|r| r.to_string())),
    )?;
    Ok(ids)
}

/// Refreshes the cached statuses touched by events: the household's broadband and each
/// named resident's e-ID and signature.
pub fn refresh_for_events(
    conn: &mut DbConnection,
    household_id: &str,
    resident_ids: impl Iterator<Item = String>,
) -> Result<(), ApiError> {
    refresh_household(conn, household_id)?;
    let mut seen = std::collections::HashSet::new();
    for resident_id in resident_ids {
        if seen.insert(resident_id.clone()) {
            refresh_resident(conn, &resident_id)?;
        }
    }
    Ok(())
}

/// The events not voided of a resident, or (with `None`) a household's own events.
pub fn live_events(
    conn: &mut DbConnection,
    resident_id: Option<&str>,
    household_id: &str,
) -> Result<Vec<Event>, ApiError> {
    let rows: Vec<StatusEventRow> = match resident_id {
        Some(resident_id) => status_events::table
            .filter(status_events::resident_id.eq(resident_id))
            .filter(status_events::voided_at.is_null())
            .select(StatusEventRow::as_select())
            .load(conn)?,
        None => status_events::table
            .filter(status_events::household_id.eq(household_id))
            .filter(status_events::resident_id.is_null())
            .filter(status_events::voided_at.is_null())
            .select(StatusEventRow::as_select())
            .load(conn)?,
    };
    Ok(rows.iter().filter_map(StatusEventRow::as_event).collect())
}

pub fn refresh_household(conn: &mut DbConnection, household_id: &str) -> Result<(), ApiError> {
    let events = live_events(conn, None, household_id)?;
    let broadband = broadband_on(&events, today());
    diesel::update(
        households::table
            .find(household_id)
            .filter(households::broadband.ne(broadband.as_str())),
    )
    .set((
        households::broadband.eq(broadband.as_str()),
        households::version.eq(households::version + 1),
        households::updated_at.eq(now()),
    ))
    .execute(conn)?;
    crate::adoption::counters::sync_household(conn, household_id)
}

pub fn refresh_resident(conn: &mut DbConnection, resident_id: &str) -> Result<(), ApiError> {
    let events = live_events(conn, Some(resident_id), "")?;
    let day = today();
    let eid = eid_level_on(&events, day);
    let signature = signature_on(&events, day);
    let kind = signature
        .and_then(|e| SignatureKind::parse(&e.value))
        .unwrap_or(SignatureKind::None);
    let expires = signature
        .and_then(|e| e.expires_on)
        .filter(|_| kind == SignatureKind::Digital);
    diesel::update(residents::table.find(resident_id))
        .set((
            residents::eid_level.eq(eid.as_str()),
            residents::signature.eq(kind.as_str()),
            residents::signature_expires_on.eq(expires),
            residents::version.eq(residents::version + 1),
            residents::updated_at.eq(now()),
        ))
        .execute(conn)?;
    crate::adoption::counters::sync_resident(conn, resident_id)
}
