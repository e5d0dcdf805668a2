//! Households: who may do what where, ETags, tombstones, search without diacritics.

use serde_json::{json, Value};

use crate::helpers::{
    TestApp, World, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL, VOLUNTEER, WARD_ADMIN,
};

pub async fn add_household(
    app: &TestApp,
    token: &str,
    area: &str,
    address: &str,
    head_name: &str,
) -> String {
    let created = app
        .post(
            "/api/v1/households",
            Some(token),
            &json!({"area_id": area, "address": address, "head_name": head_name}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["id"].as_str().unwrap().to_owned()
}

pub async fn add_resident(app: &TestApp, token: &str, household: &str, body: Value) -> String {
    let created = app
        .post(
            &format!("/api/v1/households/{household}/residents"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_head_adds_reads_corrects_and_deletes_a_household() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let client_id = "01936b2e-0000-7000-8000-00000000abcd";
    let created = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"id": client_id, "area_id": world.n1, "code": "HK-001", "address": "Số 5, đường Đông Sơn", "head_name": "Trần Văn Bình", "phone": "0912345678"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["id"], client_id, "the phone's id is kept");
    assert_eq!(created.body["broadband"], "unknown");
    let path = format!("/api/v1/households/{client_id}");
    let read = app.get(&path, Some(&head)).await;
    assert_eq!(read.header("etag"), Some("\"1\""));

    let again = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"id": client_id, "area_id": world.n1, "address": "x", "head_name": "y"}),
        )
        .await;
    assert_eq!(again.problem_code(), "id-taken");
    let same_code = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "code": "HK-001", "address": "x", "head_name": "y"}),
        )
        .await;
    assert_eq!(same_code.problem_code(), "household-code-taken");

    assert_eq!(
        app.patch(&path, Some(&head), None, &json!({"phone": null}))
            .await
            .status,
        428
    );
    let corrected = app
        .patch(
            &path,
            Some(&head),
            Some("\"1\""),
            &json!({"phone": null, "address": "Số 7, đường Đông Sơn"}),
        )
        .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text);
    assert!(corrected.body["phone"].is_null());
    assert_eq!(corrected.header("etag"), Some("\"2\""));
    assert_eq!(
        app.patch(&path, Some(&head), Some("\"1\""), &json!({"address": "x"}))
            .await
            .status,
        412
    );

    assert_eq!(app.delete(&path, Some(&head)).await.status, 204);
    assert_eq!(
        app.get(&path, Some(&head)).await.problem_code(),
        "household-not-found"
    );
    let listed = app.get("/api/v1/households", Some(&head)).await;
    assert!(listed.ids().is_empty(), "a tombstone is not listed");
}

/// Expected status for each caller on a household inside and outside their reach.
struct Case {
    email: &'static str,
    inside: u16,
    outside: u16,
}

#[actix_web::test]
async fn every_household_endpoint_answers_each_role_inside_and_outside_its_scope() {
    let app = TestApp::spawn().await;
    let world: World = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let inside = add_household(&app, &admin, &world.n1, "Trong", "Chủ hộ A").await;
    let outside = add_household(&app, &admin, &world.n3, "Ngoài", "Chủ hộ B").await;
    let reads = [
        Case {
            email: NATIONAL_ADMIN,
            inside: 200,
            outside: 200,
        },
        Case {
            email: WARD_ADMIN,
            inside: 200,
            outside: 404,
        },
        Case {
            email: HEAD,
            inside: 200,
            outside: 404,
        },
        Case {
            email: VOLUNTEER,
            inside: 200,
            outside: 404,
        },
        Case {
            email: OFFICIAL,
            inside: 403,
            outside: 403,
        },
        Case {
            email: OTHER_OFFICIAL,
            inside: 403,
            outside: 403,
        },
    ];
    for case in &reads {
        let token = app.token_for(case.email).await;
        for (target, expected) in [(&inside, case.inside), (&outside, case.outside)] {
            let who = format!("{} on {target}", case.email);
            assert_eq!(
                app.get(&format!("/api/v1/households/{target}"), Some(&token))
                    .await
                    .status,
                expected,
                "GET {who}"
            );
            assert_eq!(
                app.get(&format!("/api/v1/households/{target}/visits"), Some(&token))
                    .await
                    .status,
                expected,
                "visits {who}"
            );
            let patch = app
                .patch(
                    &format!("/api/v1/households/{target}"),
                    Some(&token),
                    Some("\"999\""),
                    &json!({"address": "x"}),
                )
                .await;
            let expected_patch = if expected == 200 { 412 } else { expected };
            assert_eq!(patch.status, expected_patch, "PATCH {who}");
        }
        let list = app.get("/api/v1/households", Some(&token)).await;
        assert_eq!(
            list.status,
            if case.inside == 403 { 403 } else { 200 },
            "list {}",
            case.email
        );
        let create_inside = app
            .post(
                "/api/v1/households",
                Some(&token),
                &json!({"area_id": world.n1, "address": "Mới", "head_name": "Mới"}),
            )
            .await;
        assert_eq!(
            create_inside.status,
            if case.inside == 403 { 403 } else { 201 },
            "create {}",
            case.email
        );
        let create_outside = app
            .post(
                "/api/v1/households",
                Some(&token),
                &json!({"area_id": world.n3, "address": "Mới", "head_name": "Mới"}),
            )
            .await;
        assert_eq!(
            create_outside.status,
            if case.outside == 200 {
                201
            } else {
                case.outside
            },
            "create outside {}",
            case.email
        );
    }
    // Deleting: heads and administrators only; outside the scope it does not exist.
    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(
        app.delete(&format!("/api/v1/households/{inside}"), Some(&volunteer))
            .await
            .status,
        403
    );
    let head = app.token_for(HEAD).await;
    assert_eq!(
        app.delete(&format!("/api/v1/households/{outside}"), Some(&head))
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete(&format!("/api/v1/households/{inside}"), Some(&head))
            .await
            .status,
        204
    );
    assert_eq!(app.get("/api/v1/households", None).await.status, 401);
}

