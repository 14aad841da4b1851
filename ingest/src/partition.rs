//! Splitting a table's rows by their partition column (R-TIME-4): one batch per day.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, concat_batches, take_record_batch};
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
    let all = concat_batches(schema, batches).map_err(|e| IngestError::Partition {
        table: table.to_owned(),
        reason: e.to_string(),
    })?;
    let values = cast(all.column(index), &ArrowType::Utf8).map_err(|e| IngestError::Partition {
        table: table.to_owned(),
        reason: e.to_string(),
    })?;
    let values = values.as_string::<i32>();
    let mut rows: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    let mut out = Partitions::default();
    for r in 0..values.len() {
        if values.is_null(r) || !is_date(values.value(r)) {
            out.rejected += 1;
            continue;
        }
        rows.entry(values.value(r)).or_default().push(r as u32);
    }
    for (name, indices) in rows {
        let batch = take_record_batch(&all, &UInt32Array::from(indices)).map_err(|e| {
            IngestError::Partition {
                table: table.to_owned(),
                reason: e.to_string(),
            }
        })?;
        out.batches.insert(name.to_owned(), batch);
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
