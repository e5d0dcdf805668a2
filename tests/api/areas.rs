//! The area tree: who sees which areas, who may create and edit them.

use serde_json::json;

use crate::helpers::{
    TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL, VOLUNTEER, WARD_ADMIN,
};

async fn listed_codes(app: &TestApp, token: &str) -> Vec<String> {
    let response = app.get("/api/v1/areas?limit=500", Some(token)).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn each_role_lists_exactly_its_own_subtree() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let mut all = listed_codes(&app, &app.token_for(NATIONAL_ADMIN).await).await;
    all.sort();
    assert_eq!(
        all,
        ["P", "P-T", "P-T-W", "P-T-W-1", "P-T-W-2", "P-T-W2", "P-T-W2-1"]
    );
    let mut ward = listed_codes(&app, &app.token_for(OFFICIAL).await).await;
    ward.sort();
    assert_eq!(ward, ["P-T-W", "P-T-W-1", "P-T-W-2"]);
    assert_eq!(
        listed_codes(&app, &app.token_for(WARD_ADMIN).await)
            .await
            .len(),
        3
    );
    assert_eq!(
        listed_codes(&app, &app.token_for(HEAD).await).await,
        ["P-T-W-1"]
    );
    assert_eq!(
        listed_codes(&app, &app.token_for(VOLUNTEER).await).await,
        ["P-T-W-1"]
    );
    let mut other = listed_codes(&app, &app.token_for(OTHER_OFFICIAL).await).await;
    other.sort();
    assert_eq!(other, ["P-T-W2", "P-T-W2-1"]);
}

#[actix_web::test]
async fn the_list_pages_with_a_cursor_in_tree_order_and_filters_by_kind_and_parent() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let token = app.token_for(NATIONAL_ADMIN).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/areas?limit=3&cursor={c}"),
            None => "/api/v1/areas?limit=3".to_owned(),
        };
        let page = app.get(&path, Some(&token)).await;
        assert_eq!(page.status, 200);
        seen.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(
        seen[0], world.province,
        "a parent comes before its children"
    );
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 7);

    let wards = app.get("/api/v1/areas?kind=ward", Some(&token)).await;
    assert_eq!(wards.ids().len(), 2);
    let children = app
        .get(
            &format!("/api/v1/areas?parent_id={}", world.ward),
            Some(&token),
        )
        .await;
    let mut ids = children.ids();
    ids.sort();
    let mut expected = vec![world.n1.clone(), world.n2.clone()];
    expected.sort();
    assert_eq!(ids, expected);
}

#[actix_web::test]
async fn an_area_outside_the_callers_scope_is_not_found() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let own = app
        .get(&format!("/api/v1/areas/{}", world.n1), Some(&head))
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(own.header("etag"), Some("\"1\""));
    for outside in [&world.ward, &world.n2, &world.n3, &world.province] {
        let response = app
            .get(&format!("/api/v1/areas/{outside}"), Some(&head))
            .await;
        assert_eq!(response.status, 404);
        assert_eq!(response.problem_code(), "area-not-found");
    }
    // Same answer as an id that does not exist at all: no existence leak.
    let missing = app
        .get(
            "/api/v1/areas/01000000-0000-7000-8000-000000000000",
            Some(&head),
        )
        .await;
    assert_eq!(missing.problem_code(), "area-not-found");
}

