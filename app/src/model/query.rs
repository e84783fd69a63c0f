//! `AuditQuery`: the one query type of the list, the API, export and the viewer's URL. It is parsed from URL
//! parameters (naming the bad one) and written back to them, so a URL is the whole state of a view.

use serde::{Deserialize, Serialize};

use super::{
    ActorType, FieldError, Outcome,
    event::{parse_tenant, parse_ulid},
    ip::IpRange,
    scope::{LogView, TimeRange, Zone},
    syntax::{self, SyntaxError},
    time,
};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;
pub const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortKey {
    #[default]
    Timestamp,
    Action,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Timestamp => "timestamp",
            SortKey::Action => "action",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    #[default]
    Desc,
    Asc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Desc => "desc",
            SortOrder::Asc => "asc",
        }
    }

    pub fn flipped(self) -> Self {
        match self {
            SortOrder::Desc => SortOrder::Asc,
            SortOrder::Asc => SortOrder::Desc,
        }
    }
}

/// One end of a time range as the user wrote it (kept for the URL) and the instant it means.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeBound {
    pub raw: String,
    pub millis: i64,
}

/// Where a keyset walk continues: the sort value and id of the last row seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub key: String,
    pub millis: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}~{}~{}", self.millis, self.id, self.key)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '~');
        let millis = parts.next()?.parse().ok()?;
        let id = parse_ulid(parts.next()?)?;
        let key = parts.next()?.to_string();
        Some(Cursor { key, millis, id })
    }
}

/// Serialized as its own query string, so it crosses any server-function encoding as one value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct AuditQuery {
    /// The part of the log the viewer's tab shows (`view=`): every event, the sign-ins, or the rest.
    pub view: LogView,
    pub q: Option<String>,
    pub actions: Vec<String>,
    pub category: Option<String>,
    /// Every action whose last part is this (`delete`: `mailbox.delete`, `domain.delete`, ...), whatever its
    /// category. The store serves it as the actions of that verb present in the log.
    pub verb: Option<String>,
    pub actor: Option<String>,
    /// Every event but those of this actor (id, email or name): `-actor:ci-bot` in the search box.
    pub exclude_actor: Option<String>,
    pub actor_type: Option<ActorType>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub source: Option<String>,
    /// The events from an address in this range (`ip=203.0.113.0/24`, or one address).
    pub ip: Option<IpRange>,
    /// One tenant's events (`tenant=acme`). A viewer or a token bound to a tenant always has it (`Scope`).
    pub tenant: Option<String>,
    /// A range that ends now (`range=24h`); with `from`, the later start counts.
    pub range: Option<TimeRange>,
    pub from: Option<TimeBound>,
    pub to: Option<TimeBound>,
    pub sort: SortKey,
    pub order: SortOrder,
    pub page: u32,
    pub page_size: u32,
    pub cursor: Option<Cursor>,
    /// The viewer's open detail (`event=`): not a filter, but part of the URL state.
    pub event: Option<String>,
    /// `count=exact`: count every match of a free-text search (otherwise it stops at `TEXT_COUNT_CAP`).
    pub exact_count: bool,
    /// `refresh=1`: the viewer reloads the page every few seconds (not a filter; part of the URL state, so
    /// that a reload keeps it).
    pub auto_refresh: bool,
    /// `tz=local`: the viewer shows times in the browser's time zone (not a filter).
    pub zone: Zone,
    /// `embed=1`: the tab is shown alone, without the demo panel's navigation (not a filter; kept in every
    /// link of the tab).
    pub embed: bool,
}

/// A query's filters, borrowed from it: what every place that must handle all of them destructures, without
/// `..`, so that a new filter does not compile until each of those places handles it. The view's own
/// parameters (sort, paging, the open detail, auto-refresh) are not among them.
#[derive(Clone, Copy, Debug)]
pub struct Filters<'a> {
    pub view: &'a LogView,
    pub q: &'a Option<String>,
    pub actions: &'a Vec<String>,
    pub category: &'a Option<String>,
    pub verb: &'a Option<String>,
    pub actor: &'a Option<String>,
    pub exclude_actor: &'a Option<String>,
    pub actor_type: &'a Option<ActorType>,
    pub target_type: &'a Option<String>,
    pub target_id: &'a Option<String>,
    pub outcome: &'a Option<Outcome>,
    pub source: &'a Option<String>,
    pub ip: &'a Option<IpRange>,
    pub tenant: &'a Option<String>,
    pub range: &'a Option<TimeRange>,
    pub from: &'a Option<TimeBound>,
    pub to: &'a Option<TimeBound>,
}

