//! `GET /api/v1/volunteers/activity`: who is working and whose phone is stuck. Per
//! volunteer the caller manages and per device: last push and pull, app version, the
//! changes the phone said were still waiting at its last pull, changes applied and
//! rejected this week — worst first, with volunteers inactive for N days flagged.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Datelike, Days, NaiveDateTime, TimeZone, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{filter_managed_volunteers, managed_volunteer_filter};
use crate::auth::{Caller, Role};
use crate::db::DbConnection;
use crate::problem::{ApiError, ApiQuery};
use crate::schema::{devices, sync_mutations, users};
use crate::state::AppState;
use crate::users::{user_response, User, UserResponse};

const DEFAULT_INACTIVE_DAYS: u32 = 7;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// A volunteer with no push or pull for this many days is flagged `inactive` (default 7).
    #[validate(range(min = 1, max = 365))]
    #[param(minimum = 1, maximum = 365)]
    pub inactive_days: Option<u32>,
    /// How many volunteers to return, worst first, 1–500 (default 100); `total` says how
    /// many there are.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceActivity {
    pub device_id: uuid::Uuid,
    /// The app version the device last sent.
    pub app_version: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub last_push_at: Option<DateTime<Utc>>,
    pub last_pull_at: Option<DateTime<Utc>>,
    /// Changes still waiting on the phone, as it reported at `queued_reported_at`.
    pub queued_items: Option<i32>,
    pub queued_reported_at: Option<DateTime<Utc>>,
    /// Changes from this device applied since Monday 00:00 (service time zone).
    pub applied_this_week: i64,
    /// Changes from this device rejected since Monday 00:00.
    pub rejected_this_week: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerActivity {
    pub volunteer: UserResponse,
    /// The latest push or pull of any of the volunteer's devices.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// No push or pull within `inactive_days` (or never).
    pub inactive: bool,
    /// Records (changes applied from the volunteer's phones) since Monday 00:00.
    pub records_this_week: i64,
    pub rejected_this_week: i64,
    /// Changes waiting on the volunteer's phones at their last pulls (phones that synced
    /// within `inactive_days`).
    pub queued_items: i64,
    /// Latest activity first.
    pub devices: Vec<DeviceActivity>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityReport {
    /// Worst first: inactive, then most changes waiting or rejected, then the longest
    /// without a sync.
    pub items: Vec<VolunteerActivity>,
    /// Active volunteers the caller manages (`items` holds at most `limit` of them).
    pub total: usize,
    pub inactive_days: u32,
    /// The start of "this week": Monday 00:00 in the service's time zone.
    pub week_start: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = devices)]
struct DeviceRow {
    id: String,
    user_id: String,
    app_version: Option<String>,
    created_at: NaiveDateTime,
    last_push_at: Option<NaiveDateTime>,
    last_pull_at: Option<NaiveDateTime>,
    queued_items: Option<i32>,
    queued_reported_at: Option<NaiveDateTime>,
}

/// Activity and sync health of the volunteers the caller manages (heads and administrators)
#[utoipa::path(
    tag = "volunteers",
    params(ActivityQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active volunteers, worst first", body = ActivityReport),
        (status = 403, description = "Not a head or administrator (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`inactive_days` or `limit` out of range (`validation-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/volunteers/activity")]
