//! County local time. Business days and "today" are the county's (Los Angeles), whatever time
//! zone the device is set to, and without a time-zone database on the device.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

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

/// The moment a county day begins (midnight in Los Angeles), in UTC. Midnight is never inside
/// a daylight-saving change (those happen at 2 a.m.), so it is always one definite moment.
pub fn county_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Standard time is UTC-8, daylight time UTC-7: the right one is the one that agrees with
    // the county clock at that moment.
    let standard = midnight.and_utc() + Duration::hours(8);
    if county_time(standard).offset().local_minus_utc() == -8 * 3600 {
        standard
    } else {
        midnight.and_utc() + Duration::hours(7)
    }
}

/// The county midnight that begins the day `now` falls in.
pub fn start_of_county_day(now: DateTime<Utc>) -> DateTime<Utc> {
    county_midnight(county_time(now).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_day_starts_at_county_midnight() {
        // 07:30 UTC is 23:30 the day before in Los Angeles (UTC-8).
        assert_eq!(
            start_of_county_day(at("2026-11-23T07:30:00Z")),
            at("2026-11-22T08:00:00Z")
        );
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
