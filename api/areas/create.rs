//! `POST /api/v1/areas`: an administrator adds an area under one in their scope. Only a
//! national administrator may add a province.

use actix_web::http::header;
use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::{
    find_by_code, find_in_scope, insert_area, validate_area_code, AreaKind, AreaResponse, NewArea,
};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::etag;
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAreaRequest {
    /// The parent area; omit (or `null`) only for a province.
    pub parent_id: Option<uuid::Uuid>,
    pub kind: AreaKind,
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32)]
    #[schema(example = "TH-BS-PS-KP09")]
    #[schema(pattern = r"^[A-Za-z0-9_-]+$")]
    pub code: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Khu phố 9")]
    pub name: String,
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub official_adult_population: Option<i64>,
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub official_household_count: Option<i64>,
}

/// Create an area
#[utoipa::path(
    tag = "areas",
    request_body = CreateAreaRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AreaResponse,
            headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Only administrators create areas (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The parent is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken (`area-code-taken`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/areas")]
pub async fn create_area(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    body: Result<ApiJson<CreateAreaRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor(&client);
    let request = body?.0;
    let area = state
        .db
        .write(move |conn| {
            let parent = match request.parent_id {
                Some(parent_id) => {
                    let parent = find_in_scope(conn, &caller.scope, &parent_id.to_string())?;
                    parent.require_live("/parent_id")?;
                    Some(parent)
                }
                None if caller.scope.is_national() => None,
                None => {
                    return Err(ApiError::invalid_field(
                        "/parent_id",
                        "required",
                        Text::new(
                            "Cần chọn địa bàn cấp trên trong phạm vi của bạn",
                            "A parent area within your scope is required",
                        ),
                    ))
                }
            };
            if !request.kind.fits_under(parent.as_ref().and_then(|p| p.kind())) {
                return Err(ApiError::invalid_field(
                    "/kind",
                    "kind-does-not-fit-parent",
                    Text::new(
                        "Loại địa bàn không phù hợp với cấp trên (tỉnh → thị xã/huyện → phường → khu phố)",
                        "This kind of area cannot sit under that parent (province → town/district → ward → neighbourhood)",
                    ),
                ));
            }
            if find_by_code(conn, &request.code)?.is_some() {
                return Err(ProblemCode::AreaCodeTaken.into());
            }
            let area = insert_area(
                conn,
                NewArea {
                    parent: parent.as_ref(),
                    kind: request.kind,
                    code: &request.code,
                    name: &request.name,
                    official_adult_population: request.official_adult_population,
                    official_household_count: request.official_household_count,
                },
            )?;
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::AreaCreated,
                    entity_id: Some(&area.id),
                    area_id: Some(&area.id),
                    changes: json!({
                        "kind": area.kind,
                        "code": area.code,
                        "name": area.name,
                        "parent_id": area.parent_id,
                    }),
                },
            )?;
            Ok(area)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag::for_version(area.version)))
        .insert_header((header::LOCATION, format!("/api/v1/areas/{}", area.id)))
        .json(AreaResponse::try_from(area)?))
}
