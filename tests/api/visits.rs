//! Visits and status events: recorded atomically, derived by the rules, voided as a whole.

use serde_json::json;

use crate::helpers::{TestApp, HEAD, OFFICIAL, VOLUNTEER};
use crate::households::{add_household, add_resident};

async fn household_with_resident(app: &TestApp, token: &str, area: &str) -> (String, String) {
    let household = add_household(app, token, area, "Số 10", "Đỗ Văn Nam").await;
    let resident = add_resident(
        app,
        token,
        &household,
        json!({"full_name": "Đỗ Văn Nam", "birth_date": "1980", "sex": "male", "relation_to_head": "head"}),
    )
    .await;
    (household, resident)
}

#[actix_web::test]
async fn a_visit_records_its_statuses_atomically_and_the_rules_derive_the_current_ones() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let volunteer = app.token_for(VOLUNTEER).await;
    let (household, resident) = household_with_resident(&app, &volunteer, &world.n1).await;
    let visit = app
        .post(
            "/api/v1/visits",
            Some(&volunteer),
            &json!({"household_id": household, "visited_at": "2025-09-01T08:30:00Z", "outcome": "helped", "notes": "Đã hướng dẫn",
                    "events": [
                        {"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": "2025-09-01"},
                        {"kind": "signature", "resident_id": resident, "value": "digital", "effective_on": "2025-09-01",
                         "issued_on": "2025-09-01", "expires_on": "2028-08-31"},
                        {"kind": "broadband", "value": "yes", "effective_on": "2025-08-15"}
                    ]}),
        )
        .await;
    assert_eq!(visit.status, 201, "{}", visit.text);
    assert_eq!(visit.body["events"].as_array().unwrap().len(), 3);
    let person = app
        .get(&format!("/api/v1/residents/{resident}"), Some(&volunteer))
        .await;
    assert_eq!(person.body["eid_level"], "level2");
    assert_eq!(person.body["signature"], "digital");
    assert_eq!(person.body["signature_expires_on"], "2028-08-31");
    let home = app
        .get(&format!("/api/v1/households/{household}"), Some(&volunteer))
        .await;
    assert_eq!(home.body["broadband"], "yes");
    assert_eq!(home.body["last_visited_on"], "2025-09-01");

    // A later visit reporting a lower level does not lower it (highest observed wins) …
    app.post(
        "/api/v1/visits",
        Some(&volunteer),
        &json!({"household_id": household, "visited_at": "2025-10-01T08:30:00Z", "outcome": "already_done",
                "events": [{"kind": "eid", "resident_id": resident, "value": "level1", "effective_on": "2025-10-01"}]}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/residents/{resident}"), Some(&volunteer))
            .await
            .body["eid_level"],
        "level2"
    );
    // … but a head's correction does.
    let head = app.token_for(HEAD).await;
    let correction = app
        .post(
            "/api/v1/status-events",
            Some(&head),
            &json!({"household_id": household, "events": [{"kind": "eid", "resident_id": resident, "value": "level1", "effective_on": "2025-10-02", "correction": true}]}),
        )
        .await;
    assert_eq!(correction.status, 201, "{}", correction.text);
    assert_eq!(
        app.get(&format!("/api/v1/residents/{resident}"), Some(&head))
            .await
            .body["eid_level"],
        "level1"
    );
    let not_allowed = app
        .post(
            "/api/v1/status-events",
            Some(&volunteer),
            &json!({"household_id": household, "events": [{"kind": "eid", "resident_id": resident, "value": "none", "effective_on": "2025-10-02", "correction": true}]}),
        )
        .await;
    assert_eq!(
        not_allowed.body["errors"][0]["code"],
        "correction-not-allowed"
    );

    let history = app
        .get(
            &format!("/api/v1/residents/{resident}/status-events"),
            Some(&head),
        )
        .await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(history.body["items"][0]["kind"], "eid");

    let filtered = app
        .get(
            "/api/v1/residents?signature_expiring_within_days=3650",
            Some(&head),
        )
        .await;
    assert_eq!(filtered.ids(), vec![resident.clone()]);
    let without = app
        .get("/api/v1/residents?has_eid=false", Some(&head))
        .await;
    assert!(without.ids().is_empty());
    let adults_in_1990 = app
        .get("/api/v1/residents?adult_on=1990-01-01", Some(&head))
        .await;
    assert!(
        adults_in_1990.ids().is_empty(),
        "born in 1980 (1 July): adult from 1998-07-01"
    );
    let adults_now = app
        .get("/api/v1/residents?adult_on=1998-07-01", Some(&head))
        .await;
    assert_eq!(adults_now.ids().len(), 1);
    let unvisited = app
        .get(
            "/api/v1/households?not_visited_since=2025-12-01",
            Some(&head),
        )
        .await;
    assert_eq!(unvisited.ids().len(), 1);
    let visited = app
        .get(
            "/api/v1/households?not_visited_since=2025-10-01",
            Some(&head),
        )
        .await;
    assert!(visited.ids().is_empty());
}

