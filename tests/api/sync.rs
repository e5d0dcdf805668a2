//! Offline sync, scenario by scenario: every failure a phone on a bad network produces,
//! played by the reference phone (`phone.rs`) against the real server, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL.

use std::time::Duration;

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::{TestApp, World, HEAD, VOLUNTEER, WARD_ADMIN};
use crate::phone::{Phone, APP_VERSION};

pub fn is_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

async fn household_by_head(app: &TestApp, world: &World, address: &str) -> Value {
    let head = app.token_for(HEAD).await;
    let created = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": address, "head_name": "Trần Văn Bình", "phone": "0912000001"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body
}

/// A `SELECT COUNT(*) AS n …` on the test's database.
pub fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.with_db(|conn| diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n)
}

/// How many mutations of a push answer were applied.
fn applied(answer: &crate::helpers::TestResponse) -> usize {
    answer.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["result"] == "applied")
        .count()
}

pub fn household_data(world: &World, address: &str) -> Value {
    json!({"area_id": world.n1, "address": address, "head_name": "Lê Thị Cúc"})
}

#[actix_web::test]
async fn a_push_whose_answer_was_lost_is_resent_without_duplicating_anything() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create("household", household_data(&world, "Số 1 Lý Thường Kiệt"));
    phone.visit(&household, "not_home", vec![]);
    let (key, body) = phone.next_batch();
    let lost = phone.send_push(&key, &body).await;
    assert_eq!(lost.status, 200, "{}", lost.text);

    // The same batch again, with its key: the stored answer, marked as replayed.
    let replayed = phone.send_push(&key, &body).await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.body, lost.body);

    // The phone recorded more meanwhile: a new batch (new key) repeats 1 and 2.
    phone.visit(&household, "helped", vec![]);
    let responses = phone.push().await;
    let results = responses[0].body["results"].as_array().unwrap();
    assert_eq!(results[0]["result"], "duplicate");
    assert_eq!(results[0]["original_result"], "applied");
    assert_eq!(results[1]["result"], "duplicate");
    assert_eq!(results[2]["result"], "applied");
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM households WHERE id = '{household}'")
        ),
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 2);
    assert!(phone.queue.is_empty());
}

#[actix_web::test]
async fn two_identical_pushes_in_flight_at_once_apply_once() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create("household", household_data(&world, "Số 2 Lý Thường Kiệt"));
    for _ in 0..5 {
        phone.visit(&household, "not_home", vec![]);
    }
    let (_, body) = phone.next_batch();
    // Without a shared key (two retries of a flaky radio with different keys) …
    let (a, b) = tokio::join!(
        phone.send_push("radio-a", &body),
        phone.send_push("radio-b", &body)
    );
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(applied(&a) + applied(&b), 6, "{}\n{}", a.text, b.text);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 5);
    // … and with one key: one answer, the other is told it is still running or replayed.
    phone.visit(&household, "helped", vec![]);
    phone.queue.retain(|m| m["seq"] == 7);
    let (key, body) = phone.next_batch();
    let (a, b) = tokio::join!(phone.send_push(&key, &body), phone.send_push(&key, &body));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(
        statuses == [200, 200] || statuses == [200, 409],
        "{statuses:?}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 6);
}

#[actix_web::test]
async fn a_create_naming_the_id_of_a_record_out_of_reach_tells_nothing_about_it() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let elsewhere = app
        .post(
            "/api/v1/households",
            Some(&admin),
            &json!({"area_id": world.n2, "address": "Số 8 khu khác", "head_name": "Người Khác"}),
        )
        .await;
    let id = elsewhere.body["id"].as_str().unwrap().to_owned();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.queue_mutation(
        "create",
        "household",
        &id,
        None,
        household_data(&world, "Số 8"),
    );
    phone.push().await;
    let result = phone.result(1);
    assert_eq!(result["result"], "rejected", "{result}");
    assert_eq!(result["problem"]["code"], "household-not-found");
    assert!(
        result["version"].is_null(),
        "no version of a record out of reach: {result}"
    );
}

