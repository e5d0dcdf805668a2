//! `GET /api/v1/areas/{id}/adoption?as_of=YYYY-MM-DD`: the share of adults with an e-ID and
//! with a signature, and of households with fibre, in an area on a date, against the
//! targets in force, with the number of people still needed for each, the pace of the last
//! weeks and where it leads. Aggregates only: no names, so officials may read it.

use actix_web::{get, web, HttpRequest, HttpResponse};
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::conditional::{respond, Conditional, HeldTags};
use super::counters::{figures_tag, EPOCH};
use super::needed::{required, still_needed};
use super::{area_counts, Counts};
use crate::areas::{find_in_scope, parse_uuid, Area, AreaKind};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::i18n::Text;
use crate::problem::{ApiError, ApiQuery};
use crate::state::AppState;
use crate::status::today;
use crate::targets::{targets_in_force, Comparison, Indicator, TargetResponse};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdoptionQuery {
    /// The day (default: today); not in the future.
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetProgress {
    pub comparison: Comparison,
    pub threshold_percent: f64,
    pub deadline: NaiveDate,
    /// The area the target comes from; `null`: the national default.
    pub source_area_id: Option<uuid::Uuid>,
    pub inherited: bool,
    /// `official` when the area has an official figure for this denominator, else `recorded`.
    pub judged_against: String,
    /// The smallest count that meets the target.
    pub required: i64,
    /// How many more are needed (0 when met).
    pub still_needed: i64,
    pub met: bool,
    /// The day the target is reached if the pace of the last `pace_days` holds (and the
    /// denominator stays as it is); `null` when met, when the count is not growing, or when
    /// the deadline has passed.
    pub projected_on: Option<NaiveDate>,
    /// `met` or `missed` once the deadline has passed (judged on the deadline day); before
    /// it, where the pace leads.
    pub status: TargetStatus,
    /// Whether the deadline is before the day asked (the target is history: judged on its
    /// deadline day, listed after the targets still in force).
    pub deadline_passed: bool,
    /// The figure on the deadline day, once it has passed; `null` before.
    pub on_deadline: Option<DeadlineFigure>,
}

/// What a target's area had on the deadline day.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct DeadlineFigure {
    pub count: i64,
    /// The denominator the target was judged against that day (official, else recorded).
    pub denominator: i64,
    /// Percent of that denominator; `null` when it was 0.
    pub rate: Option<f64>,
    /// How many people (or households) it fell short by; 0 when met.
    pub short_by: i64,
}

