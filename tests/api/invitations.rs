//! Invitations: a head invites a volunteer by e-mail; the volunteer follows the link, sets a
//! password and is signed in.

use diesel::prelude::*;
use eid_adoption::auth::tokens::digest;
use eid_adoption::schema::invitations;
use serde_json::{json, Value};

use crate::helpers::{TestApp, HEAD, NATIONAL_ADMIN, OFFICIAL, VOLUNTEER, WARD_ADMIN};
use crate::smtp::SmtpServer;

const NEW_PASSWORD: &str = "một mật khẩu đủ dài";

async fn app_with_smtp(smtp: &SmtpServer) -> TestApp {
    TestApp::spawn_with(&[("SMTP_URL", &smtp.url())]).await
}

#[actix_web::test]
async fn a_head_invites_a_volunteer_who_sets_a_password_from_the_emailed_link() {
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "Hoa.Le@Example.vn", "name": "Lê Thị Hoa", "role": "volunteer"}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.body["status"], "pending");
    assert_eq!(invited.body["user"]["status"], "invited");
    assert_eq!(
        invited.body["user"]["area"]["id"],
        world.n1.as_str(),
        "a head's own neighbourhood by default"
    );
    assert_eq!(
        invited.body["user"]["assignments"][0]["id"],
        world.n1.as_str()
    );

    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["hoa.le@example.vn"]);
    assert!(
        mail.subject().contains("Địa bàn P-T-W"),
        "the ward is named: {}",
        mail.subject()
    );
    assert!(mail.text().contains("Lê Thị Hoa"));
    assert!(mail
        .html()
        .contains("https://eid.test/accept-invitation?token="));
    let token = mail.token();

    // Only a digest of the token is stored.
    let stored: String = app.with_db(|conn| {
        invitations::table
            .select(invitations::token_hash)
            .first(conn)
            .unwrap()
    });
    assert_ne!(stored, token);
    assert_eq!(stored, digest(&token));

    let before = app.login("hoa.le@example.vn", NEW_PASSWORD).await;
    assert_eq!(before.status, 401, "no password before accepting");
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let me = app
        .get("/api/v1/me", accepted.body["access_token"].as_str())
        .await;
    assert_eq!(me.body["status"], "active");
    assert_eq!(me.body["role"], "volunteer");
    assert_eq!(
        app.login("hoa.le@example.vn", NEW_PASSWORD).await.status,
        200
    );

    let again = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_code(), "invitation-already-accepted");
}

#[actix_web::test]
async fn inviting_again_replaces_the_old_link() {
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let body = json!({"email": "binh@example.vn", "name": "Bình", "role": "volunteer", "area_id": world.ward});
    assert_eq!(
        app.post("/api/v1/invitations", Some(&admin), &body)
            .await
            .status,
        201
    );
    assert_eq!(
        app.post("/api/v1/invitations", Some(&admin), &body)
            .await
            .status,
        201
    );
    let mails = smtp.wait_for(2).await;
    let (first, second) = (mails[0].token(), mails[1].token());
    assert_ne!(first, second);
    let old = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": first, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(old.status, 400);
    assert_eq!(old.problem_code(), "invalid-invitation-token");
    let new = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": second, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(new.status, 200);
    let list = app.get("/api/v1/invitations", Some(&admin)).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "nothing left open"
    );
}

#[actix_web::test]
async fn an_expired_invitation_is_refused_clearly() {
    let smtp = SmtpServer::start();
    let app =
        TestApp::spawn_with(&[("SMTP_URL", &smtp.url()), ("EID_INVITATION_TTL_HOURS", "0")]).await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "late@example.vn", "name": "Late", "role": "volunteer"}),
        )
        .await;
    assert_eq!(invited.body["status"], "expired");
    let token = smtp.wait_for(1).await[0].token();
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status, 410);
    assert_eq!(accepted.problem_code(), "invitation-expired");
}

#[actix_web::test]
async fn the_chosen_password_must_follow_the_policy() {
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    app.post(
        "/api/v1/invitations",
        Some(&head),
        &json!({"email": "an.tran@example.vn", "name": "An", "role": "volunteer"}),
    )
    .await;
    let token = smtp.wait_for(1).await[0].token();
    for (password, code) in [
        ("short", "length"),
        ("an.tran@example.vn", "password-is-email"),
        ("matkhau123", "password-too-common"),
    ] {
        let response = app
            .post(
                "/api/v1/invitations/accept",
                None,
                &json!({"token": token, "password": password}),
            )
            .await;
        assert_eq!(response.status, 422, "{password}");
        assert_eq!(response.body["errors"][0]["pointer"], "/password");
        assert_eq!(response.body["errors"][0]["code"], code);
    }
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status, 200, "the token survives refused passwords");
}

