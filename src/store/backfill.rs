//! Backfill (SEMANTICS.md §6): the join's left rows through its left query, every part evaluated
//! at each row's time with the fetch evaluator, derivations applied; streamed batch by batch in
//! left-input order.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;

use tilefold_ingest::parquet_batches;
use tilefold_query::config::{ConfigError, Join, Query, Source};
use tilefold_query::derivation::Derivations;
use tilefold_query::evaluate::QueryTime;
use tilefold_query::expr::Expression;
use tilefold_query::source_query::{quote, SourceQuery, TIME_COLUMN};
use tilefold_query::value::{value_at, values_to_array};
use tilefold_query::window::parse_day;
use tilefold_query::Value;
use tilefold_storage::Segment;

use super::bound::{BoundGroupBy, TileMemo};
use super::fetch::{key_row, part_fields, part_key, unbound_fields};
use super::{State, Store};
use crate::{Error, Result};

/// Where the left rows come from.
#[derive(Debug, Clone)]
pub enum Left {
    /// The join's left table, as loaded into the store.
    Table,
    /// Raw left-table rows in a Parquet file.
    Parquet(PathBuf),
    /// Raw left-table rows.
    Batches(Vec<RecordBatch>),
}

/// Backfill settings.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Left rows per output batch: memory is bounded by this, not by the left input's size.
    pub batch_rows: usize,
    /// Only left rows whose partition lies in this range (both ends included, R-TIME-6).
    pub start_ds: Option<String>,
    pub end_ds: Option<String>,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            batch_rows: 8192,
            start_ds: None,
            end_ds: None,
        }
    }
}

/// What a backfill wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub left_rows: usize,
    pub rows: usize,
}

/// A running backfill: an iterator of output batches.
pub struct Backfill {
    state: Arc<State>,
    plan: Plan,
    input: Box<dyn Iterator<Item = Result<RecordBatch>> + Send>,
    pub left_rows: usize,
}

struct Plan {
    query: SourceQuery,
    entities: bool,
    parts: Vec<Part>,
    /// Left output columns, as indexes into the query's output: selected columns, ts, ds.
    left: Vec<usize>,
    derivations: Option<Derivations>,
    /// R-JOIN-7: true for left rows to keep (none of their keys holds a listed skew value).
    skew: Option<Expression>,
    /// Left columns a derivation of the same name overrides where null (R-DER-3).
    overridden: Vec<(usize, usize)>,
    schema: SchemaRef,
    start_ds: Option<String>,
    end_ds: Option<String>,
    partition: String,
}

struct Part {
    prefix: String,
    /// `None` when the GroupBy has no rows: its values are null (R-JOIN-5).
    bound: Option<Arc<BoundGroupBy>>,
    /// Left query output index of each GroupBy key.
    keys: Vec<usize>,
    fields: Vec<Field>,
}

impl Store {
    /// Starts a backfill of `join` over `left`.
    pub fn backfill(&self, join: &str, left: Left, options: &BackfillOptions) -> Result<Backfill> {
        let state = self.state();
        let name = Store::join_name(&state, join)
            .ok_or_else(|| Error::Request(format!("unknown join {join}")))?;
        let join = state.joins[&name].clone();
        let batch_rows = options.batch_rows.max(1);
        let (schema, input): (
            SchemaRef,
            Box<dyn Iterator<Item = Result<RecordBatch>> + Send>,
        ) = match left {
            Left::Parquet(path) => {
                let (schema, batches) = parquet_batches(&path, batch_rows)?;
                (schema, Box::new(batches.map(|b| b.map_err(Error::from))))
            }
            Left::Batches(batches) => {
                let schema = batches
                    .first()
                    .map(|b| b.schema())
                    .ok_or_else(|| Error::Request("backfill: no left rows given".into()))?;
                (schema, Box::new(batches.into_iter().map(Ok)))
            }
            Left::Table => left_table(self.path(), &state, &join, options, batch_rows)?,
        };
        let plan = plan(&state, &join, &schema, options)?;
        Ok(Backfill {
            state,
            plan,
            input,
            left_rows: 0,
        })
    }

