//! The evaluator: the one function that decides a GroupBy's value for a key at a query time
//! (SEMANTICS.md §4). Fetch and backfill both call [`GroupByEvaluator::evaluate`]; they differ
//! only in where the query time comes from (DESIGN.md I1).
//!
//! The evaluator reads through [`GroupByData`]: stored tiles (pre-aggregated IRs per key and
//! aligned time range) and raw rows (events, entity snapshots, mutations). Which tiles and which
//! raw ranges make up a window is [`crate::window::cover`]'s answer.

mod entities;
mod error;
mod events;
mod tiles;

use std::ops::Range;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type, Schema};

use crate::aggregate::{Ir, RowAggregator};
use crate::config::{Accuracy, DataModel, GroupBy};
use crate::source_query::TIME_COLUMN;
use crate::value::value_at;
use crate::window::{Level, LEVELS};
use crate::Value;

pub use error::EvalError;
pub use tiles::LevelTiles;

/// The key bytes column of stored rows.
pub const KEY_COLUMN: &str = "__key";
/// The mutation time column of stored mutation rows (R-MUT-1).
pub const MUTATION_TIME_COLUMN: &str = "mutation_ts";
/// The reversal column of stored mutation rows (R-MUT-1).
pub const REVERSAL_COLUMN: &str = "is_before";

/// When a value is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryTime {
    /// At an instant: an events left row's `ts`, or a fetch's `atMillis` (R-ACC-2 first rows, R-ONL-2,
    /// R-ONL-3).
    At(i64),
    /// At the end of a day (day number): an entities left row of partition D (R-ACC-2, E-07).
    EndOfDay(i64),
}

