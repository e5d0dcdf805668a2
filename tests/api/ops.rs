//! Health, readiness, metrics, the served contract and the docs page.

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    let expected = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(ready.body["database"], expected);
    assert!(health.header("x-request-id").is_some());
    assert_eq!(health.header("x-content-type-options"), Some("nosniff"));
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = TestApp::spawn().await;
    app.get("/healthz", None).await;
    app.get("/api/v1/areas/01000000-0000-7000-8000-000000000000", None)
        .await;
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .text
            .contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        metrics.text
    );
    assert!(metrics
        .text
        .contains(r#"route="/api/v1/areas/{id}",status="401""#));
    assert!(metrics
        .text
        .contains("http_request_duration_seconds_bucket"));
}

#[actix_web::test]
async fn metrics_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("EID_METRICS_ENABLED", "false")]).await;
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, 404);
}

#[actix_web::test]
async fn a_metrics_token_when_set_is_required_as_a_bearer_token() {
    let token = "metrics-token-0123456789abcdef-0123456789";
    let app = TestApp::spawn_with(&[("EID_METRICS_TOKEN", token)]).await;
    assert_eq!(
        app.get("/metrics", None).await.problem_code(),
        "unauthenticated"
    );
    assert_eq!(
        app.get("/metrics", Some("wrong")).await.problem_code(),
        "invalid-token"
    );
    assert_eq!(app.get("/metrics", Some(token)).await.status, 200);
}

#[actix_web::test]
async fn the_contract_and_the_docs_are_served_without_internet() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let redirect = app.get("/docs", None).await;
    assert!(matches!(redirect.status, 301 | 302 | 307 | 308));
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"));
    assert!(!page.text.contains("://cdn"), "assets are vendored");
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
}
