//! Splitting a table's rows by their partition column (R-TIME-4): one batch per day.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::{cast, interleave_record_batch};
use arrow::datatypes::{DataType as ArrowType, SchemaRef};

use crate::IngestError;

/// A table's rows grouped by partition, and the rows that have no usable partition value.
#[derive(Debug, Default)]
pub struct Partitions {
    /// Partition name (`yyyy-MM-dd`) → its rows, in input order.
    pub batches: BTreeMap<String, RecordBatch>,
    /// Rows whose partition value is null or not a `yyyy-MM-dd` date: rejected and counted.
    pub rejected: usize,
}

/// Groups `batches` by `column`, which must be a STRING (or DATE) column.
pub fn split_partitions(
    table: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    column: &str,
) -> Result<Partitions, IngestError> {
    let index = schema
        .index_of(column)
        .map_err(|_| IngestError::Partition {
            table: table.to_owned(),
            reason: format!("no partition column {column} (columns: {})", names(schema)),
        })?;
    match schema.field(index).data_type() {
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View | ArrowType::Date32 => {}
        other => {
            return Err(IngestError::Partition {
                table: table.to_owned(),
                reason: format!("partition column {column} must be STRING or DATE, found {other}"),
            })
        }
    }
    let error = |e: arrow::error::ArrowError| IngestError::Partition {
        table: table.to_owned(),
        reason: e.to_string(),
    };
    // Each partition's rows are gathered straight from the input batches (no concatenated
    // copy of the whole table: a bulk load's peak memory is a few copies of its input).
    // Partition name → index into `lists`, which holds its rows as (batch, row).
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut lists: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut out = Partitions::default();
    for (b, batch) in batches.iter().enumerate() {
        let values = cast(batch.column(index), &ArrowType::Utf8).map_err(error)?;
        let values = values.as_string::<i32>();
        // This batch's values → partition index (None: rejected), each looked up once.
        let mut seen: HashMap<&str, Option<usize>> = HashMap::new();
        for r in 0..values.len() {
            if values.is_null(r) {
                out.rejected += 1;
                continue;
            }
            let value = values.value(r);
            let list = *seen.entry(value).or_insert_with(|| {
                is_date(value).then(|| {
                    *names.entry(value.to_owned()).or_insert_with(|| {
                        lists.push(Vec::new());
                        lists.len() - 1
                    })
                })
            });
            match list {
                Some(list) => lists[list].push((b, r)),
                None => out.rejected += 1,
            }
        }
    }
    let rows: Vec<(String, Vec<(usize, usize)>)> = names
        .into_iter()
        .map(|(name, list)| (name, std::mem::take(&mut lists[list])))
        .collect();
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let gathered = crate::par_map(&rows, |(_, indices)| {
        interleave_record_batch(&refs, indices)
    });
    for ((name, _), batch) in rows.into_iter().zip(gathered) {
        out.batches.insert(name, batch.map_err(error)?);
    }
    Ok(out)
}

fn is_date(s: &str) -> bool {
    tilefold_query::window::parse_day(s).is_some()
}

fn names(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Date32Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(schema: &SchemaRef, ds: Vec<Option<&str>>, first_id: i64) -> RecordBatch {
        let ids: Vec<i64> = (first_id..first_id + ds.len() as i64).collect();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(ds)),
            ],
        )
        .unwrap()
    }

    /// Rows of several batches, partitions interleaved within and across batches, with null
    /// and malformed values: each partition holds exactly its rows in input order, the others
    /// are counted (compared with a row-by-row filter).
    #[test]
    fn rows_go_to_their_partition_in_input_order() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", ArrowType::Int64, false),
            Field::new("ds", ArrowType::Utf8, true),
        ]));
        let inputs = vec![
            vec![
                Some("2026-10-02"),
                Some("2026-10-01"),
                None,
                Some("2026-10-02"),
            ],
            vec![],
            vec![Some("2026-10-01"), Some("not a day"), Some("2026-10-03")],
            vec![Some("2026-10-03"), Some("2026-10-03"), Some("2026-10-02")],
        ];
        let mut batches = Vec::new();
        let mut expected: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut rejected = 0;
        let mut id = 0;
        for ds in inputs {
            for value in &ds {
                match value.filter(|v| is_date(v)) {
                    Some(v) => expected.entry(v.to_owned()).or_default().push(id),
                    None => rejected += 1,
                }
                id += 1;
            }
            let n = ds.len() as i64;
            batches.push(batch(&schema, ds, id - n));
        }
        let out = split_partitions("t", &schema, &batches, "ds").unwrap();
        assert_eq!(out.rejected, rejected);
        let got: BTreeMap<String, Vec<i64>> = out
            .batches
            .iter()
            .map(|(name, b)| {
                let ids = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
                (name.clone(), ids.values().to_vec())
            })
            .collect();
        assert_eq!(got, expected);
        assert!(out.batches.values().all(|b| b.schema() == schema));
    }

    #[test]
    fn date_partition_columns_are_named_by_day() {
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("ds", ArrowType::Date32, true)]));
        let days = Date32Array::from(vec![Some(20_393), None, Some(20_393), Some(20_394)]);
        let batches = vec![RecordBatch::try_new(schema.clone(), vec![Arc::new(days)]).unwrap()];
        let out = split_partitions("t", &schema, &batches, "ds").unwrap();
        assert_eq!(out.rejected, 1);
        let sizes: Vec<(&str, usize)> = out
            .batches
            .iter()
            .map(|(k, b)| (k.as_str(), b.num_rows()))
            .collect();
        assert_eq!(sizes, [("2025-11-01", 2), ("2025-11-02", 1)]);
    }
}
