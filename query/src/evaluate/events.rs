//! Events GroupBys: windows over tiles and raw events (R-WIN-3 TEMPORAL, R-ACC-2 SNAPSHOT rows,
//! R-SNAP-1 day ends).

use std::ops::Range;

use arrow::array::{BooleanArray, RecordBatch};

use super::{ts_values, EvalError, GroupByData, GroupByEvaluator, LevelTiles, QueryTime};
use crate::aggregate::{Ir, MergeEncodedError, RowAggregator};
use crate::config::Accuracy;
use crate::key::hex;
use crate::window::{cover, day_of, day_start, floor, window_start, Level, Piece, DAY, LEVELS};
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
    let tiled = data.tiled();
    let partial_day = data.partial_day();
    // With no sealed row at or after `end`, tiles reaching past it hold only rows before it: the
    // cover may run on to the next day boundary, so that the current five minutes, hour and day
    // are read as tiles (as far as they are written) instead of as rows.
    let reach = match data.sealed_before() {
        Some(before) if before <= end && end % DAY != 0 => floor(end, DAY).saturating_add(DAY),
        _ => end,
    };
    let mut steps: Vec<(usize, Vec<Piece>)> = Vec::with_capacity(order.len());
    let mut done = reach;
    for &w in &order {
        let start = starts[w];
        let pieces = if start < done {
            let pieces = cover(start, done, &tiled, partial_day.as_ref());
            done = start;
            pieces
        } else {
            Vec::new()
        };
        steps.push((w, pieces));
    }
    // The tile ranges of all windows, per level, joined where they touch: one read serves
    // them all (a fetch is a few range scans, DESIGN.md). A long window's ranges far from the
    // others (an unbounded window's first days) stay apart, so the tiles between are not read.
    let mut spans: Vec<(Level, Range<i64>)> = steps
        .iter()
        .flat_map(|(_, pieces)| pieces)
        .filter_map(|piece| match piece {
            Piece::Tiles { level, starts } => Some((*level, starts.clone())),
            Piece::Events(_) => None,
        })
        .collect();
    spans.sort_by_key(|(level, starts)| (level.index(), starts.start));
    spans.dedup_by(|next, joined| {
        let touch = next.0 == joined.0 && next.1.start <= joined.1.end;
        if touch {
            joined.1.end = joined.1.end.max(next.1.end);
        }
        touch
    });
    let mut tiles: [LevelTiles; LEVELS] = Default::default();
    let read = !spans.is_empty();
    if read {
        data.tiles(key, &spans, &mut tiles)?;
    }
    // Rows no tile covers yet: every window takes those in its range, whatever the pieces.
    let mut unsealed = Vec::new();
    if let Some(first) = starts.iter().copied().min().filter(|&s| s < end) {
        data.unsealed(key, first..end, &mut unsealed)?;
    }
    let mut values = vec![Value::Null; aggregator.columns().len()];
    let mut acc = aggregator.new_irs();
    let mut batches = Vec::new();
    let mut unsealed_done = end;
    // Tiles merge only the parts of windows not yet complete: an unbounded window's old tiles
    // cost its own parts, not every part's.
    let mut complete = vec![false; evaluator.windows.len()];
    let mut needed = aggregator.parts_needed(|_| true);
    for (w, pieces) in steps {
        let start = starts[w];
        if start < unsealed_done {
            for batch in &unsealed {
                let ts = ts_values(batch);
                let from = ts.partition_point(|&t| t < start);
                let to = ts.partition_point(|&t| t < unsealed_done);
                if to > from {
                    let rows = batch.slice(from, to - from);
                    fold_rows(aggregator, &rows, |_| true, None, &mut acc)?;
                }
            }
            unsealed_done = start;
        }
        for piece in pieces {
            match piece {
                Piece::Tiles { level, starts } => {
                    for (start, bytes) in tiles[level.index()].within(&starts) {
                        aggregator
                            .merge_encoded_parts(&mut acc, bytes, &needed)
                            .map_err(|e| match e {
                                MergeEncodedError::Decode(source) => EvalError::Tile {
                                    group_by: evaluator.name.clone(),
                                    key: hex(key),
                                    level: level.label(),
                                    start,
                                    source,
                                },
                                MergeEncodedError::Merge(e) => EvalError::Aggregation(e),
                            })?;
                    }
                }
                Piece::Events(range) => {
                    batches.clear();
                    // `events` gives exactly the rows with `ts` in `range`.
                    data.events(key, range, &mut batches)?;
                    for batch in &batches {
                        fold_rows(aggregator, batch, |_| true, None, &mut acc)?;
                    }
                }
            }
        }
        // Window `w` is complete: its columns read the states as they are now.
        aggregator.finalize_window(w, &acc, &mut values);
        complete[w] = true;
        needed = aggregator.parts_needed(|w| !complete.get(w).copied().unwrap_or(false));
    }
    if read {
        data.give_back_tiles(key, &mut tiles);
    }
    Ok(values)
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
