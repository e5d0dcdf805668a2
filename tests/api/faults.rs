//! Faults of the server are never the phone's fault: a database failure in the middle of
//! a push (SQLite's disk full, a PostgreSQL query cancelled) fails the whole push with 503
//! and `Retry-After`, commits nothing and keeps `last_seq`, so the phone sends the same
//! batch again and everything lands once. A failure that passes (a query cancelled once)
//! is retried inside the server and the phone never sees it.

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::{TestApp, World, VOLUNTEER};
use crate::phone::Phone;
use crate::sync::{count, household_data, is_postgres};

/// A queue a volunteer might bring back from a morning offline: households, each with a
/// resident and a visit that records the resident's e-ID and signature.
fn morning_of_work(phone: &mut Phone<'_>, world: &World, households: usize) {
    for n in 0..households {
        let household = phone.create("household", household_data(world, &format!("Số {n} ngõ 5")));
        let resident = phone.create(
            "resident",
            json!({"household_id": household, "full_name": format!("Phạm Văn {n}"),
                   "birth_date": "1970-05-01", "sex": "male", "relation_to_head": "head"}),
        );
        let today = phone.today();
        phone.visit(
            &household,
            "helped",
            vec![
                json!({"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": today}),
                json!({"kind": "signature", "resident_id": resident, "value": "electronic", "effective_on": today}),
            ],
        );
    }
}

fn stored_rows(app: &TestApp) -> [i64; 4] {
    [
        count(app, "SELECT COUNT(*) AS n FROM households"),
        count(app, "SELECT COUNT(*) AS n FROM residents"),
        count(app, "SELECT COUNT(*) AS n FROM visits"),
        count(app, "SELECT COUNT(*) AS n FROM status_events"),
    ]
}

/// Makes the database fail part-way through the next big write: on SQLite the disk is
/// "full" (the writer may not grow the file), on PostgreSQL every insert of a visit after
/// the tenth has its query cancelled.
fn break_the_database(app: &TestApp) {
    if is_postgres() {
        app.with_db(|conn| {
            conn.batch_execute(
                "CREATE FUNCTION cancel_me() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF (SELECT COUNT(*) FROM visits) >= 10 THEN
                     PERFORM pg_cancel_backend(pg_backend_pid());
                     PERFORM pg_sleep(5);
                   END IF;
                   RETURN NEW;
                 END $$;
                 CREATE TRIGGER cancel_me BEFORE INSERT ON visits
                   FOR EACH ROW EXECUTE FUNCTION cancel_me();",
            )
            .unwrap()
        });
    } else {
        app.with_db(|conn| {
            // The writer is the pool's only connection: this is the server's writer.
            conn.batch_execute("PRAGMA max_page_count = 1; -- clamps to the file's current size")
                .unwrap()
        });
    }
}

fn mend_the_database(app: &TestApp) {
    app.with_db(|conn| {
        if is_postgres() {
            conn.batch_execute("DROP TRIGGER cancel_me ON visits; DROP FUNCTION cancel_me();")
        } else {
            conn.batch_execute("PRAGMA max_page_count = 1073741823;")
        }
        .unwrap()
    });
}

async fn last_seq(app: &TestApp, phone: &Phone<'_>) -> i64 {
    let state = app
        .send(
            app.client
                .get(app.url(&format!("/api/v1/sync/state?device_id={}", phone.device_id)))
                .bearer_auth(&phone.access_token)
                .header("X-App-Version", crate::phone::APP_VERSION),
        )
        .await;
    assert_eq!(state.status, 200, "{}", state.text);
    state.body["last_seq"].as_i64().unwrap()
}

fn results_of(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_database_failure_in_the_middle_of_a_push_fails_it_whole_and_the_resend_lands_everything()
{
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    morning_of_work(&mut phone, &world, 60);
    let before = stored_rows(&app);
    break_the_database(&app);

    let (key, body) = phone.next_batch();
    let failed = phone.send_push(&key, &body).await;
    assert_eq!(failed.status, 503, "{:.600}", failed.text);
    assert_eq!(failed.problem_code(), "service-unavailable");
    assert!(failed.header("retry-after").is_some());
    assert!(failed
        .header("content-type")
        .unwrap()
        .starts_with("application/problem+json"));
    mend_the_database(&app);
    assert_eq!(
        stored_rows(&app),
        before,
        "nothing of the failed push was kept"
    );
    assert_eq!(last_seq(&app, &phone).await, 0, "last_seq did not move");

    // The phone sends the same bytes with the same key: the 503 was not kept under it.
    let resent = phone.send_push(&key, &body).await;
    assert_eq!(resent.status, 200, "{:.600}", resent.text);
    assert!(resent.header("idempotent-replayed").is_none());
    let results = results_of(&resent.body);
    assert_eq!(results.len(), 180);
    assert!(results.iter().all(|r| *r == "applied"), "{results:?}");
    assert_eq!(resent.body["last_seq"], 180);
    assert_eq!(
        stored_rows(&app),
        [
            before[0] + 60,
            before[1] + 60,
            before[2] + 60,
            before[3] + 120
        ]
    );
}

#[actix_web::test]
async fn a_query_cancelled_once_is_run_again_inside_the_server_and_the_phone_never_sees_it() {
    if !is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    morning_of_work(&mut phone, &world, 20);
    // One cancellation, the first time a visit is inserted. The count is a sequence:
    // sequences are not rolled back with the cancelled transaction.
    app.with_db(|conn| {
        conn.batch_execute(
            "CREATE SEQUENCE cancelled_once;
             CREATE FUNCTION cancel_once() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF nextval('cancelled_once') = 1 THEN
                 PERFORM pg_cancel_backend(pg_backend_pid());
                 PERFORM pg_sleep(5);
               END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER cancel_once BEFORE INSERT ON visits
               FOR EACH ROW EXECUTE FUNCTION cancel_once();",
        )
        .unwrap()
    });
    let (key, body) = phone.next_batch();
    let answer = phone.send_push(&key, &body).await;
    assert_eq!(answer.status, 200, "{:.600}", answer.text);
    let results = results_of(&answer.body);
    assert!(results.iter().all(|r| *r == "applied"), "{results:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 20);
    assert_eq!(
        count(&app, "SELECT last_value AS n FROM cancelled_once"),
        21,
        "the first attempt was cancelled, the second went through"
    );
}

#[actix_web::test]
async fn a_mutation_with_a_nul_in_its_envelope_is_rejected_alone_and_does_not_block_the_queue() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create("household", household_data(&world, "Số 3 ngõ 9"));
    phone.queue_mutation(
        "cre\u{0}ate",
        "vi\u{0}sit",
        &"\u{0}x".repeat(3000),
        None,
        json!({}),
    );
    phone.visit(&household, "not_home", vec![]);
    let (key, body) = phone.next_batch();
    let answer = phone.send_push(&key, &body).await;
    assert_eq!(answer.status, 200, "{:.600}", answer.text);
    assert_eq!(results_of(&answer.body), ["applied", "rejected", "applied"]);
    assert_eq!(answer.body["last_seq"], 3);
}
