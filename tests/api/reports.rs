//! Monthly reports in a template's layout: the built-in ward report of a merged ward lists
//! its neighbourhoods with the figures as signed off; an uploaded template is checked cell
//! by cell and its row line repeated per area below.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{
    TestApp, TestResponse, HEAD, NATIONAL_ADMIN, OFFICIAL, VOLUNTEER, WARD_ADMIN,
};
use crate::households::{add_household, add_resident};

async fn eid_on(app: &TestApp, token: &str, household: &str, resident: &str, day: &str) {
    let recorded = app
        .post(
            "/api/v1/status-events",
            Some(token),
            &json!({"household_id": household, "events": [
                {"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": day}]}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
}

fn adult(name: &str) -> Value {
    json!({"full_name": name, "birth_date": "1970-01-01", "sex": "male", "relation_to_head": "other"})
}

fn area_id_of(app: &TestApp, code: &str) -> String {
    use eid_adoption::schema::areas;
    app.with_db(|conn| {
        areas::table
            .filter(areas::code.eq(code))
            .select(areas::id)
            .first::<String>(conn)
            .unwrap()
    })
}

/// The line of a filled sheet whose second cell is `name`.
fn line<'a>(cells: &'a Value, name: &str) -> &'a Vec<Value> {
    cells
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l[1] == name)
        .unwrap_or_else(|| panic!("no line {name} in {cells}"))
        .as_array()
        .unwrap()
}

async fn preview(app: &TestApp, token: &str, area: &str, query: &str) -> TestResponse {
    app.get(
        &format!("/api/v1/areas/{area}/report?preview=true&{query}"),
        Some(token),
    )
    .await
}

