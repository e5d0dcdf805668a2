//! `POST /api/v1/data-breaches`, `GET /api/v1/data-breaches`,
//! `POST /api/v1/data-breaches/{id}/notifications`: the record of personal-data breaches (a
//! lost phone with the app signed in, a list printed and left behind, a wrong export) with
//! the time by which the specialised agency must be told, and when it and the people
//! concerned were told. Administrators and heads record them; every step is audited.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::law;
use crate::areas::{find_in_scope, parse_uuid};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Text;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiJson, ApiQuery, ProblemCode};
use crate::schema::data_breaches;
use crate::state::AppState;

const KEEPERS: &[Role] = &[Role::Admin, Role::Head];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = data_breaches)]
pub struct BreachRow {
    pub id: String,
    pub area_id: String,
    pub area_path: String,
    pub discovered_at: NaiveDateTime,
    pub description: String,
    pub data_categories: String,
    pub subjects_affected: Option<i32>,
    pub measures: Option<String>,
    pub report_by: NaiveDateTime,
    pub authority_notified_at: Option<NaiveDateTime>,
    pub subjects_notified_at: Option<NaiveDateTime>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreachResponse {
    pub id: uuid::Uuid,
    pub area_id: uuid::Uuid,
    pub discovered_at: DateTime<Utc>,
    pub description: String,
    pub data_categories: Vec<String>,
    pub subjects_affected: Option<i32>,
    pub measures: Option<String>,
    /// The latest time to notify the specialised agency: discovery plus 72 hours.
    pub report_by: DateTime<Utc>,
    pub authority_notified_at: Option<DateTime<Utc>>,
    pub subjects_notified_at: Option<DateTime<Utc>>,
    /// Not notified by `report_by` (still, or notified late).
    pub report_late: bool,
    pub basis: String,
    pub created_at: DateTime<Utc>,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

impl BreachResponse {
    fn of(row: BreachRow) -> Result<BreachResponse, ApiError> {
        let at = now();
        Ok(BreachResponse {
            id: parse_uuid(&row.id)?,
            area_id: parse_uuid(&row.area_id)?,
            discovered_at: utc(row.discovered_at),
            description: row.description,
            data_categories: serde_json::from_str(&row.data_categories)
                .map_err(ApiError::internal)?,
            subjects_affected: row.subjects_affected,
            measures: row.measures,
            report_by: utc(row.report_by),
            authority_notified_at: row.authority_notified_at.map(utc),
            subjects_notified_at: row.subjects_notified_at.map(utc),
            report_late: row.authority_notified_at.unwrap_or(at) > row.report_by,
            basis: law::BREACH_BASIS.to_owned(),
            created_at: utc(row.created_at),
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBreach {
    /// The area whose data it touches (in the caller's scope).
    pub area_id: uuid::Uuid,
    /// When it was found out (not in the future); the 72 hours run from it.
    pub discovered_at: DateTime<Utc>,
    /// What happened, without repeating the data.
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "crate::problem::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// The kinds of data concerned (`name`, `birth_date`, `phone`, `citizen_id_last4`, …).
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub data_categories: Vec<Category>,
    /// About how many people.
    #[validate(range(min = 0, max = 10000000))]
    #[schema(minimum = 0, maximum = 10000000)]
    pub subjects_affected: Option<i32>,
    /// What was done to contain it.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub measures: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Name,
    BirthDate,
    Sex,
    Address,
    Phone,
    CitizenIdLast4,
    Statuses,
    Visits,
    Accounts,
}

/// Record a personal-data breach
#[utoipa::path(
    tag = "data-protection",
    request_body = NewBreach,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded, with the time the agency must be told by", body = BreachResponse,
            headers(("Location" = String))),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid (`validation-failed`, e.g. `time-in-future`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-breaches")]
pub async fn record_breach(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<NewBreach>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let breach = body?.0;
    let discovered = breach.discovered_at.naive_utc();
    not_in_future(discovered, "/discovered_at")?;
    let actor = caller.actor(&client);
    let row = state
        .db
        .write(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &breach.area_id.to_string())?;
            area.require_live("/area_id")?;
            let row = BreachRow {
                id: new_id(),
                area_id: area.id.clone(),
                area_path: area.path.clone(),
                discovered_at: discovered,
                description: breach.description.clone(),
                data_categories: serde_json::to_string(&breach.data_categories)
                    .map_err(ApiError::internal)?,
                subjects_affected: breach.subjects_affected,
                measures: breach.measures.clone(),
                report_by: law::breach_report_by(discovered),
                authority_notified_at: None,
                subjects_notified_at: None,
                recorded_by: caller.user_id.clone(),
                created_at: now(),
            };
            diesel::insert_into(data_breaches::table)
                .values((
                    data_breaches::id.eq(&row.id),
                    data_breaches::area_id.eq(&row.area_id),
                    data_breaches::area_path.eq(&row.area_path),
                    data_breaches::discovered_at.eq(row.discovered_at),
                    data_breaches::description.eq(&row.description),
                    data_breaches::data_categories.eq(&row.data_categories),
                    data_breaches::subjects_affected.eq(row.subjects_affected),
                    data_breaches::measures.eq(&row.measures),
                    data_breaches::report_by.eq(row.report_by),
                    data_breaches::recorded_by.eq(&row.recorded_by),
                    data_breaches::created_at.eq(row.created_at),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::BreachRecorded,
                    entity_id: Some(&row.id),
                    area_id: Some(&row.area_id),
                    changes: json!({"report_by": row.report_by.and_utc()}),
                },
            )?;
            Ok(row)
        })
        .await?;
    let response = BreachResponse::of(row)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/data-breaches/{}", response.id),
        ))
        .json(response))
}

/// A time that can be true: not in the future, not before 2020 (the system's records).
fn not_in_future(at: NaiveDateTime, pointer: &str) -> Result<(), ApiError> {
    if at.date() < super::law::EARLIEST {
        return Err(ApiError::invalid_field(
            pointer,
            "date-too-early",
            Text::new(
                "Thời điểm quá xa trong quá khứ",
                "The time is too far in the past",
            ),
        ));
    }
    // A minute of leeway for the caller's clock.
    if at > now() + chrono::Duration::minutes(1) {
        return Err(ApiError::invalid_field(
            pointer,
            "time-in-future",
            Text::new(
                "Thời điểm không được ở tương lai",
                "The time cannot be in the future",
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreachList {
    /// Newest first.
    pub items: Vec<BreachResponse>,
    pub next_cursor: Option<String>,
}

/// Breaches recorded in the caller's scope, newest first
#[utoipa::path(
    tag = "data-protection",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = BreachList),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/data-breaches")]
pub async fn list_breaches(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let after = query.0.after_id()?;
    let limit = query.0.limit();
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let mut select = data_breaches::table
                .filter(data_breaches::area_path.like(caller.scope.path_pattern()))
                .order(data_breaches::id.desc())
                .limit(limit + 1)
                .select(BreachRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(data_breaches::id.lt(after));
            }
            let rows: Vec<BreachRow> = select.load(conn)?;
            Ok(pagination::finish(rows, limit, |r| &r.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(BreachList {
        items: rows
            .into_iter()
            .map(BreachResponse::of)
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachNotifications {
    /// When the specialised agency was notified (not in the future, not before discovery).
    pub authority_notified_at: Option<DateTime<Utc>>,
    /// When the people concerned were notified.
    pub subjects_notified_at: Option<DateTime<Utc>>,
}

fn find(conn: &mut DbConnection, caller: &Caller, id: &str) -> Result<BreachRow, ApiError> {
    data_breaches::table
        .find(id)
        .select(BreachRow::as_select())
        .first(conn)
        .optional()?
        .filter(|row| caller.scope.contains(&row.area_path))
        .ok_or_else(|| ProblemCode::BreachNotFound.into())
}

/// Record when the agency and the people concerned were told of a breach
#[utoipa::path(
    tag = "data-protection",
    params(("id" = uuid::Uuid, Path, description = "Breach id")),
    request_body = BreachNotifications,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recorded", body = BreachResponse),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "None in the caller's scope (`breach-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already recorded; a notification is set once (`breach-notification-recorded`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid (`validation-failed`: `time-in-future`, `before-discovery`, `nothing-to-record`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/data-breaches/{id}/notifications")]
pub async fn record_breach_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<BreachNotifications>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(KEEPERS)?;
    let told = body?.0;
    let authority = told.authority_notified_at.map(|t| t.naive_utc());
    let subjects = told.subjects_notified_at.map(|t| t.naive_utc());
    if authority.is_none() && subjects.is_none() {
        return Err(ApiError::invalid_field(
            "/authority_notified_at",
            "nothing-to-record",
            Text::new(
                "Cần ghi ít nhất một thời điểm thông báo",
                "Give at least one notification time",
            ),
        ));
    }
    for (at, pointer) in [
        (authority, "/authority_notified_at"),
        (subjects, "/subjects_notified_at"),
    ] {
        if let Some(at) = at {
            not_in_future(at, pointer)?;
        }
    }
    let id = id.into_inner().to_string();
    let actor = caller.actor(&client);
    let row = state
        .db
        .write(move |conn| {
            let row = find(conn, &caller, &id)?;
            for (at, pointer) in [
                (authority, "/authority_notified_at"),
                (subjects, "/subjects_notified_at"),
            ] {
                if at.is_some_and(|at| at < row.discovered_at) {
                    return Err(ApiError::invalid_field(
                        pointer,
                        "before-discovery",
                        Text::new(
                            "Thời điểm thông báo không được trước khi phát hiện",
                            "A notification cannot be before the breach was found",
                        ),
                    ));
                }
            }
            if (authority.is_some() && row.authority_notified_at.is_some())
                || (subjects.is_some() && row.subjects_notified_at.is_some())
            {
                return Err(ProblemCode::BreachNotificationRecorded.into());
            }
            // Set once: the condition is in the update, so two at once cannot both win.
            if let Some(at) = authority {
                let changed = diesel::update(
                    data_breaches::table
                        .find(&row.id)
                        .filter(data_breaches::authority_notified_at.is_null()),
                )
                .set(data_breaches::authority_notified_at.eq(at))
                .execute(conn)?;
                if changed == 0 {
                    return Err(ProblemCode::BreachNotificationRecorded.into());
                }
            }
            if let Some(at) = subjects {
                let changed = diesel::update(
                    data_breaches::table
                        .find(&row.id)
                        .filter(data_breaches::subjects_notified_at.is_null()),
                )
                .set(data_breaches::subjects_notified_at.eq(at))
                .execute(conn)?;
                if changed == 0 {
                    return Err(ProblemCode::BreachNotificationRecorded.into());
                }
            }
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::BreachNotified,
                    entity_id: Some(&row.id),
                    area_id: Some(&row.area_id),
                    changes: json!({"authority": authority.is_some(), "subjects": subjects.is_some()}),
                },
            )?;
            find(conn, &caller, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(BreachResponse::of(row)?))
}
