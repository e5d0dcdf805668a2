//! The neighbourhood head's console at `/app/` (the same shell as the volunteers' app) in a
//! real browser: lists with the filters heads use, a household's dated history, corrections
//! that a concurrent edit cannot make disappear, the conflict and duplicate queues, the
//! register import with its dry run, volunteers (QR invitation, assignment, disabling, sync
//! health), and the printable activation-day list. Volunteers and officials get none of it.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{TestApp, World, HEAD, OFFICIAL, VOLUNTEER};
use crate::households::{add_household, add_resident};
use crate::volunteer_app::{click_then, sign_in, wait_until};

/// The head signed in, on the console's menu.
async fn console(browser: &Browser, app: &TestApp) {
    sign_in(browser, app, HEAD).await;
    click_then(browser, "#open-console", "#c-people-open").await;
}

fn adult(name: &str, born: &str) -> Value {
    json!({"full_name": name, "birth_date": born, "sex": "female", "relation_to_head": "other"})
}

async fn record(app: &TestApp, token: &str, household: &str, events: Value) {
    let recorded = app
        .post(
            "/api/v1/status-events",
            Some(token),
            &json!({"household_id": household, "events": events}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
}

async fn page_text(browser: &Browser, css: &str) -> String {
    browser.wait_for_element(css, 10).await;
    browser.text(css).await
}

/// Two households: Nguyễn Văn Ánh's (him at level 2 pending, his mother without anything)
/// and Trần Thị Bình's (her with level 2 and a digital signature expiring in 30 days).
async fn two_households(app: &TestApp, world: &World, head: &str) -> (String, String, String) {
    let first = add_household(app, head, &world.n1, "Số 1 Lê Lợi", "Nguyễn Văn Ánh").await;
    let anh = add_resident(app, head, &first, adult("Nguyễn Văn Ánh", "1968")).await;
    add_resident(app, head, &first, adult("Lê Thị Mẹ", "1945")).await;
    let second = add_household(app, head, &world.n1, "Số 2 Lê Lợi", "Trần Thị Bình").await;
    let binh = add_resident(app, head, &second, adult("Trần Thị Bình", "1980")).await;
    let today = eid_adoption::status::today();
    let expiry = (today + chrono::Days::new(30)).to_string();
    record(app, head, &first, json!([
        {"kind": "eid", "resident_id": anh, "value": "level2_pending", "effective_on": "2025-03-01"}
    ]))
    .await;
    record(app, head, &second, json!([
        {"kind": "eid", "resident_id": binh, "value": "level2", "effective_on": "2025-02-01"},
        {"kind": "signature", "resident_id": binh, "value": "digital", "effective_on": "2025-02-01",
         "issued_on": "2025-02-01", "expires_on": expiry}
    ]))
    .await;
    (first, anh, binh)
}

#[actix_web::test]
async fn a_head_filters_searches_sorts_and_pages_the_lists_and_reads_each_adults_dated_history() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let (_, _, _) = two_households(&app, &world, &head).await;
    browser.resize(1280, 900).await;
    console(&browser, &app).await;
    click_then(&browser, "#c-people-open", "#people").await;
    // "Adults without e-ID" first: the mother and Ánh (pending is not an account yet).
    let rows = page_text(&browser, "#people tbody").await;
    assert!(
        rows.contains("Lê Thị Mẹ") && rows.contains("Nguyễn Văn Ánh"),
        "{rows}"
    );
    assert!(!rows.contains("Trần Thị Bình"), "{rows}");
    browser.screenshot("console-people-laptop").await;
    click_then(
        &browser,
        "#people-filter-pending",
        "#people-filter-pending[aria-pressed='true']",
    )
    .await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#people tbody tr').length;",
        json!(1),
        10,
    )
    .await;
    assert!(page_text(&browser, "#people tbody")
        .await
        .contains("Nguyễn Văn Ánh"));
    click_then(
        &browser,
        "#people-filter-expiring",
        "#people-filter-expiring[aria-pressed='true']",
    )
    .await;
    wait_until(&browser, "const r = document.querySelector('#people tbody'); return r && r.textContent.includes('Trần Thị Bình') && !r.textContent.includes('Ánh');", json!(true), 10).await;
    // Search without diacritics, in every filter.
    click_then(
        &browser,
        "#people-filter-all",
        "#people-filter-all[aria-pressed='true']",
    )
    .await;
    browser.type_into("#c-q", "nguyen van anh").await;
    browser.click("#c-find").await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#people tbody tr').length;",
        json!(1),
        10,
    )
    .await;
    // By name, two a page: Lê, Nguyễn on the first, Trần after "next".
    browser.type_into("#c-q", "").await;
    browser.click("#c-find").await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#people tbody tr').length;",
        json!(3),
        10,
    )
    .await;
    let names = "return [...document.querySelectorAll('#people tbody tr td:first-child')].map((c) => c.textContent.trim());";
    assert_eq!(
        browser.execute(names, json!([])).await,
        json!(["Lê Thị Mẹ", "Nguyễn Văn Ánh", "Trần Thị Bình"])
    );
    browser.choose("#c-sort", "created").await;
    wait_until(
        &browser,
        names,
        json!(["Nguyễn Văn Ánh", "Lê Thị Mẹ", "Trần Thị Bình"]),
        10,
    )
    .await;

    // The household page: members with statuses and each adult's dated history.
    click_then(&browser, "#people tbody button", "#c-head-name").await;
    let page = page_text(&browser, "main").await;
    assert!(
        page.contains("01/03/2025: Định danh Mức 2 chờ duyệt"),
        "{page}"
    );
    assert!(
        page.contains("Lê Thị Mẹ") && page.contains("Chưa có trạng thái nào được ghi."),
        "{page}"
    );
    browser.resize(360, 800).await;
    browser.screenshot("console-household-phone").await;

    // Households list, not visited for 30 days: both (never visited).
    click_then(&browser, "#c-menu", "#c-households-open").await;
    click_then(&browser, "#c-households-open", "#households-table").await;
    click_then(
        &browser,
        "#households-filter-not_visited",
        "#households-filter-not_visited[aria-pressed='true']",
    )
    .await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#households-table tbody tr').length;",
        json!(2),
        10,
    )
    .await;
}

