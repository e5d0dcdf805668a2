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

/// Adults born on 1 January 1980 in a new household of `area`, one per e-ID date given
/// (`None`: no e-ID).
async fn adults_with_eid_on(
    app: &TestApp,
    token: &str,
    area: &str,
    eid_days: &[Option<String>],
) -> String {
    let home = add_household(app, token, area, "Số 9", "Chủ hộ").await;
    for (index, day) in eid_days.iter().enumerate() {
        let person = add_resident(
            app,
            token,
            &home,
            json!({"full_name": format!("Người {index}"), "birth_date": "1980-01-01", "sex": if index % 2 == 0 { "female" } else { "male" }, "relation_to_head": "other"}),
        )
        .await;
        if let Some(day) = day {
            record(app, token, &home, json!([{"kind": "eid", "resident_id": person, "value": "level1", "effective_on": day}])).await;
        }
    }
    home
}

fn days_ago(days: u64) -> String {
    (eid_adoption::status::today() - chrono::Days::new(days)).to_string()
}

#[actix_web::test]
async fn the_pace_of_the_last_28_days_projects_the_day_the_target_is_reached() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    // 10 adults; 4 with e-ID long ago, 2 more within the last 28 days: 6 of the 8 needed,
    // growing by 2 per 28 days, so 2 more take 28 days.
    let mut days: Vec<Option<String>> = vec![Some("2024-01-01".into()); 4];
    days.extend([Some(days_ago(3)), Some(days_ago(10))]);
    days.extend(vec![None; 4]);
    adults_with_eid_on(&app, &admin, &world.n1, &days).await;
    let deadline = eid_adoption::status::today() + chrono::Days::new(60);
    let set = app
        .put_json(
            &format!("/api/v1/areas/{}/targets", world.n1),
            Some(&admin),
            &json!({"targets": [{"indicator": "eid", "comparison": "at_least", "threshold_percent": 80.0, "deadline": deadline}]}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let official = app.token_for(OFFICIAL).await;
    let today = eid_adoption::status::today().to_string();
    let body = figures(&app, &official, &world.n1, &today).await;
    let eid = indicator(&body, "eid");
    assert_eq!(body["pace_days"], 28);
    assert_eq!(eid["pace_change"], 2);
    assert_eq!(eid["targets"][0]["still_needed"], 2);
    assert_eq!(eid["targets"][0]["projected_on"], days_from_today(28));
    assert_eq!(eid["targets"][0]["status"], "on_track");

    // With the deadline in 20 days the same pace arrives late but within twice the time.
    let soon = eid_adoption::status::today() + chrono::Days::new(20);
    app.put_json(
        &format!("/api/v1/areas/{}/targets", world.n1),
        Some(&admin),
        &json!({"targets": [{"indicator": "eid", "comparison": "at_least", "threshold_percent": 80.0, "deadline": soon}]}),
    )
    .await;
    let body = figures(&app, &official, &world.n1, &today).await;
    assert_eq!(indicator(&body, "eid")["targets"][0]["status"], "at_risk");
    // Without growth it is off track; once reached it is met.
    let signature = indicator(&body, "signature");
    assert_eq!(signature["pace_change"], 0);
    assert!(signature["targets"][1]["projected_on"].is_null());
    // The 2025 signature target's deadline has passed: missed, judged on that day.
    assert_eq!(signature["targets"][1]["status"], "missed");
    assert_eq!(signature["targets"][1]["deadline_passed"], true);
    assert!(
        signature["targets"][1]["on_deadline"]["short_by"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(signature["targets"][0]["deadline"], "2030-12-31");
    adults_with_eid_on(&app, &admin, &world.n1, &vec![Some(days_ago(1)); 10]).await;
    let body = figures(&app, &official, &world.n1, &today).await;
    // 20 adults now: at least 80 % needs 16, and 6 + 10 = 16 have it.
    assert_eq!(indicator(&body, "eid")["count"], 16);
    assert_eq!(indicator(&body, "eid")["targets"][0]["status"], "met");
}

fn days_from_today(days: u64) -> String {
    (eid_adoption::status::today() + chrono::Days::new(days)).to_string()
}

#[actix_web::test]
async fn children_are_ranked_series_follow_the_weeks_and_breakdowns_split_by_sex_and_age() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    // N1: 1 of 2 with e-ID; N2: 2 of 2.
    adults_with_eid_on(&app, &admin, &world.n1, &[Some(days_ago(20)), None]).await;
    adults_with_eid_on(
        &app,
        &admin,
        &world.n2,
        &[Some(days_ago(40)), Some(days_ago(5))],
    )
    .await;
    let official = app.token_for(OFFICIAL).await;
    let ranked = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/children?sort=eid_rate",
                world.ward
            ),
            Some(&official),
        )
        .await;
    assert_eq!(ranked.status, 200, "{}", ranked.text);
    let order: Vec<&str> = ranked.body["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["area_code"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["P-T-W-2", "P-T-W-1"], "best first");
    let worst_first = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/children?sort=eid_rate&order=asc",
                world.ward
            ),
            Some(&official),
        )
        .await;
    assert_eq!(worst_first.body["children"][0]["area_code"], "P-T-W-1");

    let series = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/series?from={}&interval=week",
                world.ward,
                days_ago(42)
            ),
            Some(&official),
        )
        .await;
    assert_eq!(series.status, 200, "{}", series.text);
    let counts: Vec<i64> = series.body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["values"][0]["count"].as_i64().unwrap())
        .collect();
    // Weeks ending 42, 35, 28, 21, 14, 7 days ago and today.
    assert_eq!(counts, [0, 1, 1, 1, 2, 2, 3]);
    let too_long = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/series?from=1990-01-01&interval=day",
                world.ward
            ),
            Some(&official),
        )
        .await;
    assert_eq!(too_long.status, 422);
    assert_eq!(too_long.body["errors"][0]["code"], "too-many-points");

    let by_sex = app
        .get(
            &format!("/api/v1/areas/{}/adoption/breakdown?by=sex", world.ward),
            Some(&official),
        )
        .await;
    assert_eq!(by_sex.status, 200, "{}", by_sex.text);
    let groups = by_sex.body["groups"].as_array().unwrap();
    assert_eq!(groups[0]["group"], "male");
    assert_eq!(
        (
            groups[0]["adults"].clone(),
            groups[0]["adults_with_eid"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(
        (
            groups[1]["adults"].clone(),
            groups[1]["adults_with_eid"].clone()
        ),
        (json!(2), json!(2))
    );
    let by_age = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/breakdown?by=age_band&as_of=2025-01-01",
                world.ward
            ),
            Some(&official),
        )
        .await;
    let bands: Vec<(String, i64)> = by_age.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().to_owned(),
                g["adults"].as_i64().unwrap(),
            )
        })
        .collect();
    // Born 1980-01-01: 45 on 2025-01-01.
    assert_eq!(
        bands,
        [
            ("18-29".into(), 0),
            ("30-44".into(), 0),
            ("45-59".into(), 4),
            ("60+".into(), 0)
        ]
    );
}

