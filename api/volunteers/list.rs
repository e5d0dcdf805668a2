//! `GET /api/v1/volunteers`: the volunteers a head or administrator manages.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use super::{filter_managed_volunteers, managed_volunteer_filter};
use crate::auth::{Caller, Role};
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::users;
use crate::state::AppState;
use crate::users::{user_response, User, UserList};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VolunteerListQuery {
    /// Only active (`true`) or disabled (`false`) volunteers.
    pub active: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// List the volunteers the caller manages (heads and administrators)
#[utoipa::path(
    tag = "volunteers",
    params(VolunteerListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Volunteers scoped to or assigned in the caller's area", body = UserList),
        (status = 403, description = "Not a head or administrator (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/volunteers")]
pub async fn list_volunteers(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<VolunteerListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Head])?;
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
                .filter(users::role.eq(Role::Volunteer.as_str()))
                .select(User::as_select())
                .order(users::id.asc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(areas) = managed_volunteer_filter(conn, &caller.scope)? {
                select = filter_managed_volunteers!(select, areas);
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
