//! The working calendar of the case closed loop: when a time limit (处置时限) runs out.
//!
//! A case's timer runs on one of three clocks ([`TimerKind`]): a continuous 24-hour clock
//! (紧急工作时), working hours only (工作时), or whole working days (工作日). Working days follow
//! the Chinese public-holiday calendar with its make-up working days (调休); working hours are the
//! working periods of a day (by default 09:00–12:00 and 13:30–17:30), all in China Standard Time
//! (UTC+8, no daylight saving). Instants in and out are UTC.
//!
//! The holiday data comes from `data/holidays-cn.csv` (see `tools/derive-holidays.sh`) and only
//! covers some years; outside them only weekends are days off. Callers check
//! [`WorkCalendar::covers`] to warn about a deadline that falls in a year without data.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// China Standard Time (UTC+8, no daylight saving): the zone of every day boundary, deadline
/// and displayed time of the platform.
pub fn china_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar day in China at instant `t`. Between 16:00 and 24:00 UTC it is already the next
/// day in China: a period "up to today" must use this day, never the UTC date.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&china_time()).date_naive()
}

/// Today in China (reads the clock).
pub fn china_today() -> NaiveDate {
    china_date(Utc::now())
}

/// The calendar day in China at an instant given in milliseconds since the epoch.
pub fn china_date_of_ms(ms: i64) -> NaiveDate {
    china_date(DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

/// The instant (milliseconds since the epoch) at which day `d` begins in China.
pub fn china_day_start_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
        - i64::from(china_time().local_minus_utc()) * 1000
}

/// The clock a case timer runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// 紧急工作时: hours of a continuous 24-hour clock, holidays and nights included.
    EmergencyHours,
    /// 工作时: hours counted only inside the working periods of working days.
    WorkHours,
    /// 工作日: whole working days (see [`WorkCalendar::deadline`] for the counting rule).
    WorkDays,
}

impl TimerKind {
    pub const ALL: [TimerKind; 3] = [TimerKind::EmergencyHours, TimerKind::WorkHours, TimerKind::WorkDays];
}

crate::org::enum_labels!(TimerKind {
    EmergencyHours => "emergency_hours", "紧急工作时", "emergency working hours";
    WorkHours => "work_hours", "工作时", "working hours";
    WorkDays => "work_days", "工作日", "working days";
});

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimerKind {
    type Err = DomainError;

    /// Accepts the snake_case name or the Chinese name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        TimerKind::ALL.into_iter().find(|k| k.as_str() == s || k.zh() == s).ok_or_else(|| {
            DomainError::invalid(
                "timer_kind",
                format!("unknown timer kind {s:?}; expected emergency_hours (紧急工作时), work_hours (工作时) or work_days (工作日)"),
            )
        })
    }
}

/// The shipped holidays and make-up working days (`data/holidays-cn.csv`, from npm `chinese-days`).
pub const CHINA_HOLIDAYS_CSV: &str = include_str!("../../../data/holidays-cn.csv");

/// Working days and working hours in China Standard Time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Days off although Monday to Friday (and holidays falling on weekends, harmlessly).
    holidays: BTreeSet<NaiveDate>,
    /// Make-up working days (调休) on a Saturday or Sunday.
    workdays: BTreeSet<NaiveDate>,
    /// Years the override data covers.
    years: BTreeSet<i32>,
    /// Working periods of a working day: sorted, non-empty, non-overlapping, start < end.
    periods: Vec<(NaiveTime, NaiveTime)>,
    zone: FixedOffset,
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

