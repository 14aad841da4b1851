//! A GroupBy bound to its stored rows: the evaluator, the key codec and the open segments, read
//! through [`GroupByData`].

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, BinaryArray, RecordBatch};
use arrow::datatypes::Int64Type;

use tilefold_ingest::order::partition_point;
use tilefold_query::config::GroupBy;
use tilefold_query::derivation::Derivations;
use tilefold_query::evaluate::{EvalError, GroupByData, GroupByEvaluator, LevelTiles, KEY_COLUMN};
use tilefold_query::key::KeyCodec;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{parse_day, Level, LEVELS};
use tilefold_storage::{ReadTxn, Segment};

use super::catalog::{GroupByEntry, RoleName};
use super::head::Head;
use super::key_index::{run_end, KeyIndex, KeyTable};

/// One GroupBy with data.
#[derive(Debug)]
pub struct BoundGroupBy {
    pub config: GroupBy,
    pub entry: GroupByEntry,
    pub evaluator: GroupByEvaluator,
    pub keys: KeyCodec,
    /// The GroupBy's own derivations over its output columns, if any.
    pub derivations: Option<Derivations>,
    /// The schema of its stored rows.
    schema: arrow::datatypes::SchemaRef,
    /// Every segment, as `entry.segments` lists them.
    segments: Vec<OpenSegment>,
    /// Event segments with the `ts` range of their rows that count.
    events: Vec<(OpenSegment, Range<i64>)>,
    snapshots: BTreeMap<i64, Vec<OpenSegment>>,
    mutations: BTreeMap<i64, Vec<OpenSegment>>,
    /// Whether a fetch looked a key up in its segments' key tables: the next binding, after a
    /// seal, then builds the new segment's table at once (see `bind`).
    fetched: AtomicBool,
}

/// An open segment and the table of its keys ([`KeyTable`]), built by the seal that wrote it
/// if fetches are reading the GroupBy ([`OpenSegment::index_keys`]), or else by the first fetch
/// that looks a key up in it, and shared by every binding of the GroupBy after that: a fetch
/// searches every segment whose rows it may need, and a live GroupBy gains one segment a seal.
/// Backfill searches the key column itself: it asks for keys in order, which keeps the search's
/// path in the cache, and its memory stays bounded by its settings.
#[derive(Debug, Clone)]
pub struct OpenSegment {
    pub segment: Segment,
    keys: Arc<OnceLock<KeyTable>>,
}

impl OpenSegment {
    pub fn new(segment: Segment) -> OpenSegment {
        OpenSegment {
            segment,
            keys: Arc::default(),
        }
    }

    /// Builds the table of the segment's keys now, if it is not built yet.
    pub fn index_keys(&self) {
        if let Some(keys) = self.key_column() {
            self.key_table(keys);
        }
    }

    /// The segment's encoded key column.
    fn key_column(&self) -> Option<&BinaryArray> {
        self.segment
            .batch()
            .column_by_name(KEY_COLUMN)?
            .as_binary_opt::<i32>()
    }

    /// The table of `keys`, the segment's key column, built on first use.
    fn key_table(&self, keys: &BinaryArray) -> &KeyTable {
        self.keys.get_or_init(|| KeyTable::new(keys))
    }

    /// The rows of `key` (and with `ts` in `range`), zero-copy; through the key index if
    /// `indexed`.
    fn key_rows(
        &self,
        key: &[u8],
        range: Option<&Range<i64>>,
        indexed: bool,
    ) -> Option<RecordBatch> {
        let batch = self.segment.batch();
        let keys = self.key_column()?;
        let rows = if indexed {
            self.key_table(keys).rows(keys, key)
        } else {
            let lo = partition_point(keys.len(), |i| keys.value(i) < key);
            lo..run_end(lo, keys.len(), |i| keys.value(i) == key)
        };
        rows_in(batch, rows, range)
    }
}

