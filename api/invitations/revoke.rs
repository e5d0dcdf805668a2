//! `DELETE /api/v1/invitations/{id}`: withdraw an invitation that was not accepted. The
//! account it created (which never had a password) goes with it.

use actix_web::{delete, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::{find_manageable, InvitationStatus};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::users;
use crate::state::AppState;

/// Withdraw an invitation (administrators and heads)
#[utoipa::path(
    tag = "invitations",
    params(("id" = uuid::Uuid, Path, description = "Invitation id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Withdrawn; the invited account is removed"),
        (status = 403, description = "Not an administrator or head (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open invitation within reach (`invitation-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted (`invitation-already-accepted`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/invitations/{id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let invitation = find_manageable(conn, &caller, &id)?;
            match invitation.status() {
                InvitationStatus::Accepted => {
                    return Err(ProblemCode::InvitationAlreadyAccepted.into())
                }
                InvitationStatus::Replaced => return Err(ProblemCode::InvitationNotFound.into()),
                InvitationStatus::Pending | InvitationStatus::Expired => {}
            }
            let area_id: Option<String> = users::table
                .find(&invitation.user_id)
                .select(users::area_id)
                .first(conn)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::InvitationRevoked,
                    entity_id: Some(&invitation.id),
                    area_id: area_id.as_deref(),
                    changes: json!({"user_id": invitation.user_id}),
                },
            )?;
            // The account never had a password: nothing else refers to it yet.
            diesel::delete(users::table.find(&invitation.user_id)).execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
