//! The ward's calendar: "today" is the day in Vietnam (UTC+7), not the UTC date. The
//! server runs as its own process with its clock started at a chosen instant
//! (`EID_CLOCK_START`), so these tests are at 23:30 UTC (06:30 in Vietnam) or either side
//! of 17:00 UTC (midnight in Vietnam) whenever they run.

use serde_json::{json, Value};

use crate::helpers::{ServedBinary, TestApp, World, HEAD, OFFICIAL, VOLUNTEER};

/// A household of N1 with one adult, made by the head through the test's own server.
async fn household_with_an_adult(app: &TestApp, world: &World) -> (String, String) {
    let head = app.token_for(HEAD).await;
    let household = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": "Số 7 Trần Phú", "head_name": "Đỗ Văn Hải"}),
        )
        .await;
    assert_eq!(household.status, 201, "{}", household.text);
    let household_id = household.body["id"].as_str().unwrap().to_owned();
    let resident = app
        .post(
            &format!("/api/v1/households/{household_id}/residents"),
            Some(&head),
            &json!({"full_name": "Đỗ Văn Hải", "birth_date": "1960-01-01", "sex": "male",
                    "relation_to_head": "head"}),
        )
        .await;
    assert_eq!(resident.status, 201, "{}", resident.text);
    (
        household_id,
        resident.body["id"].as_str().unwrap().to_owned(),
    )
}

/// A visit by the volunteer at `visited_at`, recording an e-ID dated `effective_on`.
async fn visit(
    app: &TestApp,
    base: &str,
    token: &str,
    household: &str,
    resident: &str,
    visited_at: &str,
    effective_on: &str,
) -> crate::helpers::TestResponse {
    app.send(
        app.client
            .post(format!("{base}/api/v1/visits"))
            .bearer_auth(token)
            .json(&json!({
                "household_id": household, "visited_at": visited_at, "outcome": "helped",
                "events": [{"kind": "eid", "resident_id": resident, "value": "level2",
                            "effective_on": effective_on}]
            })),
    )
    .await
}

fn field_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn at_half_past_six_in_hanoi_a_record_dated_today_is_accepted_and_figures_default_to_today() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let (household, resident) = household_with_an_adult(&app, &world).await;
    // 23:30 UTC on 6 December is 06:30 on 7 December in Vietnam.
    let server = ServedBinary::start(
        &app.settings.database_url,
        &[("EID_CLOCK_START", "2026-12-06T23:30:00Z")],
    )
    .await;
    let base = server.base.clone();
    let volunteer = app.token_for(VOLUNTEER).await;

    let today = visit(
        &app,
        &base,
        &volunteer,
        &household,
        &resident,
        "2026-12-06T23:25:00Z",
        "2026-12-07",
    )
    .await;
    assert_eq!(
        today.status, 201,
        "the Vietnamese today is not in the future: {}",
        today.text
    );
    let tomorrow = visit(
        &app,
        &base,
        &volunteer,
        &household,
        &resident,
        "2026-12-06T23:26:00Z",
        "2026-12-08",
    )
    .await;
    assert_eq!(tomorrow.status, 422);
    assert_eq!(field_codes(&tomorrow.body), ["date-in-future"]);

    let official = app.token_for(OFFICIAL).await;
    let figures = app
        .send(
            app.client
                .get(format!("{base}/api/v1/areas/{}/adoption", world.ward))
                .bearer_auth(&official),
        )
        .await;
    assert_eq!(figures.status, 200, "{}", figures.text);
    assert_eq!(
        figures.body["as_of"], "2026-12-07",
        "the default day is the ward's today"
    );
    let asked = app
        .send(
            app.client
                .get(format!(
                    "{base}/api/v1/areas/{}/adoption?as_of=2026-12-07",
                    world.ward
                ))
                .bearer_auth(&official),
        )
        .await;
    assert_eq!(
        asked.status, 200,
        "as_of the Vietnamese today is allowed: {}",
        asked.text
    );
    assert_eq!(asked.body["indicators"][0]["indicator"], "eid");
    assert_eq!(asked.body["indicators"][0]["count"], 1, "{}", asked.text);

    // The household was visited on the ward's 7 December, not the UTC 6th.
    let head = app.token_for(HEAD).await;
    let listed = app
        .send(
            app.client
                .get(format!("{base}/api/v1/households/{household}"))
                .bearer_auth(&head),
        )
        .await;
    assert_eq!(
        listed.body["last_visited_on"], "2026-12-07",
        "{}",
        listed.text
    );
}

#[actix_web::test]
async fn the_day_turns_at_midnight_in_vietnam_which_is_17_00_utc() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let (household, resident) = household_with_an_adult(&app, &world).await;
    let volunteer = app.token_for(VOLUNTEER).await;
    for (start, visited_at, accepted) in [
        ("2026-12-06T16:59:00Z", "2026-12-06T16:58:00Z", false),
        ("2026-12-06T17:01:00Z", "2026-12-06T17:00:30Z", true),
    ] {
        let server =
            ServedBinary::start(&app.settings.database_url, &[("EID_CLOCK_START", start)]).await;
        let base = server.base.clone();
        let answer = visit(
            &app,
            &base,
            &volunteer,
            &household,
            &resident,
            visited_at,
            "2026-12-07",
        )
        .await;
        if accepted {
            assert_eq!(answer.status, 201, "at {start}: {}", answer.text);
        } else {
            assert_eq!(answer.status, 422, "at {start}: {}", answer.text);
            assert_eq!(field_codes(&answer.body), ["date-in-future"]);
        }
        drop(server);
    }
}

#[actix_web::test]
async fn a_test_clock_and_an_unknown_time_zone_are_refused_at_start() {
    let app = TestApp::spawn().await;
    for (vars, says) in [
        (
            vec![
                ("EID_ENV", "production"),
                ("EID_CLOCK_START", "2026-12-06T23:30:00Z"),
                ("SMTP_URL", "smtp://127.0.0.1:1"),
            ],
            "EID_CLOCK_START",
        ),
        (vec![("EID_TIME_ZONE", "Asia/Hanoi_City")], "EID_TIME_ZONE"),
    ] {
        let output = crate::cli::binary()
            .env("DATABASE_URL", &app.settings.database_url)
            .envs(vars)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(!output.status.success());
        let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        assert!(log.contains(says), "{log}");
    }
}