#[actix_web::test]
async fn a_stale_correction_is_explained_with_both_values_and_lands_on_the_second_save() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let (first, anh, _) = two_households(&app, &world, &head).await;
    let visit = app
        .post(
            "/api/v1/visits",
            Some(&head),
            &json!({"household_id": first, "outcome": "not_home", "visited_at": chrono::Utc::now().to_rfc3339()}),
        )
        .await;
    assert_eq!(visit.status, 201, "{}", visit.text);
    console(&browser, &app).await;
    click_then(&browser, "#c-households-open", "#households-table").await;
    click_then(
        &browser,
        "#households-table tbody button",
        "#c-edit-household",
    )
    .await;
    click_then(&browser, "#c-edit-household", "#c-phone").await;
    // While the head types, someone else saves another phone number.
    let other = app
        .patch(
            &format!("/api/v1/households/{first}"),
            Some(&head),
            Some("\"1\""),
            &json!({"phone": "0911111111", "head_name": "Nguyễn Văn Ánh (bố)"}),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.text);
    browser.type_into("#c-phone", "0987654321").await;
    // One click only: a repeated click would be the head's knowing second save.
    browser.click("#c-save").await;
    browser.wait_for_element("#c-stale", 20).await;
    assert_eq!(
        browser
            .execute(
                "return document.querySelector('#c-phone').value;",
                json!([])
            )
            .await,
        json!("0987654321"),
        "what the head typed is still there"
    );
    assert!(page_text(&browser, "#c-now-phone")
        .await
        .contains("0911111111"));
    click_then(&browser, "#c-save", "#c-head-name").await;
    let stored = app
        .get(&format!("/api/v1/households/{first}"), Some(&head))
        .await;
    assert_eq!(stored.body["phone"], "0987654321");
    assert_eq!(
        stored.body["head_name"], "Nguyễn Văn Ánh (bố)",
        "the other person's change of a field the head did not touch stays"
    );

    // An e-ID correction shows in the history as a correction.
    click_then(&browser, &format!("#c-fix-{anh}"), "#c-level").await;
    browser.choose("#c-level", "level2").await;
    click_then(&browser, "#c-save", "#c-head-name").await;
    assert!(page_text(&browser, &format!("#member-{anh}"))
        .await
        .contains("Mức 2 (sửa)"));
    // Voiding the visit needs a reason, which the page then shows.
    let visit_id = visit.body["id"].as_str().unwrap();
    click_then(&browser, &format!("#c-void-{visit_id}"), "#c-reason").await;
    browser.type_into("#c-reason", "Ghi nhầm hộ").await;
    click_then(&browser, "#c-save", "#c-head-name").await;
    assert!(page_text(&browser, "#c-visits")
        .await
        .contains("Ghi nhầm hộ"));
    // Erasure says what it does before it does it.
    click_then(&browser, &format!("#c-erase-{anh}"), "#c-erase-text").await;
    let consequence = page_text(&browser, "#c-erase-text").await;
    assert!(
        consequence.contains("Không thể hoàn tác") && consequence.contains("số liệu"),
        "{consequence}"
    );
    click_then(&browser, "#c-erase-confirm", "#c-head-name").await;
    let erased = app
        .get(&format!("/api/v1/residents/{anh}"), Some(&head))
        .await;
    assert_eq!(erased.body["erased"], true, "{}", erased.text);
}

