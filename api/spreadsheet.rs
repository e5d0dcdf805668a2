//! Tables handed to people as files: CSV (UTF-8 with a byte-order mark, so spreadsheet
//! programs read Vietnamese correctly) and XLSX (one sheet per table).

use crate::problem::ApiError;

pub enum Cell {
    /// Written as text even when it looks like a number: codes and phone numbers keep
    /// their leading zeros.
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn as_csv(&self) -> String {
        match self {
            Cell::Text(text) => neutralised(text),
            Cell::Number(number) => number.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// Text a spreadsheet program would run as a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return before one) gets a leading apostrophe, which Excel and LibreOffice show
/// as plain text: volunteers type names and addresses, officials open the exports.
fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl<T: Into<f64>> From<Option<T>> for Cell {
    fn from(number: Option<T>) -> Cell {
        number.map_or(Cell::Empty, |n| Cell::Number(n.into()))
    }
}

pub struct Sheet<'a> {
    pub name: &'a str,
    pub header: &'a [String],
    pub rows: &'a [Vec<Cell>],
}

pub fn csv_bytes(header: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    writer.write_record(header).map_err(ApiError::internal)?;
    for row in rows {
        writer
            .write_record(row.iter().map(Cell::as_csv))
            .map_err(ApiError::internal)?;
    }
    writer.into_inner().map_err(ApiError::internal)
}

pub fn xlsx_bytes(sheets: &[Sheet]) -> Result<Vec<u8>, ApiError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet.name).map_err(ApiError::internal)?;
        for (col, title) in sheet.header.iter().enumerate() {
            worksheet
                .write_string_with_format(0, col as u16, title, &bold)
                .map_err(ApiError::internal)?;
        }
        for (index, row) in sheet.rows.iter().enumerate() {
            let line = (index + 1) as u32;
            for (col, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(text) => worksheet.write_string(line, col as u16, text),
                    Cell::Number(number) => worksheet.write_number(line, col as u16, *number),
                    Cell::Empty => continue,
                }
                .map_err(ApiError::internal)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not() {
        let header = ["a".to_owned()];
        let rows = vec![
            vec![Cell::Text("=HYPERLINK(\"http://x\",\"y\")".into())],
            vec![Cell::Text("+cmd|' /C calc'!A0".into())],
            vec![Cell::Text("@SUM(1+1)".into())],
            vec![Cell::Text("-2+3".into())],
            vec![Cell::Text("\t=1".into())],
            vec![Cell::Text("Nguyễn Văn A".into())],
            vec![Cell::Number(-4.0)],
        ];
        let text = String::from_utf8(csv_bytes(&header, &rows).unwrap()).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
        assert_eq!(lines[2], "'+cmd|' /C calc'!A0");
        assert_eq!(lines[3], "'@SUM(1+1)");
        assert_eq!(lines[4], "'-2+3");
        assert_eq!(lines[5], "'\t=1");
        assert_eq!(lines[6], "Nguyễn Văn A");
        assert_eq!(lines[7], "-4");
    }
}
