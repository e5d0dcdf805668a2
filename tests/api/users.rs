//! Accounts: administrators manage the accounts in their scope; everybody reads their own.

use serde_json::json;

use crate::helpers::{
    TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL, PASSWORD, VOLUNTEER, WARD_ADMIN,
};

#[actix_web::test]
async fn every_role_reads_its_own_account_with_area_and_assignments() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let volunteer = app
        .get("/api/v1/me", Some(&app.token_for(VOLUNTEER).await))
        .await;
    assert_eq!(volunteer.status, 200);
    assert_eq!(volunteer.body["id"], world.volunteer.as_str());
    assert_eq!(volunteer.body["role"], "volunteer");
    assert_eq!(volunteer.body["assignments"][0]["id"], world.n1.as_str());
    assert!(volunteer.body.get("password_hash").is_none());
    let admin = app
        .get("/api/v1/me", Some(&app.token_for(NATIONAL_ADMIN).await))
        .await;
    assert!(
        admin.body["area"].is_null(),
        "a national administrator has no area"
    );
    for email in [WARD_ADMIN, OFFICIAL, HEAD, OTHER_OFFICIAL] {
        let me = app
            .get("/api/v1/me", Some(&app.token_for(email).await))
            .await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["email"], email);
    }
}

#[actix_web::test]
async fn only_administrators_list_accounts_and_see_only_their_scope() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let response = app
            .get("/api/v1/users", Some(&app.token_for(email).await))
            .await;
        assert_eq!(response.status, 403, "{email}");
        assert_eq!(response.problem_code(), "forbidden");
    }
    let national = app
        .get("/api/v1/users", Some(&app.token_for(NATIONAL_ADMIN).await))
        .await;
    assert_eq!(national.ids().len(), 6);
    let ward = app
        .get("/api/v1/users", Some(&app.token_for(WARD_ADMIN).await))
        .await;
    let mut ids = ward.ids();
    ids.sort();
    let mut expected = vec![
        world.ward_admin,
        world.official,
        world.head,
        world.volunteer.clone(),
    ];
    expected.sort();
    assert_eq!(
        ids, expected,
        "neither the national admin nor the other ward's official"
    );

    let volunteers = app
        .get(
            "/api/v1/users?role=volunteer",
            Some(&app.token_for(WARD_ADMIN).await),
        )
        .await;
    assert_eq!(volunteers.ids(), [world.volunteer]);
    let paged = app
        .get(
            "/api/v1/users?limit=4",
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(paged.ids().len(), 4);
    let next = paged.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/users?limit=4&cursor={next}"),
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(rest.ids().len(), 2);
    assert!(rest.body["next_cursor"].is_null());
}

#[actix_web::test]
async fn an_administrator_creates_a_volunteer_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({
                "email": "New.Volunteer@Test.local",
                "name": "Trần Thị Bình",
                "role": "volunteer",
                "area_id": world.ward,
                "password": "a long enough password",
                "assignment_ids": [world.n1, world.n2],
                "language": "en"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["email"], "new.volunteer@test.local");
    assert_eq!(created.body["assignments"].as_array().unwrap().len(), 2);
    assert_eq!(created.body["language"], "en");
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(
        app.get(&location, Some(&admin)).await.body["name"],
        "Trần Thị Bình"
    );
    let login = app
        .login("new.volunteer@test.local", "a long enough password")
        .await;
    assert_eq!(login.status, 200);

    let again = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"email": "new.volunteer@test.local", "name": "X", "role": "official", "area_id": world.ward, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_code(), "email-taken");
}