#[actix_web::test]
async fn the_same_id_with_another_payload_is_a_conflict_for_that_item_only() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut first = Phone::sign_in(&app, VOLUNTEER).await;
    let id = first.create("household", household_data(&world, "Số 3 Hai Bà Trưng"));
    first.push().await;
    let mut second = Phone::sign_in(&app, VOLUNTEER).await;
    second.queue_mutation(
        "create",
        "household",
        &id,
        None,
        household_data(&world, "Số 99 khác"),
    );
    let other = second.create("household", household_data(&world, "Số 4 Hai Bà Trưng"));
    // The very same create from another device is recognised as already there.
    second.queue_mutation(
        "create",
        "household",
        &id,
        None,
        household_data(&world, "Số 3 Hai Bà Trưng"),
    );
    second.push().await;
    assert_eq!(second.result(1)["result"], "conflict");
    assert_eq!(second.result(1)["problem"]["code"], "id-conflict");
    assert_eq!(second.result(2)["result"], "applied");
    assert_eq!(second.result(3)["result"], "duplicate");
    let head = app.token_for(HEAD).await;
    let kept = app
        .get(&format!("/api/v1/households/{id}"), Some(&head))
        .await;
    assert_eq!(kept.body["address"], "Số 3 Hai Bà Trưng");
    assert_eq!(
        app.get(&format!("/api/v1/households/{other}"), Some(&head))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn a_gap_is_refused_with_the_expected_number_and_a_bad_mutation_does_not_block_the_queue() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.queue_mutation(
        "teleport",
        "household",
        &uuid::Uuid::now_v7().to_string(),
        None,
        json!({}),
    );
    let good = phone.create("household", household_data(&world, "Số 5 Trần Phú"));
    phone.push().await;
    assert_eq!(phone.result(1)["result"], "rejected");
    assert_eq!(phone.result(1)["problem"]["code"], "unknown-mutation");
    assert_eq!(phone.result(2)["result"], "applied");
    assert_eq!(phone.result(2)["id"], json!(good));

    // Mutation 3 never left the phone: 4 is refused, saying 3 is expected; nothing moves.
    let body = json!({"device_id": phone.device_id,
        "mutations": [{"seq": 4, "op": "create", "entity": "household",
                       "id": uuid::Uuid::now_v7().to_string(), "data": household_data(&world, "Số 6")}]});
    let gap = phone.send_push("gap", &body).await;
    assert_eq!(gap.status, 200);
    assert_eq!(gap.body["last_seq"], 2);
    assert_eq!(gap.body["results"][0]["result"], "rejected");
    assert_eq!(gap.body["results"][0]["problem"]["code"], "seq-gap");
    assert_eq!(gap.body["results"][0]["expected_seq"], 3);
    assert_eq!(phone.recover().await, 2);
}

#[actix_web::test]
async fn a_batch_with_one_invalid_item_applies_the_others_and_answers_every_item() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.create("household", household_data(&world, "Số 7 Nguyễn Huệ"));
    phone.create(
        "household",
        json!({"area_id": world.n1, "head_name": "Không địa chỉ"}),
    );
    phone.create("household", household_data(&world, "Số 8 Nguyễn Huệ"));
    let responses = phone.push().await;
    let results = responses[0].body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["result"], "applied");
    assert_eq!(results[1]["result"], "rejected");
    assert_eq!(results[1]["problem"]["code"], "validation-failed");
    assert_eq!(
        results[1]["problem"]["errors"][0]["pointer"],
        "/mutations/1/data/address"
    );
    assert_eq!(results[2]["result"], "applied");
    assert_eq!(responses[0].body["last_seq"], 3);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM households"), 2);
}