#[actix_web::test]
async fn one_bad_event_refuses_the_whole_visit() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let volunteer = app.token_for(VOLUNTEER).await;
    let (household, resident) = household_with_resident(&app, &volunteer, &world.n1).await;
    let response = app
        .post(
            "/api/v1/visits",
            Some(&volunteer),
            &json!({"household_id": household, "visited_at": "2025-09-01T08:30:00Z", "outcome": "helped",
                    "events": [
                        {"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": "2025-09-01"},
                        {"kind": "signature", "resident_id": resident, "value": "digital", "effective_on": "2025-09-01",
                         "issued_on": "2025-09-01", "expires_on": "2025-01-01"},
                        {"kind": "eid", "resident_id": resident, "value": "level9", "effective_on": "2999-01-01"}
                    ]}),
        )
        .await;
    assert_eq!(response.status, 422);
    let pointers: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/events/1/expires_on",
            "/events/2/effective_on",
            "/events/2/value"
        ]
    );
    let visits = app
        .get(
            &format!("/api/v1/households/{household}/visits"),
            Some(&volunteer),
        )
        .await;
    assert!(
        visits.body["items"].as_array().unwrap().is_empty(),
        "nothing written"
    );
    assert_eq!(
        app.get(&format!("/api/v1/residents/{resident}"), Some(&volunteer))
            .await
            .body["eid_level"],
        "none"
    );
    let future = app
        .post(
            "/api/v1/visits",
            Some(&volunteer),
            &json!({"household_id": household, "visited_at": "2999-01-01T00:00:00Z", "outcome": "helped"}),
        )
        .await;
    assert_eq!(future.body["errors"][0]["pointer"], "/visited_at");
    let bad_outcome = app
        .post("/api/v1/visits", Some(&volunteer), &json!({"household_id": household, "visited_at": "2025-01-01T00:00:00Z", "outcome": "partied"}))
        .await;
    assert_eq!(bad_outcome.body["errors"][0]["pointer"], "/outcome");
}

