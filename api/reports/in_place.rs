//! Filling an uploaded workbook in place, so the report keeps the province's layout: its
//! fonts, borders, column widths, merged cells and every other sheet and part. Only the
//! first worksheet's XML is rewritten: a cell with placeholders gets its filled value (a
//! number or an inline string, with the cell's own style), the row line is repeated once
//! per area below, and the rows after it, their cells and the merged ranges that lie below
//! it move down. Formulas are kept as written (not re-pointed); the sheet's optional
//! `dimension` is dropped, as spreadsheet programs compute it.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use super::{cell_name, spans, Filled};

type Fault = String;

fn fault(what: impl std::fmt::Display) -> Fault {
    what.to_string()
}

/// The parts of a workbook by name.
fn parts(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Fault> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(fault)?;
    let mut parts = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).map_err(fault)?;
        let name = part.name().map_err(fault)?.to_string();
        let mut content = Vec::new();
        part.read_to_end(&mut content).map_err(fault)?;
        parts.push((name, content));
    }
    Ok(parts)
}

fn part<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    parts
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| c.as_slice())
}

fn attribute(start: &BytesStart, local: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .and_then(|a| {
            quick_xml::escape::unescape(&a.value)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The workbook's relationships: (type, resolved part name) by id.
fn relationships(parts: &[(String, Vec<u8>)]) -> Result<HashMap<String, (String, String)>, Fault> {
    let rels = part(parts, "xl/_rels/workbook.xml.rels").ok_or("no workbook relationships")?;
    let mut reader = Reader::from_reader(rels);
    let mut buf = Vec::new();
    let mut found = HashMap::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(fault)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "Relationship" => {
                if let (Some(id), Some(kind), Some(target)) = (
                    attribute(&e, "Id"),
                    attribute(&e, "Type"),
                    attribute(&e, "Target"),
                ) {
                    found.insert(id, (kind, resolve("xl/", &target)));
                }
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
        buf.clear();
    }
}

/// A relationship's target as a part name: absolute (`/xl/…`) or relative to `base`, with
/// `.`/`..` steps and `%XX` escapes undone.
fn resolve(base: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("{base}{target}"),
    };
    let mut steps: Vec<&str> = Vec::new();
    for step in joined.split('/') {
        match step {
            "" | "." => {}
            ".." => {
                steps.pop();
            }
            other => steps.push(other),
        }
    }
    let path = steps.join("/");
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap_or(path)
}

/// The part names of the first worksheet (the first `<sheet>` of the workbook) and of the
/// shared strings, if any.
fn first_sheet(parts: &[(String, Vec<u8>)]) -> Result<(String, Option<String>), Fault> {
    let workbook = part(parts, "xl/workbook.xml").ok_or("no workbook part")?;
    let mut reader = Reader::from_reader(workbook);
    let mut buf = Vec::new();
    let id = loop {
        match reader.read_event_into(&mut buf).map_err(fault)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "sheet" => {
                break attribute(&e, "id").ok_or("a sheet without a relationship")?;
            }
            Event::Eof => return Err("no sheet".into()),
            _ => buf.clear(),
        }
    };
    let rels = relationships(parts)?;
    let (_, sheet) = rels
        .get(&id)
        .ok_or("the first sheet's relationship is missing")?;
    if part(parts, sheet).is_none() {
        return Err(format!("the first sheet's part {sheet} is missing"));
    }
    let strings = rels
        .values()
        .find(|(kind, _)| kind.ends_with("/sharedStrings"))
        .map(|(_, name)| name.clone());
    Ok((sheet.clone(), strings))
}

/// The shared strings, each as its whole text (rich-text runs joined).
fn shared_strings(parts: &[(String, Vec<u8>)], name: Option<&str>) -> Result<Vec<String>, Fault> {
    let Some(xml) = name.and_then(|name| part(parts, name)) else {
        return Ok(Vec::new());
    };
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut strings = Vec::new();
    let (mut current, mut in_text, mut in_phonetic) = (String::new(), false, false);
    loop {
        match reader.read_event_into(&mut buf).map_err(fault)? {
            Event::Start(e) => match e.local_name().into_inner() {
                "si" => current.clear(),
                "t" => in_text = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().into_inner() {
                "si" => strings.push(std::mem::take(&mut current)),
                "t" => in_text = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(e) if e.local_name().into_inner() == "si" => strings.push(String::new()),
            Event::Text(t) if in_text && !in_phonetic => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text && !in_phonetic => {
                current.push_str(&unescape_reference(&r.xml10_content()));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(strings)
}

fn unescape_reference(name: &str) -> String {
    match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => other
            .strip_prefix("#x")
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| other.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_default(),
    }
}

/// `B7` → (column 1, row 6), zero-based; `$` signs are ignored.
fn parse_ref(reference: &str) -> Option<(usize, usize)> {
    let reference = reference.replace('$', "");
    let split = reference.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = reference.split_at(split);
    let mut col = 0usize;
    for b in letters.bytes() {
        if !b.is_ascii_uppercase() {
            return None;
        }
        col = col * 26 + (b - b'A' + 1) as usize;
    }
    let row: usize = digits.parse().ok()?;
    Some((col.checked_sub(1)?, row.checked_sub(1)?))
}

/// Where template row `row` (zero-based) goes: rows after the row line move by
/// `repeats - 1` (up by one when nothing repeats it).
fn moved(row: usize, row_line: usize, repeats: usize) -> usize {
    if row > row_line {
        (row + repeats).saturating_sub(1)
    } else {
        row
    }
}

/// The element name `local` with the prefix `like` is written with (`x:c` gives `x:v`).
fn named_like(like: &BytesStart, local: &str) -> String {
    match like.name().into_inner().split_once(':') {
        Some((prefix, _)) => format!("{prefix}:{local}"),
        None => local.to_owned(),
    }
}

/// `e` with its name (and prefix) and attributes, `key` set to `value`.
fn with_attribute(e: &BytesStart, key: &str, value: &str) -> BytesStart<'static> {
    let mut copy = e.clone().into_owned();
    copy.clear_attributes();
    let mut set = false;
    for a in e.attributes().flatten() {
        if a.key.into_inner() == key {
            copy.push_attribute((key, value));
            set = true;
        } else {
            copy.push_attribute(a);
        }
    }
    if !set {
        copy.push_attribute((key, value));
    }
    copy
}

/// One `<c>` of the template, as read.
struct TemplateCell {
    col: usize,
    start: BytesStart<'static>,
    events: Vec<Event<'static>>,
    text: Option<String>,
    style: Option<String>,
    formula: bool,
}

fn cell_text(events: &[Event<'static>], kind: Option<&str>, strings: &[String]) -> Option<String> {
    let mut value = String::new();
    let mut inside = false;
    for event in events {
        match event {
            Event::Start(e) if matches!(e.local_name().into_inner(), "v" | "t") => inside = true,
            Event::End(e) if matches!(e.local_name().into_inner(), "v" | "t") => inside = false,
            Event::Text(t) if inside => value.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => {
                value.push_str(&unescape_reference(&r.xml10_content()))
            }
            _ => {}
        }
    }
    match kind {
        Some("s") => strings.get(value.trim().parse::<usize>().ok()?).cloned(),
        _ => Some(value),
    }
}

fn write_cell(
    writer: &mut Writer<Vec<u8>>,
    cell: &TemplateCell,
    row: usize,
    filled: Option<&Filled>,
) -> Result<(), Fault> {
    let reference = cell_name(row, cell.col);
    let has_placeholder = cell.text.as_deref().is_some_and(|t| !spans(t).is_empty());
    if !has_placeholder {
        // As it was, at its new place.
        let moved = with_attribute(&cell.start, "r", &reference);
        let mut events = cell.events.iter();
        match events.next() {
            Some(Event::Empty(_)) => writer.write_event(Event::Empty(moved)).map_err(fault)?,
            _ => writer.write_event(Event::Start(moved)).map_err(fault)?,
        }
        for event in events {
            writer.write_event(event.clone()).map_err(fault)?;
        }
        return Ok(());
    }
    let mut start = cell.start.clone();
    start.clear_attributes();
    start.push_attribute(("r", reference.as_str()));
    if let Some(style) = &cell.style {
        start.push_attribute(("s", style.as_str()));
    }
    match filled {
        Some(Filled::Number(n)) => {
            writer
                .write_event(Event::Start(start.borrow()))
                .map_err(fault)?;
            writer
                .create_element(named_like(&start, "v"))
                .write_text_content(BytesText::new(&n.to_string()))
                .map_err(fault)?;
            writer
                .write_event(Event::End(start.to_end()))
                .map_err(fault)?;
        }
        Some(Filled::Text(text)) if !text.is_empty() => {
            start.push_attribute(("t", "inlineStr"));
            writer
                .write_event(Event::Start(start.borrow()))
                .map_err(fault)?;
            let text_name = named_like(&start, "t");
            writer
                .create_element(named_like(&start, "is"))
                .write_inner_content(|w| {
                    w.create_element(text_name.as_str())
                        .with_attribute(("xml:space", "preserve"))
                        .write_text_content(BytesText::new(text))?;
                    Ok(())
                })
                .map_err(fault)?;
            writer
                .write_event(Event::End(start.to_end()))
                .map_err(fault)?;
        }
        _ => writer.write_event(Event::Empty(start)).map_err(fault)?,
    }
    Ok(())
}

/// Reads the cells of a `<row>` (the reader is just past its start); a cell without its
/// reference is the one after the previous.
fn read_row(
    reader: &mut Reader<&[u8]>,
    strings: &[String],
) -> Result<(Vec<TemplateCell>, Vec<Event<'static>>), Fault> {
    let mut cells = Vec::new();
    let mut other = Vec::new();
    let mut buf = Vec::new();
    let mut next_col = 0;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(fault)?
            .into_owned();
        match &event {
            Event::End(e) if e.local_name().into_inner() == "row" => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "c" => {
                let col = match attribute(e, "r") {
                    Some(reference) => {
                        parse_ref(&reference)
                            .ok_or("an unreadable cell reference")?
                            .0
                    }
                    None => next_col,
                };
                next_col = col + 1;
                let kind = attribute(e, "t");
                let style = attribute(e, "s");
                let start = e.clone().into_owned();
                let mut events = vec![event.clone()];
                let mut formula = false;
                if matches!(event, Event::Start(_)) {
                    let mut depth = 1;
                    while depth > 0 {
                        let inner = reader
                            .read_event_into(&mut buf)
                            .map_err(fault)?
                            .into_owned();
                        match &inner {
                            Event::Start(x) | Event::Empty(x)
                                if x.local_name().into_inner() == "f" =>
                            {
                                formula = true;
                            }
                            _ => {}
                        }
                        match &inner {
                            Event::Start(_) => depth += 1,
                            Event::End(_) => depth -= 1,
                            Event::Eof => return Err("a cell is not closed".into()),
                            _ => {}
                        }
                        events.push(inner);
                    }
                }
                let text = cell_text(&events, kind.as_deref(), strings);
                cells.push(TemplateCell {
                    col,
                    start,
                    events,
                    text,
                    style,
                    formula,
                });
            }
            Event::Eof => return Err("a row is not closed".into()),
            _ => other.push(event),
        }
        buf.clear();
    }
    Ok((cells, other))
}

fn write_row(
    writer: &mut Writer<Vec<u8>>,
    start: &BytesStart,
    row: usize,
    cells: &[TemplateCell],
    other: &[Event<'static>],
    filled: Option<&Vec<Filled>>,
) -> Result<(), Fault> {
    let mut element = start.clone().into_owned();
    element.clear_attributes();
    let number = (row + 1).to_string();
    element.push_attribute(("r", number.as_str()));
    for a in start.attributes().flatten() {
        // `spans` is an optional hint of the columns used; leave it to the reader.
        if !matches!(a.key.into_inner(), "r" | "spans") {
            element.push_attribute(a);
        }
    }
    writer
        .write_event(Event::Start(element.borrow()))
        .map_err(fault)?;
    for cell in cells {
        write_cell(
            writer,
            cell,
            row,
            filled.and_then(|line| line.get(cell.col)),
        )?;
    }
    for event in other {
        writer.write_event(event.clone()).map_err(fault)?;
    }
    writer
        .write_event(Event::End(element.to_end()))
        .map_err(fault)?;
    Ok(())
}

/// A merged range after the rows move: one per copy when it lies on the row line, stretched
/// when it spans it, moved when below it; `None` parts vanish with a row line repeated zero
/// times.
fn moved_merges(range: &str, row_line: usize, repeats: usize) -> Option<Vec<String>> {
    let (from, to) = range.split_once(':').unwrap_or((range, range));
    let (c1, r1) = parse_ref(from)?;
    let (c2, r2) = parse_ref(to)?;
    let name = |a: usize, b: usize| format!("{}:{}", cell_name(a, c1), cell_name(b, c2));
    Some(if r1 == row_line && r2 == row_line {
        (0..repeats)
            .map(|i| name(row_line + i, row_line + i))
            .collect()
    } else if r1 <= row_line && row_line <= r2 {
        let end = (r2 + repeats).saturating_sub(1);
        if end < r1 || (end == r1 && c1 == c2) {
            Vec::new()
        } else {
            vec![name(r1, end)]
        }
    } else {
        vec![name(
            moved(r1, row_line, repeats),
            moved(r2, row_line, repeats),
        )]
    })
}

/// A `ref`/`sqref` list of ranges (space-separated) after the rows move.
fn moved_ranges(list: &str, row_line: usize, repeats: usize) -> String {
    list.split_whitespace()
        .map(|range| {
            let (from, to) = range.split_once(':').unwrap_or((range, range));
            match (parse_ref(from), parse_ref(to)) {
                (Some((c1, r1)), Some((c2, r2))) => {
                    let (r1, r2) = (
                        moved(r1, row_line, repeats),
                        if r2 >= row_line {
                            (r2 + repeats).saturating_sub(1).max(r1)
                        } else {
                            r2
                        },
                    );
                    if from == to && !range.contains(':') {
                        cell_name(r1, c1)
                    } else {
                        format!("{}:{}", cell_name(r1, c1), cell_name(r2, c2))
                    }
                }
                _ => range.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sheet's XML filled: `filled` is the report's grid as `fill` made it (the row line
/// already repeated `repeats` times at `row_line`). Refused: formulas on or below the row
/// line (they would keep pointing at the template's rows) and tables (their ranges live in
/// other parts).
fn fill_sheet(
    xml: &[u8],
    strings: &[String],
    filled: &[Vec<Filled>],
    row_line: usize,
    repeats: usize,
) -> Result<Vec<u8>, Fault> {
    let mut reader = Reader::from_reader(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len() * 2));
    let mut buf = Vec::new();
    let mut next_row = 0;
    let mut in_sheet_data = false;
    let mut merges: Option<(BytesStart<'static>, Vec<String>)> = None;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(fault)?
            .into_owned();
        let local = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e.local_name().into_inner().to_owned()),
            Event::End(e) => Some(e.local_name().into_inner().to_owned()),
            _ => None,
        };
        match (&event, local.as_deref()) {
            (Event::Eof, _) => break,
            (Event::Start(_) | Event::Empty(_), Some("tableParts")) => {
                return Err("the template sheet has tables".into());
            }
            (Event::Empty(_), Some("dimension")) => {}
            (Event::Start(_), Some("sheetData")) => {
                in_sheet_data = true;
                writer.write_event(event.clone()).map_err(fault)?;
            }
            (Event::End(_), Some("sheetData")) => {
                in_sheet_data = false;
                writer.write_event(event.clone()).map_err(fault)?;
            }
            (Event::Start(e) | Event::Empty(e), Some("row")) => {
                let row = match attribute(e, "r") {
                    Some(r) => r
                        .parse::<usize>()
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .ok_or("an unreadable row number")?,
                    None => next_row,
                };
                next_row = row + 1;
                let (cells, other) = if matches!(event, Event::Start(_)) {
                    read_row(&mut reader, strings)?
                } else {
                    (Vec::new(), Vec::new())
                };
                if row >= row_line && cells.iter().any(|c| c.formula) {
                    return Err(format!(
                        "a formula on or below the row line (row {})",
                        row + 1
                    ));
                }
                let copies: Vec<usize> = if row == row_line {
                    (0..repeats).map(|i| row_line + i).collect()
                } else {
                    vec![moved(row, row_line, repeats)]
                };
                for at in copies {
                    write_row(&mut writer, e, at, &cells, &other, filled.get(at))?;
                }
            }
            (Event::Start(e), Some("mergeCells")) => {
                merges = Some((e.clone().into_owned(), Vec::new()))
            }
            (Event::Empty(e), Some("mergeCell")) if merges.is_some() => {
                let range = attribute(e, "ref").ok_or("a merge without its range")?;
                let moved = moved_merges(&range, row_line, repeats).ok_or("an unreadable merge")?;
                if let Some((_, list)) = merges.as_mut() {
                    list.extend(moved);
                }
            }
            (Event::End(_), Some("mergeCells")) => {
                let (start, list) = merges.take().ok_or("a stray mergeCells end")?;
                if !list.is_empty() {
                    let count = list.len().to_string();
                    let start = with_attribute(&start, "count", &count);
                    writer
                        .write_event(Event::Start(start.borrow()))
                        .map_err(fault)?;
                    for range in &list {
                        let mut merge = BytesStart::new(named_like(&start, "mergeCell"));
                        merge.push_attribute(("ref", range.as_str()));
                        writer.write_event(Event::Empty(merge)).map_err(fault)?;
                    }
                    writer
                        .write_event(Event::End(start.to_end()))
                        .map_err(fault)?;
                }
            }
            (Event::Start(e) | Event::Empty(e), _) if !in_sheet_data && merges.is_none() => {
                // Ranges kept outside the cells (hyperlinks, conditional formats,
                // validations, filters, selections) move with the rows too.
                let mut element = e.clone().into_owned();
                for key in ["ref", "sqref"] {
                    if let Some(list) = attribute(&element, key) {
                        element =
                            with_attribute(&element, key, &moved_ranges(&list, row_line, repeats));
                    }
                }
                let event = if matches!(event, Event::Empty(_)) {
                    Event::Empty(element)
                } else {
                    Event::Start(element)
                };
                writer.write_event(event).map_err(fault)?;
            }
            _ if merges.is_some() => {}
            _ => writer.write_event(event.clone()).map_err(fault)?,
        }
        buf.clear();
    }
    Ok(writer.into_inner())
}

/// The template workbook with its first sheet filled.
pub fn fill_workbook(
    template: &[u8],
    filled: &[Vec<Filled>],
    row_line: usize,
    repeats: usize,
) -> Result<Vec<u8>, Fault> {
    let parts = parts(template)?;
    let (sheet, strings_part) = first_sheet(&parts)?;
    let strings = shared_strings(&parts, strings_part.as_deref())?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in &parts {
        out.start_file(name.as_str(), options).map_err(fault)?;
        if name.eq_ignore_ascii_case(&sheet) {
            let xml = fill_sheet(content, &strings, filled, row_line, repeats)?;
            out.write_all(&xml).map_err(fault)?;
        } else {
            out.write_all(content).map_err(fault)?;
        }
    }
    let bytes = out.finish().map_err(fault)?.into_inner();
    // What goes out must read back as a workbook.
    crate::imports::read::read_xlsx(&bytes).map_err(|reason| reason.en.into_owned())?;
    Ok(bytes)
}

/// Whether a template can be filled in place: a trial fill with its row line twice.
pub fn check(template: &[u8], grid: &super::Grid, row_line: usize) -> Result<(), Fault> {
    let mut trial: Vec<Vec<Filled>> = Vec::new();
    for (r, line) in grid.iter().enumerate() {
        let copy: Vec<Filled> = line.iter().map(|c| Filled::Text(c.clone())).collect();
        trial.push(copy.clone());
        if r == row_line {
            trial.push(copy);
        }
    }
    fill_workbook(template, &trial, row_line, 2).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_ranges_move_with_the_rows_below_the_row_line() {
        assert_eq!(parse_ref("B7"), Some((1, 6)));
        assert_eq!(parse_ref("AA1"), Some((26, 0)));
        assert_eq!(parse_ref("7B"), None);
        assert_eq!(moved(2, 3, 4), 2);
        assert_eq!(moved(5, 3, 4), 8);
        assert_eq!(moved(5, 3, 0), 4);
        assert_eq!(moved_merges("A1:C1", 3, 4), Some(vec!["A1:C1".to_owned()]));
        assert_eq!(moved_merges("A6:C6", 3, 4), Some(vec!["A9:C9".to_owned()]));
        assert_eq!(moved_merges("A4:C4", 3, 0), Some(vec![]));
        assert_eq!(
            moved_merges("A4:B4", 3, 2),
            Some(vec!["A4:B4".to_owned(), "A5:B5".to_owned()])
        );
        assert_eq!(moved_merges("A3:A5", 3, 3), Some(vec!["A3:A7".to_owned()]));
        assert_eq!(moved_ranges("B2 D6:E7", 3, 4), "B2 D9:E10");
        assert_eq!(
            resolve("xl/", "../xl/worksheets/sheet%201.xml"),
            "xl/worksheets/sheet 1.xml"
        );
        assert_eq!(
            resolve("xl/", "/xl/worksheets/a.xml"),
            "xl/worksheets/a.xml"
        );
    }
}
