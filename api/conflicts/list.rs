//! `GET /api/v1/conflicts`: the conflicts of the caller's area, oldest first (heads and
//! administrators).

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{reviewer_scope, ConflictResponse, ConflictRow};
use crate::auth::Caller;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::sync_conflicts;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictList {
    pub items: Vec<ConflictResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStatus {
    Open,
    Resolved,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConflictListQuery {
    /// `open` (default) or `resolved`.
    pub status: Option<ConflictStatus>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List conflicts between phones and the server (heads and administrators)
#[utoipa::path(
    tag = "conflicts",
    params(ConflictListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Conflicts, oldest first", body = ConflictList),
        (status = 403, description = "Only heads and administrators review conflicts (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<ConflictListQuery>,
) -> Result<HttpResponse, ApiError> {
    let pattern = reviewer_scope(&caller)?;
    let query = query.0;
    let status = match query.status.unwrap_or(ConflictStatus::Open) {
        ConflictStatus::Open => "open",
        ConflictStatus::Resolved => "resolved",
    };
    let page = PageParams {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            // Ids are UUIDv7: their order is the order the conflicts were recorded in.
            let mut select = sync_conflicts::table
                .filter(sync_conflicts::status.eq(status))
                .filter(sync_conflicts::area_path.like(pattern))
                .order(sync_conflicts::id.asc())
                .limit(limit + 1)
                .select(ConflictRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(sync_conflicts::id.gt(after));
            }
            let rows: Vec<ConflictRow> = select.load(conn)?;
            Ok(pagination::finish(rows, limit, |c| &c.id))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(ConflictResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ConflictList { items, next_cursor }))
}
