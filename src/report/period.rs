//! Dates and periods typed on the command line: county calendar days.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::clock::county_time;

/// A county calendar date typed on the command line: `YYYY-MM-DD`, or the US form
/// `MM/DD/YYYY` (as the screener UI accepts for dates of birth). Anything else is refused,
/// and so is a date that is not on the calendar (`2026-13-01`, `02/30/2026`).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    let ymd = match parts.as_slice() {
        [y, m, d] if t.contains('-') && digits(y, 4, 4) && digits(m, 2, 2) && digits(d, 2, 2) => {
            Some((y, m, d))
        }
        [m, d, y] if t.contains('/') && digits(m, 1, 2) && digits(d, 1, 2) && digits(y, 4, 4) => {
            Some((y, m, d))
        }
        _ => None,
    };
    let Some((y, m, d)) = ymd else {
        return Err(format!(
            "`{text}` is not a date: use YYYY-MM-DD (or MM/DD/YYYY)"
        ));
    };
    let n = |s: &str| s.parse::<u32>().expect("checked digits");
    NaiveDate::from_ymd_opt(n(y) as i32, n(m), n(d))
        .ok_or_else(|| format!("`{text}` is not a date on the calendar"))
}

pub use crate::domain::clock::county_midnight;

/// An inclusive range of county days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Both ends as typed; `--from` after `--to` is refused.
    pub fn parse(from: &str, to: &str) -> Result<Period, String> {
        let f = parse_date(from).map_err(|e| format!("--from: {e}"))?;
        let t = parse_date(to).map_err(|e| format!("--to: {e}"))?;
        if f > t {
            return Err(format!(
                "--from {f} is after --to {t}: the period would be empty"
            ));
        }
        Ok(Period { from: f, to: t })
    }

    /// The first moment of the period (UTC).
    pub fn start(&self) -> DateTime<Utc> {
        county_midnight(self.from)
    }

    /// The first moment after the period (UTC).
    pub fn end(&self) -> DateTime<Utc> {
        county_midnight(self.to.succ_opt().expect("a date before chrono's last"))
    }
}

/// A moment in county local time, ISO 8601 with its UTC offset: `2026-03-02T09:15:00-08:00`.
pub fn local_iso(t: DateTime<Utc>) -> String {
    county_time(t).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_in_both_forms_and_nothing_else() {
        assert_eq!(parse_date("2026-11-23"), Ok(d("2026-11-23")));
        assert_eq!(parse_date("11/23/2026"), Ok(d("2026-11-23")));
        assert_eq!(parse_date("3/7/2026"), Ok(d("2026-03-07")));
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "02/30/2026",
            "23/11/2026",
            "2026-1-5",
            "26-01-05",
            "2026/01/05",
            "11-23-2026",
            "2026-11-23T00:00",
            "yesterday",
            "",
            "+2026-01-05",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn county_days_begin_at_local_midnight() {
        // Standard time (UTC-8) and daylight time (UTC-7), and the days of both changes.
        assert_eq!(ts(county_midnight(d("2026-01-15"))), "2026-01-15T08:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-07-01"))), "2026-07-01T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-03-08"))), "2026-03-08T08:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-03-09"))), "2026-03-09T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-11-01"))), "2026-11-01T07:00:00Z");
        assert_eq!(ts(county_midnight(d("2026-11-02"))), "2026-11-02T08:00:00Z");
        let p = Period::parse("2026-03-01", "03/10/2026").unwrap();
        assert_eq!(ts(p.start()), "2026-03-01T08:00:00Z");
        assert_eq!(ts(p.end()), "2026-03-11T07:00:00Z");
        assert!(Period::parse("2026-03-02", "2026-03-01").is_err());
        assert!(Period::parse("2026-03-01", "2026-03-01").is_ok());
    }

    fn ts(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}
