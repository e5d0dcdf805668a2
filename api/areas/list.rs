//! `GET /api/v1/areas`: the caller's area and everything below it, in tree order.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Area, AreaKind, AreaResponse};
use crate::auth::Caller;
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::areas;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreaListQuery {
    /// Only areas of this kind.
    pub kind: Option<AreaKind>,
    /// Only the direct children of this area.
    pub parent_id: Option<uuid::Uuid>,
    /// Also list areas that ended (merged, split, dissolved): their figures stay readable
    /// for the days they existed. Default `false`: the map as it is today.
    pub include_ended: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaList {
    pub items: Vec<AreaResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List the areas in the caller's scope
#[utoipa::path(
    tag = "areas",
    params(AreaListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's subtree, in tree order", body = AreaList))
)]
#[get("/areas")]
pub async fn list_areas(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<AreaListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let pattern = caller.scope.path_pattern();
    let rows = state
        .db
        .read(move |conn| {
            let mut select = areas::table
                .filter(areas::path.like(pattern))
                .select(Area::as_select())
                .order(areas::path.asc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(kind) = query.kind {
                select = select.filter(areas::kind.eq(kind.as_str()));
            }
            if let Some(parent) = query.parent_id {
                select = select.filter(areas::parent_id.eq(parent.to_string()));
            }
            if let Some(after) = after {
                select = select.filter(areas::path.gt(after));
            }
            if !query.include_ended.unwrap_or(false) {
                select = select.filter(areas::ended_on.is_null());
            }
            Ok(select.load::<Area>(conn)?)
        })
        .await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |a| &a.path);
    let items = rows
        .into_iter()
        .map(AreaResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(AreaList { items, next_cursor }))
}
