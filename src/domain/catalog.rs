//! Loading and cross-checking every clinical definition the product ships.
//!
//! The files are embedded in the binary (so a field laptop cannot lose them) and validated at
//! start-up; [`Definitions::from_sources`] takes any set of files so tests can break one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::directory::Directory;
use super::error::DefinitionError;
use super::instrument::{Instrument, Source};
use super::placement::PlacementRules;
use super::quadrant::Quadrants;
use super::timeliness::{Calendar, Holidays, Timeliness};

macro_rules! shipped {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../", $path)))),*]
    };
}

/// Every definition file shipped with the product, by repository path.
pub const SHIPPED: &[(&str, &str)] = shipped!(
    "assets/flow.json",
    "assets/quadrants.json",
    "assets/placement.json",
    "assets/instruments/safety_check.json",
    "assets/instruments/cssrs_screen.json",
    "assets/instruments/dhcs_adult.json",
    "assets/instruments/dhcs_youth.json",
    "assets/instruments/auditc.json",
    "assets/instruments/dast10.json",
    "assets/instruments/mh_history.json",
    "assets/instruments/phq9.json",
    "assets/instruments/gad7.json",
    "assets/instruments/asam_triage.json",
    "data/timeliness.json",
    "data/holidays.json",
    "data/directory.json",
    "data/service_areas.json",
);

/// Flags the encounter itself raises (not an instrument): the screener opened the crisis protocol.
pub const ENCOUNTER_FLAGS: &[&str] = &["crisis_opened"];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowStep {
    pub id: String,
    pub title: String,
    pub instruments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub steps: Vec<FlowStep>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaZips {
    pub id: u8,
    pub name: String,
    pub zips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAreas {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub areas: Vec<AreaZips>,
}

impl ServiceAreas {
    /// The county service area (1–8) of a ZIP code, if the table knows it.
    pub fn area_of_zip(&self, zip: &str) -> Option<u8> {
        self.areas
            .iter()
            .find(|a| a.zips.iter().any(|z| z == zip))
            .map(|a| a.id)
    }
}

/// All clinical content, validated.
#[derive(Debug, Clone)]
pub struct Definitions {
    pub flow: Flow,
    pub instruments: BTreeMap<String, Instrument>,
    pub quadrants: Quadrants,
    pub placement: PlacementRules,
    pub timeliness: Timeliness,
    pub holidays: Holidays,
    pub calendar: Calendar,
    pub directory: Directory,
    pub service_areas: ServiceAreas,
}

fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, DefinitionError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            DefinitionError::Parse {
                file: file.into(),
                message: inner.to_string(),
            }
        } else {
            DefinitionError::Invalid {
                file: file.into(),
                field: path,
                problem: inner.to_string(),
            }
        }
    })
}

fn check_header(
    file: &str,
    id: &str,
    version: &str,
    source: &Source,
    want_id: &str,
) -> Result<(), DefinitionError> {
    if id != want_id {
        return Err(DefinitionError::invalid(
            file,
            "id",
            format!("`{id}` does not match the file name (`{want_id}`)"),
        ));
    }
    if version.trim().is_empty() {
        return Err(DefinitionError::invalid(
            file,
            "version",
            "must not be empty",
        ));
    }
    if source.citation.trim().is_empty() {
        return Err(DefinitionError::invalid(
            file,
            "source.citation",
            "must not be empty",
        ));
    }
    Ok(())
}

impl Definitions {
    /// The definitions shipped in the binary.
    pub fn builtin() -> Result<Definitions, DefinitionError> {
        Definitions::from_sources(SHIPPED.iter().map(|(p, t)| (p.to_string(), t.to_string())))
    }

