//! Sign-ins per device: a user lists and revokes their own (`/api/v1/me/sessions`); an
//! administrator, or a head for the volunteers they manage, does the same for another
//! account (`/api/v1/users/{id}/sessions`). A stolen phone is cut off by revoking its
//! sign-in: its refresh token stops working at once, its access token within 15 minutes.

pub mod mine;
pub mod of_user;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::areas::parse_uuid;
use crate::auth::sessions::SessionRow;
use crate::problem::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub id: uuid::Uuid,
    /// The device's browser or app, as it announced itself.
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Whether this is the sign-in making the request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Live sign-ins, most recently used first (at most 200).
    pub items: Vec<SessionResponse>,
}

pub fn session_list(
    rows: Vec<SessionRow>,
    current_session: Option<&str>,
) -> Result<SessionList, ApiError> {
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(SessionResponse {
                id: parse_uuid(&row.id)?,
                current: current_session == Some(row.id.as_str()),
                user_agent: row.user_agent,
                client_ip: row.client_ip,
                created_at: row.created_at.and_utc(),
                last_used_at: row.last_used_at.and_utc(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(SessionList { items })
}
