//! The demo's micro-renewal needs (社区微更新): 60 needs of the first community generated from
//! the templates of `gongzhi_core::renewal::synth` (twelve problems at six places, paraphrased),
//! raised by the demo resident and [`RAISERS`] other residents and recorded by the grid worker
//! from visits and meetings, then clustered, so that the renewal pages show real content.

use gongzhi_store::prelude::*;
use std::collections::HashMap;

use geo::{Contains, InteriorPoint, Point};
use gongzhi_core::access::{Grant, Scope};
use gongzhi_core::gridteam::{Need, NeedSource, NeedStatus, Urgency};
use gongzhi_core::org::Role;
use gongzhi_core::renewal::{cluster, synth};
use gongzhi_store::{GridList, NewPerson, NewRecord, Store, StoreError};

use crate::{Demo, CITY};

/// Residents besides the demo resident who raise the residents' needs.
pub const RAISERS: usize = 15;

/// Write the first community's needs and cluster them.
pub async fn load(store: &Store, demo: &Demo) -> Result<(), StoreError> {
    let Some(first) = demo.grids.first() else { return Ok(()) };
    let community = first.community.to_string();
    let Some(centre) = first.geometry.interior_point() else {
        return Ok(());
    };
    let person = |u: &'static str| async move { Ok::<_, StoreError>(store.account(u).await?.map(|a| a.person_id)) };
    let (Some(resident), Some(worker)) = (person("resident").await?, person("gridworker").await?) else {
        return Ok(());
    };
    let grids: Vec<_> = demo.grids.iter().filter(|g| g.community == first.community).collect();
    let people: Vec<NewPerson> = (0..RAISERS)
        .map(|i| NewPerson {
            name: format!("提议居民{:02}", i + 1),
            phone: None,
            org: None,
            grants: vec![Grant {
                role: Role::Resident,
                scope: Scope::Division(first.community.clone()),
            }],
            account: None,
        })
        .collect();
    let mut raisers = vec![resident];
    raisers.extend(store.create_people(CITY, &people, None).await?);
    // The grid worker records visit needs for the community's registered households.
    let grid_codes: Vec<&str> = grids.iter().map(|g| g.code.as_str()).collect();
    let households: Vec<i64> = store
        .grid_records(CITY, GridList::Households, &grid_codes, None)
        .await?
        .iter()
        .map(|h| h.id)
        .collect();
    let generated = synth::community(centre.x(), centre.y(), 2026);
    let mut records = Vec::with_capacity(generated.len());
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (k, (n, topic)) in generated.iter().enumerate() {
        let area = grids
            .iter()
            .find(|g| g.geometry.contains(&Point::new(n.lng, n.lat)))
            .map_or_else(|| community.clone(), |g| g.code.to_string());
        // Each problem's needs come from residents, visits and meetings in turn, so that
        // every cluster has residents and households behind it.
        let nth = seen.entry(*topic).or_insert(0usize);
        let turn = (*nth + *topic as usize) % 3;
        *nth += 1;
        let (source, raised_by, household) = match turn {
            0 => (NeedSource::Resident, raisers[(k / 3) % raisers.len()], None),
            1 => (
                NeedSource::Visit,
                worker,
                (!households.is_empty()).then(|| households[(k / 3) % households.len()]),
            ),
            _ => (NeedSource::Meeting, worker, None),
        };
        let need = Need {
            category: n.category,
            text: n.text.clone(),
            lng: n.lng,
            lat: n.lat,
            area: None,
            urgency: Urgency::Normal,
            source,
            raised_by: Some(raised_by.0),
            household,
            group: None,
            quantity: 1,
            evidence: Vec::new(),
        };
        records.push(NewRecord {
            list: GridList::Needs,
            area,
            status: NeedStatus::Open.as_str().into(),
            person: Some(raised_by.0),
            body: serde_json::to_value(&need).unwrap_or_default(),
        });
    }
    let ids = store.add_grid_records(CITY, &records, Some(worker)).await?;
    // Cluster them as the staff's run would (the stored needs get their ids).
    let points: Vec<cluster::NeedPoint> = ids
        .iter()
        .zip(&generated)
        .map(|(id, (n, _))| cluster::NeedPoint { id: *id, ..n.clone() })
        .collect();
    let groups = cluster::cluster(&points, &cluster::ClusterParams::default());
    let plan = cluster::refresh_plan(&groups, &HashMap::new());
    let by_id: HashMap<i64, &cluster::NeedPoint> = points.iter().map(|p| (p.id, p)).collect();
    let create: Vec<(String, Vec<i64>)> = plan
        .create
        .iter()
        .map(|g| {
            let members: Vec<cluster::NeedPoint> =
                g.iter().filter_map(|id| by_id.get(id).map(|p| (*p).clone())).collect();
            (cluster::suggest_name(&members), g.clone())
        })
        .collect();
    store
        .refresh_clusters(CITY, &community, &[], &create, Some(worker))
        .await?;
    Ok(())
}
