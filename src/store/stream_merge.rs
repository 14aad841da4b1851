//! Merging a live GroupBy's stream segments, so that their number stays small.
//!
//! Every seal adds one segment per GroupBy with live rows. Left alone they pile up: each is a
//! file and a memory map (Linux allows 65,530 maps per process by default), a key lookup for
//! every fetch whose raw range it overlaps, and a binary search per key for backfill. A seal
//! therefore merges its GroupBy's newest stream segments into one, size-tiered as an LSM tree
//! does: the newest [`FAN_IN`] when the oldest of them holds no more rows than the others
//! together, so that each row is rewritten about once per eightfold growth, and never into a
//! segment of more than [`MAX_ROWS`] rows (a merge builds its segment in memory).
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
pub(super) const FAN_IN: usize = 8;

/// The most rows a merge writes into one segment.
pub(super) const MAX_ROWS: u64 = 4_000_000;

/// Merges the newest stream segments of `entry` (GroupBy `name`) while [`FAN_IN`] of them
/// qualify (see the module docs); the merged files go to `work.obsolete`. Returns how many
/// segments were merged away.
pub(super) fn merge_stream_segments(
    work: &mut Work,
    name: &str,
    entry: &mut GroupByEntry,
) -> Result<usize> {
    let mut merged = 0;
    while let Some(from) = mergeable(&entry.segments) {
        let tail = entry.segments.split_off(from);
        let mut batches = Vec::with_capacity(tail.len());
        for segment in &tail {
            let path = work.dir().join(&segment.file);
            batches.push(Segment::open(&path)?.batch().clone());
        }
        let rows = merge_runs(&batches)?;
        let (relative, absolute) = work.new_file("group_bys", name);
        work.write(&absolute, &rows)?;
        let (min_ts, max_ts) = ts_range(&rows);
        for segment in &tail {
            work.obsolete.push(work.dir().join(&segment.file));
        }
        merged += tail.len() - 1;
        entry.segments.push(SegmentEntry {
            file: relative,
            rows: rows.num_rows() as u64,
            min_ts,
            max_ts,
            ..tail[0].clone()
        });
    }
    Ok(merged)
}

/// Where the newest [`FAN_IN`] segments start if they are to be merged: all stream segments
/// of one source, the oldest no larger than the others together, [`MAX_ROWS`] rows at most.
fn mergeable(segments: &[SegmentEntry]) -> Option<usize> {
    let from = segments.len().checked_sub(FAN_IN)?;
    let tail = &segments[from..];
    let first = &tail[0];
    let alike = tail
        .iter()
        .all(|s| s.stream && s.role == RoleName::Events && s.source == first.source);
    let total: u64 = tail.iter().map(|s| s.rows).sum();
    (alike && total <= MAX_ROWS && first.rows <= total - first.rows).then_some(from)
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
        assert_eq!(mergeable(&seals(&[10; 9])), Some(1));
        // A merged segment of 80 rows and 7 seals of 10: not yet.
        assert_eq!(mergeable(&seals(&[80, 10, 10, 10, 10, 10, 10, 10])), None);
        assert_eq!(mergeable(&seals(&[80; 8])), Some(0));
        let mut mixed = seals(&[10; 8]);
        mixed[3] = segment(10, false);
        assert_eq!(mergeable(&mixed), None);
        let mut other_source = seals(&[10; 8]);
        other_source[5].source = 1;
        assert_eq!(mergeable(&other_source), None);
        assert_eq!(mergeable(&seals(&[MAX_ROWS / 8; 8])), Some(0));
        assert_eq!(mergeable(&seals(&[MAX_ROWS / 8 + 1; 8])), None);
    }
}
