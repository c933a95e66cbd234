//! Tabular imports: CSV or XLSX bytes → rows of named cells with their line numbers, so that
//! every import (premises, lists, parties, holders …) reports errors as "line N, column C: why"
//! and refuses the whole file when any line is wrong.

use std::collections::HashMap;
use std::fmt;
use std::io::Cursor;

use serde::Serialize;

/// One problem in an imported file: the line (1-based, the header is line 1), the column and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A file's rows, with the header's column names (trimmed, lower-case).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// One data row: its line in the file and its cells by column name.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    cells: HashMap<String, String>,
}

impl Row {
    /// A row from `(column, value)` pairs (for building tables in code).
    pub fn new(line: usize, cells: impl IntoIterator<Item = (String, String)>) -> Row {
        Row {
            line,
            cells: cells.into_iter().collect(),
        }
    }

    /// The trimmed cell, `None` when the column is absent or the cell is empty. A cell that our
    /// own export guarded against formula injection (`'=…`) reads back as it was stored.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .get(column)
            .map(|s| unguard(s.trim()).trim())
            .filter(|s| !s.is_empty())
    }

    /// An error about `column` on this row.
    pub fn error(&self, column: &str, message: impl Into<String>) -> LineError {
        LineError {
            line: self.line,
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }

    /// The cell, or an error saying it is required.
    pub fn required(&self, column: &str) -> Result<&str, LineError> {
        self.get(column)
            .ok_or_else(|| self.error(column, "is empty; every row needs a value here"))
    }

    /// The cell parsed with `parse`, `None` when empty; `what` names the expected form.
    pub fn parse_opt<T>(
        &self,
        column: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, LineError> {
        match self.get(column) {
            None => Ok(None),
            Some(s) => parse(s)
                .map(Some)
                .ok_or_else(|| self.error(column, format!("'{s}' is not {what}"))),
        }
    }
}

impl Table {
    /// Parse CSV text (UTF-8, optional BOM, comma-separated, first line the header).
    pub fn from_csv(text: &str) -> Result<Table, LineError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let columns = reader
            .headers()
            .map_err(|e| LineError {
                line: 1,
                column: None,
                message: format!("the header cannot be read: {e}"),
            })?
            .iter()
            .map(normalise)
            .collect::<Vec<_>>();
        let mut rows = Vec::new();
        // Lines are counted as the records go (never again from the start of the text), so
        // reading stays linear in the size of the file.
        let (mut counted_to, mut newlines) = (0usize, 0usize);
        for record in reader.records() {
            let record = record.map_err(|e| LineError {
                line: e.position().map(|p| p.line() as usize).unwrap_or(0),
                column: None,
                message: format!("not valid CSV: {e}"),
            })?;
            // The line where the record starts, counted from its byte offset (the reader's own
            // line count skips blank lines).
            let mut start = record
                .position()
                .map(|p| p.byte() as usize)
                .unwrap_or(0)
                .min(text.len());
            while matches!(text.as_bytes().get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            if start > counted_to {
                newlines += text.as_bytes()[counted_to..start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                counted_to = start;
            }
            let line = 1 + newlines;
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            rows.push(Row::new(
                line,
                columns.iter().cloned().zip(record.iter().map(str::to_owned)),
            ));
        }
        Ok(Table { columns, rows })
    }

    /// Parse the first sheet of an XLSX (or XLS/ODS) workbook; line numbers are sheet rows.
    ///
    /// A workbook is a zip of XML parts: a small upload can unpack to gigabytes, or name a cell
    /// at XFD1048576 so that a reader allocating the sheet's whole rectangle takes all memory.
    /// So the parts' real unpacked size is capped ([`MAX_UNZIPPED_BYTES`]), an XLSX sheet is
    /// read cell by cell (never as a rectangle) and its rows and columns are capped
    /// ([`MAX_ROWS`], [`MAX_COLUMNS`]), each with an error saying what to do.
    pub fn from_xlsx(bytes: &[u8]) -> Result<Table, LineError> {
        if bytes.starts_with(b"PK\x03\x04") {
            check_unzipped_size(bytes)?;
            if let Ok(book) = calamine::Xlsx::new(Cursor::new(bytes)) {
                return xlsx_cells(book);
            }
        }
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| whole(format!("not a readable spreadsheet: {e}")))?;
        let sheet = book
            .worksheet_range_at(0)
            .ok_or_else(|| whole("the workbook has no sheet".into()))?
            .map_err(|e| whole(format!("the first sheet cannot be read: {e}")))?;
        let (top, _) = sheet.start().unwrap_or((0, 0));
        let mut lines = sheet.rows();
        let columns: Vec<String> = lines
            .next()
            .map(|r| r.iter().map(|c| normalise(&cell_text(c))).collect())
            .unwrap_or_default();
        let mut rows = Vec::new();
        for (i, r) in lines.enumerate() {
            let cells: Vec<String> = r.iter().map(cell_text).collect();
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            rows.push(Row::new(top as usize + i + 2, columns.iter().cloned().zip(cells)));
        }
        Ok(Table { columns, rows })
    }

    /// Parse by content: XLSX/XLS/ODS when the bytes are a zip or OLE file, else UTF-8 CSV.
    pub fn from_bytes(bytes: &[u8]) -> Result<Table, LineError> {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Table::from_xlsx(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| LineError {
            line: 0,
            column: None,
            message: format!("the file is neither a spreadsheet nor UTF-8 text ({e}); save it as CSV UTF-8 or XLSX"),
        })?;
        Table::from_csv(text)
    }

    /// An error listing the columns that `required` names but the header lacks.
    pub fn require_columns(&self, required: &[&str]) -> Result<(), LineError> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !self.columns.iter().any(|h| h == c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(LineError {
            line: 1,
            column: None,
            message: format!(
                "the header lacks the column(s) {}; the file needs {}",
                missing.join(", "),
                required.join(", ")
            ),
        })
    }
}

/// Characters that make a spreadsheet read a cell as a formula (or strip what precedes one).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as it may safely go into a CSV that someone opens in a spreadsheet: text that Excel,
/// WPS or LibreOffice would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
/// prefixed with `'`, which spreadsheets show as text (OWASP's advice). Numbers, negative ones
/// included, stay as they are; [`Row::get`] removes the guard again on import.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if FORMULA_START.contains(&c) && !plain_number(cell) => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// `-3.5`, `+86`, `1e6`: a number, which a spreadsheet reads as a number (not `-inf` or `NaN`).
fn plain_number(cell: &str) -> bool {
    let t = cell.trim();
    t.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'))
        && t.parse::<f64>().is_ok()
}

fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) && !plain_number(rest) => rest,
        _ => cell,
    }
}

