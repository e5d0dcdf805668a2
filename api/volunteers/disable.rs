//! `POST /api/v1/volunteers/{id}/disable`: cut a volunteer off at once (a lost phone, a
//! volunteer who left): the account is disabled and every sign-in revoked; an access token
//! already issued stops working at its next request.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::assignments::reload;
use super::find_managed_volunteer;
use crate::audit::{self, Action};
use crate::auth::sessions::{self, ClientInfo};
use crate::auth::Caller;
use crate::db::now;
use crate::etag;
use crate::problem::ApiError;
use crate::schema::users;
use crate::state::AppState;
use crate::users::UserResponse;

/// Disable a volunteer and revoke all their sign-ins (heads and administrators)
#[utoipa::path(
    tag = "volunteers",
    params(("id" = uuid::Uuid, Path, description = "Volunteer id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Disabled (or already was)", body = UserResponse, headers(("ETag" = String))),
        (status = 403, description = "Not a head or administrator (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such volunteer within reach (`user-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/volunteers/{id}/disable")]
pub async fn disable_volunteer(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user_id = id.into_inner().to_string();
    let user = state
        .db
        .write(move |conn| {
            let volunteer = find_managed_volunteer(conn, &caller, &user_id)?;
            if volunteer.active {
                diesel::update(users::table.find(&volunteer.id))
                    .set((
                        users::active.eq(false),
                        users::version.eq(users::version + 1),
                        users::updated_at.eq(now()),
                    ))
                    .execute(conn)?;
                sessions::revoke_all_for_user(conn, &volunteer.id, "account-disabled")?;
                audit::record_for_user(
                    conn,
                    &caller.actor(&client),
                    Action::UserDisabled,
                    &volunteer.id,
                    json!({"active": {"from": true, "to": false}}),
                )?;
            }
            reload(conn, &volunteer.id)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .json(user))
}
