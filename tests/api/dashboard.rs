//! The dashboard in a real browser (headless Chromium over WebDriver): an official signs in,
//! sees the ward's cards with the API's values, changes area and date, switches language.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{TestApp, NATIONAL_ADMIN, OFFICIAL, PASSWORD};
use crate::households::{add_household, add_resident};

/// What a card shows for an indicator of an API answer, formatted as the page does in
/// Vietnamese: "50,0 %" and "1 / 2".
fn expected_card(figures: &Value, indicator: &str) -> (String, String) {
    let entry = figures["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == indicator)
        .unwrap();
    let rate = entry["rate_official"]
        .as_f64()
        .or(entry["rate_recorded"].as_f64());
    let denominator = entry["official_denominator"]
        .as_i64()
        .unwrap_or(entry["recorded_denominator"].as_i64().unwrap());
    (
        rate.map_or("—".to_owned(), |r| format!("{r:.1} %").replace('.', ",")),
        format!("{} / {}", entry["count"], denominator),
    )
}

const CARD: &str = "const card = document.querySelector(arguments[0]); \
    const head = document.querySelector('#area-name'); \
    return card ? [card.querySelector('.rate').textContent, card.querySelector('.count').textContent, \
                   head.dataset.area, head.dataset.asOf] : null;";

async fn card_shows(browser: &Browser, indicator: &str, area: &str, day: &str, figures: &Value) {
    let (rate, count) = expected_card(figures, indicator);
    browser
        .wait_for(CARD, json!([format!("#card-{indicator}")]), |seen| {
            *seen == json!([rate, count, area, day])
        })
        .await;
}

#[actix_web::test]
async fn an_official_signs_in_and_the_cards_show_the_api_figures_for_the_chosen_area_and_day() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let person = |name: &str| json!({"full_name": name, "birth_date": "1985-04-04", "sex": "female", "relation_to_head": "other"});
    let home = add_household(&app, &admin, &world.n1, "Số 3", "Chủ hộ").await;
    let first = add_resident(&app, &admin, &home, person("Một")).await;
    add_resident(&app, &admin, &home, person("Hai")).await;
    let other = add_household(&app, &admin, &world.n2, "Số 4", "Chủ hộ").await;
    let third = add_resident(&app, &admin, &other, person("Ba")).await;
    for (household, resident, day) in [
        (&home, &first, "2025-03-01"),
        (&other, &third, "2025-09-01"),
    ] {
        let recorded = app
            .post(
                "/api/v1/status-events",
                Some(&admin),
                &json!({"household_id": household, "events": [
                    {"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": day},
                    {"kind": "broadband", "value": "yes", "effective_on": day}]}),
            )
            .await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
    }
    let official = app.token_for(OFFICIAL).await;
    let today = eid_adoption::status::today().to_string();
    let api = |area: String, day: String| {
        let (app, official) = (&app, &official);
        async move {
            app.get(
                &format!("/api/v1/areas/{area}/adoption?as_of={day}"),
                Some(official),
            )
            .await
            .body
        }
    };

    browser.open(&app.url("/")).await;
    browser.type_into("#email", OFFICIAL).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#signin-button").await;
    // The official's own ward comes first, on today's date.
    let ward = api(world.ward.clone(), today.clone()).await;
    for indicator in ["eid", "signature", "broadband"] {
        card_shows(&browser, indicator, &world.ward, &today, &ward).await;
    }
    assert_eq!(expected_card(&ward, "eid").1, "2 / 3");
    // Today is after 31/12/2025: the 2025 signature target is said to be missed, by as many
    // people as the API counts on that day, under the 2030 target that is still in force.
    let signature = ward["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "signature")
        .unwrap();
    let passed = &signature["targets"][1];
    assert_eq!(passed["status"], "missed");
    let short_by = passed["on_deadline"]["short_by"].as_i64().unwrap();
    assert!(short_by > 0);
    let lines = browser
        .wait_for(
            "return [...document.querySelectorAll('#card-signature .targets li')] \
               .map(li => [li.className, li.querySelector('.status').className, li.textContent]);",
            json!([]),
            |seen| seen.as_array().is_some_and(|l| l.len() == 2),
        )
        .await;
    assert_eq!(lines[0][0], "in-force");
    assert!(
        lines[0][2].as_str().unwrap().contains("31/12/2030"),
        "{lines}"
    );
    assert_eq!(lines[1][0], "passed");
    assert_eq!(lines[1][1], "status missed");
    let said = lines[1][2].as_str().unwrap();
    assert!(said.starts_with("Không đạt"), "{said}");
    assert!(said.contains("31/12/2025"), "{said}");
    assert!(said.contains(&format!("thiếu {short_by} người")), "{said}");
    assert!(
        !said.contains("dự kiến"),
        "no projection for a passed deadline: {said}"
    );
    // The picker holds the caller's scope only: the ward and its two neighbourhoods.
    let options = browser
        .execute(
            "return [...document.querySelectorAll('#area option')].map(o => o.value);",
            json!([]),
        )
        .await;
    assert_eq!(options, json!([world.ward, world.n1, world.n2]));
    // The ranking lists both neighbourhoods; the trend draws three lines.
    let shown = browser
        .wait_for(
            "return document.querySelectorAll('#children-table tbody tr').length + ',' + \
             document.querySelectorAll('#trend polyline').length;",
            json!([]),
            |seen| seen == "2,3",
        )
        .await;
    assert_eq!(shown, "2,3");
    browser.screenshot("dashboard-ward").await;

    browser.choose("#area", &world.n1).await;
    let n1 = api(world.n1.clone(), today.clone()).await;
    card_shows(&browser, "eid", &world.n1, &today, &n1).await;
    assert_eq!(expected_card(&n1, "eid"), ("50,0 %".into(), "1 / 2".into()));

    browser.choose("#as-of", "2025-02-01").await;
    let before = api(world.n1.clone(), "2025-02-01".into()).await;
    card_shows(&browser, "eid", &world.n1, "2025-02-01", &before).await;
    assert_eq!(expected_card(&before, "eid").1, "0 / 2");

    // The official turns the weekly digest on from the page.
    browser.click("#digest").await;
    let official_choice =
        || async { app.get("/api/v1/me/digest", Some(&official)).await.body["subscribed"].clone() };
    for _ in 0..100 {
        if official_choice().await == json!(true) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(official_choice().await, json!(true));

    browser.click("#lang").await;
    browser
        .wait_for_text("h1", |t| t == "e-ID and digital signature dashboard")
        .await;
    browser.screenshot("dashboard-english").await;
}

#[actix_web::test]
async fn an_official_signs_off_last_month_on_the_dashboard_sees_a_late_event_as_a_difference_and_reopens_it(
) {
    use chrono::Datelike;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let person = |name: &str| json!({"full_name": name, "birth_date": "1985-04-04", "sex": "female", "relation_to_head": "other"});
    let home = add_household(&app, &admin, &world.n1, "Số 3", "Chủ hộ").await;
    let first = add_resident(&app, &admin, &home, person("Một")).await;
    let second = add_resident(&app, &admin, &home, person("Hai")).await;
    let today = eid_adoption::status::today();
    let last_month = today
        .with_day(1)
        .unwrap()
        .checked_sub_months(chrono::Months::new(1))
        .unwrap();
    let record = |resident: String, level: &'static str| {
        let (app, admin, home) = (&app, &admin, &home);
        async move {
            let recorded = app
                .post(
                    "/api/v1/status-events",
                    Some(admin),
                    &json!({"household_id": home, "events": [
                        {"kind": "eid", "resident_id": resident, "value": level,
                         "effective_on": last_month}]}),
                )
                .await;
            assert_eq!(recorded.status, 201, "{}", recorded.text);
        }
    };
    record(first, "level2").await;

    browser.open(&app.url("/")).await;
    browser.type_into("#email", OFFICIAL).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#signin-button").await;
    browser.wait_for_element("#sign-off-button", 20).await;
    let label = browser.text("#sign-off-button").await;
    assert_eq!(
        label,
        format!(
            "Chốt số liệu tháng {:02}/{}",
            last_month.month(),
            last_month.year()
        )
    );
    browser.click("#sign-off-button").await;
    let official = app.token_for(OFFICIAL).await;
    let mut standing = Value::Null;
    for _ in 0..100 {
        standing = app
            .get(
                &format!("/api/v1/areas/{}/sign-off-status", world.ward),
                Some(&official),
            )
            .await
            .body["areas"][0]
            .clone();
        if standing["sign_off_id"].is_string() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Whichever day it is in Vietnam when the button is pressed decides on time or late.
    let signed_state = standing["state"].as_str().unwrap().to_owned();
    assert!(["signed_on_time", "signed_late"].contains(&signed_state.as_str()));
    const PANEL: &str = "const state = document.querySelector('#sign-off-state'); \
        const eid = document.querySelector('#sign-off-figures tr[data-indicator=eid]'); \
        const changes = document.querySelector('#sign-off-changes'); \
        return state && eid && changes ? [state.dataset.state, \
            eid.querySelector('.reported').textContent, eid.querySelector('.now').textContent, \
            eid.querySelector('.change').textContent, changes.textContent] : null;";
    browser
        .wait_for(PANEL, json!([]), |seen| {
            *seen
                == json!([
                    signed_state,
                    "1 / 2",
                    "1 / 2",
                    "0",
                    "Số liệu đã báo cáo vẫn đúng đến nay"
                ])
        })
        .await;
    let below = browser
        .execute(
            "return [...document.querySelectorAll('#sign-off-children tr')].map(r => r.dataset.area);",
            json!([]),
        )
        .await;
    assert_eq!(below, json!([world.n1, world.n2]));

    // A late event for last month: the report stays, the difference shows and is explained.
    record(second, "level1").await;
    browser.choose("#area", &world.n1).await;
    // The neighbourhood's panel is drawn (it has no sign-off of its own) before going back.
    browser
        .wait_for(
            "return document.querySelector('#sign-off-figures') === null \
               && document.querySelector('#sign-off-state') !== null \
               ? document.querySelector('#area-name').dataset.area : null;",
            json!([]),
            |seen| seen == world.n1.as_str(),
        )
        .await;
    browser.choose("#area", &world.ward).await;
    browser
        .wait_for(PANEL, json!([]), |seen| {
            seen[1] == "1 / 2"
                && seen[2] == "2 / 2"
                && seen[3] == "+1"
                && seen[4].as_str().is_some_and(|t| {
                    t.contains("1 sự kiện nhận muộn") && t.contains("eid level1: 1")
                })
        })
        .await;
    browser.screenshot("dashboard-sign-off").await;

    browser
        .type_into("#reopen-reason", "Có số liệu nhận muộn")
        .await;
    browser.click("#reopen-button").await;
    browser.wait_for_element("#sign-off-button", 20).await;
    let reopened = app
        .get(
            &format!("/api/v1/areas/{}/sign-offs", world.ward),
            Some(&official),
        )
        .await;
    assert_eq!(reopened.body["items"][0]["status"], "reopened");
    assert_eq!(
        reopened.body["items"][0]["reopen_reason"],
        "Có số liệu nhận muộn"
    );
}
