//! The Search box's query syntax, shared by the browser (before it sends anything) and the server (the API's
//! `q`): `field:value` terms set filters, bare words and `"quoted phrases"` are the free text.
//!
//! `action:mailbox.create` (or `action:mailbox.*`, the whole category), `category:auth`, `verb:delete`,
//! `actor:ci-bot` (`-actor:ci-bot`: everyone else), `actor_type:api_token`, `target_type:domain`,
//! `target_id:42`, `outcome:failure`, `source:mx2`, `ip:203.0.113.0/24` (or one address), `tenant:acme`,
//! `created:>=2026-11-01`, `created:<2026-12-01`, `created:2026-11-01..2026-11-30`, `created:2026-11-01` (that
//! day). A value with spaces is quoted: `actor:"Ana Lima"`. A word whose part before a colon is not a field
//! name (`10:22`, `2001:db8::1`) is text.

use super::FieldError;

/// The fields a term may name, and the URL parameter each sets (`created` sets `from` and `to`).
pub const FIELDS: [&str; 12] = [
    "action",
    "category",
    "verb",
    "actor",
    "actor_type",
    "target_type",
    "target_id",
    "outcome",
    "source",
    "ip",
    "tenant",
    "created",
];

/// A mistake in the search text: where (a character offset) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: usize,
    pub message: String,
}

impl SyntaxError {
    fn at(position: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            position,
            message: message.into(),
        }
    }

    /// The error as the API reports it: on the parameter `q`, with the position.
    pub fn into_field_error(self) -> FieldError {
        FieldError::filter("q", format!("{} (at character {})", self.message, self.position + 1))
    }
}

/// What a search text says: the URL parameters its terms set, in order, each with where its term starts, and
/// its free text (words and phrases joined by one space), if any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub parameters: Vec<(String, String, usize)>,
    pub text: Option<String>,
}

/// One word of the text: where it starts, and whether it is a quoted phrase as a whole (`"a b"`, text), not a
/// term with a quoted value (`actor:"a b"`).
struct Word {
    start: usize,
    text: String,
    phrase: bool,
}

/// Splits `text` at whitespace outside quotes. A `"` opens a quote at the start of a word or of a value
/// (`actor:"Ana Lima"`) and the next `"` closes it; elsewhere, or with no `"` after it, it is a character.
/// Whitespace inside quotes becomes one space.
fn words(text: &str) -> Vec<Word> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut word = String::new();
        let mut phrase = false;
        while i < chars.len() && !chars[i].is_whitespace() {
            let opens = chars[i] == '"' && (word.is_empty() || word.ends_with(':'));
            let close = opens
                .then(|| chars[i + 1..].iter().position(|c| *c == '"').map(|p| i + 1 + p))
                .flatten();
            // A quote that nothing closes is a character.
            let Some(close) = close else {
                word.push(chars[i]);
                i += 1;
                continue;
            };
            phrase |= word.is_empty();
            let inside: String = chars[i + 1..close].iter().collect();
            word.push_str(&inside.split_whitespace().collect::<Vec<_>>().join(" "));
            i = close + 1;
        }
        if !word.is_empty() {
            out.push(Word {
                start,
                text: word,
                phrase,
            });
        }
    }
    out
}

/// The field name and value of a `name:value` word whose name looks like a field (lowercase letters and `_`).
fn field_of(word: &Word) -> Option<(&str, &str)> {
    if word.phrase {
        return None;
    }
    let (name, value) = word.text.split_once(':')?;
    let field_like = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    field_like.then_some((name, value))
}

/// Parses a search text.
pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
    let mut parsed = Parsed::default();
    let mut free: Vec<String> = Vec::new();
    for word in words(text) {
        if let Some(rest) = word.text.strip_prefix('-')
            && !word.phrase
            && let Some((name, value)) = rest.split_once(':')
            && FIELDS.contains(&name)
        {
            if name != "actor" {
                let message =
                    format!("Only an actor can be excluded (-actor:…), not -{name}: choose the values to keep");
                return Err(SyntaxError::at(word.start, message));
            }
            if value.is_empty() {
                return Err(SyntaxError::at(word.start, "\"-actor:\" needs a value"));
            }
            let at = word.start;
            parsed.parameters.push(("exclude_actor".into(), value.to_string(), at));
            continue;
        }
        match field_of(&word) {
            Some((name, value)) => term(name, value, word.start, &mut parsed.parameters)?,
            None => free.push(word.text),
        }
    }
    parsed.text = (!free.is_empty()).then(|| free.join(" "));
    Ok(parsed)
}

