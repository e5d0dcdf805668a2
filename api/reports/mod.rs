//! Reports in the province's spreadsheet layout. A template is a worksheet with
//! placeholders: header cells such as `{{area_name}}` or `{{period}}`, and one *row line*
//! whose cells name `{{row.…}}` values, repeated once per area directly below the reported
//! area. The figures are the month's signed-off ones when the month is signed off (frozen),
//! else the figures counted now for its last day (marked provisional). A built-in template
//! mirrors the usual ward report; an administrator may upload others.
//!
//! An uploaded template's report is filled into the workbook itself (`in_place`), keeping
//! its layout; the built-in one is written afresh.

pub mod export;
pub mod in_place;
pub mod templates;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::i18n::Text;
use crate::problem::{ApiError, FieldError};
use crate::sign_offs::{Period, ReportedRow};
use crate::targets::Indicator;

/// A worksheet as rows of text cells ("" for empty).
pub type Grid = Vec<Vec<String>>;

/// The values a row line (`row.`) or the area's own total (`area.`) can name.
pub const FIGURE_KEYS: &[&str] = &[
    "index",
    "code",
    "name",
    "adults",
    "official_adults",
    "eid",
    "eid_rate",
    "signature",
    "signature_rate",
    "households",
    "broadband",
    "broadband_rate",
];

/// The values a header cell can name.
pub const HEADER_KEYS: &[&str] = &[
    "area_name",
    "area_code",
    "period",
    "period_end",
    "status",
    "signed_by",
    "signed_on",
    "generated_on",
];