#[actix_web::test]
async fn a_slow_transaction_committing_during_a_pull_still_arrives_on_the_next_pull() {
    // Concurrent writers are PostgreSQL's; SQLite has one writer at a time.
    if !is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let slow = household_by_head(&app, &world, "Số 9 chậm").await;
    let quick = household_by_head(&app, &world, "Số 10 nhanh").await;
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;

    // A writer stamps its change and then takes its time before committing.
    let url = app.settings.database_url.clone();
    let slow_id = slow["id"].as_str().unwrap().to_owned();
    let in_writer = slow_id.clone();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query(format!(
                "UPDATE households SET address = 'Số 9 đã sửa', version = version + 1 WHERE id = '{in_writer}'"
            ))
            .execute(conn)?;
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            Ok(())
        })
        .unwrap();
    });
    started_rx.recv().unwrap();
    // Another writer commits a change meanwhile, and the phone pulls while both are under
    // way. (With stamps from a plain sequence the second writer would commit first with
    // the larger stamp, this pull would see it, and the slow change would be skipped.)
    let head = app.token_for(HEAD).await;
    let quick_id = quick["id"].as_str().unwrap();
    let path = format!("/api/v1/households/{quick_id}");
    let body = json!({"address": "Số 10 đã sửa"});
    let edit = app.patch(&path, Some(&head), Some("\"1\""), &body);
    let pull_meanwhile = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        phone.pull().await;
    };
    let (edited, ()) = tokio::join!(edit, pull_meanwhile);
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(phone.local["households"][&slow_id]["address"], "Số 9 chậm");
    writer.join().unwrap();
    phone.pull().await;
    assert_eq!(
        phone.local["households"][&slow_id]["address"],
        "Số 9 đã sửa"
    );
    assert_eq!(
        phone.local["households"][quick_id]["address"],
        "Số 10 đã sửa"
    );
}

#[actix_web::test]
async fn a_phone_clock_three_days_off_records_the_same_as_a_right_clock() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut outcomes = Vec::new();
    for days in [0, 3, -3] {
        let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
        phone.clock_error = chrono::Duration::days(days);
        let household = phone.create(
            "household",
            household_data(&world, &format!("Số {days} lệch giờ")),
        );
        let resident = phone.create(
            "resident",
            json!({"household_id": household, "full_name": "Phạm Văn Đức", "birth_date": "1980-02-03",
                   "sex": "male", "relation_to_head": "head"}),
        );
        let today = phone.today();
        let visit = phone.visit(
            &household,
            "helped",
            vec![json!({"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": today})],
        );
        phone.push().await;
        for seq in 1..=3 {
            assert_eq!(
                phone.result(seq)["result"],
                "applied",
                "clock {days}: {}",
                phone.result(seq)
            );
        }
        phone.pull().await;
        let visited_at: chrono::DateTime<chrono::Utc> = phone.local["visits"][&visit]["visited_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (chrono::Utc::now() - visited_at).num_minutes().abs() < 5,
            "clock {days}: {visited_at}"
        );
        let event = phone.local["status_events"]
            .values()
            .next()
            .unwrap()
            .clone();
        outcomes.push((
            event["effective_on"].clone(),
            phone.local["residents"][&resident]["eid_level"].clone(),
        ));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0], outcomes[2]);
    assert_eq!(outcomes[0].1, "level2");
}

