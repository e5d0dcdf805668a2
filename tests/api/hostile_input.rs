//! What an outside security review sent, and what the server must answer: control
//! characters in any text, formulas in exported text, phone numbers that are not phone
//! numbers, and secrets or names that must never reach the request log.

use serde_json::json;

use crate::helpers::{ServedBinary, TestApp, HEAD};

#[actix_web::test]
async fn a_control_character_in_any_text_is_a_422_naming_the_field_on_both_databases() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    for (text, code) in [
        ("Nguyễn\u{0}Văn", "nul-character"),
        ("Nguyễn\u{7}Văn", "control-character"),
        ("Nguyễn\u{1b}[31mVăn", "control-character"),
        ("Nguyễn\u{7f}", "control-character"),
    ] {
        let created = app
            .post(
                "/api/v1/households",
                Some(&head),
                &json!({"area_id": world.n1, "address": "Số 1", "head_name": text}),
            )
            .await;
        assert_eq!(created.status, 422, "{text:?}: {}", created.text);
        assert_eq!(created.problem_code(), "validation-failed");
        assert_eq!(created.body["errors"][0]["pointer"], "/head_name");
        assert_eq!(created.body["errors"][0]["code"], code, "{text:?}");
        let searched = app
            .get(
                &format!(
                    "/api/v1/households?q={}",
                    text.replace('\u{0}', "%00")
                        .replace('\u{7}', "%07")
                        .replace('\u{1b}', "%1B")
                        .replace('\u{7f}', "%7F")
                ),
                Some(&head),
            )
            .await;
        assert_eq!(searched.status, 422, "q={text:?}: {}", searched.text);
        assert_eq!(searched.body["errors"][0]["pointer"], "/q");
    }
    // Line breaks and tabs are text people type (a note, an address on two lines).
    let multiline = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": "Số 1\nngõ 2\tbên trái", "head_name": "An"}),
        )
        .await;
    assert_eq!(multiline.status, 201, "{}", multiline.text);
}

#[actix_web::test]
async fn a_phone_number_must_look_like_one() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    for phone in [
        "=HYPERLINK(\"http://x\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "gọi tôi",
    ] {
        let created = app
            .post(
                "/api/v1/households",
                Some(&head),
                &json!({"area_id": world.n1, "address": "Số 1", "head_name": "An", "phone": phone}),
            )
            .await;
        assert_eq!(created.status, 422, "{phone}: {}", created.text);
        assert_eq!(created.body["errors"][0]["pointer"], "/phone");
    }
    let created = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": "Số 1", "head_name": "An", "phone": "+84 912 345 678"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
}

#[actix_web::test]
async fn exported_csv_text_never_runs_as_a_formula_and_imports_back_unchanged() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    // A register code, so that the import matches the household again.
    let home = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "code": "HK-9", "address": "@SUM(1+1)",
                    "head_name": "=HYPERLINK(\"http://evil\",\"x\")"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::households::add_resident(
        &app,
        &head,
        &home,
        json!({"full_name": "-Tèo", "birth_date": "1980", "sex": "male", "relation_to_head": "head"}),
    )
    .await;
    let export = app.get("/api/v1/households/export", Some(&head)).await;
    assert_eq!(export.status, 200);
    let cells: Vec<String> = export
        .text
        .lines()
        .flat_map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for cell in &cells {
        let cell = cell.trim_matches('"');
        assert!(
            !cell.starts_with(['=', '+', '@']),
            "a cell a spreadsheet would run: {cell}"
        );
    }
    assert!(export.text.contains("'@SUM(1+1)"), "{}", export.text);
    assert!(export.text.contains("'=HYPERLINK("), "{}", export.text);
    assert!(export.text.contains("'-Tèo"), "{}", export.text);
    let again = app
        .send(
            app.client
                .post(app.url(&format!(
                    "/api/v1/imports/households?area_id={}&dry_run=true",
                    world.n1
                )))
                .bearer_auth(&head)
                .header("Content-Type", "text/csv")
                .body(export.bytes.clone()),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        again.body["residents_matched"], 1,
        "the same person: {}",
        again.text
    );
    assert_eq!(again.body["residents_created"], 0);
}

#[actix_web::test]
async fn the_request_log_holds_no_token_and_no_search_term() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server =
        // Every request is logged at debug (only failed ones at the default level).
        ServedBinary::start_logging_to(
            log.to_str().unwrap(),
            &app.settings.database_url,
            &[("RUST_LOG", "debug")],
        )
        .await;
    let client = reqwest::Client::new();
    let head = app.token_for(HEAD).await;
    for path in [
        "/accept-invitation?token=SECRET-INVITATION-TOKEN".to_owned(),
        "/reset-password?token=SECRET-RESET-TOKEN".to_owned(),
        "/api/v1/households?q=Tr%E1%BA%A7nV%C4%83nB%C3%AD".to_owned(),
        "/api/v1/residents?q=HoangThiBimat".to_owned(),
    ] {
        let answer = client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&head)
            .send()
            .await
            .unwrap();
        assert!(answer.status().as_u16() < 500, "{path}");
    }
    server.kill();
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.contains("/api/v1/households"),
        "the requests are logged: {written}"
    );
    for secret in [
        "SECRET-INVITATION-TOKEN",
        "SECRET-RESET-TOKEN",
        "Tr%E1%BA%A7n",
        "TrầnVănBí",
        "HoangThiBimat",
    ] {
        assert!(!written.contains(secret), "{secret} reached the log");
    }
}
