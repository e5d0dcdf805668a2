//! The ward's calendar. Every "today" — what is in the future, the default day of the
//! figures, the end of a series, the pace window, the week of a digest — is a day in the
//! service's time zone (`EID_TIME_ZONE`, default `Asia/Ho_Chi_Minh`), never the UTC date:
//! at 06:30 in Hà Nội it is still yesterday in UTC. Timestamps stay UTC.
//!
//! The clock is a property of the process, set once at start-up. For tests (never in
//! production) `EID_CLOCK_START` makes the process's clock start at a given instant and run
//! on from there, so a test can be at 23:30 UTC (06:30 in Vietnam) whenever it runs.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use chrono_tz::Tz;

pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub zone: Tz,
    /// Added to the system clock (zero unless `EID_CLOCK_START` is set).
    pub shift: Duration,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            zone: DEFAULT_TIME_ZONE,
            shift: Duration::zero(),
        }
    }
}

impl Clock {
    /// A clock that reads `start` now and runs on at the normal pace.
    pub fn starting_at(zone: Tz, start: DateTime<Utc>) -> Clock {
        Clock {
            zone,
            shift: start - Utc::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.shift
    }

    /// The calendar day of an instant in the service's time zone.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// Local wall-clock time of an instant.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.zone).naive_local()
    }
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// Sets the process's clock. A second call with another clock is refused: several apps in
/// one process (the tests) share the default.
pub fn install(clock: Clock) -> Result<(), String> {
    let installed = CLOCK.get_or_init(|| clock);
    if installed.zone != clock.zone || (installed.shift - clock.shift).abs() > Duration::seconds(5)
    {
        return Err(format!(
            "the clock of this process is already set ({}); it cannot change to {}",
            installed.zone, clock.zone
        ));
    }
    Ok(())
}

pub fn clock() -> Clock {
    *CLOCK.get_or_init(Clock::default)
}

/// Now, UTC, microsecond precision (as both backends store it).
pub fn now_utc() -> NaiveDateTime {
    clock().now().naive_utc().trunc_subsecs(6)
}

/// The ward's today.
pub fn today() -> NaiveDate {
    let clock = clock();
    clock.day_of(clock.now())
}

/// The ward's wall-clock time now.
pub fn local_now() -> NaiveDateTime {
    let clock = clock();
    clock.local(clock.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn half_past_eleven_utc_is_already_tomorrow_in_vietnam() {
        let clock = Clock::default();
        assert_eq!(
            clock.day_of(at("2026-12-06T23:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
        );
    }

    #[test]
    fn the_vietnamese_day_turns_at_17_00_utc() {
        let clock = Clock::default();
        let day = |t| clock.day_of(at(t)).to_string();
        assert_eq!(day("2026-12-06T16:59:59Z"), "2026-12-06");
        assert_eq!(day("2026-12-06T17:00:00Z"), "2026-12-07");
        assert_eq!(day("2026-12-06T17:01:00Z"), "2026-12-07");
    }

    #[test]
    fn a_clock_started_at_an_instant_reads_it_now() {
        let clock = Clock::starting_at(DEFAULT_TIME_ZONE, at("2026-12-06T23:30:00Z"));
        let drift = clock.now() - at("2026-12-06T23:30:00Z");
        assert!(drift >= Duration::zero() && drift < Duration::seconds(5));
        assert_eq!(
            clock.local(at("2026-12-06T23:30:00Z")).to_string(),
            "2026-12-07 06:30:00"
        );
    }
}