/// A free-text search counts its matches exactly up to this many; past it the total reads "10,000+".
pub const TEXT_COUNT_CAP: u64 = 10_000;

/// The longest text a parameter may hold (`q`, `actor`, `target_id`, …), in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most values a repeated parameter (`action`) may have.
pub const MAX_REPEATED: usize = 100;
/// The longest query string a list or export takes, in bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            view: LogView::All,
            q: None,
            actions: Vec::new(),
            category: None,
            verb: None,
            actor: None,
            exclude_actor: None,
            actor_type: None,
            target_type: None,
            target_id: None,
            outcome: None,
            source: None,
            ip: None,
            tenant: None,
            range: None,
            from: None,
            to: None,
            sort: SortKey::default(),
            order: SortOrder::default(),
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            cursor: None,
            event: None,
            exact_count: false,
            auto_refresh: false,
            zone: Zone::Utc,
            embed: false,
        }
    }
}

impl AuditQuery {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every parameter `from_pairs` reads, in the order the API documents them.
    pub const PARAMETERS: [&'static str; 27] = [
        "view",
        "q",
        "action",
        "category",
        "verb",
        "actor",
        "exclude_actor",
        "actor_type",
        "target_type",
        "target_id",
        "outcome",
        "source",
        "ip",
        "tenant",
        "range",
        "from",
        "to",
        "sort",
        "order",
        "page",
        "page_size",
        "cursor",
        "count",
        "refresh",
        "tz",
        "event",
        "embed",
    ];

