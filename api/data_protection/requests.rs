//! `POST /api/v1/data-requests`, `GET /api/v1/data-requests`,
//! `POST /api/v1/data-requests/{id}/acknowledge`, `…/extend`, `…/close`: the register of
//! data subjects' requests (access, correction, provision, erasure, restriction, consent
//! withdrawal, objection) that a neighbourhood head or an administrator keeps, with the
//! legal deadlines computed on receipt (`law`) and shown until the request is closed. Each
//! step is audited; the register names the person only by their record's id.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::law::{self, RequestKind};
use crate::areas::{find_in_scope, parse_uuid};
use crate::audit::{self, Action, Actor, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::households::RecordScope;
use crate::i18n::Text;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiJson, ApiQuery, ProblemCode};
use crate::residents::{enum_parse, enum_text, find_resident};
use crate::schema::{data_requests, residents};
use crate::state::AppState;
use crate::status::today;

/// Who keeps the register: the people who hold the records.
const KEEPERS: &[Role] = &[Role::Admin, Role::Head];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InPerson,
    Phone,
    Written,
    Electronic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    /// Carried out.
    Completed,
    /// Refused, with the reason (a ground the law allows).
    Refused,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = data_requests)]
pub struct DataRequestRow {
    pub id: String,
    pub area_id: String,
    pub area_path: String,
    pub resident_id: Option<String>,
    pub kind: String,
    pub channel: String,
    pub details: Option<String>,
    pub received_on: NaiveDate,
    pub acknowledge_by: NaiveDate,
    pub acknowledged_on: Option<NaiveDate>,
    pub due_on: NaiveDate,
    pub extended_to: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
    pub closed_on: Option<NaiveDate>,
    pub closed_by: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataRequestResponse {
    pub id: uuid::Uuid,
    pub area_id: uuid::Uuid,
    /// The person's record, when the request is about one.
    pub resident_id: Option<uuid::Uuid>,
    pub kind: RequestKind,
    pub channel: Channel,
    pub details: Option<String>,
    pub received_on: NaiveDate,
    /// The last day to acknowledge it and tell the person how it will be handled.
    pub acknowledge_by: NaiveDate,
    pub acknowledged_on: Option<NaiveDate>,
    /// The last day to carry it out (after an extension, the extended day).
    pub due_on: NaiveDate,
    pub extended: bool,
    pub extension_reason: Option<String>,
    pub status: RequestStatus,
    pub outcome: Option<String>,
    pub closed_on: Option<NaiveDate>,
    /// Days left until `due_on` while open (negative: overdue); `null` once closed.
    pub days_left: Option<i64>,
    /// Open past `due_on`, or closed after it.
    pub overdue: bool,
    /// Not acknowledged by `acknowledge_by` (open, or acknowledged late).
    pub acknowledgement_late: bool,
    /// The provision the deadline comes from.
    pub basis: String,
    /// Whether that deadline was checked against the text (see README, "Personal data").
    pub deadline_verified: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl DataRequestResponse {
    pub fn of(row: DataRequestRow, day: NaiveDate) -> Result<DataRequestResponse, ApiError> {
        let kind: RequestKind =
            enum_parse(&row.kind).ok_or_else(|| ApiError::internal(&row.kind))?;
        let status: RequestStatus =
            enum_parse(&row.status).ok_or_else(|| ApiError::internal(&row.status))?;
        let due_on = row.extended_to.unwrap_or(row.due_on);
        let deadline = kind.deadline();
        let open = status == RequestStatus::Open;
        Ok(DataRequestResponse {
            id: parse_uuid(&row.id)?,
            area_id: parse_uuid(&row.area_id)?,
            resident_id: row.resident_id.as_deref().map(parse_uuid).transpose()?,
            kind,
            channel: enum_parse(&row.channel).ok_or_else(|| ApiError::internal(&row.channel))?,
            details: row.details,
            received_on: row.received_on,
            acknowledge_by: row.acknowledge_by,
            acknowledged_on: row.acknowledged_on,
            due_on,
            extended: row.extended_to.is_some(),
            extension_reason: row.extension_reason,
            status,
            outcome: row.outcome,
            closed_on: row.closed_on,
            days_left: open.then(|| (due_on - day).num_days()),
            overdue: row.closed_on.unwrap_or(day) > due_on,
            acknowledgement_late: row.acknowledged_on.unwrap_or(day) > row.acknowledge_by,
            basis: deadline.basis.to_owned(),
            deadline_verified: deadline.verified,
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDataRequest {
    /// The person's record the request is about; its area is the request's.
    pub resident_id: Option<uuid::Uuid>,
    /// The area, when the request is not about a recorded person (someone asking whether
    /// any data is held about them). One of `resident_id` and `area_id` is required.
    pub area_id: Option<uuid::Uuid>,
    pub kind: RequestKind,
    pub channel: Channel,
    /// The day it was received (not in the future); deadlines run from it.
    pub received_on: NaiveDate,
    /// What was asked, in a few words (no more personal data than needed).
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub details: Option<String>,
}

fn find(conn: &mut DbConnection, caller: &Caller, id: &str) -> Result<DataRequestRow, ApiError> {
    data_requests::table
        .find(id)
        .select(DataRequestRow::as_select())
        .first(conn)
        .optional()?
        .filter(|row| caller.scope.contains(&row.area_path))
        .ok_or_else(|| ProblemCode::DataRequestNotFound.into())
}

fn require_open(row: &DataRequestRow) -> Result<(), ApiError> {
    if row.status == "open" {
        Ok(())
    } else {
        Err(ProblemCode::DataRequestClosed.into())
    }
}

fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: Action,
    row: &DataRequestRow,
    changes: serde_json::Value,
) -> Result<(), ApiError> {
    audit::record(
        conn,
        actor,
        Entry {
            action,
            entity_id: Some(&row.id),
            area_id: Some(&row.area_id),
            changes,
        },
    )
}

/// Record a data subject's request; its deadlines are computed from the day received
#[utoipa::path(
    tag = "data-protection",
    request_body = NewDataRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered, with its deadlines", body = DataRequestResponse,
            headers(("Location" = String))),
        (status = 403, description = "Only heads and administrators keep the register (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person or area in the caller's scope (`resident-not-found`, `area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid (`validation-failed`: `date-in-future`, `resident-or-area-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-requests")]
pub async fn create_data_request(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<NewDataRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let request = body?.0;
    let day = today();
    if request.received_on > day {
        return Err(ApiError::invalid_field(
            "/received_on",
            "date-in-future",
            Text::new(
                "Ngày nhận không được ở tương lai",
                "The day received cannot be in the future",
            ),
        ));
    }
    if request.received_on < law::EARLIEST {
        return Err(ApiError::invalid_field(
            "/received_on",
            "date-too-early",
            Text::new(
                "Ngày nhận quá xa trong quá khứ",
                "The day received is too far in the past",
            ),
        ));
    }
    if request.resident_id.is_none() && request.area_id.is_none() {
        return Err(ApiError::invalid_field(
            "/resident_id",
            "resident-or-area-required",
            Text::new(
                "Cần chọn người có yêu cầu hoặc địa bàn",
                "Give the person the request is about, or the area",
            ),
        ));
    }
    let actor = caller.actor(&client);
    let row = state
        .db
        .write(move |conn| {
            let (area_id, area_path, resident_id) = match request.resident_id {
                Some(resident) => {
                    let scope = RecordScope::of(conn, &caller)?;
                    let (resident, household) = find_resident(conn, &scope, &resident.to_string())?;
                    (household.area_id, household.area_path, Some(resident.id))
                }
                None => {
                    let area = find_in_scope(
                        conn,
                        &caller.scope,
                        &request.area_id.map(|a| a.to_string()).unwrap_or_default(),
                    )?;
                    area.require_live("/area_id")?;
                    (area.id, area.path, None)
                }
            };
            let deadline = request.kind.deadline();
            let row = DataRequestRow {
                id: new_id(),
                area_id,
                area_path,
                resident_id,
                kind: enum_text(&request.kind),
                channel: enum_text(&request.channel),
                details: request.details.clone(),
                received_on: request.received_on,
                acknowledge_by: law::add_working_days(
                    request.received_on,
                    law::ACKNOWLEDGE_WORKING_DAYS,
                ),
                acknowledged_on: None,
                due_on: law::add_days(request.received_on, deadline.days),
                extended_to: None,
                extension_reason: None,
                status: "open".to_owned(),
                outcome: None,
                closed_on: None,
                closed_by: None,
                created_by: caller.user_id.clone(),
                created_at: now(),
            };
            diesel::insert_into(data_requests::table)
                .values((
                    data_requests::id.eq(&row.id),
                    data_requests::area_id.eq(&row.area_id),
                    data_requests::area_path.eq(&row.area_path),
                    data_requests::resident_id.eq(&row.resident_id),
                    data_requests::kind.eq(&row.kind),
                    data_requests::channel.eq(&row.channel),
                    data_requests::details.eq(&row.details),
                    data_requests::received_on.eq(row.received_on),
                    data_requests::acknowledge_by.eq(row.acknowledge_by),
                    data_requests::due_on.eq(row.due_on),
                    data_requests::status.eq(&row.status),
                    data_requests::created_by.eq(&row.created_by),
                    data_requests::created_at.eq(row.created_at),
                ))
                .execute(conn)?;
            record(
                conn,
                &actor,
                Action::DataRequestReceived,
                &row,
                json!({"kind": row.kind, "due_on": row.due_on}),
            )?;
            Ok(row)
        })
        .await?;
    let response = DataRequestResponse::of(row, day)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/data-requests/{}", response.id),
        ))
        .json(response))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DataRequestQuery {
    /// Only requests in this state.
    pub status: Option<RequestStatus>,
    /// `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataRequestList {
    /// Newest first.
    pub items: Vec<DataRequestResponse>,
    pub next_cursor: Option<String>,
    /// Open requests in the caller's scope past their due day, counted over all pages.
    pub overdue_open: i64,
}

/// The register of data subjects' requests in the caller's scope, newest first
#[utoipa::path(
    tag = "data-protection",
    params(DataRequestQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = DataRequestList),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/data-requests")]
pub async fn list_data_requests(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<DataRequestQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.after_id()?;
    let limit = page.limit();
    let status = query.status.map(|s| enum_text(&s));
    let day = today();
    let actor = caller.actor(&client);
    // A write: the register names people by their records, so reading it is audited.
    let (rows, next_cursor, overdue_open) = state
        .db
        .write(move |conn| {
            let pattern = caller.scope.path_pattern();
            let mut select = data_requests::table
                .filter(data_requests::area_path.like(&pattern))
                .order(data_requests::id.desc())
                .limit(limit + 1)
                .select(DataRequestRow::as_select())
                .into_boxed();
            if let Some(status) = &status {
                select = select.filter(data_requests::status.eq(status));
            }
            if let Some(after) = &after {
                select = select.filter(data_requests::id.lt(after.clone()));
            }
            let rows: Vec<DataRequestRow> = select.load(conn)?;
            // Overdue: open, and past the extended day if there is one, else the due day.
            let overdue_open: i64 = data_requests::table
                .filter(data_requests::area_path.like(&pattern))
                .filter(data_requests::status.eq("open"))
                .filter(
                    data_requests::extended_to
                        .lt(day)
                        .or(data_requests::extended_to
                            .is_null()
                            .and(data_requests::due_on.lt(day))),
                )
                .count()
                .get_result(conn)?;
            let (rows, next) = pagination::finish(rows, limit, |r| &r.id);
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::DataRequestListRead,
                    entity_id: None,
                    area_id: caller.scope.area_id.as_deref(),
                    changes: json!({"rows": rows.len(), "filtered": status.is_some()}),
                },
            )?;
            Ok((rows, next, overdue_open))
        })
        .await?;
    Ok(HttpResponse::Ok().json(DataRequestList {
        items: rows
            .into_iter()
            .map(|row| DataRequestResponse::of(row, day))
            .collect::<Result<_, _>>()?,
        next_cursor,
        overdue_open,
    }))
}

