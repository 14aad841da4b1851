//! Merging a live GroupBy's stream segments, so that their number stays small.
//!
//! Every seal adds one segment per GroupBy with live rows. Left alone they pile up: each is a
//! file and a memory map (Linux allows 65,530 maps per process by default), a key lookup for
//! every fetch whose raw range it overlaps, and a binary search per key for backfill. So
//! [`FAN_IN`] adjacent stream segments of a GroupBy merge into one, size-tiered as an LSM tree
//! compacts: when none of them holds more rows than the others together, so that a row's
//! segment at least doubles whenever the row is rewritten, and only into a segment of at most
//! a row limit. A merge builds its segment in memory (~0.4 µs a row), so where it runs sets the
//! limit:
//!
//! - **In a seal** ([`SEAL_LIMIT`]: half of `Options::seal_rows`): small seals (`compact()`
//!   after small batches, `apply` and `load`, the CLI's ingest runs) merge as they go. Merging
//!   full-size seals' segments there (a third of a million rows each, ~1 s for eight) halved
//!   the ingest bench's rate, since at full speed the seal thread is what paces the writer.
//! - **When the seal thread is idle** ([`IDLE_LIMIT`]: four times `Options::seal_rows`), for
//!   `Options::merge_when_idle` with no seal asked for, and in [`Store::merge_segments`] (CLI
//!   `compact`): eight full-size seals' segments merge into one, off the writer's path. At full
//!   speed the thread is never idle and full-size segments wait for a lull.
//!
//! Values do not change: stream segments of one source count the same rows (from the batch
//! end on, [`GroupByEntry::counted`]), and the merge keeps them sorted by (key, ts) with the
//! older segment's rows first among equal ones, the order reads fold them in. The merged file
//! is written before the commit that references it; the merged ones are removed after it,
//! like any file a commit replaces (a crash in between leaves unreferenced files, removed at
//! the next open).

use std::collections::HashMap;

use tilefold_storage::Segment;

use super::bound::OpenSegment;
use super::catalog::{GroupByEntry, RoleName, SegmentEntry};
use super::head::{merge_runs, HeadChange};
use super::rebuild::{ts_range, Work};
use super::{Change, Store};
use crate::Result;

impl Store {
    /// Merges, per live GroupBy, one run of eight stream segments into one of up to four times
    /// `Options::seal_rows` rows (full-size seals' segments, which seals leave alone), in one
    /// commit; returns how many segments were merged away. Values do not change. The seal
    /// thread does this on its own when idle (`Options::merge_when_idle`); call it until it
    /// returns 0 to merge all there is.
    pub fn merge_segments(&self) -> Result<usize> {
        let limit = row_limit(self.inner.options.seal_rows, IDLE_LIMIT);
        let wanted = |store: &Store| {
            let state = store.state();
            state
                .bound
                .values()
                .any(|b| mergeable(&b.entry.segments, limit).is_some())
        };
        // Checked before the lock too: an idle seal thread asks often.
        if !wanted(self) {
            return Ok(0);
        }
        let _changes = self.changes()?;
        if !wanted(self) {
            return Ok(0);
        }
        let state = self.state();
        let mut txn = self.inner.db.begin_write()?;
        let mut work = Work::new(self, &state, &mut txn)?;
        let mut merged = 0;
        for (name, bound) in &state.bound {
            let mut entry = bound.entry.clone();
            let n = merge_stream_segments(&mut work, name, &mut entry, limit, &bound.segments())?;
            if n > 0 {
                merged += n;
                work.entries.insert(name.clone(), Some(entry));
            }
        }
        let (entries, obsolete) = work.finish()?;
        self.commit(txn)?;
        self.publish(Change {
            configs: None,
            tables: None,
            entries,
            heads: HeadChange::Keep,
        })?;
        self.remove_files(&obsolete);
        Ok(merged)
    }
}

/// How many stream segments one merge takes.
const FAN_IN: usize = 8;

/// The most rows a merge in a seal writes into one segment, as a fraction of
/// `Options::seal_rows` (the default's: 500,000).
pub(super) const SEAL_LIMIT: f64 = 0.5;

/// The most rows a merge of an idle seal thread writes into one segment, as a multiple of
/// `Options::seal_rows` (the default's: 4,000,000).
pub(super) const IDLE_LIMIT: f64 = 4.0;

/// The row limit `fraction` of `seal_rows` gives.
pub(super) fn row_limit(seal_rows: usize, fraction: f64) -> u64 {
    (seal_rows as f64 * fraction) as u64
}

