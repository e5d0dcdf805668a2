//! Duties under the personal-data law in force (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): a
//! head registers a person's request and sees its deadlines; an erasure is closed only once
//! the person is erased; breaches carry the 72-hour reporting time; the processing record
//! and consent say which law they stand on.

use serde_json::json;

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, VOLUNTEER, WARD_ADMIN};
use crate::households::{add_household, add_resident};

fn day_after(days: u64) -> String {
    (eid_adoption::status::today() + chrono::Days::new(days)).to_string()
}

#[actix_web::test]
async fn a_head_registers_an_erasure_request_sees_its_deadlines_and_closes_it_once_the_person_is_erased(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let home = add_household(&app, &head, &world.n1, "Số 2", "Chủ hộ").await;
    let person = add_resident(
        &app,
        &head,
        &home,
        json!({"full_name": "Lê Thị Hoa", "birth_date": "1975-03-03", "sex": "female",
               "relation_to_head": "other", "consent": true}),
    )
    .await;
    let today = eid_adoption::status::today().to_string();

    let registered = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"resident_id": person, "kind": "erasure", "channel": "in_person",
                    "received_on": today, "details": "Xin xóa dữ liệu"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().unwrap().to_owned();
    assert_eq!(registered.body["area_id"], world.n1.as_str());
    assert_eq!(registered.body["status"], "open");
    assert_eq!(registered.body["due_on"], day_after(10));
    assert_eq!(registered.body["days_left"], 10);
    assert_eq!(registered.body["overdue"], false);
    assert!(registered.body["basis"]
        .as_str()
        .unwrap()
        .contains("356/2025"));
    let acknowledge_by: chrono::NaiveDate = registered.body["acknowledge_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let received = eid_adoption::status::today();
    assert!(acknowledge_by > received && (acknowledge_by - received).num_days() <= 4);

    // An erasure has no extension; completing it before the erasure is refused.
    let extend = app
        .post(
            &format!("/api/v1/data-requests/{id}/extend"),
            Some(&head),
            &json!({"reason": "Cần thêm thời gian"}),
        )
        .await;
    assert_eq!(extend.status, 409);
    assert_eq!(extend.problem_code(), "data-request-not-extendable");
    let acknowledged = app
        .post(
            &format!("/api/v1/data-requests/{id}/acknowledge"),
            Some(&head),
            &json!({}),
        )
        .await;
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.text);
    assert_eq!(acknowledged.body["acknowledged_on"], today.as_str());
    assert_eq!(acknowledged.body["acknowledgement_late"], false);
    let early = app
        .post(
            &format!("/api/v1/data-requests/{id}/close"),
            Some(&head),
            &json!({"outcome": "completed"}),
        )
        .await;
    assert_eq!(early.status, 409);
    assert_eq!(early.problem_code(), "data-request-not-carried-out");
    let erased = app
        .post(
            &format!("/api/v1/residents/{person}/erase"),
            Some(&head),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    let closed = app
        .post(
            &format!("/api/v1/data-requests/{id}/close"),
            Some(&head),
            &json!({"outcome": "completed", "note": "Đã xóa"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.body["status"], "completed");
    assert!(closed.body["days_left"].is_null());
    let again = app
        .post(
            &format!("/api/v1/data-requests/{id}/close"),
            Some(&head),
            &json!({"outcome": "refused", "note": "x"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_code(), "data-request-closed");

    let admin = app.token_for(WARD_ADMIN).await;
    let list = app.get("/api/v1/data-requests", Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert_eq!(list.body["overdue_open"], 0);
    assert!(
        list.body["items"][0]["details"].is_null(),
        "erasing the person erases what the request said"
    );
    let audit = app
        .get(
            &format!("/api/v1/audit?entity_id={id}"),
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "data_request.received",
        "data_request.acknowledged",
        "data_request.closed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[actix_web::test]
async fn an_objection_is_extended_once_before_its_deadline_a_late_one_stays_late_and_officials_and_volunteers_keep_no_register(
) {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let register = |days_ago: u64| {
        let (app, head, area) = (&app, &head, &world.n1);
        async move {
            let received =
                (eid_adoption::status::today() - chrono::Days::new(days_ago)).to_string();
            let registered = app
                .post(
                    "/api/v1/data-requests",
                    Some(head),
                    &json!({"area_id": area, "kind": "objection", "channel": "written",
                            "received_on": received}),
                )
                .await;
            assert_eq!(registered.status, 201, "{}", registered.text);
            registered.body
        }
    };
    let late = register(20).await;
    assert_eq!(late["days_left"], -5, "15 days from 20 days ago");
    assert_eq!(late["overdue"], true);
    assert_eq!(late["acknowledgement_late"], true);
    let list = app
        .get("/api/v1/data-requests?status=open", Some(&head))
        .await;
    assert_eq!(list.body["overdue_open"], 1);
    let too_late = app
        .post(
            &format!(
                "/api/v1/data-requests/{}/extend",
                late["id"].as_str().unwrap()
            ),
            Some(&head),
            &json!({"reason": "Cần xác minh"}),
        )
        .await;
    assert_eq!(
        too_late.status, 409,
        "an extension never makes a late request on time"
    );
    assert_eq!(too_late.problem_code(), "data-request-not-extendable");

    let recent = register(10).await;
    let id = recent["id"].as_str().unwrap().to_owned();
    assert_eq!(recent["days_left"], 5);
    let blank = app
        .post(
            &format!("/api/v1/data-requests/{id}/extend"),
            Some(&head),
            &json!({"reason": "   "}),
        )
        .await;
    assert_eq!(blank.status, 422);
    assert_eq!(blank.body["errors"][0]["code"], "blank");
    let extended = app
        .post(
            &format!("/api/v1/data-requests/{id}/extend"),
            Some(&head),
            &json!({"reason": "Cần xác minh"}),
        )
        .await;
    assert_eq!(extended.status, 200, "{}", extended.text);
    assert_eq!(extended.body["days_left"], 20);
    assert_eq!(extended.body["extended"], true);
    let twice = app
        .post(
            &format!("/api/v1/data-requests/{id}/extend"),
            Some(&head),
            &json!({"reason": "Lần nữa"}),
        )
        .await;
    assert_eq!(twice.problem_code(), "data-request-not-extendable");
    let bare_refusal = app
        .post(
            &format!("/api/v1/data-requests/{id}/close"),
            Some(&head),
            &json!({"outcome": "refused"}),
        )
        .await;
    assert_eq!(bare_refusal.status, 422);
    assert_eq!(bare_refusal.body["errors"][0]["code"], "reason-required");

    for role in [OFFICIAL, VOLUNTEER] {
        let token = app.token_for(role).await;
        assert_eq!(
            app.get("/api/v1/data-requests", Some(&token)).await.status,
            403
        );
    }
    let future = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"area_id": world.n1, "kind": "access", "channel": "phone",
                    "received_on": day_after(1)}),
        )
        .await;
    assert_eq!(future.status, 422);
    let outside = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"area_id": world.n2, "kind": "access", "channel": "phone",
                    "received_on": eid_adoption::status::today()}),
        )
        .await;
    assert_eq!(outside.status, 404);
    let national = app.token_for(NATIONAL_ADMIN).await;
    let seen = app.get("/api/v1/data-requests", Some(&national)).await;
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 2);
    let early = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"area_id": world.n1, "kind": "access", "channel": "phone",
                    "received_on": "1900-01-01"}),
        )
        .await;
    assert_eq!(early.status, 422);
    assert_eq!(early.body["errors"][0]["code"], "date-too-early");
}

