//! Backfill (SEMANTICS.md §6): the join's left rows through its left query, every part evaluated
//! at each row's time with the fetch evaluator, derivations applied; streamed batch by batch in
//! left-input order.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::{cast, concat_batches, filter_record_batch};
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
    /// Left rows per batch, evaluated together and written as one output batch: memory is
    /// bounded by this, not by the left input's size. Rows of one key in one batch share their
    /// tile reads, so larger batches run faster, up to a point.
    pub batch_rows: usize,
    /// Only left rows whose partition lies in this range (both ends included, R-TIME-6).
    pub start_ds: Option<String>,
    pub end_ds: Option<String>,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            batch_rows: 65_536,
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
            Left::Table => left_table(self.path(), &state, &join, options)?,
        };
        let plan = plan(&state, &join, &schema, options)?;
        let input = Box::new(Rebatch::new(input, batch_rows));
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
        // Rows are independent: each part's rows are split over the cores by key.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(n.div_ceil(256))
            .max(1);
        let mut per_part: Vec<Vec<Vec<Value>>> = Vec::with_capacity(plan.parts.len());
        for part in &plan.parts {
            per_part.push(match &part.bound {
                // R-JOIN-5: a GroupBy without rows gives nulls.
                None => vec![vec![Value::Null; n]; part.fields.len()],
                Some(bound) => part_columns(part, bound, &self.state, &rows, &times, threads)
                    .map_err(|e| Error::Request(format!("join part {}: {e}", part.prefix)))?,
            });
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

/// A left row to evaluate for one part: its encoded key, query time and place in the batch.
struct KeyedRow {
    key: Vec<u8>,
    /// The key values cast to the GroupBy's key types (for its derivations).
    cast: Vec<Value>,
    at: QueryTime,
    /// The instant of `at`, for ordering and for `ts`/`ds` in derivations.
    t: i64,
    offset: usize,
}

/// Runs of rows per backfill thread and part in a batch (see [`part_columns`]).
const RUNS_PER_THREAD: usize = 16;

/// A row that failed: its place in the batch and the error.
type Failed = Option<(usize, String)>;

/// What a thread evaluated: values by place in the batch, and its first failing row.
type Evaluated = (Vec<(usize, Vec<Value>)>, Failed);

/// One part's values for the rows of a batch, per column one value per row in row order.
///
/// Rows are evaluated in (key, query time) order, in runs cut at key boundaries that
/// `threads` threads take in turn, so that the rows of one key run one after the other on one
/// thread: they share the tiles of the run's memo and the pages of the database and segments.
/// On errors the result is the one evaluating in row order gives: the error of the first row
/// that fails.
///
/// Serving tiles read for an earlier row is sound because every evaluation of a backfill reads
/// through one read transaction: the [`State`] taken once in [`Store::backfill`] and kept in
/// [`Backfill`] for the whole run (`state.read`, with the heads published with it). Writers
/// publish new states, never change this one, so the tiles cannot change under a memo, which
/// moreover lives for one run only.
fn part_columns(
    part: &Part,
    bound: &BoundGroupBy,
    state: &State,
    rows: &RecordBatch,
    times: &[(QueryTime, i64)],
    threads: usize,
) -> std::result::Result<Vec<Vec<Value>>, String> {
    let n = rows.num_rows();
    let (mut keyed, mut failed) = keyed_rows(part, bound, rows, times);
    keyed.sort_unstable_by(|a, b| (&a.key, a.t, a.offset).cmp(&(&b.key, b.t, b.offset)));
    let known = failed.as_ref().map(|(offset, _)| *offset);
    // Rows of hot keys cost more: many small runs, taken by the threads as they finish the
    // previous ones, keep the threads equally busy.
    let chunks = Mutex::new(split_by_key(&mut keyed, threads * RUNS_PER_THREAD).into_iter());
    let results: Vec<Evaluated> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut evaluated = Vec::new();
                    let mut failed: Failed = None;
                    loop {
                        let next = chunks.lock().ok().and_then(|mut c| c.next());
                        let Some(chunk) = next else { break };
                        let limit = failed.as_ref().map(|(f, _)| *f).or(known);
                        let (values, chunk_failed) = evaluate_rows(bound, state, chunk, limit);
                        evaluated.extend(values);
                        keep_first(&mut failed, chunk_failed);
                    }
                    (evaluated, failed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (Vec::new(), Some((0, "backfill worker panicked".to_owned())))
                })
            })
            .collect()
    });
    let mut values = vec![vec![Value::Null; n]; part.fields.len()];
    for (evaluated, thread_failed) in results {
        keep_first(&mut failed, thread_failed);
        if failed.is_some() {
            continue;
        }
        for (offset, row_values) in evaluated {
            for (column, value) in values.iter_mut().zip(row_values) {
                if let Some(slot) = column.get_mut(offset) {
                    *slot = value;
                }
            }
        }
    }
    match failed {
        Some((_, e)) => Err(e),
        None => Ok(values),
    }
}