    /// Load from `(path, text)` pairs laid out like the repository (`assets/…`, `data/…`).
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Definitions, DefinitionError> {
        let files: BTreeMap<String, String> = sources.into_iter().collect();
        let get = |path: &str| {
            files.get(path).ok_or_else(|| DefinitionError::Io {
                file: path.into(),
                message: "missing".into(),
            })
        };
        let flow: Flow = parse("assets/flow.json", get("assets/flow.json")?)?;
        check_header(
            "assets/flow.json",
            &flow.id,
            &flow.version,
            &flow.source,
            "flow",
        )?;
        let mut instruments = BTreeMap::new();
        let mut order = Vec::new();
        for (path, text) in files
            .iter()
            .filter(|(p, _)| p.starts_with("assets/instruments/"))
        {
            let inst: Instrument = parse(path, text)?;
            let stem = path
                .trim_start_matches("assets/instruments/")
                .trim_end_matches(".json");
            if instruments.contains_key(&inst.id) {
                return Err(DefinitionError::DuplicateId {
                    file: path.clone(),
                    id: inst.id,
                });
            }
            check_header(path, &inst.id, &inst.version, &inst.source, stem)?;
            inst.validate(path)?;
            order.push(inst.id.clone());
            instruments.insert(inst.id.clone(), inst);
        }
        let quadrants: Quadrants = parse("assets/quadrants.json", get("assets/quadrants.json")?)?;
        check_header(
            "assets/quadrants.json",
            &quadrants.id,
            &quadrants.version,
            &quadrants.source,
            "quadrants",
        )?;
        quadrants.validate("assets/quadrants.json")?;
        let placement: PlacementRules =
            parse("assets/placement.json", get("assets/placement.json")?)?;
        check_header(
            "assets/placement.json",
            &placement.id,
            &placement.version,
            &placement.source,
            "placement",
        )?;
        let timeliness: Timeliness = parse("data/timeliness.json", get("data/timeliness.json")?)?;
        check_header(
            "data/timeliness.json",
            &timeliness.id,
            &timeliness.version,
            &timeliness.source,
            "timeliness",
        )?;
        timeliness.validate("data/timeliness.json")?;
        let holidays: Holidays = parse("data/holidays.json", get("data/holidays.json")?)?;
        check_header(
            "data/holidays.json",
            &holidays.id,
            &holidays.version,
            &holidays.source,
            "holidays",
        )?;
        let mut seen = BTreeSet::new();
        for (n, h) in holidays.holidays.iter().enumerate() {
            if !seen.insert(h.date) {
                return Err(DefinitionError::invalid(
                    "data/holidays.json",
                    format!("holidays[{n}].date"),
                    format!("{} listed twice", h.date),
                ));
            }
        }
        let directory: Directory = parse("data/directory.json", get("data/directory.json")?)?;
        check_header(
            "data/directory.json",
            &directory.id,
            &directory.version,
            &directory.source,
            "directory",
        )?;
        let categories = timeliness
            .standards
            .iter()
            .flat_map(|s| s.categories.iter().cloned())
            .collect();
        directory.validate("data/directory.json", &categories)?;
        let service_areas: ServiceAreas =
            parse("data/service_areas.json", get("data/service_areas.json")?)?;
        check_header(
            "data/service_areas.json",
            &service_areas.id,
            &service_areas.version,
            &service_areas.source,
            "service_areas",
        )?;
        let calendar = Calendar::new(&holidays);
        let defs = Definitions {
            flow,
            instruments,
            quadrants,
            placement,
            timeliness,
            holidays,
            calendar,
            directory,
            service_areas,
        };
        defs.cross_check(&order)?;
        Ok(defs)
    }

