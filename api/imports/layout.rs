//! The household register file: one row per person, household columns repeated (or left
//! blank) on the rows of the same household code. Headers may be the English keys or the
//! Vietnamese labels (diacritics and case ignored); values may be in English or Vietnamese
//! ("nam", "nữ", "chủ hộ", "mức 2", "chữ ký số" …). Exports use the same layout, so an
//! exported list can be imported again.

use chrono::NaiveDate;

use crate::i18n::Text;
use crate::residents::birth::BirthDate;
use crate::residents::{citizen_id, Relation, Sex};
use crate::search::fold;
use crate::status::derive::{Broadband, EidLevel, SignatureKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    HouseholdCode,
    Address,
    HeadName,
    Phone,
    Broadband,
    FullName,
    BirthDate,
    Sex,
    RelationToHead,
    CitizenId,
    Consent,
    EidLevel,
    EidSince,
    Signature,
    SignatureSince,
    SignatureExpiresOn,
}

impl Column {
    pub const ALL: [Column; 16] = [
        Column::HouseholdCode,
        Column::Address,
        Column::HeadName,
        Column::Phone,
        Column::Broadband,
        Column::FullName,
        Column::BirthDate,
        Column::Sex,
        Column::RelationToHead,
        Column::CitizenId,
        Column::Consent,
        Column::EidLevel,
        Column::EidSince,
        Column::Signature,
        Column::SignatureSince,
        Column::SignatureExpiresOn,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::HouseholdCode => "household_code",
            Column::Address => "address",
            Column::HeadName => "head_name",
            Column::Phone => "phone",
            Column::Broadband => "broadband",
            Column::FullName => "full_name",
            Column::BirthDate => "birth_date",
            Column::Sex => "sex",
            Column::RelationToHead => "relation_to_head",
            Column::CitizenId => "citizen_id",
            Column::Consent => "consent",
            Column::EidLevel => "eid_level",
            Column::EidSince => "eid_since",
            Column::Signature => "signature",
            Column::SignatureSince => "signature_since",
            Column::SignatureExpiresOn => "signature_expires_on",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Column::HouseholdCode => "Mã hộ",
            Column::Address => "Địa chỉ",
            Column::HeadName => "Chủ hộ",
            Column::Phone => "Điện thoại",
            Column::Broadband => "Cáp quang",
            Column::FullName => "Họ và tên",
            Column::BirthDate => "Ngày sinh",
            Column::Sex => "Giới tính",
            Column::RelationToHead => "Quan hệ với chủ hộ",
            Column::CitizenId => "Số CCCD",
            Column::Consent => "Đồng ý",
            Column::EidLevel => "Định danh điện tử",
            Column::EidSince => "Ngày định danh",
            Column::Signature => "Chữ ký",
            Column::SignatureSince => "Ngày có chữ ký",
            Column::SignatureExpiresOn => "Hạn chữ ký số",
        }
    }

    pub fn from_header(header: &str) -> Option<Column> {
        let folded = fold(header.trim_start_matches('\u{feff}'));
        Column::ALL
            .into_iter()
            .find(|c| folded == c.key() || folded == fold(c.label_vi()))
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::HouseholdCode
                | Column::FullName
                | Column::BirthDate
                | Column::Sex
                | Column::RelationToHead
        )
    }
}

/// A problem in one cell (or one row), as the dry run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// The row number as a spreadsheet shows it (the header is row 1).
    pub row: usize,
    pub column: Option<Column>,
    pub code: &'static str,
    pub message: Text,
}

/// One valid row.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub row: usize,
    pub household_code: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub phone: Option<String>,
    pub broadband: Option<Broadband>,
    pub full_name: String,
    pub birth: BirthDate,
    pub sex: Sex,
    pub relation: Relation,
    pub citizen_id: Option<String>,
    pub consent: bool,
    pub eid: Option<(EidLevel, NaiveDate)>,
    pub signature: Option<(SignatureKind, NaiveDate, Option<NaiveDate>)>,
}

