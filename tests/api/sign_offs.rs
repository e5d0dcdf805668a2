//! Signed-off months ("chốt số liệu"): the figures a head or official sent up stay as they
//! were while late events move the live figures; the difference is shown and explained in
//! counts; a reopened sign-off stays as history; the ward sees who signed on time.

use serde_json::{json, Value};

use crate::helpers::{
    ServedBinary, TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, OTHER_OFFICIAL, VOLUNTEER,
};
use crate::households::{add_household, add_resident};

fn eid_of(row: &Value) -> &Value {
    row["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "eid")
        .unwrap()
}

async fn record_eid(
    app: &TestApp,
    token: &str,
    household: &str,
    resident: &str,
    level: &str,
    day: &str,
) {
    let recorded = app
        .post(
            "/api/v1/status-events",
            Some(token),
            &json!({"household_id": household, "events": [
                {"kind": "eid", "resident_id": resident, "value": level, "effective_on": day}]}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
}

/// A household of `area` with two adults; returns the household and both people.
async fn two_adults(app: &TestApp, token: &str, area: &str) -> (String, String, String) {
    let person = |name: &str| json!({"full_name": name, "birth_date": "1980-02-02", "sex": "female", "relation_to_head": "other"});
    let home = add_household(app, token, area, "Số 9 Lê Lợi", "Chủ hộ").await;
    let first = add_resident(app, token, &home, person("Một")).await;
    let second = add_resident(app, token, &home, person("Hai")).await;
    (home, first, second)
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    use diesel::prelude::*;
    use eid_adoption::schema::audit_log;
    app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::action.eq(action))
            .count()
            .get_result(conn)
            .unwrap()
    })
}

