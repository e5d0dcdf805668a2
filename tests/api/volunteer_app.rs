//! The volunteers' offline app at `/app/` in a real browser (headless Chromium over
//! WebDriver, DevTools network emulation for "no signal"): a whole door-to-door morning
//! offline, sync faults that must lose and duplicate nothing, a conflict the head made while
//! the phone was offline, and onboarding by one-time link without e-mail.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{TestApp, World, HEAD, PASSWORD, VOLUNTEER};
use crate::households::{add_household, add_resident};

/// The seeded world, the head's token and one household (Nguyễn Văn Ánh, Số 1 đường Lê Lợi)
/// in the volunteer's neighbourhood.
async fn a_neighbourhood_with_one_household() -> (TestApp, World, String, String) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(
        &app,
        &head,
        &world.n1,
        "Số 1 đường Lê Lợi",
        "Nguyễn Văn Ánh",
    )
    .await;
    (app, world, head, household)
}

/// Signs the volunteer in and waits for the download to end on the household list.
pub async fn sign_in(browser: &Browser, app: &TestApp, login: &str) {
    browser.open(&app.url("/app/")).await;
    browser.wait_for_element("#login", 10).await;
    browser.type_into("#login", login).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#signin").await;
    browser.wait_for_element("#households", 20).await;
}