#[actix_web::test]
async fn age_bands_are_a_setting() {
    let app = TestApp::spawn_with(&[("EID_AGE_BANDS", "18,40")]).await;
    let world = app.seed_world();
    let official = app.token_for(OFFICIAL).await;
    let by_age = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/breakdown?by=age_band",
                world.ward
            ),
            Some(&official),
        )
        .await;
    let labels: Vec<&str> = by_age.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["18-39", "40+"]);
}

#[actix_web::test]
async fn figures_and_the_children_table_export_as_csv_and_xlsx_and_are_audited() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    adults_with_eid_on(&app, &admin, &world.n1, &[Some(days_ago(20)), None]).await;
    let official = app.token_for(OFFICIAL).await;
    let csv = app
        .get(
            &format!("/api/v1/areas/{}/adoption/export?format=csv", world.ward),
            Some(&official),
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // One row per target: e-ID, signature 2025 and 2030, broadband.
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][0], "P-T-W");
    assert_eq!((&rows[0][3], &rows[0][4], &rows[0][5]), ("eid", "1", "2"));
    let children = app
        .get(
            &format!(
                "/api/v1/areas/{}/adoption/export?format=csv&table=children",
                world.ward
            ),
            Some(&official),
        )
        .await;
    let text = String::from_utf8_lossy(&children.bytes);
    assert!(text.contains("P-T-W-1") && text.contains("P-T-W-2"));
    let xlsx = app
        .get(
            &format!("/api/v1/areas/{}/adoption/export?format=xlsx", world.ward),
            Some(&official),
        )
        .await;
    assert_eq!(xlsx.status, 200);
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
    assert_eq!(workbook.sheet_names(), ["Chỉ số", "Khu vực con"]);
    let sheet = workbook.worksheet_range("Chỉ số").unwrap();
    assert_eq!(sheet.get((1, 4)).unwrap().to_string(), "1");
    let audit = app
        .get("/api/v1/audit?action=area.figures_exported", Some(&admin))
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn no_endpoint_open_to_officials_returns_a_name() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let home = add_household(
        &app,
        &admin,
        &world.n1,
        "Số 7, ngõ Hoa Sữa",
        "Lê Thị Hồng Nhung",
    )
    .await;
    let person = add_resident(&app, &admin, &home, json!({"full_name": "Phạm Văn Khoa", "birth_date": "1975-03-03", "sex": "male", "relation_to_head": "other"})).await;
    record(&app, &admin, &home, json!([{"kind": "eid", "resident_id": person, "value": "level2", "effective_on": "2025-01-01"}])).await;
    let official = app.token_for(OFFICIAL).await;
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("openapi/openapi.json").unwrap()).unwrap();
    let mut read = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let url = path
            .replace("{id}", &world.ward)
            .replace("{household_id}", &home)
            .replace("{resident_id}", &person);
        let url = if url.contains("/breakdown") {
            format!("{url}?by=sex")
        } else {
            url
        };
        let response = app.get(&url, Some(&official)).await;
        let text = String::from_utf8_lossy(&response.bytes).to_string();
        for name in ["Phạm Văn Khoa", "Hồng Nhung", "Hoa Sữa"] {
            assert!(
                !text.contains(name),
                "GET {url} showed {name} to an official"
            );
        }
        if response.status == 200 {
            read += 1;
        }
    }
    assert!(read >= 8, "the official could read {read} endpoints");
}

