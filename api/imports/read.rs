//! Reading an uploaded register: CSV (UTF-8, with or without a byte-order mark) or XLSX
//! (the first worksheet), as rows of text cells.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        match media_type.split(';').next().map(str::trim) {
            Some("text/csv") | Some("application/csv") => Some(Format::Csv),
            Some(XLSX_MEDIA_TYPE) => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// From a file name (the CLI).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Bounds on an uploaded register, checked while reading and before anything is
/// allocated for what a file merely declares: a hostile 1.5 KB XLSX can claim a sheet of
/// 17 billion cells or ten billion shared strings.
pub mod limits {
    /// Rows of a register, the header included (a neighbourhood has a few thousand people).
    pub const MAX_ROWS: usize = 50_000;
    /// Columns of a row (the template has 16).
    pub const MAX_COLUMNS: usize = 64;
    /// Characters of one cell.
    pub const MAX_CELL_CHARS: usize = 1_000;
    /// All parts of a workbook together, unpacked.
    pub const MAX_XLSX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
    /// Parts (files) inside a workbook.
    pub const MAX_XLSX_PARTS: usize = 1_000;
}

use limits::*;

use crate::i18n::Text;

/// All rows, the header first; blank rows dropped. An error says why the file is unreadable.
pub fn read_rows(format: Format, bytes: &[u8]) -> Result<Vec<Vec<String>>, Text> {
    let rows = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    Ok(rows
        .into_iter()
        .filter(|row| row.iter().any(|cell| !cell.trim().is_empty()))
        .collect())
}

fn too_many_rows() -> Text {
    Text::owned(
        format!("tệp có hơn {MAX_ROWS} dòng; hãy chia thành nhiều tệp"),
        format!("the file has more than {MAX_ROWS} rows; split it into several files"),
    )
}

fn too_many_columns(row: usize) -> Text {
    Text::owned(
        format!("dòng {row} có hơn {MAX_COLUMNS} cột"),
        format!("row {row} has more than {MAX_COLUMNS} columns"),
    )
}

fn cell_too_long(row: usize) -> Text {
    Text::owned(
        format!("một ô ở dòng {row} dài hơn {MAX_CELL_CHARS} ký tự"),
        format!("a cell in row {row} is longer than {MAX_CELL_CHARS} characters"),
    )
}

fn control_character(row: usize) -> Text {
    Text::owned(
        format!("một ô ở dòng {row} chứa ký tự điều khiển (như NUL)"),
        format!("a cell in row {row} holds a control character (such as NUL)"),
    )
}

/// A cell's text within the limits (see `limits`), or why not.
fn check_cell(text: &str, row: usize) -> Result<(), Text> {
    if text.chars().count() > MAX_CELL_CHARS {
        return Err(cell_too_long(row));
    }
    if text.chars().any(crate::problem::is_forbidden_control) {
        return Err(control_character(row));
    }
    Ok(())
}

fn broken_xlsx(reason: impl std::fmt::Display) -> Text {
    Text::owned(
        format!("tệp XLSX hỏng ({reason})"),
        format!("broken XLSX file ({reason})"),
    )
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, Text> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Text::owned(
            format!("tệp không phải UTF-8 ({e}); hãy lưu CSV với bảng mã UTF-8"),
            format!("the file is not UTF-8 ({e}); save the CSV as UTF-8"),
        )
    })?;
    // Spreadsheets in Vietnam often save CSV with semicolons; take the header's separator.
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut rows = Vec::new();
    for record in csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
    {
        let record = record.map_err(|e| {
            Text::owned(
                format!("CSV sai dạng ({e})"),
                format!("malformed CSV ({e})"),
            )
        })?;
        let row = rows.len() + 1;
        if row > MAX_ROWS {
            return Err(too_many_rows());
        }
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns(row));
        }
        for cell in record.iter() {
            check_cell(cell, row)?;
        }
        rows.push(record.iter().map(undo_neutralised).collect());
    }
    Ok(rows)
}

