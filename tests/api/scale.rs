//! Province scale: figures answered 304 while nothing changed, and concurrent writers in
//! several neighbourhoods (with the background fold running) leaving every served figure
//! equal to a recount, on both databases.

use serde_json::{json, Value};

use eid_adoption::adoption::check::check_all;
use eid_adoption::adoption::counters::fold_all;
use eid_adoption::status::today;

use crate::helpers::{TestApp, TestResponse, NATIONAL_ADMIN, OFFICIAL};

async fn get_with_tag(app: &TestApp, path: &str, token: &str, tag: Option<&str>) -> TestResponse {
    let mut builder = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(tag) = tag {
        builder = builder.header("If-None-Match", tag);
    }
    app.send(builder).await
}

fn etag(response: &TestResponse) -> String {
    response
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

fn eid_count(figures: &Value) -> i64 {
    figures["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "eid")
        .unwrap()["count"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn figures_are_answered_304_until_a_write_or_a_fold_changes_what_they_rest_on() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let official = app.token_for(OFFICIAL).await;
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let figures = format!("/api/v1/areas/{}/adoption", world.ward);
    let children = format!("/api/v1/areas/{}/adoption/children", world.ward);
    for path in [&figures, &children] {
        let first = get_with_tag(&app, path, &official, None).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let tag = etag(&first);
        let again = get_with_tag(&app, path, &official, Some(&tag)).await;
        assert_eq!(again.status, 304, "{path}: nothing changed");
        assert!(again.bytes.is_empty());
        assert_eq!(etag(&again), tag);
        let other = get_with_tag(&app, path, &official, Some("\"f-someone-elses\"")).await;
        assert_eq!(other.status, 200);
    }

    let before = get_with_tag(&app, &figures, &official, None).await;
    let tag = etag(&before);
    let household = app
        .post(
            "/api/v1/households",
            Some(&admin),
            &json!({"area_id": world.n1, "address": "Số 5", "head_name": "Chủ hộ"}),
        )
        .await;
    assert_eq!(household.status, 201, "{}", household.text);
    let household_id = household.body["id"].as_str().unwrap();
    let resident = app
        .post(
            &format!("/api/v1/households/{household_id}/residents"),
            Some(&admin),
            &json!({"full_name": "Người lớn", "birth_date": "1970-01-01",
                    "sex": "female", "relation_to_head": "head"}),
        )
        .await;
    assert_eq!(resident.status, 201, "{}", resident.text);
    let visit = app
        .post(
            "/api/v1/visits",
            Some(&admin),
            &json!({"household_id": household_id, "visited_at": chrono::Utc::now().to_rfc3339(),
                    "outcome": "helped",
                    "events": [{"kind": "eid", "resident_id": resident.body["id"], "value": "level2",
                                "effective_on": today()}]}),
        )
        .await;
    assert_eq!(visit.status, 201, "{}", visit.text);
    let after = get_with_tag(&app, &figures, &official, Some(&tag)).await;
    assert_eq!(after.status, 200, "a new e-ID changes the ward's figures");
    assert_eq!(eid_count(&after.body), eid_count(&before.body) + 1);
    let changed = etag(&after);
    assert_ne!(changed, tag);

    // Folding moves the change from the log into the buckets: the figures stay, the tag
    // moves on (it cannot tell), and the answer is the same.
    app.with_db(|conn| fold_all(conn).unwrap());
    let folded = get_with_tag(&app, &figures, &official, Some(&changed)).await;
    assert!(folded.status == 200 || folded.status == 304);
    if folded.status == 200 {
        assert_eq!(eid_count(&folded.body), eid_count(&after.body));
    }
}

/// Creates a household with `adults` adults and a visit with an e-ID event for each, as
/// one push of a device.
fn door(neighbourhood: &str, seq: &mut i64, adults: usize, index: usize) -> Vec<Value> {
    let household = uuid::Uuid::now_v7();
    let mut mutations = Vec::new();
    let mut next = |op: &str, entity: &str, id: uuid::Uuid, data: Value| {
        *seq += 1;
        mutations.push(json!({"seq": *seq, "op": op, "entity": entity, "id": id, "data": data}));
    };
    next(
        "create",
        "household",
        household,
        json!({"area_id": neighbourhood, "address": format!("Số {index}"), "head_name": "Chủ hộ"}),
    );
    let mut events = Vec::new();
    for adult in 0..adults {
        let resident = uuid::Uuid::now_v7();
        next(
            "create",
            "resident",
            resident,
            json!({"household_id": household, "full_name": format!("Người {index}-{adult}"),
                   "birth_date": "1980-05-05", "sex": "male", "relation_to_head": "other"}),
        );
        events.push(
            json!({"kind": if adult % 2 == 0 { "eid" } else { "signature" },
                           "resident_id": resident,
                           "value": if adult % 2 == 0 { "level2" } else { "electronic" },
                           "effective_on": today()}),
        );
    }
    next(
        "create",
        "visit",
        uuid::Uuid::now_v7(),
        json!({"household_id": household, "visited_at": chrono::Utc::now().to_rfc3339(),
               "outcome": "helped", "events": events}),
    );
    mutations
}

#[actix_web::test]
async fn eight_devices_pushing_at_once_in_several_neighbourhoods_leave_every_figure_equal_to_a_recount(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let neighbourhoods = [world.n1.clone(), world.n2.clone(), world.n3.clone()];
    let devices: Vec<uuid::Uuid> = (0..8).map(|_| uuid::Uuid::new_v4()).collect();
    let runs = devices.iter().enumerate().map(|(d, device)| {
        let app = &app;
        let admin = &admin;
        let neighbourhood = neighbourhoods[d % neighbourhoods.len()].clone();
        async move {
            let mut seq = 0;
            for round in 0..4 {
                let mut mutations = Vec::new();
                for door_index in 0..3 {
                    mutations.extend(door(
                        &neighbourhood,
                        &mut seq,
                        1 + (d + door_index) % 3,
                        round * 10 + door_index,
                    ));
                }
                let sent = app
                    .send(
                        app.client
                            .post(app.url("/api/v1/sync/push"))
                            .bearer_auth(admin)
                            .header("X-App-Version", "1.4.0")
                            .json(&json!({"device_id": device, "mutations": mutations})),
                    )
                    .await;
                assert_eq!(sent.status, 200, "{}", sent.text);
                for result in sent.body["results"].as_array().unwrap() {
                    assert_eq!(result["result"], "applied", "{result}");
                }
            }
        }
    });
    futures_util::future::join_all(runs).await;
    // With some of it folded by the server meanwhile and some still in the log, and then
    // with all of it folded: the served figures of every neighbourhood and every area above
    // equal a recount from the raw rows, on every checked day.
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    app.with_db(|conn| fold_all(conn).unwrap());
    let report = app.with_db(|conn| check_all(conn, "/", today(), false, &|_, _| {}).unwrap());
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    assert!(report.subjects > 8 * 4 * 3);
}
