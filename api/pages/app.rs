//! The volunteers' offline web app at `/app/`: an installable app shell (manifest, service
//! worker, icon, one script, one stylesheet) served by the binary from files embedded at
//! build time — no CDN, no Node.js, no web fonts. Everything personal lives in the phone's
//! IndexedDB; the service worker caches only these files (never an API answer), under a
//! cache name that changes whenever any of them changes. The script implements
//! `mobile-spec/` (queue, sync, screens, device safety); the file `app/app.js` says how.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use sha2::{Digest, Sha256};

use crate::problem::ProblemCode;

const INDEX: &str = include_str!("app/index.html");
const SCRIPT: &str = include_str!("app/app.js");
const CONSOLE: &str = include_str!("app/head.js");
const STYLE: &str = include_str!("app/app.css");
const WORKER: &str = include_str!("app/sw.js");
const MANIFEST: &str = include_str!("app/manifest.webmanifest");
const ICON: &str = include_str!("app/icon.svg");

/// Our own files only; the app talks to our own API; the QR code of an invitation is an
/// inline SVG drawn by the server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// A digest of every shell file: the service worker's cache name, so that a new binary's
/// files replace the old ones on the phone at the next start with signal.
fn shell_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for file in [INDEX, SCRIPT, CONSOLE, STYLE, WORKER, MANIFEST, ICON] {
            hash.update(file.as_bytes());
            hash.update([0]);
        }
        hash.update(catalogue_json().as_bytes());
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// Every problem code with its Vietnamese and English title: the app shows these when it
/// has only a code (offline, or a `duplicate` result), the same catalogue as `errors.md`.
fn catalogue_json() -> &'static str {
    static CATALOGUE: OnceLock<String> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let entries: serde_json::Map<String, serde_json::Value> = ProblemCode::ALL
            .iter()
            .map(|code| {
                let title = code.title();
                (
                    code.as_str().to_owned(),
                    serde_json::json!({"vi": title.vi, "en": title.en}),
                )
            })
            .collect();
        serde_json::Value::Object(entries).to_string()
    })
}

fn shell_file(content_type: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        // The service worker keeps its own copy; the HTTP cache must not serve an old
        // shell next to a new worker.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

#[get("/app")]
pub async fn app_without_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/app/"))
        .finish()
}

#[get("/app/")]
pub async fn app_index() -> HttpResponse {
    shell_file(
        "text/html; charset=utf-8",
        INDEX.replace("__VERSION__", shell_version()),
    )
}

#[get("/app/app.js")]
pub async fn app_script() -> HttpResponse {
    shell_file(
        "text/javascript; charset=utf-8",
        SCRIPT.replace("__VERSION__", shell_version()),
    )
}

/// The head's console (lists, corrections, queues, import, volunteers, activation day).
#[get("/app/head.js")]
pub async fn app_console_script() -> HttpResponse {
    shell_file("text/javascript; charset=utf-8", CONSOLE.to_owned())
}

#[get("/app/app.css")]
pub async fn app_style() -> HttpResponse {
    shell_file("text/css; charset=utf-8", STYLE.to_owned())
}

#[get("/app/sw.js")]
pub async fn app_worker() -> HttpResponse {
    shell_file(
        "text/javascript; charset=utf-8",
        WORKER.replace("__VERSION__", shell_version()),
    )
}

#[get("/app/manifest.webmanifest")]
pub async fn app_manifest() -> HttpResponse {
    shell_file("application/manifest+json", MANIFEST.to_owned())
}

#[get("/app/icon.svg")]
pub async fn app_icon() -> HttpResponse {
    shell_file("image/svg+xml", ICON.to_owned())
}

#[get("/app/problems.json")]
pub async fn app_problems() -> HttpResponse {
    shell_file("application/json", catalogue_json().to_owned())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(app_without_slash)
        .service(app_index)
        .service(app_script)
        .service(app_console_script)
        .service(app_style)
        .service(app_worker)
        .service(app_manifest)
        .service(app_icon)
        .service(app_problems);
}
