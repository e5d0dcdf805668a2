//! `GET /api/v1/sync/state`: what the server has taken from a device. A phone that crashed
//! between the server's commit and its own acknowledgement drops every queued mutation up
//! to `last_seq` and sends the rest.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{device, AppVersion};
use crate::auth::{Caller, Role};
use crate::problem::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    pub device_id: uuid::Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncState {
    pub device_id: uuid::Uuid,
    /// The last mutation number taken (0: none yet). The next push starts at `last_seq + 1`.
    pub last_seq: i64,
    /// When the device first synced.
    pub registered_at: DateTime<Utc>,
}

/// What the server has taken from this device
#[utoipa::path(
    tag = "sync",
    params(
        StateQuery,
        ("X-App-Version" = String, Header, description = "The phone app's version, e.g. `1.4.2`"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The device's state (registered on first use)", body = SyncState),
        (status = 403, description = "Officials do not sync, or the device belongs to another user (`forbidden`, `device-not-yours`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 426, description = "The app is too old (`app-version-unsupported`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sync/state")]
pub async fn sync_state(
    state: web::Data<AppState>,
    caller: Caller,
    version: AppVersion,
    query: ApiQuery<StateQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Volunteer, Role::Head, Role::Admin])?;
    let device_id = query.0.device_id;
    let device = state
        .db
        .write(move |conn| device::claim(conn, &device_id.to_string(), &caller.user_id, &version.0))
        .await?;
    Ok(HttpResponse::Ok().json(SyncState {
        device_id,
        last_seq: device.last_seq,
        registered_at: device.created_at.and_utc(),
    }))
}
