//! `POST /api/v1/residents/{id}/erase`: the person's right to erasure (Law 91/2025/QH15,
//! Article 4, and Decree 356/2025/NĐ-CP, which replaced Decree 13/2023). The name, the birth
//! day and month, the citizen-ID hash and digits go; if the person is the household head,
//! the household's head name and phone go too. What the figures need stays, anonymised: the
//! birth year (the birth date becomes 1 July of it, flagged as estimated), sex, presence and
//! every status event. An erasure request in the register (`data_protection::requests`) is
//! closed as completed only once this has run.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::birth::BirthDate;
use super::{find_resident, Relation, ResidentResponse};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::now;
use crate::households::{household_search_text, RecordScope};
use crate::problem::{ApiError, ProblemCode};
use crate::residents::enum_text;
use crate::schema::{data_requests, households, residents};
use crate::state::AppState;

/// What an erased name reads as.
pub const ERASED_NAME: &str = "—";

/// Erase a person's personal data (heads and administrators)
#[utoipa::path(
    tag = "residents",
    params(("id" = uuid::Uuid, Path, description = "Resident id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Erased; the anonymised record remains for the figures", body = ResidentResponse),
        (status = 403, description = "Only heads and administrators erase (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in the caller's scope (`resident-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already erased (`resident-erased`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/residents/{id}/erase")]
pub async fn erase_resident(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let resident = state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let (current, household) = find_resident(conn, &scope, &id)?;
            caller.require(&[Role::Head, Role::Admin])?;
            if current.erased_at.is_some() {
                return Err(ProblemCode::ResidentErased.into());
            }
            let year_only = BirthDate::from_parts(current.birth_year, None, None);
            let at = now();
            diesel::update(residents::table.find(&current.id))
                .set((
                    residents::full_name.eq(None::<String>),
                    residents::search_text.eq(""),
                    residents::birth_month.eq(None::<i32>),
                    residents::birth_day.eq(None::<i32>),
                    residents::birth_date.eq(year_only.effective()),
                    residents::birth_date_estimated.eq(true),
                    residents::adult_on.eq(year_only.adult_on()),
                    residents::citizen_id_hash.eq(None::<String>),
                    residents::citizen_id_last4.eq(None::<String>),
                    residents::erased_at.eq(at),
                    residents::version.eq(current.version + 1),
                    residents::updated_at.eq(at),
                ))
                .execute(conn)?;
            crate::adoption::counters::sync_resident(conn, &current.id)?;
            crate::conflicts::forget_entity(conn, &current.id)?;
            // The register keeps that a request about the person was made and answered, and
            // when, not what was said in it.
            diesel::update(data_requests::table.filter(data_requests::resident_id.eq(&current.id)))
                .set((
                    data_requests::details.eq(None::<String>),
                    data_requests::outcome.eq(None::<String>),
                    data_requests::extension_reason.eq(None::<String>),
                ))
                .execute(conn)?;
            let is_head = current.relation_to_head == enum_text(&Relation::Head)
                || current.full_name.as_deref() == Some(household.head_name.as_str());
            if is_head {
                diesel::update(households::table.find(&household.id))
                    .set((
                        households::head_name.eq(ERASED_NAME),
                        households::phone.eq(None::<String>),
                        households::search_text.eq(household_search_text(&household.address, "")),
                        households::version.eq(household.version + 1),
                        households::updated_at.eq(at),
                    ))
                    .execute(conn)?;
            }
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::ResidentErased,
                    entity_id: Some(&current.id),
                    area_id: Some(&household.area_id),
                    changes: json!({"household_head_erased": is_head}),
                },
            )?;
            find_resident(conn, &scope, &current.id).map(|(resident, _)| resident)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ResidentResponse::try_from(resident)?))
}
