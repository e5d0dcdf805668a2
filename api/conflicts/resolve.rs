//! `POST /api/v1/conflicts/{id}/resolve`: the head keeps the server's value, takes the
//! phone's, or writes another. Taking or writing a value is an ordinary update of the
//! record (audited as such); the resolution itself is audited too.

use actix_web::{post, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use validator::Validate;

use super::{apply_patch, reviewer_scope, ConflictResponse, ConflictRow, Editable, Resolution};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::db::now;
use crate::households::{find_household, RecordScope};
use crate::i18n::Text;
use crate::problem::{ApiError, ApiJson, ProblemCode};
use crate::residents::find_resident;
use crate::schema::sync_conflicts;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveConflictRequest {
    pub resolution: Resolution,
    /// For `edit`: the value to write, with the same members as `phone_value`.
    #[schema(schema_with = crate::conflicts::edit_value_schema)]
    pub value: Option<Value>,
}

/// Resolve a conflict (heads and administrators)
#[utoipa::path(
    tag = "conflicts",
    params(("id" = uuid::Uuid, Path, description = "Conflict id")),
    request_body = ResolveConflictRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resolved", body = ConflictResponse),
        (status = 403, description = "Only heads and administrators resolve conflicts (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conflict in the caller's area, or its record is gone (`conflict-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved (`conflict-resolved`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The value does not fit the field (`validation-failed`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/conflicts/{id}/resolve")]
pub async fn resolve_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    body: Result<ApiJson<ResolveConflictRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let pattern = reviewer_scope(&caller)?;
    let id = id.into_inner().to_string();
    // The right to act is checked before the body (403 before 422).
    crate::conflicts::reviewer_scope(&caller)?;
    let request = body?.0;
    let hmac_key = state.settings.secrets.citizen_id_key_bytes().to_vec();
    let actor = caller.actor(&client);
    let row = state
        .db
        .write(move |conn| {
            let prefix = pattern.trim_end_matches('%').to_owned();
            let conflict: ConflictRow = sync_conflicts::table
                .find(&id)
                .select(ConflictRow::as_select())
                .first(conn)
                .optional()?
                .filter(|c| c.area_path.starts_with(&prefix))
                .ok_or(ProblemCode::ConflictNotFound)?;
            if conflict.status != "open" {
                return Err(ProblemCode::ConflictResolved.into());
            }
            let entity = Editable::parse(&conflict.entity)
                .ok_or_else(|| ApiError::internal("unknown conflict entity"))?;
            let patch = patch_for(&conflict, request.resolution, request.value.as_ref())?;
            let scope = RecordScope::of(conn, &caller)?;
            let current_version = match entity {
                Editable::Household => find_household(conn, &scope, &conflict.entity_id)
                    .map(|h| h.version),
                Editable::Resident => {
                    find_resident(conn, &scope, &conflict.entity_id).map(|(r, _)| r.version)
                }
            }
            .map_err(|e| e.renamed_not_found(ProblemCode::ConflictNotFound))?;
            apply_patch(
                conn,
                &caller,
                &actor,
                &hmac_key,
                entity,
                &conflict.entity_id,
                current_version,
                &patch,
                "/value",
            )?;
            let resolution = crate::residents::enum_text(&request.resolution);
            diesel::update(sync_conflicts::table.find(&conflict.id))
                .set((
                    sync_conflicts::status.eq("resolved"),
                    sync_conflicts::resolution.eq(&resolution),
                    sync_conflicts::resolved_by.eq(&caller.user_id),
                    sync_conflicts::resolved_at.eq(now()),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::ConflictResolved,
                    entity_id: Some(&conflict.entity_id),
                    area_id: Some(&conflict.area_id),
                    changes: json!({"conflict_id": conflict.id, "field": conflict.field, "resolution": resolution}),
                },
            )?;
            Ok(sync_conflicts::table
                .find(&conflict.id)
                .select(ConflictRow::as_select())
                .first::<ConflictRow>(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConflictResponse::try_from(row)?))
}

/// What to write for a resolution: nothing, the phone's value, or the head's own value
/// (which must name exactly the members of the conflicting field).
fn patch_for(
    conflict: &ConflictRow,
    resolution: Resolution,
    value: Option<&Value>,
) -> Result<Map<String, Value>, ApiError> {
    let phone: Map<String, Value> =
        serde_json::from_str(&conflict.phone_value).map_err(ApiError::internal)?;
    match (resolution, value) {
        (Resolution::KeepServer, None) => Ok(Map::new()),
        (Resolution::TakePhone, None) => Ok(phone),
        (Resolution::Edit, Some(Value::Object(edit)))
            if !edit.is_empty() && edit.keys().all(|k| phone.contains_key(k)) =>
        {
            Ok(edit.clone())
        }
        (Resolution::Edit, _) => Err(ApiError::invalid_field(
            "/value",
            "invalid-value",
            Text::owned(
                format!(
                    "Cần giá trị mới gồm các trường: {}",
                    phone.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                format!(
                    "A new value with the members {} is required",
                    phone.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
        )),
        (_, Some(_)) => Err(ApiError::invalid_field(
            "/value",
            "not-allowed",
            Text::new(
                "Chỉ gửi giá trị khi chọn sửa (edit)",
                "A value is only sent with the edit resolution",
            ),
        )),
    }
}
