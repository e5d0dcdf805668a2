//! `GET /api/v1/households/activation-list`: the call list for an activation day — the
//! adults living in the neighbourhood who still have no e-ID account (none, or level 2
//! still pending at the police) or no signature (none, or a digital certificate that has
//! expired), grouped by household, as JSON (the app prints it with a slip per household)
//! or XLSX. It hands names out, so every read is audited as an export.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Household, RecordScope};
use crate::areas::{find_in_scope, parse_uuid};
use crate::audit::{self, Action, Entry};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::filter_by_record_scope;
use crate::imports::read::XLSX_MEDIA_TYPE;
use crate::problem::{ApiError, ApiQuery};
use crate::residents::Resident;
use crate::schema::{households, residents};
use crate::spreadsheet::{xlsx_bytes, Cell, Sheet};
use crate::state::AppState;
use crate::status::derive::{EidLevel, SignatureKind};
use crate::status::today;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActivationFormat {
    Json,
    Xlsx,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivationQuery {
    /// Only households under this area (default: the caller's whole scope).
    pub area_id: Option<uuid::Uuid>,
    /// `json` (default) or `xlsx`.
    pub format: Option<ActivationFormat>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationPerson {
    pub resident_id: uuid::Uuid,
    pub full_name: Option<String>,
    pub birth_year: i32,
    pub sex: crate::residents::Sex,
    pub eid_level: EidLevel,
    pub signature: SignatureKind,
    pub signature_expires_on: Option<NaiveDate>,
    /// No e-ID account yet (none, or level 2 pending).
    pub needs_eid: bool,
    /// No signature yet, or the digital certificate has expired.
    pub needs_signature: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationHousehold {
    pub household_id: uuid::Uuid,
    pub code: Option<String>,
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub people: Vec<ActivationPerson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationList {
    /// The day the list was made (service time zone): adults are 18 or over on it.
    pub generated_on: NaiveDate,
    /// Ordered by household code (those without one last), then address.
    pub households: Vec<ActivationHousehold>,
    pub people: usize,
}

/// The activation-day call list (heads and administrators)
#[utoipa::path(
    tag = "households",
    params(ActivationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Households with adults still missing an e-ID or a signature",
            content(
                (ActivationList = "application/json"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "Only heads and administrators (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`area_id` is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households/activation-list")]
pub async fn activation_list(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    query: ApiQuery<ActivationQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Head, Role::Admin])?;
    let query = query.0;
    let format = query.format.unwrap_or(ActivationFormat::Json);
    let today = today();
    let auditor = caller.clone();
    let list = state
        .db
        .read(move |conn| {
            let scope = RecordScope::of(conn, &caller)?;
            let counting = [EidLevel::Level1.as_str(), EidLevel::Level2.as_str()];
            let mut select = households::table
                .inner_join(residents::table)
                .filter(households::deleted_at.is_null())
                .filter(residents::deleted_at.is_null())
                .filter(residents::erased_at.is_null())
                .filter(residents::presence.eq("present"))
                .filter(residents::adult_on.le(today))
                .filter(
                    residents::eid_level
                        .ne_all(counting)
                        .or(residents::signature.eq("none"))
                        .or(residents::signature
                            .eq("digital")
                            .and(residents::signature_expires_on.lt(today))),
                )
                .select((Household::as_select(), Resident::as_select()))
                // Households with a register code first (both databases sort NULL alike).
                .order((
                    households::code.is_null().asc(),
                    households::code.asc(),
                    households::address.asc(),
                    households::id.asc(),
                    residents::birth_date.asc(),
                    residents::id.asc(),
                ))
                .into_boxed();
            select = filter_by_record_scope!(select, &scope);
            if let Some(area_id) = query.area_id {
                let area = find_in_scope(conn, &caller.scope, &area_id.to_string())?;
                select = select.filter(households::area_path.like(format!("{}%", area.path)));
            }
            let rows: Vec<(Household, Resident)> = select.load(conn)?;
            group(rows, today)
        })
        .await?;
    // The names were read outside the writer; handing them out is on the record.
    let (households, people) = (list.households.len(), list.people);
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &auditor.actor(&client),
                Entry {
                    action: Action::ActivationListExported,
                    entity_id: None,
                    area_id: auditor.scope.area_id.as_deref(),
                    changes: json!({
                        "households": households,
                        "people": people,
                        "format": if format == ActivationFormat::Json { "json" } else { "xlsx" },
                    }),
                },
            )
        })
        .await?;
    match format {
        ActivationFormat::Json => Ok(HttpResponse::Ok().json(list)),
        ActivationFormat::Xlsx => {
            let bytes = web::block(move || xlsx(&list))
                .await
                .map_err(ApiError::internal)??;
            Ok(HttpResponse::Ok()
                .content_type(XLSX_MEDIA_TYPE)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"danh-sach-ngay-kich-hoat.xlsx\"",
                ))
                .body(bytes))
        }
    }
}

