//! Throttling of guessable endpoints. Attempts are counted per key (an account, a client
//! IP) in the database, so the limits hold across several API nodes and concurrent
//! requests. Past the limit a key is locked for a while; a locked key gets 429 with
//! `Retry-After`, even with the right password, and costs no password hashing.

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
    /// Failed sign-ins of one account: keyed by its id, so its e-mail and its phone share
    /// one count.
    pub fn login_account(settings: &ThrottleSettings, user_id: &str) -> Limit {
        Limit {
            key: format!("login-account:id:{user_id}"),
            max_failures: settings.login_failures_per_account,
        }
    }

    /// Failed sign-ins under a name no account has (its own key space: a name typed can
    /// never be taken for an account's id).
    pub fn login_unknown(settings: &ThrottleSettings, name: &str) -> Limit {
        Limit {
            key: format!("login-account:name:{name}"),
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

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    failures: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    locked_until: Option<NaiveDateTime>,
}

/// Counts one attempt against each limit *before* the work it guards, one atomic
/// statement per limit, and answers how long the caller must wait when any limit refuses
/// it. Counting first is what makes the limit hold under concurrency: thirty parallel
/// guesses each take a number, and only the first `max_failures` of them go on to hash a
/// password. An attempt that succeeds gives its count back (`forgive`, or `clear`).
///
/// Per key: a lock lasts `lockout` and is never extended or reset by attempts made while
/// it holds (they are refused and counted past the limit); after it, or after a `window`
/// with no lock, counting starts again from one. The attempt that reaches the limit is
/// still allowed; it sets the lock for those after it.
pub fn attempt(
    conn: &mut DbConnection,
    settings: &ThrottleSettings,
    limits: &[&Limit],
) -> Result<Option<Duration>, ApiError> {
    use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
    let at = now();
    let window = chrono::Duration::from_std(settings.window).map_err(ApiError::internal)?;
    let lockout = chrono::Duration::from_std(settings.lockout).map_err(ApiError::internal)?;
    let mut wait: Option<Duration> = None;
    // Always in the same order (account before IP), so two transactions never wait on
    // each other's rows in opposite orders.
    for limit in limits {
        // Parameters first appear in numeric order: SQLite numbers `$n` by appearance.
        let fresh = "(throttle_counters.locked_until <= $2 OR \
             (throttle_counters.locked_until IS NULL AND throttle_counters.window_started_at <= $4))";
        let counted: Counted = diesel::sql_query(format!(
            "INSERT INTO throttle_counters (key, failures, window_started_at, locked_until) \
             VALUES ($1, 1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN {fresh} THEN 1 ELSE throttle_counters.failures + 1 END, \
               window_started_at = CASE WHEN {fresh} THEN $2 \
                   ELSE throttle_counters.window_started_at END, \
               locked_until = CASE \
                   WHEN throttle_counters.locked_until > $2 THEN throttle_counters.locked_until \
                   WHEN (CASE WHEN {fresh} THEN 1 ELSE throttle_counters.failures + 1 END) >= $5 \
                   THEN $6 ELSE NULL END \
             RETURNING failures, locked_until"
        ))
        .bind::<Text, _>(&limit.key)
        .bind::<Timestamp, _>(at)
        .bind::<Nullable<Timestamp>, _>((limit.max_failures <= 1).then_some(at + lockout))
        .bind::<Timestamp, _>(at - window)
        .bind::<Integer, _>(limit.max_failures)
        .bind::<Timestamp, _>(at + lockout)
        .get_result(conn)?;
        if counted.failures > limit.max_failures {
            let until = counted.locked_until.unwrap_or(at + lockout);
            let left = (until - at).to_std().unwrap_or_default();
            wait = Some(wait.map_or(left, |w| w.max(left)));
        }
    }
    Ok(wait)
}

/// Gives back the count of an attempt that succeeded (one client IP's successful logins
/// are not failures), unless the key is locked by now.
pub fn forgive(conn: &mut DbConnection, limit: &Limit) -> Result<(), ApiError> {
    diesel::update(
        throttle_counters::table
            .find(&limit.key)
            .filter(throttle_counters::failures.gt(0))
            .filter(throttle_counters::locked_until.is_null()),
    )
    .set(throttle_counters::failures.eq(throttle_counters::failures - 1))
    .execute(conn)?;
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
