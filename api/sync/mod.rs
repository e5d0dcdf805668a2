//! Offline sync for the volunteers' phones (ARCHITECTURE.md, "Offline sync"). A phone
//! queues its changes as numbered mutations and pushes them when it has signal
//! (`push`); it keeps its copy of the assigned households current by pulling the change
//! feed (`pull`, `feed`); after a crash it asks which of its mutations the server already
//! took (`state`). Every sync request names the app's version (`X-App-Version`); versions
//! below the configured minimum get 426.

pub mod device;
pub mod feed;
pub mod pull;
pub mod push;
pub mod state;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

use crate::i18n::Text;
use crate::problem::{ApiError, ProblemCode};
use crate::state::AppState;

pub const APP_VERSION_HEADER: &str = "x-app-version";

/// The phone app's version, from `X-App-Version`, at least the configured minimum.
#[derive(Debug, Clone)]
pub struct AppVersion(pub String);

impl FromRequest for AppVersion {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let minimum = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.sync.min_app_version.clone())
            .unwrap_or_default();
        let sent = req
            .headers()
            .get(APP_VERSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_owned);
        let parsed = sent.as_deref().and_then(crate::config::parse_app_version);
        ready(match (sent, parsed) {
            (Some(text), Some(version)) if at_least(&version, &minimum) => Ok(AppVersion(text)),
            _ => Err(upgrade_required(&minimum)),
        })
    }
}

/// Compares versions part by part, a missing part counting as 0 (`1.2` = `1.2.0`).
pub fn at_least(version: &[u32], minimum: &[u32]) -> bool {
    let len = version.len().max(minimum.len());
    let pad = |v: &[u32]| {
        (0..len)
            .map(|i| v.get(i).copied().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    pad(version) >= pad(minimum)
}

fn upgrade_required(minimum: &[u32]) -> ApiError {
    let minimum = minimum
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".");
    ApiError::from(ProblemCode::AppVersionUnsupported).with_detail(Text::owned(
        format!("Cần ứng dụng phiên bản {minimum} trở lên (gửi trong tiêu đề X-App-Version)"),
        format!("App version {minimum} or later is required (sent in the X-App-Version header)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::at_least;

    #[test]
    fn versions_compare_part_by_part_with_missing_parts_as_zero() {
        assert!(at_least(&[1, 2], &[1, 2, 0]));
        assert!(at_least(&[1, 10, 0], &[1, 9, 9]));
        assert!(!at_least(&[0, 9], &[1]));
        assert!(!at_least(&[1, 2, 0], &[1, 2, 1]));
    }
}