fn group(rows: Vec<(Household, Resident)>, today: NaiveDate) -> Result<ActivationList, ApiError> {
    let counting = [EidLevel::Level1.as_str(), EidLevel::Level2.as_str()];
    let mut households: Vec<ActivationHousehold> = Vec::new();
    let mut people = 0;
    for (h, r) in rows {
        if households
            .last()
            .is_none_or(|last| last.household_id.to_string() != h.id)
        {
            households.push(ActivationHousehold {
                household_id: parse_uuid(&h.id)?,
                code: h.code.clone(),
                address: h.address.clone(),
                head_name: h.head_name.clone(),
                phone: h.phone.clone(),
                people: Vec::new(),
            });
        }
        let expired = r.signature == "digital" && r.signature_expires_on.is_some_and(|d| d < today);
        let person = ActivationPerson {
            resident_id: parse_uuid(&r.id)?,
            needs_eid: !counting.contains(&r.eid_level.as_str()),
            needs_signature: r.signature == "none" || expired,
            full_name: r.full_name,
            birth_year: r.birth_year,
            sex: crate::residents::enum_parse(&r.sex)
                .ok_or_else(|| ApiError::internal("unknown sex stored"))?,
            eid_level: EidLevel::parse(&r.eid_level)
                .ok_or_else(|| ApiError::internal("unknown e-ID level stored"))?,
            signature: SignatureKind::parse(&r.signature)
                .ok_or_else(|| ApiError::internal("unknown signature stored"))?,
            signature_expires_on: r.signature_expires_on,
        };
        people += 1;
        if let Some(last) = households.last_mut() {
            last.people.push(person);
        }
    }
    Ok(ActivationList {
        generated_on: today,
        households,
        people,
    })
}

fn xlsx(list: &ActivationList) -> Result<Vec<u8>, ApiError> {
    let header: Vec<String> = [
        "Mã hộ",
        "Địa chỉ",
        "Chủ hộ",
        "Số điện thoại",
        "Họ và tên",
        "Năm sinh",
        "Cần tài khoản định danh điện tử",
        "Cần chữ ký số/điện tử",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let yes_no = |b: bool| Cell::from(if b { "có" } else { "không" }.to_owned());
    let rows: Vec<Vec<Cell>> = list
        .households
        .iter()
        .flat_map(|h| {
            h.people.iter().map(move |p| {
                vec![
                    Cell::from(h.code.clone().unwrap_or_default()),
                    Cell::from(h.address.clone()),
                    Cell::from(h.head_name.clone()),
                    Cell::from(h.phone.clone().unwrap_or_default()),
                    Cell::from(p.full_name.clone().unwrap_or_default()),
                    Cell::Number(f64::from(p.birth_year)),
                    yes_no(p.needs_eid),
                    yes_no(p.needs_signature),
                ]
            })
        })
        .collect();
    xlsx_bytes(&[Sheet {
        name: "Ngày kích hoạt",
        header: &header,
        rows: &rows,
    }])
}
