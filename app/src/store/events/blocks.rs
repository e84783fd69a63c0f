//! Pages of free text read block by block. Row ids fall in blocks of 4,096 whose range of times the writer
//! keeps (`seq_blocks`, migration 14), and events mostly arrive in time order, so a page in time order needs
//! only the blocks whose times can hold its rows: `TextSet` reads a search's set of matches block by block;
//! `TextBlocks` (and each action of `TextByAction`) counts a common term's matches per block through the
//! index, skips whole segments of blocks and reads only the page's.

use std::collections::{BTreeMap, HashMap};

use sqlx::QueryBuilder;

use super::rows::{PageFill, rows_by_seq, rows_query};
use crate::{
    model::{AuditQuery, SortOrder},
    store::{
        error::StoreError,
        filter::{IndexedQuery, Resolved, push_like, push_order, push_structured},
        handle::AuditStore,
        schema::{PageRows, SEQ_BLOCK_SHIFT, block_of, block_span},
        sql::{json_ids, json_rows},
    },
};

/// Blocks whose times overlap (or touch), in page order: a page sorts them together.
struct Segment {
    blocks: Vec<i64>,
    /// The segment's range of times.
    lo: i64,
    hi: i64,
}

impl Segment {
    fn first(&self) -> i64 {
        self.blocks.iter().copied().min().unwrap_or(0)
    }

    fn last(&self) -> i64 {
        self.blocks.iter().copied().max().unwrap_or(0)
    }
}

/// Matches counted per block.
type BlockMatches = HashMap<i64, u64>;

fn count_of(counted: &BlockMatches, blocks: &[i64]) -> u64 {
    blocks.iter().map(|b| counted.get(b).copied().unwrap_or(0)).sum()
}

/// How many blocks of row ids lie from the lowest of `blocks` to the highest.
fn span<'a>(blocks: impl Iterator<Item = &'a i64>) -> i64 {
    let (lo, hi) = blocks.fold((i64::MAX, i64::MIN), |(lo, hi), &b| (lo.min(b), hi.max(b)));
    hi - lo + 1
}

/// Blocks of row ids, `(block, min_ts, max_ts)`, in the order a page reads them: newest last time first
/// (`desc`), or oldest first time first.
fn sort_blocks_in_page_order(blocks: &mut [(i64, i64, i64)], desc: bool) {
    if desc {
        blocks.sort_by_key(|&(_, _, max)| std::cmp::Reverse(max));
    } else {
        blocks.sort_by_key(|&(_, min, _)| min);
    }
}

impl AuditStore {
    /// `TextBlocks`: a deep page, sorted by time, of a search with more than 10,000 matches through the index
    /// (which holds all of its filters). `None` when the page's segment spans too many blocks.
    pub(super) async fn deep_text_page(&self, q: &AuditQuery, r: &Resolved) -> Result<Option<PageRows>, StoreError> {
        let Some(index) = r.text.indexed_query() else {
            return Ok(None);
        };
        let mut page = PageFill::new(q);
        Ok(match self.fill_by_blocks(q, r, index, &mut page).await? {
            Some(_) => Some(page.rows),
            None => None,
        })
    }

    /// Fills `page` in time order (`q`'s order; `q` is sorted by time) with the matches of a search through the
    /// index (`index` holds every filter of `q`). The blocks are merged into segments whose times do not overlap;
    /// the index counts the matches of each block (FTS5 takes a range of row ids), so the page skips whole
    /// segments, then sorts only its own segment's matches. Counts of blocks the index holds whole are
    /// remembered per FTS5 query (`BlockCounts`). `Some(true)` once the page is full, `Some(false)` when the
    /// matches ran out first; `None`, with `page` untouched, when the first segment it would read spans more
    /// than `Tuning::max_segment_blocks` (events that arrived far from their time).
    pub(super) async fn fill_by_blocks(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        index: IndexedQuery<'_>,
        page: &mut PageFill,
    ) -> Result<Option<bool>, StoreError> {
        let t = &self.tuning;
        let segments = self.segments(q.order == SortOrder::Desc).await?;
        let untouched = (page.skip, page.rows.len());
        let mut counted = self.block_counts.get(index.0).unwrap_or_default();
        // Near the start of the results a page's rows are usually in the first blocks: count a few at first.
        let mut width = match page.skip < 4096 {
            true => t.first_count_blocks,
            false => t.max_count_blocks,
        };
        let mut k = 0;
        while let Some(segment) = segments.get(k) {
            if segment.blocks.iter().any(|b| !counted.contains_key(b)) {
                self.count_run(q, r, index, &segments[k..], width, &mut counted).await?;
                width = (width * 4).min(t.max_count_blocks);
            }
            let mut found = count_of(&counted, &segment.blocks);
            k += 1;
            if page.skips(found) {
                continue;
            }
            if segment.blocks.len() > t.max_segment_blocks && (page.skip, page.rows.len()) == untouched {
                return Ok(None);
            }
            // The segment's matches, and those of the next segments the page needs, while they are counted
            // and span few blocks: one read instead of one per segment (each FTS5 query costs a few ms
            // whatever its range). Segments do not overlap in time, so their union's order is theirs in turn.
            let mut blocks = segment.blocks.clone();
            while found < page.skip + page.need
                && let Some(more) = segments.get(k)
                && span(blocks.iter().chain(&more.blocks)) <= t.max_segment_blocks as i64
                && more.blocks.iter().all(|b| counted.contains_key(b))
            {
                found += count_of(&counted, &more.blocks);
                blocks.extend(&more.blocks);
                k += 1;
            }
            if self.read_blocks(q, r, index, &blocks, page).await? {
                return Ok(Some(true));
            }
        }
        Ok(Some(false))
    }

