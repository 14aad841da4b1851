//! Sealing: the head's rows move into segments and tiles, without changing any value.
//!
//! A seal first freezes the unsealed rows: live ingest goes on committing to `head.redb`
//! meanwhile, into runs after the frozen ones. Per GroupBy with frozen rows: its rows (those
//! from the batch end on) are written as one segment sorted by (key, ts); they are folded into
//! tiles at every level kept and merged into the stored tiles. One commit of `tilefold.redb`
//! then references the segments, stores the merged tiles and records the last head entry
//! sealed; the state published with it holds the rows ingested since, and only those. The
//! sealed head entries are removed from `head.redb` after that.
//!
//! The seal also merges the GroupBy's newest stream segments once they are many
//! ([`super::stream_merge`]), in the same commit.
//!
//! A crash before the commit leaves the head as it was (the new segment files are unreferenced
//! and removed at the next open); after it, the sealed head entries are ignored at the next open
//! whether or not they were removed.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;

use tilefold_ingest::kept_from;
use tilefold_query::aggregate::RowAggregator;
use tilefold_query::evaluate::KEY_COLUMN;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{floor, Level, DAY, FIVE_MINUTES, LEVELS};
use tilefold_storage::{ReadTxn, WriteTxn};

use super::bound::BoundGroupBy;
use super::catalog::{GroupByEntry, RoleName, SegmentEntry};
use super::head::HeadChange;
use super::partial_day::{
    counted_rows_within, hours_start_first_from, move_ended_days, write_partial_day,
};
use super::rebuild::{counted_rows, ts_range, Work};
use super::stream_merge::{merge_stream_segments, row_limit, SEAL_LIMIT};
use super::tile_write::{write_tiles, TileWrite};
use super::{Change, State, Store};
use crate::Result;

/// What a seal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Rows moved into segments, per GroupBy.
    pub group_bys: BTreeMap<String, usize>,
    /// Tiles written or merged.
    pub tiles: usize,
    /// Five-minute and hourly tiles removed because they fell behind the newest row.
    pub trimmed: usize,
    /// Stream segments merged away (see [`super::stream_merge`]).
    pub merged: usize,
    /// Hour tiles of days that ended moved key first (see [`super::partial_day`]).
    pub moved: usize,
}

impl Store {
    /// Seals every unsealed live row into segments and tiles (the seal thread also does this on
    /// its own once the head holds `Options::seal_rows` rows). Live ingest goes on meanwhile.
    /// Values do not change.
    pub fn compact(&self) -> Result<SealReport> {
        let _changes = self.changes()?;
        self.seal_locked()
    }

    /// [`Store::compact`] with the lock of `tilefold.redb`'s changes held.
    pub(super) fn seal_locked(&self) -> Result<SealReport> {
        if self.state().heads.entries().is_none() {
            return Ok(SealReport::default());
        }
        self.publish(Change::heads(HeadChange::Freeze))?;
        let state = self.state();
        let Some(through) = state.heads.sealing() else {
            return Ok(SealReport::default());
        };
        let report = match self.seal_frozen(&state, through) {
            Ok(report) => report,
            Err(err) => {
                // Best effort: a store that cannot publish is latched already.
                let _ = self.publish(Change::heads(HeadChange::Thaw));
                return Err(err);
            }
        };
        // The sealed entries are garbage now (ignored at open): removing them can wait for a
        // commit of live rows, but not past a failure, which latches the store.
        let mut txn = self.inner.head_db.begin_write()?;
        txn.remove_head(0..=through)?;
        self.commit(txn)?;
        Ok(report)
    }

