//! Structured logs: human-readable text by default, one JSON object per line when
//! `EID_LOG_FORMAT=json`. `RUST_LOG` filters as usual (default `info`). Every request runs
//! in a span carrying its request id (tracing-actix-web), so each log line of a request can
//! be found by that id, which is also returned as `X-Request-Id` and in problem bodies.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // One line per request when its span closes: method, route, status, request id, timing.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