/// The one CSV writer of every export: `csv::Writer` with each cell [`guard`]ed, so no export
/// can carry a formula into a spreadsheet.
pub struct CsvWriter<W: std::io::Write> {
    inner: csv::Writer<W>,
}

impl<W: std::io::Write> CsvWriter<W> {
    pub fn from_writer(w: W) -> CsvWriter<W> {
        CsvWriter {
            inner: csv::Writer::from_writer(w),
        }
    }

    /// Write one record, each cell guarded.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record.into_iter().map(|c| guard(c.as_ref()).into_owned()).collect();
        self.inner.write_record(&cells)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    /// Flush and give back the writer.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// The most a spreadsheet's parts may unpack to, all together (64 MiB: a sheet of 200,000
/// rows of ten short cells unpacks to about 40 MiB).
pub const MAX_UNZIPPED_BYTES: u64 = 64 << 20;
/// The most rows a sheet may have (an import larger than this is split, or sent as CSV).
pub const MAX_ROWS: u32 = 200_000;
/// The most columns a sheet may have.
pub const MAX_COLUMNS: u32 = 256;

/// An error about the whole file.
fn whole(message: String) -> LineError {
    LineError {
        line: 0,
        column: None,
        message,
    }
}

/// Refuse a zip whose parts unpack to more than [`MAX_UNZIPPED_BYTES`], counting the bytes
/// that really come out (a zip's declared sizes can lie).
fn check_unzipped_size(bytes: &[u8]) -> Result<(), LineError> {
    check_unzipped_size_below(bytes, MAX_UNZIPPED_BYTES)
}

fn check_unzipped_size_below(bytes: &[u8], limit: u64) -> Result<(), LineError> {
    use std::io::Read;
    let too_big = || {
        whole(format!(
            "the spreadsheet unpacks to more than {} MiB; split it into smaller files or save it as CSV",
            limit >> 20
        ))
    };
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| whole(format!("not a readable spreadsheet: {e}")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip
            .by_index(i)
            .map_err(|e| whole(format!("not a readable spreadsheet: {e}")))?;
        let room = limit - total;
        let n = std::io::copy(&mut part.take(room + 1), &mut std::io::sink())
            .map_err(|e| whole(format!("not a readable spreadsheet: {e}")))?;
        total += n;
        if total > limit {
            return Err(too_big());
        }
    }
    Ok(())
}

/// The first sheet of an XLSX workbook, read cell by cell: the header is the first row that has
/// a cell, columns run from the leftmost to the rightmost cell, line numbers are sheet rows.
fn xlsx_cells(mut book: calamine::Xlsx<Cursor<&[u8]>>) -> Result<Table, LineError> {
    use calamine::Reader;
    use std::collections::BTreeMap;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| whole("the workbook has no sheet".into()))?;
    let mut reader = book
        .worksheet_cells_reader(&name)
        .map_err(|e| whole(format!("the first sheet cannot be read: {e}")))?;
    let mut by_row: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let (mut left, mut right) = (u32::MAX, 0u32);
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| whole(format!("the first sheet cannot be read: {e}")))?
    {
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS {
            return Err(whole(format!(
                "the sheet has more than {MAX_ROWS} rows (a cell on row {}); split it into smaller files",
                row + 1
            )));
        }
        if col >= MAX_COLUMNS {
            return Err(whole(format!(
                "the sheet has more than {MAX_COLUMNS} columns (a cell in column {}); keep only the columns the import needs",
                col + 1
            )));
        }
        let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
        left = left.min(col);
        right = right.max(col);
        by_row.entry(row).or_default().push((col, text));
    }
    let mut lines = by_row.into_iter();
    let Some((_, header)) = lines.next() else {
        return Ok(Table::default());
    };
    let width = (right - left + 1) as usize;
    let spread = |cells: Vec<(u32, String)>| {
        let mut out = vec![String::new(); width];
        for (col, text) in cells {
            out[(col - left) as usize] = text;
        }
        out
    };
    let columns: Vec<String> = spread(header).iter().map(|c| normalise(c)).collect();
    let mut rows = Vec::new();
    for (row, cells) in lines {
        let cells = spread(cells);
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(Row::new(row as usize + 1, columns.iter().cloned().zip(cells)));
    }
    Ok(Table { columns, rows })
}