impl BoundGroupBy {
    pub fn new(
        config: GroupBy,
        entry: GroupByEntry,
        evaluator: GroupByEvaluator,
        keys: KeyCodec,
        derivations: Option<Derivations>,
        segments: Vec<OpenSegment>,
        schema: arrow::datatypes::SchemaRef,
    ) -> Self {
        let mut events = Vec::new();
        let mut snapshots: BTreeMap<i64, Vec<OpenSegment>> = BTreeMap::new();
        let mut mutations: BTreeMap<i64, Vec<OpenSegment>> = BTreeMap::new();
        for (info, segment) in entry.segments.iter().zip(segments.iter().cloned()) {
            let day = parse_day(&info.partition).unwrap_or(i64::MIN);
            match info.role {
                RoleName::Events => {
                    let counted = entry.counted(info);
                    let range = counted.start.max(info.min_ts)..counted.end.min(info.max_ts + 1);
                    if range.start < range.end {
                        events.push((segment, range));
                    }
                }
                RoleName::Snapshot => snapshots.entry(day).or_default().push(segment),
                RoleName::Mutations => mutations.entry(day).or_default().push(segment),
            }
        }
        BoundGroupBy {
            config,
            entry,
            evaluator,
            keys,
            derivations,
            schema,
            segments,
            events,
            snapshots,
            mutations,
            fetched: AtomicBool::new(false),
        }
    }

    /// Whether a fetch has looked a key up in this binding's segments.
    pub fn fetched(&self) -> bool {
        self.fetched.load(Ordering::Relaxed)
    }

    /// Every open segment by its file (relative to the store directory).
    pub fn segments(&self) -> HashMap<&str, &OpenSegment> {
        self.entry
            .segments
            .iter()
            .map(|s| s.file.as_str())
            .zip(&self.segments)
            .collect()
    }

    pub fn name(&self) -> &str {
        self.config.name()
    }

    pub fn schema(&self) -> arrow::datatypes::SchemaRef {
        self.schema.clone()
    }

    /// The event segments, each with the `ts` range of its rows that count.
    pub fn event_segments(&self) -> impl Iterator<Item = (&Segment, &Range<i64>)> {
        self.events
            .iter()
            .map(|(open, counted)| (&open.segment, counted))
    }
}

/// [`GroupByData`] over a bound GroupBy, one read transaction and the head of that commit.
pub struct DataView<'a> {
    pub group_by: &'a BoundGroupBy,
    pub read: &'a ReadTxn,
    pub head: Option<&'a Head>,
    /// Backfill's memo of one key's tiles; `None` for fetch, which reads every request from the
    /// database.
    pub memo: Option<&'a RefCell<TileMemo>>,
}

