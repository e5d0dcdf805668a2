//! `POST /api/v1/invitations/accept`: the invited person chooses a password with the token
//! from the link; the account becomes active and is signed in. Bad tokens count against the
//! client IP like failed logins.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Action, Actor, Entry};
use crate::auth::sessions::{self, ClientInfo, TokenResponse};
use crate::auth::throttle::{self, Limit};
use crate::auth::{tokens, Role};
use crate::db::now;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::{invitations, users};
use crate::state::AppState;
use crate::users::check_password_policy;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The token from the invitation link.
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// At least 10 characters, not the e-mail, not a common password.
    #[validate(length(max = 1024))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

#[derive(Queryable)]
struct InvitationWithUser {
    id: String,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    replaced_at: Option<NaiveDateTime>,
    user_id: String,
    email: Option<String>,
    phone: Option<String>,
    /// Set for an account that already signed in once: a new sign-in link of a volunteer
    /// without e-mail who forgot the password.
    password_hash: String,
    active: bool,
    role: String,
    area_id: Option<String>,
}

/// Accept an invitation: choose a password and sign in
#[utoipa::path(
    tag = "invitations",
    request_body = AcceptInvitationRequest,
    responses(
        (status = 200, description = "The account is active and signed in", body = TokenResponse),
        (status = 400, description = "Unknown or replaced token (`invalid-invitation-token`), or malformed input",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted (`invitation-already-accepted`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The invitation has expired (`invitation-expired`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bad tokens from this client (`too-many-requests`)",
            body = crate::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: ApiJson<AcceptInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    let AcceptInvitationRequest { token, password } = body.0;
    let settings = state.settings.clone();
    let ip_limit = Limit::client_ip(&settings.throttle, client.ip.as_deref());
    let lookup = (
        ip_limit.clone(),
        tokens::digest(&token),
        settings.throttle.clone(),
    );
    let (locked, found) = state
        .db
        .write(move |conn| {
            // Counted before the token is looked at; a good token gives it back below.
            let locked = throttle::attempt(conn, &lookup.2, &[&lookup.0])?;
            let found: Option<InvitationWithUser> = invitations::table
                .inner_join(users::table.on(users::id.eq(invitations::user_id)))
                .filter(invitations::token_hash.eq(&lookup.1))
                .select((
                    invitations::id,
                    invitations::expires_at,
                    invitations::accepted_at,
                    invitations::replaced_at,
                    users::id,
                    users::email,
                    users::phone,
                    users::password_hash,
                    users::active,
                    users::role,
                    users::area_id,
                ))
                .first(conn)
                .optional()?;
            Ok((locked, found))
        })
        .await?;
    if let Some(wait) = locked {
        return Err(throttle::too_many_requests(wait));
    }
    let refusal = match &found {
        None => Some(ProblemCode::InvalidInvitationToken),
        Some(i) if i.accepted_at.is_some() => Some(ProblemCode::InvitationAlreadyAccepted),
        Some(i) if i.replaced_at.is_some() => Some(ProblemCode::InvalidInvitationToken),
        Some(i) if i.expires_at <= now() => Some(ProblemCode::InvitationExpired),
        Some(_) => None,
    };
    // A disabled account is not brought back by a sign-in link made before it was disabled.
    let disabled = found
        .as_ref()
        .is_some_and(|i| !i.password_hash.is_empty() && !i.active);
    let refusal = refusal.or(disabled.then_some(ProblemCode::InvalidInvitationToken));
    let invitation = match (refusal, found) {
        (None, Some(invitation)) => invitation,
        (refusal, _) => {
            return Err(refusal
                .unwrap_or(ProblemCode::InvalidInvitationToken)
                .into());
        }
    };
    check_password_policy(
        &password,
        invitation.email.as_deref(),
        invitation.phone.as_deref(),
    )?;
    let role =
        Role::parse(&invitation.role).ok_or_else(|| ApiError::internal("unknown role stored"))?;
    let password_hash = state.passwords.hash(password).await?;
    let ttl =
        chrono::Duration::from_std(settings.auth.refresh_token_ttl).map_err(ApiError::internal)?;
    let user_id = invitation.user_id.clone();
    let session = state
        .db
        .write(move |conn| {
            let at = now();
            // Conditional: of two concurrent acceptances with one token, one wins.
            let accepted = diesel::update(
                invitations::table
                    .filter(invitations::id.eq(&invitation.id))
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::replaced_at.is_null()),
            )
            .set(invitations::accepted_at.eq(at))
            .execute(conn)?;
            if accepted != 1 {
                return Err(ProblemCode::InvitationAlreadyAccepted.into());
            }
            // Only an invited account, or one still active: a volunteer disabled while
            // this ran is not brought back.
            let activated = diesel::update(
                users::table
                    .find(&invitation.user_id)
                    .filter(users::active.eq(true).or(users::password_hash.eq(""))),
            )
                .set((
                    users::password_hash.eq(&password_hash),
                    users::active.eq(true),
                    users::version.eq(users::version + 1),
                    users::updated_at.eq(at),
                ))
                .execute(conn)?;
            if activated != 1 {
                return Err(ProblemCode::InvalidInvitationToken.into());
            }
            // A new link of an account already in use replaces its password, so every
            // earlier sign-in ends, as after a password reset.
            if !invitation.password_hash.is_empty() {
                sessions::revoke_all_for_user(conn, &invitation.user_id, "new-sign-in-link")?;
                throttle::clear(
                    conn,
                    &Limit::login_account(&settings.throttle, &invitation.user_id),
                )?;
            }
            let session = sessions::start(conn, &invitation.user_id, &client, ttl)?;
            throttle::forgive(conn, &ip_limit)?;
            audit::record(
                conn,
                &Actor::new(Some(&invitation.user_id), client.ip.as_deref()),
                Entry {
                    action: Action::InvitationAccepted,
                    entity_id: Some(&invitation.id),
                    area_id: invitation.area_id.as_deref(),
                    changes: json!({"user_id": invitation.user_id, "session_id": session.session_id}),
                },
            )?;
            Ok(session)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::issue(
        &state.tokens,
        &user_id,
        role,
        session,
    )?))
}
