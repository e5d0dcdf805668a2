//! `GET /api/v1/areas/{id}/adoption/series?from&to&interval=day|week|month`: how the figures
//! moved, one point per interval, from the counters (two queries however long the series).

use actix_web::{get, web, HttpResponse};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::area_counts;
use super::figures::day_in_life;
use super::figures::{check_day, parts, percent};
use crate::areas::{find_in_scope, parse_uuid};
use crate::auth::Caller;
use crate::i18n::Text;
use crate::problem::{ApiError, ApiQuery};
use crate::state::AppState;
use crate::targets::Indicator;

/// The most points one series may have.
pub const MAX_POINTS: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// First day (default: 12 weeks before `to`).
    pub from: Option<NaiveDate>,
    /// Last day (default: today); not in the future.
    pub to: Option<NaiveDate>,
    /// `week` (default), `day` or `month`; at most 400 points.
    pub interval: Option<Interval>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesValue {
    pub indicator: Indicator,
    pub count: i64,
    pub recorded_denominator: i64,
    pub rate_recorded: Option<f64>,
    pub rate_official: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    pub day: NaiveDate,
    pub values: Vec<SeriesValue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionSeries {
    pub area_id: uuid::Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interval: Interval,
    pub points: Vec<SeriesPoint>,
}

/// `from`, then every interval after it up to `to`, and `to` itself.
pub fn points_between(from: NaiveDate, to: NaiveDate, interval: Interval) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut step = 0u32;
    loop {
        let day = match interval {
            Interval::Day => from.checked_add_days(chrono::Days::new(u64::from(step))),
            Interval::Week => from.checked_add_days(chrono::Days::new(7 * u64::from(step))),
            Interval::Month => from.checked_add_months(Months::new(step)),
        };
        match day {
            Some(day) if day < to && days.len() <= MAX_POINTS => days.push(day),
            _ => break,
        }
        step += 1;
    }
    days.push(to);
    days
}

/// How adoption figures moved over time
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), SeriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One point per interval, the last on `to`", body = AdoptionSeries),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption/series")]
pub async fn get_series(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let to = check_day(query.to, "/to")?;
    let from = check_day(
        Some(query.from.unwrap_or_else(|| to - chrono::Days::new(84))),
        "/from",
    )?;
    if from > to {
        return Err(ApiError::invalid_field(
            "/from",
            "range-reversed",
            Text::new(
                "Ngày bắt đầu phải trước ngày kết thúc",
                "The first day must not be after the last",
            ),
        ));
    }
    let interval = query.interval.unwrap_or(Interval::Week);
    let days = points_between(from, to, interval);
    if days.len() > MAX_POINTS {
        return Err(ApiError::invalid_field(
            "/interval",
            "too-many-points",
            Text::new(
                "Quá nhiều điểm (tối đa 400): chọn khoảng thời gian ngắn hơn hoặc bước dài hơn",
                "Too many points (at most 400): choose a shorter range or a longer interval",
            ),
        ));
    }
    let id = id.into_inner().to_string();
    let series = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let (days, to) = match area.ended_on {
                // An ended area's series stops on its last day.
                Some(ended) if query.to.is_none() => {
                    let last = ended.pred_opt().unwrap_or(ended);
                    let kept: Vec<NaiveDate> = days.into_iter().filter(|d| *d <= last).collect();
                    (kept, to.min(last))
                }
                Some(_) => {
                    day_in_life(&area, Some(to), to, "/to")?;
                    (days, to)
                }
                None => (days, to),
            };
            let counts = area_counts(conn, &area, &days)?;
            let points = days
                .iter()
                .zip(counts)
                .map(|(day, counts)| SeriesPoint {
                    day: *day,
                    values: Indicator::ALL
                        .into_iter()
                        .map(|indicator| {
                            let (count, recorded, official) = parts(indicator, &counts, &area);
                            SeriesValue {
                                indicator,
                                count,
                                recorded_denominator: recorded,
                                rate_recorded: percent(count, recorded),
                                rate_official: official.and_then(|o| percent(count, o)),
                            }
                        })
                        .collect(),
                })
                .collect();
            Ok(AdoptionSeries {
                area_id: parse_uuid(&area.id)?,
                from,
                to,
                interval,
                points,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(series))
}