#[actix_web::test]
async fn conflicts_and_duplicates_are_shown_side_by_side_and_resolved_merged_or_dismissed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let household = add_household(&app, &head, &world.n1, "Số 11 Lê Lợi", "Phạm Văn Tâm").await;
    let mut phone = crate::phone::Phone::sign_in(&app, VOLUNTEER).await;
    phone.pull().await;
    let corrected = app
        .patch(
            &format!("/api/v1/households/{household}"),
            Some(&head),
            Some("\"1\""),
            &json!({"phone": "0988111222"}),
        )
        .await;
    assert_eq!(corrected.status, 200);
    phone.update("household", &household, json!({"phone": "0977333444"}));
    phone.sync().await;
    let person = json!({"full_name": "Hoàng Văn Tư", "birth_date": "1962-07-07", "sex": "male", "relation_to_head": "other"});
    add_resident(&app, &head, &household, person.clone()).await;
    let mut twin = person.clone();
    twin["full_name"] = json!("HOANG VAN TU");
    add_resident(&app, &head, &household, twin).await;
    let other_home = add_household(&app, &head, &world.n1, "Số 12 Lê Lợi", "Vũ Thị Hoa").await;
    let mut similar = person;
    similar["full_name"] = json!("Hoàng Văn Tư");
    add_resident(&app, &head, &other_home, similar).await;

    console(&browser, &app).await;
    click_then(&browser, "#c-conflicts-open", "#conflicts").await;
    let card = page_text(&browser, "#conflicts").await;
    assert!(
        card.contains("0988111222") && card.contains("0977333444"),
        "{card}"
    );
    browser.screenshot("console-conflicts-phone").await;
    click_then(&browser, "#conflicts [id^='take-']", "#c-empty").await;
    let stored = app
        .get(&format!("/api/v1/households/{household}"), Some(&head))
        .await;
    assert_eq!(
        stored.body["phone"], "0977333444",
        "the phone's value was taken"
    );

    click_then(&browser, "#c-menu", "#c-duplicates-open").await;
    click_then(&browser, "#c-duplicates-open", "#duplicates").await;
    let pairs = app.get("/api/v1/duplicates", Some(&head)).await;
    let open: Vec<&Value> = pairs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "open")
        .collect();
    assert!(open.len() >= 2, "{}", pairs.text);
    wait_until(
        &browser,
        "return document.querySelectorAll('#duplicates > li.card').length;",
        json!(open.len()),
        10,
    )
    .await;
    // Merge the first pair; dismiss whatever is still open after it.
    let first = open[0]["id"].as_str().unwrap().to_owned();
    let kept = open[0]["residents"][0]["id"].as_str().unwrap().to_owned();
    click_then(&browser, &format!("#merge-a-{first}"), "#c-notice").await;
    wait_until(
        &browser,
        &format!("return !document.querySelector('#duplicate-{first}');"),
        json!(true),
        10,
    )
    .await;
    for _ in 0..5 {
        let left = app.get("/api/v1/duplicates", Some(&head)).await;
        let Some(pair) = left.body["items"].as_array().unwrap().first() else {
            break;
        };
        let id = pair["id"].as_str().unwrap().to_owned();
        click_then(&browser, &format!("#dismiss-{id}"), "#c-notice").await;
        wait_until(
            &browser,
            &format!("return !document.querySelector('#duplicate-{id}');"),
            json!(true),
            10,
        )
        .await;
    }
    assert!(page_text(&browser, "#duplicates")
        .await
        .contains("Không còn nghi trùng lặp nào."));
    let statuses: Vec<String> = app.with_db(|conn| {
        use diesel::prelude::*;
        eid_adoption::schema::duplicate_pairs::table
            .select(eid_adoption::schema::duplicate_pairs::status)
            .load(conn)
            .unwrap()
    });
    assert!(statuses.iter().any(|s| s == "merged"), "{statuses:?}");
    let survivor = app
        .get(&format!("/api/v1/residents/{kept}"), Some(&head))
        .await;
    assert_eq!(survivor.status, 200, "{}", survivor.text);
}

