//! Every kind of malformed request gets a problem+json answer with the right status, in
//! Vietnamese by default and in English on request.

use serde_json::json;

use crate::helpers::{TestApp, NATIONAL_ADMIN};

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"email\": "),
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.problem_code(), "malformed-json");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("email=a&password=b"),
        )
        .await;
    assert_eq!(response.status, 415);
    assert_eq!(response.problem_code(), "unsupported-media-type");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = TestApp::spawn_with(&[("EID_MAX_BODY_BYTES", "1024")]).await;
    let big = "x".repeat(2048);
    let response = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.c", "password": big}),
        )
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.problem_code(), "payload-too-large");
}

#[actix_web::test]
async fn a_wrongly_typed_member_is_a_422_pointing_at_it() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": 42, "password": "x"}),
        )
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.problem_code(), "validation-failed");
    assert_eq!(response.body["errors"][0]["pointer"], "/email");
    assert_eq!(response.body["errors"][0]["code"], "invalid-type");
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.c", "password": "x", "extra": 1}),
        )
        .await;
    assert_eq!(unknown.body["errors"][0]["pointer"], "/extra");
    assert_eq!(unknown.body["errors"][0]["code"], "unknown-field");
}

#[actix_web::test]
async fn unparseable_query_and_path_parameters_are_400_problems() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let token = app.token_for(NATIONAL_ADMIN).await;
    let query = app.get("/api/v1/areas?limit=many", Some(&token)).await;
    assert_eq!(query.status, 400);
    assert_eq!(query.problem_code(), "invalid-query");
    let unknown_param = app.get("/api/v1/areas?colour=blue", Some(&token)).await;
    assert_eq!(unknown_param.problem_code(), "invalid-query");
    let out_of_range = app.get("/api/v1/areas?limit=0", Some(&token)).await;
    assert_eq!(out_of_range.status, 422);
    assert_eq!(out_of_range.body["errors"][0]["pointer"], "/limit");
    let bad_cursor = app
        .get("/api/v1/areas?cursor=not*base64", Some(&token))
        .await;
    assert_eq!(bad_cursor.status, 422);
    assert_eq!(bad_cursor.body["errors"][0]["code"], "invalid-cursor");
    let path = app.get("/api/v1/areas/not-a-uuid", Some(&token)).await;
    assert_eq!(path.status, 400);
    assert_eq!(path.problem_code(), "invalid-path-parameter");
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.problem_code(), "not-found");
    assert_eq!(response.body["instance"], "/api/v1/nothing-here");
    assert!(response.body["request_id"].is_string());
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::spawn().await;
    let response = app.send(app.client.delete(app.url("/api/v1/areas"))).await;
    assert_eq!(response.status, 405);
    assert_eq!(response.problem_code(), "method-not-allowed");
    assert_eq!(response.header("allow"), Some("GET, POST, HEAD"));
    let login = app.get("/api/v1/auth/login", None).await;
    assert_eq!(login.status, 405);
    assert_eq!(login.header("allow"), Some("POST"));
}

#[actix_web::test]
async fn a_literal_path_is_never_taken_for_the_id_of_the_route_beside_it() {
    let app = TestApp::spawn().await;
    for (request, allow) in [
        (
            app.client.patch(app.url("/api/v1/households/export")),
            "GET, HEAD",
        ),
        (
            app.client.delete(app.url("/api/v1/households/export")),
            "GET, HEAD",
        ),
        (
            app.client.delete(app.url("/api/v1/invitations/accept")),
            "POST",
        ),
        (
            app.client.get(app.url("/api/v1/invitations/accept")),
            "POST",
        ),
    ] {
        let response = app.send(request).await;
        assert_eq!(response.status, 405, "{}", response.text);
        assert_eq!(response.problem_code(), "method-not-allowed");
        assert_eq!(response.header("allow"), Some(allow));
    }
}

#[actix_web::test]
async fn problems_are_vietnamese_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let vi = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(vi.body["title"], "Không tìm thấy địa chỉ được yêu cầu");
    assert_eq!(vi.header("content-language"), Some("vi"));
    let en = app
        .send(
            app.client
                .get(app.url("/api/v1/nothing-here"))
                .header("Accept-Language", "en-GB,en;q=0.9"),
        )
        .await;
    assert_eq!(en.body["title"], "The requested resource does not exist");
    assert_eq!(en.header("content-language"), Some("en"));
    let field = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("Accept-Language", "en")
                .json(&json!({"email": "a@b.c"})),
        )
        .await;
    assert_eq!(field.body["errors"][0]["detail"], "This field is required");
}

#[actix_web::test]
async fn the_right_to_act_is_checked_before_the_body() {
    use crate::helpers::{OFFICIAL, VOLUNTEER};
    let app = TestApp::spawn().await;
    app.seed_world();
    let volunteer = app.token_for(VOLUNTEER).await;
    let official = app.token_for(OFFICIAL).await;
    for (path, token) in [
        ("/api/v1/users", &volunteer),
        ("/api/v1/areas", &volunteer),
        ("/api/v1/invitations", &volunteer),
        ("/api/v1/households", &official),
        ("/api/v1/visits", &official),
    ] {
        let refused = app.post(path, Some(token), &serde_json::json!({})).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.text);
        assert_eq!(refused.problem_code(), "forbidden");
    }
}

#[actix_web::test]
async fn a_whole_number_written_with_a_decimal_point_is_still_a_whole_number() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(crate::helpers::WARD_ADMIN).await;
    let created = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &serde_json::json!({"kind": "neighbourhood", "parent_id": world.ward, "code": "KP-FLOAT",
                                "name": "Khu phố số thực", "official_adult_population": 1250.0}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["official_adult_population"], 1250);
    let fraction = app
        .post(
            "/api/v1/areas",
            Some(&admin),
            &serde_json::json!({"kind": "neighbourhood", "parent_id": world.ward, "code": "KP-HALF",
                                "name": "Khu phố nửa", "official_adult_population": 1250.5}),
        )
        .await;
    assert_eq!(fraction.status, 422, "{}", fraction.text);
}

#[actix_web::test]
async fn an_if_match_that_is_no_etag_is_a_bad_request_and_a_stale_one_a_precondition_failure() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(crate::helpers::HEAD).await;
    let id = crate::households::add_household(&app, &head, &world.n1, "Số 1", "An").await;
    let path = format!("/api/v1/households/{id}");
    for (if_match, status, code) in [
        ("{}", 400, "invalid-if-match"),
        ("\"9\"", 412, "precondition-failed"),
    ] {
        let answer = app
            .patch(
                &path,
                Some(&head),
                Some(if_match),
                &serde_json::json!({"address": "Số 2"}),
            )
            .await;
        assert_eq!(answer.status, status, "{if_match}: {}", answer.text);
        assert_eq!(answer.problem_code(), code);
    }
}
