//! Incremental adoption counters: what makes a ward or province figure a roll-up instead of
//! a scan of residents, while staying exact for any day — and without a row that writers
//! in different neighbourhoods share.
//!
//! Every resident and household has *spans* (`spans`): the half-open ranges of days on
//! which it counts towards a measure (an adult in the population; an adult with e-ID; with
//! a signature; a household; a household on fibre). Spans come from the same rules as the
//! recount (`status::derive`), evaluated at the days where their answer can change, so a
//! late event, an expiry or a birthday is already in them.
//!
//! A write replaces the spans of the subjects it touched and turns the difference into
//! *deltas* per neighbourhood and day (+1 where a span starts, -1 where it ends). The
//! subjects a transaction touches are collected and brought up to date once, just before
//! it commits (`pending`), and their deltas are **appended** to `adoption_delta_log` in
//! one multi-row insert: a writer never updates a shared counter row, so writers never
//! wait for each other and cannot deadlock on counters.
//!
//! The background fold (`fold`) moves the log into *buckets* (`buckets`): per area — the
//! neighbourhood and every area above it — measure and day, month and year. Only the fold
//! writes buckets, one fold at a time. The count of an area on D (`read`) is the sum of its
//! own folded buckets up to D (whole years, months, days: a few hundred rows whatever the
//! area's size) plus the log rows still waiting under its path, in one statement — so it
//! is exact at every moment, before, during and after a fold.
//!
//! `rebuild` builds counters again from raw rows (`recount --repair`, seeding, bulk loads).

mod buckets;
mod fold;
mod pending;
mod read;
mod rebuild;
mod spans;

use chrono::NaiveDate;

pub use buckets::{path_and_ancestors, Bucket, Deltas};
pub use fold::{fold, fold_all, spawn_folder};
pub use pending::{
    batched, sync_household, sync_household_and_residents, sync_resident, ResidentFacts,
};
pub use read::{counts_of_many, counts_on, counts_series, figures_tag};
pub use rebuild::{
    rebuild_neighbourhood, rebuild_rollup, rebuild_tree, stored_buckets_in, stored_spans_in,
};
pub use spans::{
    compute_spans, household_spans, load_events, load_events_of_households, resident_spans,
    ComputedSpans, EventsBySubject, Span,
};

use super::Counts;

/// The first day figures exist for: spans that would start earlier (a household, an adult
/// born in 1900) start here.
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(day) => day,
    None => panic!("1900-01-01 is a date"),
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    Adults,
    Eid,
    Signature,
    Households,
    Fibre,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::Adults,
        Measure::Eid,
        Measure::Signature,
        Measure::Households,
        Measure::Fibre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Adults => "adults",
            Measure::Eid => "eid",
            Measure::Signature => "signature",
            Measure::Households => "households",
            Measure::Fibre => "fibre",
        }
    }

    pub fn parse(value: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == value)
    }
}

impl Counts {
    fn add(&mut self, measure: Measure, amount: i64) {
        let slot = match measure {
            Measure::Adults => &mut self.adults,
            Measure::Eid => &mut self.adults_with_eid,
            Measure::Signature => &mut self.adults_with_signature,
            Measure::Households => &mut self.households,
            Measure::Fibre => &mut self.households_with_fibre,
        };
        *slot += amount;
    }
}

/// Whether a text is made of what ids and paths are made of (hex digits, '-', '/'), so it
/// can be written into SQL text (the bulk statements below build many-row VALUES lists).
fn plain(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '/')
}

/// The smallest text above every path that starts with `path`: `path` ends with '/', and
/// '0' follows '/' in byte order, so `[path, upper)` is exactly the paths below it, as an
/// index range (a `LIKE` prefix is not one on every collation).
fn prefix_end(path: &str) -> String {
    match path.strip_suffix('/') {
        Some(stem) => format!("{stem}0"),
        None => format!("{path}\u{10FFFF}"),
    }
}
