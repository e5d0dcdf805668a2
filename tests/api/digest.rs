//! The weekly digest: opted-in officials and heads get their area's figures and the change
//! since last week by e-mail (real SMTP on loopback), in their language, once a week.

use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, VOLUNTEER};
use crate::households::{add_household, add_resident};
use crate::smtp::SmtpServer;
use eid_adoption::schema::{digest_deliveries, mail_outbox, users};

/// Two adults in N1, one of whom got an e-ID three days ago.
async fn one_of_two_with_a_new_e_id(app: &TestApp, area: &str) {
    let admin = app.token_for(NATIONAL_ADMIN).await;
    let home = add_household(app, &admin, area, "Số 2", "Chủ hộ").await;
    let person = |name: &str| json!({"full_name": name, "birth_date": "1990-02-02", "sex": "male", "relation_to_head": "other"});
    let first = add_resident(app, &admin, &home, person("Một")).await;
    add_resident(app, &admin, &home, person("Hai")).await;
    let day = (eid_adoption::status::today() - chrono::Days::new(3)).to_string();
    let recorded = app
        .post(
            "/api/v1/status-events",
            Some(&admin),
            &json!({"household_id": home, "events": [{"kind": "eid", "resident_id": first, "value": "level1", "effective_on": day}]}),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
}

async fn subscribe(app: &TestApp, email: &str) -> u16 {
    let token = app.token_for(email).await;
    app.put_json(
        "/api/v1/me/digest",
        Some(&token),
        &json!({"subscribed": true}),
    )
    .await
    .status
}

#[actix_web::test]
async fn on_schedule_each_subscriber_gets_their_areas_figures_once_a_week_in_their_language() {
    let smtp = SmtpServer::start();
    // Monday 00:00 has always passed in the current week: the digest is due at once.
    let app = TestApp::spawn_with(&[
        ("SMTP_URL", &smtp.url()),
        ("EID_DIGEST_SCHEDULE", "mon 00:00"),
    ])
    .await;
    let world = app.seed_world();
    one_of_two_with_a_new_e_id(&app, &world.n1).await;
    app.with_db(|conn| {
        diesel::update(users::table.filter(users::email.eq(OFFICIAL)))
            .set(users::language.eq("en"))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(subscribe(&app, VOLUNTEER).await, 403);
    assert_eq!(subscribe(&app, HEAD).await, 200);
    assert_eq!(subscribe(&app, OFFICIAL).await, 200);
    let head = app.token_for(HEAD).await;
    let choice = app.get("/api/v1/me/digest", Some(&head)).await;
    assert_eq!(
        choice.body,
        json!({"subscribed": true, "schedule": "Mon 00:00"})
    );

    let mails = smtp.wait_for(2).await;
    let to_head = mails.iter().find(|m| m.to == [HEAD]).unwrap();
    assert!(to_head
        .subject()
        .starts_with("Bản tin tuần: Địa bàn P-T-W-1"));
    assert!(
        to_head.text().contains(
            "Người trưởng thành có định danh điện tử: 50,0 % (1/2), +1 so với tuần trước"
        ),
        "{}",
        to_head.text()
    );
    assert!(to_head
        .text()
        .contains("mục tiêu ít nhất 80 % trước 31/12/2025"));
    assert!(to_head.text().contains("https://eid.test/dashboard"));
    let to_official = mails.iter().find(|m| m.to == [OFFICIAL]).unwrap();
    assert!(to_official
        .subject()
        .starts_with("Weekly digest: Địa bàn P-T-W"));
    assert!(
        to_official
            .text()
            .contains("Adults with an e-ID: 50.0 % (1/2), +1 since last week"),
        "{}",
        to_official.text()
    );
    assert!(to_official
        .text()
        .contains("Furthest behind on e-ID: Địa bàn P-T-W-2 (—), Địa bàn P-T-W-1 (50.0 %)"));
    // No names in a digest: it is aggregates.
    assert!(!to_official.text().contains("Một"));

    // The schedule keeps running; nobody gets a second digest this week.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 2);
    let weeks: i64 = app.with_db(|conn| digest_deliveries::table.count().get_result(conn).unwrap());
    assert_eq!(weeks, 2);
    let audit = app
        .get(
            "/api/v1/audit?action=digest.sent",
            Some(&app.token_for(NATIONAL_ADMIN).await),
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn send_digest_dry_run_prints_the_messages_and_queues_nothing_and_without_it_queues_them() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    one_of_two_with_a_new_e_id(&app, &world.n1).await;
    subscribe(&app, HEAD).await;
    let run = |extra: &[&str]| {
        let mut command = crate::cli::binary();
        command
            .env("DATABASE_URL", &app.settings.database_url)
            .arg("send-digest")
            .args(extra);
        command.output().unwrap()
    };
    let dry = run(&["--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let printed = String::from_utf8_lossy(&dry.stdout);
    assert!(printed.contains(&format!("To: {HEAD}")), "{printed}");
    assert!(printed.contains("50,0 % (1/2)"), "{printed}");
    let queued = |app: &TestApp| -> i64 {
        app.with_db(|conn| mail_outbox::table.count().get_result(conn).unwrap())
    };
    assert_eq!(queued(&app), 0);
    let real = run(&[]);
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert_eq!(queued(&app), 1);
    // "Now" means now: run again and it is sent again.
    run(&[]);
    assert_eq!(queued(&app), 2);
}
