//! A GroupBy source's rows as the store keeps them: the source query applied (R-SRC-1),
//! `ts` synthesized where there is no time column (R-SNAP-2), mutation columns for mutation
//! tables (R-MUT-1), the key bytes column, sorted by (key, ts).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, Int64Array, RecordBatch, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};

use tilefold_query::config::{ConfigError, GroupBy, Query, Source};
use tilefold_query::evaluate::{KEY_COLUMN, MUTATION_TIME_COLUMN, REVERSAL_COLUMN};
use tilefold_query::key::KeyCodec;
use tilefold_query::source_query::{quote, Fate, SourceQuery, TIME_COLUMN};
use tilefold_query::window::day_start;
use tilefold_query::DataType;

use crate::IngestError;

/// Which of a source's tables rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An events table (or an events topic).
    Events,
    /// An entities snapshot table.
    Snapshot,
    /// An entities mutation table.
    Mutations,
}

/// Row counts of one preparation, for the load report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub read: usize,
    pub kept: usize,
    /// Removed by `wheres`.
    pub filtered: usize,
    /// Dropped for a null time value (R-SRC-1).
    pub null_time: usize,
    /// Dropped because every key was null (R-SRC-2).
    pub null_keys: usize,
    /// Mutation rows dropped for a null `mutation_ts` (R-MUT-1).
    pub null_mutation_time: usize,
    /// Live rows rejected as older than the lateness bound allows.
    pub late: usize,
    /// Live rows before the batch end of the GroupBy's table: the loaded table covers them.
    pub superseded: usize,
}

impl std::ops::AddAssign for RowCounts {
    fn add_assign(&mut self, other: RowCounts) {
        self.read += other.read;
        self.kept += other.kept;
        self.filtered += other.filtered;
        self.null_time += other.null_time;
        self.null_keys += other.null_keys;
        self.null_mutation_time += other.null_mutation_time;
        self.late += other.late;
        self.superseded += other.superseded;
    }
}

/// One GroupBy source bound to one table's schema.
#[derive(Debug, Clone)]
pub struct SourceRows {
    group_by: String,
    role: Role,
    query: SourceQuery,
    has_time: bool,
    keys: KeyCodec,
    /// Column indexes of the keys in the query output.
    key_indexes: Vec<usize>,
    schema: SchemaRef,
}