/// Where a target stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Reached on the day.
    Met,
    /// At the current pace, reached by the deadline.
    OnTrack,
    /// At the current pace, reached after the deadline, but the pace needed is at most
    /// twice the current one.
    AtRisk,
    /// No growth, or more than twice the current pace needed.
    OffTrack,
    /// The deadline has passed and the target was not reached on the deadline day.
    Missed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorFigures {
    pub indicator: Indicator,
    /// Adults (or households, for broadband) who have it.
    pub count: i64,
    /// Adults (or households) recorded in the system and in the population on the day.
    pub recorded_denominator: i64,
    /// The official figure entered for the area, if any.
    pub official_denominator: Option<i64>,
    /// Percent of the recorded denominator; `null` when it is 0.
    pub rate_recorded: Option<f64>,
    /// Percent of the official denominator; `null` without one.
    pub rate_official: Option<f64>,
    /// Recorded ÷ official, percent; `null` without an official figure.
    pub coverage: Option<f64>,
    /// How much the count grew over the last `pace_days` days (negative if it fell).
    pub pace_change: i64,
    /// `pace_change` per day.
    pub pace_per_day: f64,
    pub targets: Vec<TargetProgress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionFigures {
    pub area_id: uuid::Uuid,
    pub area_code: String,
    pub area_name: String,
    pub area_kind: AreaKind,
    pub as_of: NaiveDate,
    /// The window the pace is measured over (`EID_PACE_DAYS`, default 28).
    pub pace_days: u32,
    pub indicators: Vec<IndicatorFigures>,
}

pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

/// The day asked for, checked: not in the future, not before figures exist.
pub fn check_day(day: Option<NaiveDate>, pointer: &str) -> Result<NaiveDate, ApiError> {
    let day = day.unwrap_or_else(today);
    if day > today() {
        return Err(ApiError::invalid_field(
            pointer,
            "date-in-future",
            Text::new(
                "Ngày không được ở tương lai",
                "The date cannot be in the future",
            ),
        ));
    }
    if day < EPOCH {
        return Err(ApiError::invalid_field(
            pointer,
            "date-too-early",
            Text::new(
                "Không có số liệu trước năm 1900",
                "There are no figures before 1900",
            ),
        ));
    }
    Ok(day)
}

/// Count, recorded denominator and official denominator of an indicator.
pub fn parts(indicator: Indicator, counts: &Counts, area: &Area) -> (i64, i64, Option<i64>) {
    match indicator {
        Indicator::Eid => (
            counts.adults_with_eid,
            counts.adults,
            area.official_adult_population,
        ),
        Indicator::Signature => (
            counts.adults_with_signature,
            counts.adults,
            area.official_adult_population,
        ),
        Indicator::Broadband => (
            counts.households_with_fibre,
            counts.households,
            area.official_household_count,
        ),
    }
}

/// Judges one target given the count now, its growth over the pace window and — once the
/// deadline has passed — the count and denominator on the deadline day.
#[allow(clippy::too_many_arguments)]
fn progress(
    target: &TargetResponse,
    judged: i64,
    count: i64,
    pace_change: i64,
    pace_days: u32,
    day: NaiveDate,
    official: bool,
    on_deadline: Option<(i64, i64)>,
) -> TargetProgress {
    let basis_points = (target.threshold_percent * 100.0).round() as i64;
    let needed = still_needed(target.comparison, basis_points, judged, count);
    let deadline_passed = target.deadline < day;
    let on_deadline = deadline_passed.then(|| {
        let (count, denominator) = on_deadline.unwrap_or((0, judged));
        DeadlineFigure {
            count,
            denominator,
            rate: percent(count, denominator),
            short_by: still_needed(target.comparison, basis_points, denominator, count),
        }
    });
    // Days until `needed` more at `pace_change` per `pace_days` days, rounded up, on
    // integers so the projected day does not wobble with floating point.
    let projected_on = (needed > 0 && pace_change > 0 && !deadline_passed)
        .then(|| (needed * i64::from(pace_days) + pace_change - 1) / pace_change)
        .and_then(|days| day.checked_add_days(chrono::Days::new(days as u64)));
    let status = match on_deadline {
        Some(figure) if figure.short_by == 0 => TargetStatus::Met,
        Some(_) => TargetStatus::Missed,
        None if needed == 0 => TargetStatus::Met,
        None => match projected_on {
            Some(on) if on <= target.deadline => TargetStatus::OnTrack,
            Some(on) if (on - day).num_days() <= 2 * (target.deadline - day).num_days() => {
                TargetStatus::AtRisk
            }
            _ => TargetStatus::OffTrack,
        },
    };
    TargetProgress {
        comparison: target.comparison,
        threshold_percent: target.threshold_percent,
        deadline: target.deadline,
        source_area_id: target.source_area_id,
        inherited: target.inherited,
        judged_against: if official { "official" } else { "recorded" }.to_owned(),
        required: required(target.comparison, basis_points, judged),
        still_needed: needed,
        met: needed == 0,
        projected_on,
        status,
        deadline_passed,
        on_deadline,
    }
}

/// The deadlines before `day` among `targets`: the days whose counts judge them.
pub fn passed_deadlines<'a>(
    targets: impl IntoIterator<Item = &'a TargetResponse>,
    day: NaiveDate,
) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = targets
        .into_iter()
        .map(|t| t.deadline)
        .filter(|deadline| *deadline < day)
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// The targets still in force first, nearest deadline first; then the passed ones, most
/// recent first: what a ward must reach next leads, what it met or missed follows.
fn in_order(mut targets: Vec<TargetProgress>) -> Vec<TargetProgress> {
    targets.sort_by(|a, b| match (a.deadline_passed, b.deadline_passed) {
        (false, false) => a.deadline.cmp(&b.deadline),
        (true, true) => b.deadline.cmp(&a.deadline),
        (passed, _) => passed.cmp(&!passed),
    });
    targets
}

/// The figures of an area on a day, from the counters.
pub fn figures_of(
    conn: &mut DbConnection,
    area: &Area,
    day: NaiveDate,
    pace_days: u32,
) -> Result<AdoptionFigures, ApiError> {
    let targets = targets_in_force(conn, area)?;
    let deadlines = passed_deadlines(&targets, day);
    // Every day needed, ascending, read together.
    let start = pace_start(day, pace_days);
    let mut days: Vec<NaiveDate> = deadlines.iter().copied().chain([start, day]).collect();
    days.sort_unstable();
    days.dedup();
    let read: BTreeMap<NaiveDate, Counts> = days
        .iter()
        .copied()
        .zip(area_counts(conn, area, &days)?)
        .collect();
    let counts = read[&day];
    let before = read[&start];
    let on_deadlines: BTreeMap<NaiveDate, Counts> =
        deadlines.iter().map(|d| (*d, read[d])).collect();
    figures_from(
        area,
        day,
        pace_days,
        &counts,
        &before,
        &targets,
        &on_deadlines,
    )
}

