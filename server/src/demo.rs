//! Demo data: about 5,000 realistic events over the last 90 days, the same every time for a given day
//! (a fixed seed, times counted back from today's midnight UTC). Covers every category of spec/events.md,
//! both outcomes, users, API tokens and system actors, IPv4 and IPv6, `changes` diffs and unicode values.

use app::{
    model::{Actor, ActorType, NewEvent, Outcome, Target},
    store::{AuditStore, StoreError},
};
use chrono::{Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::{Map, Value, json};

pub const DEMO_EVENTS: usize = 5_000;
const DAYS: i64 = 90;

struct Person {
    id: &'static str,
    name: &'static str,
    email: &'static str,
}

const PEOPLE: [Person; 8] = [
    Person {
        id: "1",
        name: "Aisha Karim",
        email: "aisha@acme.com",
    },
    Person {
        id: "2",
        name: "Zoë Müller",
        email: "zoe@acme.com",
    },
    Person {
        id: "3",
        name: "李雷",
        email: "li.lei@acme.cn",
    },
    Person {
        id: "4",
        name: "محمد علي",
        email: "m.ali@acme.com",
    },
    Person {
        id: "5",
        name: "José Álvarez",
        email: "jose@acme.es",
    },
    Person {
        id: "6",
        name: "Olivia Smith",
        email: "olivia@acme.com",
    },
    Person {
        id: "7",
        name: "Дмитрий Иванов",
        email: "dmitry@acme.com",
    },
    Person {
        id: "8",
        name: "Sam O'Neil",
        email: "sam@acme.com",
    },
];

const TOKENS: [(&str, &str); 2] = [
    ("01JB00000000000000000TOKN1", "ci-deploy"),
    ("01JB00000000000000000TOKN2", "billing-sync"),
];
const DOMAINS: [&str; 5] = ["acme.com", "acme.cn", "acme.es", "example.org", "bücher.example"];
const IPS: [&str; 8] = [
    "203.0.113.42",
    "198.51.100.7",
    "192.0.2.15",
    "10.20.30.40",
    "2001:db8::1",
    "2001:db8:85a3::8a2e:370:7334",
    "fd12:3456:789a::42",
    "172.16.5.9",
];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "curl/8.5.0",
];

/// Adds the demo events when the database holds no event; returns how many were added.
pub async fn seed_if_empty(store: &AuditStore) -> Result<usize, StoreError> {
    if store.count(&Default::default()).await? > 0 {
        return Ok(0);
    }
    let events = generate(DEMO_EVENTS);
    let n = events.len();
    for chunk in events.chunks(1_000) {
        store.record_batch(chunk.to_vec()).await?;
    }
    Ok(n)
}

