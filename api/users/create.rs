//! `POST /api/v1/users`: an administrator creates an account in their scope with an
//! initial password.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{
    check_password_policy, check_placement, find_in_scope_user, insert_account,
    replace_assignments, user_response, validate_password, NewAccount, UserResponse,
};
use crate::audit::{self, Action};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::etag;
use crate::i18n::Lang;
use crate::problem::{ApiError, ApiJson};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    #[schema(example = "tinhnguyenvien@example.vn")]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Nguyễn Văn Ánh")]
    pub name: String,
    pub role: Role,
    /// The area the account is scoped to; omit only for a national administrator.
    pub area_id: Option<uuid::Uuid>,
    /// At least 10 characters.
    #[validate(length(max = 1024), custom(function = "validate_password"))]
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// Language of e-mails to this user (default `vi`).
    pub language: Option<Lang>,
    /// Neighbourhoods a volunteer works in (volunteers only).
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub assignment_ids: Vec<uuid::Uuid>,
}

/// Create an account (administrators)
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserResponse,
            headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Only administrators create accounts (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The area is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail is taken (`email-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<CreateUserRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let request = body?.0;
    check_password_policy(&request.password, Some(&request.email), None)?;
    let actor = caller.actor(&client);
    let password_hash = state.passwords.hash(request.password.clone()).await?;
    let user = state
        .db
        .write(move |conn| {
            let assignment_ids: Vec<String> = request
                .assignment_ids
                .iter()
                .map(|id| id.to_string())
                .collect();
            let area_id = request.area_id.map(|id| id.to_string());
            let placement = check_placement(
                conn,
                &caller.scope,
                request.role,
                area_id.as_deref(),
                &assignment_ids,
            )?;
            let id = insert_account(
                conn,
                NewAccount {
                    email: Some(&request.email),
                    phone: None,
                    name: &request.name,
                    role: request.role,
                    area_id: placement.area.as_ref().map(|a| a.id.as_str()),
                    password_hash: &password_hash,
                    language: request.language.unwrap_or_default(),
                    active: true,
                },
            )?;
            replace_assignments(conn, &id, &placement.assignments)?;
            audit::record_for_user(
                conn,
                &actor,
                Action::UserCreated,
                &id,
                json!({
                    "role": request.role.as_str(),
                    "area_id": placement.area.as_ref().map(|a| &a.id),
                    "assignment_ids": placement.assignments.iter().map(|a| &a.id).collect::<Vec<_>>(),
                }),
            )?;
            let user = find_in_scope_user(conn, &caller.scope, &id)?;
            user_response(conn, user)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag::for_version(user.version)))
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(user))
}
