//! Making rows fit a GroupBy's stored rows: live rows whose columns are narrower or missing, and
//! sealed live rows that predate a table load (every segment of a GroupBy has one schema).

use arrow::array::{new_null_array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Int64Type, SchemaRef};

use tilefold_query::config::GroupBy;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{day_name, day_of};

/// `rows` with the columns of `schema`. Only lossless widening is done (integers to wider
/// integers or to doubles, floats to doubles). A missing partition column is filled with the day
/// of each row's `ts` (the partition it would be loaded into); another missing column with nulls
/// when it is nullable. Anything else is an error naming the column.
pub fn conform(
    rows: &RecordBatch,
    schema: &SchemaRef,
    partition: &str,
) -> Result<RecordBatch, String> {
    if rows.schema().fields() == schema.fields() {
        return Ok(rows.clone());
    }
    let n = rows.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let to = field.data_type();
        let Some(column) = rows.column_by_name(field.name()) else {
            if field.name() == partition && to == &ArrowType::Utf8 {
                let ts = rows
                    .column_by_name(TIME_COLUMN)
                    .and_then(|c| c.as_primitive_opt::<Int64Type>())
                    .ok_or("no ts column")?;
                let days: StringArray = ts.iter().map(|t| t.map(|t| day_name(day_of(t)))).collect();
                columns.push(std::sync::Arc::new(days));
            } else if field.is_nullable() {
                columns.push(new_null_array(to, n));
            } else {
                return Err(format!("no column {}", field.name()));
            }
            continue;
        };
        let from = column.data_type();
        if from == to {
            columns.push(column.clone());
        } else if from == &ArrowType::Null {
            columns.push(new_null_array(to, n));
        } else if widens(from, to) {
            columns.push(cast(column, to).map_err(|e| e.to_string())?);
        } else {
            return Err(format!(
                "column {} is {from} here but {to} in rows already stored",
                field.name()
            ));
        }
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

fn widens(from: &ArrowType, to: &ArrowType) -> bool {
    use ArrowType::*;
    matches!(
        (from, to),
        (Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32, Int64)
            | (Int8 | Int16 | UInt8 | UInt16, Int32)
            | (Int8 | UInt8, Int16)
            | (
                Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32 | Int64,
                Float64
            )
            | (Float32, Float64)
    )
}

/// The partition column of the GroupBy's streaming source (default `ds`).
pub fn partition_column(group_by: &GroupBy) -> String {
    super::topic::stream_source(group_by)
        .and_then(|(i, _)| group_by.sources().get(i))
        .and_then(|s| s.query())
        .map_or("ds", |q| q.partition_column_or_default())
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BinaryArray, Float64Array, Int64Array};
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use tilefold_query::evaluate::KEY_COLUMN;

    /// Rows of today's narrow layout (what the aggregations read, `ts`, `__key`) fit the wider
    /// rows of a store written before it: the left-out key column is null, the partition column
    /// the day of `ts`, and the rest is the rows' own.
    #[test]
    fn narrow_rows_fit_the_wider_rows_of_an_older_store() {
        let narrow = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("price", ArrowType::Float64, true),
                Field::new(TIME_COLUMN, ArrowType::Int64, false),
                Field::new(KEY_COLUMN, ArrowType::Binary, false),
            ])),
            vec![
                Arc::new(Float64Array::from(vec![Some(2.5), None])),
                Arc::new(Int64Array::from(vec![0, 86_400_000 + 1])),
                Arc::new(BinaryArray::from_iter_values([b"a", b"b"])),
            ],
        )
        .unwrap();
        let wide: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("user_id", ArrowType::Utf8, true),
            Field::new("price", ArrowType::Float64, true),
            Field::new("ds", ArrowType::Utf8, true),
            Field::new(TIME_COLUMN, ArrowType::Int64, false),
            Field::new(KEY_COLUMN, ArrowType::Binary, false),
        ]));
        let rows = conform(&narrow, &wide, "ds").unwrap();
        assert_eq!(rows.schema(), wide);
        assert_eq!(rows.column(0).null_count(), 2);
        let ds = rows.column(2).as_string::<i32>();
        assert_eq!((ds.value(0), ds.value(1)), ("1970-01-01", "1970-01-02"));
        for name in ["price", TIME_COLUMN, KEY_COLUMN] {
            assert_eq!(
                rows.column_by_name(name),
                narrow.column_by_name(name),
                "{name}"
            );
        }
    }
}