/// Acknowledge a request (the person has been told how it will be handled)
#[utoipa::path(
    tag = "data-protection",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Acknowledged today", body = DataRequestResponse),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`data-request-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`data-request-closed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-requests/{id}/acknowledge")]
pub async fn acknowledge_data_request(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let day = today();
    let row = state
        .db
        .write(move |conn| {
            let row = find(conn, &caller, &id)?;
            require_open(&row)?;
            if row.acknowledged_on.is_some() {
                return Ok(row);
            }
            let changed = diesel::update(
                data_requests::table
                    .find(&row.id)
                    .filter(data_requests::status.eq("open"))
                    .filter(data_requests::acknowledged_on.is_null()),
            )
            .set(data_requests::acknowledged_on.eq(day))
            .execute(conn)?;
            if changed == 0 {
                // Acknowledged or closed meanwhile by someone else: nothing more to do.
                return find(conn, &caller, &id);
            }
            record(
                conn,
                &actor,
                Action::DataRequestAcknowledged,
                &row,
                json!({}),
            )?;
            find(conn, &caller, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DataRequestResponse::of(row, day)?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    /// Why more time is needed (told to the person).
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::problem::not_blank")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Extend a request's deadline once, where the law allows it
#[utoipa::path(
    tag = "data-protection",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    request_body = ExtendRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Extended", body = DataRequestResponse),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`data-request-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`data-request-closed`), or not extendable: extended once already, or a kind the law gives no extension (`data-request-not-extendable`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-requests/{id}/extend")]
pub async fn extend_data_request(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<ExtendRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let request = body?.0;
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let day = today();
    let row = state
        .db
        .write(move |conn| {
            let row = find(conn, &caller, &id)?;
            require_open(&row)?;
            let kind: RequestKind =
                enum_parse(&row.kind).ok_or_else(|| ApiError::internal(&row.kind))?;
            let Some(extra) = kind.deadline().extension_days else {
                return Err(ProblemCode::DataRequestNotExtendable.into());
            };
            // Extended once, and only before the deadline: an extension never turns a late
            // request into an on-time one.
            if row.extended_to.is_some() || day > row.due_on {
                return Err(ProblemCode::DataRequestNotExtendable.into());
            }
            let to = law::add_days(row.due_on, extra);
            let changed = diesel::update(
                data_requests::table
                    .find(&row.id)
                    .filter(data_requests::status.eq("open"))
                    .filter(data_requests::extended_to.is_null()),
            )
            .set((
                data_requests::extended_to.eq(to),
                data_requests::extension_reason.eq(request.reason.trim()),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(ProblemCode::DataRequestNotExtendable.into());
            }
            record(
                conn,
                &actor,
                Action::DataRequestExtended,
                &row,
                json!({"due_on": to}),
            )?;
            find(conn, &caller, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DataRequestResponse::of(row, day)?))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestOutcome {
    Completed,
    Refused,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub outcome: RequestOutcome,
    /// What was done; required when refused (the ground for refusing).
    #[validate(
        length(min = 1, max = 1000),
        custom(function = "crate::problem::not_blank")
    )]
    #[schema(min_length = 1, max_length = 1000)]
    pub note: Option<String>,
}

/// Whether the person's record shows the request carried out: erased for an erasure,
/// consent off for a withdrawal. Other kinds are done outside the record.
fn carried_out(conn: &mut DbConnection, row: &DataRequestRow) -> Result<bool, ApiError> {
    let Some(resident) = &row.resident_id else {
        return Ok(true);
    };
    let (erased, consent): (Option<NaiveDateTime>, bool) = residents::table
        .find(resident)
        .select((residents::erased_at, residents::consent))
        .first(conn)?;
    Ok(match row.kind.as_str() {
        "erasure" => erased.is_some(),
        "consent_withdrawal" => !consent,
        _ => true,
    })
}

/// Close a request as completed or refused
#[utoipa::path(
    tag = "data-protection",
    params(("id" = uuid::Uuid, Path, description = "Request id")),
    request_body = CloseRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Closed today", body = DataRequestResponse),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`data-request-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`data-request-closed`), or completed while the record does not show it (`data-request-not-carried-out`: erase the person, or turn their consent off, first)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A refusal without its ground (`validation-failed`: `reason-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-requests/{id}/close")]
pub async fn close_data_request(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<CloseRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let request = body?.0;
    if request.outcome == RequestOutcome::Refused && request.note.is_none() {
        return Err(ApiError::invalid_field(
            "/note",
            "reason-required",
            Text::new(
                "Từ chối phải ghi rõ căn cứ",
                "A refusal must give its ground",
            ),
        ));
    }
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let day = today();
    let row = state
        .db
        .write(move |conn| {
            let row = find(conn, &caller, &id)?;
            require_open(&row)?;
            if request.outcome == RequestOutcome::Completed && !carried_out(conn, &row)? {
                return Err(ProblemCode::DataRequestNotCarriedOut.into());
            }
            let status = match request.outcome {
                RequestOutcome::Completed => "completed",
                RequestOutcome::Refused => "refused",
            };
            let changed = diesel::update(
                data_requests::table
                    .find(&row.id)
                    .filter(data_requests::status.eq("open")),
            )
            .set((
                data_requests::status.eq(status),
                data_requests::outcome.eq(request.note.as_deref().map(str::trim)),
                data_requests::closed_on.eq(day),
                data_requests::closed_by.eq(&caller.user_id),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(ProblemCode::DataRequestClosed.into());
            }
            let due = row.extended_to.unwrap_or(row.due_on);
            record(
                conn,
                &actor,
                Action::DataRequestClosed,
                &row,
                json!({"status": status, "on_time": day <= due}),
            )?;
            find(conn, &caller, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DataRequestResponse::of(row, day)?))
}
