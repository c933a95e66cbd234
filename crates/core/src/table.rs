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
            let line = 1 + text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count();
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
    pub fn from_xlsx(bytes: &[u8]) -> Result<Table, LineError> {
        use calamine::Reader;
        let whole = |message: String| LineError {
            line: 0,
            column: None,
            message,
        };
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
}
