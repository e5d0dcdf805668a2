//! `GET /api/v1/households/{id}/visits`: the visits to one household, newest first.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{visit_response, Visit, VisitResponse};
use crate::auth::Caller;
use crate::households::{find_household, RecordScope};
use crate::problem::ApiError;
use crate::schema::visits;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    /// Every visit to the household (at most the 500 most recent), voided ones flagged.
    pub items: Vec<VisitResponse>,
}

/// The visits to a household
#[utoipa::path(
    tag = "visits",
    params(("id" = uuid::Uuid, Path, description = "Household id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Visits, newest first", body = VisitList),
        (status = 403, description = "Officials do not see visits (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households/{id}/visits")]
pub async fn list_household_visits(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let items = state
        .db
        .read(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let household = find_household(conn, &scope, &id)?;
            let rows: Vec<Visit> = visits::table
                .filter(visits::household_id.eq(&household.id))
                .order(visits::visited_at.desc())
                .limit(500)
                .select(Visit::as_select())
                .load(conn)?;
            rows.into_iter()
                .map(|visit| visit_response(conn, visit))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(VisitList { items }))
}