fn normalise(name: &str) -> String {
    name.trim().to_lowercase()
}

fn cell_text(d: &calamine::Data) -> String {
    match d {
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_carry_no_formula_and_read_back_unchanged() {
        let cells = [
            "=HYPERLINK(\"http://evil\")",
            "+1 555",
            "-cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\t=1",
            "-3.5",
            "+86",
            "普通文本",
            "-inf",
            "",
        ];
        let mut w = CsvWriter::from_writer(Vec::new());
        w.write_record(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
            .unwrap();
        w.write_record(cells).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("\"'=HYPERLINK("), "{line}");
        assert!(
            line.contains(",'+1 555,") && line.contains(",'-cmd|") && line.contains(",'@SUM(A1),"),
            "{line}"
        );
        assert!(
            line.contains(",-3.5,+86,普通文本,'-inf,"),
            "numbers stay numbers: {line}"
        );
        let table = Table::from_csv(&text).unwrap();
        let row = &table.rows[0];
        for (column, cell) in ["a", "b", "c", "d", "f", "g", "h"]
            .iter()
            .zip([cells[0], cells[1], cells[2], cells[3], cells[5], cells[6], cells[7]])
        {
            assert_eq!(row.get(column), Some(cell), "{column}");
        }
        assert_eq!(
            row.get("e"),
            Some("=1"),
            "a tab is whitespace, trimmed on import as before"
        );
        assert_eq!(
            guard("'=x"),
            "'=x",
            "a cell that starts with a quote already is left alone"
        );
    }

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let t = Table::from_csv("\u{feff}Code, Name\n1,a\n\n2,\"b\nc\"\n3,d\n").unwrap();
        assert_eq!(t.columns, ["code", "name"]);
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 6]);
        assert_eq!(t.rows[1].get("name"), Some("b\nc"));
        assert_eq!(t.rows[0].get("missing"), None);
        let e = t.rows[2]
            .parse_opt("name", "a number", |s| s.parse::<i32>().ok())
            .unwrap_err();
        assert_eq!(e.to_string(), "line 6, column name: 'd' is not a number");
        let e = t.require_columns(&["code", "area"]).unwrap_err();
        assert!(e.message.contains("lacks the column(s) area"), "{e}");
    }

    #[test]
    fn xlsx_rows_are_read_by_content() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(0, 0, "Code").unwrap();
        sheet.write(0, 1, "Area").unwrap();
        sheet.write(1, 0, "A-1").unwrap();
        sheet.write(1, 1, 85).unwrap();
        sheet.write(3, 0, "A-2").unwrap();
        sheet.write(3, 1, 12.5).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let t = Table::from_bytes(&bytes).unwrap();
        assert_eq!(t.columns, ["code", "area"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!((t.rows[0].line, t.rows[0].get("area")), (2, Some("85")));
        assert_eq!((t.rows[1].line, t.rows[1].get("area")), (4, Some("12.5")));
        assert!(Table::from_bytes(&[0xff, 0xfe, 0]).is_err());
    }

    #[test]
    fn a_sheet_naming_a_far_cell_is_refused_without_allocating_its_rectangle() {
        for (row, col, says) in [
            (1_048_575, 0, "more than 200000 rows"),
            (1, 16_383, "more than 256 columns"),
        ] {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.write(0, 0, "code").unwrap();
            sheet.write(row, col, "x").unwrap();
            let bytes = book.save_to_buffer().unwrap();
            let e = Table::from_bytes(&bytes).unwrap_err();
            assert!(e.message.contains(says), "{e}");
        }
        // Rows and columns within the limits, the header not in A1: read as before.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(2, 1, "Code").unwrap();
        sheet.write(2, 3, "Area").unwrap();
        sheet.write(3, 1, "A-1").unwrap();
        sheet.write(199_999, 3, 7).unwrap();
        let t = Table::from_bytes(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(t.columns, ["code", "", "area"]);
        assert_eq!((t.rows[0].line, t.rows[0].get("code")), (4, Some("A-1")));
        assert_eq!((t.rows[1].line, t.rows[1].get("area")), (200_000, Some("7")));
    }

    #[test]
    fn a_zip_that_unpacks_beyond_the_limit_is_refused() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", deflate).unwrap();
        zip.write_all(&vec![b' '; 3 << 20]).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
        let e = check_unzipped_size_below(&bytes, 2 << 20).unwrap_err();
        assert!(e.message.contains("unpacks to more than 2 MiB"), "{e}");
        assert!(check_unzipped_size_below(&bytes, 4 << 20).is_ok());
    }

    #[test]
    fn csv_line_numbers_stay_right_over_many_lines() {
        let mut text = String::from("code,area\n");
        for i in 0..5000 {
            text.push_str(&format!("U{i},{i}\n"));
            if i % 1000 == 0 {
                text.push('\n');
            }
        }
        text.push_str("\"quoted\nacross\",1\nlast,2\n");
        let t = Table::from_csv(&text).unwrap();
        assert_eq!(t.rows.len(), 5002);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!((t.rows[1].line, t.rows[1].get("code")), (4, Some("U1")));
        assert_eq!((t.rows[4999].line, t.rows[4999].get("code")), (5006, Some("U4999")));
        assert_eq!(t.rows[5000].line, 5007);
        assert_eq!((t.rows[5001].line, t.rows[5001].get("code")), (5009, Some("last")));
    }
}