    /// Parses URL parameters. Empty values count as absent (an HTML form sends every field); anything else
    /// malformed is an error naming the parameter. Unknown parameters are ignored, so a host can add its own.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, FieldError> {
        let mut q = AuditQuery::new();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(FieldError::filter(
                    key,
                    format!("must be at most {MAX_TEXT_CHARS} characters"),
                ));
            }
            if !q.set_filter(key, value)? {
                q.set_view_parameter(key, value)?;
            }
        }
        if let (Some(from), Some(to)) = (&q.from, &q.to)
            && from.millis > to.millis
        {
            return Err(FieldError::filter("from", "must not be after `to`"));
        }
        Ok(q)
    }

    /// Sets the filter `key` to `value` (neither empty nor too long). False when `key` is not a filter.
    fn set_filter(&mut self, key: &str, value: &str) -> Result<bool, FieldError> {
        let text = || Some(value.to_string());
        match key {
            "view" => {
                self.view = LogView::parse(value)
                    .ok_or_else(|| FieldError::filter(key, "must be `all`, `signins` or `activity`"))?
            }
            // The search box's syntax: its terms set their filters, the rest is the free text.
            "q" => self.apply_search(value).map_err(SyntaxError::into_field_error)?,
            "action" if self.actions.len() >= MAX_REPEATED => {
                return Err(FieldError::filter(
                    key,
                    format!("may repeat at most {MAX_REPEATED} times"),
                ));
            }
            // `<category>.*`: every action of the category (the tab's `All <category> actions`).
            "action" if value.ends_with(".*") => {
                let category = &value[..value.len() - 2];
                if category.is_empty() || category.contains(['.', '*']) {
                    return Err(FieldError::filter(key, "a whole category is written `<category>.*`"));
                }
                self.category = Some(category.to_string());
            }
            "action" => self.actions.push(value.to_string()),
            "category" => self.category = text(),
            "verb" => {
                let ok = value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(FieldError::filter(
                        key,
                        "must be the last part of an action: lowercase letters, digits and _ (`delete`)",
                    ));
                }
                self.verb = text();
            }
            "actor" => self.actor = text(),
            "exclude_actor" => self.exclude_actor = text(),
            "actor_type" => {
                self.actor_type = Some(
                    ActorType::parse(value)
                        .ok_or_else(|| FieldError::filter(key, "must be `user`, `api_token` or `system`"))?,
                )
            }
            "target_type" => self.target_type = text(),
            "target_id" => self.target_id = text(),
            "outcome" => {
                self.outcome = Some(
                    Outcome::parse(value).ok_or_else(|| FieldError::filter(key, "must be `success` or `failure`"))?,
                )
            }
            "source" => self.source = text(),
            "ip" => self.ip = Some(value.parse().map_err(|m: &str| FieldError::filter(key, m))?),
            "tenant" => self.tenant = Some(parse_tenant(value).map_err(|m| FieldError::filter(key, m))?),
            // `custom`: the range is `from` and `to` (the tab's Time range select sends it).
            "range" if value == "custom" => self.range = None,
            "range" => {
                self.range = Some(
                    TimeRange::parse(value)
                        .ok_or_else(|| FieldError::filter(key, "must be `1h`, `24h`, `7d`, `30d` or `custom`"))?,
                )
            }
            "from" => self.from = Some(parse_bound(key, value, false)?),
            "to" => self.to = Some(parse_bound(key, value, true)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Applies a search text (the search box's syntax): its terms set their filters, the rest is the free
    /// text. A mistake, or a term's value its filter refuses, is an error at the term's position.
    pub fn apply_search(&mut self, text: &str) -> Result<(), SyntaxError> {
        let parsed = syntax::parse(text)?;
        for (term, value, at) in &parsed.parameters {
            self.set_filter(term, value).map_err(|e| SyntaxError {
                position: *at,
                message: format!("\"{term}\" {}", e.message),
            })?;
        }
        self.q = parsed.text;
        Ok(())
    }

    /// Sets the view's parameter `key` (sort, paging, the open detail, ...) to `value`; ignores other keys.
    fn set_view_parameter(&mut self, key: &str, value: &str) -> Result<(), FieldError> {
        match key {
            "sort" => {
                self.sort = choice(
                    key,
                    value,
                    &[("timestamp", SortKey::Timestamp), ("action", SortKey::Action)],
                )?
            }
            "order" => self.order = choice(key, value, &[("desc", SortOrder::Desc), ("asc", SortOrder::Asc)])?,
            "page" => {
                self.page = value
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| FieldError::filter(key, "must be a whole number from 1"))?
            }
            "page_size" => {
                self.page_size = value
                    .parse()
                    .ok()
                    .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
                    .ok_or_else(|| FieldError::filter(key, format!("must be from 1 to {MAX_PAGE_SIZE}")))?
            }
            "cursor" => {
                self.cursor =
                    Some(Cursor::decode(value).ok_or_else(|| FieldError::filter(key, "is not a valid cursor"))?)
            }
            "count" => self.exact_count = choice(key, value, &[("exact", true), ("capped", false)])?,
            // `on` and `off`: what links written before `1` and `0` carry.
            "refresh" => {
                let words = [("1", true), ("0", false), ("on", true), ("off", false)];
                self.auto_refresh = choice(key, value, &words)?
            }
            "embed" => self.embed = choice(key, value, &[("1", true), ("0", false)])?,
            "tz" => self.zone = choice(key, value, &[("utc", Zone::Utc), ("local", Zone::Local)])?,
            "event" => {
                self.event = Some(parse_ulid(value).ok_or_else(|| FieldError::filter(key, "must be an event id"))?)
            }
            _ => {}
        }
        Ok(())
    }

    /// Parses a query string (`a=1&b=2`, without the `?`), of at most `MAX_QUERY_BYTES`.
    pub fn from_query_string(qs: &str) -> Result<Self, FieldError> {
        if qs.len() > MAX_QUERY_BYTES {
            return Err(FieldError::filter(
                "query",
                format!("must be at most {} KiB", MAX_QUERY_BYTES / 1024),
            ));
        }
        let pairs = decode_pairs(qs);
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The parameters that differ from the defaults, in a stable order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut push = |k: &'static str, v: Option<&str>| {
            if let Some(v) = v {
                out.push((k, v.to_string()));
            }
        };
        push("view", (self.view != LogView::All).then_some(self.view.as_str()));
        let text = self.q.as_deref().map(syntax::text);
        push("q", text.as_deref());
        for a in &self.actions {
            push("action", Some(a));
        }
        push("category", self.category.as_deref());
        push("verb", self.verb.as_deref());
        push("actor", self.actor.as_deref());
        push("exclude_actor", self.exclude_actor.as_deref());
        push("actor_type", self.actor_type.map(ActorType::as_str));
        push("target_type", self.target_type.as_deref());
        push("target_id", self.target_id.as_deref());
        push("outcome", self.outcome.map(Outcome::as_str));
        push("source", self.source.as_deref());
        let ip = self.ip.map(|r| r.to_string());
        push("ip", ip.as_deref());
        push("tenant", self.tenant.as_deref());
        push("range", self.range.map(TimeRange::as_str));
        push("from", self.from.as_ref().map(|b| b.raw.as_str()));
        push("to", self.to.as_ref().map(|b| b.raw.as_str()));
        push("sort", (self.sort != SortKey::default()).then_some(self.sort.as_str()));
        push(
            "order",
            (self.order != SortOrder::default()).then_some(self.order.as_str()),
        );
        let page = self.page.to_string();
        push("page", (self.page > 1).then_some(page.as_str()));
        let size = self.page_size.to_string();
        push(
            "page_size",
            (self.page_size != DEFAULT_PAGE_SIZE).then_some(size.as_str()),
        );
        let cursor = self.cursor.as_ref().map(Cursor::encode);
        push("cursor", cursor.as_deref());
        push("event", self.event.as_deref());
        push("count", self.exact_count.then_some("exact"));
        push("refresh", self.auto_refresh.then_some("1"));
        push("tz", (self.zone != Zone::Utc).then_some(self.zone.as_str()));
        push("embed", self.embed.then_some("1"));
        out
    }

    pub fn to_query_string(&self) -> String {
        self.to_pairs()
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The query as a caller bound to `tenant` may ask it: of that tenant only, whatever `tenant=` it named
    /// (a caller of the whole log, `None`, asks it as it is).
    pub fn within(self, tenant: Option<&str>) -> Self {
        match tenant {
            Some(t) => AuditQuery {
                tenant: Some(t.to_string()),
                ..self
            },
            None => self,
        }
    }

    /// The same filters without paging or the open detail: what an export or a total covers.
    pub fn filters_only(&self) -> Self {
        AuditQuery {
            page: 1,
            cursor: None,
            event: None,
            page_size: self.page_size,
            ..self.clone()
        }
    }

    /// True when no filter narrows the result (sorting and paging aside).
    pub fn is_unfiltered(&self) -> bool {
        self.q.is_none() && !self.has_filters_besides_text()
    }

    /// The query's filters (`Filters`).
    pub fn filters(&self) -> Filters<'_> {
        let AuditQuery {
            view,
            q,
            actions,
            category,
            verb,
            actor,
            exclude_actor,
            actor_type,
            target_type,
            target_id,
            outcome,
            source,
            ip,
            tenant,
            range,
            from,
            to,
            sort: _,
            order: _,
            page: _,
            page_size: _,
            cursor: _,
            event: _,
            exact_count: _,
            auto_refresh: _,
            zone: _,
            embed: _,
        } = self;
        Filters {
            view,
            q,
            actions,
            category,
            verb,
            actor,
            exclude_actor,
            actor_type,
            target_type,
            target_id,
            outcome,
            source,
            ip,
            tenant,
            range,
            from,
            to,
        }
    }

    /// The filters alone as a query string (no sort, order, paging or detail): the key under which what is
    /// known of them (totals, histograms) is kept, whatever the view.
    pub fn filters_key(&self) -> String {
        let Filters {
            view,
            q,
            actions,
            category,
            verb,
            actor,
            exclude_actor,
            actor_type,
            target_type,
            target_id,
            outcome,
            source,
            ip,
            tenant,
            range,
            from,
            to,
        } = self.filters();
        AuditQuery {
            view: *view,
            q: q.clone(),
            actions: actions.clone(),
            category: category.clone(),
            verb: verb.clone(),
            actor: actor.clone(),
            exclude_actor: exclude_actor.clone(),
            actor_type: *actor_type,
            target_type: target_type.clone(),
            target_id: target_id.clone(),
            outcome: *outcome,
            source: source.clone(),
            ip: *ip,
            tenant: tenant.clone(),
            range: *range,
            from: from.clone(),
            to: to.clone(),
            ..AuditQuery::default()
        }
        .to_query_string()
    }

    /// True when a filter other than the free text `q` narrows the result.
    pub fn has_filters_besides_text(&self) -> bool {
        let Filters {
            view,
            q: _,
            actions,
            category,
            verb,
            actor,
            exclude_actor,
            actor_type,
            target_type,
            target_id,
            outcome,
            source,
            ip,
            tenant,
            range,
            from,
            to,
        } = self.filters();
        !(*view == LogView::All
            && actions.is_empty()
            && category.is_none()
            && verb.is_none()
            && actor.is_none()
            && exclude_actor.is_none()
            && actor_type.is_none()
            && target_type.is_none()
            && target_id.is_none()
            && outcome.is_none()
            && source.is_none()
            && ip.is_none()
            && tenant.is_none()
            && range.is_none()
            && from.is_none()
            && to.is_none())
    }

    /// Each filter the search syntax can say, as its term (`action:mailbox.create`, `created:>=2026-11-01`),
    /// with this query without it (from its first page): the tab's removable chips.
    pub fn search_terms(&self) -> Vec<(String, AuditQuery)> {
        let base = AuditQuery {
            page: 1,
            cursor: None,
            event: None,
            ..self.clone()
        };
        let mut out = Vec::new();
        for (i, action) in self.actions.iter().enumerate() {
            let mut without = base.clone();
            without.actions.remove(i);
            out.push((format!("action:{}", syntax::value(action)), without));
        }
        let mut term = |text: Option<String>, clear: fn(&mut AuditQuery)| {
            if let Some(text) = text {
                let mut without = base.clone();
                clear(&mut without);
                out.push((text, without));
            }
        };
        let said = |field: &str, v: &str| format!("{field}:{}", syntax::value(v));
        // A category reads as the Action select's `All <category> actions` where it can (`action:mailbox.*`).
        let category = |c: &String| match c.contains(['.', '*']) || c.chars().any(char::is_whitespace) {
            true => said("category", c),
            false => format!("action:{c}.*"),
        };
        term(self.category.as_ref().map(category), |q| q.category = None);
        term(self.verb.as_ref().map(|v| said("verb", v)), |q| q.verb = None);
        term(self.actor.as_ref().map(|v| said("actor", v)), |q| q.actor = None);
        term(self.exclude_actor.as_ref().map(|v| said("-actor", v)), |q| {
            q.exclude_actor = None
        });
        term(self.actor_type.map(|t| said("actor_type", t.as_str())), |q| {
            q.actor_type = None
        });
        term(self.target_type.as_ref().map(|v| said("target_type", v)), |q| {
            q.target_type = None
        });
        term(self.target_id.as_ref().map(|v| said("target_id", v)), |q| {
            q.target_id = None
        });
        term(self.outcome.map(|o| said("outcome", o.as_str())), |q| q.outcome = None);
        term(self.source.as_ref().map(|v| said("source", v)), |q| q.source = None);
        term(self.ip.map(|r| said("ip", &r.to_string())), |q| q.ip = None);
        term(self.tenant.as_ref().map(|v| said("tenant", v)), |q| q.tenant = None);
        term(
            self.from.as_ref().map(|b| said("created", &format!(">={}", b.raw))),
            |q| q.from = None,
        );
        term(
            self.to.as_ref().map(|b| said("created", &format!("<={}", b.raw))),
            |q| q.to = None,
        );
        out
    }

    /// The query's filters as one search text: its terms, then its free text.
    pub fn to_search_text(&self) -> String {
        let mut parts: Vec<String> = self.search_terms().into_iter().map(|(term, _)| term).collect();
        parts.extend(self.q.as_deref().map(syntax::text));
        parts.join(" ")
    }

    /// The first instant the time filters keep, when the clock reads `now_millis`: the later of `from` and
    /// the start of `range` (a range ends now).
    pub fn first_instant(&self, now_millis: i64) -> Option<i64> {
        let from = self.from.as_ref().map(|f| f.millis);
        let start = self.range.map(|r| r.start(now_millis));
        match (from, start) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

impl From<AuditQuery> for String {
    fn from(q: AuditQuery) -> String {
        q.to_query_string()
    }
}

impl TryFrom<String> for AuditQuery {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        AuditQuery::from_query_string(&s)
    }
}

/// Splits and percent-decodes `a=1&b=x+y`.
pub fn decode_pairs(qs: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        urlencoding::decode(&s).map(|c| c.into_owned()).unwrap_or(s)
    };
    qs.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// One of a few words: the value the word stands for, or an error naming `key` and listing the words.
fn choice<T: Copy>(key: &str, value: &str, words: &[(&str, T)]) -> Result<T, FieldError> {
    words
        .iter()
        .find(|(word, _)| *word == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let listed: Vec<String> = words.iter().map(|(word, _)| format!("`{word}`")).collect();
            FieldError::filter(key, format!("must be {}", listed.join(" or ")))
        })
}