/// The built-in template: the usual monthly ward report on e-ID and signatures.
pub fn default_template() -> Grid {
    let line = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    vec![
        line(&["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]),
        line(&["Độc lập - Tự do - Hạnh phúc"]),
        line(&[]),
        line(&["BÁO CÁO KẾT QUẢ TRIỂN KHAI ĐỊNH DANH ĐIỆN TỬ VÀ CHỮ KÝ SỐ THÁNG {{period}}"]),
        line(&["Đơn vị: {{area_name}} ({{area_code}})"]),
        line(&["Số liệu đến ngày {{period_end}} · {{status}}"]),
        line(&[]),
        line(&[
            "STT",
            "Khu vực",
            "Số người từ 18 tuổi",
            "Dân số trưởng thành (thống kê)",
            "Có định danh điện tử",
            "Tỷ lệ (%)",
            "Có chữ ký số / điện tử",
            "Tỷ lệ (%)",
            "Số hộ",
            "Hộ có cáp quang",
            "Tỷ lệ (%)",
        ]),
        line(&[
            "{{row.index}}",
            "{{row.name}}",
            "{{row.adults}}",
            "{{row.official_adults}}",
            "{{row.eid}}",
            "{{row.eid_rate}}",
            "{{row.signature}}",
            "{{row.signature_rate}}",
            "{{row.households}}",
            "{{row.broadband}}",
            "{{row.broadband_rate}}",
        ]),
        line(&[
            "",
            "Tổng cộng",
            "{{area.adults}}",
            "{{area.official_adults}}",
            "{{area.eid}}",
            "{{area.eid_rate}}",
            "{{area.signature}}",
            "{{area.signature_rate}}",
            "{{area.households}}",
            "{{area.broadband}}",
            "{{area.broadband_rate}}",
        ]),
        line(&[]),
        line(&[
            "Người lập báo cáo: {{signed_by}}",
            "",
            "",
            "",
            "",
            "",
            "Ngày lập: {{generated_on}}",
        ]),
    ]
}

/// A placeholder in a cell: where it is (`{{` to `}}`, bytes) and the name inside, trimmed.
pub(super) struct Span<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

/// The placeholders of a cell, in order. The same spans are checked and filled, so a name
/// written with spaces inside the braces is found by both.
pub(super) fn spans(cell: &str) -> Vec<Span<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = cell[from..].find("{{") {
        let start = from + open;
        let Some(close) = cell[start + 2..].find("}}") else {
            break;
        };
        let end = start + 2 + close + 2;
        found.push(Span {
            start,
            end,
            name: cell[start + 2..end - 2].trim(),
        });
        from = end;
    }
    found
}

fn placeholders(cell: &str) -> Vec<&str> {
    spans(cell).into_iter().map(|s| s.name).collect()
}

/// An `A1`-style cell name.
pub fn cell_name(row: usize, col: usize) -> String {
    let mut letters = String::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.insert(0, (b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

/// The index of the template's row line, after checking every placeholder: one row line
/// exactly, `row.` names only on it, and every name known. Errors point at the cells.
pub fn check(grid: &Grid) -> Result<usize, ApiError> {
    let mut errors = Vec::new();
    let mut row_lines = Vec::new();
    for (r, line) in grid.iter().enumerate() {
        let mut on_this_line = false;
        for (c, cell) in line.iter().enumerate() {
            for name in placeholders(cell) {
                let known = match name.split_once('.') {
                    Some(("row", key)) => {
                        on_this_line = true;
                        FIGURE_KEYS.contains(&key)
                    }
                    Some(("area", key)) => FIGURE_KEYS.contains(&key) && key != "index",
                    None => HEADER_KEYS.contains(&name),
                    _ => false,
                };
                if !known {
                    errors.push(FieldError {
                        pointer: format!("/cells/{}", cell_name(r, c)),
                        code: "unknown-placeholder".to_owned(),
                        detail: Text::owned(
                            format!("Ô {} có tên không biết: {{{{{name}}}}}", cell_name(r, c)),
                            format!(
                                "Cell {} names an unknown value: {{{{{name}}}}}",
                                cell_name(r, c)
                            ),
                        ),
                    });
                }
            }
        }
        if on_this_line {
            row_lines.push(r);
        }
    }
    if row_lines.len() != 1 {
        errors.push(FieldError {
            pointer: "/cells".to_owned(),
            code: "row-line-count".to_owned(),
            detail: Text::owned(
                format!(
                    "Mẫu phải có đúng một dòng chứa {{{{row.…}}}} (có {})",
                    row_lines.len()
                ),
                format!(
                    "The template needs exactly one line with {{{{row.…}}}} cells (it has {})",
                    row_lines.len()
                ),
            ),
        });
    }
    if errors.is_empty() {
        Ok(row_lines[0])
    } else {
        Err(ApiError::validation(errors))
    }
}

/// A filled cell: a number when the cell was a single placeholder with a number, else text.
#[derive(Debug, Clone, PartialEq)]
pub enum Filled {
    Text(String),
    Number(f64),
}

impl Filled {
    pub fn text(&self) -> String {
        match self {
            Filled::Text(text) => text.clone(),
            Filled::Number(n) => n.to_string(),
        }
    }
}

/// What the header placeholders stand for.
pub struct Heading {
    pub area_name: String,
    pub area_code: String,
    pub period: Period,
    /// The day the figures are of: the period's last day, or today for provisional figures
    /// of the month in progress.
    pub figures_on: NaiveDate,
    pub status: String,
    pub signed_by: String,
    pub signed_on: Option<NaiveDate>,
    pub generated_on: NaiveDate,
}

fn day_text(day: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", day.day(), day.month(), day.year())
}

fn figure_values(row: &ReportedRow, index: usize) -> BTreeMap<&'static str, Option<f64>> {
    let mut values = BTreeMap::new();
    values.insert("index", Some(index as f64));
    let find = |indicator: Indicator| row.indicators.iter().find(|i| i.indicator == indicator);
    if let Some(eid) = find(Indicator::Eid) {
        values.insert("adults", Some(eid.recorded_denominator as f64));
        values.insert(
            "official_adults",
            eid.official_denominator.map(|n| n as f64),
        );
        values.insert("eid", Some(eid.count as f64));
        values.insert("eid_rate", eid.rate_official.or(eid.rate_recorded));
    }
    if let Some(signature) = find(Indicator::Signature) {
        values.insert("signature", Some(signature.count as f64));
        values.insert(
            "signature_rate",
            signature.rate_official.or(signature.rate_recorded),
        );
    }
    if let Some(fibre) = find(Indicator::Broadband) {
        values.insert("households", Some(fibre.recorded_denominator as f64));
        values.insert("broadband", Some(fibre.count as f64));
        values.insert(
            "broadband_rate",
            fibre.rate_official.or(fibre.rate_recorded),
        );
    }
    values
}

/// Fills `grid` (checked, row line at `row_line`) with the heading and `rows` (the area
/// first, then each area below it).
pub fn fill(
    grid: &Grid,
    row_line: usize,
    heading: &Heading,
    rows: &[ReportedRow],
) -> Vec<Vec<Filled>> {
    let header = |name: &str| -> String {
        match name {
            "area_name" => heading.area_name.clone(),
            "area_code" => heading.area_code.clone(),
            "period" => format!(
                "{:02}/{}",
                heading.period.first.month(),
                heading.period.first.year()
            ),
            "period_end" => day_text(heading.figures_on),
            "status" => heading.status.clone(),
            "signed_by" => heading.signed_by.clone(),
            "signed_on" => heading.signed_on.map(day_text).unwrap_or_default(),
            "generated_on" => day_text(heading.generated_on),
            _ => String::new(),
        }
    };
    let area_values = rows
        .first()
        .map(|row| figure_values(row, 0))
        .unwrap_or_default();
    let fill_cell = |cell: &str, row: Option<(&ReportedRow, usize)>| -> Filled {
        let value_of = |name: &str| -> Filled {
            let figure = |values: &BTreeMap<&str, Option<f64>>, key: &str| {
                values
                    .get(key)
                    .copied()
                    .flatten()
                    .map_or(Filled::Text(String::new()), Filled::Number)
            };
            match name.split_once('.') {
                Some(("row", "code")) => {
                    Filled::Text(row.map(|r| r.0.area_code.clone()).unwrap_or_default())
                }
                Some(("row", "name")) => {
                    Filled::Text(row.map(|r| r.0.area_name.clone()).unwrap_or_default())
                }
                Some(("row", key)) => match row {
                    Some((r, index)) => figure(&figure_values(r, index), key),
                    None => Filled::Text(String::new()),
                },
                Some(("area", "code")) => Filled::Text(heading.area_code.clone()),
                Some(("area", "name")) => Filled::Text(heading.area_name.clone()),
                Some(("area", key)) => figure(&area_values, key),
                _ => Filled::Text(header(name)),
            }
        };
        // A cell that is one placeholder and nothing else keeps the value's type (a number
        // stays a number); otherwise the cell is rebuilt from its text between the spans, so
        // a value is never searched again for placeholders.
        let found = spans(cell);
        if let [only] = found.as_slice() {
            if cell[..only.start].trim().is_empty() && cell[only.end..].trim().is_empty() {
                return value_of(only.name);
            }
        }
        let mut text = String::with_capacity(cell.len());
        let mut at = 0;
        for span in &found {
            text.push_str(&cell[at..span.start]);
            text.push_str(&value_of(span.name).text());
            at = span.end;
        }
        text.push_str(&cell[at..]);
        Filled::Text(text)
    };
    let mut out = Vec::new();
    for (r, line) in grid.iter().enumerate() {
        if r == row_line {
            for (index, row) in rows.iter().skip(1).enumerate() {
                out.push(
                    line.iter()
                        .map(|c| fill_cell(c, Some((row, index + 1))))
                        .collect(),
                );
            }
        } else {
            out.push(line.iter().map(|c| fill_cell(c, None)).collect());
        }
    }
    out
}

/// The filled sheet as an XLSX workbook of one sheet.
pub fn xlsx(sheet_name: &str, cells: &[Vec<Filled>]) -> Result<Vec<u8>, ApiError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet_name).map_err(ApiError::internal)?;
    for (r, line) in cells.iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Filled::Text(text) if text.is_empty() => continue,
                Filled::Text(text) => worksheet.write_string(r, c, text),
                Filled::Number(n) => worksheet.write_number(r, c, *n),
            }
            .map_err(ApiError::internal)?;
        }
    }
    workbook.save_to_buffer().map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_template_passes_its_own_check() {
        assert_eq!(check(&default_template()).unwrap(), 8);
    }

    #[test]
    fn a_placeholder_is_filled_however_it_is_spaced_and_a_value_is_never_expanded_again() {
        let grid = vec![
            vec!["{{ area_name }} · {{period}}".to_owned()],
            vec!["{{  row.eid}}".to_owned(), " {{row.name }} ".to_owned()],
        ];
        let row_line = check(&grid).unwrap();
        let heading = Heading {
            area_name: "Khu {{period}}".to_owned(),
            area_code: "K".to_owned(),
            period: Period::parse("2026-11", "/period").unwrap(),
            figures_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            status: String::new(),
            signed_by: String::new(),
            signed_on: None,
            generated_on: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        };
        let row = |name: &str, eid: i64| ReportedRow {
            area_id: uuid::Uuid::nil(),
            area_code: name.to_owned(),
            area_name: name.to_owned(),
            area_kind: "neighbourhood".to_owned(),
            indicators: vec![crate::sign_offs::ReportedIndicator {
                indicator: Indicator::Eid,
                count: eid,
                recorded_denominator: 4,
                official_denominator: None,
                rate_recorded: Some(25.0),
                rate_official: None,
            }],
        };
        let filled = fill(
            &grid,
            row_line,
            &heading,
            &[row("W", 3), row("A", 1), row("B", 2)],
        );
        assert_eq!(
            filled[0][0],
            Filled::Text("Khu {{period}} · 11/2026".to_owned())
        );
        assert_eq!(
            filled[1],
            vec![Filled::Number(1.0), Filled::Text("A".to_owned())]
        );
        assert_eq!(
            filled[2],
            vec![Filled::Number(2.0), Filled::Text("B".to_owned())]
        );
    }

    #[test]
    fn cells_are_named_as_a_spreadsheet_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(6, 1), "B7");
        assert_eq!(cell_name(0, 26), "AA1");
    }

    #[test]
    fn an_unknown_name_and_two_row_lines_are_refused_with_their_cells() {
        let grid = vec![
            vec!["{{area_nam}}".to_owned()],
            vec!["{{row.name}}".to_owned()],
            vec!["{{row.eid}}".to_owned()],
        ];
        let error = check(&grid).unwrap_err();
        let text = format!("{error:?}");
        assert!(
            text.contains("/cells/A1") && text.contains("row-line-count"),
            "{text}"
        );
    }
}