#[actix_web::test]
async fn of_two_concurrent_edits_with_the_same_etag_exactly_one_wins() {
    let app = TestApp::spawn_with(&[("EID_WORKERS", "2")]).await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let id = add_household(&app, &head, &world.n1, "Số 1", "Chủ hộ").await;
    let path = format!("/api/v1/households/{id}");
    let send = |address: &'static str| {
        let request = app
            .client
            .patch(app.url(&path))
            .bearer_auth(&head)
            .header("If-Match", "\"1\"")
            .json(&json!({"address": address}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let (a, b) = futures_util::future::join(send("Số 2"), send("Số 3")).await;
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    assert_eq!(app.get(&path, Some(&head)).await.body["version"], 2);
}

#[actix_web::test]
async fn search_ignores_diacritics_and_case() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let dong = add_household(
        &app,
        &head,
        &world.n1,
        "Số 9, phố Đông Hồ",
        "Nguyễn Văn Ánh",
    )
    .await;
    add_household(&app, &head, &world.n1, "Số 3, phố Tây Sơn", "Lê Thị Hoa").await;
    // Every word must begin a word: "anh" is not the end of "Thanh".
    add_household(
        &app,
        &head,
        &world.n1,
        "Số 4, phố Tây Sơn",
        "Nguyễn Thanh Vân",
    )
    .await;
    for q in ["dong", "ĐÔNG", "nguyen van anh", "Nguyễn Văn Ánh", "ho anh"] {
        let found = app
            .get(
                &format!("/api/v1/households?q={}", urlencode(q)),
                Some(&head),
            )
            .await;
        assert_eq!(found.ids(), vec![dong.clone()], "{q}");
    }
    let none = app
        .get("/api/v1/households?q=nguyen%20van%20b", Some(&head))
        .await;
    assert!(none.ids().is_empty());
    let wildcard = app.get("/api/v1/households?q=%25", Some(&head)).await;
    assert!(
        wildcard.ids().is_empty(),
        "a % in the query is a character, not a wildcard"
    );
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn of_concurrent_creates_with_one_register_code_one_wins_and_the_others_get_409() {
    let app = TestApp::spawn_with(&[("EID_WORKERS", "4")]).await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let send = |n: usize| {
        let request = app
            .client
            .post(app.url("/api/v1/households"))
            .bearer_auth(&head)
            .json(&json!({"area_id": world.n1, "code": "HK-RACE", "address": format!("Số {n}"), "head_name": "Chủ hộ"}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let mut statuses = futures_util::future::join_all((0..8).map(send)).await;
    statuses.sort();
    assert_eq!(
        statuses,
        [201, 409, 409, 409, 409, 409, 409, 409],
        "never a 5xx"
    );
}

#[actix_web::test]
async fn the_activation_day_list_names_the_adults_still_missing_an_eid_or_a_signature_by_household_and_is_audited(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let first = add_household(&app, &head, &world.n1, "Số 1 Lê Lợi", "Trần Thị Bình").await;
    let done = add_household(&app, &head, &world.n1, "Số 2 Lê Lợi", "Lê Văn Cường").await;
    let person = |name: &str, born: &str| json!({"full_name": name, "birth_date": born, "sex": "female", "relation_to_head": "other"});
    let without_eid = add_resident(&app, &head, &first, person("Trần Thị Bình", "1970")).await;
    let child = add_resident(&app, &head, &first, person("Trần Bé", "2020")).await;
    let complete = add_resident(&app, &head, &done, person("Lê Văn Cường", "1965")).await;
    let expired = add_resident(&app, &head, &done, person("Lê Thị Dung", "1990")).await;
    let events =
        |household: &str, events: Value| json!({"household_id": household, "events": events});
    for body in [
        events(
            &first,
            json!([
                {"kind": "signature", "resident_id": without_eid, "value": "electronic", "effective_on": "2025-01-01"}
            ]),
        ),
        events(
            &done,
            json!([
                {"kind": "eid", "resident_id": complete, "value": "level2", "effective_on": "2025-01-01"},
                {"kind": "signature", "resident_id": complete, "value": "electronic", "effective_on": "2025-01-01"},
                {"kind": "eid", "resident_id": expired, "value": "level2", "effective_on": "2024-01-01"},
                {"kind": "signature", "resident_id": expired, "value": "digital", "effective_on": "2024-01-01",
                 "issued_on": "2024-01-01", "expires_on": "2025-01-01"}
            ]),
        ),
    ] {
        let recorded = app.post("/api/v1/status-events", Some(&head), &body).await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
    }

    let list = app
        .get("/api/v1/households/activation-list", Some(&head))
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        list.body["people"], 2,
        "the child and the complete adult are not called"
    );
    let households = list.body["households"].as_array().unwrap();
    assert_eq!(households.len(), 2);
    let person_of = |h: &Value| h["people"][0].clone();
    let bình = person_of(&households[0]);
    assert_eq!(bình["resident_id"], without_eid.as_str());
    assert_eq!(
        (bình["needs_eid"].clone(), bình["needs_signature"].clone()),
        (json!(true), json!(false))
    );
    let dung = person_of(&households[1]);
    assert_eq!(dung["resident_id"], expired.as_str());
    assert_eq!(
        (dung["needs_eid"].clone(), dung["needs_signature"].clone()),
        (json!(false), json!(true))
    );
    assert!(!list.text.contains(&child) && !list.text.contains(&complete));

    let xlsx = app
        .send(
            app.client
                .get(app.url("/api/v1/households/activation-list?format=xlsx"))
                .bearer_auth(&head),
        )
        .await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let audited: Vec<String> = app.with_db(|conn| {
        use diesel::prelude::*;
        eid_adoption::schema::audit_log::table
            .filter(eid_adoption::schema::audit_log::action.eq("activation_list.exported"))
            .select(eid_adoption::schema::audit_log::changes)
            .load(conn)
            .unwrap()
    });
    assert_eq!(audited.len(), 2, "both the JSON and the XLSX are exports");
    assert!(audited[1].contains("\"xlsx\"") && audited[1].contains("\"people\":2"));

    for who in [VOLUNTEER, OFFICIAL] {
        let token = app.token_for(who).await;
        let refused = app
            .get("/api/v1/households/activation-list", Some(&token))
            .await;
        assert_eq!(refused.status, 403, "{who}");
    }
    let elsewhere = app
        .get(
            &format!("/api/v1/households/activation-list?area_id={}", world.n3),
            Some(&head),
        )
        .await;
    assert_eq!(elsewhere.status, 404);
}

#[actix_web::test]
async fn people_sorted_by_name_page_through_every_one_once_in_order_without_diacritics() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let home = add_household(&app, &head, &world.n1, "Số 9", "Đỗ Văn An").await;
    let names = ["Đỗ Văn An", "Bùi Thị Én", "Ánh Dương", "Đặng Hà", "Cao Lan"];
    for name in names {
        add_resident(
            &app,
            &head,
            &home,
            json!({"full_name": name, "birth_date": "1980", "sex": "male", "relation_to_head": "other"}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/residents?sort=name&limit=2".to_owned();
    loop {
        let page = app.get(&path, Some(&head)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["full_name"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/residents?sort=name&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Ánh Dương", "Bùi Thị Én", "Cao Lan", "Đặng Hà", "Đỗ Văn An"]
    );
    // A cursor of the other sort, or a made-up one, is refused (never a 5xx, never page 1).
    let first = app
        .get("/api/v1/residents?sort=name&limit=2", Some(&head))
        .await;
    let name_cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let created = app.get("/api/v1/residents?limit=2", Some(&head)).await;
    let created_cursor = created.body["next_cursor"].as_str().unwrap().to_owned();
    use base64::Engine;
    let made_up = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("a\0b\0c");
    for path in [
        format!("/api/v1/residents?sort=created&cursor={name_cursor}"),
        format!("/api/v1/residents?sort=name&cursor={created_cursor}"),
        format!("/api/v1/residents?sort=name&cursor={made_up}"),
        "/api/v1/residents?sort=name&cursor=bm8tc2VwYXJhdG9y".to_owned(),
    ] {
        let bad = app.get(&path, Some(&head)).await;
        assert_eq!(bad.status, 422, "{path}: {}", bad.text);
        assert_eq!(bad.body["errors"][0]["code"], "invalid-cursor");
    }
}
