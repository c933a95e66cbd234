//! What-if replay (推演): the recorded intake of a period re-run through the routing of a
//! hierarchy (layered 逐级转派 or flat 直达) and a queueing model of each unit's capacity.
//!
//! The model is deliberately small and its assumptions are printed with its results
//! ([`Assumptions::describe`]): every unit is a first-come-first-served queue with as many
//! servers as it has workers (forwarding desks: [`Assumptions::forward_desks`]); forwarding takes
//! [`Assumptions::forward_minutes`] of a desk, handling [`Assumptions::handling_hours`] of a
//! worker; units work [`Assumptions::working_share`] of the clock.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::flat::{acting_level, forwarding_levels};
use crate::territory::{Hierarchy, Level};

/// One recorded case as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    /// When the city centre dispatched it (unix ms).
    pub at_ms: i64,
    /// The time it was given (deadline − dispatch, ms), as recorded.
    pub limit_ms: i64,
    /// The catalogue's target level (district, street or community).
    pub target: Level,
    /// The department at the district level, if the target is one (else the street office or
    /// community committee acts).
    pub department: Option<String>,
    /// The community code (12 digits) of the place; its first 6 and 9 digits name the district
    /// and street.
    pub community: String,
}

/// The model's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Minutes of a desk's work to read and pass a case on, per forwarding level.
    pub forward_minutes: f64,
    /// Forwarding desks per district and per street.
    pub forward_desks: u32,
    /// Worker-hours to handle one case at the acting unit.
    pub handling_hours: f64,
    /// The share of the clock units work: 8 h × 5 days / 168 h ≈ 0.24; service times are divided by it.
    pub working_share: f64,
    /// Workers of a street office (its grassroots case handlers).
    pub street_staff: u32,
    /// Workers of a district department who handle cases.
    pub department_staff: u32,
    /// Workers of a community without a staff record.
    pub community_staff: u32,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            forward_minutes: 30.0,
            forward_desks: 1,
            handling_hours: 2.0,
            working_share: 40.0 / 168.0,
            street_staff: 6,
            department_staff: 10,
            community_staff: 4,
        }
    }
}

impl Assumptions {
    /// The assumptions in words, one per line, printed with every result.
    pub fn describe(&self) -> Vec<String> {
        vec![
            "每个单位是先到先服务的排队 / every unit is a first-come-first-served queue with one server per worker".into(),
            format!(
                "逐级转派：每一层每案 {} 分钟，每个区、街道 {} 个转派岗 / forwarding: {} min per case and level, {} desk(s) per district and street",
                self.forward_minutes, self.forward_desks, self.forward_minutes, self.forward_desks
            ),
            format!(
                "处置：每案 {} 工时 / handling: {} worker-hours per case",
                self.handling_hours, self.handling_hours
            ),
            format!(
                "工作时间占钟点 {:.3}（服务时间按此放大）/ units work {:.1} % of the clock; service times are divided by it",
                self.working_share,
                self.working_share * 100.0
            ),
            format!(
                "人员：街道 {} 人，区职能部门 {} 人，无人员记录的社区 {} 人；扁平模式下街道撤销、人员不下沉 / staff: street office {}, department {}, community without a record {}; flat: street offices removed, staff not redeployed",
                self.street_staff, self.department_staff, self.community_staff,
                self.street_staff, self.department_staff, self.community_staff
            ),
            "时限：按记录的派遣至截止时长；按时 = 处置完成不晚于截止 / limit: the recorded dispatch-to-deadline time; on time = handled by the deadline".into(),
            "街道事项在无街道层级时由社区承接；部门事项始终由部门承接 / street matters go to the community where streets are not governed; department matters stay with the department".into(),
        ]
    }
}

/// The figures of one hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub hierarchy: Vec<Level>,
    pub cases: u64,
    /// Mean forwarding hops per case.
    pub hops_per_case: f64,
    /// Mean hours from the city's dispatch to the acting unit.
    pub hours_to_reach: f64,
    /// Share of cases handled by their deadline.
    pub on_time_rate: f64,
    /// Cases at grassroots units (street offices, communities).
    pub grassroots_cases: u64,
    pub grassroots_workers: u64,
    /// Grassroots cases per grassroots worker over the period.
    pub load_per_grassroots_worker: f64,
    /// Mean hours from the city's dispatch to handled.
    pub hours_to_handled: f64,
}

