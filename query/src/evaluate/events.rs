//! Events GroupBys: windows over tiles and raw events (R-WIN-3 TEMPORAL, R-ACC-2 SNAPSHOT rows,
//! R-SNAP-1 day ends).

use std::ops::Range;

use arrow::array::{BooleanArray, RecordBatch};

use super::{ts_values, EvalError, GroupByData, GroupByEvaluator, QueryTime};
use crate::aggregate::{Ir, RowAggregator};
use crate::config::Accuracy;
use crate::key::hex;
use crate::window::{cover, day_of, day_start, floor, window_start, Piece, DAY};
use crate::Value;

pub(super) fn evaluate(
    evaluator: &GroupByEvaluator,
    aggregator: &RowAggregator,
    data: &dyn GroupByData,
    key: &[u8],
    at: QueryTime,
) -> Result<Vec<Value>, EvalError> {
    // The window end, and whether starts are hop-rounded (TEMPORAL) or exact (day snapshots).
    let (end, temporal) = match (at, evaluator.accuracy) {
        (QueryTime::At(t), Accuracy::Temporal) => (t, true),
        // R-ACC-2: an events left row sees the snapshot of D−1: events before start(D).
        (QueryTime::At(t), Accuracy::Snapshot) => (day_start(day_of(t)), false),
        // R-SNAP-1 / R-ACC-2 entities left: events before start(D+1).
        (QueryTime::EndOfDay(day), _) => (day_start(day + 1), false),
    };
    let earliest = data.earliest().map(|e| floor(e, DAY));
    let starts: Vec<i64> = evaluator
        .windows
        .iter()
        .map(|w| match w {
            Some(w) if temporal => window_start(end, *w),
            Some(w) => end.saturating_sub(*w),
            None => earliest.unwrap_or(end).min(end),
        })
        .collect();
    // Windows share their most recent ranges: fold from the end backwards, latest start first.
    let mut order: Vec<usize> = (0..starts.len()).collect();
    order.sort_by_key(|&w| std::cmp::Reverse(starts[w]));
    let mut per_window = vec![Vec::new(); starts.len()];
    let mut acc = aggregator.new_irs();
    let mut done = end;
    let mut scratch = Scratch::default();
    for w in order {
        let start = starts[w];
        if start < done {
            fold_range(
                evaluator,
                aggregator,
                data,
                key,
                start..done,
                &mut acc,
                &mut scratch,
            )?;
            done = start;
        }
        per_window[w] = acc.clone();
    }
    Ok(evaluator.finalize(aggregator, &per_window))
}

#[derive(Default)]
struct Scratch {
    tiles: Vec<(i64, Vec<u8>)>,
    batches: Vec<RecordBatch>,
}

/// Folds everything of `key` with `ts` in `range` into `acc`: kept tiles merged, the rest from
/// raw events.
fn fold_range(
    evaluator: &GroupByEvaluator,
    aggregator: &RowAggregator,
    data: &dyn GroupByData,
    key: &[u8],
    range: Range<i64>,
    acc: &mut Vec<Ir>,
    scratch: &mut Scratch,
) -> Result<(), EvalError> {
    for piece in cover(range.start, range.end, &data.kept_from()) {
        match piece {
            Piece::Tiles { level, starts } => {
                scratch.tiles.clear();
                data.tiles(key, level, starts, &mut scratch.tiles)?;
                for (start, bytes) in &scratch.tiles {
                    let irs = aggregator.decode(bytes).map_err(|source| EvalError::Tile {
                        group_by: evaluator.name.clone(),
                        key: hex(key),
                        level: level.label(),
                        start: *start,
                        source,
                    })?;
                    aggregator.merge(acc, &irs)?;
                }
            }
            Piece::Events(range) => {
                scratch.batches.clear();
                data.events(key, range.clone(), &mut scratch.batches)?;
                for batch in &scratch.batches {
                    let ts = ts_values(batch);
                    fold_rows(aggregator, batch, |r| range.contains(&ts[r]), None, acc)?;
                }
            }
        }
    }
    Ok(())
}

/// Folds the rows of `batch` for which `include` holds into `acc` (deletes where `is_before`).
pub(super) fn fold_rows(
    aggregator: &RowAggregator,
    batch: &RecordBatch,
    include: impl Fn(usize) -> bool,
    is_before: Option<&BooleanArray>,
    acc: &mut Vec<Ir>,
) -> Result<(), EvalError> {
    let ts = ts_values(batch);
    let slots: Vec<usize> = (0..batch.num_rows())
        .map(|r| {
            if r < ts.len() && include(r) {
                0
            } else {
                usize::MAX
            }
        })
        .collect();
    aggregator.update_batch(batch, ts, &slots, is_before, std::slice::from_mut(acc))?;
    Ok(())
}
