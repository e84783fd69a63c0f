//! Times in the browser's own time zone (`tz=local`). The server renders UTC; once hydrated, the browser
//! rewrites what it shows. Call these only in the browser (effects, handlers).

use web_sys::js_sys::Date;

/// The parts of the instant `ms` in the browser's time zone: year, month, day, hour, minute, second.
fn parts(ms: i64) -> (u32, u32, u32, u32, u32, u32) {
    let d = Date::new(&(ms as f64).into());
    (
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
    )
}

/// As the table shows a time: `2026-03-04 17:10:00`.
pub fn display(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// As a `datetime-local` input shows a time: `2026-03-04T17:10`.
pub fn minute(ms: i64) -> String {
    let (y, mo, d, h, mi, _) = parts(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}")
}

/// A `datetime-local` value (`2026-03-04T17:10`, the browser's time) as the UTC instant the URL carries: its
/// first millisecond, or its last (`end`, for `to`: a `to` covers its minute). `None` when it is not such a
/// value (a date alone, text typed by hand: the server reads it, or names it).
pub fn to_utc(value: &str, end: bool) -> Option<String> {
    if value.len() != 16 || value.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    // ECMAScript reads a date and time without an offset as local time.
    let ms = Date::parse(value);
    if ms.is_nan() {
        return None;
    }
    let ms = if end { ms + 59_999.0 } else { ms };
    Date::new(&ms.into()).to_iso_string().as_string()
}