    /// Seals the frozen rows of `state`, the head entries up to `through`, and publishes.
    fn seal_frozen(&self, state: &State, through: u64) -> Result<SealReport> {
        let mut report = SealReport::default();
        let mut txn = self.inner.db.begin_write()?;
        let mut work = Work::new(self, state, &mut txn)?;
        for (name, head) in state.heads.iter() {
            let (Some(bound), Some(rows)) = (state.bound.get(name), head.frozen_merged()?) else {
                continue;
            };
            let old = &bound.entry;
            let (min_ts, max_ts) = ts_range(&rows);
            let stream = SegmentEntry {
                source: old.stream_source.unwrap_or(0),
                role: RoleName::Events,
                partition: "live".into(),
                file: String::new(),
                rows: 0,
                min_ts,
                max_ts,
                stream: true,
            };
            let Some(rows) = counted_rows(&rows, &stream, old.counted(&stream))? else {
                continue;
            };
            let (relative, absolute) = work.new_file("group_bys", name);
            work.write(&absolute, &rows)?;
            let (min_ts, max_ts) = ts_range(&rows);
            let mut entry = GroupByEntry {
                earliest: Some(old.earliest.map_or(min_ts, |e| e.min(min_ts))),
                watermark: Some(old.watermark.map_or(max_ts, |w| w.max(max_ts))),
                ..old.clone()
            };
            let written = tiles_written_to(old);
            let to = tiles_end(old.tiled_to, entry.watermark);
            entry.tiled_to = Some(to);
            entry.hours_start_first_from = Some(hours_start_first_from(old, written, to));
            // First, so that the tiles written below go where the new layout puts them.
            report.moved += move_ended_days(work.txn(), name, old, &entry)?;
            if old.segments.is_empty() {
                // The first sealed rows: fine tiles from 12 hours / 12-13 days before the newest.
                entry.kept_from = kept_from(Some(max_ts));
            } else {
                // Fine tiles that fell behind the newest row are removed, so that a store fed
                // only live keeps five-minute tiles for 12 hours and hourly ones for 12-13 days.
                report.trimmed += trim_fine_tiles(work.txn(), bound, &mut entry)?;
            }
            entry.segments.push(SegmentEntry {
                file: relative,
                rows: rows.num_rows() as u64,
                min_ts,
                max_ts,
                ..stream
            });
            if let Some(aggregator) = bound.evaluator.aggregator() {
                let with: (&BoundGroupBy, _, &ReadTxn) = (bound, aggregator, &state.read);
                report.tiles += write_tiles_ended(work.txn(), with, &rows, written, &entry)?;
                report.tiles += write_partial_day(work.txn(), with, &rows, &entry)?;
            }
            let limit = row_limit(self.inner.options.seal_rows, SEAL_LIMIT);
            let opened = bound.segments();
            report.merged += merge_stream_segments(&mut work, name, &mut entry, limit, &opened)?;
            report.group_bys.insert(name.clone(), rows.num_rows());
            work.entries.insert(name.clone(), Some(entry));
        }
        work.txn().put_sealed_through(through)?;
        let legacy_head = self.live().legacy_head;
        if legacy_head {
            work.txn().remove_head(0..=through)?;
        }
        let (entries, obsolete) = work.finish()?;
        self.commit(txn)?;
        self.live().legacy_head = false;
        self.publish(Change {
            configs: None,
            tables: None,
            entries,
            heads: HeadChange::Sealed,
        })?;
        self.remove_files(&obsolete);
        Ok(report)
    }
}

/// How long after a tile's end rows may still arrive without a merge into it: one five-minute
/// tile. Streams deliver rows somewhat out of order; a row at most this late, by the newest row
/// sealed, lands in a tile not written yet.
const GRACE: i64 = FIVE_MINUTES;

/// Where a seal leaves the tiles written (see [`GroupByEntry::tiled_to`]): at the five-minute
/// boundary at or before the newest sealed row, less [`GRACE`]; never back. A GroupBy whose
/// tiles were all written (`None`) starts there too: its tiles past it stay, unread, until they
/// are written again whole.
fn tiles_end(written: Option<i64>, watermark: Option<i64>) -> i64 {
    let newest = watermark.map_or(i64::MIN, |w| floor(w, FIVE_MINUTES).saturating_sub(GRACE));
    written.map_or(newest, |to| to.max(newest))
}

/// Up to where `entry`'s tiles hold all their rows, for a seal: its `tiled_to`, or, where every
/// tile is written (`None`: loaded or rebuilt tiles), the end of the five-minute tile of its
/// newest sealed row. A loaded GroupBy's tiles of coarser levels reaching past that (today's
/// hour and day, ...) then count as not written: the seal writes each whole once it has ended,
/// as it does a live GroupBy's, instead of merging its rows into every level now (a page
/// rewritten per key and level: the first seal after a load of 100k users took over 20 s).
fn tiles_written_to(entry: &GroupByEntry) -> i64 {
    match (entry.tiled_to, entry.watermark) {
        (Some(to), _) => to,
        (None, Some(newest)) => floor(newest, FIVE_MINUTES).saturating_add(FIVE_MINUTES),
        // No rows, no tiles: every row merges into nothing, whatever the level.
        (None, None) => i64::MAX,
    }
}

