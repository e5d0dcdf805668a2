//! `POST /api/v1/invitations`: invite a person by e-mail, or — for the many volunteers who
//! have none — by phone number with a one-time link and its QR code handed over in person.
//! Administrators invite any role in their scope; neighbourhood heads invite volunteers for
//! their own neighbourhood. Either way the token is single use, stored only as a digest,
//! expires (a link sooner than an e-mail) and the invitation is audited.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{invitation_response, Invitation, InvitationResponse};
use crate::areas::{ward_name_of, AreaKind};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{tokens, Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::{Lang, Text};
use crate::mail::{self, templates};
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::{invitations, users};
use crate::state::AppState;
use crate::users::{
    check_placement, find_in_scope_user, insert_account, normalize_email, normalize_phone,
    replace_assignments, AccountStatus, NewAccount, User,
};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    /// Where the invitation is e-mailed. Without it the answer carries a one-time `link`
    /// and its QR code instead, and `phone` is required.
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    #[schema(example = "tinhnguyenvien@example.vn")]
    pub email: Option<String>,
    /// The person's phone number (they sign in with it); Vietnamese national or +84 form,
    /// spaces, dots and dashes allowed (`0912 345 678`).
    #[validate(
        custom(function = "crate::users::validate_user_phone"),
        length(max = 20)
    )]
    #[schema(
        max_length = 20,
        pattern = r"^\+?[0-9 .()-]{9,19}$",
        example = "0912 345 678"
    )]
    pub phone: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Lê Thị Hoa")]
    pub name: String,
    pub role: Role,
    /// The area the account is scoped to; a head's own neighbourhood when omitted by a head.
    pub area_id: Option<uuid::Uuid>,
    /// Neighbourhoods a volunteer works in; when empty and the area is a neighbourhood, that
    /// neighbourhood.
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub assignment_ids: Vec<uuid::Uuid>,
    /// Language of the invitation e-mail and later mails (default `vi`).
    pub language: Option<Lang>,
}

/// Invite a person by e-mail, or by phone with a one-time link and QR code
#[utoipa::path(
    tag = "invitations",
    request_body = CreateInvitationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Invited: the e-mail is queued, or (no e-mail) the answer carries the one-time `link` and `qr_svg`", body = InvitationResponse),
        (status = 422, description = "Invalid fields, or neither e-mail nor phone (`validation-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or head, or a head inviting anyone but a volunteer (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The area is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An account with this e-mail or phone number already exists (`email-taken`, `phone-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<CreateInvitationRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Head])?;
    let request = body?.0;
    if request.email.is_none() && request.phone.is_none() {
        return Err(ApiError::invalid_field(
            "/phone",
            "required",
            Text::new(
                "Cần email hoặc số điện thoại",
                "An e-mail address or a phone number is required",
            ),
        ));
    }
    if caller.role == Role::Head && request.role != Role::Volunteer {
        return Err(
            ApiError::from(ProblemCode::Forbidden).with_detail(Text::new(
                "Trưởng khu phố chỉ mời được tình nguyện viên",
                "A neighbourhood head can only invite volunteers",
            )),
        );
    }
    let settings = state.settings.clone();
    let invitation = state
        .db
        .write(move |conn| {
            let actor = caller.actor(&client);
            let area_id = request.area_id.map(|id| id.to_string()).or_else(|| {
                (caller.role == Role::Head)
                    .then(|| caller.scope.area_id.clone())
                    .flatten()
            });
            let mut assignment_ids: Vec<String> = request
                .assignment_ids
                .iter()
                .map(|id| id.to_string())
                .collect();
            let placement = {
                let first = check_placement(
                    conn,
                    &caller.scope,
                    request.role,
                    area_id.as_deref(),
                    &assignment_ids,
                )?;
                let area_is_neighbourhood =
                    first.area.as_ref().and_then(|a| a.kind()) == Some(AreaKind::Neighbourhood);
                if request.role == Role::Volunteer
                    && assignment_ids.is_empty()
                    && area_is_neighbourhood
                {
                    assignment_ids = first.area.iter().map(|a| a.id.clone()).collect();
                    check_placement(
                        conn,
                        &caller.scope,
                        request.role,
                        area_id.as_deref(),
                        &assignment_ids,
                    )?
                } else {
                    first
                }
            };
            let email = request.email.as_deref().map(normalize_email);
            let phone = request.phone.as_deref().and_then(normalize_phone);
            let language = request.language.unwrap_or_default();
            let area_id = placement.area.as_ref().map(|a| a.id.clone());
            let names = (email.as_deref(), phone.as_deref(), request.role);
            let existing = existing_invited_account(conn, &caller, names)?;
            let relink = matches!(existing, Some((_, Existing::Relink)));
            let (user_id, replaced) = match existing {
                Some((user, Existing::Relink)) => {
                    replace_open_invitations(conn, &user.id)?;
                    (user.id, true)
                }
                Some((user, Existing::Invited)) => {
                    diesel::update(users::table.find(&user.id))
                        .set((
                            users::email.eq(&email),
                            users::phone.eq(&phone),
                            users::name.eq(request.name.trim()),
                            users::role.eq(request.role.as_str()),
                            users::area_id.eq(&area_id),
                            users::language.eq(language.as_str()),
                            users::version.eq(user.version + 1),
                            users::updated_at.eq(now()),
                        ))
                        .execute(conn)?;
                    replace_open_invitations(conn, &user.id)?;
                    (user.id, true)
                }
                None => {
                    let id = insert_account(
                        conn,
                        NewAccount {
                            email: email.as_deref(),
                            phone: phone.as_deref(),
                            name: &request.name,
                            role: request.role,
                            area_id: area_id.as_deref(),
                            password_hash: "",
                            language,
                            active: false,
                        },
                    )?;
                    (id, false)
                }
            };
            if !relink {
                replace_assignments(conn, &user_id, &placement.assignments)?;
            }
            let token = tokens::new_opaque_token();
            let at = now();
            let lifetime = match email {
                Some(_) => settings.mail.invitation_ttl,
                None => settings.mail.link_invitation_ttl,
            };
            let ttl = chrono::Duration::from_std(lifetime).map_err(ApiError::internal)?;
            let invitation_id = new_id();
            diesel::insert_into(invitations::table)
                .values((
                    invitations::id.eq(&invitation_id),
                    invitations::user_id.eq(&user_id),
                    invitations::invited_by.eq(&caller.user_id),
                    invitations::token_hash.eq(tokens::digest(&token)),
                    invitations::created_at.eq(at),
                    invitations::expires_at.eq(at + ttl),
                ))
                .execute(conn)?;
            let handover = match &email {
                Some(email) => {
                    let to = (email.as_str(), area_id.as_deref());
                    send_invitation_mail(conn, &settings, &caller, &request, to, &token)?;
                    None
                }
                // The fragment never reaches a server log or a Referer; the app reads it.
                None => Some(settings.mail.link(&format!("/app/#join={token}"))),
            };
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::InvitationCreated,
                    entity_id: Some(&invitation_id),
                    area_id: area_id.as_deref(),
                    changes: json!({
                        "user_id": user_id,
                        "role": request.role.as_str(),
                        "replaced_earlier_invitation": replaced,
                        "delivery": if handover.is_some() { "link" } else { "email" },
                    }),
                },
            )?;
            let invitation: Invitation = invitations::table
                .find(&invitation_id)
                .select(Invitation::as_select())
                .first(conn)?;
            let mut response = invitation_response(conn, invitation)?;
            if let Some(link) = handover {
                response.qr_svg = Some(qr_svg(&link)?);
                response.link = Some(link);
            }
            Ok(response)
        })
        .await?;
    Ok(HttpResponse::Created().json(invitation))
}

