//! The fast path for reading events from a request body: straight into typed fields, without building a
//! `serde_json::Value` (a map of every member) for each event; only `details` is read as a JSON map. It takes
//! exactly what `NewEvent::from_json` takes and gives the same events. Whatever it does not take (a wrong
//! type, a value that does not parse, a duplicate member, a batch of the wrong size) it leaves to
//! `from_json`, whose error names the field: `None` means "read it the slow way".

use serde::{Deserialize, Deserializer, de};
use serde_json::{Map, Value};

use super::{
    event::{Actor, ActorType, NewEvent, Outcome, Target},
    time,
};

/// A text member as `from_json` reads it: a string, or a number taken as its text.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(serde_json::Number::from(v).to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(serde_json::Number::from(v).to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| Text(n.to_string()))
                    .ok_or_else(|| E::custom("not a finite number"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A member that must be a JSON object: serde would also fill a struct from an array, which `from_json` refuses.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Visitor<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

fn text(t: Option<Text>) -> Option<String> {
    t.map(|t| t.0)
}

/// An actor or a target: `type`, `id`, `name` (and an actor's `email`; a target's is ignored, as `from_json`
/// ignores members it does not read).
#[derive(Deserialize)]
struct WireParty {
    #[serde(rename = "type", default)]
    kind: Option<Text>,
    #[serde(default)]
    id: Option<Text>,
    #[serde(default)]
    name: Option<Text>,
    #[serde(default)]
    email: Option<Text>,
}

/// One event as the API reads it (other members are ignored, as `from_json` ignores them).
#[derive(Deserialize)]
struct WireEvent {
    #[serde(default)]
    id: Option<Text>,
    #[serde(default)]
    timestamp: Option<Text>,
    #[serde(default)]
    action: Option<Text>,
    #[serde(default)]
    outcome: Option<Text>,
    #[serde(default)]
    actor: Option<Obj<WireParty>>,
    #[serde(default)]
    target: Option<Obj<WireParty>>,
    #[serde(default)]
    source: Option<Text>,
    #[serde(default)]
    tenant: Option<Text>,
    #[serde(default)]
    ip: Option<Text>,
    #[serde(default)]
    user_agent: Option<Text>,
    #[serde(default)]
    details: Option<Map<String, Value>>,
    /// Present: the body is a batch (that the batch reading refused), never one event.
    #[serde(default)]
    events: Option<de::IgnoredAny>,
}

impl WireEvent {
    /// The event `from_json` would give, or `None` where `from_json` would refuse it.
    fn into_event(self) -> Option<NewEvent> {
        if self.events.is_some() {
            return None;
        }
        let timestamp = match self.timestamp {
            Some(t) => Some(time::parse_rfc3339(&t.0)?),
            None => None,
        };
        let outcome = match self.outcome {
            Some(t) => Outcome::parse(&t.0)?,
            None => Outcome::Success,
        };
        let actor = match self.actor {
            Some(Obj(a)) => Some(Actor {
                kind: ActorType::parse(&a.kind?.0)?,
                id: text(a.id),
                name: text(a.name),
                email: text(a.email),
            }),
            None => None,
        };
        let target = match self.target {
            Some(Obj(t)) => Some(Target {
                kind: t.kind?.0,
                id: text(t.id),
                name: text(t.name),
            }),
            None => None,
        };
        Some(NewEvent {
            id: text(self.id),
            timestamp,
            received_at: None,
            action: text(self.action).unwrap_or_default(),
            outcome,
            actor,
            target,
            source: text(self.source),
            tenant: text(self.tenant),
            ip: text(self.ip),
            user_agent: text(self.user_agent),
            details: self.details.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
struct WireBatch {
    events: Vec<Obj<WireEvent>>,
}

/// What a `POST /events` body holds: one event, or a batch under `events`.
#[derive(Debug, PartialEq)]
pub enum Events {
    One(Box<NewEvent>),
    Batch(Vec<NewEvent>),
}

/// The events of a body: `{"events": [...]}` with 1 to `max_batch` events, or one event. `None`: read it with
/// `from_json`, which says what is wrong.
pub fn read_body(bytes: &[u8], max_batch: usize) -> Option<Events> {
    // A body without the text `"events"` is one event (or, if the key is written with escapes, one that the
    // single-event reading refuses through its `events` member): no need to try it as a batch first.
    let maybe_batch = bytes.windows(8).any(|w| w == b"\"events\"");
    if maybe_batch && let Ok(Obj(batch)) = serde_json::from_slice::<Obj<WireBatch>>(bytes) {
        if batch.events.is_empty() || batch.events.len() > max_batch {
            return None;
        }
        let events = batch
            .events
            .into_iter()
            .map(|Obj(e)| e.into_event())
            .collect::<Option<_>>()?;
        return Some(Events::Batch(events));
    }
    let Obj(one) = serde_json::from_slice::<Obj<WireEvent>>(bytes).ok()?;
    Some(Events::One(Box::new(one.into_event()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow path's reading of a body: one event, or the events of a batch.
    fn slow(body: &str) -> Option<Events> {
        let mut value: Value = serde_json::from_str(body).ok()?;
        match value.as_object_mut().and_then(|o| o.remove("events")) {
            Some(Value::Array(items)) => {
                if items.is_empty() || items.len() > 3 {
                    return None;
                }
                let events = items
                    .into_iter()
                    .map(|v| NewEvent::from_json(v).ok())
                    .collect::<Option<_>>()?;
                Some(Events::Batch(events))
            }
            Some(_) => None,
            None => Some(Events::One(Box::new(NewEvent::from_json(value).ok()?))),
        }
    }

    #[test]
    fn the_fast_path_reads_what_from_json_reads_and_leaves_the_rest_to_it() {
        let bodies = [
            r#"{"action":"user.create","actor":{"type":"user","id":"u1","name":"Zoë","email":"z@x.org"}}"#,
            r#"{"id":"01JB8Q4K7N2X5S3V9T0R1C6M2D","timestamp":"2026-03-01T10:00:00.123Z","action":"a.b",
                "outcome":"failure","actor":{"type":"api_token","id":42},"target":{"type":"mailbox","id":7.5,"name":null},
                "source":"mail","ip":"10.0.0.1","user_agent":"ua","details":{"changes":{"password":{"from":"a","to":"b"}},"n":1},
                "unknown":[1,2,{"x":null}]}"#,
            r#"{"events":[{"action":"a.b","actor":{"type":"system","name":"cron"}},{"action":"c.d","actor":null,"details":null}]}"#,
            r#"{"action":"a.b","actor":{"type":"user","id":"\u00e9\n"},"target":null}"#,
            r#"{"action":"a.b","ip":-3,"source":1e3}"#,
            // Each of these is refused by one path or the other, so both must leave it to from_json's error.
            r#"{"events":[]}"#,
            r#"{"events":[{},{},{},{}]}"#,
            r#"{"events":{"action":"a.b"}}"#,
            r#"{"\u0065vents":[{"action":"a.b","actor":{"type":"system","name":"cron"}}]}"#,
            r#"{"action":"a.b","outcome":"maybe"}"#,
            r#"{"action":"a.b","timestamp":"yesterday"}"#,
            r#"{"action":"a.b","actor":{"type":"robot","id":"r"}}"#,
            r#"{"action":"a.b","actor":{"id":"r"}}"#,
            r#"{"action":"a.b","actor":"me"}"#,
            r#"{"action":"a.b","target":{"id":"t"}}"#,
            r#"{"action":true}"#,
            r#"{"action":"a.b","details":[1]}"#,
            r#"{"action":"a.b","action":"c.d"}"#,
            r#"[{"action":"a.b"}]"#,
            r#"[null,null,"a.b"]"#,
            r#"{"action":"a.b","actor":["user","u1"]}"#,
            r#"{"events":[{"action":"a.b","actor":["user","u1"]}]}"#,
            r#"{"action":"a.b""#,
        ];
        for body in bodies {
            let fast = read_body(body.as_bytes(), 3);
            match (&fast, slow(body)) {
                (Some(f), Some(s)) => assert_eq!(f, &s, "{body}"),
                // The fast path may refuse what the slow one reads (a duplicate member); never the reverse.
                (None, _) => {}
                (Some(f), None) => panic!("the fast path took what from_json refuses: {body} -> {f:?}"),
            }
        }
        assert!(
            read_body(bodies[1].as_bytes(), 3).is_some(),
            "a full event takes the fast path"
        );
        assert!(
            read_body(bodies[2].as_bytes(), 3).is_some(),
            "a batch takes the fast path"
        );
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::json;

        use super::*;

        /// Any JSON a member might hold: what it takes and what it refuses.
        fn member() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                (-1e9f64..1e9).prop_map(|f| json!(f)),
                prop::sample::select(vec![
                    "a.b",
                    "user.create",
                    "Bad",
                    "",
                    "success",
                    "failure",
                    "maybe",
                    "user",
                    "api_token",
                    "system",
                    "robot",
                    "2026-03-01T10:00:00.123Z",
                    "2026-03-01",
                    "yesterday",
                    "10.0.0.1",
                    "::1",
                    "é\n\"",
                    "01JB8Q4K7N2X5S3V9T0R1C6M2D",
                ])
                .prop_map(Value::from),
                "\\PC{0,6}".prop_map(Value::from),
            ];
            leaf.prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                    prop::collection::btree_map(
                        prop::sample::select(vec!["type", "id", "name", "email", "x"]).prop_map(String::from),
                        inner,
                        0..4,
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// An event-like object: some of the event's members (and an unknown one), each holding anything.
        fn event() -> impl Strategy<Value = Value> {
            let keys = vec![
                "id",
                "timestamp",
                "action",
                "outcome",
                "actor",
                "target",
                "source",
                "ip",
                "user_agent",
                "details",
                "unknown",
            ];
            prop::collection::btree_map(prop::sample::select(keys).prop_map(String::from), member(), 0..9)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        }

        /// The fast reading takes only what `from_json` reads, and reads it the same; what it leaves (a target's
        /// `email` that is not text, which `from_json` ignores) goes to `from_json`.
        fn agree(body: &str) -> Result<(), TestCaseError> {
            if let Some(fast) = read_body(body.as_bytes(), 3) {
                prop_assert_eq!(Some(fast), slow(body), "{}", body);
            }
            Ok(())
        }

        proptest! {
            #[test]
            fn both_readings_agree_on_one_event(e in event()) {
                agree(&e.to_string())?;
            }

            #[test]
            fn both_readings_agree_on_a_batch(events in prop::collection::vec(event(), 0..5)) {
                agree(&json!({ "events": events }).to_string())?;
            }

            /// An event that is whole and plain (every member the type it should be) takes the fast path.
            #[test]
            fn a_plain_valid_event_takes_the_fast_path(
                action in "[a-z]{1,6}\\.[a-z_]{1,6}",
                name in "\\PC{1,10}",
                kind in prop::sample::select(vec!["user", "api_token", "system"]),
                outcome in prop::sample::select(vec!["success", "failure"]),
            ) {
                let body = json!({"action": action, "outcome": outcome, "actor": {"type": kind, "name": name},
                                  "target": {"type": "mailbox", "id": "m1"}, "details": {"n": 1}})
                    .to_string();
                prop_assert!(read_body(body.as_bytes(), 3).is_some(), "{}", body);
                agree(&body)?;
            }
        }
    }
}