#[actix_web::test]
async fn a_stale_phone_number_edit_keeps_the_heads_value_and_queues_the_conflict_for_the_head() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let household = household_by_head(&app, &world, "Số 11 Lê Lợi").await;
    let id = household["id"].as_str().unwrap();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    // The head corrects the phone number while the volunteer is offline …
    let head = app.token_for(HEAD).await;
    let corrected = app
        .patch(
            &format!("/api/v1/households/{id}"),
            Some(&head),
            Some("\"1\""),
            &json!({"phone": "0988111222"}),
        )
        .await;
    assert_eq!(corrected.status, 200);
    // … who edits the same number, and the address nobody touched.
    phone.update(
        "household",
        id,
        json!({"phone": "0977333444", "address": "Số 11A Lê Lợi"}),
    );
    phone.sync().await;
    let result = phone.result(1);
    assert_eq!(result["result"], "conflict", "{result}");
    assert_eq!(result["problem"]["code"], "field-conflict");
    assert_eq!(result["conflicts"][0]["field"], "phone");
    assert_eq!(
        result["conflicts"][0]["server_value"],
        json!({"phone": "0988111222"})
    );
    assert_eq!(
        result["conflicts"][0]["phone_value"],
        json!({"phone": "0977333444"})
    );
    // The bare values, for the screen's "kept … / entered …".
    assert_eq!(result["conflicts"][0]["kept"], "0988111222");
    assert_eq!(result["conflicts"][0]["entered"], "0977333444");
    assert_eq!(phone.local["households"][id]["phone"], "0988111222");
    assert_eq!(phone.local["households"][id]["address"], "Số 11A Lê Lợi");

    let listed = app.get("/api/v1/conflicts", Some(&head)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let conflict = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed.body["items"][0]["entity_id"], json!(id));
    assert_eq!(listed.body["items"][0]["kept"], "0988111222");
    assert_eq!(listed.body["items"][0]["entered"], "0977333444");
    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(
        app.get("/api/v1/conflicts", Some(&volunteer)).await.status,
        403
    );

    let resolved = app
        .post(
            &format!("/api/v1/conflicts/{conflict}/resolve"),
            Some(&head),
            &json!({"resolution": "take_phone"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "resolved");
    let again = app
        .post(
            &format!("/api/v1/conflicts/{conflict}/resolve"),
            Some(&head),
            &json!({"resolution": "keep_server"}),
        )
        .await;
    assert_eq!(again.problem_code(), "conflict-resolved");
    phone.pull().await;
    assert_eq!(phone.local["households"][id]["phone"], "0977333444");
    let audit = app
        .get(
            "/api/v1/audit?action=conflict.resolved",
            Some(&app.token_for(WARD_ADMIN).await),
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    assert!(
        app.get("/api/v1/conflicts", Some(&head)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn a_visit_queued_for_a_deleted_household_is_refused_and_one_for_an_unassigned_neighbourhood_is_kept(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let doomed = household_by_head(&app, &world, "Số 12 sẽ xoá").await;
    let kept = household_by_head(&app, &world, "Số 13 Phan Chu Trinh").await;
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    let doomed_id = doomed["id"].as_str().unwrap();
    let kept_id = kept["id"].as_str().unwrap();
    phone.visit(doomed_id, "not_home", vec![]);
    phone.visit(kept_id, "helped", vec![]);
    // While the phone is offline the head deletes one household and takes the volunteer off
    // the neighbourhood.
    let head = app.token_for(HEAD).await;
    assert_eq!(
        app.delete(&format!("/api/v1/households/{doomed_id}"), Some(&head))
            .await
            .status,
        204
    );
    let off = app
        .delete(
            &format!(
                "/api/v1/volunteers/{}/assignments/{}",
                world.volunteer, world.n1
            ),
            Some(&head),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    phone.sync().await;
    assert_eq!(phone.result(1)["result"], "rejected");
    assert_eq!(phone.result(1)["problem"]["code"], "household-deleted");
    // Made while assigned: kept, though the neighbourhood is no longer the volunteer's.
    assert_eq!(phone.result(2)["result"], "applied");
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM visits WHERE household_id = '{kept_id}'")
        ),
        1
    );
    assert!(
        phone.local["households"].is_empty(),
        "{:?}",
        phone.local["households"].keys()
    );
    assert!(phone.local["visits"].is_empty());
    // A visit made after the assignment ended is not.
    phone.visit(kept_id, "helped", vec![]);
    phone.push().await;
    assert_eq!(phone.result(3)["result"], "rejected");
    assert_eq!(phone.result(3)["problem"]["code"], "household-not-found");
}

#[actix_web::test]
async fn a_cursor_older_than_the_kept_removals_is_refused_and_the_phone_downloads_again_keeping_its_queue(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    household_by_head(&app, &world, "Số 14 Quang Trung").await;
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    let old_cursor = phone.cursor.clone();
    let queued = phone.create("household", household_data(&world, "Số 15 chưa gửi"));
    // Taken off and put back on; the removal is then older than the retention (90 days).
    let admin = app.token_for(WARD_ADMIN).await;
    let path = format!(
        "/api/v1/volunteers/{}/assignments/{}",
        world.volunteer, world.n1
    );
    assert_eq!(app.delete(&path, Some(&admin)).await.status, 200);
    assert_eq!(app.put(&path, Some(&admin)).await.status, 200);
    app.with_db(|conn| {
        diesel::sql_query("UPDATE assignment_periods SET unassigned_at = assigned_at - INTERVAL '91 days' WHERE unassigned_at IS NOT NULL")
            .execute(conn)
            .or_else(|_| {
                diesel::sql_query("UPDATE assignment_periods SET unassigned_at = datetime(unassigned_at, '-91 days') WHERE unassigned_at IS NOT NULL")
                    .execute(conn)
            })
            .unwrap();
    });
    let expired = phone.pull_page(None).await;
    assert_eq!(expired.status, 410);
    assert_eq!(expired.problem_code(), "cursor-expired");
    phone.pull().await;
    assert_ne!(phone.cursor, old_cursor);
    assert_eq!(phone.local["households"].len(), 1);
    assert_eq!(
        phone.queue.len(),
        1,
        "the unsent queue survives the re-download"
    );
    phone.sync().await;
    assert_eq!(phone.local["households"].len(), 2);
    assert!(phone.local["households"].contains_key(&queued));
}

#[actix_web::test]
async fn a_deleted_id_cannot_be_created_again() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let id = phone.create("household", household_data(&world, "Số 16 Điện Biên"));
    phone.push().await;
    let head = app.token_for(HEAD).await;
    assert_eq!(
        app.delete(&format!("/api/v1/households/{id}"), Some(&head))
            .await
            .status,
        204
    );
    let mut reinstalled = Phone::sign_in(&app, VOLUNTEER).await;
    reinstalled.queue_mutation(
        "create",
        "household",
        &id,
        None,
        household_data(&world, "Số 16 Điện Biên"),
    );
    reinstalled.push().await;
    assert_eq!(reinstalled.result(1)["result"], "rejected");
    assert_eq!(reinstalled.result(1)["problem"]["code"], "record-deleted");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM households WHERE id = '{id}' AND deleted_at IS NULL"
            )
        ),
        0
    );
}

