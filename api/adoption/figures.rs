//! `GET /api/v1/areas/{id}/adoption?as_of=YYYY-MM-DD`: the share of adults with an e-ID and
//! with a signature, and of households with fibre, in an area on a date, against the
//! targets in force, with the number of people still needed for each. Aggregates only: no
//! names, so officials may read it.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::needed::{required, still_needed};
use super::recount;
use crate::areas::{find_in_scope, parse_uuid};
use crate::auth::Caller;
use crate::i18n::Text;
use crate::problem::{ApiError, ApiQuery};
use crate::state::AppState;
use crate::status::today;
use crate::targets::{targets_in_force, Comparison, Indicator};

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
    pub targets: Vec<TargetProgress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionFigures {
    pub area_id: uuid::Uuid,
    pub as_of: NaiveDate,
    pub indicators: Vec<IndicatorFigures>,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

/// Adoption figures of an area on a day
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), AdoptionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures against the targets in force", body = AdoptionFigures),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption")]
pub async fn get_adoption(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<AdoptionQuery>,
) -> Result<HttpResponse, ApiError> {
    let day = query.0.as_of.unwrap_or_else(today);
    if day > today() {
        return Err(ApiError::invalid_field(
            "/as_of",
            "date-in-future",
            Text::new(
                "Ngày không được ở tương lai",
                "The date cannot be in the future",
            ),
        ));
    }
    let id = id.into_inner().to_string();
    let figures = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let counts = recount(conn, &area, day)?;
            let targets = targets_in_force(conn, &area)?;
            let indicators = crate::targets::Indicator::ALL
                .into_iter()
                .map(|indicator| {
                    let (count, recorded, official) = match indicator {
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
                    };
                    let judged = official.unwrap_or(recorded);
                    let progress = targets
                        .iter()
                        .filter(|t| t.indicator == indicator)
                        .map(|t| {
                            let basis_points = (t.threshold_percent * 100.0).round() as i64;
                            TargetProgress {
                                comparison: t.comparison,
                                threshold_percent: t.threshold_percent,
                                deadline: t.deadline,
                                source_area_id: t.source_area_id,
                                inherited: t.inherited,
                                judged_against: if official.is_some() {
                                    "official"
                                } else {
                                    "recorded"
                                }
                                .to_owned(),
                                required: required(t.comparison, basis_points, judged),
                                still_needed: still_needed(
                                    t.comparison,
                                    basis_points,
                                    judged,
                                    count,
                                ),
                                met: still_needed(t.comparison, basis_points, judged, count) == 0,
                            }
                        })
                        .collect();
                    IndicatorFigures {
                        indicator,
                        count,
                        recorded_denominator: recorded,
                        official_denominator: official,
                        rate_recorded: percent(count, recorded),
                        rate_official: official.and_then(|o| percent(count, o)),
                        coverage: official.and_then(|o| percent(recorded, o)),
                        targets: progress,
                    }
                })
                .collect();
            Ok(AdoptionFigures {
                area_id: parse_uuid(&area.id)?,
                as_of: day,
                indicators,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
