//! `check` (DESIGN.md I3): every stored tile equals the tile rebuilt from the raw rows it
//! covers, and no tile is missing or extra.

use std::collections::BTreeMap;
use std::ops::Range;

use tilefold_ingest::fold_tiles;
use tilefold_query::aggregate::{Ir, RowAggregator};
use tilefold_query::key::hex;
use tilefold_query::window::{whole_tiles, Level, DAY, LEVELS};
use tilefold_query::Value;
use tilefold_storage::StorageError;

use super::rebuild::{counted_rows, rows_within};
use super::Store;
use crate::{Error, Result};

/// What a check compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub group_bys: usize,
    pub tiles: usize,
}

impl Store {
    /// Rebuilds every GroupBy's tiles from its sealed rows in memory and compares them with the
    /// stored ones. A difference is [`StorageError::Corrupted`] naming the tile.
    pub fn check(&self) -> Result<CheckReport> {
        let state = self.state();
        let mut report = CheckReport::default();
        for (name, bound) in &state.bound {
            let Some(aggregator) = bound.evaluator.aggregator() else {
                continue;
            };
            let mut rows = Vec::new();
            for segment in bound
                .entry
                .segments
                .iter()
                .filter(|s| s.role == super::catalog::RoleName::Events)
            {
                let opened = tilefold_storage::Segment::open(&self.inner.dir.join(&segment.file))?;
                let counted = bound.entry.counted(segment);
                rows.extend(counted_rows(opened.batch(), segment, counted)?);
            }
            let mut rebuilt: BTreeMap<(Vec<u8>, u8, i64), Vec<Ir>> = BTreeMap::new();
            let tiled = bound.entry.tiled();
            fold_tiles(
                aggregator,
                &rows,
                &tiled,
                |key, level, start, irs| -> Result<()> {
                    rebuilt.insert((key.to_vec(), level as u8, start), irs.to_vec());
                    Ok(())
                },
            )?;
            // The current day's partial tile: the rows from the day's start to its end.
            let partial = bound.entry.partial_day();
            if let Some(day) = &partial {
                let mut within = Vec::new();
                for batch in &rows {
                    within.extend(rows_within(batch, day, name)?);
                }
                let only_day: [Range<i64>; LEVELS] = std::array::from_fn(|l| {
                    if l == Level::Day.index() {
                        day.start..day.start + DAY
                    } else {
                        0..0
                    }
                });
                fold_tiles(
                    aggregator,
                    &within,
                    &only_day,
                    |key, level, start, irs| -> Result<()> {
                        rebuilt.insert((key.to_vec(), level as u8, start), irs.to_vec());
                        Ok(())
                    },
                )?;
            }
            let what = |key: &[u8], level: u8, start: i64| {
                format!(
                    "tile group-by {name}, key 0x{}, level {level}, start {start}",
                    hex(key)
                )
            };
            let layout = bound.entry.layout();
            for (key, level, start, bytes) in state.read.all_tiles(name, &layout)? {
                // A tile past the tiles written (a live GroupBy's tile that had not ended when
                // it was last merged) is not read: it is written whole once it ends.
                let written =
                    Level::from_index(level).map(|l| whole_tiles(l, &tiled[l.index()]).end);
                let partial_tile = level == Level::Day as u8
                    && partial.as_ref().is_some_and(|day| day.start == start);
                if written.is_some_and(|written| start >= written) && !partial_tile {
                    continue;
                }
                let corrupted = |detail: String| {
                    Error::Storage(StorageError::Corrupted {
                        what: what(&key, level, start),
                        detail,
                    })
                };
                let stored = aggregator
                    .decode(&bytes)
                    .map_err(|e| corrupted(e.to_string()))?;
                let Some(expected) = rebuilt.remove(&(key.clone(), level, start)) else {
                    return Err(corrupted("no raw rows fall in this tile".into()));
                };
                let (a, b) = (values(aggregator, &stored), values(aggregator, &expected));
                if !a.iter().zip(&b).all(|(a, b)| same(a, b)) {
                    return Err(corrupted(format!(
                        "stored values {a:?} differ from {b:?} rebuilt from raw rows"
                    )));
                }
                report.tiles += 1;
            }
            if let Some(((key, level, start), _)) = rebuilt.into_iter().next() {
                return Err(Error::Storage(StorageError::Corrupted {
                    what: what(&key, level, start),
                    detail: "missing: raw rows fall in this tile but none is stored".into(),
                }));
            }
            report.group_bys += 1;
        }
        Ok(report)
    }
}

/// A tile's values as every column would finalize them.
fn values(aggregator: &RowAggregator, irs: &[Ir]) -> Vec<Value> {
    let per_window: Vec<&[Ir]> = vec![irs; aggregator.windows().len()];
    aggregator.finalize(&per_window)
}

/// Equal, with doubles equal up to rounding (merges may add in another order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}
