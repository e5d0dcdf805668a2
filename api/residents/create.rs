//! `POST /api/v1/households/{id}/residents`: add a person to a household.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::birth::BirthDate;
use super::{
    birth_error, check_presence, citizen_id, citizen_id_error, enum_text, find_resident,
    insert_resident, CurrentStatus, NewResident, Presence, Relation, ResidentResponse, Sex,
};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::db::now;
use crate::etag;
use crate::households::{find_household, id_or_new, RecordScope};
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::residents;
use crate::state::AppState;
use crate::status::today;

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResidentRequest {
    /// A UUIDv7 made by the client; omit to let the server choose.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
    )]
    pub id: Option<uuid::Uuid>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Nguyễn Thị Lan")]
    pub full_name: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[validate(length(min = 4, max = 10))]
    #[schema(min_length = 4, max_length = 10)]
    #[schema(example = "1968-04")]
    #[schema(pattern = r"^(19|20)[0-9]{2}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")]
    pub birth_date: String,
    pub sex: Sex,
    pub relation_to_head: Relation,
    /// Default `present`.
    pub presence: Option<Presence>,
    /// Required for `moved_away` and `deceased`.
    pub presence_since: Option<chrono::NaiveDate>,
    /// The person agreed to their data being recorded.
    #[serde(default)]
    pub consent: bool,
    /// 12 digits; only a keyed hash and the last 4 digits are kept.
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    #[schema(pattern = r"^\s*[0-9]{12}\s*$")]
    pub citizen_id: Option<String>,
}

/// Add a resident to a household
#[utoipa::path(
    tag = "residents",
    params(("id" = uuid::Uuid, Path, description = "Household id")),
    request_body = CreateResidentRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ResidentResponse,
            headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Officials do not work on residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such household in the caller's scope (`household-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id is taken (`id-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/households/{id}/residents")]
pub async fn create_resident(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    household_id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<CreateResidentRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let household_id = household_id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let hmac_key = state.settings.secrets.citizen_id_key_bytes().to_vec();
    let actor = caller.actor(&client);
    let resident = state
        .db
        .write(move |conn| create(conn, &caller, &actor, &hmac_key, &household_id, &request))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag::for_version(resident.version)))
        .insert_header((
            header::LOCATION,
            format!("/api/v1/residents/{}", resident.id),
        ))
        .json(ResidentResponse::try_from(resident)?))
}

/// Adds a person to a household (the API and a phone's sync push both come here).
pub fn create(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    actor: &crate::audit::Actor,
    hmac_key: &[u8],
    household_id: &str,
    request: &CreateResidentRequest,
) -> Result<super::Resident, ApiError> {
    let today = today();
    let birth = BirthDate::parse(&request.birth_date, today)
        .map_err(|code| ApiError::validation(vec![birth_error(code)]))?;
    let presence = request.presence.unwrap_or(Presence::Present);
    let mut errors = check_presence(presence, request.presence_since, &birth, today);
    let citizen = request
        .citizen_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if citizen.is_some_and(|c| !citizen_id::is_valid(c)) {
        errors.push(citizen_id_error());
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let citizen_hash = citizen.map(|c| (citizen_id::keyed_hash(hmac_key, c), citizen_id::last4(c)));
    let scope = RecordScope::of(conn, caller)?;
    let household = find_household(conn, &scope, household_id)?;
    let id = id_or_new(request.id, "/id")?;
    let taken: i64 = residents::table.find(&id).count().get_result(conn)?;
    if taken > 0 {
        return Err(ProblemCode::IdTaken.into());
    }
    insert_resident(
        conn,
        NewResident {
            id: &id,
            household_id: &household.id,
            full_name: &request.full_name,
            birth,
            sex: &enum_text(&request.sex),
            relation_to_head: &enum_text(&request.relation_to_head),
            presence: &enum_text(&presence),
            presence_since: request.presence_since,
            consent: request.consent,
            citizen_id: citizen_hash
                .as_ref()
                .map(|(hash, last4)| (hash.as_str(), last4.as_str())),
            status: CurrentStatus::from_events(&[], today),
            created_by: Some(&caller.user_id),
            created_at: now(),
        },
    )?;
    crate::adoption::counters::sync_resident(conn, &id)?;
    // Personal values stay out of the append-only log: erasure could not reach them.
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::ResidentCreated,
            entity_id: Some(&id),
            area_id: Some(&household.area_id),
            changes: json!({"household_id": household.id, "consent": request.consent}),
        },
    )?;
    crate::duplicates::detect_for(conn, &id)?;
    find_resident(conn, &scope, &id).map(|(resident, _)| resident)
}
