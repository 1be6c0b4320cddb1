//! The referral directory (`data/directory.json`), shaped after Open Referral HSDS
//! (organization → service → location), and matching services to a placed caller.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::DefinitionError;
use super::instrument::Source;
use super::quadrant::CellId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArea {
    pub id: u8,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub url: Option<String>,
    pub system: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub address_1: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub address: Address,
    pub service_area: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub accepting_referrals: bool,
    pub category: String,
    pub quadrant_cells: Vec<String>,
    #[serde(default)]
    pub age_min: Option<u32>,
    #[serde(default)]
    pub age_max: Option<u32>,
    pub languages: Vec<String>,
    pub service_areas: Vec<u8>,
    #[serde(default)]
    pub location_ids: Vec<String>,
    pub phones: Vec<Phone>,
    pub hours: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpLine {
    pub id: String,
    pub name: String,
    pub number: String,
    pub hours: String,
    pub description: String,
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub languages: Vec<Language>,
    pub service_areas: Vec<ServiceArea>,
    pub organizations: Vec<Organization>,
    pub locations: Vec<Location>,
    pub services: Vec<Service>,
    pub help_lines: Vec<HelpLine>,
}

/// What the caller needs; `None` filters are not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub cell: Option<CellId>,
    pub age: Option<u32>,
    pub language: Option<String>,
    pub service_area: Option<u8>,
    /// Only services in the caller's language (otherwise language only ranks).
    #[serde(default)]
    pub require_language: bool,
    /// Only services in the caller's service area (otherwise area only ranks).
    #[serde(default)]
    pub require_area: bool,
}

/// A service that fits, with why it ranks where it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub service_id: String,
    pub name: String,
    pub organization: String,
    pub system: String,
    pub category: String,
    pub phone: String,
    pub hours: String,
    pub language_match: bool,
    pub area_match: bool,
    pub score: u32,
}

impl Directory {
    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn language_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.languages
            .iter()
            .find(|l| l.code == code)
            .map_or(code, |l| l.name.as_str())
    }

    /// Active, accepting services for the cell and age (hard filters), ranked by language and
    /// service-area fit, then by name; language and area become hard filters on request.
    pub fn find(&self, q: &Query) -> Vec<Match> {
        let cell = q.cell.map(CellId::id);
        let mut out: Vec<Match> = self
            .services
            .iter()
            .filter(|s| s.status == "active" && s.accepting_referrals)
            .filter(|s| cell.as_ref().is_none_or(|c| s.quadrant_cells.contains(c)))
            .filter(|s| {
                q.age.is_none_or(|a| {
                    s.age_min.is_none_or(|m| a >= m) && s.age_max.is_none_or(|m| a <= m)
                })
            })
            .filter_map(|s| {
                let language_match = q.language.as_ref().is_some_and(|l| s.languages.contains(l));
                let area_match = q.service_area.is_some_and(|a| s.service_areas.contains(&a));
                if (q.require_language && q.language.is_some() && !language_match)
                    || (q.require_area && q.service_area.is_some() && !area_match)
                {
                    return None;
                }
                let org = self.organization(&s.organization_id)?;
                Some(Match {
                    service_id: s.id.clone(),
                    name: s.name.clone(),
                    organization: org.name.clone(),
                    system: org.system.clone(),
                    category: s.category.clone(),
                    phone: s
                        .phones
                        .first()
                        .map(|p| p.number.clone())
                        .unwrap_or_default(),
                    hours: s.hours.clone(),
                    language_match,
                    area_match,
                    score: u32::from(language_match) * 2 + u32::from(area_match),
                })
            })
            .collect();
        out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
        out
    }

    pub fn validate(
        &self,
        file: &str,
        categories: &BTreeSet<String>,
    ) -> Result<(), DefinitionError> {
        let dup = |id: &str| DefinitionError::DuplicateId {
            file: file.into(),
            id: id.into(),
        };
        let mut ids = BTreeSet::new();
        for o in &self.organizations {
            if !ids.insert(o.id.as_str()) {
                return Err(dup(&o.id));
            }
        }
        for l in &self.locations {
            if !ids.insert(l.id.as_str()) {
                return Err(dup(&l.id));
            }
        }
        let langs: BTreeSet<&str> = self.languages.iter().map(|l| l.code.as_str()).collect();
        let areas: BTreeSet<u8> = self.service_areas.iter().map(|a| a.id).collect();
        for (n, s) in self.services.iter().enumerate() {
            let at = |f: &str| format!("services[{n}] ({}).{f}", s.id);
            if !ids.insert(s.id.as_str()) {
                return Err(dup(&s.id));
            }
            if self.organization(&s.organization_id).is_none() {
                return Err(DefinitionError::invalid(
                    file,
                    at("organization_id"),
                    format!("unknown organization `{}`", s.organization_id),
                ));
            }
            for l in &s.location_ids {
                if !self.locations.iter().any(|x| &x.id == l) {
                    return Err(DefinitionError::invalid(
                        file,
                        at("location_ids"),
                        format!("unknown location `{l}`"),
                    ));
                }
            }
            for c in &s.quadrant_cells {
                if CellId::parse(c).is_none() {
                    return Err(DefinitionError::invalid(
                        file,
                        at("quadrant_cells"),
                        format!("`{c}` is not a cell id such as `moderate_low`"),
                    ));
                }
            }
            if !categories.contains(&s.category) {
                return Err(DefinitionError::invalid(
                    file,
                    at("category"),
                    format!("`{}` has no timeliness standard", s.category),
                ));
            }
            if let Some(l) = s.languages.iter().find(|l| !langs.contains(l.as_str())) {
                return Err(DefinitionError::invalid(
                    file,
                    at("languages"),
                    format!("unknown language `{l}`"),
                ));
            }
            if let Some(a) = s.service_areas.iter().find(|a| !areas.contains(a)) {
                return Err(DefinitionError::invalid(
                    file,
                    at("service_areas"),
                    format!("unknown service area {a}"),
                ));
            }
            if let (Some(lo), Some(hi)) = (s.age_min, s.age_max)
                && lo > hi
            {
                return Err(DefinitionError::invalid(
                    file,
                    at("age_min"),
                    format!("{lo} > age_max {hi}"),
                ));
            }
            if s.phones.is_empty() {
                return Err(DefinitionError::invalid(
                    file,
                    at("phones"),
                    "needs at least one phone",
                ));
            }
        }
        Ok(())
    }
}
