//! `gongzhi cases export` and `gongzhi cases import`: cases as CSV or XLSX, for the spreadsheets
//! staff work in. Export writes one row per case; import checks every row as the web intake does
//! (placement with the same point lookup, `case::collect`) and stores all rows in one
//! transaction, or none when any row is refused.

use gongzhi_core::territory::CityCode;
use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use gongzhi_app::cases::CaseRow;
use gongzhi_app::cases::NewCase;
use gongzhi_app::AppState;
use gongzhi_core::case::{self, CaseEvent, CaseSource, Intake};
use gongzhi_core::org::Role;
use gongzhi_core::spatial::Crs;
use indicatif::{ProgressBar, ProgressStyle};

/// The columns of an export, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "state",
    "source",
    "category",
    "category_name",
    "condition",
    "description",
    "grid",
    "area",
    "lng",
    "lat",
    "unit",
    "deadline",
    "created",
    "closed",
    "close_kind",
    "reworks",
    "returns",
    "extensions",
    "satisfaction",
];

/// The rows an XLSX sheet holds, header included.
const XLSX_MAX_ROWS: u64 = 1_048_576;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// From `--format`, else the output file's extension, else CSV.
    pub fn choose(flag: Option<&str>, file: Option<&Path>) -> Result<Format> {
        let ext = file
            .and_then(|f| f.extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match flag.map(str::to_ascii_lowercase).as_deref().or(ext.as_deref()) {
            Some("xlsx") => Ok(Format::Xlsx),
            Some("csv") | None => Ok(Format::Csv),
            Some(other) if flag.is_some() => bail!("unknown format {other:?}: use csv or xlsx"),
            Some(_) => Ok(Format::Csv),
        }
    }
}

fn cst() -> FixedOffset {
    gongzhi_core::calendar::china_time()
}

