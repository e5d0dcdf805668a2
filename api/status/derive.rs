//! How a status on a given day follows from the dated events (ARCHITECTURE.md, "Conflict
//! rules"; PRODUCT.md, "The rules that make the numbers right"). Pure functions over the
//! non-voided events of one resident or household, used for the cached current status and
//! for every "as of D" figure.
//!
//! - e-ID: the highest level observed on or before D, unless a correction (by a head or an
//!   official) was recorded: then the latest correction on or before D, raised by any higher
//!   level observed after it. Ranks: none < level 2 pending < level 1 < level 2.
//! - Signature and broadband: the event with the latest effective date on or before D
//!   (ties: the one received later).
//! - A digital signature counts on D when issued on or before D and D is on or before its
//!   expiry date (it counts on the expiry date itself, not the day after).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EidLevel {
    None,
    Level1,
    Level2Pending,
    Level2,
}

impl EidLevel {
    pub const ALL: [EidLevel; 4] = [
        EidLevel::None,
        EidLevel::Level1,
        EidLevel::Level2Pending,
        EidLevel::Level2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EidLevel::None => "none",
            EidLevel::Level1 => "level1",
            EidLevel::Level2Pending => "level2_pending",
            EidLevel::Level2 => "level2",
        }
    }

    pub fn parse(value: &str) -> Option<EidLevel> {
        EidLevel::ALL.into_iter().find(|l| l.as_str() == value)
    }

    fn rank(self) -> u8 {
        match self {
            EidLevel::None => 0,
            EidLevel::Level2Pending => 1,
            EidLevel::Level1 => 2,
            EidLevel::Level2 => 3,
        }
    }

    /// Whether the level counts as having an e-ID account (pending does not, yet).
    pub fn counts(self) -> bool {
        matches!(self, EidLevel::Level1 | EidLevel::Level2)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    None,
    Electronic,
    Digital,
}

