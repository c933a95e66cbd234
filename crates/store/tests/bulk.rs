//! Bulk import of case histories, on SQLite and (with GONGZHI_TEST_DATABASE) PostgreSQL: rows,
//! events and counters equal what the histories say, and the one-case path still works after.

use gongzhi_core::ids::CaseId;
use gongzhi_store::prelude::*;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use gongzhi_core::calendar::WorkCalendar;
use gongzhi_core::case::{self, Case, CaseEvent, CaseSource, CaseState, Intake, Recorded};
use gongzhi_core::catalogue::Catalogue;
use gongzhi_core::indicators::{attributed_unit, Counters};
use gongzhi_core::org::Role;
use gongzhi_demo::cases::{city_model, Replay, ReplayOptions, ReplayStats};
use gongzhi_store::cases::day_of;
use gongzhi_store::{CaseHistory, CaseQuery, CaseVisibility, Change, NewCase, StoreError};
use gongzhi_testkit::demo_db;

const CITY: CityCode = CityCode::of("510100");

fn beijing_ms(y: i32, m: u32, d: u32, h: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000
}

/// The events with merge references rewritten from keys to the stored ids.
fn as_stored(h: &CaseHistory, ids: &HashMap<i64, i64>) -> Vec<Recorded> {
    let mut events = h.events.clone();
    for r in &mut events {
        if let CaseEvent::MergedInto { case_id } | CaseEvent::DuplicateMerged { case_id } = &mut r.event {
            *case_id = CaseId(ids[&case_id.0]);
        }
    }
    events
}