    /// Every block with its times, merged into segments in page order.
    async fn segments(&self, desc: bool) -> Result<Vec<Segment>, StoreError> {
        let blocks: String =
            sqlx::query_scalar("SELECT json_group_array(json_array(block, min_ts, max_ts)) FROM seq_blocks")
                .fetch_one(&self.read)
                .await?;
        let mut blocks: Vec<(i64, i64, i64)> = json_rows(&blocks)?;
        sort_blocks_in_page_order(&mut blocks, desc);
        let mut segments: Vec<Segment> = Vec::new();
        for (block, min, max) in blocks {
            match segments.last_mut() {
                Some(s) if (desc && max >= s.lo) || (!desc && min <= s.hi) => {
                    s.blocks.push(block);
                    s.lo = s.lo.min(min);
                    s.hi = s.hi.max(max);
                }
                _ => segments.push(Segment {
                    blocks: vec![block],
                    lo: min,
                    hi: max,
                }),
            }
        }
        Ok(segments)
    }

    /// Counts the matches of the first segment's blocks, and of the next segments' while they lie within
    /// `width` blocks of row ids (events that arrive in time order: the next segments are the neighbouring
    /// blocks) and are not counted yet, in one count: indexed matches by FTS5, the rest by LIKE.
    async fn count_run(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        (expr, through, pattern): IndexedQuery<'_>,
        segments: &[Segment],
        width: i64,
        counted: &mut BlockMatches,
    ) -> Result<(), StoreError> {
        let (mut from, mut to) = (segments[0].first(), segments[0].last());
        for more in &segments[1..] {
            let (a, b) = (more.first(), more.last());
            if from.min(a) + width <= to.max(b) || more.blocks.iter().all(|b| counted.contains_key(b)) {
                break;
            }
            (from, to) = (from.min(a), to.max(b));
        }
        let (lo, hi) = block_span(from, to);
        let indexed: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT rowid >> {SEQ_BLOCK_SHIFT}, COUNT(*) FROM events_fts \
             WHERE events_fts MATCH ? AND rowid BETWEEN ? AND ? GROUP BY 1"
        ))
        .bind(expr)
        .bind(lo)
        .bind(hi.min(through))
        .fetch_all(&self.read)
        .await?;
        for b in from..=to {
            counted.insert(b, 0);
        }
        for (b, n) in indexed {
            counted.insert(b, n as u64);
        }
        if hi > through {
            let mut c = QueryBuilder::new(format!(
                "SELECT seq >> {SEQ_BLOCK_SHIFT}, COUNT(*) FROM events NOT INDEXED"
            ));
            push_structured(&mut c, q, r);
            c.push(" AND seq > ").push_bind(lo.max(through));
            c.push(" AND seq <= ").push_bind(hi).push(" AND ");
            push_like(&mut c, pattern);
            c.push(" GROUP BY 1");
            let unindexed: Vec<(i64, i64)> = c.build_query_as().fetch_all(&self.read).await?;
            for (b, n) in unindexed {
                *counted.entry(b).or_insert(0) += n as u64;
            }
        }
        let whole = (from..=to).filter(|&b| block_span(b, b).1 <= through);
        self.block_counts.add(expr, whole.map(|b| (b, counted[&b])));
        Ok(())
    }

    /// Reads the page's part of the matches in `blocks`: those the index names, and those above it by LIKE.
    /// True once the page is full.
    async fn read_blocks(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        (expr, through, pattern): IndexedQuery<'_>,
        blocks: &[i64],
        page: &mut PageFill,
    ) -> Result<bool, StoreError> {
        let first = blocks.iter().copied().min().unwrap_or(0);
        let last = blocks.iter().copied().max().unwrap_or(0);
        let (lo, hi) = block_span(first, last);
        let mut b = rows_query("events NOT INDEXED WHERE seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ");
        b.push_bind(expr.to_string());
        b.push(" AND rowid BETWEEN ")
            .push_bind(lo)
            .push(" AND ")
            .push_bind(hi.min(through));
        b.push(" UNION ALL SELECT seq FROM events NOT INDEXED");
        push_structured(&mut b, q, r);
        b.push(" AND seq > ").push_bind(lo.max(through + 1) - 1);
        b.push(" AND seq <= ").push_bind(hi).push(" AND ");
        push_like(&mut b, pattern);
        b.push(format!(") AND (seq >> {SEQ_BLOCK_SHIFT}) IN ("));
        let mut list = b.separated(", ");
        for &block in blocks {
            list.push_bind(block);
        }
        b.push(")");
        push_order(&mut b, q);
        page.take(b, &self.read).await
    }

    /// `TextSet`: a page, sorted by time, of the rows a search's index names (at most 10,000, and the matching
    /// rows not yet indexed), without looking up and sorting all of them. Blocks are read newest first (oldest
    /// first for `order=asc`), a few at a time, until the page's rows are found and the next block's times
    /// cannot hold a row that sorts before the last of them: usually after one or two blocks.
    pub(super) async fn set_page(&self, q: &AuditQuery, r: &Resolved) -> Result<PageRows, StoreError> {
        let seqs = self.set_members(r).await?;
        let mut by_block: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for seq in seqs {
            by_block.entry(block_of(seq)).or_default().push(seq);
        }
        let blocks = self.blocks_with_times(&by_block, q.order == SortOrder::Desc).await?;
        let wanted = (q.offset() + u64::from(q.page_size)) as usize;
        let best = self.first_of_set(q, r, &blocks, &by_block, wanted).await?;
        let page: Vec<i64> = best.iter().skip(q.offset() as usize).map(|r| r.2).collect();
        rows_by_seq(&self.read, &page).await
    }

    /// The row ids of a search's set: the index's matches and the matching rows above its mark.
    async fn set_members(&self, r: &Resolved) -> Result<Vec<i64>, StoreError> {
        let Some((indexed, through, pattern)) = r.text.index_set() else {
            return Ok(Vec::new());
        };
        let mut seqs: Vec<i64> = json_rows(indexed)?;
        let mut b = QueryBuilder::new("SELECT seq FROM events WHERE seq > ");
        b.push_bind(through).push(" AND ");
        push_like(&mut b, pattern);
        seqs.extend(b.build_query_scalar::<i64>().fetch_all(&self.read).await?);
        Ok(seqs)
    }

    /// The blocks of `by_block` with their times, in page order (a block without them could hold any time).
    async fn blocks_with_times(
        &self,
        by_block: &BTreeMap<i64, Vec<i64>>,
        desc: bool,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let numbers: Vec<i64> = by_block.keys().copied().collect();
        let known: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(block, min_ts, max_ts)) FROM seq_blocks \
             WHERE block IN (SELECT value FROM json_each(?))",
        )
        .bind(json_ids(&numbers))
        .fetch_one(&self.read)
        .await?;
        let known: HashMap<i64, (i64, i64)> = json_rows::<(i64, i64, i64)>(&known)?
            .into_iter()
            .map(|(block, min, max)| (block, (min, max)))
            .collect();
        let mut blocks: Vec<(i64, i64, i64)> = numbers
            .into_iter()
            .map(|block| {
                let (min, max) = known.get(&block).copied().unwrap_or((i64::MIN, i64::MAX));
                (block, min, max)
            })
            .collect();
        sort_blocks_in_page_order(&mut blocks, desc);
        Ok(blocks)
    }

    /// The first `wanted` rows of the set in page order, `(ts, id, seq)`, read block by block.
    async fn first_of_set(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        blocks: &[(i64, i64, i64)],
        by_block: &BTreeMap<i64, Vec<i64>>,
        wanted: usize,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let desc = q.order == SortOrder::Desc;
        let in_page_order = |a: &(i64, String, i64), b: &(i64, String, i64)| {
            let ascending = (a.0, &a.1).cmp(&(b.0, &b.1));
            if desc { ascending.reverse() } else { ascending }
        };
        let mut best: Vec<(i64, String, i64)> = Vec::with_capacity(wanted * 2);
        let mut next = 0;
        while next < blocks.len() {
            if best.len() >= wanted {
                let last = best[wanted - 1].0;
                let (_, min, max) = blocks[next];
                if (desc && max < last) || (!desc && min > last) {
                    break;
                }
            }
            let mut chunk: Vec<i64> = Vec::new();
            while next < blocks.len() && (chunk.is_empty() || chunk.len() < wanted) {
                chunk.extend(&by_block[&blocks[next].0]);
                next += 1;
            }
            let mut b = QueryBuilder::new("SELECT json_group_array(json_array(ts, id, seq)) FROM events NOT INDEXED");
            push_structured(&mut b, q, r);
            b.push(" AND seq IN (SELECT value FROM json_each(")
                .push_bind(json_ids(&chunk))
                .push("))");
            let found: String = b.build_query_scalar().fetch_one(&self.read).await?;
            best.extend(json_rows::<(i64, String, i64)>(&found)?);
            best.sort_by(in_page_order);
            best.truncate(wanted);
        }
        Ok(best)
    }
}