    /// Runs a backfill into a Parquet file; `progress` gets the left rows done so far.
    pub fn backfill_to_parquet(
        &self,
        join: &str,
        left: Left,
        out: &Path,
        options: &BackfillOptions,
        progress: &mut dyn FnMut(usize),
    ) -> Result<BackfillReport> {
        let mut backfill = self.backfill(join, left, options)?;
        let file = File::create(out).map_err(Error::io(out))?;
        let parquet_error =
            |e: parquet::errors::ParquetError| Error::Request(format!("{}: {e}", out.display()));
        let mut writer =
            ArrowWriter::try_new(file, backfill.schema(), None).map_err(parquet_error)?;
        let mut report = BackfillReport::default();
        for batch in backfill.by_ref() {
            let batch = batch?;
            report.rows += batch.num_rows();
            writer.write(&batch).map_err(parquet_error)?;
            progress(report.rows);
        }
        writer.close().map_err(parquet_error)?;
        report.left_rows = backfill.left_rows;
        Ok(report)
    }
}

impl Backfill {
    /// The output schema: left columns, then features in part and aggregation order.
    pub fn schema(&self) -> SchemaRef {
        self.plan.schema.clone()
    }

    fn next_batch(&mut self, input: RecordBatch) -> Result<RecordBatch> {
        self.left_rows += input.num_rows();
        let plan = &self.plan;
        let applied = plan
            .query
            .apply(&input)
            .map_err(|e| Error::Request(format!("left query: {}", e.reason)))?;
        let mut rows = applied.batch;
        if let Some(skew) = &plan.skew {
            let keep = skew
                .evaluate(&rows)
                .map_err(|e| Error::Request(format!("skewKeys: {}", e.reason)))?;
            let keep = keep
                .as_boolean_opt()
                .cloned()
                .unwrap_or_else(|| BooleanArray::from(vec![true; rows.num_rows()]));
            rows = filter_record_batch(&rows, &keep).map_err(|e| Error::Request(e.to_string()))?;
        }
        if plan.start_ds.is_some() || plan.end_ds.is_some() {
            rows = filter_partitions(
                &rows,
                &plan.partition,
                plan.start_ds.as_deref(),
                plan.end_ds.as_deref(),
            )?;
        }
        let n = rows.num_rows();
        let times = query_times(plan, &rows);
        let mut columns: Vec<ArrayRef> =
            plan.left.iter().map(|&i| rows.column(i).clone()).collect();
        // Rows are independent: split them over the cores, keep their order.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(n.div_ceil(256))
            .max(1);
        let per_thread = n.div_ceil(threads);
        let state: &State = &self.state;
        let (rows_ref, times_ref) = (&rows, times.as_slice());
        let chunks: Vec<Result<Vec<Vec<Vec<Value>>>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let range = (i * per_thread).min(n)..((i + 1) * per_thread).min(n);
                    scope.spawn(move || part_values(plan, state, rows_ref, times_ref, range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Request("backfill worker panicked".into())))
                })
                .collect()
        });
        let mut per_part: Vec<Vec<Vec<Value>>> = plan
            .parts
            .iter()
            .map(|p| vec![Vec::with_capacity(n); p.fields.len()])
            .collect();
        for chunk in chunks {
            for (part, columns) in per_part.iter_mut().zip(chunk?) {
                for (all, some) in part.iter_mut().zip(columns) {
                    all.extend(some);
                }
            }
        }
        for (part, values) in plan.parts.iter().zip(per_part) {
            for (field, values) in part.fields.iter().zip(values) {
                columns.push(
                    values_to_array(&values, field.data_type())
                        .map_err(|e| Error::Request(format!("join part {}: {e}", part.prefix)))?,
                );
            }
        }
        let base_schema = Arc::new(base_schema(&rows.schema(), plan));
        let base = RecordBatch::try_new(base_schema, columns)
            .map_err(|e| Error::Request(e.to_string()))?;
        let Some(derivations) = &plan.derivations else {
            return Ok(base);
        };
        let derived = derivations
            .apply(&base)
            .map_err(|e| Error::Request(format!("derivations: {}", e.reason)))?;
        let mut out: Vec<ArrayRef> = base.columns()[..plan.left.len()].to_vec();
        for (left, derived_index) in &plan.overridden {
            // R-DER-3: the left value where non-null, else the derived one.
            let l = out[*left].clone();
            let d = derived.column(*derived_index);
            let d = cast(d, l.data_type()).map_err(|e| Error::Request(e.to_string()))?;
            let keep =
                arrow::compute::is_not_null(&l).map_err(|e| Error::Request(e.to_string()))?;
            out[*left] = arrow::compute::kernels::zip::zip(&keep, &l, &d)
                .map_err(|e| Error::Request(e.to_string()))?;
        }
        for (i, column) in derived.columns().iter().enumerate() {
            if !plan.overridden.iter().any(|(_, d)| *d == i) {
                out.push(column.clone());
            }
        }
        RecordBatch::try_new(plan.schema.clone(), out).map_err(|e| Error::Request(e.to_string()))
    }
}

