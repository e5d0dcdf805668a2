//! `POST /api/v1/areas/{id}/sign-offs`, `GET /api/v1/areas/{id}/sign-offs`,
//! `GET /api/v1/areas/{id}/sign-off-status`, `GET /api/v1/sign-offs/{id}`,
//! `POST /api/v1/sign-offs/{id}/reopen`: heads and officials sign off their own area's
//! month; everyone above reads it; volunteers do not report.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{
    changes_since, find, reopen, require_signer, rows_now, sign, user_name, ChangesSince, Period,
    ReportedRow, SignOffRow,
};
use crate::adoption::children::children_of;
use crate::areas::{find_in_scope, parse_uuid, Area};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::DbConnection;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiJson, ApiQuery, ProblemCode};
use crate::schema::sign_offs;
use crate::state::AppState;
use crate::status::today;
use crate::targets::Indicator;

/// Who reads sign-offs: everyone who reports or receives reports.
const READERS: &[Role] = &[Role::Admin, Role::Official, Role::Head];

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: uuid::Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignOffState {
    /// Standing: these are the figures the area reported.
    Signed,
    /// Reopened with a reason: history; the month may be signed again.
    Reopened,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffResponse {
    pub id: uuid::Uuid,
    pub area_id: uuid::Uuid,
    /// The month, `YYYY-MM`.
    pub period: String,
    pub period_start: NaiveDate,
    /// The day the figures are of.
    pub period_end: NaiveDate,
    /// The last day to sign it off on time.
    pub due_on: NaiveDate,
    /// The ward's calendar day it was signed.
    pub signed_on: NaiveDate,
    pub on_time: bool,
    pub status: SignOffState,
    pub note: Option<String>,
    pub signed_by: StaffMember,
    pub signed_at: DateTime<Utc>,
    pub reopened_by: Option<StaffMember>,
    pub reopened_at: Option<DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    /// The figures as signed: the area first, then each area directly below it.
    pub figures: Vec<ReportedRow>,
}

impl SignOffResponse {
    pub fn of(conn: &mut DbConnection, row: SignOffRow) -> Result<SignOffResponse, ApiError> {
        let figures = row.reported()?;
        let staff = |conn: &mut DbConnection, id: &str| -> Result<StaffMember, ApiError> {
            Ok(StaffMember {
                id: parse_uuid(id)?,
                name: user_name(conn, id)?,
            })
        };
        let signed_by = staff(conn, &row.signed_by)?;
        let reopened_by = row
            .reopened_by
            .as_deref()
            .map(|id| staff(conn, id))
            .transpose()?;
        let period = Period::parse(&row.period, "/period")?;
        Ok(SignOffResponse {
            id: parse_uuid(&row.id)?,
            area_id: parse_uuid(&row.area_id)?,
            period: row.period,
            period_start: period.first,
            period_end: row.period_end,
            due_on: row.due_on,
            signed_on: row.signed_on,
            on_time: row.signed_on <= row.due_on,
            status: if row.reopened_at.is_some() {
                SignOffState::Reopened
            } else {
                SignOffState::Signed
            },
            note: row.note,
            signed_by,
            signed_at: row.signed_at.and_utc(),
            reopened_by,
            reopened_at: row.reopened_at.map(|at| at.and_utc()),
            reopen_reason: row.reopen_reason,
            figures,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffRequest {
    /// The month to sign off, `YYYY-MM`; it must have ended.
    #[schema(pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$", example = "2026-11")]
    pub period: String,
    /// A remark kept with it.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Sign off a month's figures for the caller's own area
#[utoipa::path(
    tag = "sign-offs",
    params(("id" = uuid::Uuid, Path, description = "Area id")),
    request_body = SignOffRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Signed: the figures are frozen as read now", body = SignOffResponse,
            headers(("Location" = String))),
        (status = 403, description = "Only the area's own head or official signs it off (`forbidden`, `sign-off-not-yours`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The month is already signed off; reopen it first (`sign-off-exists`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a month (`period-invalid`), a month not over yet (`period-not-ended`), or after the area ended (`after-area-ended`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/areas/{id}/sign-offs")]
pub async fn sign_off_period(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<SignOffRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Official, Role::Head])?;
    let request = body?.0;
    let period = Period::parse(&request.period, "/period")?;
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let day = today();
    let response = state
        .db
        .write(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            require_signer(&caller, &area)?;
            let row = sign(
                conn,
                &area,
                period,
                request.note.as_deref(),
                &actor,
                &caller.user_id,
                day,
            )?;
            SignOffResponse::of(conn, row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/sign-offs/{}", response.id),
        ))
        .json(response))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignOffListQuery {
    /// Only this month, `YYYY-MM`.
    #[param(pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffList {
    /// Newest first, reopened ones included.
    pub items: Vec<SignOffResponse>,
    pub next_cursor: Option<String>,
}

/// The sign-offs of an area, newest first
#[utoipa::path(
    tag = "sign-offs",
    params(("id" = uuid::Uuid, Path, description = "Area id"), SignOffListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = SignOffList),
        (status = 403, description = "Volunteers do not read reports (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/sign-offs")]
pub async fn list_sign_offs(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<SignOffListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS)?;
    let query = query.0;
    let period = query
        .period
        .as_deref()
        .map(|p| Period::parse(p, "/period"))
        .transpose()?;
    let page = PageParams {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.after_id()?;
    let limit = page.limit();
    let id = id.into_inner().to_string();
    let list = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let mut select = sign_offs::table
                .filter(sign_offs::area_id.eq(&area.id))
                .order(sign_offs::id.desc())
                .limit(limit + 1)
                .select(SignOffRow::as_select())
                .into_boxed();
            if let Some(period) = period {
                select = select.filter(sign_offs::period.eq(period.to_string()));
            }
            if let Some(after) = after {
                select = select.filter(sign_offs::id.lt(after));
            }
            let rows: Vec<SignOffRow> = select.load(conn)?;
            let (rows, next_cursor) = pagination::finish(rows, limit, |r| &r.id);
            Ok(SignOffList {
                items: rows
                    .into_iter()
                    .map(|row| SignOffResponse::of(conn, row))
                    .collect::<Result<_, _>>()?,
                next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// How one figure moved since it was reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct FigureChange {
    pub area_id: uuid::Uuid,
    pub indicator: Indicator,
    pub reported_count: i64,
    pub now_count: i64,
    /// `now_count - reported_count`.
    pub count_change: i64,
    pub reported_denominator: i64,
    pub now_denominator: i64,
    /// Change of the recorded denominator.
    pub denominator_change: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffDetail {
    pub sign_off: SignOffResponse,
    /// The same areas' figures for the same day, as counted today.
    pub now: Vec<ReportedRow>,
    /// Every figure that differs between `sign_off.figures` and `now`; empty when the
    /// report still holds.
    pub differences: Vec<FigureChange>,
    /// What arrived or changed since signing that bears on the period, counted.
    pub changes_since: ChangesSince,
}

fn differences(reported: &[ReportedRow], now: &[ReportedRow]) -> Vec<FigureChange> {
    let mut changes = Vec::new();
    for (then, now) in reported.iter().zip(now) {
        for (a, b) in then.indicators.iter().zip(&now.indicators) {
            if a.count != b.count || a.recorded_denominator != b.recorded_denominator {
                changes.push(FigureChange {
                    area_id: then.area_id,
                    indicator: a.indicator,
                    reported_count: a.count,
                    now_count: b.count,
                    count_change: b.count - a.count,
                    reported_denominator: a.recorded_denominator,
                    now_denominator: b.recorded_denominator,
                    denominator_change: b.recorded_denominator - a.recorded_denominator,
                });
            }
        }
    }
    changes
}

/// A sign-off: reported vs now, and what changed since, counted
#[utoipa::path(
    tag = "sign-offs",
    params(("id" = uuid::Uuid, Path, description = "Sign-off id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sign-off and how its figures stand today", body = SignOffDetail),
        (status = 403, description = "Volunteers do not read reports (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`sign-off-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sign-offs/{id}")]
pub async fn get_sign_off(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS)?;
    let id = id.into_inner().to_string();
    let detail = state
        .db
        .read(move |conn| {
            let row = find(conn, &id)?;
            let (row, area) = in_scope(conn, &caller, row)?;
            let reported = row.reported()?;
            let now = rows_now(conn, &reported, row.period_end)?;
            // Where the area's households are now (a move re-paths them).
            let changes = changes_since(conn, &area.path, row.signed_at, row.period_end)?;
            Ok(SignOffDetail {
                differences: differences(&reported, &now),
                now,
                changes_since: changes,
                sign_off: SignOffResponse::of(conn, row)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// A sign-off in the caller's scope (its area, or the area that succeeded it), with its
/// area as it is now.
fn in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    row: SignOffRow,
) -> Result<(SignOffRow, Area), ApiError> {
    match find_in_scope(conn, &caller.scope, &row.area_id) {
        Ok(area) => Ok((row, area)),
        Err(_) => Err(ProblemCode::SignOffNotFound.into()),
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// Why it is reopened (kept with it, shown to the level above).
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::problem::not_blank")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Reopen a sign-off, with a reason
#[utoipa::path(
    tag = "sign-offs",
    params(("id" = uuid::Uuid, Path, description = "Sign-off id")),
    request_body = ReopenRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reopened; kept as history, and the month may be signed again", body = SignOffResponse),
        (status = 403, description = "Only a head or official at the area's level or above (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`sign-off-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reopened (`sign-off-reopened`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sign-offs/{id}/reopen")]
pub async fn reopen_sign_off(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<ReopenRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Official, Role::Head])?;
    let request = body?.0;
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let response = state
        .db
        .write(move |conn| {
            let row = find(conn, &id)?;
            let (row, area) = in_scope(conn, &caller, row)?;
            // Sent back by its own level or one above, not through a successor's scope; an
            // area that ended cannot sign again, so its reports stay as they were.
            if !caller.scope.contains(&area.path) {
                return Err(ProblemCode::SignOffNotFound.into());
            }
            area.require_live("/id")?;
            let row = reopen(conn, row, request.reason.trim(), &actor, &caller.user_id)?;
            SignOffResponse::of(conn, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// The month, `YYYY-MM` (default: the month before today's).
    #[param(pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Punctuality {
    /// Signed on or before the due day.
    SignedOnTime,
    /// Signed after the due day.
    SignedLate,
    /// Not signed, and the due day has not passed.
    Awaiting,
    /// Not signed, and the due day has passed.
    Overdue,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaSignOff {
    pub area_id: uuid::Uuid,
    pub area_code: String,
    pub area_name: String,
    pub state: Punctuality,
    /// The standing sign-off, if any.
    pub sign_off_id: Option<uuid::Uuid>,
    pub signed_on: Option<NaiveDate>,
    /// How many times the month was reopened.
    pub reopened: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffOverview {
    pub period: String,
    pub period_end: NaiveDate,
    pub due_on: NaiveDate,
    /// The area itself first, then each area directly below it.
    pub areas: Vec<AreaSignOff>,
}

fn standing_of(
    conn: &mut DbConnection,
    area: &Area,
    period: Period,
    day: NaiveDate,
) -> Result<AreaSignOff, ApiError> {
    let rows: Vec<SignOffRow> = sign_offs::table
        .filter(sign_offs::area_id.eq(&area.id))
        .filter(sign_offs::period.eq(period.to_string()))
        .select(SignOffRow::as_select())
        .load(conn)?;
    let standing = rows.iter().find(|r| r.reopened_at.is_none());
    let state = match standing {
        Some(row) if row.signed_on <= row.due_on => Punctuality::SignedOnTime,
        Some(_) => Punctuality::SignedLate,
        None if day > period.due_on() => Punctuality::Overdue,
        None => Punctuality::Awaiting,
    };
    Ok(AreaSignOff {
        area_id: parse_uuid(&area.id)?,
        area_code: area.code.clone(),
        area_name: area.name.clone(),
        state,
        sign_off_id: standing.map(|r| parse_uuid(&r.id)).transpose()?,
        signed_on: standing.map(|r| r.signed_on),
        reopened: rows.iter().filter(|r| r.reopened_at.is_some()).count() as i64,
    })
}

/// Which areas have signed off a month, and on time: the area and those directly below it
#[utoipa::path(
    tag = "sign-offs",
    params(("id" = uuid::Uuid, Path, description = "Area id"), OverviewQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The month's sign-offs of the area and the areas below it", body = SignOffOverview),
        (status = 403, description = "Volunteers do not read reports (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a month (`period-invalid`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/sign-off-status")]
pub async fn sign_off_overview(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS)?;
    let day = today();
    let period = match query.0.period.as_deref() {
        Some(text) => Period::parse(text, "/period")?,
        None => Period::containing(day).previous(),
    };
    let id = id.into_inner().to_string();
    let overview = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let mut areas = vec![area.clone()];
            areas.extend(children_of(conn, &area)?);
            Ok(SignOffOverview {
                period: period.to_string(),
                period_end: period.last(),
                due_on: period.due_on(),
                areas: areas
                    .iter()
                    .map(|a| standing_of(conn, a, period, day))
                    .collect::<Result<_, _>>()?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(overview))
}
