//! County local time. Business days and "today" are the county's (Los Angeles), whatever time
//! zone the device is set to, and without a time-zone database on the device.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

/// Los Angeles local time (US Pacific rules: daylight time from 2 a.m. on the second Sunday of
/// March to 2 a.m. on the first Sunday of November).
pub fn county_time(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    let year = t.year();
    let nth_sunday = |month: u32, n: u8| {
        NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n).expect("exists")
    };
    // 2 a.m. PST = 10:00 UTC; 2 a.m. PDT = 09:00 UTC.
    let start = Utc.from_utc_datetime(&nth_sunday(3, 2).and_hms_opt(10, 0, 0).expect("valid"));
    let end = Utc.from_utc_datetime(&nth_sunday(11, 1).and_hms_opt(9, 0, 0).expect("valid"));
    let hours = if (start..end).contains(&t) { -7 } else { -8 };
    t.with_timezone(&FixedOffset::east_opt(hours * 3600).expect("valid offset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn standard_and_daylight_time() {
        assert_eq!(
            county_time(at("2026-01-15T20:00:00Z"))
                .offset()
                .local_minus_utc(),
            -8 * 3600
        );
        assert_eq!(
            county_time(at("2026-07-01T20:00:00Z"))
                .offset()
                .local_minus_utc(),
            -7 * 3600
        );
        // 2026: DST starts 8 March 10:00 UTC and ends 1 November 09:00 UTC.
        assert_eq!(
            county_time(at("2026-03-08T09:59:59Z"))
                .offset()
                .local_minus_utc(),
            -8 * 3600
        );
        assert_eq!(
            county_time(at("2026-03-08T10:00:00Z"))
                .offset()
                .local_minus_utc(),
            -7 * 3600
        );
        assert_eq!(
            county_time(at("2026-11-01T08:59:59Z"))
                .offset()
                .local_minus_utc(),
            -7 * 3600
        );
        assert_eq!(
            county_time(at("2026-11-01T09:00:00Z"))
                .offset()
                .local_minus_utc(),
            -8 * 3600
        );
    }
}
