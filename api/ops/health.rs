//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers too).

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Backend;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness: the process is up
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database answers
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ready to serve", body = Readiness))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = Integer)]
        one: i32,
    }
    let answered = state
        .db
        .read(|conn| {
            diesel::sql_query("SELECT 1 AS one")
                .get_result::<One>(conn)
                .map(|row| row.one == 1)
                .map_err(ApiError::unavailable)
        })
        .await?;
    if !answered {
        return Err(ProblemCode::ServiceUnavailable.into());
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready".into(),
        database: match state.db.backend() {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres => "postgres".into(),
        },
    }))
}
