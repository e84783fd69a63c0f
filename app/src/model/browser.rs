//! A user agent as a person reads it (`Chrome 131 on Windows 10`), for the Sign-ins view. Parsed on the server
//! only (the parser stays out of the browser's build); a page's rows carry the result.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

/// How many distinct user agents `readable` remembers: a log holds few, and parsing one takes microseconds
/// that a page of 500 rows would pay 500 times.
const REMEMBERED: usize = 512;

/// The browser, its major version and the operating system of `user_agent`, or `None` when the parser knows
/// neither (a script's own agent, such as `curl/8.5.0`, reads as itself).
pub fn readable(user_agent: &str) -> Option<String> {
    static SEEN: LazyLock<Mutex<HashMap<String, Option<String>>>> = LazyLock::new(Mutex::default);
    if let Ok(seen) = SEEN.lock()
        && let Some(known) = seen.get(user_agent)
    {
        return known.clone();
    }
    let label = parse(user_agent);
    if let Ok(mut seen) = SEEN.lock() {
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(user_agent.to_string(), label.clone());
    }
    label
}

/// How much of an agent the parser does not read is shown.
const AS_IS_CHARS: usize = 60;

fn parse(user_agent: &str) -> Option<String> {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return None;
    }
    let unknown = |s: &str| s.is_empty() || s == woothee::woothee::VALUE_UNKNOWN;
    let as_is = || Some(ua.chars().take(AS_IS_CHARS).collect());
    // Crawlers, HTTP libraries and the like read best as their own agent (`curl/8.5.0`).
    let Some(parsed) = woothee::parser::Parser::new()
        .parse(ua)
        .filter(|p| p.browser_type == "browser")
    else {
        return as_is();
    };
    let major = parsed.version.split('.').next().unwrap_or_default();
    let browser = match (unknown(parsed.name), unknown(major)) {
        (true, _) => None,
        (false, true) => Some(parsed.name.to_string()),
        (false, false) => Some(format!("{} {major}", parsed.name)),
    };
    let os = (!unknown(parsed.os)).then_some(parsed.os);
    match (browser, os) {
        (Some(b), Some(os)) => Some(format!("{b} on {os}")),
        (Some(b), None) => Some(b),
        (None, Some(os)) => Some(os.to_string()),
        (None, None) => as_is(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_read_as_name_major_version_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(readable(chrome).as_deref(), Some("Chrome 131 on Windows 10"));
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(readable(firefox).as_deref(), Some("Firefox 133 on Linux"));
        assert_eq!(
            readable(chrome).as_deref(),
            Some("Chrome 131 on Windows 10"),
            "remembered"
        );
    }

    #[test]
    fn agents_the_parser_does_not_know_read_as_themselves() {
        assert_eq!(readable("curl/8.5.0").as_deref(), Some("curl/8.5.0"));
        assert_eq!(readable("  "), None);
    }
}