impl DataView<'_> {
    /// Appends the tiles of `key` at each (level, starts) of `spans` to `out`, read from the
    /// database (checksums verified there).
    fn read_tiles(
        &self,
        key: &[u8],
        spans: &[(u8, Range<i64>)],
        out: &mut [LevelTiles; LEVELS],
    ) -> Result<(), EvalError> {
        let layout = self.group_by.entry.layout();
        self.read.visit_tiles(
            self.group_by.name(),
            key,
            &layout,
            spans,
            |level, start, bytes| {
                if let Some(level) = out.get_mut(usize::from(level)) {
                    level.push(start, bytes);
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// [`GroupByData::tiles`] through `memo`: levels it covers are served from it; the others
    /// are read, widened and kept when the next evaluation reads the same key, exactly as asked
    /// otherwise.
    fn memo_tiles(
        &self,
        memo: &mut TileMemo,
        key: &[u8],
        spans: &[(u8, Range<i64>)],
        out: &mut [LevelTiles; LEVELS],
    ) -> Result<(), EvalError> {
        // Levels lent to an evaluation that failed never came back: read them again.
        memo.forget_lent();
        let name = self.group_by.name();
        if !memo.holds(name, key) {
            if memo.widen_to.is_none() {
                return self.read_tiles(key, spans, out);
            }
            memo.reset(name, key);
        }
        let missing: Vec<(u8, Range<i64>)> = spans
            .iter()
            .filter(|(level, starts)| !memo.covers(*level, starts))
            .cloned()
            .collect();
        if !missing.is_empty() {
            match memo.widen_to {
                None => self.read_tiles(key, &missing, out)?,
                Some(end) => {
                    let widened: Vec<(u8, Range<i64>)> = missing
                        .into_iter()
                        .map(|(level, starts)| (level, starts.start..starts.end.max(end)))
                        .collect();
                    if self.fill(memo, key, &widened).is_err() {
                        // A tile outside the asked starts may be what failed: the exact read
                        // fails (or not) just as it would without the memo.
                        return self.read_tiles(key, spans, out);
                    }
                }
            }
        }
        for (level, starts) in spans {
            if let Some(out) = out.get_mut(usize::from(*level)) {
                memo.serve(*level, starts, out);
            }
        }
        Ok(())
    }

    /// Reads `spans` of `key` into `memo`, replacing what it held at their levels; on an error
    /// the memo is left as it was.
    fn fill(
        &self,
        memo: &mut TileMemo,
        key: &[u8],
        spans: &[(u8, Range<i64>)],
    ) -> Result<(), EvalError> {
        let mut read: [LevelTiles; LEVELS] = Default::default();
        self.read_tiles(key, spans, &mut read)?;
        for (level, starts) in spans {
            let index = usize::from(*level);
            if let (Some(covered), Some(tiles)) =
                (memo.covered.get_mut(index), memo.tiles.get_mut(index))
            {
                *covered = Some(starts.clone());
                *tiles = std::mem::take(&mut read[index]);
            }
        }
        Ok(())
    }
}

/// The tiles of one key of one GroupBy, kept between consecutive evaluations of a backfill
/// run of rows so that rows of the same key, evaluated one after the other, descend the database's
/// B-tree once instead of once per row.
///
/// Valid only while one read transaction serves every evaluation that uses it: tiles read once
/// are served again unchanged, as the database would give them within that transaction. The
/// bytes were checksum-verified when read.
#[derive(Debug, Default)]
pub struct TileMemo {
    group_by: String,
    key: Vec<u8>,
    /// Per level, the tile starts of which `tiles` holds every stored tile; `None`: none.
    covered: [Option<Range<i64>>; LEVELS],
    /// Per level, (start, IR bytes) in ascending start order.
    tiles: [LevelTiles; LEVELS],
    /// Per level, what `covered` was when its tiles were handed to an evaluation, until they are
    /// given back (an evaluation that fails keeps them: the level is read again).
    lent: [Option<Range<i64>>; LEVELS],
    /// Set before each evaluation: `Some(end)` when the next evaluation reads the same key,
    /// `end` bounding the tile starts that evaluation and the later ones of the key ask for.
    widen_to: Option<i64>,
}

impl TileMemo {
    /// Tells the memo about the coming evaluation: `Some(end)` when the one after it reads the
    /// same key and asks for no tile starting at or after `end` (reads then cover up to `end`
    /// and are kept), `None` when it reads another key (reads are exactly what is asked).
    pub fn set_widen_to(&mut self, widen_to: Option<i64>) {
        self.widen_to = widen_to;
    }

    fn holds(&self, group_by: &str, key: &[u8]) -> bool {
        self.group_by == group_by && self.key == key
    }

    /// Forgets every tile and holds `key` of `group_by`, with nothing covered yet.
    fn reset(&mut self, group_by: &str, key: &[u8]) {
        group_by.clone_into(&mut self.group_by);
        self.key.clear();
        self.key.extend_from_slice(key);
        self.covered = Default::default();
        self.lent = Default::default();
        self.tiles.iter_mut().for_each(LevelTiles::clear);
    }

    /// Drops the levels still lent (their evaluation failed before giving them back).
    fn forget_lent(&mut self) {
        for (lent, held) in self.lent.iter_mut().zip(&mut self.tiles) {
            if lent.take().is_some() {
                held.clear();
            }
        }
    }

    /// Takes back the levels [`Self::serve`] handed over in `tiles`, if the memo still holds
    /// `key` of `group_by`.
    fn give_back(&mut self, group_by: &str, key: &[u8], tiles: &mut [LevelTiles; LEVELS]) {
        if !self.holds(group_by, key) {
            return;
        }
        for ((lent, covered), (held, out)) in self
            .lent
            .iter_mut()
            .zip(&mut self.covered)
            .zip(self.tiles.iter_mut().zip(tiles))
        {
            if let Some(range) = lent.take() {
                std::mem::swap(held, out);
                *covered = Some(range);
            }
        }
    }

    /// Whether every stored tile of `level` starting in `starts` is held (an empty `starts`
    /// asks for none).
    fn covers(&self, level: u8, starts: &Range<i64>) -> bool {
        starts.is_empty()
            || self
                .covered
                .get(usize::from(level))
                .and_then(Option::as_ref)
                .is_some_and(|c| c.start <= starts.start && starts.end <= c.end)
    }

    /// Gives `out` the held tiles of `level`, if the level covers `starts`: all of them, without
    /// copying, when `out` is empty (they are lent until [`Self::give_back`]), else those
    /// starting in `starts`, copied.
    fn serve(&mut self, level: u8, starts: &Range<i64>, out: &mut LevelTiles) {
        if starts.is_empty() || !self.covers(level, starts) {
            return;
        }
        let index = usize::from(level);
        let (Some(held), Some(covered), Some(lent)) = (
            self.tiles.get_mut(index),
            self.covered.get_mut(index),
            self.lent.get_mut(index),
        ) else {
            return;
        };
        if out.is_empty() {
            std::mem::swap(held, out);
            *lent = covered.take();
        } else {
            out.extend_within(held, starts);
        }
    }
}

impl GroupByData for DataView<'_> {
    fn tiles(
        &self,
        key: &[u8],
        spans: &[(Level, Range<i64>)],
        out: &mut [LevelTiles; LEVELS],
    ) -> Result<(), EvalError> {
        let mut spans: Vec<(u8, Range<i64>)> = spans
            .iter()
            .map(|(level, starts)| (*level as u8, starts.clone()))
            .collect();
        match self.memo.and_then(|memo| memo.try_borrow_mut().ok()) {
            Some(mut memo) => {
                // The memo holds one range per level: a level's ranges become the one spanning
                // them (the next rows of the key mostly ask for what lies between).
                spans.dedup_by(|next, joined| {
                    let same = next.0 == joined.0;
                    if same {
                        joined.1.end = joined.1.end.max(next.1.end);
                    }
                    same
                });
                self.memo_tiles(&mut memo, key, &spans, out)
            }
            None => self.read_tiles(key, &spans, out),
        }
    }

    fn give_back_tiles(&self, key: &[u8], tiles: &mut [LevelTiles; LEVELS]) {
        if let Some(mut memo) = self.memo.and_then(|memo| memo.try_borrow_mut().ok()) {
            memo.give_back(self.group_by.name(), key, tiles);
        }
    }

    fn tiled(&self) -> [Range<i64>; LEVELS] {
        self.group_by.entry.tiled()
    }

    fn partial_day(&self) -> Option<Range<i64>> {
        self.group_by.entry.partial_day()
    }

    fn events(
        &self,
        key: &[u8],
        range: Range<i64>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for (segment, counted) in &self.group_by.events {
            let range = range.start.max(counted.start)..range.end.min(counted.end);
            if range.start >= range.end {
                continue;
            }
            let indexed = self.memo.is_none();
            if indexed && !self.group_by.fetched() {
                self.group_by.fetched.store(true, Ordering::Relaxed);
            }
            if let Some(rows) = segment.key_rows(key, Some(&range), indexed) {
                out.push(rows);
            }
        }
        Ok(())
    }

    fn unsealed(
        &self,
        key: &[u8],
        range: Range<i64>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        if let Some(head) = self.head {
            let from = self.group_by.entry.stream_from();
            let range = range.start.max(from)..range.end;
            if range.start < range.end {
                head.key_rows(key, &range, out);
            }
        }
        Ok(())
    }

    fn sealed_before(&self) -> Option<i64> {
        // The watermark is the newest `ts` of every sealed events row, counted or not.
        Some(
            self.group_by
                .entry
                .watermark
                .map_or(i64::MIN, |w| w.saturating_add(1)),
        )
    }

    fn earliest(&self) -> Option<i64> {
        let head = self.head.map(Head::min_ts);
        match (self.group_by.entry.earliest, head) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn snapshot_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for segment in self.group_by.snapshots.get(&day).into_iter().flatten() {
            out.extend(segment.key_rows(key, None, self.memo.is_none()));
        }
        Ok(())
    }

    fn mutation_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for segment in self.group_by.mutations.get(&day).into_iter().flatten() {
            out.extend(segment.key_rows(key, None, self.memo.is_none()));
        }
        Ok(())
    }
}

/// The rows of `key` (and with `ts` in `range`) of a batch sorted by (key, ts), found through
/// the batch's key index; zero-copy.
pub(super) fn indexed_key_rows(
    batch: &RecordBatch,
    index: &KeyIndex,
    key: &[u8],
    range: Option<&Range<i64>>,
) -> Option<RecordBatch> {
    let keys = batch.column_by_name(KEY_COLUMN)?.as_binary_opt::<i32>()?;
    rows_in(batch, index.rows(keys, key), range)
}

/// Rows `rows` of `batch` (one key's, sorted by ts) with `ts` in `range`, zero-copy.
fn rows_in(
    batch: &RecordBatch,
    rows: Range<usize>,
    range: Option<&Range<i64>>,
) -> Option<RecordBatch> {
    let (lo, hi) = match range {
        Some(range) => {
            let ts = batch
                .column_by_name(TIME_COLUMN)?
                .as_primitive_opt::<Int64Type>()?;
            let ts = ts.values().get(rows.clone())?;
            let a = ts.partition_point(|&t| t < range.start);
            let b = ts.partition_point(|&t| t < range.end);
            (rows.start + a, rows.start + b)
        }
        None => (rows.start, rows.end),
    };
    (hi > lo).then(|| batch.slice(lo, hi - lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo_with_hour_tiles() -> TileMemo {
        let mut memo = TileMemo::default();
        memo.reset("g", b"k");
        memo.covered[1] = Some(0..100);
        memo.tiles[1].push(10, b"a");
        memo.tiles[1].push(20, b"b");
        memo
    }

    fn starts(tiles: &LevelTiles) -> Vec<i64> {
        tiles.iter().map(|(s, _)| s).collect()
    }

    /// A level is lent whole to an evaluation and covered again once given back; one lent to
    /// an evaluation that failed is read again, never served empty.
    #[test]
    fn lent_tiles_come_back_or_are_forgotten() {
        let mut memo = memo_with_hour_tiles();
        let mut out: [LevelTiles; LEVELS] = Default::default();
        memo.serve(1, &(0..15), &mut out[1]);
        assert_eq!(starts(&out[1]), vec![10, 20], "lent whole");
        assert!(!memo.covers(1, &(0..15)), "not served twice while lent");
        memo.give_back("g", b"k", &mut out);
        assert!(memo.covers(1, &(0..100)));
        assert!(out[1].is_empty());
        assert_eq!(starts(&memo.tiles[1]), vec![10, 20]);

        // Lent, then the evaluation fails: the next one forgets the level.
        memo.serve(1, &(0..100), &mut out[1]);
        memo.forget_lent();
        assert!(!memo.covers(1, &(0..100)));
        assert!(memo.tiles[1].is_empty());
        let mut other: [LevelTiles; LEVELS] = Default::default();
        other[1].push(30, b"c");
        memo.give_back("g", b"k", &mut other);
        assert!(!memo.covers(1, &(0..100)), "nothing lent, nothing taken");
        assert_eq!(starts(&other[1]), vec![30]);

        // Given back to a memo that holds another key now: ignored.
        let mut memo = memo_with_hour_tiles();
        let mut out: [LevelTiles; LEVELS] = Default::default();
        memo.serve(1, &(0..100), &mut out[1]);
        memo.give_back("g", b"other", &mut out);
        assert!(!memo.covers(1, &(0..100)));
    }

    /// A level `out` already holds tiles of gets only the asked ones, copied.
    #[test]
    fn serving_into_a_filled_level_copies_the_asked_tiles() {
        let mut memo = memo_with_hour_tiles();
        let mut out = LevelTiles::default();
        out.push(5, b"z");
        memo.serve(1, &(15..100), &mut out);
        assert_eq!(starts(&out), vec![5, 20]);
        assert!(memo.covers(1, &(0..100)), "nothing lent");
    }
}