fn replace_open_invitations(conn: &mut DbConnection, user_id: &str) -> Result<(), ApiError> {
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::replaced_at.is_null()),
    )
    .set(invitations::replaced_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

fn send_invitation_mail(
    conn: &mut DbConnection,
    settings: &crate::config::Settings,
    caller: &Caller,
    request: &CreateInvitationRequest,
    (email, area_id): (&str, Option<&str>),
    token: &str,
) -> Result<(), ApiError> {
    let language = request.language.unwrap_or_default();
    let inviter: String = users::table
        .find(&caller.user_id)
        .select(users::name)
        .first(conn)?;
    let ward = ward_name_of(conn, area_id)?;
    let link = settings.mail.link(&format!(
        "/accept-invitation?token={token}&lang={}",
        language.as_str()
    ));
    let message = templates::invitation(
        &templates::Context {
            lang: language,
            to: email,
            recipient_name: request.name.trim(),
            ward: &ward,
        },
        &inviter,
        request.role.as_str(),
        &link,
        settings.mail.invitation_ttl.as_secs() / 3600,
    );
    mail::enqueue(conn, &message)
}

/// The link as a QR code, an SVG image the head's screen shows for the volunteer's camera.
fn qr_svg(link: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(link, qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// What an invitation finds under its e-mail or phone.
enum Existing {
    /// Invited, never activated: inviting it again replaces its link and placement.
    Invited,
    /// An active volunteer without e-mail: a new sign-in link only, the account unchanged.
    Relink,
}

/// An account with this e-mail or phone that was invited and never activated, in the
/// caller's reach: inviting it again replaces its link. Any other existing account is
/// `email-taken` or `phone-taken`.
fn existing_invited_account(
    conn: &mut DbConnection,
    caller: &Caller,
    (email, phone, role): (Option<&str>, Option<&str>, Role),
) -> Result<Option<(User, Existing)>, ApiError> {
    let by_email: Option<User> = match email {
        Some(email) => users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    let by_phone: Option<User> = match phone {
        Some(phone) => users::table
            .filter(users::phone.eq(phone))
            .select(User::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    let taken = match (&by_email, &by_phone) {
        (Some(a), Some(b)) if a.id != b.id => return Err(ProblemCode::PhoneTaken.into()),
        (Some(_), _) => ProblemCode::EmailTaken,
        _ => ProblemCode::PhoneTaken,
    };
    let Some(user) = by_email.or(by_phone) else {
        return Ok(None);
    };
    let reachable = find_in_scope_user(conn, &caller.scope, &user.id).is_ok()
        && (caller.role == Role::Admin || user.role == Role::Volunteer.as_str());
    // A volunteer without e-mail who forgot the password gets a new one-time link from the
    // head: there is no reset mail to send (accepting it ends the old sign-ins).
    // Only a volunteer's, never the caller's own, and only as a volunteer again: a link is
    // no way to take over or re-place another kind of account.
    let relink = AccountStatus::of(&user) == AccountStatus::Active
        && user.email.is_none()
        && email.is_none()
        && user.role == Role::Volunteer.as_str()
        && role == Role::Volunteer
        && user.id != caller.user_id;
    match AccountStatus::of(&user) {
        AccountStatus::Invited if reachable => Ok(Some((user, Existing::Invited))),
        AccountStatus::Active if relink && reachable => Ok(Some((user, Existing::Relink))),
        _ => Err(taken.into()),
    }
}