#[actix_web::test]
async fn a_register_is_checked_first_with_its_row_errors_then_imported_as_checked() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    let template = app
        .get("/api/v1/imports/households/template", Some(&head))
        .await;
    assert_eq!(template.status, 200);
    let good = template.text.clone();
    // Row 5 (the header is row 1) names a day that does not exist.
    let broken = format!(
        "{}\nKP01-0002,Số 3 Lê Lợi,Trần Văn Cường,,,Trần Văn Cường,31/02/1980,nam,chủ hộ,,có,chưa có,,,,\n",
        good.trim_end()
    );
    console(&browser, &app).await;
    click_then(&browser, "#c-import-open", "#c-file").await;
    let attach = "const [text, name] = arguments; const t = new DataTransfer(); t.items.add(new File([text], name, {type: 'text/csv'})); document.querySelector('#c-file').files = t.files; return true;";
    browser
        .execute(attach, json!([broken, "danh-sach.csv"]))
        .await;
    click_then(&browser, "#c-dry-run", "#c-import-summary").await;
    let problems = page_text(&browser, "#c-import-problems").await;
    assert!(
        problems.starts_with("Dòng") && problems.contains("\n5"),
        "row 5 is named: {problems}"
    );
    assert_eq!(
        app.get("/api/v1/households", Some(&head)).await.body["items"],
        json!([])
    );
    browser
        .execute(attach, json!([good, "danh-sach.csv"]))
        .await;
    click_then(&browser, "#c-dry-run", "#c-import-ok").await;
    assert_eq!(
        app.get("/api/v1/households", Some(&head)).await.body["items"],
        json!([]),
        "a dry run writes nothing"
    );
    click_then(&browser, "#c-import-run", "#c-imported").await;
    let listed = app.get("/api/v1/households", Some(&head)).await;
    assert!(
        !listed.body["items"].as_array().unwrap().is_empty(),
        "{}",
        listed.text
    );
}