/// Clicks and waits for what the click leads to. The screen may be redrawn by a sync at the
/// moment of the click (the element found is then gone): the click is repeated until the
/// next screen shows.
pub async fn click_then(browser: &Browser, css: &str, then: &str) {
    browser.wait_for_element(css, 10).await;
    let script = "const target = document.querySelector(arguments[0]); if (target) target.click(); return !!target;";
    for _ in 0..10 {
        browser.execute(script, json!([css])).await;
        for _ in 0..10 {
            let shown = browser
                .execute(
                    "return !!document.querySelector(arguments[0]);",
                    json!([then]),
                )
                .await;
            if shown == Value::Bool(true) {
                return;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    browser.wait_for_element(then, 1).await;
}

/// One door: a new household, its adult head, and a visit that helped them to `eid` (and an
/// electronic signature when `signature`).
async fn record_new_door(browser: &Browser, address: &str, head: &str, eid: &str, signature: bool) {
    click_then(browser, "#add-household", "#address").await;
    browser.type_into("#address", address).await;
    browser.type_into("#head_name", head).await;
    click_then(browser, "#save", "#household-title").await;
    click_then(browser, "#add-person", "#full_name").await;
    browser.type_into("#full_name", head).await;
    browser.type_into("#byear", "1970").await;
    browser
        .click("[data-choice='relation_to_head'][data-value='head']")
        .await;
    click_then(browser, "#save", "#residents .resident").await;
    record_visit(browser, eid, signature).await;
}

async fn record_visit(browser: &Browser, eid: &str, signature: bool) {
    click_then(browser, "#record-visit", "#outcome-helped").await;
    click_then(browser, "#outcome-helped", "#save-visit").await;
    browser
        .click(&format!("[data-choice^='eid-'][data-value='{eid}']"))
        .await;
    if signature {
        browser
            .click("[data-choice^='sig-'][data-value='electronic']")
            .await;
    }
    click_then(browser, "#save-visit", "#visits .visit").await;
    click_then(browser, "#back", "#households").await;
}

/// Waits up to `seconds` until the page's script answers `expected`.
pub async fn wait_until(browser: &Browser, script: &str, expected: Value, seconds: u64) {
    let mut seen = Value::Null;
    for _ in 0..seconds * 5 {
        seen = browser.execute(script, json!([])).await;
        if seen == expected {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let page = browser
        .execute("return document.body.innerText;", json!([]))
        .await;
    panic!("expected {expected}, last saw {seen}; the page shows: {page}");
}

/// How many changes the app's sync badge says are waiting.
const WAITING: &str =
    "const b = document.querySelector('#sync-badge'); return b ? b.textContent : null;";

async fn count(app: &TestApp, head: &str, world: &World, indicator: &str) -> i64 {
    let figures = app
        .get(&format!("/api/v1/areas/{}/adoption", world.n1), Some(head))
        .await;
    assert_eq!(figures.status, 200, "{}", figures.text);
    figures.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == indicator)
        .unwrap()["count"]
        .as_i64()
        .unwrap()
}

/// The households of the neighbourhood as the head's list shows them (all pages).
async fn head_list(app: &TestApp, head: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/households?limit=100&cursor={c}"),
            None => "/api/v1/households?limit=100".to_owned(),
        };
        let page = app.get(&path, Some(head)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

async fn residents_of(app: &TestApp, head: &str, household: &str) -> Vec<Value> {
    let list = app
        .get(
            &format!("/api/v1/residents?household_id={household}"),
            Some(head),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_whole_morning_offline_syncs_every_record_once_and_moves_the_figures_by_what_was_recorded(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, world, head, known) = a_neighbourhood_with_one_household().await;
    add_resident(
        &app,
        &head,
        &known,
        json!({"full_name": "Nguyễn Văn Ánh", "birth_date": "1968-03-02", "sex": "male",
               "relation_to_head": "head", "consent": true}),
    )
    .await;
    let eid_before = count(&app, &head, &world, "eid").await;
    let signature_before = count(&app, &head, &world, "signature").await;

    sign_in(&browser, &app, VOLUNTEER).await;
    browser
        .wait_for_text("#households", |t| t.contains("Nguyễn Văn Ánh"))
        .await;
    // The service worker holds the shell before the signal goes.
    wait_until(
        &browser,
        "return !!navigator.serviceWorker.controller;",
        json!(true),
        20,
    )
    .await;

    browser.set_offline(true).await;
    browser.reload().await;
    browser.wait_for_element("#unlock", 10).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#unlock").await;
    browser
        .wait_for_text("#households", |t| t.contains("Nguyễn Văn Ánh"))
        .await;
    browser.wait_for_element("#offline-banner", 5).await;

    // Five doors: the known household, then four new ones.
    click_then(&browser, "#households .household", "#record-visit").await;
    record_visit(&browser, "level1", false).await;
    for (n, name) in [
        "Trần Thị Bích",
        "Lê Văn Cường",
        "Phạm Thị Dung",
        "Đỗ Văn Em",
    ]
    .iter()
    .enumerate()
    {
        let address = format!("Số {} ngõ 3 đường Trần Phú", n + 10);
        record_new_door(&browser, &address, name, "level2", n == 1).await;
    }
    // Search ignores diacritics, like the server.
    browser.type_into("#search", "do van em").await;
    browser
        .wait_for_text("#households", |t| {
            t.contains("Đỗ Văn Em") && !t.contains("Bích")
        })
        .await;
    browser
        .execute(
            "const s = document.querySelector('#search'); s.value = ''; \
             s.dispatchEvent(new Event('input', {bubbles: true}));",
            json!([]),
        )
        .await;
    browser
        .wait_for_text("#households", |t| t.contains("Bích"))
        .await;
    wait_until(&browser, WAITING, json!("⟳ 13"), 10).await;
    // The sync screen lists every waiting change.
    click_then(&browser, "#sync-badge", "#queue").await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#queue .queued').length;",
        json!(13),
        5,
    )
    .await;
    browser
        .wait_for_text("#queue", |t| t.contains("Hộ mới Đỗ Văn Em"))
        .await;
    click_then(&browser, "#back", "#households").await;

    browser.set_offline(false).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 60).await;
    browser
        .wait_for_text("#footer", |t| t.contains("Đã đồng bộ"))
        .await;

    let households = head_list(&app, &head).await;
    let names: Vec<&str> = households
        .iter()
        .map(|h| h["head_name"].as_str().unwrap())
        .collect();
    for name in [
        "Nguyễn Văn Ánh",
        "Trần Thị Bích",
        "Lê Văn Cường",
        "Phạm Thị Dung",
        "Đỗ Văn Em",
    ] {
        assert_eq!(
            names.iter().filter(|n| **n == name).count(),
            1,
            "{name} in {names:?}"
        );
    }
    assert_eq!(households.len(), 5);
    for household in &households {
        let residents = residents_of(&app, &head, household["id"].as_str().unwrap()).await;
        assert_eq!(residents.len(), 1, "{household}");
    }
    assert_eq!(count(&app, &head, &world, "eid").await, eid_before + 5);
    assert_eq!(
        count(&app, &head, &world, "signature").await,
        signature_before + 1
    );

    // Five minutes without a touch lock the app: no name is on the screen until the
    // password is given again.
    browser
        .execute(
            "ui.lastActive = Date.now() - 6 * 60 * 1000; checkLock();",
            json!([]),
        )
        .await;
    browser.wait_for_element("#unlock", 5).await;
    let locked = browser
        .execute("return document.body.innerText;", json!([]))
        .await;
    assert!(
        !locked.as_str().unwrap().contains("Nguyễn Văn Ánh"),
        "{locked}"
    );
    browser.type_into("#password", PASSWORD).await;
    browser.click("#unlock").await;
    browser
        .wait_for_text("#households", |t| t.contains("Nguyễn Văn Ánh"))
        .await;

    // For a person to look at: the phone's width and a 200 % system font.
    browser.resize(360, 800).await;
    browser
        .execute(
            "document.documentElement.style.fontSize = '225%';",
            json!([]),
        )
        .await;
    // The last "saved on this phone" notice goes after 2.5 s.
    actix_web::rt::time::sleep(std::time::Duration::from_secs(3)).await;
    browser.screenshot("app-home-360-200pct").await;
    click_then(&browser, "#households .household", "#record-visit").await;
    browser.screenshot("app-household-360-200pct").await;
    click_then(&browser, "#record-visit", "#outcome-helped").await;
    click_then(&browser, "#outcome-helped", "#save-visit").await;
    browser.screenshot("app-visit-360-200pct").await;
    click_then(&browser, "[data-arg='household']", "#record-visit").await;
    click_then(&browser, "#back", "#sync-badge").await;
    click_then(&browser, "#sync-badge", "#results").await;
    browser.screenshot("app-sync-360-200pct").await;
    browser
        .execute("ui.lastActive = 0; checkLock();", json!([]))
        .await;
    browser.wait_for_element("#unlock", 5).await;
    browser.screenshot("app-lock-360-200pct").await;
}

/// Replaces the page's `fetch` with one that plays the named faults in order: `lose` (the
/// push reaches the server, its answer never comes back), `503`, `expired` (the push carries
/// an expired access token) and, for the next pull with a cursor, `410`.
const FAULTS: &str = r#"
const [pushFaults, pullFaults, expired] = arguments;
const real = window.fetch.bind(window);
window.__keys = [];
const problem = (status, code) => new Response(JSON.stringify({type: 'urn:eid-adoption:problem:' + code, title: code, status, code}),
  {status, headers: {'Content-Type': 'application/problem+json', 'Retry-After': '1'}});
window.fetch = async (url, init) => {
  const path = String(url);
  if (path.startsWith('/api/v1/sync/push')) {
    window.__keys.push(init.headers['Idempotency-Key']);
    const fault = pushFaults.shift();
    if (fault === 'lose') { await real(url, init); throw new TypeError('the answer was lost'); }
    if (fault === '503') return problem(503, 'service-unavailable');
    if (fault === 'expired') {
      return real(url, Object.assign({}, init, {headers: Object.assign({}, init.headers, {Authorization: 'Bearer ' + expired})}));
    }
  }
  if (path.startsWith('/api/v1/sync/pull') && path.includes('cursor=') && pullFaults.length) {
    pullFaults.shift();
    return problem(410, 'cursor-expired');
  }
  return real(url, init);
};
"#;

/// An access token of the volunteer's sign-in that expired a minute ago.
async fn expired_token(app: &TestApp) -> String {
    use base64::Engine;
    let login = app.login(VOLUNTEER, PASSWORD).await;
    let token = login.body["access_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    claims["exp"] = json!(now - 60);
    claims["iat"] = json!(now - 960);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn a_lost_answer_a_503_an_expired_token_and_a_410_during_sync_lose_and_duplicate_nothing() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, world, head, _household) = a_neighbourhood_with_one_household().await;
    sign_in(&browser, &app, VOLUNTEER).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 20).await;
    let expired = expired_token(&app).await;
    browser
        .execute(
            FAULTS,
            json!([["lose", "503", "expired"], ["410"], expired]),
        )
        .await;

    record_new_door(
        &browser,
        "Số 9 đường Trần Phú",
        "Trần Thị Bích",
        "level2",
        true,
    )
    .await;
    browser.click("#sync-badge").await;
    browser.wait_for_element("#sync-now", 5).await;
    browser.click("#sync-now").await;
    wait_until(
        &browser,
        "return document.querySelector('#queue-count') && document.querySelector('#queue-count').textContent;",
        json!("Chờ gửi: 0"),
        60,
    )
    .await;
    browser
        .wait_for_text("#results", |t| {
            t.contains("Đã lưu lần thăm hộ Trần Thị Bích")
        })
        .await;
    // Every attempt sent the same frozen batch under the same key.
    let keys = browser.execute("return window.__keys;", json!([])).await;
    let keys = keys.as_array().unwrap();
    assert!(keys.len() >= 4, "{keys:?}");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    // The 410 made the app download again; the list is whole.
    click_then(&browser, "#back", "#households").await;
    browser
        .wait_for_text("#households", |t| {
            t.contains("Nguyễn Văn Ánh") && t.contains("Trần Thị Bích")
        })
        .await;

    let households = head_list(&app, &head).await;
    let added: Vec<&Value> = households
        .iter()
        .filter(|h| h["head_name"] == "Trần Thị Bích")
        .collect();
    assert_eq!(added.len(), 1, "{households:?}");
    let id = added[0]["id"].as_str().unwrap();
    assert_eq!(residents_of(&app, &head, id).await.len(), 1);
    let visits = app
        .get(&format!("/api/v1/households/{id}/visits"), Some(&head))
        .await;
    assert_eq!(visits.status, 200, "{}", visits.text);
    assert_eq!(visits.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(count(&app, &head, &world, "eid").await, 1);
    assert_eq!(count(&app, &head, &world, "signature").await, 1);
}

#[actix_web::test]
async fn a_conflict_the_head_made_while_the_phone_was_offline_is_shown_on_the_phone_after_sync() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let created = app
        .post(
            "/api/v1/households",
            Some(&head),
            &json!({"area_id": world.n1, "address": "Số 12 ngõ 3", "head_name": "Nguyễn Văn Ánh", "phone": "0912345678"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let household = created.body["id"].as_str().unwrap().to_owned();
    sign_in(&browser, &app, VOLUNTEER).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 20).await;

    browser.set_offline(true).await;
    click_then(
        &browser,
        "#households .household",
        "[data-action='edit-household']",
    )
    .await;
    click_then(&browser, "[data-action='edit-household']", "#phone").await;
    browser.type_into("#phone", "0987654321").await;
    click_then(&browser, "#save", "#household-title").await;

    let etag = format!("\"{}\"", created.body["version"]);
    let edited = app
        .patch(
            &format!("/api/v1/households/{household}"),
            Some(&head),
            Some(&etag),
            &json!({"phone": "0911111111"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);

    browser.set_offline(false).await;
    click_then(&browser, "#back", "#sync-badge").await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 60).await;
    browser.click("#sync-badge").await;
    let shown = browser
        .wait_for_text("#results", |t| t.contains("Người khác đã sửa"))
        .await;
    assert!(shown.contains("Số điện thoại"), "{shown}");
    assert!(shown.contains("0911111111"), "{shown}");
    assert!(shown.contains("0987654321"), "{shown}");
    let conflicts = app.get("/api/v1/conflicts", Some(&head)).await;
    assert_eq!(conflicts.status, 200, "{}", conflicts.text);
    assert_eq!(conflicts.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_volunteer_without_e_mail_joins_from_a_one_time_link_and_a_used_or_expired_link_is_refused(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, _world, head, _household) = a_neighbourhood_with_one_household().await;
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0912 000 111", "name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert!(invited.body["qr_svg"]
        .as_str()
        .unwrap()
        .starts_with("<?xml"));
    assert_eq!(invited.body["user"]["phone"], "0912000111");
    assert!(invited.body["user"]["email"].is_null());
    let link = invited.body["link"].as_str().unwrap().to_owned();
    let fragment = link.split_once("/app/").unwrap().1.to_owned();
    assert!(fragment.starts_with("#join="), "{link}");

    browser.open(&app.url(&format!("/app/{fragment}"))).await;
    browser.wait_for_element("#join", 10).await;
    browser.type_into("#password", "mật khẩu của bà Lan").await;
    browser.type_into("#repeat", "mật khẩu của bà Lan").await;
    browser.click("#join").await;
    browser
        .wait_for_text("#households", |t| t.contains("Nguyễn Văn Ánh"))
        .await;
    // She signs in by phone from now on.
    let by_phone = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"phone": "+84 912 000 111", "password": "mật khẩu của bà Lan"}),
        )
        .await;
    assert_eq!(by_phone.status, 200, "{}", by_phone.text);

    browser.open(&app.url(&format!("/app/{fragment}"))).await;
    browser.wait_for_element("#join", 10).await;
    browser.type_into("#password", "mật khẩu khác dài").await;
    browser.type_into("#repeat", "mật khẩu khác dài").await;
    browser.click("#join").await;
    browser
        .wait_for_text("#form-error", |t| t.contains("đã được dùng"))
        .await;

    let second = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0913 222 333", "name": "Ông Hùng", "role": "volunteer"}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    let invitation = second.body["id"].as_str().unwrap().to_owned();
    app.with_db(|conn| {
        use diesel::prelude::*;
        use eid_adoption::schema::invitations;
        diesel::update(invitations::table.find(&invitation))
            .set(
                invitations::expires_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)),
            )
            .execute(conn)
            .unwrap();
    });
    let link = second.body["link"].as_str().unwrap();
    let fragment = link.split_once("/app/").unwrap().1;
    browser.open(&app.url(&format!("/app/{fragment}"))).await;
    browser.wait_for_element("#join", 10).await;
    browser
        .type_into("#password", "mật khẩu của ông Hùng")
        .await;
    browser.type_into("#repeat", "mật khẩu của ông Hùng").await;
    browser.click("#join").await;
    browser
        .wait_for_text("#form-error", |t| t.contains("hết hạn"))
        .await;
}

/// The counts of the app's downloaded households and of its queue, read from IndexedDB.
const STORED: &str = "return new Promise((done) => { const open = indexedDB.open('eid-adoption-app'); \
    open.onsuccess = () => { const tx = open.result.transaction(['households', 'queue']); \
    const households = tx.objectStore('households').count(); const queue = tx.objectStore('queue').count(); \
    tx.oncomplete = () => { done([households.result, queue.result]); open.result.close(); }; }; });";

#[actix_web::test]
async fn a_revoked_phone_loses_the_peoples_data_at_once_and_sends_its_queue_when_she_signs_in_again(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, world, head, household) = a_neighbourhood_with_one_household().await;
    sign_in(&browser, &app, VOLUNTEER).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 20).await;

    browser.set_offline(true).await;
    click_then(&browser, "#households .household", "#record-visit").await;
    click_then(&browser, "#record-visit", "#outcome-not_home").await;
    click_then(&browser, "#outcome-not_home", "#visits .visit").await;
    let sessions = app
        .get(
            &format!("/api/v1/users/{}/sessions", world.volunteer),
            Some(&head),
        )
        .await;
    for session in sessions.body["items"].as_array().unwrap() {
        let revoked = app
            .delete(
                &format!(
                    "/api/v1/users/{}/sessions/{}",
                    world.volunteer,
                    session["id"].as_str().unwrap()
                ),
                Some(&head),
            )
            .await;
        assert!(revoked.status < 300, "{}", revoked.text);
    }

    browser.set_offline(false).await;
    browser
        .wait_for_text("#ended", |t| t.contains("1 thay đổi"))
        .await;
    assert_eq!(browser.execute(STORED, json!([])).await, json!([0, 1]));

    browser.type_into("#password", PASSWORD).await;
    browser.click("#signin").await;
    browser.wait_for_element("#households", 20).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 30).await;
    let visits = app
        .get(
            &format!("/api/v1/households/{household}/visits"),
            Some(&head),
        )
        .await;
    let items = visits.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", visits.text);
    assert_eq!(items[0]["outcome"], "not_home");
}