/// Our CSV exports put an apostrophe before text a spreadsheet would run as a formula
/// (`spreadsheet::neutralised`); an export imported again gets its text back.
fn undo_neutralised(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// The first worksheet of a workbook as rows of text cells, within the limits above (also
/// used for report templates).
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, Text> {
    check_workbook_container(bytes)?;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| broken_xlsx(e))?;
    let first = workbook.sheet_names().first().cloned().ok_or_else(|| {
        Text::new(
            "tệp không có trang tính nào",
            "the workbook has no worksheet",
        )
    })?;
    // Cell by cell, never the sheet's rectangle: calamine sizes a range from the extreme
    // cell positions (or the declared dimension) before filling it.
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(broken_xlsx)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(broken_xlsx)? {
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        let (row, col) = (row as usize, col as usize);
        if row >= MAX_ROWS {
            return Err(too_many_rows());
        }
        if col >= MAX_COLUMNS {
            return Err(too_many_columns(row + 1));
        }
        check_cell(&text, row + 1)?;
        if rows.len() <= row {
            rows.resize_with(row + 1, Vec::new);
        }
        let line = &mut rows[row];
        if line.len() <= col {
            line.resize(col + 1, String::new());
        }
        line[col] = text;
    }
    Ok(rows)
}

/// Checks a workbook's zip container before calamine opens it: a bounded number of parts
/// that unpack (really, not as declared) to a bounded size, and a shared-strings table
/// that declares no more strings than a sheet within the limits can hold (calamine
/// reserves memory for the declared count).
fn check_workbook_container(bytes: &[u8]) -> Result<(), Text> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(broken_xlsx)?;
    if zip.len() > MAX_XLSX_PARTS {
        return Err(broken_xlsx(format_args!(
            "more than {MAX_XLSX_PARTS} parts"
        )));
    }
    let mut budget = MAX_XLSX_UNPACKED_BYTES;
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).map_err(broken_xlsx)?;
        let shared_strings = part
            .name()
            .map_err(broken_xlsx)?
            .replace('\\', "/")
            .to_ascii_lowercase()
            .ends_with("sharedstrings.xml");
        let mut head = Vec::new();
        if shared_strings {
            (&mut part)
                .take(SHARED_STRINGS_HEAD)
                .read_to_end(&mut head)
                .map_err(broken_xlsx)?;
        }
        let rest = std::io::copy(
            &mut (&mut part).take((budget + 1).saturating_sub(head.len() as u64)),
            &mut std::io::sink(),
        )
        .map_err(broken_xlsx)?;
        let unpacked = head.len() as u64 + rest;
        if unpacked > budget {
            return Err(Text::owned(
                format!(
                    "tệp XLSX giải nén ra hơn {} MiB",
                    MAX_XLSX_UNPACKED_BYTES >> 20
                ),
                format!(
                    "the XLSX file unpacks to more than {} MiB",
                    MAX_XLSX_UNPACKED_BYTES >> 20
                ),
            ));
        }
        budget -= unpacked;
        if shared_strings {
            check_shared_strings_count(&head)?;
        }
    }
    Ok(())
}

/// How much of the shared-strings part is read to find its `<sst>` element.
const SHARED_STRINGS_HEAD: u64 = 64 * 1024;

fn check_shared_strings_count(head: &[u8]) -> Result<(), Text> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(broken_xlsx)?;
                    if attribute.key.local_name().as_ref() != "uniqueCount" {
                        continue;
                    }
                    let declared = attribute.value.trim().parse::<u64>().ok();
                    // A count calamine cannot parse is ignored by it too.
                    if declared.is_some_and(|n| n > (MAX_ROWS * MAX_COLUMNS) as u64) {
                        return Err(broken_xlsx(
                            "the shared-strings table declares more strings than a sheet holds",
                        ));
                    }
                }
                return Ok(());
            }
            Ok(Event::Eof) | Err(_) => {
                return Err(broken_xlsx(
                    "no shared-strings table at the start of its part",
                ))
            }
            _ => buf.clear(),
        }
    }
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|dt| dt.date().to_string())
            .unwrap_or_else(|| d.to_string()),
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e:?}"),
    }
}
