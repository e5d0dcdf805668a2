//! Adoption figures on a date, by the rules that make the numbers right (boundary tests).

use serde_json::{json, Value};

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL};
use crate::households::{add_household, add_resident};

async fn figures(app: &TestApp, token: &str, area: &str, day: &str) -> Value {
    let response = app
        .get(
            &format!("/api/v1/areas/{area}/adoption?as_of={day}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

fn indicator<'a>(figures: &'a Value, name: &str) -> &'a Value {
    figures["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == name)
        .unwrap()
}

async fn record(app: &TestApp, token: &str, household: &str, events: Value) {
    let response = app
        .post(
            "/api/v1/status-events",
            Some(token),
            &json!({"household_id": household, "events": events}),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
}

#[actix_web::test]
async fn figures_follow_birthdays_expiry_dates_moves_and_late_events() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let home = add_household(&app, &head, &world.n1, "Số 1", "Chủ hộ").await;
    let person = |name: &str, born: &str| json!({"full_name": name, "birth_date": born, "sex": "female", "relation_to_head": "other"});
    let turning_18 = add_resident(&app, &head, &home, person("Tròn Mười Tám", "2007-11-24")).await;
    let certificate = add_resident(&app, &head, &home, person("Có Chữ Ký Số", "1980-01-01")).await;
    let mut mover = person("Chuyển Đi", "1970-01-01");
    mover["presence"] = json!("moved_away");
    mover["presence_since"] = json!("2025-03-10");
    let moved = add_resident(&app, &head, &home, mover).await;
    let late = add_resident(&app, &head, &home, person("Ghi Muộn", "1990-05-05")).await;
    record(
        &app,
        &head,
        &home,
        json!([
            {"kind": "eid", "resident_id": turning_18, "value": "level1", "effective_on": "2025-01-01"},
            {"kind": "signature", "resident_id": certificate, "value": "digital", "effective_on": "2024-07-01", "issued_on": "2024-07-01", "expires_on": "2025-06-30"},
            {"kind": "eid", "resident_id": moved, "value": "level2", "effective_on": "2024-01-01"},
            {"kind": "broadband", "value": "yes", "effective_on": "2025-01-01"}
        ]),
    )
    .await;
    let official = app.token_for(OFFICIAL).await;

    // A person turning 18 on D counts on D and not on D − 1.
    let before = figures(&app, &official, &world.n1, "2025-11-23").await;
    assert_eq!(indicator(&before, "eid")["recorded_denominator"], 2);
    assert_eq!(indicator(&before, "eid")["count"], 0);
    let on = figures(&app, &official, &world.n1, "2025-11-24").await;
    assert_eq!(indicator(&on, "eid")["recorded_denominator"], 3);
    assert_eq!(indicator(&on, "eid")["count"], 1);

    // A certificate counts on its expiry date and not the day after.
    assert_eq!(
        indicator(
            &figures(&app, &official, &world.n1, "2025-06-30").await,
            "signature"
        )["count"],
        1
    );
    assert_eq!(
        indicator(
            &figures(&app, &official, &world.n1, "2025-07-01").await,
            "signature"
        )["count"],
        0
    );

    // A move-away on D leaves the denominator from D.
    let still_here = figures(&app, &official, &world.n1, "2025-03-09").await;
    assert_eq!(indicator(&still_here, "eid")["recorded_denominator"], 3);
    assert_eq!(indicator(&still_here, "eid")["count"], 1);
    let gone = figures(&app, &official, &world.n1, "2025-03-10").await;
    assert_eq!(indicator(&gone, "eid")["recorded_denominator"], 2);
    assert_eq!(indicator(&gone, "eid")["count"], 0);

    // An event received late with an earlier date changes past figures.
    assert_eq!(
        indicator(
            &figures(&app, &official, &world.n1, "2025-02-15").await,
            "signature"
        )["count"],
        1
    );
    record(&app, &head, &home, json!([{"kind": "signature", "resident_id": late, "value": "electronic", "effective_on": "2025-02-01"}])).await;
    assert_eq!(
        indicator(
            &figures(&app, &official, &world.n1, "2025-02-15").await,
            "signature"
        )["count"],
        2
    );

    let fibre = indicator(
        &figures(&app, &official, &world.n1, "2025-01-01").await,
        "broadband",
    )
    .clone();
    assert_eq!(
        (
            fibre["count"].clone(),
            fibre["recorded_denominator"].clone()
        ),
        (json!(1), json!(1))
    );
    // The ward sums its neighbourhoods.
    assert_eq!(
        indicator(
            &figures(&app, &official, &world.ward, "2025-11-24").await,
            "eid"
        )["recorded_denominator"],
        3
    );
}

#[actix_web::test]
async fn the_people_still_needed_are_exact_at_the_boundary_and_judged_against_the_official_figure()
{
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let set = app
        .patch(
            &format!("/api/v1/areas/{}", world.n1),
            Some(&admin),
            Some("\"1\""),
            &json!({"official_adult_population": 10}),
        )
        .await;
    assert_eq!(set.status, 200);
    let official = app.token_for(OFFICIAL).await;
    let body = figures(&app, &official, &world.n1, "2025-12-31").await;
    let eid = indicator(&body, "eid");
    assert_eq!(eid["official_denominator"], 10);
    assert_eq!(eid["targets"][0]["judged_against"], "official");
    assert_eq!(eid["targets"][0]["required"], 8, "at least 80 % of 10");
    assert_eq!(eid["targets"][0]["still_needed"], 8);
    let signature = indicator(&body, "signature");
    assert_eq!(
        signature["targets"][0]["required"], 6,
        "more than 50 % of 10"
    );
    assert_eq!(
        signature["targets"][1]["required"], 8,
        "more than 70 % of 10"
    );
    assert!(
        eid["rate_recorded"].is_null(),
        "no recorded adults: no rate"
    );
    assert_eq!(eid["coverage"], 0.0);
}

#[actix_web::test]
async fn figures_are_read_within_scope_and_never_in_the_future() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let other = app.token_for(OTHER_OFFICIAL).await;
    let outside = app
        .get(
            &format!("/api/v1/areas/{}/adoption", world.n1),
            Some(&other),
        )
        .await;
    assert_eq!(outside.problem_code(), "area-not-found");
    let head = app.token_for(HEAD).await;
    assert_eq!(
        app.get(&format!("/api/v1/areas/{}/adoption", world.n1), Some(&head))
            .await
            .status,
        200
    );
    let future = app
        .get(
            &format!("/api/v1/areas/{}/adoption?as_of=2999-01-01", world.n1),
            Some(&head),
        )
        .await;
    assert_eq!(future.status, 422);
    assert_eq!(
        app.get(&format!("/api/v1/areas/{}/adoption", world.n1), None)
            .await
            .status,
        401
    );
}
