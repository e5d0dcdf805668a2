//! Importing the household register: dry run with per-row problems, all or nothing, twice
//! creates nothing new, CSV and XLSX, and exports that import again.

use serde_json::Value;

use crate::helpers::{TestApp, HEAD, OFFICIAL, VOLUNTEER, WARD_ADMIN};

const HEADER: &str = "household_code,address,head_name,phone,broadband,full_name,birth_date,sex,relation_to_head,citizen_id,consent,eid_level,eid_since,signature,signature_since,signature_expires_on";

fn good_rows() -> Vec<String> {
    (1..=10)
        .map(|n| {
            let household = (n + 1) / 2;
            let (address, head) = if n % 2 == 1 {
                (format!("\"Số {household}, đường Đông Sơn\""), format!("Trần Văn Hộ{household}"))
            } else {
                (String::new(), String::new())
            };
            let relation = if n % 2 == 1 { "head" } else { "spouse" };
            format!(
                "HK-{household:03},{address},{head},,yes,Người Số {n},19{:02}-03-0{},{},{relation},0380000000{n:02},yes,level2,2025-0{}-01,digital,2025-02-01,2027-01-31",
                50 + n,
                1 + n % 9,
                if n % 2 == 1 { "male" } else { "female" },
                1 + n % 9,
            )
        })
        .collect()
}

fn bad_rows() -> Vec<String> {
    vec![
        "HK-101,\"Số 1\",A,,yes,Sai Ngày,2999-01-01,male,head,,yes,,,,,".into(),
        "HK-102,\"Số 2\",B,,yes,Sai Giới,1980,robot,head,,yes,,,,,".into(),
        "HK-103,\"Số 3\",C,,yes,Sai CCCD,1980,male,head,12345,yes,,,,,".into(),
        "HK-104,\"Số 4\",D,,yes,Sai Hạn,1980,male,head,,yes,,,digital,2025-05-01,2024-05-01".into(),
        ",\"Số 5\",E,,yes,Thiếu Mã,1980,male,head,,yes,,,,,".into(),
    ]
}

fn csv(rows: &[String]) -> String {
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

async fn import(
    app: &TestApp,
    token: &str,
    area: &str,
    dry_run: bool,
    content_type: &str,
    body: Vec<u8>,
) -> crate::helpers::TestResponse {
    app.send(
        app.client
            .post(app.url(&format!(
                "/api/v1/imports/households?area_id={area}&dry_run={dry_run}"
            )))
            .bearer_auth(token)
            .header("Content-Type", content_type)
            .body(body),
    )
    .await
}

fn totals(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use eid_adoption::schema::{households, residents};
    app.with_db(|conn| {
        (
            households::table.count().get_result(conn).unwrap(),
            residents::table.count().get_result(conn).unwrap(),
        )
    })
}

#[actix_web::test]
async fn a_dry_run_reports_exactly_the_bad_rows_and_a_real_run_writes_nothing_while_any_is_bad() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let mut rows = good_rows();
    rows.extend(bad_rows());
    let file = csv(&rows);

    let dry = import(
        &app,
        &head,
        &world.n1,
        true,
        "text/csv",
        file.clone().into_bytes(),
    )
    .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body["dry_run"], true);
    let problems = dry.body["problems"].as_array().unwrap();
    let bad: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| {
            (
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap_or(""),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        bad,
        [
            (12, "birth_date", "date-in-future"),
            (13, "sex", "invalid-value"),
            (14, "citizen_id", "invalid-citizen-id"),
            (15, "signature_expires_on", "expiry-before-issue"),
            (16, "household_code", "required"),
        ]
    );
    assert!(problems
        .iter()
        .all(|p| p["message_vi"].is_string() && p["message_en"].is_string()));
    assert_eq!(totals(&app), (0, 0), "a dry run writes nothing");

    let real = import(&app, &head, &world.n1, false, "text/csv", file.into_bytes()).await;
    assert_eq!(real.status, 422);
    assert_eq!(real.problem_code(), "import-invalid");
    assert_eq!(real.body["errors"][0]["pointer"], "/rows/12/birth_date");
    assert_eq!(totals(&app), (0, 0), "all or nothing");
}