/// Writes the tiles of a seal of `rows` (the new sealed rows of `bound`, its aggregator and the
/// last commit's snapshot): its rows that fall in tiles written before (`written`, late rows)
/// merge into them; the tiles that ended since, up to `entry.tiled_to`, are folded whole from
/// every counted sealed row in them, the new ones included. Each tile of a live GroupBy is so
/// written once, when it ends, and again only for late rows. The current day's tile is the
/// partial one, which [`write_partial_day`] writes. Returns the tiles written.
fn write_tiles_ended(
    txn: &mut WriteTxn,
    (bound, aggregator, read): (&BoundGroupBy, &RowAggregator, &ReadTxn),
    rows: &RecordBatch,
    written: i64,
    entry: &GroupByEntry,
) -> Result<usize> {
    let name = bound.name();
    let to = entry.tiled_to.unwrap_or(i64::MAX);
    let kept = entry.kept_from;
    let layout = entry.layout();
    let mut count = 0;
    // Only rows before the tiles' end fall in any (in order rows, mostly none).
    if ts_range(rows).0 < written.min(to) {
        let merged: [Range<i64>; LEVELS] = std::array::from_fn(|l| {
            // Days before the current one: its partial tile is written apart.
            let end = if l == Level::Day.index() {
                floor(written.min(to), DAY)
            } else {
                written.min(to)
            };
            kept[l]..end
        });
        count += write_tiles(
            txn,
            (name, &layout),
            aggregator,
            std::slice::from_ref(rows),
            &merged,
            TileWrite::Merge(read, bound.entry.layout()),
        )?;
    }
    if written >= to {
        return Ok(count);
    }
    // Per level, the tiles from the first one not written to the last one ended.
    let ended: [Range<i64>; LEVELS] = std::array::from_fn(|l| {
        let millis = Level::ALL[l].millis();
        kept[l].max(floor(written, millis))..floor(to, millis)
    });
    let Some(from) = ended
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.start)
        .min()
    else {
        return Ok(count);
    };
    let inputs = counted_rows_within(bound, rows, &(from..to))?;
    count += write_tiles(
        txn,
        (name, &layout),
        aggregator,
        &inputs,
        &ended,
        TileWrite::Put,
    )?;
    Ok(count)
}

/// Moves `entry`'s first kept five-minute and hourly tile starts up to 12 hours and 12-13 days
/// before its newest row, and removes the tiles before them: every five-minute tile in the
/// range given up (they are stored start first), and the hourly tiles of the keys whose counted
/// sealed rows (the bound GroupBy's segments, already open) fall in the range given up. The
/// evaluator reads those ranges from the rows instead. Returns how many tiles were removed.
fn trim_fine_tiles(
    txn: &mut WriteTxn,
    bound: &BoundGroupBy,
    entry: &mut GroupByEntry,
) -> Result<usize> {
    let old = &bound.entry;
    let next = kept_from(entry.watermark);
    let mut removed = 0;
    let mut given_up: Vec<(Level, Range<i64>)> = Vec::new();
    for level in [Level::FiveMinutes, Level::Hour] {
        let (from, to) = (old.kept_from[level.index()], next[level.index()]);
        // i64::MAX: the level was never kept for this GroupBy (it stays so).
        if from < to && from != i64::MAX {
            entry.kept_from[level.index()] = to;
            if level == Level::FiveMinutes {
                // Stored start first: one range removal takes every key's.
                removed += txn.remove_start_first(bound.name(), level as u8, from..to)?;
            } else {
                given_up.push((level, from..to));
            }
        }
    }
    if given_up.is_empty() {
        return Ok(removed);
    }
    // (index into `given_up`, key) of every tile to remove.
    let mut keys: BTreeSet<(usize, Vec<u8>)> = BTreeSet::new();
    for (segment, counted) in bound.event_segments() {
        let batch = segment.batch();
        let (Some(key), Some(ts)) = (
            batch
                .column_by_name(KEY_COLUMN)
                .and_then(|c| c.as_binary_opt::<i32>()),
            batch
                .column_by_name(TIME_COLUMN)
                .and_then(|c| c.as_primitive_opt::<Int64Type>()),
        ) else {
            continue;
        };
        for (i, (_, range)) in given_up.iter().enumerate() {
            // Only counted rows made tiles.
            let range = range.start.max(counted.start)..range.end.min(counted.end);
            if range.start >= range.end {
                continue;
            }
            for row in 0..batch.num_rows() {
                if range.contains(&ts.value(row)) {
                    keys.insert((i, key.value(row).to_vec()));
                }
            }
        }
    }
    // Both ends of a range are aligned to its level: the tiles of exactly the rows in it.
    let ranges = keys.iter().map(|(i, key)| {
        let (level, range) = &given_up[*i];
        (key.as_slice(), *level as u8, range.clone())
    });
    Ok(removed + txn.remove_tiles(bound.name(), &entry.layout(), ranges)?)
}