/// The parameters of one `name:value` term.
fn term(name: &str, value: &str, at: usize, out: &mut Vec<(String, String, usize)>) -> Result<(), SyntaxError> {
    if !FIELDS.contains(&name) {
        let message = match nearest_field(name) {
            Some(near) => format!("Unknown field \"{name}\": did you mean \"{near}\"?"),
            None => format!("Unknown field \"{name}\" (put text with a colon in quotes)"),
        };
        return Err(SyntaxError::at(at, message));
    }
    if value.is_empty() {
        return Err(SyntaxError::at(at, format!("\"{name}:\" needs a value")));
    }
    let mut push = |key: &str, v: &str| out.push((key.to_string(), v.to_string(), at));
    if name != "created" {
        push(name, value);
        return Ok(());
    }
    if let Some((from, to)) = value.split_once("..") {
        push("from", from);
        push("to", to);
    } else if let Some(v) = value.strip_prefix(">=") {
        push("from", v);
    } else if let Some(v) = value.strip_prefix("<=") {
        push("to", v);
    } else if value.starts_with(['<', '>']) {
        return Err(SyntaxError::at(at, "\"created:\" takes >=, <= or a range a..b"));
    } else {
        push("from", value);
        push("to", value);
    }
    Ok(())
}

/// The field `name` was most likely meant to be (at most two letters off).
fn nearest_field(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .map(|f| (distance(name, f), *f))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, f)| f)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `value` as a term's value (`actor:"Ana Lima"`): quoted when it has whitespace or starts with a quote.
pub fn value(value: &str) -> String {
    match value.is_empty() || value.starts_with('"') || value.chars().any(char::is_whitespace) {
        true => format!("\"{value}\""),
        false => value.to_string(),
    }
}

/// Free text as the search box shows it, so that it parses back to itself: each word that would read as a
/// term (`action:x`) is quoted.
pub fn text(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            // `-actor:x` reads as an exclusion, `actor:x` as a term: both are quoted to stay text.
            let word = Word {
                start: 0,
                text: w.strip_prefix('-').unwrap_or(w).to_string(),
                phrase: false,
            };
            match field_of(&word).is_some() {
                true => format!("\"{w}\""),
                false => w.to_string(),
            }
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .parameters
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect()
    }

    #[test]
    fn terms_set_parameters_and_the_rest_is_text() {
        let p = parse(r#"action:mailbox.* zoe outcome:failure "two words" 10:22"#).unwrap();
        assert_eq!(p.text.as_deref(), Some("zoe two words 10:22"));
        assert_eq!(
            params("action:mailbox.* outcome:failure"),
            vec![
                ("action".into(), "mailbox.*".into()),
                ("outcome".into(), "failure".into())
            ]
        );
        assert_eq!(params(r#"actor:"Ana Lima""#), vec![("actor".into(), "Ana Lima".into())]);
        assert_eq!(parse(r#""action:x""#).unwrap().text.as_deref(), Some("action:x"));
    }

    #[test]
    fn created_takes_bounds_and_ranges() {
        let p = |t| params(t);
        assert_eq!(p("created:>=2026-11-01"), vec![("from".into(), "2026-11-01".into())]);
        assert_eq!(p("created:<=2026-11-30"), vec![("to".into(), "2026-11-30".into())]);
        assert_eq!(
            p("created:2026-11-01..2026-11-30"),
            vec![("from".into(), "2026-11-01".into()), ("to".into(), "2026-11-30".into())]
        );
        assert_eq!(p("created:2026-11-01").len(), 2);
    }

    #[test]
    fn mistakes_say_where_and_what() {
        let e = parse("zoe acter:bob").unwrap_err();
        assert_eq!(
            e,
            SyntaxError::at(4, "Unknown field \"acter\": did you mean \"actor\"?")
        );
        assert_eq!(parse("https://x").unwrap_err().position, 0);
        assert_eq!(
            parse("a \"open").unwrap().text.as_deref(),
            Some("a \"open"),
            "a lone quote is text"
        );
        assert_eq!(params("-actor:ci-bot"), vec![("exclude_actor".into(), "ci-bot".into())]);
        assert_eq!(
            params(r#"-actor:"Ana Lima""#),
            vec![("exclude_actor".into(), "Ana Lima".into())]
        );
        assert!(parse("-outcome:failure").unwrap_err().message.contains("Only an actor"));
        assert!(parse("verb:").unwrap_err().message.contains("needs a value"));
    }

    #[test]
    fn printed_text_and_values_parse_back_to_themselves() {
        for t in [
            "zoe",
            "Ana Lima",
            "a:b c",
            "-x",
            "x\"y",
            "10:22",
            "action:x",
            "a\"b:c",
            "\"",
            "\" OR 1=1 --",
        ] {
            let printed = text(t);
            assert_eq!(parse(&printed).unwrap().text.as_deref(), Some(t), "{printed}");
        }
        assert_eq!(
            params(&format!("actor:{}", value("Ana Lima"))),
            vec![("actor".into(), "Ana Lima".into())]
        );
    }
}
