//! The outbox: mail is written with the action and delivered later, never lost.

use diesel::prelude::*;
use eid_adoption::schema::mail_outbox;
use serde_json::json;

use crate::helpers::{TestApp, HEAD};
use crate::smtp::SmtpServer;

#[derive(Queryable, Debug)]
struct OutboxRow {
    status: String,
    attempts: i32,
    last_error: Option<String>,
    body_text: String,
}

fn outbox(app: &TestApp) -> Vec<OutboxRow> {
    app.with_db(|conn| {
        mail_outbox::table
            .select((
                mail_outbox::status,
                mail_outbox::attempts,
                mail_outbox::last_error,
                mail_outbox::body_text,
            ))
            .load(conn)
            .unwrap()
    })
}

#[actix_web::test]
async fn an_invitation_made_while_smtp_is_down_is_delivered_when_it_comes_back() {
    let mut smtp = SmtpServer::down();
    let app = TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "offline@example.vn", "name": "Offline", "role": "volunteer"}),
        )
        .await;
    assert_eq!(
        invited.status, 201,
        "the caller does not notice the mail server is down"
    );

    // Wait until at least one delivery attempt failed and was recorded.
    let mut waited = 0;
    while outbox(&app)[0].attempts < 1 {
        waited += 1;
        assert!(waited < 300, "no delivery attempt recorded");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let row = &outbox(&app)[0];
    assert_eq!(row.status, "pending");
    assert!(row.last_error.is_some());
    assert!(
        row.body_text.contains("offline") || row.body_text.contains("Offline"),
        "the message is kept"
    );

    smtp.resume();
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["offline@example.vn"]);
    let mut waited = 0;
    while outbox(&app)[0].status != "sent" {
        waited += 1;
        assert!(waited < 300, "delivery not recorded");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let row = &outbox(&app)[0];
    assert!(
        row.body_text.is_empty(),
        "a delivered body (with its link) is not kept"
    );
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
}

#[actix_web::test]
async fn without_smtp_settings_mail_is_written_as_eml_files() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    app.post(
        "/api/v1/invitations",
        Some(&head),
        &json!({"email": "file@example.vn", "name": "File", "role": "volunteer"}),
    )
    .await;
    let mut waited = 0;
    let file = loop {
        let found = std::fs::read_dir(app.mail_dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"));
        if let Some(found) = found {
            break found.path();
        }
        waited += 1;
        assert!(waited < 300, "no .eml file written");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let raw = std::fs::read_to_string(file).unwrap();
    assert!(raw.contains("file@example.vn"));
}
