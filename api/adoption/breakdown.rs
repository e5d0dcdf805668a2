//! `GET /api/v1/areas/{id}/adoption/breakdown?by=sex|age_band`: how men, women and age groups
//! differ. Counted from the raw rows at request time (the counters are not kept per group,
//! so that the age bands stay a setting: `EID_AGE_BANDS`).

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::figures::{check_day, percent};
use super::{neighbourhoods_with_households, recount_people_by, Counts};
use crate::areas::{find_in_scope, parse_uuid};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::problem::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakdownBy {
    Sex,
    AgeBand,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreakdownQuery {
    /// `sex` or `age_band`.
    pub by: BreakdownBy,
    /// The day (default: today); not in the future.
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownGroup {
    /// `male`, `female`, `unspecified`; or an age band such as `18-29` or `60+`.
    pub group: String,
    pub adults: i64,
    pub adults_with_eid: i64,
    pub adults_with_signature: i64,
    /// Percent of the group's recorded adults; `null` when there are none.
    pub eid_rate: Option<f64>,
    pub signature_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionBreakdown {
    pub area_id: uuid::Uuid,
    pub as_of: NaiveDate,
    pub by: BreakdownBy,
    pub groups: Vec<BreakdownGroup>,
}

/// The band labels of the configured first ages: `[18, 30, 60]` → `18-29`, `30-59`, `60+`.
pub fn band_labels(bands: &[u32]) -> Vec<String> {
    bands
        .iter()
        .enumerate()
        .map(|(index, start)| match bands.get(index + 1) {
            Some(next) => format!("{start}-{}", next - 1),
            None => format!("{start}+"),
        })
        .collect()
}

/// Adult counts per group of an area on a day, groups in their natural order (all present,
/// even when empty).
pub fn breakdown(
    conn: &mut DbConnection,
    area: &crate::areas::Area,
    day: NaiveDate,
    by: BreakdownBy,
    bands: &[u32],
) -> Result<Vec<(String, Counts)>, ApiError> {
    let labels: Vec<String> = match by {
        BreakdownBy::Sex => ["male", "female", "unspecified"]
            .map(str::to_owned)
            .to_vec(),
        BreakdownBy::AgeBand => band_labels(bands),
    };
    let mut totals = vec![Counts::default(); labels.len()];
    let group_of = |person: &super::Person, day: NaiveDate| match by {
        BreakdownBy::Sex => labels
            .iter()
            .position(|l| *l == person.sex)
            .unwrap_or(labels.len() - 1),
        BreakdownBy::AgeBand => {
            let age = day.years_since(person.birth_date).unwrap_or(0);
            bands.iter().rposition(|start| age >= *start).unwrap_or(0)
        }
    };
    if area.is_ended() {
        // An area that ended: from where households were (`located`).
        let located = super::located::Located::load(conn, area)?;
        for (index, counts) in located.people_by(day, group_of) {
            totals[index] += counts;
        }
        return Ok(labels.into_iter().zip(totals).collect());
    }
    for path in neighbourhoods_with_households(conn, &area.path)? {
        let groups = recount_people_by(conn, &path, &[day], group_of)?;
        for (index, counts) in groups.into_iter().flatten() {
            totals[index] += counts;
        }
    }
    Ok(labels.into_iter().zip(totals).collect())
}

/// Adoption by sex or age band
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), BreakdownQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Adults with e-ID and signature per group", body = AdoptionBreakdown),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption/breakdown")]
pub async fn get_breakdown(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<BreakdownQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let day = check_day(query.as_of, "/as_of")?;
    let bands = state.settings.adoption.age_bands.clone();
    let id = id.into_inner().to_string();
    let answer = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let day = super::figures::day_in_life(&area, query.as_of, day, "/as_of")?;
            let groups = breakdown(conn, &area, day, query.by, &bands)?
                .into_iter()
                .map(|(group, counts)| BreakdownGroup {
                    group,
                    adults: counts.adults,
                    adults_with_eid: counts.adults_with_eid,
                    adults_with_signature: counts.adults_with_signature,
                    eid_rate: percent(counts.adults_with_eid, counts.adults),
                    signature_rate: percent(counts.adults_with_signature, counts.adults),
                })
                .collect();
            Ok(AdoptionBreakdown {
                area_id: parse_uuid(&area.id)?,
                as_of: day,
                by: query.by,
                groups,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