#[tokio::test]
async fn imported_histories_equal_their_rows_events_and_counters() {
    let db = demo_db().await;
    let s = &db.store;
    let model = city_model(s, CITY).await.unwrap();
    assert!(!model.places.is_empty() && !model.fallback.is_empty());
    let cat = Catalogue::default_cn();
    let cal = WorkCalendar::china_default();
    let from = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let opts = ReplayOptions::per_day(from, to, 40, 42, beijing_ms(2025, 6, 30, 18));
    let replay = Replay::new(&model, &cat, &cal, opts);
    let mut histories = Vec::new();
    for (day, n) in replay.volumes() {
        let d = replay.day(day, n);
        assert!(d.refused.is_empty(), "{:?}", d.refused);
        histories.extend(d.histories);
    }
    let mut stats = ReplayStats::default();
    stats.add_all(&histories);
    assert!(
        stats.merged > 0 && stats.whistles > 0 && stats.returns > 0 && stats.overdue > 0 && stats.open > 0,
        "the sample has every path: {stats:?}"
    );

    let events_before = s.event_count(CITY).await.unwrap();
    // Small batches: several transactions, merges kept together across batch ends.
    let mut calls = Vec::new();
    let mut progress = |done: usize, all: usize| calls.push((done, all));
    let done = s
        .import_case_histories(CITY, &histories, Some(&mut progress))
        .await
        .unwrap();
    assert_eq!(done.cases, histories.len() as u64);
    assert_eq!(done.events, stats.events);
    assert_eq!(calls.last(), Some(&(histories.len(), histories.len())));
    let (first, last) = (done.first_id.unwrap(), done.last_id.unwrap());
    assert_eq!(last - first + 1, histories.len() as i64, "consecutive ids");
    let ids: HashMap<i64, i64> = histories
        .iter()
        .enumerate()
        .map(|(i, h)| (h.key, first + i as i64))
        .collect();
    assert_eq!(s.case_count(CITY, None).await.unwrap(), histories.len() as i64);
    assert_eq!(s.event_count(CITY).await.unwrap() - events_before, stats.events as i64);

    // Rows and streams: the fold of the stored events, which are the histories' events.
    let mut expected_area = Counters::default();
    let mut by_day: BTreeMap<String, Counters> = BTreeMap::new();
    let mut by_unit: HashMap<i64, Counters> = HashMap::new();
    let mut by_category: HashMap<String, Counters> = HashMap::new();
    for h in &histories {
        let id = ids[&h.key];
        let events = as_stored(h, &ids);
        let row = s.case(CITY, CaseId(id)).await.unwrap().unwrap();
        let folded = Case::replay(id, &events);
        assert_eq!(row.case, folded);
        assert_eq!(row.case.version, events.len() as u64);
        assert_eq!((row.area.as_str(), row.reporter), (h.area.as_str(), h.reporter));
        assert_eq!(row.created_at, events[0].at_ms);
        assert_eq!(s.case_history(CITY, CaseId(id)).await.unwrap(), events);
        let mut case = Case::new(CaseId(id));
        for r in &events {
            let delta = Counters::from_event(&case, &r.event);
            expected_area.add(&delta);
            by_day.entry(day_of(r.at_ms)).or_default().add(&delta);
            if let Some(u) = attributed_unit(&case, &r.event) {
                by_unit.entry(u).or_default().add(&delta);
            }
            case.apply(&r.event, r.at_ms);
            by_category.entry(case.category.clone()).or_default().add(&delta);
        }
    }
    let each: Vec<Counters> = histories.iter().map(|h| Counters::from_history(&h.events)).collect();
    let sum: Counters = each.iter().sum();
    assert_eq!(expected_area, sum);
    let (all_from, all_to) = ("2000-01-01", "2100-12-31");
    assert_eq!(
        s.counters(CITY, "area", CITY.as_str(), all_from, all_to).await.unwrap(),
        sum
    );
    let days = s
        .counters_grouped(CITY, "area", Some(CITY.as_str()), all_from, all_to, "day")
        .await
        .unwrap();
    assert_eq!(days.into_iter().collect::<BTreeMap<_, _>>(), by_day);
    let units = s
        .counters_grouped(CITY, "unit", None, all_from, all_to, "key")
        .await
        .unwrap();
    assert_eq!(units.len(), by_unit.len());
    for (k, c) in units {
        assert_eq!(c, by_unit[&k.parse::<i64>().unwrap()], "unit {k}");
    }
    for (code, c) in &by_category {
        assert_eq!(&s.counters(CITY, "category", code, all_from, all_to).await.unwrap(), c);
    }

    // Whistles: the co-units see their joint cases.
    let whistled = histories
        .iter()
        .find_map(|h| {
            h.events.iter().find_map(|r| match &r.event {
                CaseEvent::Whistled { co_units, .. } => Some((ids[&h.key], co_units[0])),
                _ => None,
            })
        })
        .unwrap();
    let q = CaseQuery {
        visibility: CaseVisibility {
            units: vec![whistled.1],
            ..Default::default()
        },
        page_size: 1000,
        ..Default::default()
    };
    let (rows, _) = s.list_cases(CITY, &q).await.unwrap();
    assert!(rows.iter().any(|r| r.case.id == whistled.0));

    // The one-case path goes on after the bulk ids (the identity sequence moved on PostgreSQL).
    let intake = Intake {
        source: CaseSource::Hotline,
        category: String::new(),
        condition: "E0102-01".into(),
        description: "导入之后的新案件".into(),
        lng: 104.08,
        lat: 30.65,
        grid: None,
        community: None,
    };
    let collected = case::collect(intake, Role::Acceptor, &cat).unwrap();
    let new = NewCase {
        collected,
        then: vec![CaseEvent::Registered],
        area: histories[0].area.clone(),
        reporter: None,
        contact: None,
        actor: None,
        role: Role::Acceptor,
        at_ms: None,
    };
    let row = s.create_case(CITY, &new).await.unwrap();
    assert!(row.case.id > CaseId(last), "{} after {last}", row.case.id);
    // An imported open case takes further steps as usual.
    let open = histories
        .iter()
        .map(|h| ids[&h.key])
        .find(|id| final_state(&histories, &ids, *id) == CaseState::Registered);
    if let Some(id) = open {
        let row = s.case(CITY, CaseId(id)).await.unwrap().unwrap();
        let change = Change {
            case_id: CaseId(id),
            expected_version: row.case.version,
            events: vec![CaseEvent::Voided {
                reason: "测试".into()
            }],
        };
        let after = s
            .change_cases(CITY, &[change], None, Role::ShiftLeader, None)
            .await
            .unwrap();
        assert_eq!(after[0].case.state, CaseState::Voided);
    }

    // A second import continues the ids; a history naming a case outside the import is
    // refused before anything is written.
    let more: Vec<CaseHistory> = replay
        .day(NaiveDate::from_ymd_opt(2025, 6, 29).unwrap(), 5)
        .histories
        .into_iter()
        .map(|h| CaseHistory { key: h.key + 7, ..h })
        .collect();
    let again = s.import_case_histories(CITY, &more, None).await.unwrap();
    assert!(again.first_id.unwrap() > row.case.id.0);
    let mut bad = more.clone();
    let at_ms = bad[0].events[0].at_ms;
    bad[0].events.push(Recorded {
        event: CaseEvent::MergedInto { case_id: CaseId(999) },
        at_ms,
        actor: None,
        role: Role::Acceptor,
    });
    let before = s.case_count(CITY, None).await.unwrap();
    assert!(matches!(
        s.import_case_histories(CITY, &bad, None).await,
        Err(StoreError::Invalid(_))
    ));
    let mut twice = more.clone();
    twice[1].key = twice[0].key;
    assert!(s.import_case_histories(CITY, &twice, None).await.is_err());
    assert_eq!(s.case_count(CITY, None).await.unwrap(), before);
}

/// The state a history leaves its case in.
fn final_state(histories: &[CaseHistory], ids: &HashMap<i64, i64>, id: i64) -> CaseState {
    let h = histories.iter().find(|h| ids[&h.key] == id).unwrap();
    Case::replay(id, &h.events).state
}
