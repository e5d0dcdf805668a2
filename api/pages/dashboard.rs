//! The adoption dashboard for officials and heads, at `/` and `/dashboard`: one HTML page
//! and one script served by the binary (no CDN, no framework; the trend is SVG drawn by the
//! script), readable on a phone, Vietnamese first with an English switch. It reads the same
//! API as everyone else, with the signed-in user's token, so it shows only their scope.

use actix_web::http::header;
use actix_web::{get, HttpResponse};

const SCRIPT: &str = include_str!("dashboard.js");
/// Our own script only; it talks to our own API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bảng theo dõi định danh điện tử và chữ ký số</title>
<style>
body { font-family: sans-serif; font-size: 18px; line-height: 1.45; margin: 0; color: #1a1a1a; background: #f5f6f8; }
header { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; justify-content: space-between; padding: 0.75rem 1rem; background: #0b5cad; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header button { font-size: 1rem; padding: 0.6rem 1rem; border: 1px solid #fff; border-radius: 0.4rem; background: transparent; color: #fff; min-height: 44px; }
main, #signin { padding: 1rem; max-width: 72rem; margin: 0 auto; }
label { display: block; margin: 0.5rem 0; }
input, select { font-size: 1.1rem; padding: 0.6rem; min-height: 44px; box-sizing: border-box; width: 100%; max-width: 28rem; }
#signin button, .actions button { font-size: 1.1rem; padding: 0.8rem 1.4rem; border: 0; border-radius: 0.4rem; background: #0b5cad; color: #fff; min-height: 48px; margin-top: 0.75rem; }
.controls { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0.5rem 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.card, section { background: #fff; border-radius: 0.6rem; padding: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,0.12); }
section { margin-top: 1rem; overflow-x: auto; }
.card h3 { font-size: 1rem; margin: 0 0 0.5rem; }
.rate { font-size: 2.2rem; font-weight: bold; margin: 0; }
.count { margin: 0 0 0.5rem; color: #444; }
.bar { position: relative; height: 1.2rem; background: #e3e6ea; border-radius: 0.6rem; }
.fill { height: 100%; border-radius: 0.6rem; }
.marker { position: absolute; top: -0.3rem; bottom: -0.3rem; width: 3px; background: #1a1a1a; }
.targets { list-style: none; padding: 0; margin: 0.75rem 0 0; font-size: 0.95rem; }
.targets li { margin: 0.3rem 0; }
.status { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 0.3rem; font-weight: bold; font-size: 0.85rem; }
.status.met { background: #c8e6c9; color: #1b5e20; }
.status.on_track { background: #d0e4fb; color: #0b3f7a; }
.status.at_risk { background: #ffe0b2; color: #8a4b00; }
.status.off_track { background: #ffcdd2; color: #8e0000; }
.status.missed { background: #424242; color: #fff; }
.status.signed_on_time { background: #2e7d32; color: #fff; }
.status.signed_late { background: #ef6c00; color: #fff; }
.status.awaiting { background: #e3e6ea; color: #222; }
.status.overdue { background: #b00020; color: #fff; }
.targets li.passed { color: #555; }
button.link { background: none; border: none; color: #0b5cad; text-decoration: underline; padding: 0; min-height: 0; cursor: pointer; font: inherit; }
.lineage, .ended { margin: 0.25rem 0; }
.small { font-size: 0.85rem; color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid #e3e6ea; }
th button, button.link { font: inherit; font-weight: bold; background: none; border: 0; padding: 0.4rem 0; color: #0b5cad; text-decoration: underline; cursor: pointer; min-height: 44px; text-align: left; }
.breakdown { margin-bottom: 1rem; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
.legend { font-size: 0.9rem; }
.swatch { display: inline-block; width: 1rem; height: 0.6rem; margin: 0 0.3rem 0 0.6rem; }
#board-message, #signin-message { font-weight: bold; color: #b00020; min-height: 1.5rem; }
svg { width: 100%; height: auto; max-height: 18rem; }
</style>
</head>
<body>
<header>
<h1 data-t="title">Bảng theo dõi định danh điện tử và chữ ký số</h1>
<div><button id="lang" type="button">English</button> <button id="signout" type="button" data-t="signout" hidden>Đăng xuất</button></div>
</header>
<div id="signin">
<form id="signin-form">
<label><span data-t="email">Thư điện tử</span><input id="email" type="email" autocomplete="username" required></label>
<label><span data-t="password">Mật khẩu</span><input id="password" type="password" autocomplete="current-password" required></label>
<button id="signin-button" type="submit" data-t="signin">Đăng nhập</button>
<p id="signin-message" role="alert"></p>
</form>
</div>
<main id="board" hidden>
<div class="controls">
<label><span data-t="area">Khu vực</span><select id="area"></select></label>
<label><span data-t="day">Ngày</span><input id="as-of" type="date"></label>
</div>
<p id="board-message" role="status"></p>
<h2 id="area-name"></h2>
<div id="area-history"></div>
<div id="cards" class="cards"></div>
<section><h2 data-t="trend">Diễn biến theo tuần</h2><div id="trend"></div></section>
<section><h2 data-t="sign_offs">Chốt số liệu</h2><div id="sign-off"></div></section>
<section><h2 data-t="children">Các khu vực trực thuộc</h2><div id="children"></div></section>
<section><h2 data-t="breakdown">Theo giới tính và độ tuổi</h2><div id="breakdown"></div></section>
<p id="digest-line" hidden><label><input id="digest" type="checkbox" style="width:auto;min-height:0;transform:scale(1.5);margin-right:0.75rem"><span data-t="digest">Nhận bản tin hằng tuần qua thư</span></label></p>
<p class="actions"><button id="export-csv" type="button" data-t="export_csv">Tải CSV</button> <button id="export-xlsx" type="button" data-t="export_xlsx">Tải Excel</button></p>
</main>
<script src="/pages/dashboard.js"></script>
</body>
</html>
"#;

fn dashboard_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(PAGE.replacen(
            "<meta charset=\"utf-8\">",
            &format!(
                "<meta charset=\"utf-8\">\n<meta name=\"eid-time-zone\" content=\"{}\">",
                crate::clock::clock().zone.name()
            ),
            1,
        ))
}

#[get("/")]
pub async fn home() -> HttpResponse {
    dashboard_page()
}

#[get("/dashboard")]
pub async fn dashboard() -> HttpResponse {
    dashboard_page()
}

#[get("/pages/dashboard.js")]
pub async fn dashboard_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}
