//! `POST /api/v1/auth/logout`: ends a sign-in by revoking its refresh family. Answers 204
//! whether or not the token was still live, so a phone can always clear its state.

use actix_web::{post, web, HttpResponse};

use super::refresh::RefreshRequest;
use super::sessions;
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
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    state
        .db
        .write(move |conn| sessions::revoke_by_token(conn, &presented, "logout"))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