#[actix_web::test]
async fn a_volunteer_marks_a_person_moved_away_and_the_server_records_it_with_its_date() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, _world, head, household) = a_neighbourhood_with_one_household().await;
    let resident = add_resident(
        &app,
        &head,
        &household,
        json!({"full_name": "Nguyễn Văn Bảo", "birth_date": "1990", "sex": "male",
               "relation_to_head": "child", "consent": true}),
    )
    .await;
    sign_in(&browser, &app, VOLUNTEER).await;
    wait_until(&browser, WAITING, json!("⟳ 0"), 20).await;
    click_then(
        &browser,
        "#households .household",
        "[data-action='edit-resident']",
    )
    .await;
    click_then(&browser, "[data-action='edit-resident']", "#presence_since").await;
    browser
        .click("[data-choice='presence'][data-value='moved_away']")
        .await;
    browser.choose("#presence_since", "2026-11-01").await;
    click_then(&browser, "#save", "#household-title").await;
    browser
        .wait_for_text("#residents", |t| t.contains("Đã chuyển đi (từ 01/11/2026)"))
        .await;
    click_then(&browser, "#back", "#sync-badge").await;
    browser.click("#sync-badge").await;
    browser.wait_for_element("#sync-now", 5).await;
    browser.click("#sync-now").await;
    browser
        .wait_for_text("#results", |t| {
            t.contains("Đã lưu thay đổi của Nguyễn Văn Bảo")
        })
        .await;
    let stored = app
        .get(&format!("/api/v1/residents/{resident}"), Some(&head))
        .await;
    assert_eq!(stored.body["presence"], "moved_away", "{}", stored.text);
    assert_eq!(stored.body["presence_since"], "2026-11-01");
}