impl Iterator for Backfill {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let input = match self.input.next()? {
            Ok(input) => input,
            Err(e) => return Some(Err(e)),
        };
        Some(self.next_batch(input))
    }
}

/// Each left row's query time (R-ACC-2): its `ts` for an events left, the end of its partition
/// day for an entities left; and the instant `ts`/`ds` derivations see.
fn query_times(plan: &Plan, rows: &RecordBatch) -> Vec<(QueryTime, i64)> {
    let n = rows.num_rows();
    if plan.entities {
        let ds = rows
            .column_by_name(&plan.partition)
            .and_then(|c| cast(c, &ArrowType::Utf8).ok());
        let ds = ds.as_ref().map(|d| d.as_string::<i32>());
        (0..n)
            .map(|r| {
                let day = ds
                    .filter(|d| d.is_valid(r))
                    .and_then(|d| parse_day(d.value(r)));
                match day {
                    Some(day) => (
                        QueryTime::EndOfDay(day),
                        tilefold_query::window::day_start(day + 1) - 1,
                    ),
                    None => (
                        QueryTime::EndOfDay(i64::MIN / tilefold_query::window::DAY),
                        0,
                    ),
                }
            })
            .collect()
    } else {
        let ts = rows
            .column_by_name(TIME_COLUMN)
            .map(|c| c.as_primitive::<Int64Type>());
        (0..n)
            .map(|r| {
                let t = ts.map_or(0, |ts| ts.value(r));
                (QueryTime::At(t), t)
            })
            .collect()
    }
}

/// Every part's values for left rows `range`: per part, per column, one value per row.
///
/// One memo of tiles serves the whole range. Serving tiles read for an earlier row is sound
/// because every evaluation of a backfill reads through one read transaction: the [`State`]
/// taken once in [`Store::backfill`] and kept in [`Backfill`] for the whole run (`state.read`,
/// with the heads of that same commit). Writers publish new states, never change this one, so
/// the tiles cannot change under the memo, which moreover lives only for this call.
fn part_values(
    plan: &Plan,
    state: &State,
    rows: &RecordBatch,
    times: &[(QueryTime, i64)],
    range: std::ops::Range<usize>,
) -> Result<Vec<Vec<Vec<Value>>>> {
    let memo = RefCell::new(TileMemo::default());
    plan.parts
        .iter()
        .map(|part| {
            let Some(bound) = &part.bound else {
                // R-JOIN-5: a GroupBy without rows gives nulls.
                return Ok(vec![vec![Value::Null; range.len()]; part.fields.len()]);
            };
            part_columns(part, bound, state, &memo, rows, times, range.clone())
                .map_err(|e| Error::Request(format!("join part {}: {e}", part.prefix)))
        })
        .collect()
}

/// A left row to evaluate for one part: its encoded key, query time and place in the range.
struct KeyedRow {
    key: Vec<u8>,
    /// The key values cast to the GroupBy's key types (for its derivations).
    cast: Vec<Value>,
    at: QueryTime,
    /// The instant of `at`, for ordering and for `ts`/`ds` in derivations.
    t: i64,
    offset: usize,
}

/// One part's values for left rows `range`, per column one value per row in row order.
///
/// Rows are evaluated in (key, query time) order, so that rows of one key run one after the
/// other: they share the tiles of `memo` and the pages of the database and segments. On errors
/// the result is the one evaluating in row order gives: the error of the first row that fails.
fn part_columns(
    part: &Part,
    bound: &BoundGroupBy,
    state: &State,
    memo: &RefCell<TileMemo>,
    rows: &RecordBatch,
    times: &[(QueryTime, i64)],
    range: std::ops::Range<usize>,
) -> std::result::Result<Vec<Vec<Value>>, String> {
    let mut values = vec![vec![Value::Null; range.len()]; part.fields.len()];
    let (mut keyed, mut failed) = keyed_rows(part, bound, rows, times, range.clone());
    keyed.sort_unstable_by(|a, b| (&a.key, a.t, a.offset).cmp(&(&b.key, b.t, b.offset)));
    for group in keyed.chunk_by_mut(|a, b| a.key == b.key) {
        let until = group.iter().map(|row| tiles_end(row.at)).max();
        let last = group.len().saturating_sub(1);
        for (i, row) in group.iter_mut().enumerate() {
            // Rows after the first failed one are not needed: their error would not be the one.
            if failed.as_ref().is_some_and(|(f, _)| *f < row.offset) {
                continue;
            }
            memo.borrow_mut().set_widen_to(until.filter(|_| i < last));
            let cast = std::mem::take(&mut row.cast);
            match key_row(bound, state, Some(memo), cast, &row.key, row.at, row.t) {
                Ok(row_values) => {
                    for (column, value) in values.iter_mut().zip(row_values) {
                        if let Some(slot) = column.get_mut(row.offset) {
                            *slot = value;
                        }
                    }
                }
                Err(e) => failed = Some((row.offset, e)),
            }
        }
    }
    match failed {
        Some((_, e)) => Err(e),
        None => Ok(values),
    }
}

