//! Structured logs: human-readable text by default, one JSON object per line when
//! `EID_LOG_FORMAT=json`. `RUST_LOG` filters as usual (default `info`). Every request runs
//! in a span carrying its request id (tracing-actix-web), so each log line of a request can
//! be found by that id, which is also returned as `X-Request-Id` and in problem bodies.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // No line per request by itself (a load run wrote hundreds of MiB of them; request
    // counts and durations are in /metrics): `RequestSpan` writes one for each request that
    // failed, and for every request at `RUST_LOG=debug`.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_span_events(FmtSpan::NONE);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The span of a request as logged: method, route pattern, path without its query string,
/// request id, status. The query string is never logged: it carries invitation and reset
/// tokens (`/accept-invitation?token=…`) and search terms, which are people's names.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        // Inside the span, so the line carries the method, route and request id.
        let _entered = span.enter();
        match status {
            500.. => tracing::warn!(status, "request failed"),
            400..=499 => tracing::info!(status, "request refused"),
            _ => tracing::debug!(status, "request served"),
        }
    }
}
