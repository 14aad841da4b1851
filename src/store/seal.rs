//! Sealing: the head's rows move into segments and tiles, without changing any value.
//!
//! Per GroupBy with unsealed rows: its rows (those from the batch end on) are written as one
//! segment sorted by (key, ts); they are folded into tiles at every level kept and merged into
//! the stored tiles. One commit then references the segments, stores the merged tiles and
//! removes the head entries. A crash before the commit leaves the head as it was (the new
//! segment files are unreferenced and removed at the next open); after it, the head is empty.

use std::collections::BTreeMap;

use tilefold_ingest::kept_from;

use super::catalog::{GroupByEntry, RoleName, SegmentEntry};
use super::head::Heads;
use super::rebuild::{counted_rows, ts_range, write_tiles, TileWrite, Work};
use super::{Change, Store};
use crate::Result;

/// What a seal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Rows moved into segments, per GroupBy.
    pub group_bys: BTreeMap<String, usize>,
    /// Tiles written or merged.
    pub tiles: usize,
}

impl Store {
    /// Seals every unsealed live row into segments and tiles (the writer also does this on its
    /// own once the head holds `Options::seal_rows` rows). Values do not change.
    pub fn compact(&self) -> Result<SealReport> {
        let _writer = self.writer()?;
        self.seal_locked()
    }

    /// [`Store::compact`] with the writer lock held.
    pub(super) fn seal_locked(&self) -> Result<SealReport> {
        let state = self.state();
        let mut report = SealReport::default();
        let Some((first, last)) = state.heads.entries() else {
            return Ok(report);
        };
        let mut txn = self.inner.db.begin_write()?;
        let mut work = Work::new(self, &state, &mut txn)?;
        for (name, head) in state.heads.iter() {
            let (Some(bound), Some(rows)) = (state.bound.get(name), head.merged()?) else {
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
            if old.segments.is_empty() {
                // The first sealed rows: fine tiles from 12 hours / 12 days before the newest.
                entry.kept_from = kept_from(Some(max_ts));
            }
            entry.segments.push(SegmentEntry {
                file: relative,
                rows: rows.num_rows() as u64,
                min_ts,
                max_ts,
                ..stream
            });
            if let Some(aggregator) = bound.evaluator.aggregator() {
                report.tiles += write_tiles(
                    work.txn(),
                    name,
                    aggregator,
                    std::slice::from_ref(&rows),
                    entry.kept_from,
                    TileWrite::Merge,
                )?;
            }
            report.group_bys.insert(name.clone(), rows.num_rows());
            work.entries.insert(name.clone(), Some(entry));
        }
        work.txn().remove_head(first..=last)?;
        let (entries, obsolete) = work.finish()?;
        self.commit(txn)?;
        self.publish(Change {
            configs: None,
            tables: None,
            entries,
            heads: Some(Heads::default()),
        })?;
        self.remove_files(&obsolete);
        Ok(report)
    }
}
