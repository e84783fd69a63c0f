//! An event's leaf: the RFC 8785 (JCS) bytes of its canonical JSON, as `GET /api/v1/events/{id}` returns it,
//! without `log_index` (its place is the tree's business, not the leaf's).
//!
//! JCS is written here: object members sorted by their names' UTF-16 code units, strings escaped as
//! serde_json escapes them (only `"`, `\` and control characters, which RFC 8785 asks for too), numbers as
//! ECMAScript writes them (ryu-js). The crates that do it cost 5–8 µs an event, several times all the rest of
//! storing one; the tests hold this to `serde_json_canonicalizer` over arbitrary JSON and events.

use serde_json::{Map, Value};

use super::tree::{Hash, leaf_hash};
use crate::model::Event;

/// The RFC 8785 serialization of `value`, appended to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => write_members(members, out),
    }
}

/// serde_json escapes exactly what RFC 8785 escapes, the same way; writing to a Vec cannot fail.
fn write_string(s: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(out, s).unwrap_or_default();
}

/// An object's members, sorted by their names' UTF-16 code units.
fn write_members(members: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push(b'{');
    for (i, (name, item)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_canonical(item, out);
    }
    out.push(b'}');
}

/// A number as ECMAScript's `Number.prototype.toString` writes the double it is: integers up to 2^53 as
/// they are, anything else through the double.
fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    const EXACT: u64 = 1 << 53;
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) if i.unsigned_abs() <= EXACT => out.extend_from_slice(i.to_string().as_bytes()),
        (_, Some(u)) if u <= EXACT => out.extend_from_slice(u.to_string().as_bytes()),
        _ => {
            let f = n.as_f64().unwrap_or_default();
            out.extend_from_slice(ryu_js::Buffer::new().format(f).as_bytes());
        }
    }
}

/// The members of one JSON object, written in the order given (sorted by the caller, as RFC 8785 sorts).
struct Members<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Members<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Members { out, first: true }
    }

    /// Starts a member (its name is plain ASCII); its value goes into the returned buffer.
    fn name(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string member, left out when absent (as `Event` leaves out its empty options).
    fn text(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            write_string(v, self.name(name));
        }
        self
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// The leaf bytes of `event`: its canonical JSON without `log_index`, in RFC 8785 form. Written member by
/// member, names in sorted order, leaving out what `Event`'s serialization leaves out (a test holds the two
/// to the same bytes).
pub fn leaf_bytes(event: &Event) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut m = Members::open(&mut out);
    m.text("action", Some(&event.action));
    let a = &event.actor;
    let mut actor = Members::open(m.name("actor"));
    actor.text("email", a.email.as_deref()).text("id", a.id.as_deref());
    actor
        .text("name", a.name.as_deref())
        .text("type", Some(a.kind.as_str()));
    actor.close();
    write_members(&event.details, m.name("details"));
    m.text("id", Some(&event.id)).text("ip", event.ip.as_deref());
    m.text("outcome", Some(event.outcome.as_str()));
    m.text("received_at", Some(&event.received_at));
    if let Some(r) = &event.recorded_by {
        let mut by = Members::open(m.name("recorded_by"));
        by.text("id", Some(&r.id)).text("name", Some(&r.name));
        by.text("type", Some(r.kind.as_str()));
        by.close();
    }
    m.text("source", Some(&event.source));
    if let Some(t) = &event.target {
        let mut target = Members::open(m.name("target"));
        target.text("id", t.id.as_deref()).text("name", t.name.as_deref());
        target.text("type", Some(&t.kind));
        target.close();
    }
    m.text("tenant", event.tenant.as_deref());
    m.text("timestamp", Some(&event.timestamp));
    m.text("user_agent", event.user_agent.as_deref());
    m.close();
    out
}

/// The leaf hash of `event`: SHA-256(0x00 || leaf bytes).
pub fn leaf_hash_of(event: &Event) -> Hash {
    leaf_hash(&leaf_bytes(event))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::model::{Actor, ActorType, Outcome, RecordedBy, Target};

    fn canonical(v: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_rfc_8785_examples() {
        // Section 3.2.2's numbers, and its sorting example (3.2.3) of names compared as UTF-16.
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
               "literals":[null,true,false]}"#,
        )
        .unwrap();
        assert_eq!(
            canonical(&v),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}"#
        );
        let v = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
                       "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control",
                       "\u{f6}": "Latin Small Letter O With Diaeresis"});
        let text = canonical(&v);
        let parsed: Map<String, Value> = serde_json::from_str(&text).unwrap();
        let order: Vec<&str> = parsed.values().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh"
            ]
        );
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::String),
            "[\u{0}-\u{1f}\"\\\\a\u{7f}\u{2028}\u{e9}\u{1f600}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-z\"\\\\\u{1}\u{e9}\u{1f600} ]{0,8}")
    }

    fn any_event() -> impl Strategy<Value = Event> {
        (
            (text(), text(), text(), text(), text(), text()),
            (text(), text(), any::<bool>(), any::<bool>(), any::<bool>()),
            (
                prop::collection::btree_map("[a-z\u{e9}]{0,4}", any_json(), 0..4),
                proptest::option::of("[A-Za-z0-9._:-]{1,12}"),
            ),
        )
            .prop_map(
                |((a, b, c, d, e, f), (g, h, has_target, has_by, failed), (details, tenant))| Event {
                    id: a.unwrap_or_default(),
                    timestamp: "2026-12-04T05:00:00.000Z".into(),
                    received_at: "2026-12-04T05:00:00.001Z".into(),
                    action: "mailbox.update".into(),
                    outcome: if failed { Outcome::Failure } else { Outcome::Success },
                    actor: Actor {
                        kind: ActorType::User,
                        id: b,
                        name: c,
                        email: d,
                    },
                    target: has_target.then(|| Target {
                        kind: "mailbox".into(),
                        id: e,
                        name: f,
                    }),
                    source: "panel".into(),
                    tenant,
                    ip: g,
                    user_agent: h,
                    details: details.into_iter().collect(),
                    recorded_by: has_by.then(|| RecordedBy::token("01J", "ci \"x\"")),
                    log_index: Some(7),
                },
            )
    }

    proptest! {
        #[test]
        fn it_writes_what_serde_json_canonicalizer_writes(v in any_json()) {
            prop_assert_eq!(canonical(&v), serde_json_canonicalizer::to_string(&v).unwrap());
        }

        #[test]
        fn a_leaf_is_the_canonical_event_without_its_log_index(e in any_event()) {
            let mut value = serde_json::to_value(&e).unwrap();
            value.as_object_mut().unwrap().remove("log_index");
            prop_assert_eq!(leaf_bytes(&e), serde_json_canonicalizer::to_vec(&value).unwrap());
        }
    }
}
