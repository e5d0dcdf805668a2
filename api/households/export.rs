//! `GET /api/v1/households/export`: the neighbourhood list for heads and administrators, as
//! CSV or XLSX, one row per person, in the import layout (so it can be imported again).
//! Every export is audited with its row count.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Household, RecordScope};
use crate::areas::find_in_scope;
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::filter_by_record_scope;
use crate::imports::layout::Column;
use crate::imports::read::XLSX_MEDIA_TYPE;
use crate::problem::{ApiError, ApiQuery};
use crate::residents::Resident;
use crate::schema::{households, residents, status_events};
use crate::spreadsheet::{csv_bytes, xlsx_bytes, Cell, Sheet};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Only households under this area (default: the caller's whole scope).
    pub area_id: Option<uuid::Uuid>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
}

/// Export the household list (heads and administrators)
#[utoipa::path(
    tag = "households",
    params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list, one row per person, in the import layout",
            content(
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "Only heads and administrators export (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`area_id` is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households/export")]
pub async fn export_households(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Head, Role::Admin])?;
    let query = query.0;
    let format = query.format.unwrap_or(ExportFormat::Csv);
    let table = state
        .db
        .write(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let mut select = households::table
                .inner_join(residents::table)
                .filter(households::deleted_at.is_null())
                .filter(residents::deleted_at.is_null())
                .select((Household::as_select(), Resident::as_select()))
                .order((households::code.asc(), households::id.asc(), residents::id.asc()))
                .into_boxed();
            select = filter_by_record_scope!(select, &scope);
            if let Some(area_id) = query.area_id {
                let area = find_in_scope(conn, &caller.scope, &area_id.to_string())?;
                select = select.filter(households::area_path.like(format!("{}%", area.path)));
            }
            let rows: Vec<(Household, Resident)> = select.load(conn)?;
            let since = latest_event_dates(conn, &rows)?;
            let table: Vec<Vec<Cell>> = rows
                .iter()
                .map(|(h, r)| row(h, r, &since).into_iter().map(Cell::from).collect())
                .collect();
            audit::record(
                conn,
                &caller.actor(&client),
                Entry {
                    action: Action::RegisterExported,
                    entity_id: None,
                    area_id: caller.scope.area_id.as_deref(),
                    changes: json!({"rows": table.len(), "format": if format == ExportFormat::Csv { "csv" } else { "xlsx" }}),
                },
            )?;
            Ok(table)
        })
        .await?;
    let header: Vec<String> = Column::ALL
        .iter()
        .map(|c| c.label_vi().to_owned())
        .collect();
    match format {
        ExportFormat::Csv => {
            let bytes = csv_bytes(&header, &table)?;
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"danh-sach-ho.csv\"",
                ))
                .body(bytes))
        }
        ExportFormat::Xlsx => {
            let bytes = web::block(move || {
                xlsx_bytes(&[Sheet {
                    name: "Danh sách hộ",
                    header: &header,
                    rows: &table,
                }])
            })
            .await
            .map_err(ApiError::internal)??;
            Ok(HttpResponse::Ok()
                .content_type(XLSX_MEDIA_TYPE)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"danh-sach-ho.xlsx\"",
                ))
                .body(bytes))
        }
    }
}

/// The date each resident's current e-ID and signature became true (the latest live
/// event of the kind), loaded in one query.
fn latest_event_dates(
    conn: &mut crate::db::DbConnection,
    rows: &[(Household, Resident)],
) -> Result<HashMap<(String, String), chrono::NaiveDate>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|(_, r)| r.id.as_str()).collect();
    let mut latest: HashMap<(String, String), chrono::NaiveDate> = HashMap::new();
    for chunk in ids.chunks(500) {
        let events: Vec<(Option<String>, String, chrono::NaiveDate)> = status_events::table
            .filter(status_events::resident_id.eq_any(chunk))
            .filter(status_events::voided_at.is_null())
            .select((
                status_events::resident_id,
                status_events::kind,
                status_events::effective_on,
            ))
            .load(conn)?;
        for (resident, kind, day) in events {
            if let Some(resident) = resident {
                let entry = latest.entry((resident, kind)).or_insert(day);
                *entry = (*entry).max(day);
            }
        }
    }
    Ok(latest)
}

fn row(
    h: &Household,
    r: &Resident,
    since: &HashMap<(String, String), chrono::NaiveDate>,
) -> Vec<String> {
    let date = |kind: &str| {
        since
            .get(&(r.id.clone(), kind.to_owned()))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let has_eid = r.eid_level != "none";
    let has_signature = r.signature != "none";
    Column::ALL
        .iter()
        .map(|column| match column {
            Column::HouseholdCode => h.code.clone().unwrap_or_else(|| h.id.clone()),
            Column::Address => h.address.clone(),
            Column::HeadName => h.head_name.clone(),
            Column::Phone => h.phone.clone().unwrap_or_default(),
            Column::Broadband => h.broadband.clone(),
            Column::FullName => r.full_name.clone().unwrap_or_default(),
            Column::BirthDate => r.birth().to_text(),
            Column::Sex => r.sex.clone(),
            Column::RelationToHead => r.relation_to_head.clone(),
            // Never stored: only its hash, which is no use outside this server.
            Column::CitizenId => String::new(),
            Column::Consent => if r.consent { "yes" } else { "no" }.to_owned(),
            Column::EidLevel => r.eid_level.clone(),
            Column::EidSince => {
                if has_eid {
                    date("eid")
                } else {
                    String::new()
                }
            }
            Column::Signature => r.signature.clone(),
            Column::SignatureSince => {
                if has_signature {
                    date("signature")
                } else {
                    String::new()
                }
            }
            Column::SignatureExpiresOn => r
                .signature_expires_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
        })
        .collect()
}
