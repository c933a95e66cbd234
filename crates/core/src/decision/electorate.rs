//! The electorate of a decision: holders (业主 / 权利人 / 住户) with a head-count weight, an exact
//! floor area, an optional share value, eligibility, and their position (agree / oppose / abstain /
//! not yet).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DomainError;

/// Sub-units of a square metre kept exactly: areas are integers of 1/10,000 m².
pub const AREA_SCALE: u64 = 10_000;

/// An exact floor area (专有部分面积) in m², parsed from a decimal like "85.37" (at most four
/// decimal places, never through a float). Serialised as that decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Area(u64);

impl Area {
    pub const ZERO: Area = Area(0);

    /// From a count of 1/10,000 m².
    pub fn from_units(units: u64) -> Self {
        Area(units)
    }

    /// From whole square metres.
    pub fn from_m2(m2: u64) -> Self {
        Area(m2 * AREA_SCALE)
    }

    /// The area as a count of 1/10,000 m².
    pub fn units(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", units_to_decimal(self.0 as u128))
    }
}

/// Writes a count of 1/10,000 m² as a decimal without trailing zeros ("85.37", "120").
pub(crate) fn units_to_decimal(units: u128) -> String {
    let whole = units / AREA_SCALE as u128;
    let frac = units % AREA_SCALE as u128;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:04}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl FromStr for Area {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = |why: &str| {
            DomainError::invalid(
                "area",
                format!("{t:?} is not an area in m²: {why} (write a decimal such as 85.37)"),
            )
        };
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("only digits and one decimal point are allowed"));
        }
        if frac.len() > 4 {
            return Err(bad("at most four decimal places"));
        }
        let w: u64 = whole.parse().map_err(|_| bad("it is too large"))?;
        let f: u64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<4}").parse().map_err(|_| bad("bad decimals"))?
        };
        w.checked_mul(AREA_SCALE)
            .and_then(|x| x.checked_add(f))
            .map(Area)
            .ok_or_else(|| bad("it is too large"))
    }
}

impl Serialize for Area {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Area {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(u64),
            Float(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Int(i) => i.to_string(),
            // Shortest round-trip form: "85.37" stays "85.37".
            Raw::Float(x) => x.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A holder's position on the matter. Abstaining holders take part (参与表决) without agreeing;
/// `NotYet` holders have not taken part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// 同意
    Agree,
    /// 反对
    Oppose,
    /// 弃权 (takes part)
    Abstain,
    /// 未表态 / 未参与
    #[default]
    NotYet,
}

impl Position {
    /// Whether the holder takes part in the vote (参与表决).
    pub fn participates(self) -> bool {
        !matches!(self, Position::NotYet)
    }
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// One holder of the electorate: an owner (业主), a rights holder (权利人) or a household (户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Stable id, unique in the electorate.
    pub id: String,
    /// Head-count weight (人数): 1 for one owner however many units they hold.
    #[serde(default = "one")]
    pub heads: u32,
    /// Floor area of the holder's exclusive parts (专有部分面积).
    #[serde(default)]
    pub area: Area,
    /// Share value (份额, as in a strata title's share value); 0 when not used.
    #[serde(default)]
    pub share: u64,
    /// Whether the holder may take part; ineligible holders count nowhere.
    #[serde(default = "yes")]
    pub eligible: bool,
    #[serde(default)]
    pub position: Position,
}

impl Holder {
    /// An eligible holder of one head with an area and no position yet.
    pub fn new(id: impl Into<String>, area: Area) -> Self {
        Holder {
            id: id.into(),
            heads: 1,
            area,
            share: 0,
            eligible: true,
            position: Position::NotYet,
        }
    }

    pub fn with_share(mut self, share: u64) -> Self {
        self.share = share;
        self
    }

    pub fn with_position(mut self, position: Position) -> Self {
        self.position = position;
        self
    }

    /// The holder's weight in one measure.
    pub fn weight(&self, m: Measure) -> u128 {
        match m {
            Measure::Heads => self.heads as u128,
            Measure::Area => self.area.units() as u128,
            Measure::Share => self.share as u128,
        }
    }
}

/// What a condition counts: heads (人数), floor area (面积) or share value (份额).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Heads,
    Area,
    Share,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Measure::Heads, Measure::Area, Measure::Share];

    /// An amount of this measure as text: heads and shares as integers, area in m².
    pub fn show(self, amount: u128) -> String {
        match self {
            Measure::Area => format!("{} m²", units_to_decimal(amount)),
            _ => amount.to_string(),
        }
    }

    /// The Chinese name (as `zh()`).
    pub fn name_zh(self) -> &'static str {
        self.zh()
    }

    /// The English name (as `en()`).
    pub fn name_en(self) -> &'static str {
        self.en()
    }
}