#[actix_web::test]
async fn volunteers_are_invited_by_qr_assigned_unassigned_and_disabled_and_the_stuck_phone_comes_first(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    // The volunteer's phone synced once and still has two changes waiting.
    let phone = crate::phone::Phone::sign_in(&app, VOLUNTEER).await;
    let pulled = app
        .send(phone.request(
            reqwest::Method::GET,
            &format!("/api/v1/sync/pull?device_id={}&queued=2", phone.device_id),
        ))
        .await;
    assert_eq!(pulled.status, 200, "{}", pulled.text);

    console(&browser, &app).await;
    click_then(&browser, "#c-volunteers-open", "#volunteers").await;
    let card = page_text(&browser, &format!("#volunteer-{}", world.volunteer)).await;
    assert!(
        card.contains("2 thay đổi còn chờ trên máy") && card.contains("1.4.0"),
        "{card}"
    );
    assert!(!card.contains("Không hoạt động"), "{card}");

    // A phone-only invitation: the QR code and the link, shown once.
    browser.type_into("#c-inv-name", "Đinh Thị Lan").await;
    browser.type_into("#c-inv-phone", "0912345678").await;
    click_then(&browser, "#c-invite", "#c-qr-image").await;
    assert!(page_text(&browser, "#c-link").await.contains("/app/#join="));
    let loaded = browser
        .execute("const i = document.querySelector('#c-qr-image'); return i.complete && i.naturalWidth > 0;", json!([]))
        .await;
    assert_eq!(
        loaded,
        json!(true),
        "the QR image renders under the page's CSP"
    );
    browser.screenshot("console-volunteers-phone").await;

    // Unassign, assign again, then disable (after a confirmation that says what it does).
    let volunteer = world.volunteer.clone();
    click_then(
        &browser,
        &format!("#unassign-{volunteer}"),
        &format!("#assign-{volunteer}"),
    )
    .await;
    let me = app
        .get(
            &format!("/api/v1/users/{volunteer}"),
            Some(&app.token_for(crate::helpers::NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(me.body["assignments"], json!([]), "{}", me.text);
    click_then(
        &browser,
        &format!("#assign-{volunteer}"),
        &format!("#unassign-{volunteer}"),
    )
    .await;
    click_then(
        &browser,
        &format!("#disable-{volunteer}"),
        "#c-disable-text",
    )
    .await;
    click_then(
        &browser,
        &format!("#disable-confirm-{volunteer}"),
        "#c-notice",
    )
    .await;
    wait_until(
        &browser,
        &format!("return !document.querySelector('#volunteer-{volunteer}');"),
        json!(true),
        10,
    )
    .await;
    let refused = app.login(VOLUNTEER, crate::helpers::PASSWORD).await;
    assert_ne!(refused.status, 200, "a disabled volunteer cannot sign in");
}

#[actix_web::test]
async fn the_activation_day_list_prints_a_call_list_and_a_slip_per_household_and_its_xlsx_is_audited(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    two_households(&app, &world, &head).await;
    console(&browser, &app).await;
    click_then(&browser, "#c-activation-open", "#c-call-list").await;
    let summary = page_text(&browser, "#c-act-summary").await;
    assert!(
        summary.contains("2 người ở 1 hộ"),
        "Bình has both: {summary}"
    );
    // A date input's typing order follows the browser's locale: set its value directly.
    browser
        .execute(
            "document.querySelector('#c-act-date').value = '2026-12-20'; return true;",
            json!([]),
        )
        .await;
    browser
        .type_into("#c-act-place", "Nhà văn hóa khu phố 1")
        .await;
    click_then(&browser, "#c-act-apply", "#c-slips").await;
    assert_eq!(
        browser
            .execute(
                "return document.querySelectorAll('#c-slips .slip').length;",
                json!([])
            )
            .await,
        json!(1),
        "one slip per household"
    );
    // In print: no buttons, the slips shown after the call list.
    browser
        .cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
        .await;
    let printed = browser
        .execute(
            "return [getComputedStyle(document.querySelector('#c-slips')).display, getComputedStyle(document.querySelector('#c-print')).display, document.querySelector('#c-slips').textContent.includes('Nhà văn hóa khu phố 1 ngày 20/12/2026')];",
            json!([]),
        )
        .await;
    assert_eq!(printed, json!(["block", "none", true]));
    browser.resize(1280, 900).await;
    browser.screenshot("console-activation-print").await;
    browser
        .cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
        .await;
    click_then(&browser, "#c-activation-xlsx", "#c-call-list").await;
    let audited = || {
        app.with_db(|conn| {
            use diesel::prelude::*;
            eid_adoption::schema::audit_log::table
                .filter(eid_adoption::schema::audit_log::action.eq("activation_list.exported"))
                .select(eid_adoption::schema::audit_log::changes)
                .load::<String>(conn)
                .unwrap()
        })
    };
    for _ in 0..50 {
        if audited().iter().any(|c| c.contains("xlsx")) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        audited().iter().any(|c| c.contains("\"xlsx\"")),
        "{:?}",
        audited()
    );
}

#[actix_web::test]
async fn a_volunteer_and_an_official_cannot_open_the_consoles_data() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let paths = [
        "/api/v1/volunteers/activity".to_owned(),
        "/api/v1/volunteers".to_owned(),
        "/api/v1/households/activation-list".to_owned(),
        "/api/v1/duplicates".to_owned(),
        "/api/v1/conflicts".to_owned(),
        "/api/v1/households/export".to_owned(),
        "/api/v1/invitations".to_owned(),
    ];
    for who in [VOLUNTEER, OFFICIAL] {
        let token = app.token_for(who).await;
        for path in &paths {
            let refused = app.get(path, Some(&token)).await;
            assert!(
                refused.status == 403 || refused.status == 404,
                "{who} {path}: {}",
                refused.status
            );
        }
    }
    let official = app.token_for(OFFICIAL).await;
    for path in ["/api/v1/residents", "/api/v1/households"] {
        assert_eq!(app.get(path, Some(&official)).await.status, 403, "{path}");
    }
    let imported = app
        .send(
            app.client
                .post(app.url(&format!(
                    "/api/v1/imports/households?area_id={}&dry_run=true",
                    world.n1
                )))
                .bearer_auth(app.token_for(VOLUNTEER).await)
                .header("Content-Type", "text/csv")
                .body("x"),
        )
        .await;
    assert_eq!(imported.status, 403);

    // In the app, a volunteer has no way into the console, even by naming its screen.
    let Some(browser) = Browser::start().await else {
        return;
    };
    sign_in(&browser, &app, VOLUNTEER).await;
    assert_eq!(
        browser
            .execute(
                "return !!document.querySelector('#open-console');",
                json!([])
            )
            .await,
        json!(false)
    );
    browser
        .execute("ui.screen = 'c-people'; render(); return true;", json!([]))
        .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        browser
            .execute("return !!document.querySelector('#people');", json!([]))
            .await,
        json!(false)
    );
}

#[actix_web::test]
async fn a_head_sees_open_personal_data_requests_most_urgent_first_with_their_deadlines_and_acknowledges_one(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let mut ids = Vec::new();
    for (kind, days_ago) in [("objection", 20_u64), ("access", 1)] {
        let received = (eid_adoption::status::today() - chrono::Days::new(days_ago)).to_string();
        let registered = app
            .post(
                "/api/v1/data-requests",
                Some(&head),
                &json!({"area_id": world.n1, "kind": kind, "channel": "in_person", "received_on": received}),
            )
            .await;
        assert_eq!(registered.status, 201, "{}", registered.text);
        ids.push(registered.body["id"].as_str().unwrap().to_owned());
    }
    console(&browser, &app).await;
    click_then(&browser, "#c-requests-open", "#requests").await;
    let order = browser
        .wait_for(
            "return [...document.querySelectorAll('#requests li.card')].map(li => li.id + ':' + li.dataset.daysLeft).join(',');",
            json!([]),
            |seen| seen.as_str().is_some_and(|s| s.matches("request-").count() == 2),
        )
        .await;
    assert_eq!(
        order,
        format!("request-{}:-5,request-{}:9", ids[0], ids[1]),
        "the overdue objection first"
    );
    assert_eq!(page_text(&browser, "#c-overdue").await, "1 yêu cầu quá hạn");
    let late = page_text(&browser, &format!("#request-{}", ids[0])).await;
    assert!(
        late.contains("Phản đối xử lý") && late.contains("Quá hạn 5 ngày"),
        "{late}"
    );
    browser.screenshot("console-data-requests").await;
    click_then(&browser, &format!("#ack-{}", ids[1]), "#requests").await;
    wait_until(
        &browser,
        &format!(
            "return document.querySelector('#ack-{}') === null && document.querySelector('#requests') !== null;",
            ids[1]
        ),
        json!(true),
        10,
    )
    .await;
    let list = app.get("/api/v1/data-requests", Some(&head)).await;
    let acknowledged = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == ids[1].as_str())
        .unwrap();
    assert_eq!(
        acknowledged["acknowledged_on"],
        eid_adoption::status::today().to_string()
    );
}