#[actix_web::test]
async fn a_breach_must_be_reported_within_72_hours_of_its_discovery() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let discovered = chrono::Utc::now() - chrono::Duration::hours(80);
    let recorded = app
        .post(
            "/api/v1/data-breaches",
            Some(&head),
            &json!({"area_id": world.n1, "discovered_at": discovered.to_rfc3339(),
                    "description": "Mất điện thoại của tình nguyện viên",
                    "data_categories": ["name", "birth_date"], "subjects_affected": 40}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    let id = recorded.body["id"].as_str().unwrap().to_owned();
    let report_by: chrono::DateTime<chrono::Utc> = recorded.body["report_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let off = (report_by - discovered - chrono::Duration::hours(72)).num_milliseconds();
    assert!(
        off.abs() < 1000,
        "72 hours after discovery, off by {off} ms"
    );
    assert_eq!(
        recorded.body["report_late"], true,
        "80 hours ago, nobody told yet"
    );

    let before = app
        .post(
            &format!("/api/v1/data-breaches/{id}/notifications"),
            Some(&head),
            &json!({"authority_notified_at": (discovered - chrono::Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(before.status, 422);
    assert_eq!(before.body["errors"][0]["code"], "before-discovery");
    let told = app
        .post(
            &format!("/api/v1/data-breaches/{id}/notifications"),
            Some(&head),
            &json!({"authority_notified_at": (discovered + chrono::Duration::hours(10)).to_rfc3339()}),
        )
        .await;
    assert_eq!(told.status, 200, "{}", told.text);
    assert_eq!(told.body["report_late"], false);
    let twice = app
        .post(
            &format!("/api/v1/data-breaches/{id}/notifications"),
            Some(&head),
            &json!({"authority_notified_at": chrono::Utc::now().to_rfc3339()}),
        )
        .await;
    assert_eq!(twice.status, 409);
    let official = app.token_for(OFFICIAL).await;
    assert_eq!(
        app.get("/api/v1/data-breaches", Some(&official))
            .await
            .status,
        403
    );
    let list = app.get("/api/v1/data-breaches", Some(&head)).await;
    assert_eq!(list.body["items"][0]["id"], id.as_str());
}

#[actix_web::test]
async fn the_processing_record_and_consent_cite_the_law_in_force() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let record = app
        .get("/api/v1/data-protection/processing-record", Some(&head))
        .await;
    assert_eq!(record.status, 200, "{}", record.text);
    assert!(record.body["law"]
        .as_str()
        .unwrap()
        .contains("91/2025/QH15"));
    assert!(
        !record.text.contains("13/2023"),
        "the old decree is not cited"
    );
    assert_eq!(record.body["breach_report_hours"], 72);
    assert_eq!(
        record.body["request_deadlines"].as_array().unwrap().len(),
        7
    );
    let home = add_household(&app, &head, &world.n1, "Số 5", "Chủ hộ").await;
    let person = app
        .post(
            &format!("/api/v1/households/{home}/residents"),
            Some(&head),
            &json!({"full_name": "Trần Văn Bình", "birth_date": "1990-09-09", "sex": "male",
                    "relation_to_head": "head", "consent": true}),
        )
        .await;
    assert_eq!(person.status, 201, "{}", person.text);
    assert!(person.body["consent_basis"]
        .as_str()
        .unwrap()
        .contains("91/2025/QH15"));
}

#[actix_web::test]
async fn an_open_request_follows_its_neighbourhood_into_the_one_it_was_merged_into() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let registered = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"area_id": world.n1, "kind": "access", "channel": "phone",
                    "received_on": eid_adoption::status::today()}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let merged = app
        .post(
            "/api/v1/reorganisations",
            Some(&admin),
            &json!({"title": "Sáp nhập khu phố", "effective_on": eid_adoption::status::today(), "steps": [
                {"kind": "merge", "sources": ["P-T-W-1", "P-T-W-2"], "into": {"code": "P-T-W-2"}}]}),
        )
        .await;
    assert_eq!(merged.status, 201, "{}", merged.text);
    // The head now heads the merged neighbourhood, and still keeps the request on time.
    let head = app.token_for(HEAD).await;
    let list = app.get("/api/v1/data-requests", Some(&head)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["items"][0]["id"], registered.body["id"]);
    assert_eq!(list.body["items"][0]["area_id"], world.n2.as_str());
    let on_ended = app
        .post(
            "/api/v1/data-requests",
            Some(&head),
            &json!({"area_id": world.n1, "kind": "access", "channel": "phone",
                    "received_on": eid_adoption::status::today()}),
        )
        .await;
    assert_eq!(on_ended.status, 422);
    assert_eq!(on_ended.body["errors"][0]["code"], "area-ended");
}
