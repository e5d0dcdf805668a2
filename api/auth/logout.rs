//! `POST /api/v1/auth/logout`: ends a sign-in by revoking its refresh family. Answers 204
//! whether or not the token was still live, so a phone can always clear its state.

use actix_web::{post, web, HttpResponse};
use serde_json::json;

use super::refresh::RefreshRequest;
use super::sessions::{self, ClientInfo};
use crate::audit::{self, Action, Actor};
use crate::problem::{ApiError, ApiJson};
use crate::state::AppState;

/// Sign out: revoke the sign-in a refresh token belongs to
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out; every refresh token of this sign-in is revoked"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    state
        .db
        .write(move |conn| {
            if let Some((session_id, user_id)) =
                sessions::revoke_by_token(conn, &presented, "logout")?
            {
                audit::record_for_user(
                    conn,
                    &Actor::new(Some(&user_id), client.ip.as_deref()),
                    Action::Logout,
                    &user_id,
                    json!({"session_id": session_id}),
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