/// Maps the header row to columns; unknown headers are reported, missing required ones too.
pub fn read_header(header: &[String]) -> Result<Vec<Option<Column>>, Vec<CellProblem>> {
    let columns: Vec<Option<Column>> = header.iter().map(|h| Column::from_header(h)).collect();
    let mut problems = Vec::new();
    for (index, (name, column)) in header.iter().zip(&columns).enumerate() {
        if column.is_none() && !name.trim().is_empty() {
            problems.push(CellProblem {
                row: 1,
                column: None,
                code: "unknown-column",
                message: Text::owned(
                    format!("Cột {} \"{name}\" không có trong mẫu", index + 1),
                    format!("Column {} \"{name}\" is not in the template", index + 1),
                ),
            });
        }
    }
    for required in Column::ALL.into_iter().filter(|c| c.required()) {
        if !columns.contains(&Some(required)) {
            problems.push(CellProblem {
                row: 1,
                column: Some(required),
                code: "missing-column",
                message: Text::owned(
                    format!("Thiếu cột \"{}\"", required.label_vi()),
                    format!("The column \"{}\" is missing", required.key()),
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

struct Cells<'a> {
    row: usize,
    values: Vec<(Column, &'a str)>,
    problems: Vec<CellProblem>,
}

impl<'a> Cells<'a> {
    fn get(&self, column: Column) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn problem(&mut self, column: Column, code: &'static str, vi: String, en: String) {
        self.problems.push(CellProblem {
            row: self.row,
            column: Some(column),
            code,
            message: Text::owned(vi, en),
        });
    }

    fn required(&mut self, column: Column) -> Option<&'a str> {
        let value = self.get(column);
        if value.is_none() {
            self.problem(
                column,
                "required",
                format!("Thiếu \"{}\"", column.label_vi()),
                format!("\"{}\" is required", column.key()),
            );
        }
        value
    }

    fn text(&mut self, column: Column, max: usize) -> Option<String> {
        let value = self.get(column)?;
        if value.chars().count() > max {
            self.problem(
                column,
                "too-long",
                format!("\"{}\" dài quá {max} ký tự", column.label_vi()),
                format!("\"{}\" is longer than {max} characters", column.key()),
            );
            return None;
        }
        Some(value.to_owned())
    }

    fn choice<T: Copy>(&mut self, column: Column, options: &[(&str, T)]) -> Option<T> {
        let value = self.get(column)?;
        let folded = fold(value);
        let found = options
            .iter()
            .find(|(name, _)| fold(name) == folded)
            .map(|(_, v)| *v);
        if found.is_none() {
            let allowed = options
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ");
            self.problem(
                column,
                "invalid-value",
                format!(
                    "\"{value}\" không hợp lệ cho \"{}\" ({allowed})",
                    column.label_vi()
                ),
                format!(
                    "\"{value}\" is not valid for \"{}\" ({allowed})",
                    column.key()
                ),
            );
        }
        found
    }

    fn date(&mut self, column: Column, today: NaiveDate) -> Option<NaiveDate> {
        let value = self.get(column)?;
        match parse_date(value) {
            Some(day) if day > today => {
                self.problem(
                    column,
                    "date-in-future",
                    format!("Ngày {value} ở tương lai"),
                    format!("The date {value} is in the future"),
                );
                None
            }
            Some(day) => Some(day),
            None => {
                self.problem(
                    column,
                    "invalid-date",
                    format!("\"{value}\" không phải ngày (YYYY-MM-DD hoặc DD/MM/YYYY)"),
                    format!("\"{value}\" is not a date (YYYY-MM-DD or DD/MM/YYYY)"),
                );
                None
            }
        }
    }
}

/// `YYYY-MM-DD` or the Vietnamese `DD/MM/YYYY`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d/%m/%Y"))
        .ok()
}

/// Birth dates also accept `DD/MM/YYYY`, `MM/YYYY` and `YYYY`.
fn birth_text(value: &str) -> String {
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [d, m, y] => format!("{y}-{m:0>2}-{d:0>2}"),
        [m, y] => format!("{y}-{m:0>2}"),
        _ => value.to_owned(),
    }
}

const SEXES: &[(&str, Sex)] = &[
    ("male", Sex::Male),
    ("nam", Sex::Male),
    ("female", Sex::Female),
    ("nữ", Sex::Female),
    ("unspecified", Sex::Unspecified),
    ("khác", Sex::Unspecified),
];

const RELATIONS: &[(&str, Relation)] = &[
    ("head", Relation::Head),
    ("chủ hộ", Relation::Head),
    ("spouse", Relation::Spouse),
    ("vợ", Relation::Spouse),
    ("chồng", Relation::Spouse),
    ("child", Relation::Child),
    ("con", Relation::Child),
    ("parent", Relation::Parent),
    ("bố", Relation::Parent),
    ("mẹ", Relation::Parent),
    ("grandchild", Relation::Grandchild),
    ("cháu", Relation::Grandchild),
    ("sibling", Relation::Sibling),
    ("anh", Relation::Sibling),
    ("chị", Relation::Sibling),
    ("em", Relation::Sibling),
    ("other", Relation::Other),
    ("khác", Relation::Other),
];

const EID_LEVELS: &[(&str, EidLevel)] = &[
    ("none", EidLevel::None),
    ("chưa có", EidLevel::None),
    ("level1", EidLevel::Level1),
    ("mức 1", EidLevel::Level1),
    ("level2_pending", EidLevel::Level2Pending),
    ("chờ mức 2", EidLevel::Level2Pending),
    ("level2", EidLevel::Level2),
    ("mức 2", EidLevel::Level2),
];

const SIGNATURES: &[(&str, SignatureKind)] = &[
    ("none", SignatureKind::None),
    ("chưa có", SignatureKind::None),
    ("electronic", SignatureKind::Electronic),
    ("chữ ký điện tử", SignatureKind::Electronic),
    ("digital", SignatureKind::Digital),
    ("chữ ký số", SignatureKind::Digital),
];

const BROADBAND: &[(&str, Broadband)] = &[
    ("yes", Broadband::Yes),
    ("có", Broadband::Yes),
    ("no", Broadband::No),
    ("không", Broadband::No),
    ("unknown", Broadband::Unknown),
    ("chưa rõ", Broadband::Unknown),
];

const CONSENT: &[(&str, bool)] = &[("yes", true), ("có", true), ("no", false), ("không", false)];

/// Parses one data row; `row` is its spreadsheet row number.
pub fn read_row(
    row: usize,
    columns: &[Option<Column>],
    values: &[String],
    today: NaiveDate,
) -> Result<ImportRow, Vec<CellProblem>> {
    let mut cells = Cells {
        row,
        values: columns
            .iter()
            .zip(values)
            .filter_map(|(c, v)| c.map(|c| (c, v.as_str())))
            .collect(),
        problems: Vec::new(),
    };
    let household_code = cells.required(Column::HouseholdCode).map(str::to_owned);
    let household_code = household_code.filter(|code| {
        let ok = code.chars().count() <= 40;
        if !ok {
            cells.problem(
                Column::HouseholdCode,
                "too-long",
                "Mã hộ dài quá 40 ký tự".into(),
                "The household code is longer than 40 characters".into(),
            );
        }
        ok
    });
    let address = cells.text(Column::Address, 300);
    let head_name = cells.text(Column::HeadName, 200);
    let phone = cells.text(Column::Phone, 20).filter(|phone| {
        let ok = crate::households::is_valid_phone(phone);
        if !ok {
            cells.problem(
                Column::Phone,
                "invalid-phone",
                "Số điện thoại chỉ gồm chữ số (có thể có dấu + ở đầu, dấu cách, chấm, gạch ngang)"
                    .into(),
                "A phone number is digits (optionally a leading +, spaces, dots, hyphens)".into(),
            );
        }
        ok
    });
    let broadband = cells.choice(Column::Broadband, BROADBAND);
    let full_name = cells
        .required(Column::FullName)
        .and_then(|_| cells.text(Column::FullName, 200));
    let birth = cells.required(Column::BirthDate).and_then(|value| {
        let parsed = BirthDate::parse(&birth_text(value), today);
        if let Err(code) = parsed {
            let (vi, en) = match code {
                "date-in-future" => ("Ngày sinh ở tương lai", "The birth date is in the future"),
                "date-too-early" => ("Ngày sinh trước năm 1900", "The birth date is before 1900"),
                _ => (
                    "Ngày sinh phải có dạng YYYY, YYYY-MM, YYYY-MM-DD hoặc DD/MM/YYYY",
                    "The birth date must be YYYY, YYYY-MM, YYYY-MM-DD or DD/MM/YYYY",
                ),
            };
            cells.problem(
                Column::BirthDate,
                if code == "date-in-future" {
                    "date-in-future"
                } else {
                    "invalid-date"
                },
                vi.into(),
                en.into(),
            );
        }
        parsed.ok()
    });
    let sex = cells
        .required(Column::Sex)
        .and_then(|_| cells.choice(Column::Sex, SEXES));
    let relation = cells
        .required(Column::RelationToHead)
        .and_then(|_| cells.choice(Column::RelationToHead, RELATIONS));
    let citizen = cells.get(Column::CitizenId).map(|c| {
        // A spreadsheet may have turned the ID into a number and dropped its leading zeros
        // (IDs start with a province code 001–096: one or two zeros).
        if (10..12).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) {
            format!("{c:0>12}")
        } else {
            c.to_owned()
        }
    });
    if citizen.as_deref().is_some_and(|c| !citizen_id::is_valid(c)) {
        cells.problem(
            Column::CitizenId,
            "invalid-citizen-id",
            "Số CCCD phải gồm đúng 12 chữ số".into(),
            "A citizen ID is exactly 12 digits".into(),
        );
    }
    let consent = cells.choice(Column::Consent, CONSENT).unwrap_or(false);
    let eid_level = cells.choice(Column::EidLevel, EID_LEVELS);
    let eid_since = cells.date(Column::EidSince, today);
    let eid = match (eid_level, eid_since) {
        (None | Some(EidLevel::None), _) => None,
        (Some(level), Some(since)) => Some((level, since)),
        (Some(_), None) => {
            if cells.get(Column::EidSince).is_none() {
                cells.required(Column::EidSince);
            }
            None
        }
    };
    let signature_kind = cells.choice(Column::Signature, SIGNATURES);
    let signature_since = cells.date(Column::SignatureSince, today);
    let signature_expires = cells
        .get(Column::SignatureExpiresOn)
        .and_then(|_| cells.date(Column::SignatureExpiresOn, NaiveDate::MAX));
    let signature = match (signature_kind, signature_since) {
        (None | Some(SignatureKind::None), _) => None,
        (Some(kind), Some(since)) => {
            if kind == SignatureKind::Digital {
                match signature_expires {
                    None => {
                        cells.required(Column::SignatureExpiresOn);
                    }
                    Some(expires) if expires < since => cells.problem(
                        Column::SignatureExpiresOn,
                        "expiry-before-issue",
                        "Ngày hết hạn trước ngày có chữ ký".into(),
                        "The expiry date is before the signature date".into(),
                    ),
                    Some(_) => {}
                }
            }
            Some((kind, since, signature_expires))
        }
        (Some(_), None) => {
            if cells.get(Column::SignatureSince).is_none() {
                cells.required(Column::SignatureSince);
            }
            None
        }
    };
    if !cells.problems.is_empty() {
        return Err(cells.problems);
    }
    match (household_code, full_name, birth, sex, relation) {
        (Some(household_code), Some(full_name), Some(birth), Some(sex), Some(relation)) => {
            Ok(ImportRow {
                row,
                household_code,
                address,
                head_name,
                phone,
                broadband,
                full_name,
                birth,
                sex,
                relation,
                citizen_id: citizen,
                consent,
                eid,
                signature,
            })
        }
        _ => Err(cells.problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn headers_may_be_keys_or_vietnamese_labels() {
        assert_eq!(
            Column::from_header("\u{feff}household_code"),
            Some(Column::HouseholdCode)
        );
        assert_eq!(Column::from_header("Họ và tên"), Some(Column::FullName));
        assert_eq!(Column::from_header("HO VA TEN"), Some(Column::FullName));
        assert_eq!(Column::from_header("colour"), None);
    }

    #[test]
    fn a_row_in_vietnamese_is_read() {
        let header: Vec<String> = [
            "Mã hộ",
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Quan hệ với chủ hộ",
            "Định danh điện tử",
            "Ngày định danh",
            "Số CCCD",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let columns = read_header(&header).unwrap();
        let values: Vec<String> = [
            "HK1",
            "Nguyễn Thị Lan",
            "09/03/1971",
            "nữ",
            "Chủ hộ",
            "mức 2",
            "01/06/2025",
            "38171009876",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let row = read_row(2, &columns, &values, today()).unwrap();
        assert_eq!(row.birth.to_text(), "1971-03-09");
        assert_eq!(row.sex, Sex::Female);
        assert_eq!(row.relation, Relation::Head);
        assert_eq!(
            row.eid,
            Some((
                EidLevel::Level2,
                NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
            ))
        );
        assert_eq!(
            row.citizen_id.as_deref(),
            Some("038171009876"),
            "the lost leading zero is restored"
        );
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let header: Vec<String> = [
            "household_code",
            "full_name",
            "birth_date",
            "sex",
            "relation_to_head",
            "signature",
            "signature_since",
            "signature_expires_on",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let columns = read_header(&header).unwrap();
        let values: Vec<String> = [
            "",
            "A",
            "2999",
            "robot",
            "head",
            "digital",
            "2025-01-01",
            "2024-01-01",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let problems = read_row(7, &columns, &values, today()).unwrap_err();
        let codes: Vec<(Option<&str>, &str)> = problems
            .iter()
            .map(|p| (p.column.map(Column::key), p.code))
            .collect();
        assert_eq!(
            codes,
            [
                (Some("household_code"), "required"),
                (Some("birth_date"), "date-in-future"),
                (Some("sex"), "invalid-value"),
                (Some("signature_expires_on"), "expiry-before-issue"),
            ]
        );
        assert!(problems.iter().all(|p| p.row == 7));
    }
}