impl WorkCalendar {
    /// The default working periods: 09:00–12:00 and 13:30–17:30 (7 hours a day).
    pub fn default_periods() -> Vec<(NaiveTime, NaiveTime)> {
        vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))]
    }

    /// A calendar with the given days off and make-up working days, the default working periods
    /// and China Standard Time. The years covered are those of the given dates.
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>, workdays: impl IntoIterator<Item = NaiveDate>) -> Self {
        let holidays: BTreeSet<NaiveDate> = holidays.into_iter().collect();
        let workdays: BTreeSet<NaiveDate> = workdays.into_iter().collect();
        let years = holidays.iter().chain(&workdays).map(|d| d.year()).collect();
        WorkCalendar {
            holidays,
            workdays,
            years,
            periods: Self::default_periods(),
            zone: china_time(),
        }
    }

    /// Replaces the working periods of a day. They must be non-empty, each start before its end,
    /// sorted and non-overlapping (no period crosses midnight).
    pub fn with_periods(mut self, periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, DomainError> {
        if periods.is_empty() {
            return Err(DomainError::invalid("periods", "at least one working period is needed"));
        }
        if let Some((s, e)) = periods.iter().find(|(s, e)| s >= e) {
            return Err(DomainError::invalid(
                "periods",
                format!("period {s}–{e} does not start before it ends"),
            ));
        }
        if let Some(w) = periods.windows(2).find(|w| w[0].1 > w[1].0) {
            return Err(DomainError::invalid(
                "periods",
                format!(
                    "periods {}–{} and {}–{} overlap or are out of order",
                    w[0].0, w[0].1, w[1].0, w[1].1
                ),
            ));
        }
        self.periods = periods;
        Ok(self)
    }

    /// Reads the `data/holidays-cn.csv` format: `date,kind,name_en,name_zh` with kind `holiday`
    /// (a day off) or `workday` (a make-up working day). Blank lines, `#` comment lines and the
    /// header line are skipped; the names are not used.
    pub fn parse_csv(text: &str) -> Result<Self, DomainError> {
        let mut holidays = Vec::new();
        let mut workdays = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("date,") {
                continue;
            }
            let field = format!("holidays line {}", i + 1);
            let mut cols = line.splitn(3, ',');
            let (date, kind) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|e| DomainError::invalid(&field, format!("bad date {date:?}: {e}")))?;
            match kind.trim() {
                "holiday" => holidays.push(date),
                "workday" => workdays.push(date),
                other => {
                    return Err(DomainError::invalid(
                        field,
                        format!("kind {other:?} is neither holiday nor workday"),
                    ))
                }
            }
        }
        Ok(Self::new(holidays, workdays))
    }

    /// The mainland China calendar from `data/holidays-cn.csv` (2024–2026), default periods.
    pub fn china_default() -> Self {
        Self::parse_csv(CHINA_HOLIDAYS_CSV).expect("data/holidays-cn.csv parses")
    }

    /// The working periods of a working day, in local time.
    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    /// The calendar's time zone (UTC+8).
    pub fn zone(&self) -> FixedOffset {
        self.zone
    }

    /// The working time of one working day (7 hours by default): what one 工作日 is worth when a
    /// working-time duration is shown in days.
    pub fn day_length(&self) -> Duration {
        self.periods.iter().map(|&(s, e)| e - s).sum()
    }

    /// Whether the holiday data includes `year`. Outside covered years only weekends are off,
    /// so deadlines there may be early; callers should warn.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// A working day: a make-up working day, or Monday to Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// Whether `t` falls inside a working period `[start, end)` of a working day.
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let local = self.local(t);
        self.is_working_day(local.date()) && self.periods.iter().any(|&(s, e)| s <= local.time() && local.time() < e)
    }

    /// When a time limit of `amount` units of `kind` started at `start` runs out.
    ///
    /// An `amount` of 0 gives `start` itself, whatever the kind. Otherwise:
    /// - [`TimerKind::EmergencyHours`]: `start + amount` hours, holidays and nights included.
    /// - [`TimerKind::WorkHours`]: the working periods are walked from `start`; a start outside
    ///   working time begins at the start of the next working period. A limit used up exactly at
    ///   the end of a period ends there (e.g. 12:00, not 13:30).
    /// - [`TimerKind::WorkDays`], following GB/T 30428 and the usual rule for legal periods that
    ///   the starting day is not counted (期间开始之日不计算在内): the working days are counted
    ///   from the first working day after the (local) day of `start`, whatever the hour of
    ///   `start`, and the limit ends at the end of the last working period of the `amount`-th
    ///   working day (17:30 by default).
    ///
    /// Work-hour and work-day limits are walked day by day, so `amount` should be a realistic
    /// case limit; a limit beyond the dates chrono can represent gives [`DateTime::<Utc>::MAX_UTC`].
    pub fn deadline(&self, start: DateTime<Utc>, kind: TimerKind, amount: u32) -> DateTime<Utc> {
        if amount == 0 {
            return start;
        }
        match kind {
            TimerKind::EmergencyHours => start
                .checked_add_signed(Duration::hours(amount.into()))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            TimerKind::WorkHours => {
                let mut left = Duration::hours(amount.into());
                for (a, b) in self.working_intervals(self.local(start)) {
                    if b - a >= left {
                        return self.utc(a + left);
                    }
                    left -= b - a;
                }
                DateTime::<Utc>::MAX_UTC
            }
            TimerKind::WorkDays => {
                let first = self.local(start).date().succ_opt();
                let end_of_day = self.periods.last().expect("periods are non-empty").1;
                days_from(first)
                    .filter(|&d| self.is_working_day(d))
                    .nth(amount as usize - 1)
                    .map_or(DateTime::<Utc>::MAX_UTC, |d| self.utc(d.and_time(end_of_day)))
            }
        }
    }

    /// The time elapsed from `from` to `to` on the clock of `kind`; zero when `to <= from`.
    ///
    /// [`TimerKind::EmergencyHours`] gives wall-clock time. [`TimerKind::WorkHours`] and
    /// [`TimerKind::WorkDays`] both give working time (the overlap with working periods of
    /// working days); divide by [`WorkCalendar::day_length`] to show it in working days. For a
    /// work-day limit this includes any working time left on the starting day, which the limit
    /// does not count, so it is at least `amount` days up to the deadline.
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>, kind: TimerKind) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        match kind {
            TimerKind::EmergencyHours => to - from,
            TimerKind::WorkHours | TimerKind::WorkDays => {
                let to = self.local(to);
                self.working_intervals(self.local(from))
                    .take_while(|&(a, _)| a < to)
                    .map(|(a, b)| b.min(to) - a)
                    .sum()
            }
        }
    }

    /// The time left at `now` on a limit of `amount` units of `kind` started at `start`, on the
    /// clock of `kind` (see [`WorkCalendar::elapsed`]). Negative once overdue: then it is minus
    /// the time elapsed since the deadline, so an overdue case shows by how much.
    pub fn remaining(&self, start: DateTime<Utc>, kind: TimerKind, amount: u32, now: DateTime<Utc>) -> Duration {
        let deadline = self.deadline(start, kind, amount);
        if now <= deadline {
            self.elapsed(now, deadline, kind)
        } else {
            -self.elapsed(deadline, now, kind)
        }
    }

    fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.zone).naive_local()
    }

    fn utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        (local - Duration::seconds(self.zone.local_minus_utc().into())).and_utc()
    }

    /// The working intervals `[a, b)` in local time that end after `from`, in order, the first
    /// one clipped to start at `from`.
    fn working_intervals(&self, from: NaiveDateTime) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + '_ {
        days_from(Some(from.date()))
            .filter(|&d| self.is_working_day(d))
            .flat_map(move |d| self.periods.iter().map(move |&(s, e)| (d.and_time(s), d.and_time(e))))
            .filter(move |&(_, b)| b > from)
            .map(move |(a, b)| (a.max(from), b))
    }
}

