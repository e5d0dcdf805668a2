//! Adoption targets per area: the national defaults from PRODUCT.md (at least 80 % of adults
//! with e-ID, more than 50 % with a signature by the end of 2025 and more than 70 % by 2030,
//! at least 95 % of households on fibre), which an administrator may override for an area
//! and indicator. An area without its own targets for an indicator inherits those of its
//! nearest ancestor that has some, and the answer names where they came from.

use actix_web::{get, put, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::areas::{find_in_scope, parse_uuid, Area};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, FieldError};
use crate::schema::targets;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Adults with an e-ID account (level 1 or 2).
    Eid,
    /// Adults with an electronic or a valid digital signature.
    Signature,
    /// Households with fibre broadband.
    Broadband,
}

impl Indicator {
    pub const ALL: [Indicator; 3] = [Indicator::Eid, Indicator::Signature, Indicator::Broadband];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Eid => "eid",
            Indicator::Signature => "signature",
            Indicator::Broadband => "broadband",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The rate must reach the threshold (80 % of 10 needs 8).
    AtLeast,
    /// The rate must exceed the threshold (more than 50 % of 10 needs 6).
    MoreThan,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at_least",
            Comparison::MoreThan => "more_than",
        }
    }

    fn parse(value: &str) -> Option<Comparison> {
        match value {
            "at_least" => Some(Comparison::AtLeast),
            "more_than" => Some(Comparison::MoreThan),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = targets)]
struct TargetRow {
    area_id: Option<String>,
    indicator: String,
    comparison: String,
    threshold_basis_points: i32,
    deadline: NaiveDate,
}

