//! The pages the binary serves: the volunteers' offline app (`app`), the adoption dashboard
//! (`dashboard`), and the two pages
//! e-mailed links open: accepting an invitation and resetting a password.
//! They are plain HTML served by the binary (no CDN, no framework), readable on a cheap
//! phone, in Vietnamese or English (`Accept-Language`, or `?lang=en`). The script posts the
//! token from the link and the chosen password to the API and shows its answer.

pub mod app;
pub mod dashboard;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::i18n::Lang;
use crate::mail::templates::{escape_html, PRODUCT_EN, PRODUCT_VI};

const SCRIPT: &str = include_str!("set-password.js");
/// Only our own script and styles; the token never leaves in a Referer.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'";

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

struct PageText {
    title: &'static str,
    intro: &'static str,
    password: &'static str,
    repeat: &'static str,
    submit: &'static str,
    mismatch: &'static str,
    done: &'static str,
    no_token: &'static str,
    failed: &'static str,
}

fn language(req: &HttpRequest, query: &PageQuery) -> Lang {
    query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| Lang::from_headers(req.headers()))
}

fn page(lang: Lang, endpoint: &str, text: &PageText) -> HttpResponse {
    let product = match lang {
        Lang::Vi => PRODUCT_VI,
        Lang::En => PRODUCT_EN,
    };
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {product}</title>
<style>
body {{ font-family: sans-serif; font-size: 20px; line-height: 1.5; margin: 0; padding: 1rem; max-width: 32rem; }}
h1 {{ font-size: 1.5rem; }}
label {{ display: block; margin-top: 1rem; }}
input {{ font-size: 1.25rem; width: 100%; box-sizing: border-box; padding: 0.75rem; margin-top: 0.25rem; }}
button {{ font-size: 1.25rem; width: 100%; padding: 1rem; margin-top: 1.5rem; border: 0; border-radius: 0.5rem; background: #0b5cad; color: #fff; }}
#message {{ margin-top: 1.5rem; font-weight: bold; }}
#message.error {{ color: #b00020; }}
#message.ok {{ color: #1b5e20; }}
</style>
</head>
<body>
<p>{product}</p>
<h1>{title}</h1>
<p>{intro}</p>
<form id="set-password" data-endpoint="{endpoint}" data-lang="{lang}"
      data-mismatch="{mismatch}" data-done="{done}" data-no-token="{no_token}" data-failed="{failed}">
<label>{password_label}<input id="password" type="password" autocomplete="new-password" minlength="10" required></label>
<label>{repeat_label}<input id="repeat" type="password" autocomplete="new-password" minlength="10" required></label>
<button type="submit">{submit}</button>
</form>
<p id="message" role="status"></p>
<script src="/pages/set-password.js"></script>
</body>
</html>
"#,
        lang = lang.as_str(),
        title = escape_html(text.title),
        product = escape_html(product),
        intro = escape_html(text.intro),
        endpoint = escape_html(endpoint),
        mismatch = escape_html(text.mismatch),
        done = escape_html(text.done),
        no_token = escape_html(text.no_token),
        failed = escape_html(text.failed),
        password_label = escape_html(text.password),
        repeat_label = escape_html(text.repeat),
        submit = escape_html(text.submit),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
        .body(html)
}

const COMMON_VI: (&str, &str, &str, &str, &str) = (
    "Mật khẩu mới (ít nhất 10 ký tự)",
    "Nhập lại mật khẩu",
    "Hai mật khẩu không giống nhau",
    "Liên kết không có mã; hãy mở lại liên kết trong thư",
    "Không thực hiện được; hãy thử lại",
);
const COMMON_EN: (&str, &str, &str, &str, &str) = (
    "New password (at least 10 characters)",
    "Repeat the password",
    "The two passwords differ",
    "The link has no token; open the link from the e-mail again",
    "That did not work; try again",
);

/// The page an invitation e-mail links to.
#[get("/accept-invitation")]
pub async fn accept_invitation_page(
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let lang = language(&req, &query);
    let (password, repeat, mismatch, no_token, failed) = match lang {
        Lang::Vi => COMMON_VI,
        Lang::En => COMMON_EN,
    };
    let text = match lang {
        Lang::Vi => PageText {
            title: "Nhận lời mời",
            intro: "Chọn mật khẩu cho tài khoản của bạn.",
            submit: "Kích hoạt tài khoản",
            done: "Tài khoản đã sẵn sàng. Hãy đăng nhập trong ứng dụng bằng email và mật khẩu vừa chọn.",
            password,
            repeat,
            mismatch,
            no_token,
            failed,
        },
        Lang::En => PageText {
            title: "Accept your invitation",
            intro: "Choose a password for your account.",
            submit: "Activate my account",
            done: "Your account is ready. Sign in to the app with your e-mail and this password.",
            password,
            repeat,
            mismatch,
            no_token,
            failed,
        },
    };
    page(lang, "/api/v1/invitations/accept", &text)
}

/// The page a password-reset e-mail links to.
#[get("/reset-password")]
pub async fn reset_password_page(req: HttpRequest, query: web::Query<PageQuery>) -> HttpResponse {
    let lang = language(&req, &query);
    let (password, repeat, mismatch, no_token, failed) = match lang {
        Lang::Vi => COMMON_VI,
        Lang::En => COMMON_EN,
    };
    let text = match lang {
        Lang::Vi => PageText {
            title: "Đặt lại mật khẩu",
            intro: "Chọn mật khẩu mới. Mọi thiết bị đang đăng nhập sẽ bị đăng xuất.",
            submit: "Đổi mật khẩu",
            done: "Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.",
            password,
            repeat,
            mismatch,
            no_token,
            failed,
        },
        Lang::En => PageText {
            title: "Reset your password",
            intro: "Choose a new password. Every signed-in device will be signed out.",
            submit: "Change password",
            done: "Your password is changed. Sign in again with the new one.",
            password,
            repeat,
            mismatch,
            no_token,
            failed,
        },
    };
    page(lang, "/api/v1/auth/password-reset/confirm", &text)
}

#[get("/pages/set-password.js")]
pub async fn set_password_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}
