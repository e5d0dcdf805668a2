//! Throttling of guessable endpoints. Failures are counted per key (an account, a client
//! IP) in the database, so the limits hold across several API nodes. Past the limit a key
//! is locked for a while; a locked key gets 429 with `Retry-After`, even with the right
//! password, and costs no password hashing.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::config::ThrottleSettings;
use crate::db::{now, DbConnection};
use crate::i18n::Text;
use crate::problem::{ApiError, ProblemCode};
use crate::schema::throttle_counters;

/// A counter and its limit.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    pub max_failures: i32,
}

impl Limit {
    pub fn login_account(settings: &ThrottleSettings, email: &str) -> Limit {
        Limit {
            key: format!("login-account:{email}"),
            max_failures: settings.login_failures_per_account,
        }
    }

    /// Shared by every guessable endpoint: one IP's failures add up across them.
    pub fn client_ip(settings: &ThrottleSettings, ip: Option<&str>) -> Limit {
        Limit {
            key: format!("ip:{}", ip.unwrap_or("unknown")),
            max_failures: settings.failures_per_ip,
        }
    }

    pub fn reset_requests(settings: &ThrottleSettings, email: &str) -> Limit {
        Limit {
            key: format!("reset-account:{email}"),
            max_failures: settings.reset_requests_per_account,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = throttle_counters)]
struct Counter {
    failures: i32,
    window_started_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
}

/// How long the longest lock among these limits still lasts, if any is locked.
pub fn locked_for(
    conn: &mut DbConnection,
    limits: &[&Limit],
) -> Result<Option<Duration>, ApiError> {
    let at = now();
    let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
    let until: Option<NaiveDateTime> = throttle_counters::table
        .filter(throttle_counters::key.eq_any(keys))
        .filter(throttle_counters::locked_until.gt(at))
        .select(diesel::dsl::max(throttle_counters::locked_until))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok(until.map(|until| (until - at).to_std().unwrap_or_default()))
}

/// Counts one failure; locks the key when the window's count reaches the limit.
pub fn record_failure(
    conn: &mut DbConnection,
    settings: &ThrottleSettings,
    limit: &Limit,
) -> Result<(), ApiError> {
    let at = now();
    let window = chrono::Duration::from_std(settings.window).map_err(ApiError::internal)?;
    let lockout = chrono::Duration::from_std(settings.lockout).map_err(ApiError::internal)?;
    let current: Option<Counter> = throttle_counters::table
        .find(&limit.key)
        .select(Counter::as_select())
        .first(conn)
        .optional()?;
    let (failures, window_started_at) = match current {
        Some(c) if c.window_started_at + window > at && c.locked_until.is_none_or(|u| u <= at) => {
            (c.failures + 1, c.window_started_at)
        }
        _ => (1, at),
    };
    let locked_until = (failures >= limit.max_failures).then_some(at + lockout);
    // A lock starts a fresh count: after it, the full allowance of attempts, no more.
    let (failures, window_started_at) = if locked_until.is_some() {
        (0, at)
    } else {
        (failures, window_started_at)
    };
    let updated = diesel::update(throttle_counters::table.find(&limit.key))
        .set((
            throttle_counters::failures.eq(failures),
            throttle_counters::window_started_at.eq(window_started_at),
            throttle_counters::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
    if updated == 0 {
        // In a savepoint: if a concurrent request inserted the key first, PostgreSQL would
        // otherwise abort the whole transaction; the loser's failure is then not counted,
        // which at worst gives one extra attempt.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(throttle_counters::table)
                .values((
                    throttle_counters::key.eq(&limit.key),
                    throttle_counters::failures.eq(failures),
                    throttle_counters::window_started_at.eq(window_started_at),
                    throttle_counters::locked_until.eq(locked_until),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// Forgets a key's failures (a successful login clears its account counter).
pub fn clear(conn: &mut DbConnection, limit: &Limit) -> Result<(), ApiError> {
    diesel::delete(throttle_counters::table.find(&limit.key)).execute(conn)?;
    Ok(())
}

/// 429 with `Retry-After` in whole seconds (at least 1).
pub fn too_many_requests(wait: Duration) -> ApiError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    ApiError::from(ProblemCode::TooManyRequests)
        .with_detail(Text::owned(
            format!("Quá nhiều lần thử; hãy thử lại sau {seconds} giây"),
            format!("Too many attempts; try again in {seconds} seconds"),
        ))
        .with_header(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(seconds),
        )
}