/// Merges one run of [`FAN_IN`] adjacent stream segments of `entry` (GroupBy `name`) that
/// qualify (see the module docs) into at most `max_rows` rows, the newest such run; the merged
/// files go to `work.obsolete`. Returns how many segments were merged away (0 or
/// `FAN_IN - 1`).
///
/// One run a call bounds its work; a backlog is worked off over the calls after. Segments in
/// `opened` (file → the bound GroupBy's open segment) are read from there, others opened.
pub(super) fn merge_stream_segments(
    work: &mut Work,
    name: &str,
    entry: &mut GroupByEntry,
    max_rows: u64,
    opened: &HashMap<&str, &OpenSegment>,
) -> Result<usize> {
    let Some(from) = mergeable(&entry.segments, max_rows) else {
        return Ok(0);
    };
    let run: Vec<SegmentEntry> = entry.segments[from..from + FAN_IN].to_vec();
    let mut batches = Vec::with_capacity(run.len());
    for segment in &run {
        let batch = match opened.get(segment.file.as_str()) {
            Some(open) => open.segment.batch().clone(),
            None => Segment::open(&work.dir().join(&segment.file))?
                .batch()
                .clone(),
        };
        batches.push(batch);
    }
    let rows = merge_runs(&batches)?;
    let (relative, absolute) = work.new_file("group_bys", name);
    work.write(&absolute, &rows)?;
    let (min_ts, max_ts) = ts_range(&rows);
    for segment in &run {
        work.obsolete.push(work.dir().join(&segment.file));
    }
    let merged = SegmentEntry {
        file: relative,
        rows: rows.num_rows() as u64,
        min_ts,
        max_ts,
        ..run[0].clone()
    };
    entry.segments.splice(from..from + FAN_IN, [merged]);
    Ok(FAN_IN - 1)
}

/// Where the newest run of [`FAN_IN`] adjacent segments to merge starts: all stream segments
/// of one source, none larger than the others together, `max_rows` rows at most.
pub(super) fn mergeable(segments: &[SegmentEntry], max_rows: u64) -> Option<usize> {
    let last = segments.len().checked_sub(FAN_IN)?;
    (0..=last).rev().find(|&from| {
        let run = &segments[from..from + FAN_IN];
        let first = &run[0];
        let alike = run
            .iter()
            .all(|s| s.stream && s.role == RoleName::Events && s.source == first.source);
        let total: u64 = run.iter().map(|s| s.rows).sum();
        let largest = run.iter().map(|s| s.rows).max().unwrap_or(0);
        alike && total <= max_rows && largest <= total - largest
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(rows: u64, stream: bool) -> SegmentEntry {
        SegmentEntry {
            source: 0,
            role: RoleName::Events,
            partition: "live".into(),
            file: String::new(),
            rows,
            min_ts: 0,
            max_ts: 0,
            stream,
        }
    }

    /// The default `seal_rows`' limit for a seal's merges.
    const MAX_ROWS: u64 = 500_000;

    fn mergeable(segments: &[SegmentEntry]) -> Option<usize> {
        super::mergeable(segments, MAX_ROWS)
    }

    /// Equal seals merge eight at a time into a tier of their own; a larger segment is not
    /// merged again with smaller ones, nor a loaded partition's with streamed ones, nor past
    /// the row limit.
    #[test]
    fn only_the_newest_alike_stream_segments_merge() {
        let seals = |sizes: &[u64]| -> Vec<SegmentEntry> {
            sizes.iter().map(|&rows| segment(rows, true)).collect()
        };
        assert_eq!(mergeable(&seals(&[10; 7])), None);
        assert_eq!(mergeable(&seals(&[10; 8])), Some(0));
        // The newest run that qualifies.
        assert_eq!(mergeable(&seals(&[10; 9])), Some(1));
        // A merged segment of 80 rows and 7 seals of 10: not yet.
        assert_eq!(mergeable(&seals(&[80, 10, 10, 10, 10, 10, 10, 10])), None);
        assert_eq!(mergeable(&seals(&[80; 8])), Some(0));
        // A run behind newer segments (a backlog) still merges.
        assert_eq!(
            mergeable(&seals(&[10, 10, 10, 10, 10, 10, 10, 10, 900, 5])),
            Some(0)
        );
        let mut mixed = seals(&[10; 8]);
        mixed[3] = segment(10, false);
        assert_eq!(mergeable(&mixed), None);
        let mut loaded_between = seals(&[10; 16]);
        loaded_between[8] = segment(10, false);
        assert_eq!(mergeable(&loaded_between), Some(0));
        let mut other_source = seals(&[10; 8]);
        other_source[5].source = 1;
        assert_eq!(mergeable(&other_source), None);
        assert_eq!(mergeable(&seals(&[MAX_ROWS / 8; 8])), Some(0));
        assert_eq!(mergeable(&seals(&[MAX_ROWS / 8 + 1; 8])), None);
    }

    /// The default `seal_rows` gives the limits the module docs name.
    #[test]
    fn limits_scale_with_seal_rows() {
        assert_eq!(row_limit(1_000_000, SEAL_LIMIT), MAX_ROWS);
        assert_eq!(row_limit(1_000_000, IDLE_LIMIT), 4_000_000);
        assert_eq!(row_limit(1, SEAL_LIMIT), 0);
    }
}
