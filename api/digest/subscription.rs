//! `GET/PUT /api/v1/me/digest`: an official or a head turns the weekly digest on or off.

use actix_web::{get, put, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::problem::{ApiError, ApiJson};
use crate::schema::users;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestSubscriptionRequest {
    pub subscribed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DigestSubscription {
    pub subscribed: bool,
    /// When it is sent (Vietnam time), e.g. `Mon 07:00`; `null` when the schedule is off.
    pub schedule: Option<String>,
}

fn answer(state: &AppState, subscribed: bool) -> DigestSubscription {
    DigestSubscription {
        subscribed,
        schedule: state
            .settings
            .adoption
            .digest_schedule
            .map(|(day, time)| format!("{day} {}", time.format("%H:%M"))),
    }
}

/// Whether the caller receives the weekly digest
#[utoipa::path(
    tag = "adoption",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's choice", body = DigestSubscription),
        (status = 403, description = "Only officials and heads receive the digest (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/digest")]
pub async fn get_digest(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Official, Role::Head])?;
    let subscribed = state
        .db
        .read(move |conn| {
            Ok(users::table
                .find(&caller.user_id)
                .select(users::digest_subscribed)
                .first::<bool>(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer(&state, subscribed)))
}

/// Turn the weekly digest on or off
#[utoipa::path(
    tag = "adoption",
    request_body = DigestSubscriptionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's choice, saved", body = DigestSubscription),
        (status = 403, description = "Only officials and heads receive the digest (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/me/digest")]
pub async fn put_digest(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<DigestSubscriptionRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Official, Role::Head])?;
    let subscribed = body?.0.subscribed;
    state
        .db
        .write(move |conn| {
            diesel::update(users::table.find(&caller.user_id))
                .set(users::digest_subscribed.eq(subscribed))
                .execute(conn)?;
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::UserUpdated,
                    entity_id: Some(&caller.user_id),
                    area_id: None,
                    changes: serde_json::json!({"digest_subscribed": subscribed}),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer(&state, subscribed)))
}