#[actix_web::test]
async fn an_initial_download_cut_off_halfway_resumes_from_its_cursor_and_ends_consistent() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(
            household_by_head(&app, &world, &format!("Số {n} Bà Triệu")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    for _ in 0..2 {
        let page = phone.pull_page(Some(7)).await;
        assert_eq!(page.body["has_more"], true);
        phone.apply_page(&page.body);
    }
    // The third page is lost on the way; meanwhile records change on both sides of the cut.
    let lost = phone.pull_page(Some(7)).await;
    assert_eq!(lost.status, 200);
    let received = ids[0].clone();
    let not_yet = ids[29].clone();
    app.patch(
        &format!("/api/v1/households/{received}"),
        Some(&head),
        Some("\"1\""),
        &json!({"address": "Đã sửa"}),
    )
    .await;
    app.delete(&format!("/api/v1/households/{not_yet}"), Some(&head))
        .await;
    let pages = phone.pull().await;
    assert!(pages >= 1);
    assert_eq!(phone.local["households"].len(), 29);
    assert_eq!(phone.local["households"][&received]["address"], "Đã sửa");
    assert!(!phone.local["households"].contains_key(&not_yet));
    assert_same_as_a_fresh_download(&app, &phone, VOLUNTEER).await;
}

/// The phone's copy equals the server's view of its assignment: a new phone's full
/// download, and the household list of the REST API.
pub async fn assert_same_as_a_fresh_download(app: &TestApp, phone: &Phone<'_>, email: &str) {
    let mut fresh = Phone::sign_in(app, email).await;
    fresh.batch = 1;
    fresh.pull().await;
    for entity in crate::phone::ENTITIES {
        assert_eq!(phone.local[entity], fresh.local[entity], "{entity} differ");
    }
    let listed = app
        .get("/api/v1/households?limit=500", Some(&fresh.access_token))
        .await;
    let mut rest: Vec<String> = listed.ids();
    rest.sort();
    let local: Vec<String> = phone.local["households"].keys().cloned().collect();
    assert_eq!(local, rest);
}

/// The phone's access token as it is once its lifetime (and the clock leeway) has passed.
fn expired(app: &TestApp, token: &str) -> String {
    use eid_adoption::auth::tokens::{AccessTokens, Claims};
    let tokens = AccessTokens::new(app.settings.secrets.jwt_key_bytes(), &app.settings.auth);
    let claims = tokens.verify(token).unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let old = Claims {
        exp: now - 120,
        iat: now - 1020,
        ..claims
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &old,
        &jsonwebtoken::EncodingKey::from_secret(app.settings.secrets.jwt_key_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn an_access_token_expiring_mid_sync_is_refreshed_and_the_batch_replayed_under_its_key() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let id = phone.create("household", household_data(&world, "Số 17 Hàng Bài"));
    let (key, body) = phone.next_batch();
    let committed = phone.send_push(&key, &body).await;
    assert_eq!(committed.status, 200);
    // The answer was lost, and by the time the phone resends its token has expired.
    phone.access_token = expired(&app, &phone.access_token);
    let refused = phone.send_push(&key, &body).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.problem_code(), "token-expired");
    let replayed = phone.send_with_retries(&key, &body).await;
    assert_eq!(replayed.status, 200);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.body, committed.body);
    phone.acknowledge(&replayed.body);
    assert!(phone.queue.is_empty());
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM households WHERE id = '{id}'")
        ),
        1
    );
}