#[actix_web::test]
async fn a_clean_file_imported_twice_creates_its_rows_once() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    // With a byte-order mark, as spreadsheets save it.
    let file = format!("\u{feff}{}", csv(&good_rows())).into_bytes();
    let first = import(&app, &head, &world.n1, false, "text/csv", file.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["households_created"], 5);
    assert_eq!(first.body["residents_created"], 10);
    assert_eq!(first.body["events_created"], 20);
    assert_eq!(totals(&app), (5, 10));
    let second = import(&app, &head, &world.n1, false, "text/csv", file).await;
    assert_eq!(second.body["households_created"], 0);
    assert_eq!(second.body["households_matched"], 5);
    assert_eq!(second.body["residents_created"], 0);
    assert_eq!(second.body["residents_matched"], 10);
    assert_eq!(totals(&app), (5, 10), "nothing new the second time");

    let adults = app
        .get(
            "/api/v1/residents?has_eid=true&signature=digital",
            Some(&head),
        )
        .await;
    assert_eq!(adults.ids().len(), 10, "statuses come in with their dates");
}

#[actix_web::test]
async fn an_xlsx_register_imports_like_a_csv_one_and_an_export_imports_again() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let header = [
        "Mã hộ",
        "Địa chỉ",
        "Chủ hộ",
        "Họ và tên",
        "Ngày sinh",
        "Giới tính",
        "Quan hệ với chủ hộ",
        "Số CCCD",
        "Định danh điện tử",
        "Ngày định danh",
    ];
    for (col, title) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *title).unwrap();
    }
    let values = [
        "KP-9",
        "Số 9, phố Hòe",
        "Vũ Thị Hằng",
        "Vũ Thị Hằng",
        "15/08/1975",
        "nữ",
        "chủ hộ",
    ];
    for (col, value) in values.iter().enumerate() {
        sheet.write_string(1, col as u16, *value).unwrap();
    }
    // A citizen ID typed as a number loses its leading zero in a spreadsheet.
    sheet.write_number(1, 7, 38175001234.0).unwrap();
    sheet.write_string(1, 8, "mức 2").unwrap();
    sheet.write_string(1, 9, "2025-04-30").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let imported = import(
        &app,
        &head,
        &world.n1,
        false,
        eid_adoption::imports::read::XLSX_MEDIA_TYPE,
        bytes,
    )
    .await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert_eq!(imported.body["residents_created"], 1);
    let person = app.get("/api/v1/residents", Some(&head)).await;
    assert_eq!(person.body["items"][0]["citizen_id_last4"], "1234");
    assert_eq!(person.body["items"][0]["eid_level"], "level2");

    for format in ["csv", "xlsx"] {
        let export = app
            .get(
                &format!("/api/v1/households/export?format={format}"),
                Some(&head),
            )
            .await;
        assert_eq!(export.status, 200);
        let bytes = app
            .client
            .get(app.url(&format!("/api/v1/households/export?format={format}")))
            .bearer_auth(&head)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec();
        let content_type = if format == "csv" {
            "text/csv"
        } else {
            eid_adoption::imports::read::XLSX_MEDIA_TYPE
        };
        let again = import(&app, &head, &world.n1, true, content_type, bytes).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(
            again.body["problems"],
            Value::Array(vec![]),
            "{format}: {}",
            again.text
        );
        assert_eq!(again.body["residents_matched"], 1, "{format}");
        assert_eq!(again.body["residents_created"], 0, "{format}");
    }
    let csv_export = app.get("/api/v1/households/export", Some(&head)).await;
    assert!(csv_export.text.contains("Vũ Thị Hằng"));
    assert!(csv_export.text.starts_with('\u{feff}'));
}

#[actix_web::test]
async fn the_shipped_template_is_itself_a_valid_file() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let template = app
        .get("/api/v1/imports/households/template", Some(&head))
        .await;
    assert_eq!(template.status, 200);
    let dry = import(
        &app,
        &head,
        &world.n1,
        true,
        "text/csv",
        template.text.into_bytes(),
    )
    .await;
    assert_eq!(dry.body["problems"], Value::Array(vec![]), "{}", dry.text);
    assert_eq!(dry.body["residents_created"], 3);
}

