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

/// The path of the first worksheet: the first `<sheet>` of the workbook, through its
/// relationship.
fn first_sheet(parts: &[(String, Vec<u8>)]) -> Result<String, Fault> {
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
    let rels = part(parts, "xl/_rels/workbook.xml.rels").ok_or("no workbook relationships")?;
    let mut reader = Reader::from_reader(rels);
    loop {
        match reader.read_event_into(&mut buf).map_err(fault)? {
            Event::Start(e) | Event::Empty(e)
                if e.local_name().into_inner() == "Relationship"
                    && attribute(&e, "Id").as_deref() == Some(id.as_str()) =>
            {
                let target = attribute(&e, "Target").ok_or("a relationship without target")?;
                return Ok(match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_owned(),
                    None => format!("xl/{target}"),
                });
            }
            Event::Eof => return Err("the first sheet's part is not found".into()),
            _ => buf.clear(),
        }
    }
}

/// The shared strings, each as its whole text (rich-text runs joined).
fn shared_strings(parts: &[(String, Vec<u8>)]) -> Result<Vec<String>, Fault> {
    let Some(xml) = part(parts, "xl/sharedStrings.xml") else {
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
            Event::Text(t) if in_text && !in_phonetic => {
                current.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_text && !in_phonetic => {
                let name = r.xml10_content();
                current.push_str(&unescape_reference(&name));
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

/// `B7` → (column 1, row 6), zero-based.
fn parse_ref(reference: &str) -> Option<(usize, usize)> {
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

/// One `<c>` of the template, as read.
struct TemplateCell {
    col: usize,
    events: Vec<Event<'static>>,
    text: Option<String>,
    style: Option<String>,
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
        for event in &cell.events {
            match event {
                Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "c" => {
                    let mut moved = BytesStart::new("c");
                    for a in e.attributes().flatten() {
                        if a.key.into_inner() == "r" {
                            moved.push_attribute(("r", reference.as_str()));
                        } else {
                            moved.push_attribute(a);
                        }
                    }
                    let moved = if matches!(event, Event::Empty(_)) {
                        Event::Empty(moved)
                    } else {
                        Event::Start(moved)
                    };
                    writer.write_event(moved).map_err(fault)?;
                }
                other => writer.write_event(other.clone()).map_err(fault)?,
            }
        }
        return Ok(());
    }
    let mut start = BytesStart::new("c");
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
                .create_element("v")
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
            writer
                .create_element("is")
                .write_inner_content(|w| {
                    w.create_element("t")
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

/// Reads the cells of a `<row>` (the reader is just past its start).
fn read_row(
    reader: &mut Reader<&[u8]>,
    strings: &[String],
) -> Result<(Vec<TemplateCell>, Vec<Event<'static>>), Fault> {
    let mut cells = Vec::new();
    let mut other = Vec::new();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(fault)?
            .into_owned();
        match &event {
            Event::End(e) if e.local_name().into_inner() == "row" => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "c" => {
                let reference = attribute(e, "r").ok_or("a cell without its reference")?;
                let (col, _) = parse_ref(&reference).ok_or("an unreadable cell reference")?;
                let kind = attribute(e, "t");
                let style = attribute(e, "s");
                let mut events = vec![event.clone()];
                if matches!(event, Event::Start(_)) {
                    let mut depth = 1;
                    while depth > 0 {
                        let inner = reader
                            .read_event_into(&mut buf)
                            .map_err(fault)?
                            .into_owned();
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
                    events,
                    text,
                    style,
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
    let mut element = BytesStart::new("row");
    let number = (row + 1).to_string();
    for a in start.attributes().flatten() {
        match a.key.into_inner() {
            "r" => element.push_attribute(("r", number.as_str())),
            // `spans` is an optional hint of the columns used; leave it to the reader.
            "spans" => {}
            _ => element.push_attribute(a),
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

/// A merged range moved with the rows below the row line.
fn moved_range(range: &str, row_line: usize, repeats: usize) -> Option<String> {
    let (from, to) = range.split_once(':').unwrap_or((range, range));
    let (c1, r1) = parse_ref(from)?;
    let (c2, r2) = parse_ref(to)?;
    if repeats == 0 && (r1..=r2).contains(&row_line) {
        return None;
    }
    Some(format!(
        "{}:{}",
        cell_name(moved(r1, row_line, repeats), c1),
        cell_name(moved(r2, row_line, repeats), c2)
    ))
}

/// The sheet's XML filled: `filled` is the report's grid as `fill` made it (the row line
/// already repeated `repeats` times at `row_line`).
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
    let mut merges_seen: HashMap<String, ()> = HashMap::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(fault)?
            .into_owned();
        match &event {
            Event::Eof => break,
            Event::Empty(e) if e.local_name().into_inner() == "dimension" => {}
            Event::Start(e) if e.local_name().into_inner() == "row" => {
                let number: usize = attribute(e, "r")
                    .and_then(|r| r.parse().ok())
                    .ok_or("a row without its number")?;
                let row = number.checked_sub(1).ok_or("row 0")?;
                let start = e.clone();
                let (cells, other) = read_row(&mut reader, strings)?;
                if row == row_line {
                    for copy in 0..repeats {
                        let at = row_line + copy;
                        write_row(&mut writer, &start, at, &cells, &other, filled.get(at))?;
                    }
                } else {
                    let at = moved(row, row_line, repeats);
                    write_row(&mut writer, &start, at, &cells, &other, filled.get(at))?;
                }
            }
            Event::Empty(e) if e.local_name().into_inner() == "row" => {
                let number: usize = attribute(e, "r")
                    .and_then(|r| r.parse().ok())
                    .ok_or("a row without its number")?;
                let row = number.checked_sub(1).ok_or("row 0")?;
                let mut element = BytesStart::new("row");
                let at = (moved(row, row_line, repeats) + 1).to_string();
                for a in e.attributes().flatten() {
                    if a.key.into_inner() == "r" {
                        element.push_attribute(("r", at.as_str()));
                    } else {
                        element.push_attribute(a);
                    }
                }
                if row != row_line || repeats > 0 {
                    writer.write_event(Event::Empty(element)).map_err(fault)?;
                }
            }
            Event::Empty(e) if e.local_name().into_inner() == "mergeCell" => {
                let range = attribute(e, "ref").ok_or("a merge without its range")?;
                if let Some(range) = moved_range(&range, row_line, repeats) {
                    if merges_seen.insert(range.clone(), ()).is_none() {
                        let mut element = BytesStart::new("mergeCell");
                        element.push_attribute(("ref", range.as_str()));
                        writer.write_event(Event::Empty(element)).map_err(fault)?;
                    }
                }
            }
            other => writer.write_event(other.clone()).map_err(fault)?,
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
    let sheet = first_sheet(&parts)?;
    let strings = shared_strings(&parts)?;
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
    Ok(out.finish().map_err(fault)?.into_inner())
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
        assert_eq!(moved_range("A1:C1", 3, 4).as_deref(), Some("A1:C1"));
        assert_eq!(moved_range("A6:C6", 3, 4).as_deref(), Some("A9:C9"));
        assert_eq!(moved_range("A4:C4", 3, 0), None);
    }
}
