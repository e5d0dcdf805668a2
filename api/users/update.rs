//! `PATCH /api/v1/users/{id}`: an administrator changes an account in their scope: name,
//! role, area, assignments, language, or disables it. Disabling revokes every sign-in of
//! the account at once. Administrators cannot change their own role, area or status, so
//! nobody locks themselves out by accident.

use actix_web::http::header;
use actix_web::{patch, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{
    check_placement, find_in_scope_user, replace_assignments, user_response, UserResponse,
};
use crate::audit::{self, Action};
use crate::auth::sessions::{self, ClientInfo};
use crate::auth::{Caller, Role};
use crate::db::now;
use crate::etag;
use crate::i18n::{Lang, Text};
use crate::patch::double_option;
use crate::problem::{ApiError, ApiJson, IfMatch, ProblemCode};
use crate::schema::{users, volunteer_assignments};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Changing away from `volunteer` removes the assignments.
    pub role: Option<Role>,
    /// `null` makes a national administrator (national callers only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub area_id: Option<Option<uuid::Uuid>>,
    /// Replaces the volunteer's assignments.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub assignment_ids: Option<Vec<uuid::Uuid>>,
    pub language: Option<Lang>,
    /// `false` disables the account and revokes all its sign-ins.
    pub active: Option<bool>,
}

/// Update an account (administrators)
#[utoipa::path(
    tag = "users",
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = UserResponse, headers(("ETag" = String))),
        (status = 403, description = "Not an administrator, or an administrator changing their own role, area or status (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account in the caller's scope (`user-not-found`), or the new \
            area or an assignment is not in it (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The account changed since it was read (`precondition-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing (`precondition-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    if_match: IfMatch,
    client: ClientInfo,
    body: Result<ApiJson<UpdateUserRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor(&client);
    let id = id.into_inner().to_string();
    let request = body?.0;
    let expected = if_match.version()?;
    let changes_own_standing =
        request.role.is_some() || request.area_id.is_some() || request.active.is_some();
    if id == caller.user_id && changes_own_standing {
        return Err(
            ApiError::from(ProblemCode::Forbidden).with_detail(Text::new(
                "Bạn không thể tự thay đổi vai trò, địa bàn hoặc trạng thái của mình",
                "You cannot change your own role, area or status",
            )),
        );
    }
    let user = state
        .db
        .write(move |conn| {
            let current = find_in_scope_user(conn, &caller.scope, &id)?;
            if current.version != expected {
                return Err(ProblemCode::PreconditionFailed.into());
            }
            let role = request
                .role
                .or_else(|| Role::parse(&current.role))
                .ok_or_else(|| ApiError::internal("unknown role stored"))?;
            let area_id = match request.area_id {
                Some(new_area) => new_area.map(|a| a.to_string()),
                None => current.area_id.clone(),
            };
            let assignment_ids: Vec<String> = match (&request.assignment_ids, role) {
                (Some(ids), _) => ids.iter().map(|a| a.to_string()).collect(),
                (None, Role::Volunteer) => volunteer_assignments::table
                    .filter(volunteer_assignments::user_id.eq(&current.id))
                    .select(volunteer_assignments::area_id)
                    .load(conn)?,
                (None, _) => Vec::new(),
            };
            let placement = check_placement(
                conn,
                &caller.scope,
                role,
                area_id.as_deref(),
                &assignment_ids,
            )?;
            let active = request.active.unwrap_or(current.active);
            let new_name = request
                .name
                .as_deref()
                .map(|n| n.trim().to_owned())
                .unwrap_or(current.name.clone());
            let new_language = request
                .language
                .map(|l| l.as_str().to_owned())
                .unwrap_or(current.language.clone());
            let updated = diesel::update(
                users::table
                    .filter(users::id.eq(&current.id))
                    .filter(users::version.eq(current.version)),
            )
            .set((
                users::name.eq(&new_name),
                users::role.eq(role.as_str()),
                users::area_id.eq(placement.area.as_ref().map(|a| a.id.clone())),
                users::language.eq(&new_language),
                users::active.eq(active),
                users::version.eq(current.version + 1),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
            if updated != 1 {
                return Err(ProblemCode::PreconditionFailed.into());
            }
            let old_assignments: Vec<String> = volunteer_assignments::table
                .filter(volunteer_assignments::user_id.eq(&current.id))
                .select(volunteer_assignments::area_id)
                .order(volunteer_assignments::area_id.asc())
                .load(conn)?;
            replace_assignments(conn, &current.id, &placement.assignments)?;
            let mut new_assignments: Vec<&str> = placement
                .assignments
                .iter()
                .map(|a| a.id.as_str())
                .collect();
            new_assignments.sort();
            let changes = audit::diff(&[
                ("name", json!(current.name), json!(new_name)),
                ("role", json!(current.role), json!(role.as_str())),
                (
                    "area_id",
                    json!(current.area_id),
                    json!(placement.area.as_ref().map(|a| &a.id)),
                ),
                ("language", json!(current.language), json!(new_language)),
                ("active", json!(current.active), json!(active)),
                (
                    "assignment_ids",
                    json!(old_assignments),
                    json!(new_assignments),
                ),
            ]);
            audit::record_for_user(conn, &actor, Action::UserUpdated, &current.id, changes)?;
            if current.active && !active {
                sessions::revoke_all_for_user(conn, &current.id, "account-disabled")?;
            }
            if request.active == Some(false) && current.password_hash.is_empty() {
                // An invited account is inactive until accepted: disabling it withdraws
                // its invitation, or the invitee could still accept and become active.
                crate::invitations::withdraw_open(conn, &current.id)?;
            }
            let user = find_in_scope_user(conn, &caller.scope, &current.id)?;
            user_response(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .json(user))
}