#[actix_web::test]
async fn the_phones_own_uploads_come_back_as_upserts_of_the_same_records() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    let household = phone.create("household", household_data(&world, "Số 18 Tràng Tiền"));
    let resident = phone.create(
        "resident",
        json!({"household_id": household, "full_name": "Võ Thị Em", "birth_date": "1990", "sex": "female", "relation_to_head": "head"}),
    );
    let today = phone.today();
    let visit = phone.visit(
        &household,
        "helped",
        vec![json!({"kind": "broadband", "value": "yes", "effective_on": today})],
    );
    phone.sync().await;
    assert_eq!(phone.local["households"].len(), 1);
    assert_eq!(phone.local["households"][&household]["broadband"], "yes");
    assert_eq!(
        phone.local["residents"].keys().collect::<Vec<_>>(),
        vec![&resident]
    );
    assert_eq!(
        phone.local["visits"].keys().collect::<Vec<_>>(),
        vec![&visit]
    );
    assert_eq!(phone.local["status_events"].len(), 1);
    // Nothing new: the next pull is empty.
    let empty = phone.pull_page(None).await;
    assert_eq!(empty.body["households"]["upserted"], json!([]));
    assert_eq!(empty.body["has_more"], false);
}

#[actix_web::test]
async fn a_crash_between_commit_and_acknowledgement_is_recovered_with_the_sync_state() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create("household", household_data(&world, "Số 19 Hàng Khay"));
    phone.visit(&household, "refused", vec![]);
    let (key, body) = phone.next_batch();
    assert_eq!(phone.send_push(&key, &body).await.status, 200);
    // The app died before it wrote the answer down; on restart it asks.
    assert_eq!(phone.recover().await, 2);
    assert!(phone.queue.is_empty());
    phone.visit(&household, "helped", vec![]);
    phone.push().await;
    assert_eq!(phone.result(3)["result"], "applied");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 2);
    // Another user cannot use this device id.
    let head = app.token_for(HEAD).await;
    let stolen = app
        .send(
            app.client
                .get(app.url(&format!("/api/v1/sync/state?device_id={}", phone.device_id)))
                .bearer_auth(&head)
                .header("X-App-Version", APP_VERSION),
        )
        .await;
    assert_eq!(stolen.problem_code(), "device-not-yours");
}

