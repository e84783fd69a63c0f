//! Every number that trades one cost of the store against another, in one place. Each says what it trades
//! and how it was measured (1M and 10M events, 2 cores; `docs/search.md` and `docs/tuning.md` have the
//! details). Tests change some of them to reach a path with a few rows.

use std::time::Duration;

/// The store's tuning. `Tuning::default()` is what the product runs with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    // ---- Pages of structured filters ----
    /// Deep pages that skip more rows than this start from the day (and action) the per-day counts place them
    /// in (`PagePlan::Anchored`); `None`: never, every page skips its offset through the index (the reference
    /// the tests compare with). Skipping costs about 0.1 µs a row through an index that holds the filter,
    /// 1.5 µs where rows must be read; placing a page costs a transaction (about 0.2 ms). At 1M events page 100
    /// of `source=newsletter` took 1.4 ms skipping, page 102 0.8 ms placed.
    pub anchor_min_offset: Option<u64>,
    /// Past this many matching rows, a walk sorted by action reads the action index instead of letting SQLite
    /// sort every matching row (seconds for an actor with a million events); below it, sorting is cheap.
    pub sort_by_index_rows: u64,

    // ---- Pages of free text ----
    /// A deep page of a common term is read block by block (`PagePlan::TextBlocks`) only past this many rows:
    /// before it, walking the rows in time order and testing the text fills it sooner.
    pub deep_text_min_offset: u64,
    /// A search's set of matches read and sorted whole for a page sorted by action, rather than counted action
    /// by action (about 8 ms at 1,000 matches; 70–90 ms at 10,000).
    pub small_set: i64,
    /// A first page of free text alone, sorted by action, walks this many events of the action index testing
    /// the text before it counts action by action (about 14 ms of LIKE at 10M). It walks only when it wants
    /// at most a tenth of this.
    pub action_walk_rows: i64,
    /// A walk of the filter's rows testing the text is planned only when the rows it is expected to read are at
    /// most the index's matches divided by this (it gives up after reading as many rows as the index names).
    pub walk_share: u64,
    /// A search read with LIKE (a term too common for the index's set), sorted by time, next to filters that
    /// match at least this share of the log (1 in `time_walk_share`), walks the time index testing both:
    /// left to itself SQLite reads the filter's index and sorts every match. At 1M, `q=zoe&view=activity`
    /// (20 actions, 61% of the log) took 110 ms warm, 1.5 s cold; walking the time index, 0.6 ms.
    pub time_walk_share: u64,
    /// Below this many rows indexed since a remembered count, the count grows by LIKE over those rows (about
    /// 1.4 µs a row) instead of an FTS5 query, which walks its lists from the start whatever the row id
    /// range (about 60 ms at 10M for a query without matches).
    pub like_delta_rows: i64,
    /// Trigrams of a search sampled to find its rarest (to prove a term never meets a filter).
    pub probe_trigrams: usize,
    /// The latest indexed rows among which each trigram's share is estimated, and how many of its matches
    /// there are read for it (0.3 ms; counting them all took 2.4 ms a common trigram).
    pub probe_sample_rows: i64,
    pub probe_matches: i64,
    /// Blocks of row ids one FTS5 count of a deep page spans: `first_count_blocks` near the start of the
    /// results (a page's rows are usually in the first blocks), growing fourfold per count to
    /// `max_count_blocks` (each FTS5 query costs 2–5 ms whatever its range).
    pub first_count_blocks: i64,
    pub max_count_blocks: i64,
    /// A search the index cannot serve (fewer than three characters, or a term too common to count through
    /// it) is counted with LIKE by windows of this many row ids, newest first...
    pub scan_window_rows: i64,
    /// ...for at most this long: then the list shows what it counted as a lower bound ("at least"), so that
    /// one search cannot hold a read connection for seconds.
    pub scan_budget: Duration,
    /// Searches the index cannot serve (read with LIKE over the table) run this many at a time, the others
    /// waiting their turn: one core fewer than the machine has (at least one), so that whatever else arrives
    /// (a sign-in's password hash, ingestion, the panel) always finds a core. On 2 cores, 50 clients of
    /// two-letter searches held both, and a sign-in took 182 ms at p95.
    pub scans_at_once: usize,
    /// A segment of blocks whose times overlap that spans more than this many blocks is not sorted whole
    /// (events that arrived far from their time: it could be most of the table); the page walks instead.
    pub max_segment_blocks: usize,
    /// A page of an exactly counted search within this many pages of the end is read from the other end.
    pub from_end_pages: u64,
    /// The menus' live counts of events no cube counts (two keys at once: an actor within a tenant, an
    /// address range next to an actor or a tenant) are grouped from at most this many events; with more, the
    /// menus show no counts. An address next to an actor is grouped from the address index alone (14,383 in
    /// 36–46 ms at 1M from a cold disk); other pairs read each event's row. Grouping 143,746 took 5.1 s at 10M
    /// from disk.
    pub live_count_rows: i64,

    // ---- Export ----
    /// Exports running at once, each on its own connection and blocking thread; more wait their turn.
    pub exports_at_once: usize,
    /// Exports one caller (a token, a signed-in user) may run at once: stalled clients of one caller cannot
    /// take every turn from the others.
    pub exports_per_caller: usize,
    /// Rows an export reads per keyset chunk: no read transaction stays open for a whole export.
    pub export_chunk_rows: i64,
    /// An HTTP export whose client takes nothing for this long is stopped: its turn and its reader go to the
    /// next export instead of waiting for a client that stalled.
    pub export_stall: Duration,

    // ---- What is remembered ----
    /// Totals kept (about 100 bytes each); past this the cache starts over.
    pub kept_counts: usize,
    /// Histograms kept (an actor's by action and day: about 10,000 entries at 1M).
    pub kept_histograms: usize,
    /// Searches whose block counts are kept (2,442 blocks at 10M: about 60 KB each).
    pub kept_block_counts: usize,
    /// Searches whose set of up to 10,000 matches is kept (80 KB each).
    pub kept_match_sets: usize,

    // ---- The event writer ----
    /// At most this many events share one transaction.
    pub max_group_events: usize,
    /// Actors the writer remembers as stored in `actors` (then it forgets them all and relearns).
    pub known_actors: usize,
    /// How often the writer signs a checkpoint of the log when events were committed since the last
    /// (`AUDITLOG_CHECKPOINT_INTERVAL_MS`): each costs a signature and a row; proofs and `Verify log` cover
    /// events up to the latest checkpoint.
    pub log_checkpoint_interval: Duration,
    /// A retention purge deletes in batches, each in one transaction of the writer: the first of this many
    /// rows, the next sized to take about `purge_batch_time` (reads that remember counts wait for a batch,
    /// and so does ingestion). At 1M events a row costs 10–15 µs (every index of the row); the first batch
    /// reads cold pages (1,000 rows took 190 ms).
    pub purge_first_batch: i64,
    pub purge_batch_time: Duration,
    /// After each batch the purge pauses this many times as long as the batch took, for ingestion and the
    /// WAL's checkpoints (100,000 of 1M events in 6.3 s, 8 clients inserting meanwhile at p99 36 ms, max 88 ms).
    pub purge_pause: f64,
    /// Background work (the indexer) waits until inserts have paused this long.
    pub quiet: Duration,
    /// At most one passive checkpoint this often: a page written by several commits is copied once.
    pub checkpoint_every: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            anchor_min_offset: Some(1_000),
            sort_by_index_rows: 20_000,
            deep_text_min_offset: 5_000,
            small_set: 1_000,
            action_walk_rows: 2_000,
            walk_share: 2,
            time_walk_share: 8,
            like_delta_rows: 20_000,
            probe_trigrams: 8,
            probe_sample_rows: 65_536,
            probe_matches: 64,
            first_count_blocks: 4,
            max_count_blocks: 64,
            scan_window_rows: 65_536,
            scan_budget: Duration::from_millis(250),
            scans_at_once: std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
            max_segment_blocks: 16,
            from_end_pages: 10,
            exports_at_once: 4,
            exports_per_caller: 2,
            export_chunk_rows: 10_000,
            export_stall: Duration::from_secs(30),
            live_count_rows: 20_000,
            kept_counts: 10_000,
            kept_histograms: 100,
            kept_block_counts: 32,
            kept_match_sets: 64,
            max_group_events: 20_000,
            known_actors: 100_000,
            log_checkpoint_interval: Duration::from_secs(10),
            purge_first_batch: 250,
            purge_batch_time: Duration::from_millis(50),
            purge_pause: 2.0,
            quiet: Duration::from_millis(200),
            checkpoint_every: Duration::from_millis(100),
        }
    }
}