/// One target as set by a client.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub indicator: Indicator,
    pub comparison: Comparison,
    /// Percent with up to two decimals, e.g. `80` or `72.5`.
    #[validate(range(min = 0.0, max = 100.0))]
    #[schema(minimum = 0.0, maximum = 100.0)]
    pub threshold_percent: f64,
    pub deadline: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetResponse {
    pub indicator: Indicator,
    pub comparison: Comparison,
    /// Percent, e.g. `80.0`.
    pub threshold_percent: f64,
    pub deadline: NaiveDate,
    /// The area that set it; `null` for the national default.
    pub source_area_id: Option<uuid::Uuid>,
    /// Whether it comes from an ancestor (or the national default) rather than this area.
    pub inherited: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaTargets {
    pub area_id: uuid::Uuid,
    /// Every target in force for the area, by indicator and deadline.
    pub targets: Vec<TargetResponse>,
}

/// The targets in force for an area: per indicator, those of the area itself or of its
/// nearest ancestor that has some, or else the national defaults.
pub fn targets_in_force(
    conn: &mut DbConnection,
    area: &Area,
) -> Result<Vec<TargetResponse>, ApiError> {
    let mut all = targets_in_force_of_many(conn, std::slice::from_ref(area))?;
    Ok(all.pop().unwrap_or_default())
}

/// The chain of an area: the area, its parent, … the root (nearest first).
fn chain_of(area: &Area) -> Vec<&str> {
    area.path
        .split('/')
        .filter(|s| !s.is_empty())
        .rev()
        .collect()
}

/// The targets in force for each of several areas (the children of a ranking), read in
/// one query.
pub fn targets_in_force_of_many(
    conn: &mut DbConnection,
    areas: &[Area],
) -> Result<Vec<Vec<TargetResponse>>, ApiError> {
    let mut ids: Vec<&str> = areas.iter().flat_map(chain_of).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<TargetRow> = targets::table
        .filter(targets::area_id.eq_any(&ids).or(targets::area_id.is_null()))
        .select(TargetRow::as_select())
        .order((targets::indicator.asc(), targets::deadline.asc()))
        .load(conn)?;
    areas.iter().map(|area| in_force(&rows, area)).collect()
}

fn in_force(rows: &[TargetRow], area: &Area) -> Result<Vec<TargetResponse>, ApiError> {
    let chain = chain_of(area);
    let mut result = Vec::new();
    for indicator in Indicator::ALL {
        let of_indicator: Vec<&TargetRow> = rows
            .iter()
            .filter(|r| r.indicator == indicator.as_str())
            .collect();
        let source = chain
            .iter()
            .map(|id| Some(*id))
            .chain(std::iter::once(None))
            .find(|source| of_indicator.iter().any(|r| r.area_id.as_deref() == *source));
        let Some(source) = source else { continue };
        for row in of_indicator
            .iter()
            .filter(|r| r.area_id.as_deref() == source)
        {
            result.push(TargetResponse {
                indicator,
                comparison: Comparison::parse(&row.comparison)
                    .ok_or_else(|| ApiError::internal("unknown comparison"))?,
                threshold_percent: f64::from(row.threshold_basis_points) / 100.0,
                deadline: row.deadline,
                source_area_id: source.map(parse_uuid).transpose()?,
                inherited: source != Some(area.id.as_str()),
            });
        }
    }
    Ok(result)
}

/// The targets in force for an area
#[utoipa::path(
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Area id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Targets in force, with where each comes from", body = AreaTargets),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/targets")]
pub async fn get_targets(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let response = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            Ok(AreaTargets {
                area_id: parse_uuid(&area.id)?,
                targets: targets_in_force(conn, &area)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTargetsRequest {
    /// The area's own targets; an indicator left out is inherited. Empty: inherit all.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub targets: Vec<TargetInput>,
}

/// Set an area's own targets (administrators)
#[utoipa::path(
    tag = "targets",
    params(("id" = uuid::Uuid, Path, description = "Area id")),
    request_body = PutTargetsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The targets now in force", body = AreaTargets),
        (status = 403, description = "Only administrators set targets (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/areas/{id}/targets")]
pub async fn put_targets(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<PutTargetsRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner().to_string();
    let request = body?.0;
    let mut errors = Vec::new();
    for (index, target) in request.targets.iter().enumerate() {
        let basis_points = target.threshold_percent * 100.0;
        if (basis_points - basis_points.round()).abs() > 1e-6 {
            errors.push(FieldError {
                pointer: format!("/targets/{index}/threshold_percent"),
                code: "too-precise".into(),
                detail: Text::new("Tối đa hai chữ số thập phân", "At most two decimals"),
            });
        }
        let duplicate = request.targets[..index]
            .iter()
            .any(|t| t.indicator == target.indicator && t.deadline == target.deadline);
        if duplicate {
            errors.push(FieldError {
                pointer: format!("/targets/{index}/deadline"),
                code: "duplicate".into(),
                detail: Text::new(
                    "Trùng chỉ tiêu và thời hạn",
                    "The same indicator and deadline twice",
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let response = state
        .db
        .write(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            diesel::delete(targets::table.filter(targets::area_id.eq(&area.id))).execute(conn)?;
            let at = now();
            for target in &request.targets {
                diesel::insert_into(targets::table)
                    .values((
                        targets::id.eq(new_id()),
                        targets::area_id.eq(&area.id),
                        targets::indicator.eq(target.indicator.as_str()),
                        targets::comparison.eq(target.comparison.as_str()),
                        targets::threshold_basis_points
                            .eq((target.threshold_percent * 100.0).round() as i32),
                        targets::deadline.eq(target.deadline),
                        targets::updated_by.eq(&caller.user_id),
                        targets::updated_at.eq(at),
                    ))
                    .execute(conn)?;
            }
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::TargetsUpdated,
                    entity_id: Some(&area.id),
                    area_id: Some(&area.id),
                    changes: json!({"targets": request.targets}),
                },
            )?;
            Ok(AreaTargets {
                area_id: parse_uuid(&area.id)?,
                targets: targets_in_force(conn, &area)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}
