//! `POST /api/v1/report-templates?name=`, `GET /api/v1/report-templates`: administrators
//! upload the province's spreadsheet layout (XLSX, first worksheet) with placeholders; it is
//! checked cell by cell and kept for their area and everything below it.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{check, Grid};
use crate::areas::parse_uuid;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Text;
use crate::imports::read::{read_xlsx, XLSX_MEDIA_TYPE};
use crate::problem::{declared_length, read_limited, ApiError, ApiQuery, ProblemCode};
use crate::schema::report_templates;
use crate::state::AppState;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = report_templates)]
pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub area_path: String,
    pub cells: String,
    pub row_line: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl TemplateRow {
    pub fn grid(&self) -> Result<Grid, ApiError> {
        serde_json::from_str(&self.cells).map_err(ApiError::internal)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateResponse {
    pub id: uuid::Uuid,
    pub name: String,
    /// The line (1-based) repeated once per area below.
    pub row_line: i32,
    /// Rows and columns of the worksheet.
    pub rows: usize,
    pub columns: usize,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TemplateResponse {
    fn of(row: &TemplateRow) -> Result<TemplateResponse, ApiError> {
        let grid = row.grid()?;
        Ok(TemplateResponse {
            id: parse_uuid(&row.id)?,
            name: row.name.clone(),
            row_line: row.row_line + 1,
            rows: grid.len(),
            columns: grid.iter().map(Vec::len).max().unwrap_or(0),
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// What officials see it as, e.g. "Mẫu báo cáo tháng của tỉnh Thanh Hóa".
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::problem::not_blank")
    )]
    #[param(min_length = 1, max_length = 200)]
    pub name: String,
}

/// An XLSX workbook; its first worksheet is the template.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct TemplateFile(pub Vec<u8>);

/// The largest template accepted.
const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;
/// Rows and columns a report template may have (a report is a page or two).
const MAX_TEMPLATE_ROWS: usize = 500;
const MAX_TEMPLATE_COLUMNS: usize = 40;
/// Characters of all cells together (a shared-strings table makes many long cells cheap to
/// upload; every report reads them all).
const MAX_TEMPLATE_CHARS: usize = 100_000;
/// Templates listed at most (newest first).
const MAX_LISTED: i64 = 200;

/// The paths a template may be filed under to serve the caller: the caller's area and each
/// area above it (`/`, `/a/`, `/a/b/` for `/a/b/`).
fn paths_above(caller: &Caller) -> Vec<String> {
    let own = caller.scope.area_path.as_deref().unwrap_or("/");
    let mut paths = vec!["/".to_owned()];
    let mut at = 1;
    while let Some(next) = own.get(at..).and_then(|rest| rest.find('/')) {
        at += next + 1;
        paths.push(own[..at].to_owned());
    }
    paths
}

/// The templates the caller may use: uploaded for their area, an area above it or below
/// it, newest first.
pub fn visible(conn: &mut DbConnection, caller: &Caller) -> Result<Vec<TemplateRow>, ApiError> {
    Ok(report_templates::table
        .filter(
            report_templates::area_path
                .eq_any(paths_above(caller))
                .or(report_templates::area_path.like(caller.scope.path_pattern())),
        )
        .order(report_templates::id.desc())
        .limit(MAX_LISTED)
        .select(TemplateRow::as_select())
        .load(conn)?)
}

/// The workbook a template was uploaded as.
pub fn file_of(conn: &mut DbConnection, id: &str) -> Result<Vec<u8>, ApiError> {
    Ok(report_templates::table
        .find(id)
        .select(report_templates::file)
        .first(conn)?)
}

/// One template the caller may use, or `report-template-not-found`.
pub fn find_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<TemplateRow, ApiError> {
    report_templates::table
        .find(id)
        .filter(
            report_templates::area_path
                .eq_any(paths_above(caller))
                .or(report_templates::area_path.like(caller.scope.path_pattern())),
        )
        .select(TemplateRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ProblemCode::ReportTemplateNotFound.into())
}

/// Upload a report template (administrators)
///
/// Header cells may name `{{area_name}}`, `{{area_code}}`, `{{period}}`, `{{period_end}}`,
/// `{{status}}`, `{{signed_by}}`, `{{signed_on}}`, `{{generated_on}}`; exactly one line
/// names `{{row.X}}` values and is repeated per area below; `{{area.X}}` gives the area's
/// own total. X is one of `index`, `code`, `name`, `adults`, `official_adults`, `eid`,
/// `eid_rate`, `signature`, `signature_rate`, `households`, `broadband`, `broadband_rate`.
#[utoipa::path(
    tag = "reports",
    params(UploadQuery),
    request_body(description = "The template workbook", content(
        (TemplateFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Checked and kept", body = TemplateResponse),
        (status = 403, description = "Only administrators upload templates (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a readable workbook (`template-unreadable`), or a placeholder it does not know or not exactly one row line (`validation-failed`: `unknown-placeholder`, `row-line-count`, pointing at `/cells/B7`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/report-templates")]
pub async fn upload_template(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    req: HttpRequest,
    query: ApiQuery<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let name = query.0.name;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some(XLSX_MEDIA_TYPE) {
        return Err(
            ApiError::from(ProblemCode::UnsupportedMediaType).with_detail(Text::owned(
                format!("Gửi mẫu với Content-Type {XLSX_MEDIA_TYPE}"),
                format!("Send the template as {XLSX_MEDIA_TYPE}"),
            )),
        );
    }
    let mut raw = payload.into_inner();
    let bytes = read_limited(&mut raw, declared_length(&req), MAX_TEMPLATE_BYTES).await?;
    let file = bytes.to_vec();
    let grid = web::block(move || read_xlsx(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(|reason| {
            ApiError::from(ProblemCode::TemplateUnreadable).with_detail(Text::owned(
                format!("Không đọc được mẫu: {}", reason.vi),
                format!("The template cannot be read: {}", reason.en),
            ))
        })?;
    let chars: usize = grid.iter().flatten().map(|c| c.chars().count()).sum();
    if grid.len() > MAX_TEMPLATE_ROWS
        || grid.iter().any(|l| l.len() > MAX_TEMPLATE_COLUMNS)
        || chars > MAX_TEMPLATE_CHARS
    {
        return Err(
            ApiError::from(ProblemCode::TemplateUnreadable).with_detail(Text::owned(
                format!(
                    "Mẫu quá lớn: tối đa {MAX_TEMPLATE_ROWS} dòng, {MAX_TEMPLATE_COLUMNS} cột và {MAX_TEMPLATE_CHARS} ký tự"
                ),
                format!(
                    "The template is too large: at most {MAX_TEMPLATE_ROWS} rows, {MAX_TEMPLATE_COLUMNS} columns and {MAX_TEMPLATE_CHARS} characters"
                ),
            )),
        );
    }
    let row_line = check(&grid)?;
    // Reports are filled into the file itself: it must take a trial fill.
    let (trial_file, trial_grid) = (file.clone(), grid.clone());
    web::block(move || super::in_place::check(&trial_file, &trial_grid, row_line))
        .await
        .map_err(ApiError::internal)?
        .map_err(|reason| {
            let vi = if reason.contains("formula") {
                "mẫu có công thức ở dòng lặp hoặc bên dưới; hãy bỏ công thức (số liệu được điền sẵn)".to_owned()
            } else if reason.contains("tables") {
                "mẫu có bảng (Table); hãy chuyển bảng thành vùng dữ liệu thường".to_owned()
            } else {
                format!("không điền được vào tệp ({reason})")
            };
            ApiError::from(ProblemCode::TemplateUnreadable).with_detail(Text::owned(
                format!("Không dùng được mẫu: {vi}"),
                format!("The template cannot be used: {reason}"),
            ))
        })?;
    let cells = serde_json::to_string(&grid).map_err(ApiError::internal)?;
    let actor = caller.actor(&client);
    let row = state
        .db
        .write(move |conn| {
            let row = TemplateRow {
                id: new_id(),
                name: name.trim().to_owned(),
                area_path: caller
                    .scope
                    .area_path
                    .clone()
                    .unwrap_or_else(|| "/".to_owned()),
                cells: cells.clone(),
                row_line: row_line as i32,
                created_by: caller.user_id.clone(),
                created_at: now(),
            };
            diesel::insert_into(report_templates::table)
                .values((
                    report_templates::id.eq(&row.id),
                    report_templates::name.eq(&row.name),
                    report_templates::area_path.eq(&row.area_path),
                    report_templates::cells.eq(&row.cells),
                    report_templates::row_line.eq(row.row_line),
                    report_templates::file.eq(&file),
                    report_templates::created_by.eq(&row.created_by),
                    report_templates::created_at.eq(row.created_at),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::ReportTemplateUploaded,
                    entity_id: Some(&row.id),
                    area_id: caller.scope.area_id.as_deref(),
                    changes: json!({"name": row.name}),
                },
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(TemplateResponse::of(&row)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// Newest first; the built-in template (used when no `template_id` is given) is not
    /// listed.
    pub items: Vec<TemplateResponse>,
}

/// Report templates the caller may use
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Templates uploaded for the caller's area, above it or below it", body = TemplateList),
        (status = 403, description = "Volunteers do not report (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/report-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Official, Role::Head])?;
    let rows = state.db.read(move |conn| visible(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(TemplateList {
        items: rows
            .iter()
            .map(TemplateResponse::of)
            .collect::<Result<_, _>>()?,
    }))
}