#[actix_web::test]
async fn an_old_app_version_is_told_to_upgrade() {
    let app = TestApp::spawn_with(&[("EID_MIN_APP_VERSION", "1.5")]).await;
    let world = app.seed_world();
    let phone = Phone::sign_in(&app, VOLUNTEER).await;
    let (key, body) = {
        let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
        phone.create("household", household_data(&world, "Số 20"));
        phone.next_batch()
    };
    for version in [Some("1.4.9"), None, Some("banana")] {
        let mut push = app
            .client
            .post(app.url("/api/v1/sync/push"))
            .bearer_auth(&phone.access_token)
            .header("Idempotency-Key", &key)
            .json(&body);
        let mut pull = app
            .client
            .get(app.url("/api/v1/sync/pull"))
            .bearer_auth(&phone.access_token);
        if let Some(version) = version {
            push = push.header("X-App-Version", version);
            pull = pull.header("X-App-Version", version);
        }
        let push = app.send(push).await;
        assert_eq!(push.status, 426, "{}", push.text);
        assert_eq!(push.problem_code(), "app-version-unsupported");
        let pull = app.send(pull).await;
        assert_eq!(pull.problem_code(), "app-version-unsupported");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM households"), 0);
    // Once updated, the same batch under the same key really runs (426 is not replayed).
    let upgraded = app
        .send(
            app.client
                .post(app.url("/api/v1/sync/push"))
                .bearer_auth(&phone.access_token)
                .header("Idempotency-Key", &key)
                .header("X-App-Version", "1.5.0")
                .json(&body),
        )
        .await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.text);
    assert_eq!(upgraded.body["results"][0]["result"], "applied");
    let ok = app
        .send(
            app.client
                .get(app.url("/api/v1/sync/pull"))
                .bearer_auth(&phone.access_token)
                .header("X-App-Version", "1.5.0"),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[actix_web::test]
async fn the_same_batch_pushed_to_two_server_processes_at_once_applies_once() {
    if !is_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let second =
        crate::helpers::ServedBinary::start(&app.settings.database_url, &[("EID_WORKERS", "2")])
            .await;
    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    let household = phone.create("household", household_data(&world, "Số 21 hai máy chủ"));
    for _ in 0..20 {
        phone.visit(&household, "not_home", vec![]);
    }
    let (key, body) = phone.next_batch();
    let mut other = Phone::sign_in(&app, VOLUNTEER).await;
    other.base = second.base.clone();
    other.device_id = phone.device_id.clone();
    other.access_token = phone.access_token.clone();
    let (key_a, key_b) = (format!("{key}-a"), format!("{key}-b"));
    let (a, b) = tokio::join!(
        phone.send_push(&key_a, &body),
        other.send_push(&key_b, &body)
    );
    assert_eq!((a.status, b.status), (200, 200), "{}\n{}", a.text, b.text);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM visits"), 20);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM households"), 1);
    assert_eq!(applied(&a) + applied(&b), 21);
}

