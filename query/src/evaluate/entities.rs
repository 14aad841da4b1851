//! Entities GroupBys: aggregations over a snapshot partition (R-SNAP-3), TEMPORAL entities with
//! mutations (R-TENT-1), and the latest row of a snapshot without aggregations (R-SNAP-4).

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Int64Type};

use super::events::fold_rows;
use super::{
    row_values, ts_values, EvalError, GroupByData, GroupByEvaluator, QueryTime,
    MUTATION_TIME_COLUMN, REVERSAL_COLUMN,
};
use crate::aggregate::RowAggregator;
use crate::config::Accuracy;
use crate::window::{day_of, day_start, window_start};
use crate::Value;

pub(super) fn evaluate_aggregated(
    evaluator: &GroupByEvaluator,
    aggregator: &RowAggregator,
    data: &dyn GroupByData,
    key: &[u8],
    at: QueryTime,
) -> Result<Vec<Value>, EvalError> {
    let mut rows = Vec::new();
    let mut per_window = Vec::with_capacity(evaluator.windows.len());
    match (at, evaluator.accuracy) {
        (QueryTime::At(t), Accuracy::Temporal) => {
            // R-TENT-1: snapshot D−1 before batchEnd, then partition D's mutations before T.
            let day = day_of(t);
            let batch_end = day_start(day);
            data.snapshot_rows(key, day - 1, &mut rows)?;
            let snapshot_rows = rows.len();
            data.mutation_rows(key, day, &mut rows)?;
            for window in &evaluator.windows {
                let lower = window.map_or(i64::MIN, |w| window_start(t, w));
                let mut acc = aggregator.new_irs();
                for batch in &rows[..snapshot_rows] {
                    let ts = ts_values(batch);
                    fold_rows(
                        aggregator,
                        batch,
                        |r| lower <= ts[r] && ts[r] < batch_end,
                        None,
                        &mut acc,
                    )?;
                }
                for batch in &rows[snapshot_rows..] {
                    let ts = ts_values(batch);
                    let mutation_ts = long_column(batch, MUTATION_TIME_COLUMN);
                    let is_before = boolean_column(batch, REVERSAL_COLUMN);
                    let include = |r: usize| {
                        mutation_ts.is_some_and(|m| {
                            m.is_valid(r) && batch_end <= m.value(r) && m.value(r) < t
                        }) && lower <= ts[r]
                            && ts[r] < t
                    };
                    fold_rows(aggregator, batch, include, is_before, &mut acc)?;
                }
                per_window.push(acc);
            }
        }
        (at, _) => {
            // R-SNAP-3: the snapshot of day X, windowed by its end; unbounded takes every row.
            let day = match at {
                QueryTime::At(t) => day_of(t) - 1,
                QueryTime::EndOfDay(day) => day,
            };
            let end = day_start(day + 1);
            data.snapshot_rows(key, day, &mut rows)?;
            for window in &evaluator.windows {
                let mut acc = aggregator.new_irs();
                for batch in &rows {
                    let ts = ts_values(batch);
                    match window {
                        Some(w) => {
                            let lower = end.saturating_sub(*w);
                            fold_rows(
                                aggregator,
                                batch,
                                |r| lower <= ts[r] && ts[r] < end,
                                None,
                                &mut acc,
                            )?
                        }
                        None => fold_rows(aggregator, batch, |_| true, None, &mut acc)?,
                    }
                }
                per_window.push(acc);
            }
        }
    }
    Ok(evaluator.finalize(aggregator, &per_window))
}

/// R-SNAP-4: the selected columns of the key's row in the snapshot of D−1 (or D for an entities
/// left); with several rows, the one with the largest `ts`, ties by R-AGG-11.
pub(super) fn evaluate_latest_row(
    evaluator: &GroupByEvaluator,
    data: &dyn GroupByData,
    key: &[u8],
    at: QueryTime,
) -> Result<Vec<Value>, EvalError> {
    let day = match at {
        QueryTime::At(t) => day_of(t) - 1,
        QueryTime::EndOfDay(day) => day,
    };
    let mut rows = Vec::new();
    data.snapshot_rows(key, day, &mut rows)?;
    let mut best: Option<(i64, Vec<Value>)> = None;
    for batch in &rows {
        let ts = ts_values(batch);
        for (r, &t) in ts.iter().enumerate() {
            let values = row_values(batch, &evaluator.columns, r);
            let better = match &best {
                None => true,
                Some((best_ts, best_values)) => {
                    (t, Value::List(values.clone()))
                        .partial_cmp(&(*best_ts, Value::List(best_values.clone())))
                        == Some(std::cmp::Ordering::Greater)
                }
            };
            if better {
                best = Some((t, values));
            }
        }
    }
    Ok(best.map_or_else(
        || vec![Value::Null; evaluator.columns.len()],
        |(_, values)| values,
    ))
}

fn long_column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a arrow::array::Int64Array> {
    batch
        .column_by_name(name)
        .filter(|c| c.data_type() == &ArrowType::Int64)
        .map(|c| c.as_primitive::<Int64Type>())
}

fn boolean_column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a BooleanArray> {
    batch
        .column_by_name(name)
        .filter(|c| c.data_type() == &ArrowType::Boolean)
        .map(|c| c.as_boolean())
}