#[actix_web::test]
async fn heads_invite_only_volunteers_of_their_own_neighbourhood() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let head = app.token_for(HEAD).await;
    for role in ["admin", "official", "head"] {
        let response = app
            .post(
                "/api/v1/invitations",
                Some(&head),
                &json!({"email": "x@example.vn", "name": "X", "role": role}),
            )
            .await;
        assert_eq!(response.status, 403, "{role}");
        assert_eq!(response.problem_code(), "forbidden");
    }
    let elsewhere = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "x@example.vn", "name": "X", "role": "volunteer", "area_id": world.n2}),
        )
        .await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.problem_code(), "area-not-found");
    for email in [VOLUNTEER, OFFICIAL] {
        let token = app.token_for(email).await;
        let response = app
            .post(
                "/api/v1/invitations",
                Some(&token),
                &json!({"email": "x@example.vn", "name": "X", "role": "volunteer"}),
            )
            .await;
        assert_eq!(response.status, 403, "{email}");
    }
    let taken = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": VOLUNTEER, "name": "X", "role": "volunteer"}),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.problem_code(), "email-taken");
    let admin = app.token_for(WARD_ADMIN).await;
    let official = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"email": "cb@example.vn", "name": "Cán bộ", "role": "official", "area_id": world.ward, "language": "en"}),
        )
        .await;
    assert_eq!(official.status, 201);
    let outside = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"email": "cb2@example.vn", "name": "Cán bộ", "role": "official", "area_id": world.ward2}),
        )
        .await;
    assert_eq!(outside.status, 404);
    assert_eq!(
        app.post("/api/v1/invitations", None, &json!({}))
            .await
            .status,
        401
    );
}

#[actix_web::test]
async fn open_invitations_are_listed_and_can_be_withdrawn() {
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let head = app.token_for(HEAD).await;
    let volunteer_invite = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "v@example.vn", "name": "V", "role": "volunteer"}),
        )
        .await;
    let head_invite = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"email": "h@example.vn", "name": "H", "role": "head", "area_id": world.n2}),
        )
        .await;
    assert_eq!(head_invite.status, 201);
    assert_eq!(
        app.get("/api/v1/invitations", Some(&admin))
            .await
            .ids()
            .len(),
        2
    );
    let seen_by_head = app.get("/api/v1/invitations", Some(&head)).await;
    assert_eq!(
        seen_by_head.ids(),
        [volunteer_invite.body["id"].as_str().unwrap()]
    );
    let national = app.token_for(NATIONAL_ADMIN).await;
    assert_eq!(
        app.get("/api/v1/invitations", Some(&national))
            .await
            .ids()
            .len(),
        2
    );
    for email in [OFFICIAL, VOLUNTEER] {
        assert_eq!(
            app.get("/api/v1/invitations", Some(&app.token_for(email).await))
                .await
                .status,
            403
        );
    }

    let head_invite_path = format!(
        "/api/v1/invitations/{}",
        head_invite.body["id"].as_str().unwrap()
    );
    let not_for_heads = app.delete(&head_invite_path, Some(&head)).await;
    assert_eq!(not_for_heads.status, 404);
    assert_eq!(not_for_heads.problem_code(), "invitation-not-found");

    let path = format!(
        "/api/v1/invitations/{}",
        volunteer_invite.body["id"].as_str().unwrap()
    );
    assert_eq!(app.delete(&path, Some(&head)).await.status, 204);
    assert_eq!(app.delete(&path, Some(&head)).await.status, 404);
    let token = smtp
        .wait_for(2)
        .await
        .iter()
        .find(|m| m.to == ["v@example.vn"])
        .unwrap()
        .token();
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(accepted.problem_code(), "invalid-invitation-token");
    // The address is free again.
    let reinvited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "v@example.vn", "name": "V", "role": "volunteer"}),
        )
        .await;
    assert_eq!(reinvited.status, 201);
}

