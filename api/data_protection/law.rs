//! The rules of the law in force for personal data: Law 91/2025/QH15 on Personal Data
//! Protection and Decree 356/2025/NĐ-CP, both in force since 1 January 2026, which replaced
//! Decree 13/2023/NĐ-CP. Every deadline the register computes comes from the table below,
//! each with where it comes from and whether its wording was checked against the text
//! (README, "Personal data"). Where the text could not be read, the shortest figure reported
//! is used, so that the register never shows a request on time that the law deems late.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The day the new law took effect; consent recorded before it was given under Decree 13.
pub const IN_FORCE_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 1) {
    Some(day) => day,
    None => panic!("a valid date"),
};

/// No request or breach of this system can be older than its records.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2020, 1, 1) {
    Some(day) => day,
    None => panic!("a valid date"),
};

pub const LAW: &str = "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15";
pub const DECREE: &str = "Nghị định 356/2025/NĐ-CP";
pub const OLD_DECREE: &str = "Nghị định 13/2023/NĐ-CP";

/// The instrument a consent recorded at `at` (UTC) was given under.
pub fn consent_basis(recorded_on: NaiveDate) -> &'static str {
    if recorded_on < IN_FORCE_FROM {
        "Nghị định 13/2023/NĐ-CP"
    } else {
        "Luật 91/2025/QH15, Điều 9; Nghị định 356/2025/NĐ-CP"
    }
}

/// What a data subject asks for (the rights of Law 91/2025/QH15, Article 4, clause 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// To see the data held about them.
    Access,
    /// To have it corrected.
    Correction,
    /// To be given a copy of it.
    Provision,
    /// To have it erased.
    Erasure,
    /// To have its processing restricted.
    Restriction,
    /// To withdraw the consent given.
    ConsentWithdrawal,
    /// To object to its processing.
    Objection,
}

/// How long the controller has to carry out a kind of request.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct Deadline {
    /// Calendar days from receipt.
    pub days: u64,
    /// Days it may be extended by, once, with a reason; `null`: no extension.
    pub extension_days: Option<u64>,
    /// Where it comes from.
    pub basis: &'static str,
    /// Whether the figure was checked against the text (`false`: the shortest figure
    /// reported for it, used until the text is read).
    pub verified: bool,
}

impl RequestKind {
    pub const ALL: [RequestKind; 7] = [
        RequestKind::Access,
        RequestKind::Correction,
        RequestKind::Provision,
        RequestKind::Erasure,
        RequestKind::Restriction,
        RequestKind::ConsentWithdrawal,
        RequestKind::Objection,
    ];

    pub fn deadline(self) -> Deadline {
        match self {
            RequestKind::Restriction | RequestKind::ConsentWithdrawal | RequestKind::Objection => {
                Deadline {
                    days: 15,
                    extension_days: Some(15),
                    basis: "Nghị định 356/2025/NĐ-CP, Điều 5 khoản 2",
                    verified: false,
                }
            }
            RequestKind::Access
            | RequestKind::Correction
            | RequestKind::Provision
            | RequestKind::Erasure => Deadline {
                days: 10,
                extension_days: None,
                basis: "Nghị định 356/2025/NĐ-CP, Điều 5",
                verified: false,
            },
        }
    }
}

/// Working days to acknowledge a request and tell the person how it will be handled.
pub const ACKNOWLEDGE_WORKING_DAYS: u32 = 2;
pub const ACKNOWLEDGE_BASIS: &str = "Nghị định 356/2025/NĐ-CP, Điều 5 khoản 1";

/// Hours from discovering a breach to notifying the specialised agency (Bộ Công an, A05).
pub const BREACH_REPORT_HOURS: i64 = 72;
pub const BREACH_BASIS: &str = "Luật 91/2025/QH15, Điều 23";

/// `working` working days after `day` (Monday to Friday; public holidays are not known to
/// the server, so the day computed is never later than the law's).
pub fn add_working_days(day: NaiveDate, working: u32) -> NaiveDate {
    let mut day = day;
    let mut left = working;
    while left > 0 {
        day = day.succ_opt().unwrap_or(day);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

pub fn add_days(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(chrono::Days::new(days)).unwrap_or(day)
}

pub fn breach_report_by(discovered_at: NaiveDateTime) -> NaiveDateTime {
    discovered_at + chrono::Duration::hours(BREACH_REPORT_HOURS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn two_working_days_from_a_friday_end_on_tuesday() {
        assert_eq!(add_working_days(day("2026-12-04"), 2), day("2026-12-08"));
        assert_eq!(add_working_days(day("2026-12-07"), 2), day("2026-12-09"));
        assert_eq!(add_working_days(day("2026-12-05"), 2), day("2026-12-08"));
    }

    #[test]
    fn consent_before_2026_was_given_under_decree_13() {
        assert!(consent_basis(day("2025-12-31")).contains("13/2023"));
        assert!(consent_basis(day("2026-01-01")).contains("91/2025"));
    }
}
