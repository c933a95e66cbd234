//! The demo's wicked-problem initiative: quasi-residential use in two buildings of the first
//! grid, opened by the street office (`street.admin`, back stage) with a residents' committee
//! member (`committee`, front stage), parties, a first contact, a notice and a hand-off.

use gongzhi_core::visibility::Internal;
use gongzhi_core::wicked::{InitiativeEvent, Party, PartyKind, Position, ProblemType, Side, UnitRef};
use gongzhi_store::prelude::*;
use gongzhi_store::{Store, StoreError};

use crate::{Demo, CITY};

/// Buildings of the first grid in the initiative's area.
const BUILDINGS: usize = 2;

pub async fn load(store: &Store, demo: &Demo) -> Result<(), StoreError> {
    let (Some(back), Some(front)) = (store.account("street.admin").await?, store.account("committee").await?) else {
        return Ok(());
    };
    let Some(first) = demo.premises.buildings.first() else {
        return Ok(());
    };
    let buildings: Vec<&str> = demo
        .premises
        .buildings
        .iter()
        .take(BUILDINGS)
        .map(|b| b.code.as_str())
        .collect();
    let units: Vec<UnitRef> = demo
        .premises
        .units
        .iter()
        .filter(|u| buildings.contains(&u.building.as_str()))
        .map(|u| UnitRef {
            code: u.code.clone(),
            building: u.building.clone(),
            floor: u.floor,
            area: u.area,
        })
        .collect();
    let opened = InitiativeEvent::Opened {
        name: "水井坊产业楼宇类住宅整治".into(),
        problem: ProblemType::QuasiResidential,
        community: first.community.to_string(),
        scope: format!("{} 等 {BUILDINGS} 栋楼", first.name),
    };
    let id = store
        .create_initiative(CITY, &opened, (back.person_id.0, "街道办"))
        .await?;
    let committee = store
        .person(CITY, front.person_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let parties: Vec<InitiativeEvent> = units
        .chunks(4)
        .take(8)
        .enumerate()
        .map(|(i, chunk)| InitiativeEvent::PartyAdded {
            party: Party {
                id: i as u32 + 1,
                name: format!("业主{}", i + 1),
                kind: if i == 0 { PartyKind::Operator } else { PartyKind::Owner },
                units: chunk.iter().map(|u| u.code.clone()).collect(),
            },
        })
        .collect();
    let mut back_steps = vec![
        InitiativeEvent::UnitsRegistered { units },
        InitiativeEvent::MemberJoined {
            person: front.person_id.0,
            name: committee,
            side: Side::Front,
        },
    ];
    back_steps.extend(parties);
    back_steps.push(InitiativeEvent::NoteAdded {
        id: 1,
        text: Internal::new(id, "与区住建局初步沟通：改回商业用途需先消除消防隐患。".into()),
    });
    store
        .record_initiative(CITY, id, 2, Side::Back, back.person_id, &back_steps)
        .await?;
    let version = 2 + back_steps.len() as i64;
    let front_steps = [
        InitiativeEvent::ContactLogged {
            party: 1,
            by: front.person_id.0,
            position: Position::Conditional,
            concerns: "担心整治期间停业损失".into(),
        },
        InitiativeEvent::NoticePosted {
            text: "居民自治委员会将逐户走访摸排，请大家配合。".into(),
        },
        InitiativeEvent::HandoffOpened {
            id: 2,
            from: Side::Front,
            summary: "请明确类住宅改回商业用途的法律依据".into(),
            limit_days: 5,
        },
    ];
    store
        .record_initiative(CITY, id, version, Side::Front, front.person_id, &front_steps)
        .await?;
    Ok(())
}