#[actix_web::test]
async fn sync_and_conflict_endpoints_refuse_other_roles_other_areas_and_bad_input() {
    let app = TestApp::spawn_with(&[("EID_SYNC_MAX_MUTATIONS", "2")]).await;
    let world = app.seed_world();
    let official = app.token_for(crate::helpers::OFFICIAL).await;
    let device = uuid::Uuid::new_v4();
    let with_version = |b: reqwest::RequestBuilder| b.header("X-App-Version", APP_VERSION);
    let push = |token: Option<&str>, body: Value| {
        let mut b = with_version(app.client.post(app.url("/api/v1/sync/push"))).json(&body);
        if let Some(token) = token {
            b = b.bearer_auth(token);
        }
        app.send(b)
    };
    let empty = json!({"device_id": device, "mutations": []});
    assert_eq!(
        push(None, empty.clone()).await.problem_code(),
        "unauthenticated"
    );
    assert_eq!(
        push(Some(&official), empty.clone()).await.problem_code(),
        "forbidden"
    );
    for path in [
        "/api/v1/sync/pull",
        &format!("/api/v1/sync/state?device_id={device}"),
    ] {
        let answer = app
            .send(with_version(app.client.get(app.url(path))).bearer_auth(&official))
            .await;
        assert_eq!(answer.problem_code(), "forbidden", "{path}");
    }
    assert_eq!(
        app.get("/api/v1/conflicts", Some(&official))
            .await
            .problem_code(),
        "forbidden"
    );

    let mut phone = Phone::sign_in(&app, VOLUNTEER).await;
    for n in 0..3 {
        phone.create("household", household_data(&world, &format!("Số {n}")));
    }
    let too_many = json!({"device_id": phone.device_id, "mutations": phone.queue});
    let refused = push(Some(&phone.access_token), too_many).await;
    assert_eq!(refused.status, 413);
    assert_eq!(refused.problem_code(), "sync-batch-too-large");
    let envelope = push(
        Some(&phone.access_token),
        json!({"device_id": "not-a-uuid", "mutations": []}),
    )
    .await;
    assert_eq!(envelope.problem_code(), "validation-failed");
    for query in ["cursor=%%%", "limit=0", "limit=5000"] {
        let bad = app
            .send(
                with_version(
                    app.client
                        .get(app.url(&format!("/api/v1/sync/pull?{query}"))),
                )
                .bearer_auth(&phone.access_token),
            )
            .await;
        assert_eq!(bad.problem_code(), "validation-failed", "{query}");
    }
    // An update needs base_version, a known one, and valid fields.
    phone.batch = 2;
    phone.push().await;
    phone.pull().await;
    let id = phone.local["households"].keys().next().unwrap().clone();
    phone.queue_mutation(
        "update",
        "household",
        &id,
        None,
        json!({"phone": "0912345678"}),
    );
    phone.queue_mutation(
        "update",
        "household",
        &id,
        Some(9),
        json!({"phone": "0912345678"}),
    );
    phone.queue_mutation("update", "household", &id, Some(1), json!({"phone": "12"}));
    phone.push().await;
    assert_eq!(
        phone.result(4)["problem"]["errors"][0]["pointer"],
        "/mutations/0/base_version"
    );
    assert_eq!(
        phone.result(5)["problem"]["errors"][0]["code"],
        "unknown-version"
    );
    assert_eq!(
        phone.result(6)["problem"]["errors"][0]["pointer"],
        "/mutations/0/data/phone"
    );

    // A conflict in N1: the ward admin of W resolves it; an admin of nowhere near does not.
    let head = app.token_for(HEAD).await;
    app.patch(
        &format!("/api/v1/households/{id}"),
        Some(&head),
        Some("\"1\""),
        &json!({"address": "Đầu"}),
    )
    .await;
    phone.update("household", &id, json!({"address": "Cuối"}));
    phone.push().await;
    let conflict = phone.result(7)["conflicts"][0]["conflict_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_head = {
        app.with_db(|conn| {
            let hash =
                eid_adoption::auth::password::hash_password_blocking(crate::helpers::PASSWORD)
                    .unwrap();
            eid_adoption::users::insert_account(
                conn,
                eid_adoption::users::NewAccount {
                    email: Some("head2@test.local"),
                    phone: None,
                    name: "Trưởng khu phố 2",
                    role: eid_adoption::auth::Role::Head,
                    area_id: Some(&world.n2),
                    password_hash: &hash,
                    language: eid_adoption::i18n::Lang::Vi,
                    active: true,
                },
            )
            .unwrap();
        });
        app.token_for("head2@test.local").await
    };
    let path = format!("/api/v1/conflicts/{conflict}/resolve");
    assert!(
        app.get("/api/v1/conflicts", Some(&other_head)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let elsewhere = app
        .post(
            &path,
            Some(&other_head),
            &json!({"resolution": "keep_server"}),
        )
        .await;
    assert_eq!(elsewhere.problem_code(), "conflict-not-found");
    let no_value = app
        .post(&path, Some(&head), &json!({"resolution": "edit"}))
        .await;
    assert_eq!(no_value.problem_code(), "validation-failed");
    let wrong_member = app
        .post(
            &path,
            Some(&head),
            &json!({"resolution": "edit", "value": {"phone": "0912"}}),
        )
        .await;
    assert_eq!(wrong_member.problem_code(), "validation-failed");
    let edited = app
        .post(
            &path,
            Some(&head),
            &json!({"resolution": "edit", "value": {"address": "Giữa"}}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    let ward_admin = app.token_for(WARD_ADMIN).await;
    let resolved = app
        .get("/api/v1/conflicts?status=resolved", Some(&ward_admin))
        .await;
    assert_eq!(resolved.body["items"][0]["resolution"], "edit");
    let household = app
        .get(&format!("/api/v1/households/{id}"), Some(&head))
        .await;
    assert_eq!(household.body["address"], "Giữa");
}
