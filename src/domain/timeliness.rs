//! Timeliness standards (`data/timeliness.json`) and business-day deadlines that skip weekends
//! and county holidays (`data/holidays.json`).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::error::DefinitionError;
use super::instrument::Source;
use super::placement::Triage;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holidays {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub holidays: Vec<Holiday>,
}

/// How long a standard allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeadlineRule {
    Immediate,
    Hours { value: i64 },
    BusinessDays { value: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    pub id: String,
    pub label: String,
    pub triage: Triage,
    pub deadline: DeadlineRule,
    /// Directory service categories this standard governs for routine referrals.
    #[serde(default)]
    pub categories: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeliness {
    pub id: String,
    pub version: String,
    pub source: Source,
    pub standards: Vec<Standard>,
}

/// When a referral is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub standard: String,
    pub label: String,
    /// `immediate`, `hours` or `business_days`.
    pub kind: String,
    /// The moment it is due (for `immediate`, the request time itself).
    pub due_at: DateTime<FixedOffset>,
    /// Business-day standards: the last day (local date) by which the service must be offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// The holiday table does not reach the due date, so later holidays were not skipped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub beyond_holiday_table: bool,
}

/// The county calendar: weekends and listed holidays are not business days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    last: Option<NaiveDate>,
}

impl Calendar {
    pub fn new(holidays: &Holidays) -> Self {
        let set: BTreeSet<NaiveDate> = holidays.holidays.iter().map(|h| h.date).collect();
        let last = set
            .iter()
            .next_back()
            .and_then(|d| NaiveDate::from_ymd_opt(d.year(), 12, 31));
        Calendar {
            holidays: set,
            last,
        }
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The `n`th business day after `start` (the day of the request is day 0).
    pub fn add_business_days(&self, start: NaiveDate, n: i64) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("date within chrono's range");
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }

    pub fn covers(&self, d: NaiveDate) -> bool {
        self.last.is_some_and(|last| d <= last)
    }
}

impl Timeliness {
    pub fn standard(&self, id: &str) -> Option<&Standard> {
        self.standards.iter().find(|s| s.id == id)
    }

    /// The routine standard for a directory category.
    pub fn for_category(&self, category: &str) -> Option<&Standard> {
        self.standards
            .iter()
            .find(|s| s.categories.iter().any(|c| c == category))
    }

    /// The standard that governs a referral to `category` at `triage` urgency: emergent and
    /// urgent calls use their own standard, routine ones the category's.
    pub fn governing(&self, triage: Triage, category: &str) -> Option<&Standard> {
        match triage {
            Triage::Routine => self.for_category(category),
            t => self.standards.iter().find(|s| s.triage == t),
        }
    }

    pub fn validate(&self, file: &str) -> Result<(), DefinitionError> {
        let mut ids = BTreeSet::new();
        let mut cats = BTreeSet::new();
        for (n, s) in self.standards.iter().enumerate() {
            if !ids.insert(s.id.as_str()) {
                return Err(DefinitionError::DuplicateId {
                    file: file.into(),
                    id: s.id.clone(),
                });
            }
            match s.deadline {
                DeadlineRule::Hours { value } | DeadlineRule::BusinessDays { value }
                    if value <= 0 =>
                {
                    return Err(DefinitionError::invalid(
                        file,
                        format!("standards[{n}].deadline.value"),
                        format!("{value} must be positive"),
                    ));
                }
                _ => {}
            }
            for c in &s.categories {
                if !cats.insert(c.as_str()) {
                    return Err(DefinitionError::invalid(
                        file,
                        format!("standards[{n}].categories"),
                        format!("category `{c}` belongs to two standards"),
                    ));
                }
            }
        }
        for t in [Triage::Emergent, Triage::Urgent] {
            if !self.standards.iter().any(|s| s.triage == t) {
                return Err(DefinitionError::invalid(
                    file,
                    "standards",
                    format!("no {t} standard"),
                ));
            }
        }
        Ok(())
    }
}

impl Standard {
    /// When a request received at `received` is due under this standard.
    pub fn due(&self, received: DateTime<FixedOffset>, cal: &Calendar) -> Due {
        let (due_at, due_date) = match self.deadline {
            DeadlineRule::Immediate => (received, None),
            DeadlineRule::Hours { value } => (received + Duration::hours(value), None),
            DeadlineRule::BusinessDays { value } => {
                let day = cal.add_business_days(received.date_naive(), value);
                let end = day
                    .and_hms_opt(23, 59, 59)
                    .and_then(|t| t.and_local_timezone(*received.offset()).single())
                    .unwrap_or(received);
                (end, Some(day))
            }
        };
        Due {
            standard: self.id.clone(),
            label: self.label.clone(),
            kind: match self.deadline {
                DeadlineRule::Immediate => "immediate",
                DeadlineRule::Hours { .. } => "hours",
                DeadlineRule::BusinessDays { .. } => "business_days",
            }
            .to_owned(),
            due_at,
            due_date,
            beyond_holiday_table: !cal.covers(due_at.date_naive()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(dates: &[&str]) -> Calendar {
        Calendar::new(&Holidays {
            id: "h".into(),
            version: "1".into(),
            source: Source {
                citation: "t".into(),
                url: None,
                license: None,
                note: None,
            },
            holidays: dates
                .iter()
                .map(|d| Holiday {
                    date: d.parse().unwrap(),
                    name: "x".into(),
                })
                .collect(),
        })
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let c = cal(&["2026-11-26", "2026-11-27", "2026-12-25", "2027-01-01"]);
        // Monday + 1 = Tuesday
        assert_eq!(c.add_business_days(d("2026-11-23"), 1), d("2026-11-24"));
        // Friday + 1 = Monday
        assert_eq!(c.add_business_days(d("2026-11-20"), 1), d("2026-11-23"));
        // Wednesday before Thanksgiving + 1 skips Thu/Fri holidays and the weekend
        assert_eq!(c.add_business_days(d("2026-11-25"), 1), d("2026-11-30"));
        // Saturday request: counting starts on Monday
        assert_eq!(c.add_business_days(d("2026-11-21"), 1), d("2026-11-23"));
        // Across year end: Dec 21 2026 + 10 skips Dec 25 and Jan 1
        assert_eq!(c.add_business_days(d("2026-12-21"), 10), d("2027-01-06"));
        assert_eq!(c.add_business_days(d("2026-11-23"), 0), d("2026-11-23"));
        assert!(c.covers(d("2027-12-31")));
        assert!(!c.covers(d("2028-01-01")));
    }
}