#[actix_web::test]
async fn a_signed_month_keeps_its_figures_while_a_late_event_moves_them_and_the_difference_is_counted(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let (home, first, second) = two_adults(&app, &admin, &world.n1).await;
    record_eid(&app, &admin, &home, &first, "level2", "2026-01-10").await;
    let head = app.token_for(HEAD).await;

    let signed = app
        .post(
            &format!("/api/v1/areas/{}/sign-offs", world.n1),
            Some(&head),
            &json!({"period": "2026-01", "note": "Số liệu tháng 1"}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    let id = signed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        signed.header("location"),
        Some(format!("/api/v1/sign-offs/{id}").as_str())
    );
    assert_eq!(signed.body["status"], "signed");
    assert_eq!(signed.body["period_end"], "2026-01-31");
    assert_eq!(signed.body["due_on"], "2026-02-05");
    assert_eq!(
        signed.body["on_time"], false,
        "signed long after 5 February"
    );
    assert_eq!(
        signed.body["signed_by"]["name"],
        format!("Người dùng {HEAD}")
    );
    let reported = &signed.body["figures"][0];
    assert_eq!(reported["area_id"], world.n1.as_str());
    assert_eq!(eid_of(reported)["count"], 1);
    assert_eq!(eid_of(reported)["recorded_denominator"], 2);
    // What was frozen is what the raw rows said on 31 January.
    let recount = app.with_db(|conn| {
        let area = eid_adoption::areas::find_in_scope(
            conn,
            &eid_adoption::auth::Scope::national(),
            &world.n1,
        )
        .unwrap();
        eid_adoption::adoption::recount(conn, &area, "2026-01-31".parse().unwrap()).unwrap()
    });
    assert_eq!(eid_of(reported)["count"], recount.adults_with_eid);
    assert_eq!(eid_of(reported)["recorded_denominator"], recount.adults);

    // A volunteer's late record: the second adult had level 1 since 20 January.
    record_eid(&app, &admin, &home, &second, "level1", "2026-01-20").await;
    let live = app
        .get(
            &format!("/api/v1/areas/{}/adoption?as_of=2026-01-31", world.n1),
            Some(&head),
        )
        .await;
    assert_eq!(eid_of(&live.body)["count"], 2, "live figures move");

    let official = app.token_for(OFFICIAL).await;
    let detail = app
        .get(&format!("/api/v1/sign-offs/{id}"), Some(&official))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_eq!(
        eid_of(&detail.body["sign_off"]["figures"][0])["count"],
        1,
        "the report stays"
    );
    assert_eq!(eid_of(&detail.body["now"][0])["count"], 2);
    assert_eq!(
        detail.body["differences"],
        json!([{"area_id": world.n1, "indicator": "eid", "reported_count": 1, "now_count": 2,
                "count_change": 1, "reported_denominator": 2, "now_denominator": 2,
                "denominator_change": 0}])
    );
    assert_eq!(
        detail.body["changes_since"]["late_events"],
        json!([{"kind": "eid", "value": "level1", "count": 1}])
    );
    assert!(
        !detail.text.contains("Một") && !detail.text.contains("Hai"),
        "counts, never names"
    );

    let again = app
        .post(
            &format!("/api/v1/areas/{}/sign-offs", world.n1),
            Some(&head),
            &json!({"period": "2026-01"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_code(), "sign-off-exists");

    // The ward's official sends it back; it stays as history and can be signed again.
    let no_reason = app
        .post(
            &format!("/api/v1/sign-offs/{id}/reopen"),
            Some(&official),
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let reopened = app
        .post(
            &format!("/api/v1/sign-offs/{id}/reopen"),
            Some(&official),
            &json!({"reason": "Có số liệu nhận muộn"}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{}", reopened.text);
    assert_eq!(reopened.body["status"], "reopened");
    assert_eq!(reopened.body["reopen_reason"], "Có số liệu nhận muộn");
    assert_eq!(
        reopened.body["reopened_by"]["name"],
        format!("Người dùng {OFFICIAL}")
    );
    let twice = app
        .post(
            &format!("/api/v1/sign-offs/{id}/reopen"),
            Some(&official),
            &json!({"reason": "Lần nữa"}),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.problem_code(), "sign-off-reopened");
    let resigned = app
        .post(
            &format!("/api/v1/areas/{}/sign-offs", world.n1),
            Some(&head),
            &json!({"period": "2026-01"}),
        )
        .await;
    assert_eq!(resigned.status, 201, "{}", resigned.text);
    assert_eq!(eid_of(&resigned.body["figures"][0])["count"], 2);

    let list = app
        .get(
            &format!(
                "/api/v1/areas/{}/sign-offs?period=2026-01&limit=1",
                world.n1
            ),
            Some(&official),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["items"][0]["status"], "signed");
    let cursor = list.body["next_cursor"].as_str().unwrap().to_owned();
    let older = app
        .get(
            &format!(
                "/api/v1/areas/{}/sign-offs?period=2026-01&cursor={cursor}",
                world.n1
            ),
            Some(&official),
        )
        .await;
    assert_eq!(older.body["items"][0]["id"], id.as_str());
    assert_eq!(older.body["items"][0]["status"], "reopened");
    assert!(older.body["next_cursor"].is_null());
    assert_eq!(audit_count(&app, "sign_off.created"), 2);
    assert_eq!(audit_count(&app, "sign_off.reopened"), 1);
}

#[actix_web::test]
async fn only_the_areas_own_head_or_official_signs_it_off_and_a_month_must_be_over() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let sign = |token: String, area: String, period: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/areas/{area}/sign-offs"),
                Some(&token),
                &json!({"period": period}),
            )
            .await
        }
    };
    let volunteer = app.token_for(VOLUNTEER).await;
    let official = app.token_for(OFFICIAL).await;
    let head = app.token_for(HEAD).await;
    let admin = app.token_for(NATIONAL_ADMIN).await;

    let by_volunteer = sign(volunteer.clone(), world.n1.clone(), "2026-01").await;
    assert_eq!(by_volunteer.status, 403);
    assert_eq!(by_volunteer.problem_code(), "forbidden");
    let listed = app
        .get(
            &format!("/api/v1/areas/{}/sign-offs", world.n1),
            Some(&volunteer),
        )
        .await;
    assert_eq!(listed.status, 403);
    assert_eq!(sign(admin, world.ward.clone(), "2026-01").await.status, 403);
    let below = sign(official.clone(), world.n1.clone(), "2026-01").await;
    assert_eq!(below.status, 403);
    assert_eq!(below.problem_code(), "sign-off-not-yours");
    let elsewhere = sign(head.clone(), world.n2.clone(), "2026-01").await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.problem_code(), "area-not-found");

    let this_month = eid_adoption::status::today().format("%Y-%m").to_string();
    let current = app
        .post(
            &format!("/api/v1/areas/{}/sign-offs", world.ward),
            Some(&official),
            &json!({"period": this_month}),
        )
        .await;
    assert_eq!(current.status, 422);
    assert_eq!(current.body["errors"][0]["code"], "period-not-ended");
    for bad in ["2026-13", "2026-1", "26-01", "2026-01-01", "abcd-ef"] {
        let refused = app
            .post(
                &format!("/api/v1/areas/{}/sign-offs", world.ward),
                Some(&official),
                &json!({"period": bad}),
            )
            .await;
        assert_eq!(refused.status, 422, "{bad}");
        assert_eq!(refused.body["errors"][0]["code"], "period-invalid", "{bad}");
        assert_eq!(refused.body["errors"][0]["pointer"], "/period");
    }

    let ward = sign(official.clone(), world.ward.clone(), "2026-01").await;
    assert_eq!(ward.status, 201, "{}", ward.text);
    let rows: Vec<&str> = ward.body["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["area_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [world.ward.as_str(), world.n1.as_str(), world.n2.as_str()]
    );
    let id = ward.body["id"].as_str().unwrap();
    let other = app.token_for(OTHER_OFFICIAL).await;
    let foreign = app
        .get(&format!("/api/v1/sign-offs/{id}"), Some(&other))
        .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(foreign.problem_code(), "sign-off-not-found");
    // A head below the ward cannot send the ward's report back.
    let from_below = app
        .post(
            &format!("/api/v1/sign-offs/{id}/reopen"),
            Some(&head),
            &json!({"reason": "Không đồng ý"}),
        )
        .await;
    assert_eq!(from_below.status, 404);
}

/// Signs off `period` of `area` through a server whose clock starts at `at`.
async fn sign_at(app: &TestApp, at: &str, token: &str, area: &str, period: &str) -> Value {
    let server = ServedBinary::start(&app.settings.database_url, &[("EID_CLOCK_START", at)]).await;
    let signed = app
        .send(
            reqwest::Client::new()
                .post(format!("{}/api/v1/areas/{area}/sign-offs", server.base))
                .bearer_auth(token)
                .json(&json!({"period": period})),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    let overview = app
        .send(
            reqwest::Client::new()
                .get(format!(
                    "{}/api/v1/areas/{area}/sign-off-status",
                    server.base
                ))
                .bearer_auth(token),
        )
        .await;
    server.kill();
    json!({"signed": signed.body, "overview": overview.body})
}

#[actix_web::test]
async fn the_ward_sees_who_signed_on_time_by_the_wards_calendar_not_utc() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let official = app.token_for(OFFICIAL).await;
    // 16:30 UTC on 5 December is 23:30 in Vietnam: still the due day of November.
    let n1 = sign_at(&app, "2026-12-05T16:30:00Z", &head, &world.n1, "2026-11").await;
    assert_eq!(n1["signed"]["signed_on"], "2026-12-05");
    assert_eq!(n1["signed"]["on_time"], true);
    // 17:30 UTC on 5 December is already 6 December in Vietnam: late.
    let ward = sign_at(
        &app,
        "2026-12-05T17:30:00Z",
        &official,
        &world.ward,
        "2026-11",
    )
    .await;
    assert_eq!(ward["signed"]["signed_on"], "2026-12-06");
    assert_eq!(ward["signed"]["on_time"], false);
    let overview = &ward["overview"];
    assert_eq!(
        overview["period"], "2026-11",
        "the month before the ward's today"
    );
    assert_eq!(overview["due_on"], "2026-12-05");
    let states: Vec<(&str, &str)> = overview["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["area_id"].as_str().unwrap(), a["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            (world.ward.as_str(), "signed_late"),
            (world.n1.as_str(), "signed_on_time"),
            (world.n2.as_str(), "overdue"),
        ]
    );
    // Read through the test's own server on any later day, November stays as it was.
    let now = app
        .get(
            &format!(
                "/api/v1/areas/{}/sign-off-status?period=2026-11",
                world.ward
            ),
            Some(&official),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.text);
    assert_eq!(now.body["areas"][1]["state"], "signed_on_time");
    let bad = app
        .get(
            &format!(
                "/api/v1/areas/{}/sign-off-status?period=11-2026",
                world.ward
            ),
            Some(&official),
        )
        .await;
    assert_eq!(bad.status, 422);
}
