//! Merging a live GroupBy's stream segments, so that their number stays small.
//!
//! Every seal adds one segment per GroupBy with live rows. Left alone they pile up: each is a
//! file and a memory map (Linux allows 65,530 maps per process by default), a key lookup for
//! every fetch whose raw range it overlaps, and a binary search per key for backfill. A seal
//! therefore merges [`FAN_IN`] adjacent stream segments of a GroupBy into one, size-tiered as
//! an LSM tree does: when none of them holds more rows than the others together, so that a
//! row's segment at least doubles whenever the row is rewritten, and only into a segment of at
//! most [`MAX_ROWS`] rows. That limit keeps a merge's cost to the seal small (a merge builds
//! its segment in memory, ~0.4 µs a row): merging the segments of full-size seals (a third of
//! a million rows each, ~1 s for eight) halved the ingest bench's rate, since the seal thread
//! is what paces the writer at full speed. So small seals (`compact()` after small batches,
//! `apply` and `load`, the CLI's ingest runs) merge, and full-size ones do not.
//!
//! Values do not change: stream segments of one source count the same rows (from the batch
//! end on, [`GroupByEntry::counted`]), and the merge keeps them sorted by (key, ts) with the
//! older segment's rows first among equal ones, the order reads fold them in. The merged file
//! is written before the seal's commit references it; the merged ones are removed after it,
//! like any file a commit replaces (a crash in between leaves unreferenced files, removed at
//! the next open).

use tilefold_storage::Segment;

use super::catalog::{GroupByEntry, RoleName, SegmentEntry};
use super::head::merge_runs;
use super::rebuild::{ts_range, Work};
use crate::Result;

/// How many stream segments one merge takes.
const FAN_IN: usize = 8;

/// The most rows a merge writes into one segment.
const MAX_ROWS: u64 = 500_000;

/// Merges one run of [`FAN_IN`] adjacent stream segments of `entry` (GroupBy `name`) that
/// qualify (see the module docs), the newest such run; the merged files go to
/// `work.obsolete`. Returns how many segments were merged away (0 or `FAN_IN - 1`).
///
/// One run a seal bounds the seal's added work; a backlog is worked off over the seals after.
pub(super) fn merge_stream_segments(
    work: &mut Work,
    name: &str,
    entry: &mut GroupByEntry,
) -> Result<usize> {
    let Some(from) = mergeable(&entry.segments) else {
        return Ok(0);
    };
    let run: Vec<SegmentEntry> = entry.segments[from..from + FAN_IN].to_vec();
    let mut batches = Vec::with_capacity(run.len());
    for segment in &run {
        let path = work.dir().join(&segment.file);
        batches.push(Segment::open(&path)?.batch().clone());
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
/// of one source, none larger than the others together, [`MAX_ROWS`] rows at most.
fn mergeable(segments: &[SegmentEntry]) -> Option<usize> {
    let last = segments.len().checked_sub(FAN_IN)?;
    (0..=last).rev().find(|&from| {
        let run = &segments[from..from + FAN_IN];
        let first = &run[0];
        let alike = run
            .iter()
            .all(|s| s.stream && s.role == RoleName::Events && s.source == first.source);
        let total: u64 = run.iter().map(|s| s.rows).sum();
        let largest = run.iter().map(|s| s.rows).max().unwrap_or(0);
        alike && total <= MAX_ROWS && largest <= total - largest
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
}
