//! Importing the household register from a spreadsheet: `POST /api/v1/imports/households`
//! (CSV or XLSX, dry run first) and the template to fill in. The same import runs from the
//! command line (`eid-adoption import FILE --area CODE`).

pub mod layout;
pub mod read;
pub mod run;

use actix_web::dev::Payload;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use self::layout::CellProblem;
use self::read::{Format, XLSX_MEDIA_TYPE};
use self::run::{parse, Outcome};
use crate::areas::{find_in_scope, AreaKind};
use crate::auth::sessions::ClientInfo;
use crate::auth::{Caller, Role};
use crate::i18n::Text;
use crate::problem::{declared_length, read_limited, ApiError, ApiQuery, FieldError, ProblemCode};
use crate::state::AppState;
use crate::status::today;

pub const TEMPLATE: &str = include_str!("household-import-template.csv");

#[derive(Debug, Deserialize, validator::Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The neighbourhood the households belong to.
    pub area_id: uuid::Uuid,
    /// Check and report only; nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: usize,
    /// The column key (`birth_date` …); `null` for a problem with the whole row or header.
    pub column: Option<String>,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    pub households_created: usize,
    /// Households already in the neighbourhood (same register code).
    pub households_matched: usize,
    pub residents_created: usize,
    /// People already recorded (same citizen ID, or same name and birth date in the household).
    pub residents_matched: usize,
    pub events_created: usize,
    /// Every problem found; a real run writes nothing while there is any.
    pub problems: Vec<RowProblem>,
}

fn row_problem(problem: &CellProblem) -> RowProblem {
    RowProblem {
        row: problem.row,
        column: problem.column.map(|c| c.key().to_owned()),
        code: problem.code.to_owned(),
        message_vi: problem.message.vi.to_string(),
        message_en: problem.message.en.to_string(),
    }
}

impl From<Outcome> for ImportReport {
    fn from(outcome: Outcome) -> Self {
        ImportReport {
            dry_run: false,
            rows: outcome.rows,
            households_created: outcome.households_created,
            households_matched: outcome.households_matched,
            residents_created: outcome.residents_created,
            residents_matched: outcome.residents_matched,
            events_created: outcome.events_created,
            problems: outcome.problems.iter().map(row_problem).collect(),
        }
    }
}

/// Import the household register of a neighbourhood (heads and administrators)
///
/// A register as CSV text: the template's header row, then one row per person.
#[derive(utoipa::ToSchema)]
#[schema(
    value_type = String,
    example = "household_code,address,head_name,phone,broadband,full_name,birth_date,sex,relation_to_head,citizen_id,consent,eid_level,eid_since,signature,signature_since,signature_expires_on\nHK-001,Số 1 Trần Phú,Nguyễn Văn An,0912 345 678,yes,Nguyễn Văn An,1970-05-01,male,head,,yes,level2,2025-03-01,,,\n"
)]
pub struct CsvFile(pub String);

/// A register as an XLSX workbook (its first sheet is read).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(pub Vec<u8>);

/// The body is the file itself: `text/csv` (UTF-8, with or without BOM, comma or
/// semicolon separated) or XLSX. Headers are the column keys or their Vietnamese labels,
/// as in the template.
#[utoipa::path(
    tag = "imports",
    params(ImportQuery),
    request_body(description = "The register file", content(
        (CsvFile = "text/csv"),
        (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was (or, in a dry run, would be) imported, and every problem found", body = ImportReport),
        (status = 403, description = "Only heads and administrators import (`forbidden`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The neighbourhood is not in the caller's scope (`area-not-found`)",
            body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/imports/households")]
pub async fn import_households(
    state: web::Data<AppState>,
    caller: Caller,
    client: ClientInfo,
    req: HttpRequest,
    query: ApiQuery<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Head, Role::Admin])?;
    let query = query.0;
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = Format::from_media_type(content_type).ok_or_else(|| {
        ApiError::from(ProblemCode::UnsupportedMediaType).with_detail(Text::owned(
            format!("Gửi tệp với Content-Type text/csv hoặc {XLSX_MEDIA_TYPE}"),
            format!("Send the file as text/csv or {XLSX_MEDIA_TYPE}"),
        ))
    })?;
    let mut raw: Payload = payload.into_inner();
    let limit = state.settings.http.max_import_bytes;
    let bytes = read_limited(&mut raw, declared_length(&req), limit).await?;
    let (rows, problems) = web::block(move || parse(format, &bytes, today()))
        .await
        .map_err(ApiError::internal)?
        .map_err(|reason| {
            ApiError::from(ProblemCode::ImportUnreadable).with_detail(Text::owned(
                format!("Không đọc được tệp: {}", reason.vi),
                format!("The file cannot be read: {}", reason.en),
            ))
        })?;
    let key = state.settings.secrets.citizen_id_key_bytes().to_vec();
    let actor = caller.actor(&client);
    let area_id = query.area_id.to_string();
    let scope = caller.scope.clone();
    let work = move |conn: &mut crate::db::DbConnection| {
        let area = find_in_scope(conn, &scope, &area_id)?;
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
        run::run(
            conn,
            &area,
            &rows,
            problems.clone(),
            query.dry_run,
            &key,
            &actor,
            format,
            &|_| {},
        )
    };
    let outcome = if query.dry_run {
        state.db.read(work).await?
    } else {
        state.db.write(work).await?
    };
    if !query.dry_run && !outcome.problems.is_empty() {
        return Err(ApiError::from(ProblemCode::ImportInvalid)
            .with_detail(Text::owned(
                format!("{} lỗi trong tệp; không có gì được ghi. Hãy chạy thử (dry_run=true) để xem chi tiết.", outcome.problems.len()),
                format!("{} problems in the file; nothing was written. Run with dry_run=true for the details.", outcome.problems.len()),
            ))
            .with_errors(outcome.problems.iter().map(|p| FieldError {
                pointer: format!("/rows/{}/{}", p.row, p.column.map(|c| c.key()).unwrap_or_default()),
                code: p.code.to_owned(),
                detail: p.message.clone(),
            })));
    }
    let mut report = ImportReport::from(outcome);
    report.dry_run = query.dry_run;
    Ok(HttpResponse::Ok().json(report))
}

/// The template of the register file (CSV with Vietnamese headers and example rows)
#[utoipa::path(
    tag = "imports",
    security(("bearer" = [])),
    responses((status = 200, description = "The template", body = String, content_type = "text/csv"))
)]
#[get("/imports/households/template")]
pub async fn import_template(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"mau-nhap-ho-gia-dinh.csv\"",
        ))
        .body(format!("\u{feff}{TEMPLATE}"))
}