/// A start time as `from` takes it (Unix ms); an error names `field`.
pub fn parse_start(field: &str, value: &str) -> Result<i64, FieldError> {
    parse_bound(field, value.trim(), false).map(|b| b.millis)
}

/// `from`/`to`: an RFC 3339 instant; a UTC date and time of day to the minute or second
/// (`2026-11-01T08:30`, as a `datetime-local` input sends it); or a whole UTC day. A `to` covers its whole last
/// unit (day, minute, second): `to=2026-11-01T08:30` ends at 08:30:59.999.
fn parse_bound(field: &str, value: &str, end: bool) -> Result<TimeBound, FieldError> {
    let millis = if let Some(t) = time::parse_rfc3339(value) {
        time::to_millis(t)
    } else if let Some((start, unit)) = time::parse_utc(value) {
        start + if end { unit - 1 } else { 0 }
    } else {
        return Err(FieldError::filter(
            field,
            "must be a date (YYYY-MM-DD), a UTC date and time (YYYY-MM-DDTHH:MM) or an RFC 3339 date-time",
        ));
    };
    Ok(TimeBound {
        raw: value.to_string(),
        millis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(qs: &str) -> Result<AuditQuery, FieldError> {
        AuditQuery::from_query_string(qs)
    }

    #[test]
    fn an_action_of_a_category_and_a_star_is_the_whole_category() {
        let q = parse("action=mailbox.*").unwrap();
        assert_eq!((q.category.as_deref(), q.actions.len()), (Some("mailbox"), 0));
        assert_eq!(q.to_query_string(), "category=mailbox");
        assert_eq!(parse("action=.*").unwrap_err().field, "action");
        assert_eq!(parse("action=a.b.*").unwrap_err().field, "action");
    }

    #[test]
    fn a_view_and_a_time_range_are_filters_kept_in_the_url() {
        let q = parse("view=signins&range=24h").unwrap();
        assert_eq!((q.view, q.range), (LogView::SignIns, Some(TimeRange::LastDay)));
        assert!(q.has_filters_besides_text());
        assert_eq!(q.to_query_string(), "view=signins&range=24h");
        assert_ne!(q.filters_key(), AuditQuery::default().filters_key());
        assert_eq!(parse("view=all&range=custom").unwrap(), AuditQuery::default());
        assert_eq!(parse("view=logins").unwrap_err().field, "view");
        assert_eq!(parse("range=2d").unwrap_err().field, "range");
    }

    #[test]
    fn a_time_of_day_is_utc_and_a_to_covers_its_last_minute_or_second() {
        let q = parse("from=2026-11-01T08:30&to=2026-11-01T09:15").unwrap();
        assert_eq!(time::format_millis(q.from.unwrap().millis), "2026-11-01T08:30:00.000Z");
        assert_eq!(time::format_millis(q.to.unwrap().millis), "2026-11-01T09:15:59.999Z");
        let q = parse("to=2026-11-01T09:15:07").unwrap();
        assert_eq!(time::format_millis(q.to.unwrap().millis), "2026-11-01T09:15:07.999Z");
        assert_eq!(parse("from=2026-11-01T25:00").unwrap_err().field, "from");
    }

    #[test]
    fn a_verb_is_the_last_part_of_an_action() {
        let q = parse("verb=delete").unwrap();
        assert_eq!(q.verb.as_deref(), Some("delete"));
        assert!(q.has_filters_besides_text());
        assert_eq!(q.to_query_string(), "verb=delete");
        assert_ne!(q.filters_key(), AuditQuery::default().filters_key());
        assert_eq!(parse("verb=mailbox.delete").unwrap_err().field, "verb");
        assert_eq!(parse("verb=Delete").unwrap_err().field, "verb");
    }

    #[test]
    fn every_documented_parameter_is_read() {
        for key in AuditQuery::PARAMETERS {
            // A value no strict parameter takes: either it is refused naming the parameter, or it is kept.
            match AuditQuery::from_pairs([(key, "zz!")]) {
                Err(e) => assert_eq!(e.field, key, "{key}"),
                Ok(q) => assert_ne!(q, AuditQuery::default(), "{key} was ignored"),
            }
        }
        assert_eq!(AuditQuery::from_pairs([("unknown", "zz!")]), Ok(AuditQuery::default()));
    }

    #[test]
    fn defaults_are_newest_first_fifty_a_page() {
        let q = parse("").unwrap();
        assert_eq!(
            (q.sort, q.order, q.page, q.page_size),
            (SortKey::Timestamp, SortOrder::Desc, 1, 50)
        );
        assert_eq!(q.to_query_string(), "");
    }

    #[test]
    fn every_bad_value_names_its_parameter() {
        for (qs, field) in [
            ("sort=size", "sort"),
            ("order=up", "order"),
            ("page=0", "page"),
            ("page=x", "page"),
            ("page_size=0", "page_size"),
            ("page_size=501", "page_size"),
            ("from=2026-13-01", "from"),
            ("to=tomorrow", "to"),
            ("outcome=maybe", "outcome"),
            ("actor_type=robot", "actor_type"),
            ("cursor=zzz", "cursor"),
            ("event=1", "event"),
            ("from=2026-02-02&to=2026-02-01", "from"),
        ] {
            assert_eq!(parse(qs).expect_err(qs).field, field, "{qs}");
        }
    }

    #[test]
    fn a_day_covers_its_whole_utc_span_inclusive() {
        let q = parse("from=2026-02-01&to=2026-02-01").unwrap();
        assert_eq!(time::format_millis(q.from.unwrap().millis), "2026-02-01T00:00:00.000Z");
        assert_eq!(time::format_millis(q.to.unwrap().millis), "2026-02-01T23:59:59.999Z");
    }

    #[test]
    fn round_trips_through_the_url() {
        let qs = "q=caf%C3%A9%20%26%20co&action=a.b&action=c.d&outcome=failure&from=2026-01-01&sort=action&order=asc&page=3&page_size=10";
        let q = parse(qs).unwrap();
        assert_eq!(q.actions, vec!["a.b", "c.d"]);
        assert_eq!(q.q.as_deref(), Some("café & co"));
        assert_eq!(parse(&q.to_query_string()).unwrap(), q);
    }

    #[test]
    fn empty_form_fields_are_absent() {
        let q = parse("q=&action=&outcome=&page_size=25").unwrap();
        assert_eq!(q.q, None);
        assert!(q.actions.is_empty());
        assert_eq!(q.page_size, 25);
    }

    #[test]
    fn long_text_many_actions_and_long_query_strings_are_refused_by_name() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(parse(&format!("q={long}")).unwrap_err().field, "q");
        assert_eq!(parse(&format!("actor={long}")).unwrap_err().field, "actor");
        assert!(parse(&format!("q={}", "x".repeat(MAX_TEXT_CHARS))).is_ok());
        let actions = |n: usize| (0..n).map(|i| format!("action=a.b{i}")).collect::<Vec<_>>().join("&");
        assert!(parse(&actions(MAX_REPEATED)).is_ok());
        assert_eq!(parse(&actions(MAX_REPEATED + 1)).unwrap_err().field, "action");
        let huge = format!("q=a&{}", "z=1&".repeat(MAX_QUERY_BYTES / 4));
        assert_eq!(parse(&huge).unwrap_err().field, "query");
    }

    #[test]
    fn embed_is_part_of_the_url_but_not_of_the_filters() {
        let q = parse("embed=1&action=a.b").unwrap();
        assert!(q.embed);
        assert_eq!(q.to_query_string(), "action=a.b&embed=1");
        assert_eq!(q.filters_key(), parse("action=a.b").unwrap().filters_key());
        assert_eq!(parse("embed=yes").unwrap_err().field, "embed");
    }

    #[test]
    fn auto_refresh_is_part_of_the_url_but_not_of_the_filters() {
        let q = parse("action=a.b&refresh=1").unwrap();
        assert!(q.auto_refresh);
        assert_eq!(q.to_query_string(), "action=a.b&refresh=1");
        assert_eq!(q.filters_key(), parse("action=a.b").unwrap().filters_key());
        // Links written with the older words still work, and are written anew with `1`.
        let older = parse("action=a.b&refresh=on").unwrap();
        assert_eq!(older.to_query_string(), "action=a.b&refresh=1");
        assert!(!parse("refresh=0").unwrap().auto_refresh && !parse("refresh=off").unwrap().auto_refresh);
        assert_eq!(parse("refresh=sometimes").unwrap_err().field, "refresh");
    }

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            key: "user.create".into(),
            millis: 1_700_000_000_000,
            id: "01JB8Q4K7N2X5S3V9T0R1C6M2D".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// A value for `key`: one it takes, one it refuses, or any text at all (spaces, `&`, `=`, `%`, non-ASCII).
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                prop::sample::select(vec![
                    "success",
                    "failure",
                    "user",
                    "api_token",
                    "system",
                    "timestamp",
                    "action",
                    "asc",
                    "desc",
                    "exact",
                    "capped",
                    "on",
                    "off",
                    "local",
                    "utc",
                    "1",
                    "3",
                    "500",
                    "501",
                    "0",
                    "-1",
                    "2026-01-02",
                    "2026-01-02T03:04:05Z",
                    "2026-13-40",
                    "mailbox.create",
                    "01JB8Q4K7N2X5S3V9T0R1C6M2D",
                    "signins",
                    "activity",
                    "24h",
                    "custom",
                    "2026-01-02T03:04",
                    "203.0.113.0/24",
                    "203.0.113.9/24",
                    "2001:db8::/32",
                    "2001:db8::1",
                    "::ffff:10.0.0.1",
                    "10.0.0.0/33",
                ])
                .prop_map(String::from),
                "\\PC{0,12}",
                "[ &=%+#a-z.]{0,12}",
            ]
        }

        fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
            let key = prop_oneof![
                prop::sample::select(AuditQuery::PARAMETERS.to_vec()).prop_map(String::from),
                Just("fields".to_string()),
                "[a-z_]{1,8}",
            ];
            prop::collection::vec((key, value()), 0..8)
        }

        proptest! {
            /// Any parameters either parse, and then survive being written to a URL and read back unchanged, or
            /// are refused naming a parameter the parser reads.
            #[test]
            fn parsed_queries_round_trip_through_the_url(pairs in pairs()) {
                match AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                    Ok(q) => prop_assert_eq!(AuditQuery::from_query_string(&q.to_query_string()), Ok(q)),
                    Err(e) => prop_assert!(AuditQuery::PARAMETERS.contains(&e.field.as_str()), "{}", e.field),
                }
            }

            /// A query's filters said in the search syntax give the same filters back (values with a quote
            /// or with runs of whitespace cannot be said in it: the URL's parameters carry those).
            #[test]
            fn the_search_text_of_a_query_gives_its_filters_back(pairs in pairs()) {
                let Ok(q) = AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) else {
                    return Ok(());
                };
                let sayable = AuditQuery { view: LogView::All, range: None, ..q };
                let text = sayable.to_search_text();
                let values = pairs.iter().map(|(_, v)| v.trim());
                prop_assume!(values.clone().all(|v| !v.contains('"') && !v.contains("  ")));
                prop_assume!(pairs.iter().all(|(_, v)| !v.trim().chars().any(|c| c.is_whitespace() && c != ' ')));
                prop_assume!(text.chars().count() <= MAX_TEXT_CHARS);
                let back = AuditQuery::from_pairs([("q", text.as_str())]).map(|b| b.filters_key());
                prop_assert_eq!(back, Ok(sayable.filters_key()), "{}", text);
            }

            /// Any query string at all gives a query or an error, never a panic.
            #[test]
            fn any_query_string_is_read_or_refused(qs in "\\PC{0,64}") {
                let _ = AuditQuery::from_query_string(&qs);
            }
        }
    }
}