#[actix_web::test]
async fn every_adoption_endpoint_keeps_to_the_scope_and_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let other = app.token_for(OTHER_OFFICIAL).await;
    let head = app.token_for(HEAD).await;
    let paths = [
        "adoption/children",
        "adoption/series",
        "adoption/breakdown?by=sex",
        "adoption/export?format=csv",
    ];
    for path in paths {
        let url = format!("/api/v1/areas/{}/{path}", world.n1);
        assert_eq!(
            app.get(&url, Some(&other)).await.problem_code(),
            "area-not-found",
            "{url}"
        );
        assert_eq!(app.get(&url, None).await.status, 401, "{url}");
        assert_eq!(app.get(&url, Some(&head)).await.status, 200, "{url}");
        // The head's own neighbourhood is the widest area it sees.
        let above = format!("/api/v1/areas/{}/{path}", world.ward);
        assert_eq!(app.get(&above, Some(&head)).await.status, 404, "{above}");
    }
    for bad in [
        "adoption/children?sort=population",
        "adoption/series?from=2025-02-01&to=2025-01-01",
        "adoption/series?interval=year",
        "adoption/breakdown",
        "adoption/breakdown?by=religion",
        "adoption/export?format=pdf",
        "adoption/export?as_of=1899-12-31",
    ] {
        let url = format!("/api/v1/areas/{}/{bad}", world.n1);
        let answer = app.get(&url, Some(&head)).await;
        assert!(
            [400, 422].contains(&answer.status),
            "{url}: {} {}",
            answer.status,
            answer.text
        );
    }
}

#[actix_web::test]
async fn a_digital_certificate_counts_from_its_issue_day_through_its_expiry_day_whatever_day_it_was_seen(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let home = adults_with_eid_on(&app, &admin, &world.n1, &[None]).await;
    let residents = app
        .get(
            &format!("/api/v1/residents?household_id={home}"),
            Some(&admin),
        )
        .await;
    let person = residents.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Seen by a volunteer today; issued 30 days ago; expired 10 days ago.
    record(
        &app,
        &admin,
        &home,
        json!([{"kind": "signature", "resident_id": person, "value": "digital",
                "effective_on": days_ago(0), "issued_on": days_ago(30), "expires_on": days_ago(10)}]),
    )
    .await;
    let official = app.token_for(OFFICIAL).await;
    for (day, counts) in [(31, 0), (30, 1), (20, 1), (10, 1), (9, 0), (0, 0)] {
        let body = figures(&app, &official, &world.n1, &days_ago(day)).await;
        assert_eq!(
            indicator(&body, "signature")["count"],
            counts,
            "{day} days ago"
        );
    }
    let history = app
        .get(
            &format!("/api/v1/residents/{person}/status-events"),
            Some(&admin),
        )
        .await;
    let event = &history.body["items"][0];
    assert_eq!(event["issued_on"], days_ago(30));
    assert_eq!(
        event["effective_on"],
        days_ago(30),
        "the certificate's day is its issue day"
    );
}
