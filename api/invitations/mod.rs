//! Invitations: an administrator (anyone in scope) or a neighbourhood head (volunteers of
//! their neighbourhood) invites a person by e-mail. The account exists from the start, with
//! no password and inactive; the e-mailed link carries a single-use token (stored as a
//! digest) with which the person chooses a password and is signed in. Inviting the same
//! address again replaces the old link.

pub mod accept;
pub mod create;
pub mod list;
pub mod revoke;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::auth::{Caller, Role};
use crate::db::{now, DbConnection};
use crate::problem::{ApiError, ProblemCode};
use crate::schema::{invitations, users};
use crate::users::{find_in_scope_user, user_response, User, UserResponse};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: String,
    pub user_id: String,
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub replaced_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Expired,
    Accepted,
    Replaced,
}

impl Invitation {
    pub fn status(&self) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.replaced_at.is_some() {
            InvitationStatus::Replaced
        } else if self.expires_at <= now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    pub id: uuid::Uuid,
    pub status: InvitationStatus,
    /// The invited account (status `invited` until accepted).
    pub user: UserResponse,
    pub invited_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Only in the answer that creates an invitation without e-mail: the one-time link to
    /// open on the person's phone (it leads into the volunteers' app). It is shown once:
    /// the server keeps only its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The same link as a QR code (an SVG document), with `link`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

pub fn invitation_response(
    conn: &mut DbConnection,
    invitation: Invitation,
) -> Result<InvitationResponse, ApiError> {
    let user: User = users::table
        .find(&invitation.user_id)
        .select(User::as_select())
        .first(conn)?;
    Ok(InvitationResponse {
        id: parse_uuid(&invitation.id)?,
        status: invitation.status(),
        user: user_response(conn, user)?,
        invited_by: invitation
            .invited_by
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        created_at: invitation.created_at.and_utc(),
        expires_at: invitation.expires_at.and_utc(),
        link: None,
        qr_svg: None,
    })
}

/// Who may manage an invitation: administrators for accounts in their scope, heads for
/// volunteer accounts in their neighbourhood. Anyone else gets 403; an invitation outside
/// the caller's reach is `invitation-not-found`.
pub fn find_manageable(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<Invitation, ApiError> {
    caller.require(&[Role::Admin, Role::Head])?;
    let invitation: Invitation = invitations::table
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
        .optional()?
        .ok_or(ProblemCode::InvitationNotFound)?;
    let user = find_in_scope_user(conn, &caller.scope, &invitation.user_id)
        .map_err(|e| e.renamed_not_found(ProblemCode::InvitationNotFound))?;
    if caller.role == Role::Head && user.role != Role::Volunteer.as_str() {
        return Err(ProblemCode::InvitationNotFound.into());
    }
    Ok(invitation)
}

/// Marks an account's open invitations as replaced, so their links no longer work.
pub fn withdraw_open(conn: &mut crate::db::DbConnection, user_id: &str) -> Result<(), ApiError> {
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::replaced_at.is_null()),
    )
    .set(invitations::replaced_at.eq(crate::db::now()))
    .execute(conn)?;
    Ok(())
}
