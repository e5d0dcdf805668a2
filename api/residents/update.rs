//! `PATCH /api/v1/residents/{id}`: correct a person's details. Requires `If-Match`.

use actix_web::http::header;
use actix_web::{patch, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::birth::BirthDate;
use super::{
    birth_error, check_presence, citizen_id, citizen_id_error, enum_parse, enum_text,
    find_resident, resident_search_text, Presence, Relation, ResidentResponse, Sex,
};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::db::now;
use crate::etag;
use crate::households::RecordScope;
use crate::patch::double_option;
use crate::problem::{ApiError, ApiJson, IfMatch, ProblemCode};
use crate::schema::residents;
use crate::state::AppState;
use crate::status::today;

#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResidentRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[validate(length(min = 4, max = 10))]
    #[schema(min_length = 4, max_length = 10)]
    #[schema(pattern = r"^(19|20)[0-9]{2}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")]
    pub birth_date: Option<String>,
    pub sex: Option<Sex>,
    pub relation_to_head: Option<Relation>,
    pub presence: Option<Presence>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub presence_since: Option<Option<NaiveDate>>,
    pub consent: Option<bool>,
    /// 12 digits; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    #[schema(value_type = Option<String>)]
    #[schema(pattern = r"^\s*[0-9]{12}\s*$")]
    pub citizen_id: Option<Option<String>>,
}

/// Correct a resident
#[utoipa::path(
    tag = "residents",
    params(
        ("id" = uuid::Uuid, Path, description = "Resident id"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body = UpdateResidentRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = ResidentResponse, headers(("ETag" = String))),
        (status = 403, description = "Officials do not work on residents (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in the caller's scope (`resident-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person's data was erased (`resident-erased`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read (`precondition-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing (`precondition-required`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/residents/{id}")]
pub async fn update_resident(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    if_match: IfMatch,
    body: Result<ApiJson<UpdateResidentRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let expected = if_match.version()?;
    let hmac_key = state.settings.secrets.citizen_id_key_bytes().to_vec();
    let actor = caller.actor(&client);
    let resident = state
        .db
        .write(move |conn| update(conn, &caller, &actor, &hmac_key, &id, expected, &request))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::for_version(resident.version)))
        .json(ResidentResponse::try_from(resident)?))
}

/// Corrects a person whose version is `expected_version` (the API's `If-Match`; a phone's
/// sync push passes the current version after settling field conflicts).
pub fn update(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    actor: &crate::audit::Actor,
    hmac_key: &[u8],
    id: &str,
    expected_version: i32,
    request: &UpdateResidentRequest,
) -> Result<super::Resident, ApiError> {
    let today = today();
    let new_birth = request
        .birth_date
        .as_deref()
        .map(|b| BirthDate::parse(b, today))
        .transpose()
        .map_err(|code| ApiError::validation(vec![birth_error(code)]))?;
    let new_citizen = match &request.citizen_id {
        Some(Some(c)) if !citizen_id::is_valid(c.trim()) => {
            return Err(ApiError::validation(vec![citizen_id_error()]))
        }
        Some(Some(c)) => Some(Some((
            citizen_id::keyed_hash(hmac_key, c.trim()),
            citizen_id::last4(c.trim()),
        ))),
        Some(None) => Some(None),
        None => None,
    };
    let scope = RecordScope::of(conn, caller)?;
    let (current, household) = find_resident(conn, &scope, id)?;
    if current.erased_at.is_some() {
        return Err(ProblemCode::ResidentErased.into());
    }
    if current.version != expected_version {
        return Err(ProblemCode::PreconditionFailed.into());
    }
    let birth = new_birth.unwrap_or_else(|| current.birth());
    let presence: Presence = request
        .presence
        .or_else(|| enum_parse(&current.presence))
        .unwrap_or(Presence::Present);
    let presence_since = match (request.presence, request.presence_since) {
        (_, Some(since)) => since,
        (Some(Presence::Present), None) => None,
        _ => current.presence_since,
    };
    let errors = check_presence(presence, presence_since, &birth, today);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let full_name = request
        .full_name
        .as_deref()
        .map(str::trim)
        .map(str::to_owned)
        .or(current.full_name.clone());
    let mut changed: Vec<&str> = Vec::new();
    let mut note = |field: &'static str, differs: bool| {
        if differs {
            changed.push(field);
        }
    };
    note("full_name", full_name != current.full_name);
    note("birth_date", birth != current.birth());
    note(
        "sex",
        request.sex.is_some_and(|s| enum_text(&s) != current.sex),
    );
    note(
        "relation_to_head",
        request
            .relation_to_head
            .is_some_and(|r| enum_text(&r) != current.relation_to_head),
    );
    note(
        "presence",
        enum_text(&presence) != current.presence || presence_since != current.presence_since,
    );
    note(
        "consent",
        request.consent.is_some_and(|c| c != current.consent),
    );
    note("citizen_id", new_citizen.is_some());
    let at = now();
    let consent = request.consent.unwrap_or(current.consent);
    // Conditional on the version read: of two concurrent edits, one wins.
    let updated = diesel::update(
        residents::table
            .filter(residents::id.eq(&current.id))
            .filter(residents::version.eq(current.version)),
    )
    .set((
        residents::full_name.eq(&full_name),
        residents::search_text.eq(resident_search_text(
            full_name.as_deref().unwrap_or_default(),
        )),
        residents::birth_year.eq(birth.year),
        residents::birth_month.eq(birth.month.map(|m| m as i32)),
        residents::birth_day.eq(birth.day.map(|d| d as i32)),
        residents::birth_date.eq(birth.effective()),
        residents::birth_date_estimated.eq(birth.estimated()),
        residents::adult_on.eq(birth.adult_on()),
        residents::sex.eq(request
            .sex
            .map(|s| enum_text(&s))
            .unwrap_or(current.sex.clone())),
        residents::relation_to_head.eq(request
            .relation_to_head
            .map(|r| enum_text(&r))
            .unwrap_or(current.relation_to_head.clone())),
        residents::presence.eq(enum_text(&presence)),
        residents::presence_since.eq(presence_since),
        residents::consent.eq(consent),
        residents::version.eq(current.version + 1),
        residents::updated_at.eq(at),
    ))
    .execute(conn)?;
    if updated != 1 {
        return Err(ProblemCode::PreconditionFailed.into());
    }
    crate::adoption::counters::sync_resident(conn, &current.id)?;
    if request.consent == Some(true) && !current.consent {
        diesel::update(residents::table.find(&current.id))
            .set(residents::consent_recorded_at.eq(at))
            .execute(conn)?;
    }
    if let Some(citizen) = &new_citizen {
        diesel::update(residents::table.find(&current.id))
            .set((
                residents::citizen_id_hash.eq(citizen.as_ref().map(|(h, _)| h.clone())),
                residents::citizen_id_last4.eq(citizen.as_ref().map(|(_, l)| l.clone())),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::ResidentUpdated,
            entity_id: Some(&current.id),
            area_id: Some(&household.area_id),
            changes: json!({"changed": changed}),
        },
    )?;
    crate::duplicates::detect_for(conn, &current.id)?;
    find_resident(conn, &scope, &current.id).map(|(resident, _)| resident)
}
