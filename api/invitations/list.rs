//! `GET /api/v1/invitations`: invitations not yet accepted (pending or expired), for the
//! administrators and heads who may manage them.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{invitation_response, Invitation, InvitationResponse};
use crate::auth::{Caller, Role};
use crate::pagination::{self, PageParams};
use crate::problem::{ApiError, ApiQuery};
use crate::schema::{areas, invitations, users};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvitationListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List open invitations (administrators and heads)
#[utoipa::path(
    tag = "invitations",
    params(InvitationListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Invitations not yet accepted, oldest first", body = InvitationList),
        (status = 403, description = "Not an administrator or head (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    query: ApiQuery<InvitationListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Head])?;
    let page = PageParams {
        cursor: query.0.cursor,
        limit: query.0.limit,
    };
    let after = page.after()?;
    let limit = page.limit();
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let mut select = invitations::table
                .inner_join(users::table.on(users::id.eq(invitations::user_id)))
                .left_join(areas::table.on(areas::id.nullable().eq(users::area_id)))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::replaced_at.is_null())
                .select(Invitation::as_select())
                .order(invitations::id.asc())
                .limit(limit + 1)
                .into_boxed();
            if !caller.scope.is_national() {
                select = select.filter(areas::path.like(caller.scope.path_pattern()));
            }
            if caller.role == Role::Head {
                select = select.filter(users::role.eq(Role::Volunteer.as_str()));
            }
            if let Some(after) = after {
                select = select.filter(invitations::id.gt(after));
            }
            let rows: Vec<Invitation> = select.load(conn)?;
            let (rows, next_cursor) = pagination::finish(rows, limit, |i| &i.id);
            let items = rows
                .into_iter()
                .map(|invitation| invitation_response(conn, invitation))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((items, next_cursor))
        })
        .await?;
    Ok(HttpResponse::Ok().json(InvitationList { items, next_cursor }))
}