#[actix_web::test]
async fn only_administrators_create_areas_and_only_inside_their_scope() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let body = |parent: &str, code: &str| json!({"parent_id": parent, "kind": "neighbourhood", "code": code, "name": "Khu phố mới"});
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let token = app.token_for(email).await;
        let response = app
            .post("/api/v1/areas", Some(&token), &body(&world.ward, "NEW-X"))
            .await;
        assert_eq!(response.status, 403, "{email}");
        assert_eq!(response.problem_code(), "forbidden");
    }
    let ward_admin = app.token_for(WARD_ADMIN).await;
    let created = app
        .post(
            "/api/v1/areas",
            Some(&ward_admin),
            &body(&world.ward, "P-T-W-3"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["parent_id"], world.ward.as_str());
    assert_eq!(created.header("etag"), Some("\"1\""));
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(app.get(&location, Some(&ward_admin)).await.status, 200);

    let elsewhere = app
        .post(
            "/api/v1/areas",
            Some(&ward_admin),
            &body(&world.ward2, "P-T-W2-9"),
        )
        .await;
    assert_eq!(elsewhere.problem_code(), "area-not-found");
    let province = app
        .post(
            "/api/v1/areas",
            Some(&ward_admin),
            &json!({"kind": "province", "code": "Q", "name": "Tỉnh Q"}),
        )
        .await;
    assert_eq!(province.status, 422);
    assert_eq!(province.body["errors"][0]["pointer"], "/parent_id");

    let national = app.token_for(NATIONAL_ADMIN).await;
    let province = app
        .post(
            "/api/v1/areas",
            Some(&national),
            &json!({"kind": "province", "code": "Q", "name": "Tỉnh Q"}),
        )
        .await;
    assert_eq!(province.status, 201);
    let taken = app
        .post(
            "/api/v1/areas",
            Some(&national),
            &body(&world.ward, "P-T-W-3"),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.problem_code(), "area-code-taken");
}

#[actix_web::test]
async fn an_area_must_fit_the_kind_of_its_parent_and_have_a_plain_code() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let wrong_kind = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &json!({"parent_id": world.town, "kind": "neighbourhood", "code": "X1", "name": "X"}),
        )
        .await;
    assert_eq!(wrong_kind.status, 422);
    assert_eq!(
        wrong_kind.body["errors"][0]["code"],
        "kind-does-not-fit-parent"
    );
    let bad = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &json!({"parent_id": world.ward, "kind": "neighbourhood", "code": "Khu phố", "name": "", "official_adult_population": -1}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/code", "/name", "/official_adult_population"]);
    let unknown_kind = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &json!({"parent_id": world.ward, "kind": "village", "code": "V", "name": "V"}),
        )
        .await;
    assert_eq!(unknown_kind.status, 422);
    assert_eq!(unknown_kind.body["errors"][0]["pointer"], "/kind");
}

#[actix_web::test]
async fn an_administrator_edits_an_area_with_if_match() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let path = format!("/api/v1/areas/{}", world.n1);
    let body = json!({"name": "Khu phố Một", "official_adult_population": 1200});

    let without = app.patch(&path, Some(&admin), None, &body).await;
    assert_eq!(without.status, 428);
    assert_eq!(without.problem_code(), "precondition-required");
    let stale = app.patch(&path, Some(&admin), Some("\"7\""), &body).await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.problem_code(), "precondition-failed");

    let updated = app.patch(&path, Some(&admin), Some("\"1\""), &body).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["name"], "Khu phố Một");
    assert_eq!(updated.body["official_adult_population"], 1200);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    // The same If-Match a second time is now stale.
    assert_eq!(
        app.patch(&path, Some(&admin), Some("\"1\""), &body)
            .await
            .status,
        412
    );

    let cleared = app
        .patch(
            &path,
            Some(&admin),
            Some("\"2\""),
            &json!({"official_adult_population": null}),
        )
        .await;
    assert_eq!(cleared.status, 200);
    assert!(cleared.body["official_adult_population"].is_null());
    assert_eq!(
        cleared.body["name"], "Khu phố Một",
        "members left out are unchanged"
    );

    let outside = app
        .patch(
            &format!("/api/v1/areas/{}", world.n3),
            Some(&admin),
            Some("\"1\""),
            &body,
        )
        .await;
    assert_eq!(outside.problem_code(), "area-not-found");
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let token = app.token_for(email).await;
        assert_eq!(
            app.patch(&path, Some(&token), Some("\"3\""), &body)
                .await
                .status,
            403,
            "{email}"
        );
    }
    let taken = app
        .patch(
            &path,
            Some(&admin),
            Some("\"3\""),
            &json!({"code": "P-T-W-2"}),
        )
        .await;
    assert_eq!(taken.problem_code(), "area-code-taken");
}

#[actix_web::test]
async fn every_area_endpoint_requires_a_token() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let path = format!("/api/v1/areas/{}", world.n1);
    assert_eq!(app.get("/api/v1/areas", None).await.status, 401);
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(
        app.post("/api/v1/areas", None, &json!({})).await.status,
        401
    );
    assert_eq!(
        app.patch(&path, None, Some("\"1\""), &json!({}))
            .await
            .status,
        401
    );
}