#[actix_web::test]
async fn voiding_a_visit_voids_its_events_and_the_statuses_follow() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let volunteer = app.token_for(VOLUNTEER).await;
    let (household, resident) = household_with_resident(&app, &volunteer, &world.n1).await;
    let visit = app
        .post(
            "/api/v1/visits",
            Some(&volunteer),
            &json!({"household_id": household, "visited_at": "2025-09-01T08:30:00Z", "outcome": "helped",
                    "events": [{"kind": "eid", "resident_id": resident, "value": "level1", "effective_on": "2025-09-01"}]}),
        )
        .await;
    let visit_id = visit.body["id"].as_str().unwrap().to_owned();
    let official = app.token_for(OFFICIAL).await;
    assert_eq!(
        app.post(
            &format!("/api/v1/visits/{visit_id}/void"),
            Some(&official),
            &json!({"reason": "x"})
        )
        .await
        .status,
        403
    );
    let voided = app
        .post(
            &format!("/api/v1/visits/{visit_id}/void"),
            Some(&volunteer),
            &json!({"reason": "Ghi nhầm hộ"}),
        )
        .await;
    assert_eq!(voided.status, 200, "{}", voided.text);
    assert!(voided.body["voided_at"].is_string());
    assert!(voided.body["events"][0]["voided_at"].is_string());
    assert_eq!(
        app.get(&format!("/api/v1/residents/{resident}"), Some(&volunteer))
            .await
            .body["eid_level"],
        "none"
    );
    let missing = app
        .post(
            "/api/v1/visits/01936b2e-0000-7000-8000-000000000000/void",
            Some(&volunteer),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(missing.problem_code(), "visit-not-found");
}

#[actix_web::test]
async fn a_volunteer_works_only_in_the_neighbourhoods_they_are_assigned_to() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(crate::helpers::WARD_ADMIN).await;
    let (elsewhere, _) = household_with_resident(&app, &admin, &world.n2).await;
    let volunteer = app.token_for(VOLUNTEER).await;
    assert_eq!(
        app.get(&format!("/api/v1/households/{elsewhere}"), Some(&volunteer))
            .await
            .status,
        404
    );
    let visit = app
        .post("/api/v1/visits", Some(&volunteer), &json!({"household_id": elsewhere, "visited_at": "2025-01-01T00:00:00Z", "outcome": "not_home"}))
        .await;
    assert_eq!(visit.problem_code(), "household-not-found");
    assert!(app
        .get("/api/v1/residents", Some(&volunteer))
        .await
        .ids()
        .is_empty());
}

#[actix_web::test]
async fn a_volunteer_taken_off_a_neighbourhood_cannot_keep_writing_there_by_back_dating() {
    use diesel::prelude::*;
    use eid_adoption::schema::assignment_periods;
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 3", "Phan Văn Ba").await;
    let volunteer = app.token_for(VOLUNTEER).await;
    // The visit happens while she is assigned; the phone is offline.
    let during = chrono::Utc::now();
    let off = app
        .delete(
            &format!(
                "/api/v1/volunteers/{}/assignments/{}",
                world.volunteer, world.n1
            ),
            Some(&head),
        )
        .await;
    assert_eq!(off.status, 200);
    let visit_at = |at: chrono::DateTime<chrono::Utc>| json!({"household_id": household, "visited_at": at.to_rfc3339(), "outcome": "helped"});
    // Days after being taken off, a visit dated to the assignment is still accepted: the
    // phone was offline.
    let late = app
        .post("/api/v1/visits", Some(&volunteer), &visit_at(during))
        .await;
    assert_eq!(late.status, 201, "{}", late.text);
    // A month later the assignment is long over; a visit back-dated into it is refused.
    let month = chrono::Duration::days(30);
    app.with_db(|conn| {
        let periods: Vec<(String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> =
            assignment_periods::table
                .filter(assignment_periods::user_id.eq(&world.volunteer))
                .select((
                    assignment_periods::id,
                    assignment_periods::assigned_at,
                    assignment_periods::unassigned_at,
                ))
                .load(conn)
                .unwrap();
        for (id, assigned, unassigned) in periods {
            diesel::update(assignment_periods::table.find(id))
                .set((
                    assignment_periods::assigned_at.eq(assigned - month),
                    assignment_periods::unassigned_at.eq(unassigned.map(|u| u - month)),
                ))
                .execute(conn)
                .unwrap();
        }
    });
    let back_dated = app
        .post(
            "/api/v1/visits",
            Some(&volunteer),
            &visit_at(during - month),
        )
        .await;
    assert_eq!(back_dated.status, 404, "{}", back_dated.text);
    assert_eq!(back_dated.problem_code(), "household-not-found");
}
