//! Conditional reads of figures: every figure answer carries an `ETag`
//! (`counters::figures_tag`), and a request whose `If-None-Match` names the current tag is
//! answered `304 Not Modified` without computing anything. A dashboard polling a ward
//! that nobody is writing to costs two small queries per poll.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// What a conditional read found.
pub enum Conditional<T> {
    /// The client holds the current answer.
    Unchanged(String),
    Changed(String, T),
}

/// The tags a request's `If-None-Match` names (taken from the request before the work
/// moves to a database thread).
#[derive(Debug, Clone, Default)]
pub struct HeldTags(Vec<String>);

impl HeldTags {
    pub fn of(req: &HttpRequest) -> HeldTags {
        HeldTags(
            req.headers()
                .get_all(header::IF_NONE_MATCH)
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|candidate| candidate.trim().trim_start_matches("W/").to_owned())
                .filter(|candidate| !candidate.is_empty())
                .collect(),
        )
    }

    /// Whether the client holds `tag` (or sent `*`); weak tags compare by their value.
    pub fn hold(&self, tag: &str) -> bool {
        self.0.iter().any(|held| held == "*" || held == tag)
    }
}

/// The answer: 304 with the tag, or 200 with the tag and the JSON body. Browsers may keep
/// it but must ask again before using it (`no-cache`); only the user's own (`private`).
pub fn respond<T: Serialize>(outcome: Conditional<T>) -> HttpResponse {
    let (tag, body) = match outcome {
        Conditional::Unchanged(tag) => (tag, None),
        Conditional::Changed(tag, body) => (tag, Some(body)),
    };
    let mut builder = match body {
        None => HttpResponse::NotModified(),
        Some(_) => HttpResponse::Ok(),
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        builder.insert_header((header::ETAG, value));
    }
    builder.insert_header((header::CACHE_CONTROL, "private, no-cache"));
    match body {
        None => builder.finish(),
        Some(body) => builder.json(body),
    }
}
