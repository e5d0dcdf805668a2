//! `Idempotency-Key` on creating POSTs: a request sent twice acts once.

use diesel::prelude::*;
use eid_adoption::schema::{households, idempotency_keys};
use serde_json::json;

use crate::helpers::{TestApp, HEAD, WARD_ADMIN};

fn household_count(app: &TestApp) -> i64 {
    app.with_db(|conn| households::table.count().get_result(conn).unwrap())
}

#[actix_web::test]
async fn a_request_sent_twice_with_the_same_key_creates_once_and_replays_the_answer() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let body = json!({"area_id": world.n1, "address": "Số 1", "head_name": "Chủ hộ"});
    let send = |key: &str, body: &serde_json::Value| {
        app.send(
            app.client
                .post(app.url("/api/v1/households"))
                .bearer_auth(&head)
                .header("Idempotency-Key", key)
                .json(body),
        )
    };
    let first = send("phone-42-000001", &body).await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = send("phone-42-000001", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the stored answer");
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(household_count(&app), 1, "created once");

    let other_body = json!({"area_id": world.n1, "address": "Số 2", "head_name": "Chủ hộ"});
    let reused = send("phone-42-000001", &other_body).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.problem_code(), "idempotency-key-reused");

    // Keys belong to a user: another user's identical key is a different request.
    let admin = app.token_for(WARD_ADMIN).await;
    let theirs = app
        .send(
            app.client
                .post(app.url("/api/v1/households"))
                .bearer_auth(&admin)
                .header("Idempotency-Key", "phone-42-000001")
                .json(&other_body),
        )
        .await;
    assert_eq!(theirs.status, 201);
    assert_eq!(household_count(&app), 2);
}

#[actix_web::test]
async fn a_key_still_being_answered_gets_409_and_a_bad_key_400() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    // The first request with this key has been claimed and not answered yet.
    app.with_db(|conn| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(&world.head),
                idempotency_keys::key.eq("in-flight"),
                idempotency_keys::request_hash.eq("whatever"),
                idempotency_keys::created_at.eq(eid_adoption::db::now()),
            ))
            .execute(conn)
            .unwrap()
    });
    let body = json!({"area_id": world.n1, "address": "Số 1", "head_name": "Chủ hộ"});
    let request = |key: &str| {
        app.client
            .post(app.url("/api/v1/households"))
            .bearer_auth(&head)
            .header("Idempotency-Key", key)
            .json(&body)
    };
    let busy = app.send(request("in-flight")).await;
    assert_eq!(
        busy.problem_code(),
        "idempotency-key-reused",
        "the stored hash differs: a different request"
    );
    app.with_db(|conn| {
        diesel::update(idempotency_keys::table)
            .set(idempotency_keys::request_hash.eq(request_hash_of(&app, &body)))
            .execute(conn)
            .unwrap()
    });
    let busy = app.send(request("in-flight")).await;
    assert_eq!(busy.status, 409);
    assert_eq!(busy.problem_code(), "idempotency-key-in-progress");
    let too_long = app.send(request(&"k".repeat(300))).await;
    assert_eq!(too_long.status, 400);
    assert_eq!(too_long.problem_code(), "invalid-idempotency-key");
    assert_eq!(household_count(&app), 0);
}

/// The hash the server computes for a POST of `body` to `/api/v1/households`.
fn request_hash_of(_: &TestApp, body: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"POST /api/v1/households\n");
    hasher.update(serde_json::to_vec(body).unwrap());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