#[actix_web::test]
async fn account_rules_are_checked_field_by_field() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let create = |body: serde_json::Value| {
        let app = &app;
        let admin = admin.clone();
        async move { app.post("/api/v1/users", Some(&admin), &body).await }
    };
    let bad = create(json!({"email": "not-an-email", "name": "", "role": "volunteer", "area_id": world.n1, "password": "short"})).await;
    assert_eq!(bad.status, 422);
    let pointers: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/email", "/name", "/password"]);

    let outside = create(json!({"email": "x@test.local", "name": "X", "role": "official", "area_id": world.ward2, "password": "long enough password"})).await;
    assert_eq!(
        outside.status, 404,
        "an area outside the scope answers like a missing one"
    );
    assert_eq!(outside.problem_code(), "area-not-found");
    let national = create(json!({"email": "x@test.local", "name": "X", "role": "admin", "password": "long enough password"})).await;
    assert_eq!(national.body["errors"][0]["pointer"], "/area_id");
    let head_of_ward = create(json!({"email": "x@test.local", "name": "X", "role": "head", "area_id": world.ward, "password": "long enough password"})).await;
    assert_eq!(
        head_of_ward.body["errors"][0]["code"],
        "head-needs-neighbourhood"
    );
    let assigned_official = create(json!({"email": "x@test.local", "name": "X", "role": "official", "area_id": world.ward, "password": "long enough password", "assignment_ids": [world.n1]})).await;
    assert_eq!(
        assigned_official.body["errors"][0]["code"],
        "assignments-only-for-volunteers"
    );
    let assigned_elsewhere = create(json!({"email": "x@test.local", "name": "X", "role": "volunteer", "area_id": world.n1, "password": "long enough password", "assignment_ids": [world.n1, world.n2]})).await;
    assert_eq!(
        assigned_elsewhere.body["errors"][0]["pointer"],
        "/assignment_ids/1"
    );
    let unknown_role = create(json!({"email": "x@test.local", "name": "X", "role": "superuser", "area_id": world.ward, "password": "long enough password"})).await;
    assert_eq!(unknown_role.body["errors"][0]["pointer"], "/role");
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let token = app.token_for(email).await;
        let response = app
            .post("/api/v1/users", Some(&token), &json!({"email": "y@test.local", "name": "Y", "role": "volunteer", "area_id": world.n1, "password": "long enough password"}))
            .await;
        assert_eq!(response.status, 403, "{email}");
    }
}

#[actix_web::test]
async fn an_account_outside_the_scope_is_not_found() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", world.head), Some(&admin))
            .await
            .status,
        200
    );
    for outside in [&world.other_official, &world.national_admin] {
        let response = app
            .get(&format!("/api/v1/users/{outside}"), Some(&admin))
            .await;
        assert_eq!(response.status, 404);
        assert_eq!(response.problem_code(), "user-not-found");
        let patch = app
            .patch(
                &format!("/api/v1/users/{outside}"),
                Some(&admin),
                Some("\"1\""),
                &json!({"name": "X"}),
            )
            .await;
        assert_eq!(patch.problem_code(), "user-not-found");
    }
    for email in [OFFICIAL, HEAD, VOLUNTEER] {
        let token = app.token_for(email).await;
        assert_eq!(
            app.get(&format!("/api/v1/users/{}", world.head), Some(&token))
                .await
                .status,
            403
        );
        let patch = app
            .patch(
                &format!("/api/v1/users/{}", world.head),
                Some(&token),
                Some("\"1\""),
                &json!({"name": "X"}),
            )
            .await;
        assert_eq!(patch.status, 403, "{email}");
    }
}

#[actix_web::test]
async fn an_administrator_reassigns_and_disables_a_volunteer() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let volunteer_login = app.login(VOLUNTEER, PASSWORD).await;
    let refresh_token = volunteer_login.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/users/{}", world.volunteer);

    let moved = app
        .patch(
            &path,
            Some(&admin),
            Some("\"1\""),
            &json!({"area_id": world.ward, "assignment_ids": [world.n2]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["assignments"][0]["id"], world.n2.as_str());
    assert_eq!(moved.header("etag"), Some("\"2\""));

    let promoted = app
        .patch(
            &path,
            Some(&admin),
            Some("\"2\""),
            &json!({"role": "official"}),
        )
        .await;
    assert_eq!(promoted.status, 200);
    assert_eq!(
        promoted.body["assignments"].as_array().unwrap().len(),
        0,
        "only volunteers keep assignments"
    );

    let disabled = app
        .patch(
            &path,
            Some(&admin),
            Some("\"3\""),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.body["active"], false);
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh_token}),
        )
        .await;
    assert_eq!(
        refresh.problem_code(),
        "invalid-refresh-token",
        "disabling revokes every sign-in"
    );
}

#[actix_web::test]
async fn an_administrator_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let path = format!("/api/v1/users/{}", world.ward_admin);
    let response = app
        .patch(
            &path,
            Some(&admin),
            Some("\"1\""),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(response.status, 403);
    let renamed = app
        .patch(
            &path,
            Some(&admin),
            Some("\"1\""),
            &json!({"name": "Tên mới"}),
        )
        .await;
    assert_eq!(renamed.status, 200);
}

#[actix_web::test]
async fn every_user_endpoint_requires_a_token() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let path = format!("/api/v1/users/{}", world.head);
    assert_eq!(app.get("/api/v1/me", None).await.status, 401);
    assert_eq!(app.get("/api/v1/users", None).await.status, 401);
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(
        app.post("/api/v1/users", None, &json!({})).await.status,
        401
    );
    assert_eq!(
        app.patch(&path, None, Some("\"1\""), &json!({}))
            .await
            .status,
        401
    );
}
