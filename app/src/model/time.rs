//! Instants: UTC, millisecond precision, written as RFC 3339 with a `Z` (`2026-06-24T10:22:11.123Z`).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

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

/// The viewer shows UTC to the second, without the `T`.
pub fn display_millis(ms: i64) -> String {
    from_millis(ms).format("%Y-%m-%d %H:%M:%S").to_string()
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
    fn a_date_without_time_is_not_an_instant() {
        assert!(parse_rfc3339("2026-06-24").is_none());
    }
}