impl SourceRows {
    /// Binds source `index` of `group_by`, reading `role`'s table of schema `input`.
    pub fn new(
        group_by: &GroupBy,
        index: usize,
        role: Role,
        input: &Schema,
    ) -> Result<SourceRows, IngestError> {
        let name = group_by.name();
        let source = &group_by.sources()[index];
        let field = format!("sources[{index}].{}.query", source.variant_name());
        let mut query = source.query().cloned().unwrap_or_else(Query::new);
        if role == Role::Mutations {
            let mut selects = query.selects.clone().unwrap_or_default();
            let time = query.mutation_time_column_or_default().to_owned();
            let reversal = query.reversal_column_or_default().to_owned();
            if query.selects.is_some() {
                selects.insert(MUTATION_TIME_COLUMN.to_owned(), quote(&time));
                selects.insert(REVERSAL_COLUMN.to_owned(), quote(&reversal));
                query.selects = Some(selects);
            }
        }
        let events = matches!(source, Source::Events(_));
        let query =
            SourceQuery::compile(name, &field, &query, group_by.key_columns(), events, input)?;
        let output = query.output_schema().clone();
        let has_time = output.index_of(TIME_COLUMN).is_ok()
            && source.query().is_some_and(|q| q.time_column.is_some());
        let mut key_columns = Vec::new();
        let mut key_indexes = Vec::new();
        for key in group_by.key_columns() {
            let i = output.index_of(key).map_err(|_| ConfigError::Invalid {
                config: name.to_owned(),
                field: field.clone(),
                reason: format!("key column {key} is not selected"),
            })?;
            let data_type =
                DataType::from_arrow(output.field(i).data_type()).unwrap_or(DataType::Binary);
            key_columns.push((key.clone(), data_type));
            key_indexes.push(i);
        }
        let keys = KeyCodec::new(key_columns).ok_or_else(|| ConfigError::Invalid {
            config: name.to_owned(),
            field: "keyColumns".into(),
            reason: "key columns must be numbers, strings, booleans or binaries".into(),
        })?;
        // Stored rows: the selected columns the GroupBy reads (without mutation columns), ts,
        // key, then mutation columns.
        let mut fields: Vec<Field> = output
            .fields()
            .iter()
            .filter(|f| {
                let name = f.name().as_str();
                ![TIME_COLUMN, MUTATION_TIME_COLUMN, REVERSAL_COLUMN].contains(&name)
                    && stored(group_by, name)
            })
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(TIME_COLUMN, ArrowType::Int64, false));
        // Key columns left out keep their types in the key column's metadata.
        let key_types: HashMap<String, String> = key_indexes
            .iter()
            .map(|&i| output.field(i))
            .filter(|f| !fields.iter().any(|kept| kept.name() == f.name()))
            .map(|f| (key_type_entry(f.name()), f.data_type().to_string()))
            .collect();
        fields.push(Field::new(KEY_COLUMN, ArrowType::Binary, false).with_metadata(key_types));
        if role == Role::Mutations {
            fields.push(Field::new(MUTATION_TIME_COLUMN, ArrowType::Int64, false));
            fields.push(Field::new(REVERSAL_COLUMN, ArrowType::Boolean, true));
        }
        Ok(SourceRows {
            group_by: name.to_owned(),
            role,
            query,
            has_time,
            keys,
            key_indexes,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// Whether the rows have a time column (else `ts` is synthesized per partition, R-SNAP-2).
    pub fn has_time(&self) -> bool {
        self.has_time
    }

    pub fn keys(&self) -> &KeyCodec {
        &self.keys
    }

    /// The schema of prepared rows.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Applies the query to partition `day` of the table and sorts the rows by (key, ts).
    pub fn prepare(
        &self,
        table: &str,
        partition: &str,
        day: i64,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, RowCounts), IngestError> {
        let (rows, counts, _) = self.run(table, partition, day, batch, false)?;
        Ok((rows, counts))
    }

    /// [`SourceRows::prepare`], also telling where each row came from: for rows of several
    /// requests applied at once, so that each request gets its own counts.
    pub fn prepare_traced(
        &self,
        table: &str,
        partition: &str,
        day: i64,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, RowCounts, Trace), IngestError> {
        let (rows, counts, trace) = self.run(table, partition, day, batch, true)?;
        Ok((rows, counts, trace.expect("traced")))
    }

    fn run(
        &self,
        table: &str,
        partition: &str,
        day: i64,
        batch: &RecordBatch,
        trace: bool,
    ) -> Result<(RecordBatch, RowCounts, Option<Trace>), IngestError> {
        let query_error = |reason: String| IngestError::Query {
            config: self.group_by.clone(),
            table: table.to_owned(),
            partition: partition.to_owned(),
            reason,
        };
        let applied = if trace {
            self.query.apply_traced(batch)
        } else {
            self.query.apply(batch)
        }
        .map_err(|e| query_error(e.reason))?;
        // The input row of each output row, while tracing.
        let mut origin: Option<Vec<u32>> = applied.fates.as_ref().map(|fates| {
            (0..fates.len() as u32)
                .filter(|&r| fates[r as usize] == Fate::Kept)
                .collect()
        });
        let mut counts = RowCounts {
            read: batch.num_rows(),
            filtered: applied.filtered,
            null_time: applied.null_time,
            null_keys: applied.null_keys,
            ..RowCounts::default()
        };
        let rows = applied.batch;
        let n = rows.num_rows();
        let ts: ArrayRef = if self.has_time {
            rows.column_by_name(TIME_COLUMN)
                .cloned()
                .unwrap_or_else(|| Arc::new(Int64Array::from(vec![0; n])))
        } else {
            // R-SNAP-2: a partition's rows without a time column happen at its last millisecond.
            Arc::new(Int64Array::from(vec![day_start(day + 1) - 1; n]))
        };
        let key_arrays: Vec<&dyn Array> = self
            .key_indexes
            .iter()
            .map(|&i| rows.column(i).as_ref())
            .collect();
        let mut keys = BinaryBuilder::with_capacity(n, n * 12);
        let mut buf = Vec::new();
        for r in 0..n {
            self.keys.encode_row(&key_arrays, r, &mut buf);
            keys.append_value(&buf);
        }
        let keys = keys.finish();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for field in self.schema.fields() {
            let column = match field.name().as_str() {
                TIME_COLUMN => ts.clone(),
                KEY_COLUMN => Arc::new(keys.clone()) as ArrayRef,
                REVERSAL_COLUMN => {
                    let c = rows.column_by_name(REVERSAL_COLUMN).ok_or_else(|| {
                        query_error(format!("no reversal column {REVERSAL_COLUMN}"))
                    })?;
                    cast(c, &ArrowType::Boolean)
                        .map_err(|e| query_error(format!("reversal column: {e}")))?
                }
                MUTATION_TIME_COLUMN => {
                    let c = rows.column_by_name(MUTATION_TIME_COLUMN).ok_or_else(|| {
                        query_error(format!("no mutation time column {MUTATION_TIME_COLUMN}"))
                    })?;
                    cast(c, &ArrowType::Int64)
                        .map_err(|e| query_error(format!("mutation time column: {e}")))?
                }
                name => rows
                    .column_by_name(name)
                    .cloned()
                    .ok_or_else(|| query_error(format!("no column {name}")))?,
            };
            columns.push(column);
        }
        let prepared = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| query_error(e.to_string()))?;
        // R-MUT-1: mutation rows with a null mutation_ts are dropped.
        let prepared = if self.role == Role::Mutations {
            let m = prepared
                .column_by_name(MUTATION_TIME_COLUMN)
                .map(|c| c.null_count())
                .unwrap_or(0);
            counts.null_mutation_time = m;
            if m > 0 {
                let valid = arrow::compute::is_not_null(
                    prepared
                        .column_by_name(MUTATION_TIME_COLUMN)
                        .expect("present"),
                )
                .map_err(|e| query_error(e.to_string()))?;
                if let Some(origin) = &mut origin {
                    let mut i = 0;
                    origin.retain(|_| {
                        i += 1;
                        valid.value(i - 1)
                    });
                }
                arrow::compute::filter_record_batch(&prepared, &valid)
                    .map_err(|e| query_error(e.to_string()))?
            } else {
                prepared
            }
        } else {
            prepared
        };
        let sorted = match key_ts_order(&prepared) {
            None => prepared,
            Some(order) => {
                if let Some(origin) = &mut origin {
                    *origin = order.iter().map(|&r| origin[r as usize]).collect();
                }
                take_record_batch(&prepared, &UInt32Array::from(order))
                    .map_err(|e| query_error(e.to_string()))?
            }
        };
        counts.kept = sorted.num_rows();
        let trace = applied
            .fates
            .zip(origin)
            .map(|(fates, origin)| Trace { fates, origin });
        Ok((sorted, counts, trace))
    }
}

/// Whether `group_by` keeps selected column `name` in its stored rows. Without aggregations
/// every selected column is a feature. With them, only the columns they read (inputs and
/// buckets): key columns are in the encoded key already (their types in its field's metadata,
/// [`key_column_type`]), and they, the partition column and unused selects would be copied at
/// every head merge and written to every segment for nothing.
fn stored(group_by: &GroupBy, name: &str) -> bool {
    let aggregations = group_by.aggregations();
    aggregations.is_empty()
        || aggregations
            .iter()
            .any(|a| a.input_column == name || a.buckets.iter().flatten().any(|b| b == name))
}

/// The metadata entry of the key column that holds key column `name`'s Arrow type.
fn key_type_entry(name: &str) -> String {
    format!("tilefold.key_type.{name}")
}

/// The Arrow type of key column `name` in stored rows of `schema`: its column's, or, for a key
/// column the rows leave out, the one recorded with the encoded key. `None` if neither is
/// there.
pub fn key_column_type(schema: &Schema, name: &str) -> Option<ArrowType> {
    if let Ok(field) = schema.field_with_name(name) {
        return Some(field.data_type().clone());
    }
    let recorded = schema
        .field_with_name(KEY_COLUMN)
        .ok()?
        .metadata()
        .get(&key_type_entry(name))?;
    recorded.parse().ok()
}

/// Where prepared rows came from (see [`SourceRows::prepare_traced`]).
#[derive(Debug, Clone)]
pub struct Trace {
    /// What the query did with each input row, in input order.
    pub fates: Vec<Fate>,
    /// The input row of each prepared row (in the prepared, sorted order). A kept row that is
    /// not here was dropped for a null mutation time.
    pub origin: Vec<u32>,
}

/// Rows ordered by (key bytes, ts), stable.
pub fn sort_by_key_and_ts(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    match key_ts_order(batch) {
        None => Ok(batch.clone()),
        Some(order) => take_record_batch(batch, &UInt32Array::from(order)),
    }
}

/// The row order that sorts `batch` by (key bytes, ts), stably; `None` when it is sorted.
fn key_ts_order(batch: &RecordBatch) -> Option<Vec<u32>> {
    let keys = batch
        .column_by_name(KEY_COLUMN)
        .expect("prepared rows have keys")
        .as_binary::<i32>();
    let ts = batch
        .column_by_name(TIME_COLUMN)
        .expect("prepared rows have ts")
        .as_primitive::<arrow::datatypes::Int64Type>();
    let order = crate::order::key_ts_order(keys, ts.values());
    if order.windows(2).all(|w| w[0] < w[1]) {
        return None;
    }
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_by(aggregations: &str) -> GroupBy {
        GroupBy::from_json_str(&format!(
            r#"{{
              "metaData": {{"name": "test.stored.v1", "team": "test"}},
              "sources": [{{"events": {{"table": "data.events", "topic": "events",
                "query": {{"selects": {{"user": "user", "price": "price", "merchant": "merchant",
                                        "country": "country", "note": "note"}},
                          "timeColumn": "ts"}}}}}}],
              "keyColumns": ["user"]{aggregations}
            }}"#
        ))
        .expect("config loads")
    }

    fn stored_names(group_by: &GroupBy) -> Vec<String> {
        let input = Schema::new(
            [
                ("user", ArrowType::Utf8),
                ("price", ArrowType::Float64),
                ("merchant", ArrowType::Utf8),
                ("country", ArrowType::Utf8),
                ("note", ArrowType::Utf8),
                ("ts", ArrowType::Int64),
                ("ds", ArrowType::Utf8),
            ]
            .map(|(name, data_type)| Field::new(name, data_type, true))
            .to_vec(),
        );
        let rows = SourceRows::new(group_by, 0, Role::Events, &input).expect("binds");
        let batch = RecordBatch::try_new(
            Arc::new(input),
            vec![
                Arc::new(arrow::array::StringArray::from(vec!["u1"])) as ArrayRef,
                Arc::new(arrow::array::Float64Array::from(vec![2.5])),
                Arc::new(arrow::array::StringArray::from(vec!["m"])),
                Arc::new(arrow::array::StringArray::from(vec!["fr"])),
                Arc::new(arrow::array::StringArray::from(vec!["n"])),
                Arc::new(Int64Array::from(vec![1_000])),
                Arc::new(arrow::array::StringArray::from(vec!["1970-01-01"])),
            ],
        )
        .unwrap();
        let (prepared, _) = rows
            .prepare("data.events", "1970-01-01", 0, &batch)
            .unwrap();
        assert_eq!(prepared.schema(), *rows.schema());
        // The key codec finds the key's type whether or not the rows hold its column.
        assert_eq!(
            key_column_type(rows.schema(), "user"),
            Some(ArrowType::Utf8)
        );
        assert_eq!(key_column_type(rows.schema(), "nobody"), None);
        rows.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// A GroupBy with aggregations stores the columns they read (inputs, buckets); its key
    /// columns (in the encoded key), the partition column and unused selects are left out.
    /// Without aggregations every selected column is a feature and is kept.
    #[test]
    fn stored_rows_hold_what_the_group_by_reads() {
        let aggregating = group_by(
            r#", "aggregations": [
                {"inputColumn": "price", "operation": 7},
                {"inputColumn": "price", "operation": 8, "buckets": ["country"]}]"#,
        );
        let names = stored_names(&aggregating);
        assert_eq!(names, ["price", "country", TIME_COLUMN, KEY_COLUMN]);
        let features = stored_names(&group_by(""));
        for name in ["user", "price", "merchant", "country", "note"] {
            assert!(features.iter().any(|n| n == name), "{name} in {features:?}");
        }
    }
}