impl SignatureKind {
    pub const ALL: [SignatureKind; 3] = [
        SignatureKind::None,
        SignatureKind::Electronic,
        SignatureKind::Digital,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignatureKind::None => "none",
            SignatureKind::Electronic => "electronic",
            SignatureKind::Digital => "digital",
        }
    }

    pub fn parse(value: &str) -> Option<SignatureKind> {
        SignatureKind::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Broadband {
    Yes,
    No,
    Unknown,
}

impl Broadband {
    pub const ALL: [Broadband; 3] = [Broadband::Yes, Broadband::No, Broadband::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Broadband::Yes => "yes",
            Broadband::No => "no",
            Broadband::Unknown => "unknown",
        }
    }

    pub fn parse(value: &str) -> Option<Broadband> {
        Broadband::ALL.into_iter().find(|b| b.as_str() == value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Eid,
    Signature,
    Broadband,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Eid => "eid",
            EventKind::Signature => "signature",
            EventKind::Broadband => "broadband",
        }
    }

    pub fn parse(value: &str) -> Option<EventKind> {
        [EventKind::Eid, EventKind::Signature, EventKind::Broadband]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

/// One non-voided event as the derivation needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub value: String,
    pub effective_on: NaiveDate,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub correction: bool,
    pub received_at: NaiveDateTime,
}

fn of_kind_until(
    events: &[Event],
    kind: EventKind,
    day: NaiveDate,
) -> impl Iterator<Item = &Event> {
    events
        .iter()
        .filter(move |e| e.kind == kind && e.effective_on <= day)
}

/// The e-ID level on `day`.
pub fn eid_level_on(events: &[Event], day: NaiveDate) -> EidLevel {
    let level = |e: &Event| EidLevel::parse(&e.value).unwrap_or(EidLevel::None);
    let latest_correction = of_kind_until(events, EventKind::Eid, day)
        .filter(|e| e.correction)
        .max_by_key(|e| (e.effective_on, e.received_at));
    let observed_after = |since: Option<(NaiveDate, NaiveDateTime)>| {
        of_kind_until(events, EventKind::Eid, day)
            .filter(|e| !e.correction)
            .filter(move |e| since.is_none_or(|s| (e.effective_on, e.received_at) > s))
            .map(level)
            .max_by_key(|l| l.rank())
    };
    match latest_correction {
        Some(correction) => {
            let corrected = level(correction);
            match observed_after(Some((correction.effective_on, correction.received_at))) {
                Some(observed) if observed.rank() > corrected.rank() => observed,
                _ => corrected,
            }
        }
        None => observed_after(None).unwrap_or(EidLevel::None),
    }
}

/// The governing event of a "latest wins" kind on `day`.
fn latest_on(events: &[Event], kind: EventKind, day: NaiveDate) -> Option<&Event> {
    of_kind_until(events, kind, day).max_by_key(|e| (e.effective_on, e.received_at))
}

/// The signature event in force on `day` (if any).
pub fn signature_on(events: &[Event], day: NaiveDate) -> Option<&Event> {
    latest_on(events, EventKind::Signature, day)
}

/// Whether the person has a signature that counts on `day`.
pub fn has_signature_on(events: &[Event], day: NaiveDate) -> bool {
    match signature_on(events, day) {
        None => false,
        Some(event) => match SignatureKind::parse(&event.value) {
            Some(SignatureKind::Electronic) => true,
            Some(SignatureKind::Digital) => {
                event.issued_on.is_none_or(|issued| issued <= day)
                    && event.expires_on.is_none_or(|expires| day <= expires)
            }
            _ => false,
        },
    }
}

pub fn broadband_on(events: &[Event], day: NaiveDate) -> Broadband {
    latest_on(events, EventKind::Broadband, day)
        .and_then(|e| Broadband::parse(&e.value))
        .unwrap_or(Broadband::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        format!("{s}T12:00:00").parse().unwrap()
    }

    fn eid(value: &str, on: &str, received: &str, correction: bool) -> Event {
        Event {
            kind: EventKind::Eid,
            value: value.into(),
            effective_on: day(on),
            issued_on: None,
            expires_on: None,
            correction,
            received_at: at(received),
        }
    }

    fn signature(
        value: &str,
        on: &str,
        received: &str,
        issued: Option<&str>,
        expires: Option<&str>,
    ) -> Event {
        Event {
            kind: EventKind::Signature,
            value: value.into(),
            effective_on: day(on),
            issued_on: issued.map(day),
            expires_on: expires.map(day),
            correction: false,
            received_at: at(received),
        }
    }

    #[test]
    fn the_highest_e_id_level_observed_wins() {
        let events = [
            eid("level2", "2025-03-01", "2025-03-02", false),
            eid("level1", "2025-05-01", "2025-05-02", false),
        ];
        assert_eq!(eid_level_on(&events, day("2025-02-28")), EidLevel::None);
        assert_eq!(eid_level_on(&events, day("2025-03-01")), EidLevel::Level2);
        assert_eq!(
            eid_level_on(&events, day("2025-06-01")),
            EidLevel::Level2,
            "a lower later observation does not lower it"
        );
    }

    #[test]
    fn pending_level_two_does_not_count_and_ranks_below_level_one() {
        let events = [
            eid("level1", "2025-01-01", "2025-01-01", false),
            eid("level2_pending", "2025-02-01", "2025-02-01", false),
        ];
        assert_eq!(eid_level_on(&events, day("2025-03-01")), EidLevel::Level1);
        assert!(!EidLevel::Level2Pending.counts());
    }

    #[test]
    fn a_correction_overrides_what_was_observed_before_it() {
        let events = [
            eid("level2", "2025-01-01", "2025-01-01", false),
            eid("none", "2025-02-01", "2025-02-03", true),
            eid("level1", "2025-04-01", "2025-04-01", false),
        ];
        assert_eq!(eid_level_on(&events, day("2025-01-15")), EidLevel::Level2);
        assert_eq!(eid_level_on(&events, day("2025-03-01")), EidLevel::None);
        assert_eq!(
            eid_level_on(&events, day("2025-04-01")),
            EidLevel::Level1,
            "later observations raise it again"
        );
    }

    #[test]
    fn the_latest_signature_event_wins_and_ties_go_to_the_later_received() {
        let events = [
            signature("electronic", "2025-01-01", "2025-01-01", None, None),
            signature("none", "2025-01-01", "2025-01-05", None, None),
        ];
        assert!(!has_signature_on(&events, day("2025-02-01")));
        let late_but_earlier = [
            signature("electronic", "2025-03-01", "2025-03-01", None, None),
            signature("none", "2025-02-01", "2025-04-01", None, None),
        ];
        assert!(
            has_signature_on(&late_but_earlier, day("2025-04-02")),
            "a late event with an earlier date does not override"
        );
        assert!(
            !has_signature_on(&late_but_earlier, day("2025-02-15")),
            "but it changes the past"
        );
    }

    #[test]
    fn a_certificate_counts_through_its_expiry_date_and_not_after() {
        let events = [signature(
            "digital",
            "2024-06-01",
            "2024-06-01",
            Some("2024-06-01"),
            Some("2025-05-31"),
        )];
        assert!(!has_signature_on(&events, day("2024-05-31")));
        assert!(has_signature_on(&events, day("2024-06-01")));
        assert!(has_signature_on(&events, day("2025-05-31")));
        assert!(!has_signature_on(&events, day("2025-06-01")));
    }

    #[test]
    fn broadband_is_unknown_until_recorded() {
        let events = [Event {
            kind: EventKind::Broadband,
            value: "yes".into(),
            effective_on: day("2025-01-10"),
            issued_on: None,
            expires_on: None,
            correction: false,
            received_at: at("2025-01-10"),
        }];
        assert_eq!(broadband_on(&events, day("2025-01-09")), Broadband::Unknown);
        assert_eq!(broadband_on(&events, day("2025-01-10")), Broadband::Yes);
    }
}