/// Keeps in `failed` whichever of it and `other` failed at the earlier row.
fn keep_first(failed: &mut Failed, other: Failed) {
    if let Some((offset, e)) = other {
        if failed.as_ref().is_none_or(|(f, _)| offset < *f) {
            *failed = Some((offset, e));
        }
    }
}

/// `rows`, sorted by key, cut into at most `parts` runs of about equal length that no key
/// spans.
fn split_by_key(rows: &mut [KeyedRow], parts: usize) -> Vec<&mut [KeyedRow]> {
    let target = rows.len().div_ceil(parts.max(1)).max(1);
    let mut chunks = Vec::with_capacity(parts);
    let mut rest = rows;
    while !rest.is_empty() {
        let mut cut = target.min(rest.len());
        while cut < rest.len() && rest[cut].key == rest[cut - 1].key {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at_mut(cut);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// Evaluates `rows` (sorted by key, then time) through one memo: the values of each row with
/// its offset, and the first failing row by offset. Rows after `known` (an offset that fails
/// already) or after a failed row are skipped: their error would not be the one reported.
fn evaluate_rows(
    bound: &BoundGroupBy,
    state: &State,
    rows: &mut [KeyedRow],
    known: Option<usize>,
) -> Evaluated {
    let memo = RefCell::new(TileMemo::default());
    let mut evaluated = Vec::with_capacity(rows.len());
    let mut failed: Failed = None;
    for group in rows.chunk_by_mut(|a, b| a.key == b.key) {
        let until = group.iter().map(|row| tiles_end(row.at)).max();
        let last = group.len().saturating_sub(1);
        for (i, row) in group.iter_mut().enumerate() {
            let limit = failed.as_ref().map(|(f, _)| *f).or(known);
            if limit.is_some_and(|f| f < row.offset) {
                continue;
            }
            memo.borrow_mut().set_widen_to(until.filter(|_| i < last));
            let cast = std::mem::take(&mut row.cast);
            match key_row(bound, state, Some(&memo), cast, &row.key, row.at, row.t) {
                Ok(row_values) => evaluated.push((row.offset, row_values)),
                Err(e) => failed = Some((row.offset, e)),
            }
        }
    }
    (evaluated, failed)
}

/// The rows with a non-null key (R-JOIN-4), up to the first whose key does not cast, returned
/// with its offset and error.
fn keyed_rows(
    part: &Part,
    bound: &BoundGroupBy,
    rows: &RecordBatch,
    times: &[(QueryTime, i64)],
) -> (Vec<KeyedRow>, Failed) {
    let mut keyed = Vec::with_capacity(rows.num_rows());
    for (r, &(at, t)) in times.iter().enumerate().take(rows.num_rows()) {
        let key_values: Vec<Value> = part
            .keys
            .iter()
            .map(|&k| value_at(rows.column(k).as_ref(), r).unwrap_or(Value::Null))
            .collect();
        match part_key(bound, &key_values) {
            Ok(Some(key)) => keyed.push(KeyedRow {
                key: key.encoded,
                cast: key.cast,
                at,
                t,
                offset: r,
            }),
            Ok(None) => {}
            Err(e) => return (keyed, Some((r, e))),
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

/// Left batches regrouped into batches of `rows` rows (the last one may be shorter): the rows
/// of a key evaluated together, and memory, depend on the setting, not on how the input was
/// cut (a loaded table comes one partition at a time). A batch whose schema differs from the
/// one before starts a new batch; an error comes after the rows before it.
struct Rebatch {
    input: Batches,
    rows: usize,
    pending: VecDeque<RecordBatch>,
    pending_rows: usize,
    /// What the input gave that comes after `pending`.
    next: Option<Result<RecordBatch>>,
}

impl Rebatch {
    fn new(input: Batches, rows: usize) -> Rebatch {
        Rebatch {
            input,
            rows,
            pending: VecDeque::new(),
            pending_rows: 0,
            next: None,
        }
    }

    /// The first `rows` pending rows (or all of them) as one batch.
    fn take(&mut self, rows: usize) -> Result<RecordBatch> {
        let rows = rows.min(self.pending_rows);
        let mut taken = Vec::new();
        let mut left = rows;
        while left > 0 {
            let Some(batch) = self.pending.pop_front() else {
                break;
            };
            if batch.num_rows() <= left {
                left -= batch.num_rows();
                taken.push(batch);
            } else {
                taken.push(batch.slice(0, left));
                self.pending
                    .push_front(batch.slice(left, batch.num_rows() - left));
                left = 0;
            }
        }
        self.pending_rows -= rows;
        match taken.as_slice() {
            [one] => Ok(one.clone()),
            _ => {
                let schema = taken
                    .first()
                    .map_or_else(|| Arc::new(Schema::empty()), RecordBatch::schema);
                concat_batches(&schema, &taken).map_err(|e| Error::Request(e.to_string()))
            }
        }
    }
}

impl Iterator for Rebatch {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.pending_rows >= self.rows {
                return Some(self.take(self.rows));
            }
            let next = self.next.take().or_else(|| self.input.next());
            match next {
                Some(Ok(batch)) => {
                    let same = self
                        .pending
                        .front()
                        .is_none_or(|p| p.schema() == batch.schema());
                    if !same {
                        self.next = Some(Ok(batch));
                        return Some(self.take(self.pending_rows));
                    }
                    if batch.num_rows() > 0 {
                        self.pending_rows += batch.num_rows();
                        self.pending.push_back(batch);
                    }
                }
                Some(Err(e)) if self.pending_rows > 0 => {
                    self.next = Some(Err(e));
                    return Some(self.take(self.pending_rows));
                }
                Some(Err(e)) => return Some(Err(e)),
                None if self.pending_rows > 0 => return Some(self.take(self.pending_rows)),
                None => return None,
            }
        }
    }
}

/// The loaded left table, one batch per partition (zero-copy over the segment; [`Rebatch`]
/// cuts them to the batch size).
fn left_table(
    dir: &Path,
    state: &State,
    join: &Join,
    options: &BackfillOptions,
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
    let batches = files.into_iter().map(|file| {
        Segment::open(&file)
            .map(|segment| segment.batch().clone())
            .map_err(Error::from)
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn batch(column: &str, values: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            column,
            ArrowType::Int64,
            true,
        )]));
        let values: ArrayRef = Arc::new(Int64Array::from_iter_values(values));
        RecordBatch::try_new(schema, vec![values]).expect("batch")
    }

    fn rebatch(input: Vec<Result<RecordBatch>>, rows: usize) -> Vec<Result<RecordBatch>> {
        Rebatch::new(Box::new(input.into_iter()), rows).collect()
    }

    fn values(batch: &RecordBatch) -> Vec<i64> {
        batch
            .column(0)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn rebatch_cuts_the_rows_into_batches_of_the_setting_in_order() {
        let input = [0..3, 3..3, 3..8, 8..9, 9..19];
        for rows in [1, 2, 4, 5, 19, 100] {
            let out = rebatch(
                input.iter().map(|r| Ok(batch("a", r.clone()))).collect(),
                rows,
            );
            let out: Vec<RecordBatch> = out.into_iter().map(|b| b.expect("rows")).collect();
            let all: Vec<i64> = out.iter().flat_map(values).collect();
            assert_eq!(all, (0..19).collect::<Vec<_>>(), "rows {rows}");
            let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
            let mut expected = vec![rows; 19 / rows];
            if 19 % rows > 0 {
                expected.push(19 % rows);
            }
            assert_eq!(sizes, expected, "rows {rows}");
        }
        assert!(rebatch(Vec::new(), 4).is_empty());
        assert!(rebatch(vec![Ok(batch("a", 0..0))], 4).is_empty());
    }

    #[test]
    fn rebatch_starts_a_batch_at_a_new_schema_and_keeps_errors_in_place() {
        let input = vec![
            Ok(batch("a", 0..3)),
            Ok(batch("b", 3..5)),
            Err(Error::Request("bad file".into())),
            Ok(batch("b", 5..6)),
        ];
        let out = rebatch(input, 10);
        assert_eq!(out.len(), 4, "{out:?}");
        let ok = |i: usize| {
            out[i]
                .as_ref()
                .map(|b| (b.schema().field(0).name().clone(), values(b)))
        };
        assert_eq!(ok(0).expect("a"), ("a".to_owned(), vec![0, 1, 2]));
        assert_eq!(ok(1).expect("b"), ("b".to_owned(), vec![3, 4]));
        assert!(matches!(&out[2], Err(Error::Request(m)) if m == "bad file"));
        assert_eq!(ok(3).expect("b"), ("b".to_owned(), vec![5]));
    }
}
