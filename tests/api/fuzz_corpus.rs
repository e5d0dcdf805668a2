//! The fuzz target's corpus (`fuzz/corpus/import`: seeds and whatever libFuzzer found),
//! replayed on the stable toolchain as part of the suite: every file is read as CSV and as
//! XLSX without a panic, and the hostile seeds are refused.

use eid_adoption::imports::read::Format;
use eid_adoption::imports::run::parse;

#[test]
fn every_file_of_the_fuzz_corpus_is_read_or_refused_without_a_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/import");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("the fuzz corpus is committed") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let csv = parse(Format::Csv, &bytes, today);
        let xlsx = parse(Format::Xlsx, &bytes, today);
        match name.as_str() {
            "cell-at-xfd1048576.xlsx"
            | "ten-billion-shared-strings.xlsx"
            | "unpacks-to-80-mib.xlsx" => assert!(xlsx.is_err(), "{name} is refused"),
            "minimal.xlsx" => assert!(xlsx.is_ok(), "{name} is read"),
            "template.csv" | "semicolons.csv" => assert!(csv.is_ok(), "{name} is read"),
            "wide.csv" | "nul-in-cell.csv" => assert!(csv.is_err(), "{name} is refused"),
            _ => {}
        }
        files += 1;
    }
    assert!(files >= 8, "the seeds are there ({files} files)");
}
