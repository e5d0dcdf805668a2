//! Any bytes, read as a CSV and as an XLSX register: never a panic, never an allocation
//! beyond the import's limits (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb` catch one).
#![no_main]

use eid_adoption::imports::read::Format;
use eid_adoption::imports::run::parse;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
    let _ = parse(Format::Csv, bytes, today);
    let _ = parse(Format::Xlsx, bytes, today);
});