/// The dates from `first` on, until chrono's last date.
fn days_from(first: Option<NaiveDate>) -> impl Iterator<Item = NaiveDate> {
    std::iter::successors(first, |d| d.succ_opt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A Beijing-time instant "YYYY-MM-DD HH:MM" as UTC.
    fn bj(s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time");
        (local - Duration::hours(8)).and_utc()
    }

    fn cal() -> WorkCalendar {
        WorkCalendar::china_default()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_day_in_china_turns_at_16_utc() {
        assert_eq!(china_date(bj("2026-11-24 23:59")), date("2026-11-24"));
        assert_eq!(china_date(bj("2026-11-25 00:00")), date("2026-11-25"));
        // 16:30 UTC on the 24th is already the 25th in China.
        let utc = NaiveDateTime::parse_from_str("2026-11-24 16:30", "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc();
        assert_eq!(china_date(utc), date("2026-11-25"));
        assert_eq!(
            china_day_start_ms(date("2026-11-25")),
            bj("2026-11-25 00:00").timestamp_millis()
        );
        assert_eq!(china_day_start_ms(date("1970-01-01")), -8 * 3_600_000);
    }

    #[test]
    fn data_file_days() {
        let c = cal();
        // National Day 2026: Thu Oct 1 – Wed Oct 7 off; Sun Sep 20 and Sat Oct 10 worked.
        for d in [
            "2026-10-01",
            "2026-10-02",
            "2026-10-05",
            "2026-10-07",
            "2026-09-25",
            "2026-09-26",
        ] {
            assert!(!c.is_working_day(date(d)), "{d}");
        }
        for d in ["2026-09-20", "2026-10-10", "2026-10-08", "2026-09-30"] {
            assert!(c.is_working_day(date(d)), "{d}");
        }
        // Spring Festival 2026: Sun Feb 15 – Mon Feb 23 off; Sat Feb 14 and Sat Feb 28 worked.
        assert!(!c.is_working_day(date("2026-02-16")));
        assert!(!c.is_working_day(date("2026-02-23")));
        assert!(c.is_working_day(date("2026-02-14")));
        assert!(c.is_working_day(date("2026-02-28")));
        assert!(!c.is_working_day(date("2026-03-01"))); // an ordinary Sunday
        assert!(c.covers(2024) && c.covers(2025) && c.covers(2026));
        assert!(!c.covers(2023) && !c.covers(2027));
        assert_eq!(c.day_length(), Duration::hours(7));
    }

    #[test]
    fn work_days_across_national_day_2026() {
        let c = cal();
        // Wed Sep 30 10:00, 3 工作日: Oct 1–7 off, Thu Oct 8 (1), Fri Oct 9 (2),
        // Sat Oct 10 make-up (3) → Sat Oct 10 17:30.
        assert_eq!(
            c.deadline(bj("2026-09-30 10:00"), TimerKind::WorkDays, 3),
            bj("2026-10-10 17:30")
        );
        // One more: Sun Oct 11 off, Mon Oct 12 (4).
        assert_eq!(
            c.deadline(bj("2026-09-30 10:00"), TimerKind::WorkDays, 4),
            bj("2026-10-12 17:30")
        );
        // Fri Sep 18 15:00, 2 工作日: Sat 19 off, Sun 20 make-up (1), Mon 21 (2) → Mon Sep 21 17:30.
        assert_eq!(
            c.deadline(bj("2026-09-18 15:00"), TimerKind::WorkDays, 2),
            bj("2026-09-21 17:30")
        );
        // Thu Sep 24 08:00 (before work; the day still does not count), 2 工作日:
        // Fri 25 – Sun 27 Mid-autumn off, Mon 28 (1), Tue 29 (2) → Tue Sep 29 17:30.
        assert_eq!(
            c.deadline(bj("2026-09-24 08:00"), TimerKind::WorkDays, 2),
            bj("2026-09-29 17:30")
        );
    }

    #[test]
    fn work_days_across_spring_festival_2026() {
        let c = cal();
        // Thu Feb 12 16:00, 2 工作日: Fri 13 (1), Sat 14 make-up (2) → Sat Feb 14 17:30.
        assert_eq!(
            c.deadline(bj("2026-02-12 16:00"), TimerKind::WorkDays, 2),
            bj("2026-02-14 17:30")
        );
        // Fri Feb 13 11:00, 5 工作日: Sat 14 (1), Feb 15–23 off, Tue 24 (2), Wed 25 (3),
        // Thu 26 (4), Fri 27 (5) → Fri Feb 27 17:30.
        assert_eq!(
            c.deadline(bj("2026-02-13 11:00"), TimerKind::WorkDays, 5),
            bj("2026-02-27 17:30")
        );
        // 7 工作日: Sat 28 make-up (6), Sun Mar 1 off, Mon Mar 2 (7) → Mon Mar 2 17:30.
        assert_eq!(
            c.deadline(bj("2026-02-13 11:00"), TimerKind::WorkDays, 7),
            bj("2026-03-02 17:30")
        );
    }

    #[test]
    fn work_hours_lunch_overnight_weekend() {
        let c = cal();
        // Fri 2026-03-13 11:00, 8 工作时: Fri 11:00–12:00 (1h, 7 left), 13:30–17:30 (4h, 3 left),
        // Sat/Sun off, Mon Mar 16 09:00–12:00 (3h, 0 left) → Mon 12:00, not 13:30.
        assert_eq!(
            c.deadline(bj("2026-03-13 11:00"), TimerKind::WorkHours, 8),
            bj("2026-03-16 12:00")
        );
        // 10 工作时: as above, then 2 left after Mon 12:00 → Mon 13:30 + 2h = 15:30.
        assert_eq!(
            c.deadline(bj("2026-03-13 11:00"), TimerKind::WorkHours, 10),
            bj("2026-03-16 15:30")
        );
        // Tue 2026-03-10 11:30, 1 工作时: 11:30–12:00 (30m), 13:30 + 30m → 14:00.
        assert_eq!(
            c.deadline(bj("2026-03-10 11:30"), TimerKind::WorkHours, 1),
            bj("2026-03-10 14:00")
        );
        // Start in the lunch break 12:45, 2 工作时 → 13:30 + 2h = 15:30.
        assert_eq!(
            c.deadline(bj("2026-03-10 12:45"), TimerKind::WorkHours, 2),
            bj("2026-03-10 15:30")
        );
        // Start before work 07:00, 1 工作时 → 10:00.
        assert_eq!(
            c.deadline(bj("2026-03-10 07:00"), TimerKind::WorkHours, 1),
            bj("2026-03-10 10:00")
        );
        // Tue 17:00, 1 工作时: 17:00–17:30 (30m), overnight, Wed 09:00 + 30m → Wed 09:30.
        assert_eq!(
            c.deadline(bj("2026-03-10 17:00"), TimerKind::WorkHours, 1),
            bj("2026-03-11 09:30")
        );
    }

    #[test]
    fn emergency_hours_ignore_holidays() {
        let c = cal();
        assert_eq!(
            c.deadline(bj("2026-10-01 20:00"), TimerKind::EmergencyHours, 24),
            bj("2026-10-02 20:00")
        );
        assert_eq!(
            c.deadline(bj("2026-09-30 22:00"), TimerKind::EmergencyHours, 72),
            bj("2026-10-03 22:00")
        );
        assert_eq!(
            c.deadline(bj("2026-02-21 23:00"), TimerKind::EmergencyHours, 2),
            bj("2026-02-22 01:00")
        );
    }

    #[test]
    fn start_at_23_on_a_holiday() {
        let c = cal();
        // Sat 2026-10-03 23:00 (National Day): Oct 4–7 off, first working period Thu Oct 8 09:00.
        assert_eq!(
            c.deadline(bj("2026-10-03 23:00"), TimerKind::WorkHours, 2),
            bj("2026-10-08 11:00")
        );
        // 1 工作日: the first working day after Oct 3 is Thu Oct 8 → 17:30.
        assert_eq!(
            c.deadline(bj("2026-10-03 23:00"), TimerKind::WorkDays, 1),
            bj("2026-10-08 17:30")
        );
        // Sat 2026-02-21 23:00 (Spring Festival), 4 工作时: Feb 22–23 off, Tue Feb 24 09:00–12:00
        // (3h), 13:30 + 1h → 14:30.
        assert_eq!(
            c.deadline(bj("2026-02-21 23:00"), TimerKind::WorkHours, 4),
            bj("2026-02-24 14:30")
        );
    }

    #[test]
    fn elapsed_and_remaining() {
        let c = cal();
        let start = bj("2026-03-13 11:00");
        let wh = TimerKind::WorkHours;
        assert_eq!(c.elapsed(start, bj("2026-03-16 12:00"), wh), Duration::hours(8));
        assert_eq!(c.elapsed(bj("2026-03-16 12:00"), start, wh), Duration::zero());
        assert_eq!(
            c.elapsed(start, bj("2026-03-14 11:00"), TimerKind::EmergencyHours),
            Duration::hours(24)
        );
        // Fri 17:00: 1h + 3h30 used of 8h → 3h30 left.
        assert_eq!(
            c.remaining(start, wh, 8, bj("2026-03-13 17:00")),
            Duration::minutes(210)
        );
        // Mon 14:00: due Mon 12:00; 13:30–14:00 is 30 working minutes overdue.
        assert_eq!(
            c.remaining(start, wh, 8, bj("2026-03-16 14:00")),
            -Duration::minutes(30)
        );
        // Work days show working time: Wed Sep 30 10:00 with 3 days left until Oct 10 17:30 is
        // Sep 30 10:00–17:30 (6h) + Oct 8, 9, 10 (21h) = 27h.
        assert_eq!(
            c.remaining(bj("2026-09-30 10:00"), TimerKind::WorkDays, 3, bj("2026-09-30 10:00")),
            Duration::hours(27)
        );
    }

    #[test]
    fn timer_kind_names() {
        for k in TimerKind::ALL {
            assert_eq!(k.as_str().parse::<TimerKind>().unwrap(), k);
            assert_eq!(k.zh().parse::<TimerKind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
        }
        assert!("weeks".parse::<TimerKind>().is_err());
    }

    #[test]
    fn parse_and_periods_errors() {
        assert!(WorkCalendar::parse_csv("2026-13-01,holiday,x,y").is_err());
        assert!(WorkCalendar::parse_csv("2026-10-01,vacation,x,y").is_err());
        let c =
            WorkCalendar::parse_csv("# c\ndate,kind,name_en,name_zh\n2030-10-01,holiday,\"A, B\",国庆节\n").unwrap();
        assert!(c.covers(2030) && !c.is_working_day(date("2030-10-01")));
        let c = WorkCalendar::new([], []);
        assert!(c.clone().with_periods(vec![]).is_err());
        assert!(c.clone().with_periods(vec![(hm(12, 0), hm(9, 0))]).is_err());
        assert!(c
            .clone()
            .with_periods(vec![(hm(9, 0), hm(12, 0)), (hm(11, 0), hm(17, 0))])
            .is_err());
        // One 08:30–17:00 period: Mon 2026-03-09 16:00 + 2 工作时 → 17:00 (1h), Tue 08:30 + 1h = 09:30.
        let c = c.with_periods(vec![(hm(8, 30), hm(17, 0))]).unwrap();
        assert_eq!(
            c.deadline(bj("2026-03-09 16:00"), TimerKind::WorkHours, 2),
            bj("2026-03-10 09:30")
        );
    }

    /// Inside or at the end of a working period `(start, end]` of a working day.
    fn ends_in_working_time(c: &WorkCalendar, t: DateTime<Utc>) -> bool {
        let local = c.local(t);
        c.is_working_day(local.date()) && c.periods().iter().any(|&(s, e)| s < local.time() && local.time() <= e)
    }

    fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
        // 2024-01-01 00:00 to 2026-12-31 23:59 Beijing time, minute resolution.
        (0i64..3 * 366 * 24 * 60).prop_map(|m| bj("2024-01-01 00:00") + Duration::minutes(m))
    }

    fn any_kind() -> impl Strategy<Value = TimerKind> {
        prop::sample::select(TimerKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn deadline_is_monotone(start in any_start(), kind in any_kind(), a in 0u32..120, b in 0u32..120) {
            let c = cal();
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(c.deadline(start, kind, lo) <= c.deadline(start, kind, hi));
            if lo < hi {
                prop_assert!(c.deadline(start, kind, lo) < c.deadline(start, kind, hi));
            }
        }

        #[test]
        fn work_hours_elapse_exactly(start in any_start(), n in 0u32..200) {
            let c = cal();
            let d = c.deadline(start, TimerKind::WorkHours, n);
            prop_assert_eq!(c.elapsed(start, d, TimerKind::WorkHours), Duration::hours(n.into()));
            prop_assert_eq!(c.remaining(start, TimerKind::WorkHours, n, start), Duration::hours(n.into()));
        }

        #[test]
        fn deadline_in_working_time(start in any_start(), n in 1u32..200, days in any::<bool>()) {
            let c = cal();
            let kind = if days { TimerKind::WorkDays } else { TimerKind::WorkHours };
            let d = c.deadline(start, kind, n);
            prop_assert!(ends_in_working_time(&c, d), "{} {} {} → {}", start, kind, n, d);
        }
    }
}
