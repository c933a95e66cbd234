//! The demo city's flat-governance data: responsibility lists derived from the catalogue with a
//! few deliberate faults (so the check report is not empty), staffing over the year, and forms
//! demanded from communities.

use chrono::{Duration, NaiveDate};
use gongzhi_core::catalogue::Catalogue;
use gongzhi_core::flat::{derive_from_catalogue, Demand, Matter, OwnerKind, ResponsibilityList};
use gongzhi_core::territory::{DivisionCode, Level};
use gongzhi_store::prelude::*;
use gongzhi_store::{Store, StoreError};

use crate::CITY;

/// The demo lists: the catalogue's owners, plus
/// - a conflict: 住房和城乡建设局 also claims 路灯 (C0111) city-wide, beside 城市管理和综合执法局;
/// - a gap: nobody lists 其他设施 (the last component subcategory);
/// - a push-down: 暴露垃圾 (E0102) belongs to 城市管理和综合执法局, but the catalogue sends it to
///   the street office.
pub fn responsibility_list(catalogue: &Catalogue) -> ResponsibilityList {
    let city = DivisionCode::parse(CITY.as_str()).expect("the demo city code is valid");
    let mut items: Vec<Matter> = derive_from_catalogue(catalogue, &city).items().to_vec();
    if let Some(m) = items.iter().find(|m| m.category == "C0111").cloned() {
        items.push(Matter {
            owner: if m.owner == "住房和城乡建设局" {
                "城市管理和综合执法局".into()
            } else {
                "住房和城乡建设局".into()
            },
            level: Level::District,
            owner_kind: OwnerKind::Department,
            ..m
        });
    }
    if let Some(last) = catalogue
        .iter()
        .filter(|c| c.code.starts_with('C'))
        .map(|c| c.code.clone())
        .next_back()
    {
        items.retain(|m| m.category != last);
    }
    for m in items.iter_mut().filter(|m| m.category == "E0102") {
        m.level = Level::District;
        m.owner = "城市管理和综合执法局".into();
        m.owner_kind = OwnerKind::Department;
        m.may_delegate = false;
    }
    ResponsibilityList::new(items)
}

/// Store the demo lists, staffing and demands for the period ending `to` (a year).
pub async fn load(
    store: &Store,
    catalogue: &Catalogue,
    communities: &[String],
    to: NaiveDate,
) -> Result<(), StoreError> {
    let list = responsibility_list(catalogue);
    store
        .put_document(CITY, "responsibilities", &list.to_csv(), None, None)
        .await?;
    let from = to - Duration::days(364);
    let mid = from + Duration::days(182);
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let mut staffing = Vec::new();
    let mut demands = Vec::new();
    for (i, c) in communities.iter().enumerate() {
        // Staff over time: every community starts with 5 workers; every second loses one in
        // the middle of the year (a vacancy not filled), so its load per worker grows.
        staffing.push((c.clone(), day(from), 5));
        if i % 2 == 0 {
            staffing.push((c.clone(), day(mid), 4));
        }
        let demanders = [
            "区民政局",
            "区住房和城乡建设局",
            "街道党工委",
            "区统计局",
            "区卫生健康局",
        ];
        for k in 0..12u32 {
            let due = from + Duration::days(i64::from(k) * 30 + 10 + i as i64 % 7);
            let title = [
                "低保对象复核表",
                "房屋安全排查台账",
                "党员信息采集表",
                "人口统计月报",
                "健康随访登记",
            ][(k as usize + i) % 5];
            demands.push(
                Demand::new(
                    demanders[(k as usize + i) % demanders.len()],
                    c,
                    title,
                    gongzhi_core::calendar::china_day_start_ms(due),
                    f64::from(1 + (k + i as u32) % 6),
                )
                .expect("demo demands are valid"),
            );
        }
    }
    store.set_staffings(CITY, &staffing, None).await?;
    store.add_demands(CITY, &demands, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_list_has_each_kind_of_finding() {
        let cat = Catalogue::default_cn();
        let list = responsibility_list(&cat);
        let r = list.check(&cat, &["510104".into()]);
        assert!(r.conflicts.iter().any(|c| c.category == "C0111"), "{r:?}");
        assert_eq!(r.gaps.len(), 1);
        assert!(r.push_downs.iter().any(|p| p.condition.starts_with("E0102")));
        assert!(ResponsibilityList::parse_csv(&list.to_csv()).unwrap() == list);
    }
}