#[actix_web::test]
async fn the_emailed_links_open_a_page_that_sets_the_password() {
    let app = TestApp::spawn().await;
    let page = app.get("/accept-invitation?token=abc", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page
        .text
        .contains(r#"data-endpoint="/api/v1/invitations/accept""#));
    assert!(page.text.contains("Nhận lời mời"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let english = app.get("/reset-password?token=abc&lang=en", None).await;
    assert!(english.text.contains("Reset your password"));
    assert!(english
        .text
        .contains(r#"data-endpoint="/api/v1/auth/password-reset/confirm""#));
    let script = app.get("/pages/set-password.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.text.contains("fetch(form.dataset.endpoint"));
}

#[actix_web::test]
async fn a_volunteer_accepts_the_invitation_in_a_real_browser() {
    let Some(browser) = crate::browser::Browser::start().await else {
        return;
    };
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    app.post(
        "/api/v1/invitations",
        Some(&head),
        &json!({"email": "web@example.vn", "name": "Web", "role": "volunteer"}),
    )
    .await;
    let token = smtp.wait_for(1).await[0].token();
    // The mail's link points at the public URL; the browser opens the same page here.
    browser
        .open(&app.url(&format!("/accept-invitation?token={token}&lang=vi")))
        .await;
    assert_eq!(browser.text("h1").await, "Nhận lời mời");

    browser.type_into("#password", "một mật khẩu dài").await;
    browser.type_into("#repeat", "một mật khẩu khác").await;
    browser.click("button").await;
    browser
        .wait_for_text("#message", |t| t == "Hai mật khẩu không giống nhau")
        .await;

    browser.type_into("#password", "matkhau123").await;
    browser.type_into("#repeat", "matkhau123").await;
    browser.click("button").await;
    // The API's own Vietnamese detail, shown by the page.
    browser
        .wait_for_text("#message", |t| t == "Mật khẩu quá phổ biến, dễ bị đoán")
        .await;

    browser.type_into("#password", "một mật khẩu dài").await;
    browser.type_into("#repeat", "một mật khẩu dài").await;
    browser.click("button").await;
    browser
        .wait_for_text("#message", |t| t.starts_with("Tài khoản đã sẵn sàng"))
        .await;
    assert_eq!(
        app.login("web@example.vn", "một mật khẩu dài").await.status,
        200
    );
}

#[actix_web::test]
async fn a_disabled_invitee_can_no_longer_accept_and_become_active() {
    use eid_adoption::schema::users;
    let smtp = SmtpServer::start();
    let app = app_with_smtp(&smtp).await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let body = json!({"email": "cuong@example.vn", "name": "Cường", "role": "volunteer", "area_id": world.ward});
    assert_eq!(
        app.post("/api/v1/invitations", Some(&admin), &body)
            .await
            .status,
        201
    );
    let token = smtp.wait_for(1).await[0].token();
    let (id, version): (String, i32) = app.with_db(|conn| {
        users::table
            .filter(users::email.eq("cuong@example.vn"))
            .select((users::id, users::version))
            .first(conn)
            .unwrap()
    });
    let disabled = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/users/{id}")))
                .bearer_auth(&admin)
                .header("If-Match", format!("\"{version}\""))
                .json(&json!({"active": false})),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(accepted.problem_code(), "invalid-invitation-token");
    let active: bool = app.with_db(|conn| {
        users::table
            .find(&id)
            .select(users::active)
            .first(conn)
            .unwrap()
    });
    assert!(!active);
    assert_eq!(
        app.login("cuong@example.vn", NEW_PASSWORD).await.status,
        401
    );
}

#[actix_web::test]
async fn a_volunteer_without_e_mail_is_invited_by_phone_with_a_one_time_link_and_signs_in_by_phone()
{
    let app = TestApp::spawn().await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    let nameless = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    assert_eq!(nameless.status, 422, "{}", nameless.text);
    let not_a_phone = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "12345", "name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    assert_eq!(not_a_phone.status, 422, "{}", not_a_phone.text);

    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "+84 912 000 111", "name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.body["user"]["phone"], "0912000111");
    let link = invited.body["link"].as_str().unwrap();
    let token = link.split_once("#join=").unwrap().1;
    assert!(invited.body["qr_svg"].as_str().unwrap().contains("<svg"));
    // The link is shown once: listing the invitations never shows it again.
    let listed = app.get("/api/v1/invitations", Some(&head)).await;
    assert!(!listed.text.contains(token));
    // Nothing was e-mailed.
    let queued: i64 = app.with_db(|conn| {
        eid_adoption::schema::mail_outbox::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(queued, 0);

    let refused = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": "0912000111"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "password-is-phone");
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": "mật khẩu của bà Lan"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);

    let by_phone = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"phone": "0912.000.111", "password": "mật khẩu của bà Lan"}),
        )
        .await;
    assert_eq!(by_phone.status, 200, "{}", by_phone.text);
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"phone": "0912000111", "password": "not her password"}),
        )
        .await;
    assert_eq!(wrong.problem_code(), "invalid-credentials");
    let neither = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"password": "mật khẩu của bà Lan"}),
        )
        .await;
    assert_eq!(neither.status, 422, "{}", neither.text);

    // With an e-mail the number cannot be re-used for someone else.
    let taken = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"email": "khac@example.vn", "phone": "0912 000 111", "name": "Người khác", "role": "volunteer"}),
        )
        .await;
    assert_eq!(taken.problem_code(), "phone-taken");

    // She forgot her password: the head gives her a new one-time link, which ends the old
    // sign-ins when she uses it.
    let relink = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0912 000 111", "name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    assert_eq!(relink.status, 201, "{}", relink.text);
    let token = relink.body["link"]
        .as_str()
        .unwrap()
        .split_once("#join=")
        .unwrap()
        .1
        .to_owned();
    let renewed = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": token, "password": "mật khẩu mới của bà Lan"}),
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let old_refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": by_phone.body["refresh_token"]}),
        )
        .await;
    assert_eq!(old_refresh.status, 401, "{}", old_refresh.text);
    let with_new = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"phone": "0912000111", "password": "mật khẩu mới của bà Lan"}),
        )
        .await;
    assert_eq!(with_new.status, 200, "{}", with_new.text);
}

