//! `GET /api/v1/me`: the caller's own account, scope and assignments.

use actix_web::{get, web, HttpResponse};

use super::{find_in_scope_user, user_response, UserResponse};
use crate::auth::{Caller, Scope};
use crate::problem::ApiError;
use crate::state::AppState;

/// The signed-in account
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = UserResponse))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let me = state
        .db
        .read(move |conn| {
            let user = find_in_scope_user(conn, &Scope::national(), &caller.user_id)?;
            user_response(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