pub async fn volunteer_activity(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Head])?;
    let query = query.0;
    let inactive_days = query.inactive_days.unwrap_or(DEFAULT_INACTIVE_DAYS);
    let limit = usize::try_from(query.limit.unwrap_or(100).clamp(1, 500)).unwrap_or(100);
    let clock = crate::clock::clock();
    let now = clock.now();
    let today = clock.day_of(now);
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let week_start = clock
        .zone
        .from_local_datetime(&monday.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let inactive_before = now - chrono::Duration::days(i64::from(inactive_days));
    let report = state
        .db
        .read(move |conn| {
            let mut select = users::table
                .filter(users::role.eq(Role::Volunteer.as_str()))
                .filter(users::active.eq(true))
                .select(User::as_select())
                .order(users::id.asc())
                .into_boxed();
            if let Some(areas) = managed_volunteer_filter(conn, &caller.scope)? {
                select = filter_managed_volunteers!(select, areas);
            }
            let volunteers: Vec<User> = select.load(conn)?;
            let mut by_user = devices_of(conn, &volunteers, week_start.naive_utc())?;
            let mut ranked: Vec<(User, Health)> = volunteers
                .into_iter()
                .map(|volunteer| {
                    let devices = by_user.remove(&volunteer.id).unwrap_or_default();
                    let health = Health::of(devices, inactive_before);
                    (volunteer, health)
                })
                .collect();
            ranked.sort_by(|(a_user, a), (b_user, b)| {
                b.inactive
                    .cmp(&a.inactive)
                    .then(
                        (b.queued_items + b.rejected_this_week)
                            .cmp(&(a.queued_items + a.rejected_this_week)),
                    )
                    .then(a.last_sync_at.cmp(&b.last_sync_at))
                    .then(a_user.name.cmp(&b_user.name))
            });
            let total = ranked.len();
            ranked.truncate(limit);
            // The account details (two queries each) only for the volunteers returned.
            let items = ranked
                .into_iter()
                .map(|(user, health)| Ok(health.into_activity(user_response(conn, user)?)))
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(ActivityReport {
                items,
                total,
                inactive_days,
                week_start,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// One volunteer's devices summed up, before the account is loaded.
struct Health {
    devices: Vec<DeviceActivity>,
    last_sync_at: Option<DateTime<Utc>>,
    inactive: bool,
    records_this_week: i64,
    rejected_this_week: i64,
    queued_items: i64,
}

impl Health {
    fn of(mut devices: Vec<DeviceActivity>, inactive_before: DateTime<Utc>) -> Health {
        let last_of = |d: &DeviceActivity| d.last_push_at.max(d.last_pull_at);
        devices.sort_by_key(|d| std::cmp::Reverse(last_of(d)));
        let last_sync_at = devices.iter().filter_map(last_of).max();
        Health {
            inactive: last_sync_at.is_none_or(|at| at < inactive_before),
            last_sync_at,
            records_this_week: devices.iter().map(|d| d.applied_this_week).sum(),
            rejected_this_week: devices.iter().map(|d| d.rejected_this_week).sum(),
            // A phone put away long ago keeps its last report; only phones active within
            // the window count towards "waiting" (each device still shows its own).
            queued_items: devices
                .iter()
                .filter(|d| last_of(d).is_some_and(|at| at >= inactive_before))
                .filter_map(|d| d.queued_items)
                .map(i64::from)
                .sum(),
            devices,
        }
    }

    fn into_activity(self, volunteer: UserResponse) -> VolunteerActivity {
        VolunteerActivity {
            volunteer,
            last_sync_at: self.last_sync_at,
            inactive: self.inactive,
            records_this_week: self.records_this_week,
            rejected_this_week: self.rejected_this_week,
            queued_items: self.queued_items,
            devices: self.devices,
        }
    }
}

/// The volunteers' devices with this week's applied and rejected changes counted per device.
fn devices_of(
    conn: &mut DbConnection,
    volunteers: &[User],
    week_start: NaiveDateTime,
) -> Result<HashMap<String, Vec<DeviceActivity>>, ApiError> {
    let utc = |t: NaiveDateTime| t.and_utc();
    let mut by_user: HashMap<String, Vec<DeviceActivity>> = HashMap::new();
    for chunk in volunteers.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|u| u.id.as_str()).collect();
        let rows: Vec<DeviceRow> = devices::table
            .filter(devices::user_id.eq_any(&ids))
            .select(DeviceRow::as_select())
            .load(conn)?;
        let device_ids: Vec<&str> = rows.iter().map(|d| d.id.as_str()).collect();
        let mut counts: HashMap<(String, String), i64> = HashMap::new();
        for devices_chunk in device_ids.chunks(500) {
            let counted: Vec<(String, String, i64)> = sync_mutations::table
                .filter(sync_mutations::device_id.eq_any(devices_chunk))
                .filter(sync_mutations::received_at.ge(week_start))
                .group_by((sync_mutations::device_id, sync_mutations::result))
                .select((
                    sync_mutations::device_id,
                    sync_mutations::result,
                    count_star(),
                ))
                .load(conn)?;
            for (device, result, n) in counted {
                counts.insert((device, result), n);
            }
        }
        for row in rows {
            let count = |result: &str| {
                counts
                    .get(&(row.id.clone(), result.to_owned()))
                    .copied()
                    .unwrap_or(0)
            };
            let activity = DeviceActivity {
                device_id: crate::areas::parse_uuid(&row.id)?,
                app_version: row.app_version.clone(),
                registered_at: utc(row.created_at),
                last_push_at: row.last_push_at.map(utc),
                last_pull_at: row.last_pull_at.map(utc),
                queued_items: row.queued_items,
                queued_reported_at: row.queued_reported_at.map(utc),
                applied_this_week: count("applied"),
                rejected_this_week: count("rejected"),
            };
            by_user.entry(row.user_id).or_default().push(activity);
        }
    }
    Ok(by_user)
}