#[actix_web::test]
async fn only_heads_and_administrators_import_and_export_and_only_in_scope() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let file = csv(&good_rows()).into_bytes();
    for email in [VOLUNTEER, OFFICIAL] {
        let token = app.token_for(email).await;
        assert_eq!(
            import(&app, &token, &world.n1, true, "text/csv", file.clone())
                .await
                .status,
            403,
            "{email}"
        );
        assert_eq!(
            app.get("/api/v1/households/export", Some(&token))
                .await
                .status,
            403,
            "{email}"
        );
    }
    let head = app.token_for(HEAD).await;
    let elsewhere = import(&app, &head, &world.n2, true, "text/csv", file.clone()).await;
    assert_eq!(elsewhere.problem_code(), "area-not-found");
    let admin = app.token_for(WARD_ADMIN).await;
    assert_eq!(
        import(&app, &admin, &world.n2, true, "text/csv", file.clone())
            .await
            .status,
        200
    );
    let ward = import(&app, &admin, &world.ward, true, "text/csv", file.clone()).await;
    assert_eq!(ward.status, 422, "households belong to a neighbourhood");
    let wrong_type = import(
        &app,
        &head,
        &world.n1,
        true,
        "application/pdf",
        file.clone(),
    )
    .await;
    assert_eq!(wrong_type.status, 415);
    let garbage = import(
        &app,
        &head,
        &world.n1,
        true,
        eid_adoption::imports::read::XLSX_MEDIA_TYPE,
        b"not a workbook".to_vec(),
    )
    .await;
    assert_eq!(garbage.problem_code(), "import-unreadable");
}

/// A real workbook (one sheet, shared strings) with some of its parts replaced or added.
fn workbook_with(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::{Cursor, Read, Write};
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "household_code").unwrap();
    let base = workbook.save_to_buffer().unwrap();
    let mut source = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut written = Vec::new();
    for index in 0..source.len() {
        let mut part = source.by_index(index).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        if let Some((_, replacement)) = parts.iter().find(|(n, _)| *n == name) {
            data = replacement.clone();
        }
        out.start_file(name.clone(), options).unwrap();
        out.write_all(&data).unwrap();
        written.push(name);
    }
    for (name, data) in parts
        .iter()
        .filter(|(n, _)| !written.iter().any(|w| w == n))
    {
        out.start_file(*name, options).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

const SHEET_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

#[actix_web::test]
async fn a_hostile_workbook_is_refused_without_the_server_allocating_what_it_declares() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let whole_sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>household_code</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#
    );
    let ten_billion_strings = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{SHEET_NS}" count="10000000000" uniqueCount="10000000000"><si><t>household_code</t></si></sst>"#
    );
    let declared_only = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>household_code</t></is></c></row></sheetData></worksheet>"#
    );
    let cases = [
        (
            "a cell at XFD1048576",
            workbook_with(&[("xl/worksheets/sheet1.xml", whole_sheet.into_bytes())]),
            "import-unreadable",
        ),
        (
            "ten billion shared strings",
            workbook_with(&[("xl/sharedStrings.xml", ten_billion_strings.into_bytes())]),
            "import-unreadable",
        ),
        (
            "a part that unpacks to 80 MiB",
            workbook_with(&[("xl/media/zeros.bin", vec![0u8; 80 << 20])]),
            "import-unreadable",
        ),
    ];
    for (what, file, expected) in cases {
        assert!(file.len() < 200_000, "{what}: the file itself is small");
        let answer = import(
            &app,
            &head,
            &world.n1,
            true,
            eid_adoption::imports::read::XLSX_MEDIA_TYPE,
            file,
        )
        .await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.text);
        assert_eq!(answer.problem_code(), expected, "{what}");
    }
    // A dimension that only claims the whole sheet costs nothing: the cells are read one
    // by one, so the file is read (its header lacks columns, which is a per-row problem).
    let claimed = import(
        &app,
        &head,
        &world.n1,
        true,
        eid_adoption::imports::read::XLSX_MEDIA_TYPE,
        workbook_with(&[("xl/worksheets/sheet1.xml", declared_only.into_bytes())]),
    )
    .await;
    assert_eq!(claimed.status, 200, "{}", claimed.text);
}

#[actix_web::test]
async fn a_csv_register_with_too_many_columns_or_an_endless_cell_is_refused() {
    use eid_adoption::imports::read::limits::{MAX_CELL_CHARS, MAX_COLUMNS};
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let wide = format!("{HEADER}{}\n", ",x".repeat(MAX_COLUMNS));
    let long = format!("{HEADER}\nHK-1,{}\n", "a".repeat(MAX_CELL_CHARS + 1));
    for (what, file) in [("too many columns", wide), ("a long cell", long)] {
        let answer = import(&app, &head, &world.n1, true, "text/csv", file.into_bytes()).await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.text);
        assert_eq!(answer.problem_code(), "import-unreadable", "{what}");
        assert!(
            answer.text.contains("cột") || answer.text.contains("ký tự"),
            "{what}: said in words: {}",
            answer.text
        );
    }
}