#[actix_web::test]
async fn today_on_the_phone_is_the_day_in_vietnam_whatever_the_phones_time_zone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.seed_world();
    browser.open(&app.url("/app/")).await;
    browser.wait_for_element("#login", 10).await;
    // A phone whose own calendar is on another day than Vietnam's right now: 11 hours behind
    // UTC before 17:00 in Hà Nội, 14 hours ahead after.
    use chrono::Timelike;
    let hanoi_hour = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .hour();
    let zone = if hanoi_hour < 17 {
        "Pacific/Pago_Pago"
    } else {
        "Pacific/Kiritimati"
    };
    browser
        .cdp("Emulation.setTimezoneOverride", json!({"timezoneId": zone}))
        .await;
    let vietnam = || {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .date_naive()
            .to_string()
    };
    let before = vietnam();
    let seen = browser
        .execute(
            "return [today(), Intl.DateTimeFormat().resolvedOptions().timeZone, \
             new Date().toLocaleDateString('en-CA')];",
            json!([]),
        )
        .await;
    let after = vietnam();
    assert_eq!(seen[1], zone);
    assert_ne!(
        seen[2],
        before.as_str(),
        "the emulated zone is on another day"
    );
    assert!(
        seen[0] == before.as_str() || seen[0] == after.as_str(),
        "{seen} vs {before}"
    );
}
