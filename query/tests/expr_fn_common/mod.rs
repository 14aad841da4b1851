//! Helpers shared by the table-driven function suites (`expr_functions.rs`, `expr_fn_*.rs`).
#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int32Array, Int64Array,
    ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use tilefold_query::expr::Expression;

/// An expression, its input and the values Spark computes for it.
pub struct Case {
    pub expr: &'static str,
    pub input: RecordBatch,
    pub want: ArrayRef,
}

pub fn case(expr: &'static str, input: RecordBatch, want: ArrayRef) -> Case {
    Case { expr, input, want }
}

/// Compiles and evaluates `expr` over `input`.
pub fn eval(expr: &str, input: &RecordBatch) -> Result<ArrayRef, String> {
    let compiled = Expression::compile(expr, &input.schema()).map_err(|e| e.reason)?;
    let out = compiled.evaluate(input).map_err(|e| e.reason)?;
    if out.data_type() != &compiled.data_type() {
        return Err(format!(
            "evaluated to {}, declared {}",
            out.data_type(),
            compiled.data_type()
        ));
    }
    Ok(out)
}

/// Runs every case and reports all failures together.
#[track_caller]
pub fn run(cases: Vec<Case>) {
    let total = cases.len();
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|c| match eval(c.expr, &c.input) {
            Ok(got) if got.to_data() == c.want.to_data() => None,
            Ok(got) => Some(format!(
                "{}\n    got  {got:?}\n    want {:?}",
                c.expr, c.want
            )),
            Err(e) => Some(format!("{}\n    error {e}", c.expr)),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A batch of the given columns (all nullable).
pub fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

/// The standard four-row input.
pub fn t() -> RecordBatch {
    batch(vec![
        ("i", i32s(&[Some(1), Some(-7), None, Some(i32::MIN)])),
        ("l", i64s(&[Some(10), None, Some(-3), Some(i64::MIN)])),
        ("d", f64s(&[Some(2.5), Some(-2.5), None, Some(0.125)])),
        ("f", f32s(&[Some(1.005), None, Some(2.5), Some(-0.125)])),
        (
            "s",
            strs(&[Some("Spark SQL"), None, Some("héllo wörld"), Some("")]),
        ),
        (
            "w",
            strs(&[Some("\ta b \t"), Some("  x  "), None, Some("")]),
        ),
        ("b", bools(&[Some(true), None, Some(false), Some(true)])),
        // 2023-12-20, NULL, 1970-01-01, 1969-12-31
        ("dt", dates(&[Some(19_711), None, Some(0), Some(-1)])),
        // 2023-12-20 12:01:01, NULL, the epoch, one microsecond before it
        (
            "ts",
            tss(&[Some(1_703_073_661_000_000), None, Some(0), Some(-1)]),
        ),
        ("n", i32s(&[None, None, None, None])),
    ])
}

/// The standard input's first row, for expressions of literals.
pub fn one() -> RecordBatch {
    t().slice(0, 1)
}

/// Texts with their own patterns.
pub fn formats() -> RecordBatch {
    batch(vec![
        (
            "text",
            strs(&[
                Some("2023-12-20"),
                Some("20231220"),
                Some("2023-12-20"),
                None,
            ]),
        ),
        (
            "fmt",
            strs(&[Some("yyyy-MM-dd"), Some("yyyyMMdd"), None, Some("yyyy")]),
        ),
    ])
}

pub fn arc(a: impl Array + 'static) -> ArrayRef {
    Arc::new(a)
}

pub fn i32s(v: &[Option<i32>]) -> ArrayRef {
    arc(Int32Array::from(v.to_vec()))
}

pub fn i64s(v: &[Option<i64>]) -> ArrayRef {
    arc(Int64Array::from(v.to_vec()))
}

pub fn f32s(v: &[Option<f32>]) -> ArrayRef {
    arc(Float32Array::from(v.to_vec()))
}

pub fn f64s(v: &[Option<f64>]) -> ArrayRef {
    arc(Float64Array::from(v.to_vec()))
}

pub fn strs(v: &[Option<&str>]) -> ArrayRef {
    arc(StringArray::from(v.to_vec()))
}

pub fn bools(v: &[Option<bool>]) -> ArrayRef {
    arc(BooleanArray::from(v.to_vec()))
}

/// DATE values as days since the epoch.
pub fn dates(v: &[Option<i32>]) -> ArrayRef {
    arc(Date32Array::from(v.to_vec()))
}

/// TIMESTAMP values as microseconds since the epoch, UTC.
pub fn tss(v: &[Option<i64>]) -> ArrayRef {
    arc(TimestampMicrosecondArray::from(v.to_vec()).with_timezone("UTC"))
}

/// ARRAY<STRING> values.
pub fn lists(v: &[Option<&[&str]>]) -> ArrayRef {
    let item = Arc::new(Field::new("item", DataType::Utf8, true));
    let mut out = ListBuilder::new(StringBuilder::new()).with_field(item);
    for list in v {
        match list {
            Some(values) => {
                for s in *values {
                    out.values().append_value(s);
                }
                out.append(true);
            }
            None => out.append(false),
        }
    }
    arc(out.finish())
}

/// The Arrow type of Spark's TIMESTAMP here.
pub fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}
