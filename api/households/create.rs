//! `POST /api/v1/households`: add a household to a neighbourhood in the caller's scope. The
//! id may come from the phone (a UUIDv7 made offline).

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{find_household, id_or_new, HouseholdResponse, RecordScope};
use crate::areas::{find_in_scope, AreaKind};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::db::now;
use crate::etag;
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::schema::households;
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHouseholdRequest {
    /// A UUIDv7 made by the client; omit to let the server choose.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
    )]
    pub id: Option<uuid::Uuid>,
    /// The neighbourhood.
    pub area_id: uuid::Uuid,
    /// The household's code in the official register.
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    #[schema(example = "Số 12, ngõ 3, đường Trần Phú")]
    pub address: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Nguyễn Văn Ánh")]
    pub head_name: String,
    #[validate(length(min = 6, max = 20), custom(function = "super::validate_phone"))]
    #[schema(min_length = 6, max_length = 20)]
    #[schema(pattern = r"^\+?[0-9][0-9 .\-]{4,18}[0-9]$", example = "0912 345 678")]
    pub phone: Option<String>,
}

/// Add a household
#[utoipa::path(
    tag = "households",
    request_body = CreateHouseholdRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = HouseholdResponse,
            headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Officials do not work on households (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The neighbourhood is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id or the household code is taken (`id-taken`, `household-code-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/households")]
pub async fn create_household(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<CreateHouseholdRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    // The right to act is checked before the body (403 before 422).
    caller.require(crate::auth::RECORD_WORKERS)?;
    let request = body?.0;
    let actor = caller.actor(&client);
    let household = state
        .db
        .write(move |conn| create(conn, &caller, &actor, &request))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag::for_version(household.version)))
        .insert_header((
            header::LOCATION,
            format!("/api/v1/households/{}", household.id),
        ))
        .json(HouseholdResponse::try_from(household)?))
}

/// Adds a household (the API and a phone's sync push both come here).
pub fn create(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    actor: &audit::Actor,
    request: &CreateHouseholdRequest,
) -> Result<super::Household, ApiError> {
    let scope = RecordScope::of(conn, caller)?;
    let id = id_or_new(request.id, "/id")?;
    let area = find_in_scope(conn, &caller.scope, &request.area_id.to_string())?;
    let in_record_scope = match &scope {
        RecordScope::Assigned(areas) => areas.contains(&area.id),
        RecordScope::Subtree(_) => true,
    };
    if !in_record_scope {
        return Err(ProblemCode::AreaNotFound.into());
    }
    area.require_live("/area_id")?;
    if area.kind() != Some(AreaKind::Neighbourhood) {
        return Err(ApiError::invalid_field(
            "/area_id",
            "not-a-neighbourhood",
            Text::new(
                "Hộ gia đình phải thuộc một khu phố",
                "A household belongs to a neighbourhood",
            ),
        ));
    }
    insert_unless_taken(conn, caller, &id, &area, request)?;
    audit::record(
        conn,
        actor,
        Entry {
            action: Action::HouseholdCreated,
            entity_id: Some(&id),
            area_id: Some(&area.id),
            changes: json!({"changed": ["code", "address", "head_name", "phone"]}),
        },
    )?;
    find_household(conn, &scope, &id)
}

/// Inserts the household unless its id or its register code is already taken (409).
fn insert_unless_taken(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    id: &str,
    area: &crate::areas::Area,
    request: &CreateHouseholdRequest,
) -> Result<(), ApiError> {
    let taken: i64 = households::table.find(id).count().get_result(conn)?;
    if taken > 0 {
        return Err(ProblemCode::IdTaken.into());
    }
    if let Some(code) = &request.code {
        let code_taken: i64 = households::table
            .filter(households::area_id.eq(&area.id))
            .filter(households::code.eq(code))
            .count()
            .get_result(conn)?;
        if code_taken > 0 {
            return Err(ProblemCode::HouseholdCodeTaken.into());
        }
    }
    super::insert_household(
        conn,
        super::NewHousehold {
            id,
            area,
            code: request.code.as_deref(),
            address: &request.address,
            head_name: &request.head_name,
            phone: request.phone.as_deref(),
            broadband: crate::status::derive::Broadband::Unknown,
            last_visited_on: None,
            created_by: Some(&caller.user_id),
            created_at: now(),
        },
    )?;
    crate::adoption::counters::sync_household(conn, id)
}