/// The day an area's figures are read for: `day` (the day asked, or today), except that an
/// area that ended is read on its last day when no day was asked, and a day on or after its
/// end is refused (it did not exist then; its successor has the figures).
pub fn day_in_life(
    area: &Area,
    asked: Option<NaiveDate>,
    day: NaiveDate,
    pointer: &str,
) -> Result<NaiveDate, ApiError> {
    let Some(ended) = area.ended_on else {
        return Ok(day);
    };
    let last = ended.pred_opt().unwrap_or(ended);
    match asked {
        None => Ok(day.min(last)),
        Some(day) if day < ended => Ok(day),
        Some(_) => Err(ApiError::invalid_field(
            pointer,
            "after-area-ended",
            Text::owned(
                format!(
                    "Địa bàn này đã kết thúc từ ngày {}; hãy xem địa bàn thay thế",
                    ended.format("%d/%m/%Y")
                ),
                format!("This area ended on {ended}; see the area that replaced it"),
            ),
        )),
    }
}

/// The first day of the pace window ending on `day`.
pub fn pace_start(day: NaiveDate, pace_days: u32) -> NaiveDate {
    day.checked_sub_days(chrono::Days::new(u64::from(pace_days)))
        .unwrap_or(EPOCH)
        .max(EPOCH)
}

/// The figures of an area from its counts on the day, at the start of the pace window and
/// on each passed deadline (`on_deadlines`, see `passed_deadlines`).
pub fn figures_from(
    area: &Area,
    day: NaiveDate,
    pace_days: u32,
    counts: &Counts,
    before: &Counts,
    targets: &[TargetResponse],
    on_deadlines: &BTreeMap<NaiveDate, Counts>,
) -> Result<AdoptionFigures, ApiError> {
    let indicators = Indicator::ALL
        .into_iter()
        .map(|indicator| {
            let (count, recorded, official) = parts(indicator, counts, area);
            let (count_before, _, _) = parts(indicator, before, area);
            let pace_change = count - count_before;
            let judged = official.unwrap_or(recorded);
            IndicatorFigures {
                indicator,
                count,
                recorded_denominator: recorded,
                official_denominator: official,
                rate_recorded: percent(count, recorded),
                rate_official: official.and_then(|o| percent(count, o)),
                coverage: official.and_then(|o| percent(recorded, o)),
                pace_change,
                pace_per_day: (pace_change as f64 * 100.0 / f64::from(pace_days)).round() / 100.0,
                targets: in_order(
                    targets
                        .iter()
                        .filter(|t| t.indicator == indicator)
                        .map(|t| {
                            let then = on_deadlines.get(&t.deadline).map(|c| {
                                let (count, recorded, official) = parts(indicator, c, area);
                                (count, official.unwrap_or(recorded))
                            });
                            progress(
                                t,
                                judged,
                                count,
                                pace_change,
                                pace_days,
                                day,
                                official.is_some(),
                                then,
                            )
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    Ok(AdoptionFigures {
        area_id: parse_uuid(&area.id)?,
        area_code: area.code.clone(),
        area_name: area.name.clone(),
        area_kind: area
            .kind()
            .ok_or_else(|| ApiError::internal("unknown area kind stored"))?,
        as_of: day,
        pace_days,
        indicators,
    })
}

/// Adoption figures of an area on a day
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), AdoptionQuery,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of figures already held")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures against the targets in force", body = AdoptionFigures,
            headers(("ETag" = String, description = "Changes whenever the figures can change; send it as `If-None-Match`"))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag",
            headers(("ETag" = String))),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption")]
pub async fn get_adoption(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<AdoptionQuery>,
) -> Result<HttpResponse, ApiError> {
    let asked = query.0.as_of;
    let day = check_day(asked, "/as_of")?;
    let pace_days = state.settings.adoption.pace_days;
    let id = id.into_inner().to_string();
    let held = HeldTags::of(&req);
    let outcome = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let day = day_in_life(&area, asked, day, "/as_of")?;
            let tag = figures_tag(conn, &area, &format!("f|{day}|{pace_days}"))?;
            if held.hold(&tag) {
                return Ok(Conditional::Unchanged(tag));
            }
            Ok(Conditional::Changed(
                tag,
                figures_of(conn, &area, day, pace_days)?,
            ))
        })
        .await?;
    Ok(respond(outcome))
}