/// The model: the intake (any order), the staff of communities (code → workers), the assumptions.
pub fn simulate(intake: &[Intake], hierarchy: &Hierarchy, staff: &HashMap<String, u32>, a: &Assumptions) -> Outcome {
    let share = if a.working_share > 0.0 { a.working_share } else { 1.0 };
    let forward_h = a.forward_minutes / 60.0 / share;
    let handle_h = a.handling_hours / share;
    let t0 = intake.iter().map(|c| c.at_ms).min().unwrap_or(0);
    let hours = |ms: i64| (ms - t0) as f64 / 3_600_000.0;

    // Per case: the units it meets, in order (forwarding desks, then the acting unit).
    struct Plan {
        arrive: f64,
        /// (stage, unit key, service hours, servers): stage 0 district desks, 1 street desks,
        /// 2 acting units.
        stops: Vec<(usize, String, f64, u32)>,
        reach: f64,
        grassroots: bool,
    }
    let mut grassroots_units: BTreeMap<String, u32> = BTreeMap::new();
    let mut plans: Vec<Plan> = intake
        .iter()
        .map(|c| {
            let district = &c.community[..6.min(c.community.len())];
            let street = &c.community[..9.min(c.community.len())];
            let acting = acting_level(hierarchy, c.target, c.department.is_some());
            let mut stops: Vec<(usize, String, f64, u32)> = forwarding_levels(hierarchy, acting)
                .into_iter()
                .map(|l| match l {
                    Level::District => (0, format!("fwd:{district}"), forward_h, a.forward_desks.max(1)),
                    _ => (1, format!("fwd:{street}"), forward_h, a.forward_desks.max(1)),
                })
                .collect();
            let (key, servers, grassroots) = match (&c.department, acting) {
                (Some(d), _) => (format!("dept:{district}:{d}"), a.department_staff, false),
                (None, Level::Street) | (None, Level::District) => (format!("street:{street}"), a.street_staff, true),
                (None, _) => {
                    let n = staff.get(&c.community).copied().unwrap_or(a.community_staff);
                    (format!("community:{}", c.community), n, true)
                }
            };
            if grassroots {
                grassroots_units.insert(key.clone(), servers);
            }
            stops.push((2, key, handle_h, servers.max(1)));
            Plan {
                arrive: hours(c.at_ms),
                stops,
                reach: 0.0,
                grassroots,
            }
        })
        .collect();

    // Stage by stage (district desks, street desks, acting units): every case meets its stops
    // in that order, so a stage's arrivals are known once the stages before are done; within a
    // unit, first come first served over its servers.
    let mut clock: Vec<f64> = plans.iter().map(|p| p.arrive).collect();
    let mut servers: HashMap<String, Vec<f64>> = HashMap::new();
    for stage in 0..3 {
        let mut queue: Vec<(f64, usize, usize)> = plans
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.stops.iter().position(|s| s.0 == stage).map(|k| (clock[i], i, k)))
            .collect();
        queue.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for (arrival, i, k) in queue {
            let p = &mut plans[i];
            let (_, key, service, n) = &p.stops[k];
            let free = servers
                .entry(key.clone())
                .or_insert_with(|| vec![f64::NEG_INFINITY; *n as usize]);
            let slot = (0..free.len())
                .min_by(|x, y| free[*x].total_cmp(&free[*y]))
                .expect("a unit has a server");
            let end = arrival.max(free[slot]) + service;
            free[slot] = end;
            if stage == 2 {
                p.reach = arrival;
            }
            clock[i] = end;
        }
    }

    let n = intake.len() as u64;
    let mut hops = 0usize;
    let mut reach = 0.0;
    let mut handled = 0.0;
    let mut on_time = 0u64;
    let mut grassroots_cases = 0u64;
    for ((c, p), done) in intake.iter().zip(&plans).zip(&clock) {
        hops += p.stops.len() - 1;
        reach += p.reach - p.arrive;
        handled += done - p.arrive;
        if *done <= p.arrive + c.limit_ms as f64 / 3_600_000.0 + 1e-9 {
            on_time += 1;
        }
        grassroots_cases += u64::from(p.grassroots);
    }
    let mut workers: u64 = grassroots_units.values().map(|w| u64::from(*w)).sum();
    // Units without cases still employ their workers: the communities with a staff record, and
    // the street offices where streets are governed.
    let mut streets = std::collections::BTreeSet::new();
    for (code, w) in staff {
        if !grassroots_units.contains_key(&format!("community:{code}")) {
            workers += u64::from(*w);
        }
        let street = format!("street:{}", &code[..9.min(code.len())]);
        if hierarchy.includes(Level::Street) && !grassroots_units.contains_key(&street) && streets.insert(street) {
            workers += u64::from(a.street_staff);
        }
    }
    let per = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    Outcome {
        hierarchy: hierarchy.levels().to_vec(),
        cases: n,
        hops_per_case: per(hops as f64),
        hours_to_reach: per(reach),
        on_time_rate: per(on_time as f64),
        grassroots_cases,
        grassroots_workers: workers,
        load_per_grassroots_worker: if workers == 0 {
            0.0
        } else {
            grassroots_cases as f64 / workers as f64
        },
        hours_to_handled: per(handled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn case(at_h: i64, limit_h: i64, target: Level, dept: Option<&str>) -> Intake {
        Intake {
            at_ms: 1_700_000_000_000 + at_h * H,
            limit_ms: limit_h * H,
            target,
            department: dept.map(str::to_owned),
            community: "510104001001".into(),
        }
    }

    /// A hand-made history: two community matters at t=0 (limit 4 h), a street matter at t=1
    /// (limit 3 h), a department matter at t=0 (limit 2 h); one worker everywhere, one desk,
    /// forwarding 1 h, handling 2 h, the clock fully worked.
    #[test]
    fn hand_made_history_in_both_modes() {
        let intake = [
            case(0, 4, Level::Community, None),
            case(0, 4, Level::Community, None),
            case(1, 3, Level::Street, None),
            case(0, 2, Level::District, Some("城市管理和综合执法局")),
        ];
        let a = Assumptions {
            forward_minutes: 60.0,
            forward_desks: 1,
            handling_hours: 2.0,
            working_share: 1.0,
            street_staff: 1,
            department_staff: 1,
            community_staff: 1,
        };
        let staff = HashMap::from([("510104001001".to_owned(), 1)]);

        // Layered. District desk: A 0→1, B 1→2, C 2→3. Street desk: A 1→2, B 2→3.
        // Reached: A 2, B 3, C 3 (2 h after its intake), D 0. Community: A 2→4, B 4→6;
        // street office: C 3→5; department: D 0→2. On time: A (4 ≤ 4), D (2 ≤ 2); B and C late.
        let l = simulate(&intake, &Hierarchy::layered(), &staff, &a);
        assert_eq!(l.cases, 4);
        assert_eq!(l.hops_per_case, 5.0 / 4.0);
        assert_eq!(l.hours_to_reach, 7.0 / 4.0);
        assert_eq!(l.on_time_rate, 0.5);
        assert_eq!((l.grassroots_cases, l.grassroots_workers), (3, 2));
        assert_eq!(l.load_per_grassroots_worker, 1.5);
        // Handled after: A 4, B 6, C 4 (5 − 1), D 2.
        assert_eq!(l.hours_to_handled, 16.0 / 4.0);

        // Flat. No hops; the street matter goes to the community. Community: A 0→2, B 2→4,
        // C 4→6 (limit ends at 4: late); department D 0→2. 3 of 4 on time, 3 cases on 1 worker.
        let f = simulate(&intake, &Hierarchy::flat(), &staff, &a);
        assert_eq!(f.hops_per_case, 0.0);
        assert_eq!(f.hours_to_reach, 0.0);
        assert_eq!(f.on_time_rate, 0.75);
        assert_eq!((f.grassroots_cases, f.grassroots_workers), (3, 1));
        assert_eq!(f.load_per_grassroots_worker, 3.0);
        assert_eq!(f.hours_to_handled, (2.0 + 4.0 + 5.0 + 2.0) / 4.0);
    }

    #[test]
    fn working_share_stretches_service_and_empty_intake_is_zero() {
        let a = Assumptions {
            working_share: 0.5,
            ..Assumptions::default()
        };
        let o = simulate(
            &[case(0, 100, Level::Community, None)],
            &Hierarchy::flat(),
            &HashMap::new(),
            &a,
        );
        // 2 worker-hours at half the clock: 4 hours.
        assert_eq!(o.hours_to_handled, 4.0);
        assert_eq!(o.grassroots_workers, u64::from(a.community_staff));
        let e = simulate(&[], &Hierarchy::layered(), &HashMap::new(), &a);
        assert_eq!((e.cases, e.on_time_rate), (0, 0.0));
        assert_eq!(a.describe().len(), 7);
    }
}
