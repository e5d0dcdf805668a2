//! `GET /api/v1/areas/{id}/history`: what reorganisations did to an area and where it came
//! from — formed, merged into another, split, renamed, moved, dissolved — oldest first,
//! with the area on the other side of each change (a predecessor or a successor) when the
//! caller may see it.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{find_in_scope, is_visible, parse_uuid, Area, AreaSummary};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::schema::{area_changes, areas};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaChange {
    pub reorganisation_id: uuid::Uuid,
    pub effective_on: NaiveDate,
    /// `formed`, `merged_into`, `split`/`split_into`, `renamed`, `moved`, `dissolved`;
    /// `absorbed` and `formed_from` are the same changes seen from the other area.
    pub change: String,
    pub area: AreaSummary,
    /// The area on the other side: the successor (merged into, split into) or the
    /// predecessor (absorbed, formed from); `null` when there is none or it is outside the
    /// caller's scope.
    pub other: Option<AreaSummary>,
    pub old_name: Option<String>,
    pub new_name: Option<String>,
    pub old_parent_id: Option<uuid::Uuid>,
    pub new_parent_id: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaHistory {
    pub area_id: uuid::Uuid,
    pub changes: Vec<AreaChange>,
}

#[derive(Queryable)]
struct ChangeRow {
    reorganisation_id: String,
    area_id: String,
    change: String,
    other_area_id: Option<String>,
    old_name: Option<String>,
    new_name: Option<String>,
    old_parent_id: Option<String>,
    new_parent_id: Option<String>,
    effective_on: NaiveDate,
}

/// An area's history of reorganisations
#[utoipa::path(
    tag = "areas",
    params(("id" = uuid::Uuid, Path, description = "Area id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Its changes, oldest first", body = AreaHistory),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/history")]
pub async fn get_area_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let history = state
        .db
        .read(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let rows: Vec<ChangeRow> = area_changes::table
                .filter(
                    area_changes::area_id
                        .eq(&area.id)
                        .or(area_changes::other_area_id.eq(&area.id)),
                )
                .order((area_changes::effective_on.asc(), area_changes::id.asc()))
                .select((
                    area_changes::reorganisation_id,
                    area_changes::area_id,
                    area_changes::change,
                    area_changes::other_area_id,
                    area_changes::old_name,
                    area_changes::new_name,
                    area_changes::old_parent_id,
                    area_changes::new_parent_id,
                    area_changes::effective_on,
                ))
                .load(conn)?;
            let mut changes = Vec::new();
            for row in rows {
                // Seen from the other side, a merge into this area absorbed that one.
                let (change, other_id) = if row.area_id == area.id {
                    (row.change.clone(), row.other_area_id.clone())
                } else {
                    let seen = match row.change.as_str() {
                        "merged_into" => "absorbed",
                        "split_into" => "formed_from",
                        other => other,
                    };
                    (seen.to_owned(), Some(row.area_id.clone()))
                };
                let other = match other_id {
                    Some(other_id) => {
                        let other: Option<Area> = areas::table
                            .find(&other_id)
                            .select(Area::as_select())
                            .first(conn)
                            .optional()?;
                        match other {
                            Some(other) if is_visible(conn, &caller.scope, &other)? => {
                                Some(AreaSummary::try_from(&other)?)
                            }
                            _ => None,
                        }
                    }
                    None => None,
                };
                changes.push(AreaChange {
                    reorganisation_id: parse_uuid(&row.reorganisation_id)?,
                    effective_on: row.effective_on,
                    change,
                    area: AreaSummary::try_from(&area)?,
                    other,
                    old_name: row.old_name,
                    new_name: row.new_name,
                    old_parent_id: row.old_parent_id.as_deref().map(parse_uuid).transpose()?,
                    new_parent_id: row.new_parent_id.as_deref().map(parse_uuid).transpose()?,
                });
            }
            Ok(AreaHistory {
                area_id: parse_uuid(&area.id)?,
                changes,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(history))
}