/// `n` demo events, oldest first.
pub fn generate(n: usize) -> Vec<NewEvent> {
    let mut rng = StdRng::seed_from_u64(0x5eed_a0d1);
    let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    let end = Utc.from_utc_datetime(&today);
    let start = end - Duration::days(DAYS);
    let span_ms = (end - start).num_milliseconds();
    let mut offsets: Vec<i64> = (0..n).map(|_| rng.gen_range(0..span_ms)).collect();
    offsets.sort_unstable();
    offsets
        .into_iter()
        .enumerate()
        .map(|(i, offset)| {
            let mut e = sample(&mut rng, i);
            let ts = start + Duration::milliseconds(offset);
            e.timestamp = Some(ts);
            e.id = Some(ulid::Ulid::from_parts(ts.timestamp_millis() as u64, rng.r#gen::<u128>()).to_string());
            e
        })
        .collect()
}

fn person_actor(p: &Person) -> Actor {
    Actor {
        kind: ActorType::User,
        id: Some(p.id.into()),
        name: Some(p.name.into()),
        email: Some(p.email.into()),
    }
}

fn changes(pairs: &[(&str, Value, Value)]) -> Map<String, Value> {
    let mut changes = Map::new();
    for (field, from, to) in pairs {
        changes.insert((*field).into(), json!({"from": from, "to": to}));
    }
    let mut details = Map::new();
    details.insert("changes".into(), Value::Object(changes));
    details
}

/// One realistic event (without id and time); `i` varies the choices.
pub fn sample(rng: &mut StdRng, i: usize) -> NewEvent {
    let person = PEOPLE.choose(rng).unwrap_or(&PEOPLE[0]);
    let domain = *DOMAINS.choose(rng).unwrap_or(&DOMAINS[0]);
    let ip = IPS.choose(rng).map(|s| s.to_string());
    let ua = AGENTS.choose(rng).map(|s| s.to_string());
    let mailbox = format!("{}@{domain}", ["info", "sales", "support", "ops", "hr", "ceo"][i % 6]);
    let mut e = NewEvent {
        actor: Some(person_actor(person)),
        ip,
        user_agent: ua,
        source: Some(["mail-manager", "mail-manager", "proxy-manager", "newsletter"][i % 4].into()),
        ..NewEvent::default()
    };
    let sample = Sample {
        roll: rng.gen_range(0..100),
        i,
        person,
        domain,
        mailbox,
    };
    let (action, target, details) = match sample.roll {
        0..=38 => auth_sample(&mut e, &sample),
        39..=72 => mail_sample(&sample),
        73..=88 => panel_sample(&sample),
        _ => system_sample(&mut e, &sample),
    };
    e.action = action.into();
    e.target = target;
    e.details = details;
    e
}

/// What a sample is drawn from.
struct Sample {
    roll: u32,
    i: usize,
    person: &'static Person,
    domain: &'static str,
    mailbox: String,
}

/// An action, its target and its details.
type Picked = (&'static str, Option<Target>, Map<String, Value>);

/// Sign-ins, sign-outs and password changes (rolls 0 to 38).
fn auth_sample(e: &mut NewEvent, s: &Sample) -> Picked {
    let i = s.i;
    let person = s.person;
    match s.roll {
        0..=21 => ("auth.login", None, Map::new()),
        22..=29 => {
            e.outcome = Outcome::Failure;
            let mut d = Map::new();
            d.insert(
                "reason".into(),
                json!(["bad_password", "unknown_user", "2fa_failed"][i % 3]),
            );
            d.insert("attempted_email".into(), json!(person.email));
            ("auth.login", None, d)
        }
        30..=35 => ("auth.logout", None, Map::new()),
        36..=37 => (
            "auth.password_change",
            None,
            changes(&[("password", json!("old"), json!("new"))]),
        ),
        _ => ("auth.2fa_enroll", None, Map::new()),
    }
}

/// Mailboxes, domains and DNS (rolls 39 to 72).
fn mail_sample(s: &Sample) -> Picked {
    let i = s.i;
    let domain = s.domain;
    let mailbox = s.mailbox.as_str();
    match s.roll {
        39..=48 => {
            let quota = [512, 1024, 2048, 4096][i % 4];
            let mut d = Map::new();
            d.insert("quota_mb".into(), json!(quota));
            ("mailbox.create", Some(target("mailbox", i, mailbox)), d)
        }
        49..=60 => {
            let from = [512, 1024, 2048][i % 3];
            let mut d = changes(&[
                ("quota_mb", json!(from), json!(from * 2)),
                ("active", json!(true), json!(!i.is_multiple_of(5))),
            ]);
            d.insert("quota_mb".into(), json!(from * 2));
            ("mailbox.update", Some(target("mailbox", i, mailbox)), d)
        }
        61..=64 => ("mailbox.delete", Some(target("mailbox", i, mailbox)), Map::new()),
        65..=67 => ("domain.create", Some(target("domain", i, domain)), Map::new()),
        68 => ("domain.delete", Some(target("domain", i, domain)), Map::new()),
        _ => {
            let d = changes(&[
                ("mx", json!(format!("mx1.{domain}")), json!(format!("mx2.{domain}"))),
                ("ttl", json!(3600), json!(300)),
            ]);
            ("dns.update", Some(target("domain", i, domain)), d)
        }
    }
}

/// Users, tokens, webhooks and settings (rolls 73 to 88).
fn panel_sample(s: &Sample) -> Picked {
    let i = s.i;
    match s.roll {
        73..=75 => {
            let other = PEOPLE[(i + 3) % PEOPLE.len()].name;
            ("user.create", Some(target("user", i, other)), Map::new())
        }
        76..=78 => {
            let other = PEOPLE[(i + 1) % PEOPLE.len()].name;
            let d = changes(&[
                ("display_name", json!(other), json!(format!("{other} (ops)"))),
                ("note", json!(null), json!("שלום — right-to-left note")),
            ]);
            ("user.update", Some(target("user", i, other)), d)
        }
        79 => (
            "user.delete",
            Some(target("user", i, PEOPLE[(i + 5) % PEOPLE.len()].name)),
            Map::new(),
        ),
        80..=81 => {
            let d = changes(&[("role", json!("viewer"), json!("admin"))]);
            (
                "user.role_change",
                Some(target("user", i, PEOPLE[(i + 2) % PEOPLE.len()].name)),
                d,
            )
        }
        82 => (
            "api_token.create",
            Some(target("api_token", i, "ci-deploy")),
            Map::new(),
        ),
        83 => (
            "api_token.revoke",
            Some(target("api_token", i, "old-importer")),
            Map::new(),
        ),
        84 => (
            "webhook.create",
            Some(target("webhook", i, "https://hooks.example.org/audit")),
            Map::new(),
        ),
        85 => (
            "webhook.delete",
            Some(target("webhook", i, "https://hooks.example.org/old")),
            Map::new(),
        ),
        _ => {
            let d = changes(&[
                ("smtp_relay", json!("relay1.acme.com"), json!("relay2.acme.com")),
                ("smtp_password", json!("a"), json!("b")),
            ]);
            ("settings.update", Some(target("settings", i, "Mail delivery")), d)
        }
    }
}

/// Backups, API-token writes, exports and purges (rolls 89 to 99).
fn system_sample(e: &mut NewEvent, s: &Sample) -> Picked {
    let i = s.i;
    let mailbox = s.mailbox.as_str();
    match s.roll {
        89..=92 => {
            e.actor = Some(Actor::system("backup-scheduler"));
            e.ip = None;
            e.user_agent = None;
            let mut d = Map::new();
            d.insert("size_mb".into(), json!(100 + (i % 900)));
            ("backup.create", Some(target("backup", i, &format!("nightly-{i}"))), d)
        }
        93 => (
            "backup.delete",
            Some(target("backup", i, &format!("nightly-{}", i / 2))),
            Map::new(),
        ),
        94 => (
            "backup.restore",
            Some(target("backup", i, &format!("nightly-{}", i / 3))),
            Map::new(),
        ),
        95..=97 => {
            let (id, name) = TOKENS[i % TOKENS.len()];
            e.actor = Some(Actor {
                kind: ActorType::ApiToken,
                id: Some(id.into()),
                name: Some(name.into()),
                email: None,
            });
            e.user_agent = Some("auditlog-client/1.0".into());
            let mut d = Map::new();
            d.insert("quota_mb".into(), json!(1024));
            ("mailbox.create", Some(target("mailbox", i, mailbox)), d)
        }
        98 => {
            let mut d = Map::new();
            d.insert("format".into(), json!("csv"));
            d.insert("rows".into(), json!(1000 + i));
            d.insert("completed".into(), json!(true));
            ("audit.export", Some(target("audit_log", i, "Audit log")), d)
        }
        _ => {
            e.actor = Some(Actor::system("retention"));
            e.ip = None;
            e.user_agent = None;
            let mut d = Map::new();
            d.insert("deleted".into(), json!(i * 3));
            d.insert("older_than_days".into(), json!(365));
            ("audit.retention_purge", Some(target("audit_log", i, "Audit log")), d)
        }
    }
}

fn target(kind: &str, i: usize, name: &str) -> Target {
    Target {
        kind: kind.into(),
        id: Some(((i * 7919) % 10_000).to_string()),
        name: Some(name.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_deterministic_and_valid() {
        let a = generate(500);
        assert_eq!(a, generate(500));
        for e in a {
            e.validate().expect("demo events are valid");
        }
    }
}
