//! Instants: UTC, millisecond precision, written as RFC 3339 with a `Z` (`2026-06-24T10:22:11.123Z`).

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Timelike, Utc};

/// Milliseconds since the Unix epoch, the stored form.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub fn format_millis(ms: i64) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses RFC 3339 with any offset, converted to UTC and cut to whole milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?.with_timezone(&Utc);
    Some(from_millis(t.timestamp_millis()))
}

/// The viewer shows UTC to the second, without the `T`: `2026-03-04 17:10:00`.
pub fn display_millis(ms: i64) -> String {
    let t = from_millis(ms);
    format!("{} {:02}:{:02}:{:02}", day(t), t.hour(), t.minute(), t.second())
}

/// As a `datetime-local` input shows a UTC time: `2026-03-04T17:10`.
pub fn input_minute(ms: i64) -> String {
    let t = from_millis(ms);
    format!("{}T{:02}:{:02}", day(t), t.hour(), t.minute())
}

fn day(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`, read as UTC: the instant it starts at (Unix ms)
/// and the length of its last unit (a day, a minute or a second, in ms). A month, day, hour, minute or second
/// may have one digit. (Written out rather than with chrono's format strings, whose parser would be most of
/// what this costs the browser's download.)
pub fn parse_utc(value: &str) -> Option<(i64, i64)> {
    let number = |part: &str, digits: std::ops::RangeInclusive<usize>| {
        let ok = digits.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| part.parse::<u32>().ok()).flatten()
    };
    let (date, time) = match value.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (value, None),
    };
    let ymd: Vec<&str> = date.split('-').collect();
    let [y, m, d] = ymd[..] else { return None };
    let date = NaiveDate::from_ymd_opt(number(y, 4..=4)? as i32, number(m, 1..=2)?, number(d, 1..=2)?)?;
    let Some(time) = time else {
        return Some((date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(), 86_400_000));
    };
    let hms = time
        .split(':')
        .map(|part| number(part, 1..=2))
        .collect::<Option<Vec<u32>>>()?;
    let (at, unit) = match hms[..] {
        [h, mi] => (date.and_hms_opt(h, mi, 0)?, 60_000),
        [h, mi, s] => (date.and_hms_opt(h, mi, s)?, 1_000),
        _ => return None,
    };
    Some((at.and_utc().timestamp_millis(), unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_converted_to_utc_and_cut_to_milliseconds() {
        let t = parse_rfc3339("2026-06-24T12:22:11.123456+02:00").unwrap();
        assert_eq!(format_millis(to_millis(t)), "2026-06-24T10:22:11.123Z");
    }

    #[test]
    fn utc_days_minutes_and_seconds_start_where_they_say_and_last_their_unit() {
        let start = |s: &str| parse_utc(s).map(|(ms, unit)| (format_millis(ms), unit));
        assert_eq!(
            start("2026-11-01"),
            Some(("2026-11-01T00:00:00.000Z".into(), 86_400_000))
        );
        assert_eq!(
            start("2026-11-01T08:30"),
            Some(("2026-11-01T08:30:00.000Z".into(), 60_000))
        );
        assert_eq!(
            start("2026-11-01T08:30:15"),
            Some(("2026-11-01T08:30:15.000Z".into(), 1_000))
        );
        assert_eq!(
            start("2026-1-5T8:05"),
            Some(("2026-01-05T08:05:00.000Z".into(), 60_000))
        );
        for bad in [
            "2026-02-30",
            "2026-11-01T24:00",
            "2026-11-01T08",
            "2026-11-01T08:30:15:00",
            "26-11-01",
            "2026-011-01",
            "2026-11-01 08:30",
            "2026-11-01T08:3a",
            "2026-11",
            "",
            "2026-11-01T",
            "+2026-11-01",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_viewer_and_the_inputs_show_utc_with_zero_padding() {
        let ms = parse_utc("2026-03-04T07:05:09").unwrap().0;
        assert_eq!(display_millis(ms), "2026-03-04 07:05:09");
        assert_eq!(input_minute(ms), "2026-03-04T07:05");
    }

    #[test]
    fn a_date_without_time_is_not_an_instant() {
        assert!(parse_rfc3339("2026-06-24").is_none());
    }
}
