//! `GET /api/v1/areas/{id}/adoption/export`: the figures of an area, or the ranking of its
//! children, as CSV or XLSX (the workbook holds both tables). One row per indicator and
//! target; the columns are the same for both tables. Aggregates only; audited.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::children::{ranked_children, RankBy};
use super::figures::{check_day, figures_of, AdoptionFigures, TargetStatus};
use crate::areas::find_in_scope;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::Caller;
use crate::households::export::ExportFormat;
use crate::imports::read::XLSX_MEDIA_TYPE;
use crate::problem::{ApiError, ApiQuery};
use crate::spreadsheet::{csv_bytes, xlsx_bytes, Cell, Sheet};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FiguresTable {
    /// The area's own figures.
    Figures,
    /// One block of rows per child area, ranked by name.
    Children,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiguresExportQuery {
    /// The day (default: today); not in the future.
    pub as_of: Option<NaiveDate>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
    /// For CSV, which table (default `figures`); an XLSX workbook holds both.
    pub table: Option<FiguresTable>,
}

const COLUMNS: [&str; 19] = [
    "Mã khu vực / Area code",
    "Khu vực / Area",
    "Ngày / As of",
    "Chỉ tiêu / Indicator",
    "Số đạt / Count",
    "Mẫu số ghi nhận / Recorded",
    "Mẫu số chính thức / Official",
    "Tỷ lệ ghi nhận % / Rate recorded",
    "Tỷ lệ chính thức % / Rate official",
    "Độ phủ % / Coverage",
    "So sánh / Comparison",
    "Ngưỡng % / Threshold",
    "Hạn / Deadline",
    "Kế thừa / Inherited",
    "Cần đạt / Required",
    "Còn thiếu / Still needed",
    "Tốc độ mỗi ngày / Pace per day",
    "Dự kiến đạt / Projected",
    "Trạng thái / Status",
];

fn status_text(status: TargetStatus) -> &'static str {
    match status {
        TargetStatus::Met => "Đã đạt / met",
        TargetStatus::OnTrack => "Đúng tiến độ / on track",
        TargetStatus::AtRisk => "Có nguy cơ / at risk",
        TargetStatus::OffTrack => "Chậm tiến độ / off track",
        TargetStatus::Missed => "Không đạt / missed",
    }
}

/// The rows of one area: one per target of each indicator.
fn rows_of(figures: &AdoptionFigures) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for indicator in &figures.indicators {
        for target in &indicator.targets {
            rows.push(vec![
                Cell::Text(figures.area_code.clone()),
                Cell::Text(figures.area_name.clone()),
                Cell::Text(figures.as_of.to_string()),
                Cell::Text(indicator.indicator.as_str().to_owned()),
                Cell::Number(indicator.count as f64),
                Cell::Number(indicator.recorded_denominator as f64),
                indicator.official_denominator.map(|n| n as f64).into(),
                indicator.rate_recorded.into(),
                indicator.rate_official.into(),
                indicator.coverage.into(),
                Cell::Text(target.comparison.as_str().to_owned()),
                Cell::Number(target.threshold_percent),
                Cell::Text(target.deadline.to_string()),
                Cell::Text(if target.inherited { "yes" } else { "no" }.to_owned()),
                Cell::Number(target.required as f64),
                Cell::Number(target.still_needed as f64),
                Cell::Number(indicator.pace_per_day),
                target
                    .projected_on
                    .map_or(Cell::Empty, |d| Cell::Text(d.to_string())),
                Cell::Text(status_text(target.status).to_owned()),
            ]);
        }
    }
    rows
}

/// Export adoption figures (or the children ranking) as CSV or XLSX
#[utoipa::path(
    tag = "adoption",
    params(("id" = uuid::Uuid, Path, description = "Area id"), FiguresExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One row per indicator and target",
            content(
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 404, description = "No such area in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/areas/{id}/adoption/export")]
pub async fn export_figures(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    id: web::Path<uuid::Uuid>,
    query: ApiQuery<FiguresExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let day = check_day(query.as_of, "/as_of")?;
    let format = query.format.unwrap_or(ExportFormat::Csv);
    let table = query.table.unwrap_or(FiguresTable::Figures);
    let pace_days = state.settings.adoption.pace_days;
    let id = id.into_inner().to_string();
    let (code, own, children) = state
        .db
        .write(move |conn| {
            let area = find_in_scope(conn, &caller.scope, &id)?;
            let own = rows_of(&figures_of(conn, &area, day, pace_days)?);
            // A CSV of the area's own figures does not need its children's.
            let children: Vec<Vec<Cell>> =
                if format == ExportFormat::Csv && table == FiguresTable::Figures {
                    Vec::new()
                } else {
                    ranked_children(conn, &area, day, pace_days, RankBy::Name, None)?
                        .iter()
                        .flat_map(rows_of)
                        .collect()
                };
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::FiguresExported,
                    entity_id: Some(&area.id),
                    area_id: Some(&area.id),
                    changes: json!({"as_of": day, "format": match format {
                        ExportFormat::Csv => "csv",
                        ExportFormat::Xlsx => "xlsx",
                    }}),
                },
            )?;
            Ok((area.code, own, children))
        })
        .await?;
    let header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let name = format!("chi-so-{code}-{day}");
    match format {
        ExportFormat::Csv => {
            let rows = match table {
                FiguresTable::Figures => &own,
                FiguresTable::Children => &children,
            };
            let suffix = match table {
                FiguresTable::Figures => "",
                FiguresTable::Children => "-khu-vuc-con",
            };
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}{suffix}.csv\""),
                ))
                .body(csv_bytes(&header, rows)?))
        }
        ExportFormat::Xlsx => {
            let bytes = web::block(move || {
                xlsx_bytes(&[
                    Sheet {
                        name: "Chỉ số",
                        header: &header,
                        rows: &own,
                    },
                    Sheet {
                        name: "Khu vực con",
                        header: &header,
                        rows: &children,
                    },
                ])
            })
            .await
            .map_err(ApiError::internal)??;
            Ok(HttpResponse::Ok()
                .content_type(XLSX_MEDIA_TYPE)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.xlsx\""),
                ))
                .body(bytes))
        }
    }
}