/// A timestamp in Beijing time, `YYYY-MM-DD HH:MM:SS`.
fn beijing(ms: Option<i64>) -> String {
    ms.and_then(|ms| cst().timestamp_millis_opt(ms).single())
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Unix ms of Beijing midnight of a day.
fn day_start(d: NaiveDate) -> i64 {
    gongzhi_core::calendar::china_day_start_ms(d)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Takes the rows of an export; an empty row ends it (flush, save).
type Sink = Box<dyn FnMut(&[Cell]) -> Result<()>>;

/// One exported cell: text or a number.
enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

fn export_row(row: &CaseRow, names: &HashMap<String, String>) -> Vec<Cell> {
    let c = &row.case;
    let t = |s: &str| Cell::Text(s.to_owned());
    vec![
        Cell::Number(c.id.0 as f64),
        t(c.state.as_str()),
        t(c.source.map(|s| s.as_str()).unwrap_or("")),
        t(&c.category),
        t(names.get(&c.category).map(String::as_str).unwrap_or("")),
        t(&c.condition),
        t(&c.description),
        t(c.grid.as_deref().unwrap_or("")),
        t(&row.area),
        Cell::Number(c.lng),
        Cell::Number(c.lat),
        t(c.unit_name.as_deref().unwrap_or("")),
        Cell::Text(beijing(c.deadline_ms)),
        Cell::Text(beijing(Some(row.created_at))),
        Cell::Text(beijing(c.closed_at_ms)),
        t(c.close_kind.map(|k| k.as_str()).unwrap_or("")),
        Cell::Number(f64::from(c.reworks)),
        Cell::Number(f64::from(c.returns)),
        Cell::Number(f64::from(c.extensions)),
        t(c.evaluation
            .and_then(|e| e.satisfaction)
            .map(|s| s.as_str())
            .unwrap_or("")),
    ]
}

/// `gongzhi cases export`.
pub async fn export(
    state: &AppState,
    city: CityCode,
    format: Format,
    output: Option<&Path>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<()> {
    let range = match (from, to) {
        (None, None) => None,
        (f, t) => Some((
            f.map_or(i64::MIN, day_start),
            t.and_then(|d| d.succ_opt()).map_or(i64::MAX, day_start),
        )),
    };
    let total = gongzhi_app::cases::count_cases(state, city, range).await?;
    if format == Format::Xlsx && total as u64 >= XLSX_MAX_ROWS {
        bail!("{total} cases do not fit in one XLSX sheet (at most {XLSX_MAX_ROWS} rows): export as CSV, or a shorter period with --from/--to");
    }
    if format == Format::Xlsx && output.is_none() {
        bail!("an XLSX export needs a file: -o FILE.xlsx");
    }
    let cat = gongzhi_app::cases::catalogue(state, city).await?;
    let names: HashMap<String, String> = cat.iter().map(|c| (c.code.clone(), c.name.clone())).collect();
    let pb = bar(total as u64, "exporting cases");
    if output.is_none() {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut sink: Sink = match (format, output) {
        (Format::Csv, Some(path)) => {
            let mut file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            // A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
            std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())?;
            let mut w = gongzhi_core::table::CsvWriter::from_writer(std::io::BufWriter::new(file));
            w.write_record(EXPORT_COLUMNS)?;
            Box::new(move |cells: &[Cell]| {
                if cells.is_empty() {
                    w.flush()?;
                } else {
                    w.write_record(cells.iter().map(Cell::text))?;
                }
                Ok(())
            })
        }
        (Format::Csv, None) => {
            let mut w = gongzhi_core::table::CsvWriter::from_writer(std::io::stdout());
            w.write_record(EXPORT_COLUMNS)?;
            Box::new(move |cells: &[Cell]| {
                if cells.is_empty() {
                    w.flush()?;
                } else {
                    w.write_record(cells.iter().map(Cell::text))?;
                }
                Ok(())
            })
        }
        (Format::Xlsx, Some(path)) => {
            let path = path.to_owned();
            let mut book = rust_xlsxwriter::Workbook::new();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let mut n: u32 = 0;
            {
                let sheet = book.add_worksheet_with_constant_memory();
                sheet.set_name("cases")?;
                for (i, h) in EXPORT_COLUMNS.iter().enumerate() {
                    sheet.write_string_with_format(0, i as u16, *h, &bold)?;
                }
                sheet.set_column_width(6, 60)?;
                sheet.set_freeze_panes(1, 0)?;
            }
            Box::new(move |cells: &[Cell]| {
                if cells.is_empty() {
                    book.save(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    return Ok(());
                }
                n += 1;
                let sheet = book.worksheet_from_index(0)?;
                for (i, c) in cells.iter().enumerate() {
                    match c {
                        Cell::Number(x) => {
                            sheet.write_number(n, i as u16, *x)?;
                        }
                        Cell::Text(s) if !s.is_empty() => {
                            sheet.write_string(n, i as u16, s)?;
                        }
                        Cell::Text(_) => {}
                    }
                }
                Ok(())
            })
        }
        (Format::Xlsx, None) => unreachable!("checked above"),
    };
    let mut after = 0;
    let mut written = 0u64;
    loop {
        let page = gongzhi_app::cases::cases_after(state, city, after, 2000, range).await?;
        let Some(last) = page.last() else { break };
        after = last.case.id.0;
        for row in &page {
            match sink(&export_row(row, &names)) {
                // The reader of stdout went away (`… | head`): stop quietly.
                Err(e) if closed_pipe(&e) => return Ok(()),
                r => r?,
            }
        }
        written += page.len() as u64;
        pb.set_position(written);
    }
    match sink(&[]) {
        Err(e) if closed_pipe(&e) => return Ok(()),
        r => r?,
    }
    pb.finish_and_clear();
    if let Some(path) = output {
        println!("exported {written} cases to {}", path.display());
    }
    Ok(())
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    let io =
        e.downcast_ref::<std::io::Error>()
            .or_else(|| match e.downcast_ref::<csv::Error>().map(csv::Error::kind) {
                Some(csv::ErrorKind::Io(io)) => Some(io),
                _ => None,
            });
    io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// A row of an import file: its spreadsheet row number and its cells by column name.
struct Row {
    number: usize,
    cells: HashMap<String, String>,
}

impl Row {
    fn get(&self, col: &str) -> Option<&str> {
        self.cells.get(col).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

fn header(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()
}

fn read_csv(path: &Path) -> Result<Vec<Row>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let names: Vec<String> = r.headers()?.iter().map(header).collect();
    check_columns(&names, path)?;
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {} is not valid CSV", path.display(), i + 2))?;
        let number = rec.position().map_or(i + 2, |p| p.line() as usize);
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells = names.iter().cloned().zip(rec.iter().map(str::to_owned)).collect();
        rows.push(Row { number, cells });
    }
    Ok(rows)
}

fn check_columns(names: &[String], path: &Path) -> Result<()> {
    let missing: Vec<&str> = ["condition", "description", "lng", "lat"]
        .into_iter()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: refused, nothing was imported: the first row must name the columns; missing: {} \
             (columns: condition, description, lng, lat, and optionally source, reported_at, contact_name, contact_phone, crs)",
            path.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

fn cell_text(d: &calamine::Data) -> String {
    match d {
        calamine::Data::DateTime(t) => t
            .as_datetime()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

fn read_xlsx(path: &Path) -> Result<Vec<Row>> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(path).with_context(|| format!("cannot read {}", path.display()))?;
    let range = book
        .worksheet_range_at(0)
        .with_context(|| format!("{} has no worksheet", path.display()))?
        .with_context(|| format!("cannot read the first worksheet of {}", path.display()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows_iter = range.rows();
    let names: Vec<String> = rows_iter
        .next()
        .map(|r| r.iter().map(|c| header(&cell_text(c))).collect())
        .unwrap_or_default();
    check_columns(&names, path)?;
    let mut rows = Vec::new();
    for (i, r) in rows_iter.enumerate() {
        let cells: HashMap<String, String> = names.iter().cloned().zip(r.iter().map(cell_text)).collect();
        if cells.values().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(Row {
            number: first_row + i + 2,
            cells,
        });
    }
    Ok(rows)
}

/// A report time: Beijing local time (`2025-03-04 10:22[:05]`, `2025/03/04 10:22`, a date) or
/// RFC 3339 with its offset.
fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let local = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        ["%Y-%m-%d", "%Y/%m/%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    cst().from_local_datetime(&local).single().map(|t| t.timestamp_millis())
}

/// Check one row and turn it into a new case, or say why not.
async fn check_row(
    state: &AppState,
    city: CityCode,
    cat: &gongzhi_core::catalogue::Catalogue,
    row: &Row,
    register: bool,
    now: i64,
) -> std::result::Result<NewCase, String> {
    let number = |col: &str| -> std::result::Result<f64, String> {
        let v = row.get(col).ok_or_else(|| format!("{col} is empty"))?;
        v.parse::<f64>().map_err(|_| format!("{col} {v:?} is not a number"))
    };
    let condition = row.get("condition").ok_or("condition is empty")?.to_owned();
    let description = row.get("description").ok_or("description is empty")?.to_owned();
    let (lng, lat) = (number("lng")?, number("lat")?);
    let source = match row.get("source") {
        Some(s) => s.parse::<CaseSource>().map_err(|e| e.to_string())?,
        None => CaseSource::Hotline,
    };
    let at_ms = match row.get("reported_at").or_else(|| row.get("created")) {
        Some(s) => {
            let t = parse_time(s).ok_or_else(|| {
                format!("reported_at {s:?} is not a time (use 2025-03-04 10:22 in Beijing time, or RFC 3339)")
            })?;
            if t > now + 5 * 60_000 {
                return Err(format!("reported_at {s} is in the future"));
            }
            Some(t)
        }
        None => None,
    };
    let (name, phone) = (row.get("contact_name"), row.get("contact_phone"));
    if let Some(p) = phone {
        gongzhi_core::org::check_phone(p).map_err(|e| e.to_string())?;
    }
    let crs: Crs = row
        .get("crs")
        .unwrap_or("wgs84")
        .parse()
        .map_err(|e: gongzhi_core::DomainError| e.to_string())?;
    let place = gongzhi_app::territory::locate_for_intake(state, city, crs, lng, lat)
        .await
        .map_err(|e| e.message)?;
    let intake = Intake {
        source,
        category: row.get("category").unwrap_or("").to_owned(),
        condition,
        description,
        lng: place.lng,
        lat: place.lat,
        grid: place.grid.as_ref().map(|g| g.code.clone()),
        community: place.community.as_ref().map(|c| c.code.clone()),
    };
    let collected = case::collect(intake, Role::Acceptor, cat).map_err(|e| e.to_string())?;
    Ok(NewCase {
        collected,
        then: if register {
            vec![CaseEvent::Registered]
        } else {
            Vec::new()
        },
        area: place.responsible[..place.responsible.len().min(12)].to_owned(),
        reporter: None,
        contact: (name.is_some() || phone.is_some()).then(|| (name.map(str::to_owned), phone.map(str::to_owned))),
        actor: None,
        role: Role::Acceptor,
        at_ms,
    })
}

/// `gongzhi cases import FILE`: every row checked first; all stored in one transaction, or none.
/// Rows are keyed by [`natural_key`]: a row whose case an earlier import created is left alone
/// (so importing a file twice creates each case once), and a file naming one case twice is
/// refused with both rows.
pub async fn import(state: &AppState, city: CityCode, file: &Path, register: bool) -> Result<()> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let rows = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => read_xlsx(file)?,
        _ => read_csv(file)?,
    };
    if rows.is_empty() {
        bail!("{}: no rows to import", file.display());
    }
    let cat = gongzhi_app::cases::catalogue(state, city).await?;
    let now = gongzhi_app::now_ms();
    let pb = bar(rows.len() as u64, "checking rows");
    let mut cases = Vec::with_capacity(rows.len());
    let mut refused = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        let key = natural_key(row);
        if let Some(first) = seen.get(&key) {
            refused.push((
                row.number,
                format!(
                    "same case as row {first} ({}); a file names each case once",
                    if key.starts_with("id:") {
                        "the same external_id"
                    } else {
                        "no external_id, and the same source, category, condition, description, place and time"
                    }
                ),
            ));
            pb.inc(1);
            continue;
        }
        seen.insert(key.clone(), row.number);
        match check_row(state, city, &cat, row, register, now).await {
            Ok(c) => cases.push((key, c)),
            Err(reason) => refused.push((row.number, reason)),
        }
        pb.inc(1);
    }
    if !refused.is_empty() {
        pb.abandon();
        eprintln!("{}: refused, nothing was imported:", file.display());
        for (n, reason) in &refused {
            eprintln!("  row {n}: {reason}");
        }
        bail!("{} of {} row(s) refused", refused.len(), rows.len());
    }
    pb.finish_and_clear();
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("storing {} cases in one transaction", cases.len()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let r = gongzhi_app::cases::import_keyed_cases(state, city, &cases).await?;
    spinner.finish_and_clear();
    let ids = &r.ids;
    match (ids.first(), ids.last()) {
        (Some(a), Some(b)) => println!(
            "imported {} cases from {} (ids {a}–{b}; {})",
            ids.len(),
            file.display(),
            r.report.summary()
        ),
        _ => println!("imported no cases from {}", file.display()),
    }
    Ok(())
}

/// A row's natural key (issue 20): its `external_id` (the 12345 hotline's or 数字城管's case
/// number; `case_no` also names it) when it has one, else its content: source, category,
/// condition, description (white space and case aside), place (to about a metre) and report
/// time as written. A case imported before under the same key is not created again.
fn natural_key(row: &Row) -> String {
    if let Some(id) = row.get("external_id").or_else(|| row.get("case_no")) {
        return format!("id:{id}");
    }
    let cell = |c: &str| row.get(c).unwrap_or("").to_owned();
    let place = match (cell("lng").parse::<f64>(), cell("lat").parse::<f64>()) {
        (Ok(lng), Ok(lat)) => gongzhi_core::import::place(lng, lat),
        _ => format!("{},{}", cell("lng"), cell("lat")),
    };
    format!(
        "content:{}|{}|{}|{}|{place}|{}",
        row.get("source").unwrap_or("hotline"),
        cell("category"),
        cell("condition"),
        gongzhi_core::import::normalise(&cell("description")),
        row.get("reported_at").or_else(|| row.get("created")).unwrap_or("")
    )
}