/// The stored data of one GroupBy, as the evaluator reads it.
pub trait GroupByData {
    /// Puts in `out[level]`, for each (level, starts) of `spans` (ordered by level, then start;
    /// a level's ranges disjoint), the tiles of `key` at that level whose starts lie in
    /// `starts`, as (start, IR bytes) in ascending start order. Tiles outside `starts` may come
    /// along (a memo hands over what it holds); the evaluator reads only those in the ranges it
    /// asked for.
    fn tiles(
        &self,
        key: &[u8],
        spans: &[(Level, Range<i64>)],
        out: &mut [LevelTiles; LEVELS],
    ) -> Result<(), EvalError>;
    /// Takes back tiles the last [`Self::tiles`] call lent, once the evaluation that read them
    /// is done (called only after such a call). By default there is nothing to take back.
    fn give_back_tiles(&self, _key: &[u8], _tiles: &mut [LevelTiles; LEVELS]) {}
    /// The time the stored tiles of each level cover (see [`crate::window::cover`]): from the
    /// first tile kept to the end of the last tile written. Sealed event rows outside it are
    /// read raw, through [`Self::events`].
    fn tiled(&self) -> [Range<i64>; LEVELS];
    /// The time the current day's partial tile covers, if the store keeps one (see
    /// [`crate::window::cover`]). None by default.
    fn partial_day(&self) -> Option<Range<i64>> {
        None
    }
    /// Appends the event rows of `key` with `ts` in `range` that tiles cover where tiles are
    /// kept (sealed rows).
    fn events(
        &self,
        key: &[u8],
        range: Range<i64>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError>;
    /// Appends the event rows of `key` with `ts` in `range` that no tile covers yet (rows
    /// ingested live and not yet sealed). Each batch is sorted by `ts`. None by default.
    fn unsealed(
        &self,
        _key: &[u8],
        _range: Range<i64>,
        _out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        Ok(())
    }
    /// The earliest event time of any key, if there are events (bounds unbounded windows).
    fn earliest(&self) -> Option<i64>;
    /// An instant every sealed row (in tiles, or read through [`Self::events`]) is before, if
    /// known: a query at or after it may read tiles reaching past the query time, since they
    /// hold no row at or after it. `None` by default: tiles are read only up to the query time.
    fn sealed_before(&self) -> Option<i64> {
        None
    }
    /// Appends the rows of `key` in entity snapshot partition `day`.
    fn snapshot_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError>;
    /// Appends the mutation rows of `key` in mutation partition `day`.
    fn mutation_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError>;
}

/// How one GroupBy computes values, bound to the schema of its stored rows.
#[derive(Debug, Clone)]
pub struct GroupByEvaluator {
    name: String,
    model: DataModel,
    accuracy: Accuracy,
    aggregator: Option<RowAggregator>,
    /// Window lengths in ms per [`RowAggregator::windows`], `None` = unbounded.
    windows: Vec<Option<i64>>,
    /// Without aggregations: the value columns (R-NAME-3) as indexes into the row schema.
    columns: Vec<usize>,
    fields: Vec<Field>,
}

impl GroupByEvaluator {
    /// Binds `group_by` to `rows`, the schema of its stored rows (source query output, `ts`,
    /// and for entities with mutations [`MUTATION_TIME_COLUMN`] and [`REVERSAL_COLUMN`]).
    pub fn new(group_by: &GroupBy, rows: &Schema) -> Result<Self, EvalError> {
        let unsupported = |reason: String| EvalError::Unsupported {
            group_by: group_by.name().to_owned(),
            reason,
        };
        let model = match group_by.sources().first().map(|s| s.data_model()) {
            Some(model) => model,
            None => return Err(unsupported("it has no sources".into())),
        };
        if group_by.sources().iter().any(|s| s.data_model() != model) {
            return Err(unsupported(
                "sources of different kinds (events and entities) are not supported".into(),
            ));
        }
        if group_by
            .sources()
            .iter()
            .any(|s| matches!(s, crate::config::Source::JoinSource(_)))
        {
            return Err(unsupported(
                "JoinSource (chaining) is not supported yet".into(),
            ));
        }
        match rows.field_with_name(TIME_COLUMN).map(|f| f.data_type()) {
            Ok(ArrowType::Int64) => {}
            _ => {
                return Err(unsupported(format!(
                    "its rows have no LONG {TIME_COLUMN} column"
                )))
            }
        }
        if model == DataModel::Events && group_by.aggregations().is_empty() {
            return Err(unsupported("an events GroupBy needs aggregations".into()));
        }
        let (aggregator, windows, columns, fields) = if group_by.aggregations().is_empty() {
            let mut names: Vec<String> = group_by
                .output_columns()
                .into_iter()
                .map(|c| c.name)
                .collect();
            if names.is_empty() {
                // Every column is selected: the values are all but keys and reserved columns.
                let partition = group_by
                    .sources()
                    .first()
                    .and_then(|s| s.query())
                    .map(|q| q.partition_column_or_default().to_owned())
                    .unwrap_or_else(|| "ds".into());
                names = rows
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .filter(|n| {
                        !group_by.key_columns().contains(n)
                            && ![
                                TIME_COLUMN,
                                "ds",
                                "ts_ds",
                                REVERSAL_COLUMN,
                                MUTATION_TIME_COLUMN,
                                KEY_COLUMN,
                            ]
                            .contains(&n.as_str())
                            && *n != partition
                    })
                    .collect();
            }
            let mut columns = Vec::new();
            let mut fields = Vec::new();
            for name in names {
                let index = rows
                    .index_of(&name)
                    .map_err(|_| unsupported(format!("its rows have no column {name}")))?;
                columns.push(index);
                fields.push(Field::new(
                    name,
                    rows.field(index).data_type().clone(),
                    true,
                ));
            }
            (None, Vec::new(), columns, fields)
        } else {
            let aggregator = RowAggregator::new(group_by, rows)?;
            let windows = aggregator
                .windows()
                .iter()
                .map(|w| w.and_then(|w| w.millis()))
                .collect();
            let fields = aggregator.output_fields();
            (Some(aggregator), windows, Vec::new(), fields)
        };
        Ok(GroupByEvaluator {
            name: group_by.name().to_owned(),
            model,
            accuracy: group_by.accuracy(),
            aggregator,
            windows,
            columns,
            fields,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The output columns (before the GroupBy's derivations), in order.
    pub fn output_fields(&self) -> &[Field] {
        &self.fields
    }

    /// The aggregator, for callers that fold tiles (bulk load) with the same parts.
    pub fn aggregator(&self) -> Option<&RowAggregator> {
        self.aggregator.as_ref()
    }

    /// The value of every output column for `key` at `at`. Null where a window holds no input.
    pub fn evaluate(
        &self,
        data: &dyn GroupByData,
        key: &[u8],
        at: QueryTime,
    ) -> Result<Vec<Value>, EvalError> {
        match (self.model, &self.aggregator) {
            (DataModel::Events, Some(aggregator)) => {
                events::evaluate(self, aggregator, data, key, at)
            }
            (DataModel::Entities, Some(aggregator)) => {
                entities::evaluate_aggregated(self, aggregator, data, key, at)
            }
            (_, None) => entities::evaluate_latest_row(self, data, key, at),
        }
    }

    fn finalize(&self, aggregator: &RowAggregator, per_window: &[Vec<Ir>]) -> Vec<Value> {
        let refs: Vec<&[Ir]> = per_window.iter().map(Vec::as_slice).collect();
        aggregator.finalize(&refs)
    }
}

/// The `ts` column of stored rows (checked to be LONG when the evaluator was bound).
fn ts_values(batch: &RecordBatch) -> &[i64] {
    match batch.column_by_name(TIME_COLUMN) {
        Some(column) if column.data_type() == &ArrowType::Int64 => {
            column.as_primitive::<Int64Type>().values()
        }
        _ => &[],
    }
}

/// The values of row `row` at `columns`.
fn row_values(batch: &RecordBatch, columns: &[usize], row: usize) -> Vec<Value> {
    columns
        .iter()
        .map(|&c| value_at(batch.column(c).as_ref(), row).unwrap_or(Value::Null))
        .collect()
}