crate::org::enum_labels!(Measure {
    Heads => "heads", "人数", "head count";
    Area => "area", "面积", "area";
    Share => "share", "份额", "share value";
});

/// Sums of heads, area and share value over a group of holders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Weights {
    /// Number of holders in the group.
    pub holders: u64,
    pub heads: u64,
    pub area: Area,
    pub share: u64,
}

impl Weights {
    pub fn add(&mut self, h: &Holder) {
        self.holders += 1;
        self.heads += h.heads as u64;
        self.area = Area::from_units(self.area.units() + h.area.units());
        self.share += h.share;
    }

    pub fn get(&self, m: Measure) -> u128 {
        match m {
            Measure::Heads => self.heads as u128,
            Measure::Area => self.area.units() as u128,
            Measure::Share => self.share as u128,
        }
    }
}

/// The eligible holders of a decision, ids checked unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Electorate {
    holders: Vec<Holder>,
}

impl Electorate {
    /// Checks that ids are unique and non-empty.
    pub fn new(holders: Vec<Holder>) -> Result<Self, DomainError> {
        let mut seen = std::collections::HashSet::new();
        for (i, h) in holders.iter().enumerate() {
            if h.id.trim().is_empty() {
                return Err(DomainError::invalid(format!("holders[{i}].id"), "a holder needs an id"));
            }
            if !seen.insert(h.id.as_str()) {
                return Err(DomainError::invalid(
                    format!("holders[{i}].id"),
                    format!("holder id {:?} appears twice; each holder once", h.id),
                ));
            }
        }
        Ok(Electorate { holders })
    }

    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }

    /// Eligible holders only.
    pub fn eligible(&self) -> impl Iterator<Item = &Holder> {
        self.holders.iter().filter(|h| h.eligible)
    }

    /// Records a position; an unknown id is an error.
    pub fn set_position(&mut self, id: &str, position: Position) -> Result<(), DomainError> {
        match self.holders.iter_mut().find(|h| h.id == id) {
            Some(h) => {
                h.position = position;
                Ok(())
            }
            None => Err(DomainError::invalid(
                "holder",
                format!("no holder {id:?} in this electorate"),
            )),
        }
    }

    /// Totals of the eligible holders (all members), of those taking part, and per position.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for h in self.eligible() {
            t.members.add(h);
            match h.position {
                Position::Agree => t.agree.add(h),
                Position::Oppose => t.oppose.add(h),
                Position::Abstain => t.abstain.add(h),
                Position::NotYet => t.not_yet.add(h),
            }
            if h.position.participates() {
                t.participating.add(h);
            }
        }
        t
    }
}

/// Weights of the eligible holders by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    pub members: Weights,
    pub participating: Weights,
    pub agree: Weights,
    pub oppose: Weights,
    pub abstain: Weights,
    pub not_yet: Weights,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_parse_exactly() {
        assert_eq!("85.37".parse::<Area>().unwrap().units(), 853_700);
        assert_eq!("0.0001".parse::<Area>().unwrap().units(), 1);
        assert_eq!("120".parse::<Area>().unwrap(), Area::from_m2(120));
        assert_eq!(Area::from_units(853_700).to_string(), "85.37");
        assert_eq!(Area::from_m2(120).to_string(), "120");
        for bad in ["", "1.23456", "-3", "1,5", "abc", ".5"] {
            let e = bad.parse::<Area>().unwrap_err().to_string();
            assert!(e.contains("area"), "{bad}: {e}");
        }
        let a: Area = serde_json::from_str("85.37").unwrap();
        assert_eq!(a.units(), 853_700);
        let a: Area = serde_json::from_str("\"85.37\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"85.37\"");
    }

    #[test]
    fn electorate_refuses_duplicate_ids_and_tallies_eligible_holders() {
        let h = Holder::new("a", Area::from_m2(10));
        assert!(Electorate::new(vec![h.clone(), h.clone()])
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let mut ineligible = Holder::new("b", Area::from_m2(5));
        ineligible.eligible = false;
        let mut e = Electorate::new(vec![h, ineligible, Holder::new("c", Area::from_m2(7))]).unwrap();
        e.set_position("a", Position::Abstain).unwrap();
        e.set_position("c", Position::Agree).unwrap();
        assert!(e.set_position("zz", Position::Agree).is_err());
        let t = e.tally();
        assert_eq!(t.members.holders, 2);
        assert_eq!(t.members.area, Area::from_m2(17));
        assert_eq!(t.participating.heads, 2);
        assert_eq!(t.agree.area, Area::from_m2(7));
        assert_eq!(t.abstain.holders, 1);
    }
}
