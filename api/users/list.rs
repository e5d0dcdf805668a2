//! `GET /api/v1/users`: the accounts in an administrator's scope, oldest first.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use super::{user_response, User, UserList};
use crate::auth::{Caller, Role};
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::{areas, users};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only accounts scoped to exactly this area.
    pub area_id: Option<uuid::Uuid>,
    /// Only active (`true`) or disabled (`false`) accounts.
    pub active: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List the accounts in the caller's scope (administrators)
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = UserList),
        (status = 403, description = "Only administrators list accounts (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<UserListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.0;
    let page = PageParams {
        cursor: query.cursor,
        limit: query.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let mut select = users::table
                .left_join(areas::table)
                .select(User::as_select())
                .order(users::id.asc())
                .limit(limit + 1)
                .into_boxed();
            if !caller.scope.is_national() {
                select = select.filter(areas::path.like(caller.scope.path_pattern()));
            }
            if let Some(role) = query.role {
                select = select.filter(users::role.eq(role.as_str()));
            }
            if let Some(area_id) = query.area_id {
                select = select.filter(users::area_id.eq(area_id.to_string()));
            }
            if let Some(active) = query.active {
                select = select.filter(users::active.eq(active));
            }
            if let Some(after) = after {
                select = select.filter(users::id.gt(after));
            }
            let rows: Vec<User> = select.load(conn)?;
            let (rows, next_cursor) = pagination::finish(rows, limit, |u| &u.id);
            let items = rows
                .into_iter()
                .map(|user| user_response(conn, user))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((items, next_cursor))
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserList { items, next_cursor }))
}
