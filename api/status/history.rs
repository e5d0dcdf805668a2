//! `GET /api/v1/residents/{id}/status-events`: a resident's whole status history, voided
//! events included (flagged), in the order they became true.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;

use super::record::StatusEventList;
use super::{StatusEventResponse, StatusEventRow};
use crate::auth::Caller;
use crate::households::RecordScope;
use crate::problem::ApiError;
use crate::residents::find_resident;
use crate::schema::status_events;
use crate::state::AppState;

/// A resident's status history
#[utoipa::path(
    tag = "status",
    params(("id" = uuid::Uuid, Path, description = "Resident id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every status event of the resident", body = StatusEventList),
        (status = 403, description = "Officials do not see residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in the caller's scope (`resident-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}/status-events")]
pub async fn resident_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let rows = state
        .db
        .read(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let (resident, _) = find_resident(conn, &scope, &id)?;
            Ok(status_events::table
                .filter(status_events::resident_id.eq(&resident.id))
                .order((
                    status_events::effective_on.asc(),
                    status_events::received_at.asc(),
                ))
                .select(StatusEventRow::as_select())
                .load::<StatusEventRow>(conn)?)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(StatusEventResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(StatusEventList { items }))
}