#[actix_web::test]
async fn a_sign_in_link_made_before_the_volunteer_was_disabled_does_not_bring_the_account_back() {
    let app = TestApp::spawn().await;
    app.seed_world();
    let head = app.token_for(HEAD).await;
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0912 000 222", "name": "Ông Hùng", "role": "volunteer"}),
        )
        .await;
    let join = |link: &str| link.split_once("#join=").unwrap().1.to_owned();
    let first = join(invited.body["link"].as_str().unwrap());
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": first, "password": "mật khẩu của ông Hùng"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let relink = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0912 000 222", "name": "Ông Hùng", "role": "volunteer"}),
        )
        .await;
    assert_eq!(relink.status, 201, "{}", relink.text);
    let user = relink.body["user"]["id"].as_str().unwrap();
    let disabled = app
        .post(
            &format!("/api/v1/volunteers/{user}/disable"),
            Some(&head),
            &json!({}),
        )
        .await;
    assert!(disabled.status < 300, "{}", disabled.text);
    let refused = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": join(relink.body["link"].as_str().unwrap()), "password": "mật khẩu mới của ông Hùng"}),
        )
        .await;
    assert_eq!(refused.problem_code(), "invalid-invitation-token");
}

#[actix_web::test]
async fn a_new_sign_in_link_is_only_for_a_volunteer_and_never_re_places_the_account() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    let admin = app.token_for(WARD_ADMIN).await;
    let head = app.token_for(HEAD).await;
    let join = |link: &Value| {
        link.as_str()
            .unwrap()
            .split_once("#join=")
            .unwrap()
            .1
            .to_owned()
    };
    // A head known only by phone: an administrator's second link would take the account over.
    let invited_head = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"phone": "0912 000 333", "name": "Trưởng khu phố 2", "role": "head", "area_id": world.n2}),
        )
        .await;
    assert_eq!(invited_head.status, 201, "{}", invited_head.text);
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": join(&invited_head.body["link"]), "password": "mật khẩu của trưởng khu"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let again = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"phone": "0912 000 333", "name": "Ai đó", "role": "head", "area_id": world.n2}),
        )
        .await;
    assert_eq!(again.problem_code(), "phone-taken");

    // A volunteer's new link leaves her name and neighbourhoods as they are.
    let invited = app
        .post(
            "/api/v1/invitations",
            Some(&head),
            &json!({"phone": "0912 000 444", "name": "Bà Lan", "role": "volunteer"}),
        )
        .await;
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            None,
            &json!({"token": join(&invited.body["link"]), "password": "mật khẩu của bà Lan"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let relink = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            &json!({"phone": "0912 000 444", "name": "Tên khác", "role": "volunteer", "area_id": world.n2}),
        )
        .await;
    assert_eq!(relink.status, 201, "{}", relink.text);
    assert_eq!(relink.body["user"]["name"], "Bà Lan");
    assert_eq!(
        relink.body["user"]["assignments"][0]["id"],
        world.n1.as_str()
    );
}

#[actix_web::test]
async fn failed_sign_ins_under_someones_account_id_do_not_lock_that_account() {
    let app = TestApp::spawn().await;
    let world = app.seed_world();
    for _ in 0..6 {
        let refused = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": world.volunteer, "password": "wrong password"}),
            )
            .await;
        assert!(matches!(refused.status, 401 | 429), "{}", refused.text);
    }
    let signed_in = app.login(VOLUNTEER, crate::helpers::PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
}