/// The rows of `range` with a non-null key (R-JOIN-4), up to the first whose key does not
/// cast, returned with its offset and error.
fn keyed_rows(
    part: &Part,
    bound: &BoundGroupBy,
    rows: &RecordBatch,
    times: &[(QueryTime, i64)],
    range: std::ops::Range<usize>,
) -> (Vec<KeyedRow>, Option<(usize, String)>) {
    let mut keyed = Vec::with_capacity(range.len());
    for (offset, r) in range.enumerate() {
        let key_values: Vec<Value> = part
            .keys
            .iter()
            .map(|&k| value_at(rows.column(k).as_ref(), r).unwrap_or(Value::Null))
            .collect();
        match part_key(bound, &key_values) {
            Ok(Some(key)) => keyed.push(KeyedRow {
                key: key.encoded,
                cast: key.cast,
                at: times[r].0,
                t: times[r].1,
                offset,
            }),
            Ok(None) => {}
            Err(e) => return (keyed, Some((offset, e))),
        }
    }
    (keyed, None)
}

/// A bound on the tile starts an evaluation at `at` reads: every tile it reads ends by its
/// window end, which is at most `at`'s instant (the end of the day for an entities left).
fn tiles_end(at: QueryTime) -> i64 {
    match at {
        QueryTime::At(t) => t,
        QueryTime::EndOfDay(day) => tilefold_query::window::day_start(day.saturating_add(1)),
    }
}

fn base_schema(rows: &Schema, plan: &Plan) -> Schema {
    let mut fields: Vec<Field> = plan.left.iter().map(|&i| rows.field(i).clone()).collect();
    for part in &plan.parts {
        fields.extend(part.fields.iter().map(|f| {
            Field::new(
                format!("{}_{}", part.prefix, f.name()),
                f.data_type().clone(),
                true,
            )
        }));
    }
    Schema::new(fields)
}