    /// Instruments in the order the flow presents them.
    pub fn instruments_in_order(&self) -> impl Iterator<Item = &Instrument> {
        self.flow
            .steps
            .iter()
            .flat_map(|s| s.instruments.iter())
            .filter_map(|id| self.instruments.get(id))
    }

    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    /// `id → version` of every definition, stamped on each encounter.
    pub fn versions(&self) -> BTreeMap<String, String> {
        let mut v: BTreeMap<String, String> = self
            .instruments
            .values()
            .map(|i| (i.id.clone(), i.version.clone()))
            .collect();
        for (id, ver) in [
            (&self.flow.id, &self.flow.version),
            (&self.quadrants.id, &self.quadrants.version),
            (&self.placement.id, &self.placement.version),
            (&self.timeliness.id, &self.timeliness.version),
            (&self.holidays.id, &self.holidays.version),
            (&self.directory.id, &self.directory.version),
            (&self.service_areas.id, &self.service_areas.version),
        ] {
            v.insert(id.clone(), ver.clone());
        }
        v
    }

    /// References between files: the flow names real instruments, skip logic only looks back,
    /// placement rules name real instruments, items, bands and flags.
    fn cross_check(&self, files: &[String]) -> Result<(), DefinitionError> {
        let flow_file = "assets/flow.json";
        let mut listed = Vec::new();
        for (s, step) in self.flow.steps.iter().enumerate() {
            for id in &step.instruments {
                if !self.instruments.contains_key(id) {
                    return Err(DefinitionError::invalid(
                        flow_file,
                        format!("steps[{s}].instruments"),
                        format!("unknown instrument `{id}`"),
                    ));
                }
                if listed.contains(id) {
                    return Err(DefinitionError::invalid(
                        flow_file,
                        format!("steps[{s}].instruments"),
                        format!("`{id}` listed twice"),
                    ));
                }
                listed.push(id.clone());
            }
        }
        if let Some(orphan) = files.iter().find(|f| !listed.contains(f)) {
            return Err(DefinitionError::invalid(
                flow_file,
                "steps",
                format!("instrument `{orphan}` is not in any step"),
            ));
        }
        let mut flags: BTreeSet<String> = ENCOUNTER_FLAGS.iter().map(|s| s.to_string()).collect();
        for (pos, id) in listed.iter().enumerate() {
            let inst = &self.instruments[id];
            let file = format!("assets/instruments/{id}.json");
            if let Some(c) = &inst.applies_if {
                let mut refs = Vec::new();
                c.instrument_refs(id, &mut refs);
                if let Some(bad) = refs.iter().find(|r| !listed[..pos].contains(r)) {
                    return Err(DefinitionError::invalid(
                        &file,
                        "applies_if",
                        format!("refers to `{bad}`, which is not an earlier instrument"),
                    ));
                }
                self.check_flags(c, &flags, &file, "applies_if")?;
            }
            for f in &inst.flags {
                flags.insert(f.id.clone());
            }
        }
        let file = "assets/placement.json";
        for rule in self.placement.all_rules() {
            let field = format!("rules.{}", rule.id);
            let mut insts = Vec::new();
            rule.when.instrument_refs("", &mut insts);
            if let Some(bad) = insts.iter().find(|i| !self.instruments.contains_key(*i)) {
                let what = if bad.is_empty() {
                    "a condition without `instrument`".to_owned()
                } else {
                    format!("unknown instrument `{bad}`")
                };
                return Err(DefinitionError::invalid(file, field, what));
            }
            let mut items = Vec::new();
            rule.when.item_refs("", &mut items);
            for (i, item) in items {
                if self.instruments[&i].item(&item).is_none() {
                    return Err(DefinitionError::invalid(
                        file,
                        field,
                        format!("`{i}` has no item `{item}`"),
                    ));
                }
            }
            self.check_flags(&rule.when, &flags, file, &field)?;
        }
        Ok(())
    }

    fn check_flags(
        &self,
        c: &super::condition::Condition,
        known: &BTreeSet<String>,
        file: &str,
        field: &str,
    ) -> Result<(), DefinitionError> {
        let mut named = Vec::new();
        c.flag_refs(&mut named);
        match named.into_iter().find(|f| !known.contains(f)) {
            Some(bad) => Err(DefinitionError::invalid(
                file,
                field,
                format!("unknown flag `{bad}`"),
            )),
            None => Ok(()),
        }
    }
}
