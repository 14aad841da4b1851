//! Shared helpers of the expression tests: building batches from compact column descriptions
//! and rendering results as Spark prints them (independently of the implementation's casts).

#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array,
    Int64Builder, ListBuilder, MapBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMillisecondArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Field, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
};
use tilefold_query::value::{jvm_double_string, jvm_float_string};

/// The entries of one map row.
pub type MapRow = Vec<(&'static str, Option<i64>)>;

/// One input column, compactly.
pub enum Col {
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Str(Vec<Option<&'static str>>),
    Bool(Vec<Option<bool>>),
    /// Days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// Milliseconds since the epoch, `Timestamp(Millisecond, "UTC")` as Chronon's TIMESTAMP.
    TsMillis(Vec<Option<i64>>),
    ListI64(Vec<Option<Vec<Option<i64>>>>),
    MapStrI64(Vec<Option<MapRow>>),
}

impl Col {
    fn array(&self) -> ArrayRef {
        match self {
            Col::I32(v) => Arc::new(Int32Array::from(v.clone())),
            Col::I64(v) => Arc::new(Int64Array::from(v.clone())),
            Col::F64(v) => Arc::new(Float64Array::from(v.clone())),
            Col::Str(v) => Arc::new(StringArray::from(v.clone())),
            Col::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
            Col::Date(v) => Arc::new(Date32Array::from(v.clone())),
            Col::TsMillis(v) => {
                Arc::new(TimestampMillisecondArray::from(v.clone()).with_timezone("UTC"))
            }
            Col::ListI64(rows) => {
                let mut builder = ListBuilder::new(Int64Builder::new());
                for row in rows {
                    match row {
                        Some(items) => {
                            for item in items {
                                builder.values().append_option(*item);
                            }
                            builder.append(true);
                        }
                        None => builder.append(false),
                    }
                }
                Arc::new(builder.finish())
            }
            Col::MapStrI64(rows) => {
                let mut builder = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
                for row in rows {
                    match row {
                        Some(entries) => {
                            for (k, v) in entries {
                                builder.keys().append_value(k);
                                builder.values().append_option(*v);
                            }
                            builder.append(true).expect("map row");
                        }
                        None => builder.append(false).expect("map row"),
                    }
                }
                Arc::new(builder.finish())
            }
        }
    }
}

/// A batch of named columns.
pub fn batch(columns: Vec<(&str, Col)>) -> RecordBatch {
    let arrays: Vec<ArrayRef> = columns.iter().map(|(_, c)| c.array()).collect();
    let fields: Vec<Field> = columns
        .iter()
        .zip(&arrays)
        .map(|((name, _), a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

/// Spark's SQL name of a result type.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Null => "VOID".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Utf8 => "STRING".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(..) => "TIMESTAMP".into(),
        DataType::List(f) => format!("ARRAY<{}>", type_name(f.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) => format!(
                "MAP<{},{}>",
                type_name(fields[0].data_type()),
                type_name(fields[1].data_type())
            ),
            _ => "MAP".into(),
        },
        other => format!("{other:?}"),
    }
}

/// (year, month, day) of days since 1970-01-01 (civil-from-days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date_text(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn timestamp_text(micros: i64) -> String {
    let day = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let (s, frac) = (of_day / 1_000_000, of_day % 1_000_000);
    let mut text = format!(
        "{} {:02}:{:02}:{:02}",
        date_text(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if frac != 0 {
        text.push('.');
        text.push_str(format!("{frac:06}").trim_end_matches('0'));
    }
    text
}

/// One value as Spark prints it: `NULL`, `true`, `2.5`, `1.0E10`, strings bare, `[1, NULL]`,
/// `{a -> 1}`, `2023-01-01`, `2023-01-01 00:00:00.5`.
pub fn render(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return "NULL".into();
    }
    match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float32 => jvm_float_string(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => jvm_double_string(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::Date32 => date_text(i64::from(array.as_primitive::<Date32Type>().value(row))),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            timestamp_text(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            timestamp_text(array.as_primitive::<TimestampMillisecondType>().value(row) * 1000)
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let items = list.value(row);
            let items: Vec<String> = (0..items.len()).map(|i| render(&items, i)).collect();
            format!("[{}]", items.join(", "))
        }
        DataType::Map(..) => {
            let map = array.as_map();
            let entries = map.value(row);
            let items: Vec<String> = (0..entries.len())
                .map(|i| {
                    format!(
                        "{} -> {}",
                        render(entries.column(0), i),
                        render(entries.column(1), i)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => format!("<{other:?}>"),
    }
}

/// Every row of `array`, rendered and joined with ` | `.
pub fn render_all(array: &dyn Array) -> String {
    (0..array.len())
        .map(|row| render(array, row))
        .collect::<Vec<_>>()
        .join(" | ")
}
