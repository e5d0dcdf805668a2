//! `GET /api/v1/areas/{id}/report?period=&template_id=&preview=`: a month's report of an
//! area in a template's layout — the signed-off figures if the month is signed off, else
//! the figures counted now for its last day (or today, for the month in progress), said so
//! in `{{status}}`. `preview=true` answers the filled cells as JSON (a dry run of the
//! file); otherwise the XLSX. Audited as an export of figures.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::templates::{file_of, find_visible};
use super::{default_template, fill, in_place, xlsx, Filled, Heading};
use crate::areas::{find_in_scope, parse_uuid};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::i18n::Text;
use crate::imports::read::XLSX_MEDIA_TYPE;
use crate::problem::{ApiError, ApiQuery};
use crate::schema::sign_offs;
use crate::sign_offs::{rows_on, user_name, Period, SignOffRow};
use crate::state::AppState;
use crate::status::today;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The month, `YYYY-MM` (default: the month before today's); not after today's month.
    #[param(pattern = r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// An uploaded template (see `GET /api/v1/report-templates`); default: the built-in
    /// ward report.
    pub template_id: Option<uuid::Uuid>,
    /// Answer the filled cells as JSON instead of the file.
    pub preview: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    /// The month's standing sign-off: the figures as reported.
    SignedOff,
    /// Not signed off: the figures as counted now.
    Provisional,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPreview {
    pub period: String,
    pub source: ReportSource,
    pub sign_off_id: Option<uuid::Uuid>,
    /// The filled worksheet, row by row, as text.
    pub cells: Vec<Vec<String>>,
}

/// A month's report of an area in a template's layout (XLSX, or a JSON preview)
#[utoipa::path(
    tag = "reports",
    params(("id" = uuid::Uuid, Path, description = "Area id"), ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content(
            (ReportPreview = "application/json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 403, description = "Volunteers do not report (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area or template for the caller (`area-not-found`, `report-template-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a month (`period-invalid`) or a month not begun (`period-in-future`), or after the area ended (`after-area-ended`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/report")]
pub async fn export_report(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Official, Role::Head])?;
    let query = query.0;
    let day = today();
    let period = match query.period.as_deref() {
        Some(text) => Period::parse(text, "/period")?,
        None => Period::containing(day).previous(),
    };
    if period.first > day {
        return Err(ApiError::invalid_field(
            "/period",
            "period-in-future",
            Text::new("Tháng này chưa bắt đầu", "This month has not begun"),
        ));
    }
    let id = id.into_inner().to_string();
    let template_id = query.template_id.map(|t| t.to_string());
    let preview = query.preview.unwrap_or(false);
    let actor = caller.actor(&client);
    let (cells, source, sign_off_id, code) = state
        .db
        .write(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let (grid, row_line, file) = match &template_id {
                None => (default_template(), super::check(&default_template())?, None),
                Some(wanted) => {
                    let template = find_visible(conn, &caller, wanted)?;
                    // The workbook itself only when a file is asked for.
                    let file = (!preview)
                        .then(|| file_of(conn, &template.id))
                        .transpose()?;
                    (template.grid()?, template.row_line as usize, file)
                }
            };
            let standing: Option<SignOffRow> = sign_offs::table
                .filter(sign_offs::area_id.eq(&area.id))
                .filter(sign_offs::period.eq(period.to_string()))
                .filter(sign_offs::reopened_at.is_null())
                .select(SignOffRow::as_select())
                .first(conn)
                .optional()?;
            let (rows, heading_status, signed_by, signed_on, source, figures_on) = match &standing {
                Some(signed) => {
                    let by = user_name(conn, &signed.signed_by)?;
                    (
                        signed.reported()?,
                        format!("Đã chốt số liệu ngày {}", signed.signed_on.format("%d/%m/%Y")),
                        by,
                        Some(signed.signed_on),
                        ReportSource::SignedOff,
                        signed.period_end,
                    )
                }
                None => {
                    let last = period.last().min(day);
                    if area.ended_on.is_some_and(|ended| last >= ended) {
                        return Err(ApiError::invalid_field(
                            "/period",
                            "after-area-ended",
                            Text::new(
                                "Địa bàn đã kết thúc trước cuối kỳ này; hãy lập báo cáo ở địa bàn thay thế",
                                "The area ended before the end of this period; report its successor",
                            ),
                        ));
                    }
                    (
                        rows_on(conn, &area, last)?,
                        format!(
                            "Chưa chốt số liệu — số tạm tính đến ngày {}",
                            last.format("%d/%m/%Y")
                        ),
                        String::new(),
                        None,
                        ReportSource::Provisional,
                        last,
                    )
                }
            };
            let heading = Heading {
                area_name: area.name.clone(),
                area_code: area.code.clone(),
                period,
                figures_on,
                status: heading_status,
                signed_by,
                signed_on,
                generated_on: day,
            };
            audit::record(
                conn,
                &actor,
                Entry {
                    action: Action::FiguresExported,
                    entity_id: Some(&area.id),
                    area_id: Some(&area.id),
                    changes: json!({"report": template_id.as_deref().unwrap_or("built-in"),
                                    "period": period.to_string(), "preview": preview,
                                    "source": source}),
                },
            )?;
            Ok((
                (grid, row_line, heading, rows, file),
                source,
                standing.map(|s| s.id),
                area.code.clone(),
            ))
        })
        .await?;
    // Filling is work for a CPU, not for the writer.
    let (grid, row_line, heading, rows, file) = cells;
    let repeats = rows.len().saturating_sub(1);
    let (cells, in_place) = web::block(move || {
        let cells = fill(&grid, row_line, &heading, &rows);
        // An uploaded template is filled in place, keeping its layout; should its XML be
        // beyond what the filler reads, the report still goes out, with values only.
        let in_place = file.and_then(|file| {
            in_place::fill_workbook(&file, &cells, row_line, repeats)
                .map_err(|fault| tracing::warn!(%fault, "report template filled with values only"))
                .ok()
        });
        (cells, in_place)
    })
    .await
    .map_err(ApiError::internal)?;
    if preview {
        return Ok(HttpResponse::Ok().json(ReportPreview {
            period: period.to_string(),
            source,
            sign_off_id: sign_off_id.as_deref().map(parse_uuid).transpose()?,
            cells: cells
                .iter()
                .map(|line| line.iter().map(Filled::text).collect())
                .collect(),
        }));
    }
    let bytes = match in_place {
        Some(bytes) => bytes,
        None => xlsx(&period.to_string(), &cells)?,
    };
    Ok(HttpResponse::Ok()
        .content_type(XLSX_MEDIA_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"bao-cao-{code}-{period}.xlsx\""),
        ))
        .body(bytes))
}
