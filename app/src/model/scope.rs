//! The two filters a viewer picks before any other: which part of the log it looks at (`view=`: every event,
//! the sign-ins, or the activity besides them) and a time range that moves with the clock (`range=24h`).

/// The category of the Sign-ins view: every action of it, and none of it in the Activity view.
pub const SIGN_IN_CATEGORY: &str = "auth";

/// A part of the log with its own tab: `view=all|signins|activity`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogView {
    #[default]
    All,
    /// "Did someone access the system?": the `auth` category.
    SignIns,
    /// "Who changed this?": every other category.
    Activity,
}

impl LogView {
    pub const ALL: [LogView; 3] = [LogView::All, LogView::SignIns, LogView::Activity];

    pub fn as_str(self) -> &'static str {
        match self {
            LogView::All => "all",
            LogView::SignIns => "signins",
            LogView::Activity => "activity",
        }
    }

    /// The tab's name.
    pub fn label(self) -> &'static str {
        match self {
            LogView::All => "All events",
            LogView::SignIns => "Sign-ins",
            LogView::Activity => "Activity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether an action of `category` belongs to this view.
    pub fn holds_category(self, category: &str) -> bool {
        match self {
            LogView::All => true,
            LogView::SignIns => category == SIGN_IN_CATEGORY,
            LogView::Activity => category != SIGN_IN_CATEGORY,
        }
    }
}

/// A time range that ends now: `range=1h|24h|7d|30d`. A link or an auto-refreshing tab with one moves with the
/// clock; `from`/`to` are fixed instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeRange {
    LastHour,
    LastDay,
    LastWeek,
    LastMonth,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [
        TimeRange::LastHour,
        TimeRange::LastDay,
        TimeRange::LastWeek,
        TimeRange::LastMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::LastHour => "1h",
            TimeRange::LastDay => "24h",
            TimeRange::LastWeek => "7d",
            TimeRange::LastMonth => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeRange::LastHour => "Last hour",
            TimeRange::LastDay => "Last 24 hours",
            TimeRange::LastWeek => "Last 7 days",
            TimeRange::LastMonth => "Last 30 days",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The range's length in milliseconds.
    pub fn millis(self) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            TimeRange::LastHour => HOUR,
            TimeRange::LastDay => 24 * HOUR,
            TimeRange::LastWeek => 7 * 24 * HOUR,
            TimeRange::LastMonth => 30 * 24 * HOUR,
        }
    }

    /// The first instant of the range when it ends at `now_millis`.
    pub fn start(self, now_millis: i64) -> i64 {
        now_millis - self.millis()
    }
}

/// The time zone the tab shows times in (`tz=utc|local`): UTC by default; `Local` is the browser's. Not a
/// filter: the API's times are always UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Zone {
    #[default]
    Utc,
    Local,
}

impl Zone {
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Utc => "utc",
            Zone::Local => "local",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_and_ranges_are_read_back_from_their_words() {
        for v in LogView::ALL {
            assert_eq!(LogView::parse(v.as_str()), Some(v));
        }
        for r in TimeRange::ALL {
            assert_eq!(TimeRange::parse(r.as_str()), Some(r));
        }
        assert_eq!(TimeRange::LastDay.start(86_400_000), 0);
    }

    #[test]
    fn sign_ins_and_activity_split_the_categories() {
        for c in ["auth", "mailbox", "api_token"] {
            assert!(LogView::All.holds_category(c));
            assert_ne!(
                LogView::SignIns.holds_category(c),
                LogView::Activity.holds_category(c),
                "{c}"
            );
        }
    }
}
