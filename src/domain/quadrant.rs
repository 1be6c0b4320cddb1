//! The 9-quadrant model (`assets/quadrants.json`): mental-health severity × addiction acuity.

use serde::{Deserialize, Serialize};

use super::error::DefinitionError;
use super::instrument::Source;

/// One of the three levels on either axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Moderate,
    High,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Low, Level::Moderate, Level::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Moderate => "moderate",
            Level::High => "high",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cell of the grid, identified as `{mh}_{acuity}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CellId {
    pub mh: Level,
    pub acuity: Level,
}

impl CellId {
    pub fn id(self) -> String {
        format!("{}_{}", self.mh, self.acuity)
    }

    pub fn parse(s: &str) -> Option<CellId> {
        let (mh, acuity) = s.split_once('_')?;
        let level = |x: &str| Level::ALL.into_iter().find(|l| l.as_str() == x);
        Some(CellId {
            mh: level(mh)?,
            acuity: level(acuity)?,
        })
    }

    pub fn all() -> impl Iterator<Item = CellId> {
        Level::ALL.into_iter().flat_map(|mh| {
            Level::ALL
                .into_iter()
                .map(move |acuity| CellId { mh, acuity })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisLevel {
    pub id: Level,
    pub label: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    pub name: String,
    /// Directory service category, which also picks the timeliness standard.
    pub category: String,
    pub system: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub id: String,
    pub mh: Level,
    pub acuity: Level,
    pub programs: Vec<Program>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quadrants {
    pub id: String,
    pub version: String,
    pub title: String,
    pub source: Source,
    pub mh_levels: Vec<AxisLevel>,
    pub acuity_levels: Vec<AxisLevel>,
    pub systems: Vec<System>,
    pub cells: Vec<Cell>,
}

impl Quadrants {
    pub fn cell(&self, id: CellId) -> &Cell {
        // validate() guarantees every cell exists exactly once.
        self.cells
            .iter()
            .find(|c| c.mh == id.mh && c.acuity == id.acuity)
            .expect("validated quadrant grid has all nine cells")
    }

    pub fn system_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.systems
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.name.as_str())
    }

    pub fn validate(&self, file: &str) -> Result<(), DefinitionError> {
        for cell in CellId::all() {
            let n = self
                .cells
                .iter()
                .filter(|c| c.mh == cell.mh && c.acuity == cell.acuity)
                .count();
            if n != 1 {
                return Err(DefinitionError::invalid(
                    file,
                    format!("cells.{}", cell.id()),
                    format!("must be defined exactly once, found {n}"),
                ));
            }
        }
        for (n, c) in self.cells.iter().enumerate() {
            let want = CellId {
                mh: c.mh,
                acuity: c.acuity,
            }
            .id();
            if c.id != want {
                return Err(DefinitionError::invalid(
                    file,
                    format!("cells[{n}].id"),
                    format!("`{}` should be `{want}`", c.id),
                ));
            }
            if c.programs.is_empty() {
                return Err(DefinitionError::invalid(
                    file,
                    format!("cells.{want}.programs"),
                    "is empty",
                ));
            }
            for p in &c.programs {
                if !self.systems.iter().any(|s| s.id == p.system) {
                    return Err(DefinitionError::invalid(
                        file,
                        format!("cells.{want}.programs"),
                        format!("unknown system `{}`", p.system),
                    ));
                }
            }
        }
        if self.mh_levels.len() != 3 || self.acuity_levels.len() != 3 {
            return Err(DefinitionError::invalid(
                file,
                "mh_levels",
                "both axes need exactly three levels",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_ids_round_trip() {
        let all: Vec<_> = CellId::all().collect();
        assert_eq!(all.len(), 9);
        for c in all {
            assert_eq!(CellId::parse(&c.id()), Some(c));
        }
        assert_eq!(CellId::parse("high"), None);
        assert_eq!(CellId::parse("low_extreme"), None);
    }
}