#[actix_web::test]
async fn a_merged_wards_report_lists_its_neighbourhoods_with_the_figures_as_signed_off() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let home = add_household(&app, &admin, &world.n1, "Số 1", "Chủ hộ").await;
    let first = add_resident(&app, &admin, &home, adult("Một")).await;
    let second = add_resident(&app, &admin, &home, adult("Hai")).await;
    let other = add_household(&app, &admin, &world.n3, "Số 2", "Chủ hộ").await;
    let third = add_resident(&app, &admin, &other, adult("Ba")).await;
    eid_on(&app, &admin, &home, &first, "2025-05-10").await;
    eid_on(&app, &admin, &other, &third, "2025-05-20").await;
    // The old ward's own template, which must follow the ward into the merged one.
    let ward_admin = app.token_for(WARD_ADMIN).await;
    let own = upload(
        &app,
        &ward_admin,
        "Mẫu phường",
        XLSX,
        workbook(&[&["{{area_name}}"], &["{{row.code}}", "{{row.eid}}"]]),
    )
    .await;
    assert_eq!(own.status, 201, "{}", own.text);
    let merged = app
        .post(
            "/api/v1/reorganisations",
            Some(&admin),
            &json!({"title": "Sáp nhập phường", "effective_on": "2025-07-01", "steps": [
                {"kind": "merge", "sources": ["P-T-W", "P-T-W2"],
                 "into": {"code": "P-QT", "new": {"name": "Phường Quang Trung", "kind": "ward", "parent": "P"}}},
                {"kind": "dissolve", "area": "P-T"}]}),
        )
        .await;
    assert_eq!(merged.status, 201, "{}", merged.text);
    let ward = area_id_of(&app, "P-QT");
    // The ward's official now works for the new ward and reports June 2025 for it.
    let official = app.token_for(OFFICIAL).await;
    let templates = app.get("/api/v1/report-templates", Some(&official)).await;
    assert_eq!(templates.body["items"][0]["id"], own.body["id"]);
    let with_own = preview(
        &app,
        &official,
        &ward,
        &format!(
            "period=2025-06&template_id={}",
            own.body["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(with_own.status, 200, "{}", with_own.text);
    assert_eq!(with_own.body["cells"][0][0], "Phường Quang Trung");
    assert_eq!(
        with_own.body["cells"].as_array().unwrap().len(),
        4,
        "a line per neighbourhood"
    );
    let before = preview(&app, &official, &ward, "period=2025-06").await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.body["source"], "provisional");
    let cells = &before.body["cells"];
    assert!(cells[4][0]
        .as_str()
        .unwrap()
        .contains("Phường Quang Trung (P-QT)"));
    // STT, name, adults, official adults, e-ID, rate …
    assert_eq!(line(cells, "Địa bàn P-T-W-1")[2], "2");
    assert_eq!(line(cells, "Địa bàn P-T-W-1")[4], "1");
    assert_eq!(line(cells, "Địa bàn P-T-W2-1")[4], "1");
    assert_eq!(line(cells, "Địa bàn P-T-W-2")[2], "0");
    let total = line(cells, "Tổng cộng");
    let served = app
        .get(
            &format!("/api/v1/areas/{ward}/adoption?as_of=2025-06-30"),
            Some(&official),
        )
        .await;
    let eid = served.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "eid")
        .unwrap();
    assert_eq!(total[4], eid["count"].to_string());
    assert_eq!(total[2], eid["recorded_denominator"].to_string());
    assert_eq!(total[4], "2", "the sum of its predecessors' neighbourhoods");

    let signed = app
        .post(
            &format!("/api/v1/areas/{ward}/sign-offs"),
            Some(&official),
            &json!({"period": "2025-06"}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    eid_on(&app, &admin, &home, &second, "2025-06-15").await;
    let after = preview(&app, &official, &ward, "period=2025-06").await;
    assert_eq!(after.body["source"], "signed_off");
    assert_eq!(after.body["sign_off_id"], signed.body["id"]);
    assert_eq!(
        line(&after.body["cells"], "Tổng cộng")[4],
        "2",
        "as reported"
    );
    assert!(after.body["cells"][5][0]
        .as_str()
        .unwrap()
        .contains("Đã chốt số liệu"));

    let file = app
        .get(
            &format!("/api/v1/areas/{ward}/report?period=2025-06"),
            Some(&official),
        )
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    use calamine::{Data, Reader};
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(file.bytes.clone())).unwrap();
    let sheet = workbook.worksheet_range("2025-06").unwrap();
    let total_row = sheet
        .rows()
        .find(|r| r.get(1) == Some(&Data::String("Tổng cộng".into())))
        .unwrap();
    assert_eq!(total_row[4], Data::Float(2.0), "numbers stay numbers");

    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(preview(&app, &volunteer, &ward, "").await.status, 403);
    let future = preview(&app, &official, &ward, "period=2099-01").await;
    assert_eq!(future.status, 422);
    assert_eq!(future.body["errors"][0]["code"], "period-in-future");
}

fn workbook(lines: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in lines.iter().enumerate() {
        for (c, text) in line.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn upload(
    app: &TestApp,
    token: &str,
    name: &str,
    content_type: &str,
    body: Vec<u8>,
) -> TestResponse {
    app.send(
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/report-templates?name={name}")))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[actix_web::test]
async fn an_uploaded_template_is_checked_cell_by_cell_and_its_row_line_repeated_per_area_below() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let unknown = upload(
        &app,
        &admin,
        "sai",
        XLSX,
        workbook(&[&["{{area_name}}"], &["", "{{row.nope}}"]]),
    )
    .await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(unknown.body["errors"][0]["pointer"], "/cells/B2");
    assert_eq!(unknown.body["errors"][0]["code"], "unknown-placeholder");
    let no_line = upload(&app, &admin, "sai", XLSX, workbook(&[&["{{area_name}}"]])).await;
    assert_eq!(no_line.body["errors"][0]["code"], "row-line-count");
    let garbage = upload(&app, &admin, "sai", XLSX, b"not a workbook".to_vec()).await;
    assert_eq!(garbage.status, 422);
    assert_eq!(garbage.problem_code(), "template-unreadable");
    let with_formula = {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "{{row.name}}").unwrap();
        sheet.write_formula(0, 1, "=1+1").unwrap();
        book.save_to_buffer().unwrap()
    };
    let formula = upload(&app, &admin, "công thức", XLSX, with_formula).await;
    assert_eq!(formula.status, 422, "{}", formula.text);
    assert_eq!(formula.problem_code(), "template-unreadable");
    assert!(formula.body["detail"]
        .as_str()
        .unwrap()
        .contains("công thức"));
    let csv = upload(&app, &admin, "sai", "text/csv", b"a,b".to_vec()).await;
    assert_eq!(csv.status, 415);
    let head = app.token_for(HEAD).await;
    let by_head = upload(&app, &head, "x", XLSX, workbook(&[&["{{row.name}}"]])).await;
    assert_eq!(by_head.status, 403);

    let uploaded = upload(
        &app,
        &admin,
        "Mẫu tỉnh",
        XLSX,
        workbook(&[
            &["Đơn vị: {{area_name}} — tháng {{period}}"],
            &[],
            &["Mã", "Tên", "VNeID"],
            &["{{row.code}}", "{{row.name}}", "{{row.eid}}"],
            &["Cộng", "", "{{area.eid}}"],
        ]),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    assert_eq!(uploaded.body["row_line"], 4);
    let id = uploaded.body["id"].as_str().unwrap().to_owned();
    let official = app.token_for(OFFICIAL).await;
    let listed = app.get("/api/v1/report-templates", Some(&official)).await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());

    let filled = preview(&app, &official, &world.ward, &format!("template_id={id}")).await;
    assert_eq!(filled.status, 200, "{}", filled.text);
    let cells = filled.body["cells"].as_array().unwrap();
    let period = filled.body["period"].as_str().unwrap();
    let (year, month) = period.split_once('-').unwrap();
    assert_eq!(
        cells[0][0],
        format!("Đơn vị: Địa bàn P-T-W — tháng {month}/{year}")
    );
    assert_eq!(cells[3], json!(["P-T-W-1", "Địa bàn P-T-W-1", "0"]));
    assert_eq!(cells[4], json!(["P-T-W-2", "Địa bàn P-T-W-2", "0"]));
    assert_eq!(cells[5], json!(["Cộng", "", "0"]));
    let missing = preview(
        &app,
        &official,
        &world.ward,
        "template_id=01936b2e-1f2a-7c3d-8e4f-5a6b7c8d9e0f",
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.problem_code(), "report-template-not-found");
}

#[actix_web::test]
async fn a_report_is_filled_into_the_uploaded_workbook_keeping_its_styles_and_merged_cells() {
    use calamine::{Data, Reader};
    use std::io::Read;
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Báo cáo").unwrap();
    sheet
        .merge_range(0, 0, 0, 2, "BÁO CÁO {{area_name}} & CỘNG", &bold)
        .unwrap();
    sheet.write_string(2, 0, "Mã").unwrap();
    sheet.write_string(3, 0, "{{row.code}}").unwrap();
    sheet.write_string(3, 1, "{{row.name}}").unwrap();
    sheet.write_string(3, 2, "{{row.adults}}").unwrap();
    sheet.merge_range(4, 0, 4, 1, "Cộng", &bold).unwrap();
    sheet.write_string(4, 2, "{{area.adults}}").unwrap();
    sheet.set_column_width(1, 30).unwrap();
    let uploaded = upload(
        &app,
        &admin,
        "Mẫu có định dạng",
        XLSX,
        book.save_to_buffer().unwrap(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let id = uploaded.body["id"].as_str().unwrap();
    let official = app.token_for(OFFICIAL).await;
    let file = app
        .get(
            &format!("/api/v1/areas/{}/report?template_id={id}", world.ward),
            Some(&official),
        )
        .await;
    assert_eq!(file.status, 200, "{}", file.text);

    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(file.bytes.clone())).unwrap();
    assert_eq!(
        workbook.sheet_names(),
        ["Báo cáo"],
        "the template's own sheet"
    );
    let range = workbook.worksheet_range("Báo cáo").unwrap();
    let at = |row: u32, col: u32| range.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        at(0, 0),
        Data::String("BÁO CÁO Địa bàn P-T-W & CỘNG".into())
    );
    assert_eq!(at(3, 0), Data::String("P-T-W-1".into()));
    assert_eq!(at(4, 0), Data::String("P-T-W-2".into()));
    assert_eq!(at(3, 2), Data::Float(0.0));
    assert_eq!(
        at(5, 0),
        Data::String("Cộng".into()),
        "the total moved below both lines"
    );
    assert_eq!(at(5, 2), Data::Float(0.0));

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(file.bytes.clone())).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains(r#"<mergeCell ref="A1:C1"/>"#), "{xml}");
    assert!(
        xml.contains(r#"<mergeCell ref="A6:B6"/>"#),
        "the merge moved with its row: {xml}"
    );
    let styled = |reference: &str| {
        let start = xml.find(&format!(r#"<c r="{reference}""#)).unwrap();
        let end = start + xml[start..].find('>').unwrap();
        xml[start..end].contains(" s=\"")
    };
    assert!(styled("A1") && styled("A6"), "bold kept: {xml}");
    assert!(xml.contains("<cols>"), "column widths kept");
}
