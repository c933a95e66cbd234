//! The demo's regeneration project (城市更新项目): the first two buildings of the first community
//! with premises, held by a state unit, two enterprises, a collective and households, with a
//! resource registry, some contacts and signatures, so the pages and the browser test have data.

use chrono::{NaiveDate, NaiveDateTime};
use gongzhi_core::premises::Premises;
use gongzhi_core::regen::import::ImportedHolder;
use gongzhi_core::regen::{
    Choice, Contact, DecisionRecord, Holder, HolderKind, Holding, Project, ProjectConfig, Resource, ResourceKind,
    Stance, Sticking,
};
use gongzhi_store::prelude::*;
use gongzhi_store::{Store, StoreError};

/// The demo project's code.
pub const PROJECT: &str = "TF-DEMO";

/// The demo project, its holders, resources, contacts and decisions (pure, deterministic).
pub struct DemoRegen {
    pub project: Project,
    pub holders: Vec<ImportedHolder>,
    pub resources: Vec<Resource>,
    pub contacts: Vec<Contact>,
    pub decisions: Vec<DecisionRecord>,
}

fn holder(code: &str, name: &str, kind: HolderKind, members: u32, sticking: &[(&str, u8)], contested: bool) -> Holder {
    Holder {
        code: code.into(),
        name: name.into(),
        kind,
        members,
        contested,
        organisation_override: None,
        scenario_override: None,
        representatives: vec![format!("{name}代表")],
        sticking: sticking
            .iter()
            .map(|(c, s)| Sticking {
                code: (*c).into(),
                severity: *s,
            })
            .collect(),
        holdings: vec![],
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
    code: &str,
    name: &str,
    kind: ResourceKind,
    category: &str,
    by: &str,
    capacity: Option<u32>,
    cost: i64,
    addresses: &[&str],
    scarce: bool,
) -> Resource {
    Resource {
        code: code.into(),
        name: name.into(),
        kind,
        category: category.into(),
        holder: by.into(),
        capacity,
        cost,
        addresses: addresses.iter().map(|s| s.to_string()).collect(),
        scarce,
    }
}

/// Build the project on `premises` (None when the demo has no premises).
pub fn build(premises: &Premises) -> Option<DemoRegen> {
    let community = premises.buildings.first()?.community.clone();
    let buildings: Vec<&str> = premises
        .buildings
        .iter()
        .filter(|b| b.community == community)
        .take(2)
        .map(|b| b.code.as_str())
        .collect();
    let units: Vec<&gongzhi_core::premises::Unit> = premises
        .units
        .iter()
        .filter(|u| buildings.contains(&u.building.as_str()))
        .collect();
    let mut holders: Vec<Holder> = vec![
        holder(
            "S01",
            "区文旅局下属单位",
            HolderKind::StateUnit,
            60,
            &[("compensation", 2)],
            false,
        ),
        holder(
            "E01",
            "锦城文创公司",
            HolderKind::Enterprise,
            35,
            &[("business_continuity", 3), ("compensation", 2)],
            false,
        ),
        holder(
            "E02",
            "老街茶馆",
            HolderKind::Enterprise,
            4,
            &[("business_continuity", 3), ("heritage", 2)],
            false,
        ),
        holder(
            "C01",
            "社区股份经济合作社",
            HolderKind::Collective,
            180,
            &[("compensation", 3), ("distrust", 2)],
            false,
        ),
    ];
    // The state unit holds floor 2 of the first building, the enterprises its shops (floor 1),
    // the collective floor 3; every other unit is one household's.
    let first = buildings[0];
    let households_from = holders.len();
    let cycle: [&[(&str, u8)]; 5] = [
        &[("heritage", 2), ("distrust", 1)],
        &[("compensation", 2)],
        &[("relocation", 3), ("special_needs", 2)],
        &[("heirs_dispute", 3), ("title_defect", 2)],
        &[("distrust", 2)],
    ];
    let mut shops = 0;
    for u in &units {
        let owner = match (u.building.as_str() == first, u.floor) {
            (true, 1) => {
                shops += 1;
                if shops % 2 == 1 {
                    1
                } else {
                    2
                }
            }
            (true, 2) => 0,
            (true, 3) => 3,
            _ => {
                let n = holders.len() - households_from + 1;
                if n > 40 {
                    continue;
                }
                let points = cycle[n % cycle.len()];
                let contested = points.iter().any(|p| p.0 == "heirs_dispute");
                holders.push(holder(
                    &format!("H{n:03}"),
                    &format!("住户{n:03}"),
                    HolderKind::Household,
                    2 + (n % 4) as u32,
                    points,
                    contested,
                ));
                holders.len() - 1
            }
        };
        holders[owner].holdings.push(Holding {
            unit: u.code.clone(),
            area: u.area,
            common_share_ppm: 0,
        });
    }
    holders.retain(|h| !h.holdings.is_empty());
    let imported = holders
        .into_iter()
        .map(|h| ImportedHolder {
            lines: vec![0; h.holdings.len()],
            area_given: vec![true; h.holdings.len()],
            holder: h,
        })
        .collect();
    let config = ProjectConfig {
        withdrawal_deadline: NaiveDate::from_ymd_opt(2026, 12, 31),
        ..ProjectConfig::default()
    };
    let project = Project::new(PROJECT, "天府文创片区城市更新（示范）", community.as_str(), config).ok()?;
    use ResourceKind::*;
    let resources = vec![
        resource(
            "R-POLICY",
            "补偿安置方案第5条（货币补偿标准）",
            Formal,
            "policy article",
            "区住建局",
            None,
            0,
            &["compensation"],
            false,
        ),
        resource(
            "R-FLATS",
            "就近安置房源",
            Formal,
            "housing option",
            "区住建局",
            Some(6),
            450_000,
            &["relocation"],
            true,
        ),
        resource(
            "R-SHOP",
            "过渡期临时经营场地",
            Formal,
            "swap of public space",
            "街道办",
            Some(2),
            80_000,
            &["business_continuity"],
            true,
        ),
        resource(
            "R-LEGAL",
            "法律援助与公证",
            Formal,
            "legal procedure",
            "区司法局",
            None,
            2_000,
            &["heirs_dispute", "title_defect"],
            false,
        ),
        resource(
            "R-ELDER",
            "乡贤调解（老街坊）",
            Informal,
            "respected elder",
            "社区",
            None,
            0,
            &["heritage", "distrust", "heirs_dispute"],
            false,
        ),
        resource(
            "R-PARTY",
            "党员与楼栋长走访",
            Informal,
            "party members and old neighbours",
            "社区党委",
            None,
            0,
            &["distrust", "special_needs"],
            false,
        ),
        resource(
            "R-MEMORY",
            "老街记忆展与坝坝宴",
            Informal,
            "local customs and events",
            "社会组织",
            Some(3),
            5_000,
            &["heritage"],
            true,
        ),
    ];
    let at = |d: u32, h: u32| {
        NaiveDate::from_ymd_opt(2026, 5, d)
            .and_then(|x| x.and_hms_opt(h, 0, 0))
            .expect("valid time")
    };
    let contact = |holder: &str, at: NaiveDateTime, r: &str, before, after| Contact {
        holder: holder.into(),
        at,
        staff: "街道更新办 王协调".into(),
        resources: vec![r.into()],
        before,
        after,
        next_step: "约定再访".into(),
    };
    let contacts = vec![
        contact("S01", at(6, 10), "R-POLICY", Stance::Neutral, Stance::Agreed),
        contact("E01", at(7, 15), "R-SHOP", Stance::Hesitant, Stance::Leaning),
        contact("C01", at(8, 9), "R-POLICY", Stance::Opposed, Stance::Hesitant),
        contact("H001", at(9, 16), "R-ELDER", Stance::Hesitant, Stance::Agreed),
        contact("H002", at(9, 17), "R-POLICY", Stance::Hesitant, Stance::Leaning),
        contact("H003", at(10, 19), "R-FLATS", Stance::Opposed, Stance::Neutral),
    ];
    let decide = |holder: &str, choice| DecisionRecord {
        holder: holder.into(),
        choice: Some(choice),
        date: NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date"),
        evidence: format!("签约确认书 {holder}"),
        recorder: "街道更新办".into(),
    };
    let mut decisions = vec![decide("S01", Choice::Agree), decide("E01", Choice::Agree)];
    for n in 1..=24 {
        let choice = match n % 8 {
            3 => Choice::Oppose,
            6 => Choice::Abstain,
            _ => Choice::Agree,
        };
        decisions.push(decide(&format!("H{n:03}"), choice));
    }
    Some(DemoRegen {
        project,
        holders: imported,
        resources,
        contacts,
        decisions,
    })
}

/// Load the demo project through the store (after the premises).
pub async fn load(store: &Store, city: CityCode, premises: &Premises) -> Result<(), StoreError> {
    let Some(d) = build(premises) else { return Ok(()) };
    store.create_regen_project(city, &d.project, None).await?;
    store.import_regen_holders(city, PROJECT, &d.holders, None).await?;
    store.import_regen_resources(city, PROJECT, &d.resources, None).await?;
    for c in &d.contacts {
        store.add_regen_contact(city, PROJECT, c, None).await?;
    }
    for r in &d.decisions {
        store.record_regen_decision(city, PROJECT, r, None).await?;
    }
    Ok(())
}
