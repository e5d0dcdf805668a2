//! `Idempotency-Key` on creating POSTs: a request sent twice acts once.

use diesel::prelude::*;
use eid_adoption::schema::{households, idempotency_keys};
use serde_json::json;

use crate::helpers::{TestApp, HEAD, VOLUNTEER, WARD_ADMIN};
use crate::phone::Phone;
use crate::sync::household_data;

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
                idempotency_keys::lease_until
                    .eq(eid_adoption::db::now() + chrono::Duration::seconds(8)),
                idempotency_keys::holder.eq("a node that is still running it"),
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
    let wait: u64 = busy.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "at most the lease left: {wait}");
    let too_long = app.send(request(&"k".repeat(300))).await;
    assert_eq!(too_long.status, 400);
    assert_eq!(too_long.problem_code(), "invalid-idempotency-key");
    // Without a token the answer is 401, however bad the key.
    let anonymous = app
        .send(
            app.client
                .post(app.url("/api/v1/households"))
                .header("Idempotency-Key", "")
                .json(&body),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.problem_code(), "unauthenticated");
    assert_eq!(household_count(&app), 0);
}

#[actix_web::test]
async fn a_key_whose_request_was_cut_off_by_a_crash_is_answered_at_once_on_resend() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let body = json!({"area_id": world.n1, "address": "Số 1", "head_name": "Chủ hộ"});
    let hash = request_hash_of(&app, &body);
    // Two marks left by requests that never finished: one whose lease lapsed (its node
    // died), one held by a node that has started again since.
    app.with_db(|conn| {
        for (key, lease, holder) in [
            (
                "lapsed",
                chrono::Duration::seconds(-1),
                "dead-node 10.0.0.1:8080#r1",
            ),
            (
                "restarted",
                chrono::Duration::seconds(9),
                "this-node 10.0.0.2:8080#r2",
            ),
        ] {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::user_id.eq(&world.head),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::request_hash.eq(&hash),
                    idempotency_keys::created_at.eq(eid_adoption::db::now()),
                    idempotency_keys::lease_until.eq(eid_adoption::db::now() + lease),
                    idempotency_keys::holder.eq(holder),
                ))
                .execute(conn)
                .unwrap();
        }
        let released =
            eid_adoption::idempotency::release_leases_of(conn, "this-node 10.0.0.2:8080").unwrap();
        assert_eq!(released, 1, "only the restarted node's own lease");
    });
    let send = |key: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/households"))
                .bearer_auth(&head)
                .header("Idempotency-Key", key)
                .json(&body),
        )
    };
    let lapsed = send("lapsed").await;
    assert_eq!(lapsed.status, 201, "{}", lapsed.text);
    let restarted = send("restarted").await;
    assert_eq!(restarted.status, 201, "{}", restarted.text);
    let replayed = send("lapsed").await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    let in_progress: i64 = app.with_db(|conn| {
        idempotency_keys::table
            .filter(idempotency_keys::status.is_null())
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(in_progress, 0);
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

#[actix_web::test]
async fn a_replayed_answer_speaks_the_language_the_resend_asks_for() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let send = |key: &str, lang: &str, body: &serde_json::Value| {
        app.send(
            app.client
                .post(app.url("/api/v1/households"))
                .bearer_auth(&head)
                .header("Idempotency-Key", key)
                .header("Accept-Language", lang)
                .json(body),
        )
    };
    // A refused create: the problem is stored, and replayed in either language.
    let refused = json!({"area_id": world.n1, "address": "", "head_name": "Chủ hộ"});
    let english = send("phone-7-000001", "en", &refused).await;
    assert_eq!(english.status, 422, "{}", english.text);
    assert_eq!(english.header("content-language"), Some("en"));
    let vietnamese = send("phone-7-000001", "vi", &refused).await;
    assert_eq!(vietnamese.header("idempotent-replayed"), Some("true"));
    assert_eq!(vietnamese.status, 422);
    assert_eq!(vietnamese.header("content-language"), Some("vi"));
    assert_eq!(vietnamese.problem_code(), english.problem_code());
    assert_ne!(
        vietnamese.body["title"], english.body["title"],
        "in Vietnamese"
    );
    let english_again = send("phone-7-000001", "en", &refused).await;
    assert_eq!(english_again.body["title"], english.body["title"]);

    // A push's rejections are text too: a resend is answered in its own language.
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.create("household", household_data(&world, ""));
    let (key, body) = phone.next_batch();
    let push = |lang: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/sync/push"))
                .bearer_auth(&phone.access_token)
                .header("Idempotency-Key", &key)
                .header("X-App-Version", "1.0.0")
                .header("Accept-Language", lang)
                .json(&body),
        )
    };
    let first = push("en").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["results"][0]["result"], "rejected");
    let again = push("vi").await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("content-language"), Some("vi"));
    let (said_first, said_again) = (
        &first.body["results"][0]["problem"],
        &again.body["results"][0]["problem"],
    );
    assert_eq!(said_again["code"], said_first["code"]);
    assert_ne!(said_again["title"], said_first["title"], "in Vietnamese");
    assert_eq!(
        again.body["last_seq"], first.body["last_seq"],
        "the same answer otherwise"
    );
}