fn plan(state: &State, join: &Join, input: &Schema, options: &BackfillOptions) -> Result<Plan> {
    let invalid = |field: &str, reason: String| {
        Error::Config(ConfigError::Invalid {
            config: join.name().to_owned(),
            field: field.to_owned(),
            reason,
        })
    };
    let (query, entities, field) = match &join.left {
        Source::Events(e) => (e.query.clone(), false, "left.events.query"),
        Source::Entities(e) => (e.query.clone(), true, "left.entities.query"),
        Source::JoinSource(_) => {
            return Err(invalid(
                "left",
                "a JoinSource cannot be a join's left (R-SRC-7)".into(),
            ))
        }
    };
    let query = query.unwrap_or_else(Query::new);
    let partition = query.partition_column_or_default().to_owned();
    let compiled = SourceQuery::compile(join.name(), field, &query, &[], !entities, input)?;
    let out = compiled.output_schema().clone();
    let skew = skew_filter(join, &out)?;
    if !entities && out.index_of(TIME_COLUMN).is_err() {
        return Err(invalid(
            field,
            "an events left needs a timeColumn (R-JOIN-6)".into(),
        ));
    }
    // Left columns: the selected ones, then ts, then ds.
    let mut left: Vec<usize> = (0..out.fields().len())
        .filter(|&i| ![TIME_COLUMN, partition.as_str()].contains(&out.field(i).name().as_str()))
        .collect();
    left.extend(out.index_of(TIME_COLUMN).ok());
    left.extend(out.index_of(&partition).ok());
    let mut parts = Vec::new();
    for (i, part) in join.join_parts.iter().enumerate() {
        let group_by = &part.group_by;
        let bound = state.bound.get(group_by.name()).cloned();
        let keys = group_by
            .key_columns()
            .iter()
            .map(|k| {
                let column = part.left_column_for(k);
                out.index_of(column).map_err(|_| {
                    invalid(
                        &format!("joinParts[{i}].keyMapping"),
                        format!("key {k} needs left column {column}, which the left query does not select"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let fields = match &bound {
            Some(bound) => part_fields(bound),
            None => unbound_fields(group_by),
        };
        parts.push(Part {
            prefix: part.full_prefix(),
            bound,
            keys,
            fields,
        });
    }
    let mut plan = Plan {
        query: compiled,
        entities,
        parts,
        left,
        derivations: None,
        skew,
        overridden: Vec::new(),
        schema: Arc::new(Schema::empty()),
        start_ds: options.start_ds.clone(),
        end_ds: options.end_ds.clone(),
        partition,
    };
    let base = base_schema(&out, &plan);
    plan.schema = Arc::new(base.clone());
    if let Some(derivations) = join.derivations.as_deref().filter(|d| !d.is_empty()) {
        let names: Vec<String> = base.fields()[plan.left.len()..]
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let compiled =
            Derivations::compile(join.name(), "derivations", derivations, &names, &base)?;
        let derived = compiled.output_schema().clone();
        let mut fields: Vec<Field> = base.fields()[..plan.left.len()]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (d, field) in derived.fields().iter().enumerate() {
            match fields.iter().position(|f| f.name() == field.name()) {
                Some(l) => plan.overridden.push((l, d)),
                None => fields.push(field.as_ref().clone()),
            }
        }
        plan.schema = Arc::new(Schema::new(fields));
        plan.derivations = Some(compiled);
    }
    Ok(plan)
}

/// R-JOIN-7: `skewKeys` as one predicate over the left query's output, true for rows to keep:
/// `(c IS NULL OR c NOT IN (v, ...)) AND ...`. The values are SQL literals (`"'US'"`).
fn skew_filter(join: &Join, left: &Schema) -> Result<Option<Expression>> {
    let Some(skew) = join.skew_keys.as_ref() else {
        return Ok(None);
    };
    let clauses: Vec<String> = skew
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(column, values)| {
            let c = quote(column);
            format!("({c} IS NULL OR {c} NOT IN ({}))", values.join(", "))
        })
        .collect();
    if clauses.is_empty() {
        return Ok(None);
    }
    let text = clauses.join(" AND ");
    Expression::compile(&text, left).map(Some).map_err(|e| {
        Error::Config(ConfigError::Invalid {
            config: join.name().to_owned(),
            field: "skewKeys".into(),
            reason: e.reason,
        })
    })
}

type Batches = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// The loaded left table, partition by partition, in `batch_rows` slices.
fn left_table(
    dir: &Path,
    state: &State,
    join: &Join,
    options: &BackfillOptions,
    batch_rows: usize,
) -> Result<(SchemaRef, Batches)> {
    let table = join
        .left
        .table()
        .map(|t| t.split('/').next().unwrap_or_default().to_owned())
        .ok_or_else(|| {
            Error::Request(format!(
                "join {}: the left source names no table",
                join.name()
            ))
        })?;
    let entry = state.tables.get(&table).ok_or_else(|| {
        Error::Request(format!(
            "join {}: left table {table} is not loaded (load it, or pass --left FILE)",
            join.name()
        ))
    })?;
    let files: Vec<PathBuf> = entry
        .partitions
        .iter()
        .filter(|(p, _)| {
            options.start_ds.as_ref().is_none_or(|s| *p >= s)
                && options.end_ds.as_ref().is_none_or(|e| *p <= e)
        })
        .map(|(_, f)| dir.join(&f.file))
        .collect();
    let Some(first) = entry.partitions.values().next() else {
        return Err(Error::Request(format!(
            "join {}: left table {table} has no rows",
            join.name()
        )));
    };
    let schema = Segment::open(&dir.join(&first.file))?.batch().schema();
    let batches = files.into_iter().flat_map(move |file| {
        let slices: Vec<Result<RecordBatch>> = match Segment::open(&file) {
            Ok(segment) => {
                let batch = segment.batch().clone();
                (0..batch.num_rows())
                    .step_by(batch_rows)
                    .map(|o| Ok(batch.slice(o, batch_rows.min(batch.num_rows() - o))))
                    .collect()
            }
            Err(e) => vec![Err(e.into())],
        };
        slices
    });
    Ok((schema, Box::new(batches)))
}

fn filter_partitions(
    rows: &RecordBatch,
    column: &str,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<RecordBatch> {
    let Some(ds) = rows.column_by_name(column) else {
        return Ok(rows.clone());
    };
    let ds = cast(ds, &ArrowType::Utf8).map_err(|e| Error::Request(e.to_string()))?;
    let ds = ds.as_string::<i32>();
    let keep: BooleanArray = (0..ds.len())
        .map(|r| {
            Some(
                ds.is_valid(r)
                    && start.is_none_or(|s| ds.value(r) >= s)
                    && end.is_none_or(|e| ds.value(r) <= e),
            )
        })
        .collect();
    filter_record_batch(rows, &keep).map_err(|e| Error::Request(e.to_string()))
}
