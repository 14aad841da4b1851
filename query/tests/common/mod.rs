//! Helpers shared by the aggregation tests.
#![allow(dead_code)]

use tilefold_query::aggregate::{AggregationPart, Ir, PartArgs};
use tilefold_query::config::Operation;
use tilefold_query::{DataType, Value};

/// Values equal up to R-AGG-12's tolerance for doubles: relative 1e-9, absolute 1e-12 near zero.
pub fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            if x.is_nan() || y.is_nan() {
                return x.is_nan() && y.is_nan();
            }
            if x.is_infinite() || y.is_infinite() {
                return x == y;
            }
            (x - y).abs() <= 1e-12_f64.max(1e-9 * x.abs().max(y.abs()))
        }
        (Value::List(x), Value::List(y)) | (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kp, vp), (kq, vq))| kp == kq && close(vp, vq))
        }
        _ => a == b,
    }
}

#[track_caller]
pub fn assert_close(got: &Value, want: &Value) {
    assert!(close(got, want), "got {got:?}, want {want:?}");
}

pub fn part(op: Operation, input: DataType) -> AggregationPart {
    part_with(op, input, PartArgs::default())
}

pub fn part_k(op: Operation, input: DataType, k: i64) -> AggregationPart {
    part_with(
        op,
        input,
        PartArgs {
            k: Some(k),
            ..PartArgs::default()
        },
    )
}

pub fn part_with(op: Operation, input: DataType, args: PartArgs) -> AggregationPart {
    AggregationPart::new(op, "x", &input, None, &args).expect("valid part")
}

/// Folds (ts, value) rows in one pass and finalizes.
pub fn fold(part: &AggregationPart, rows: &[(i64, Value)]) -> Value {
    part.finalize(&fold_ir(part, rows))
}

pub fn fold_ir(part: &AggregationPart, rows: &[(i64, Value)]) -> Ir {
    let mut ir = Ir::Empty;
    for (ts, v) in rows {
        part.update(&mut ir, v, None, *ts).expect("update");
    }
    ir
}

/// Rows at ts 0, 1, 2, … holding `values`.
pub fn rows(values: impl IntoIterator<Item = Value>) -> Vec<(i64, Value)> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (i as i64, v))
        .collect()
}

pub fn longs(xs: &[i64]) -> Vec<(i64, Value)> {
    rows(xs.iter().map(|x| Value::Long(*x)))
}

pub fn doubles(xs: &[f64]) -> Vec<(i64, Value)> {
    rows(xs.iter().map(|x| Value::Double(*x)))
}

pub fn strs(xs: &[&str]) -> Vec<(i64, Value)> {
    rows(xs.iter().map(|x| Value::from(*x)))
}

pub fn list(xs: &[i64]) -> Value {
    Value::List(xs.iter().map(|x| Value::Long(*x)).collect())
}

pub fn list_t(t: DataType) -> DataType {
    DataType::List(Box::new(t))
}

pub fn map_t(k: DataType, v: DataType) -> DataType {
    DataType::Map(Box::new(k), Box::new(v))
}

pub fn map_of(entries: &[(&str, Value)]) -> Value {
    Value::map(
        entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}
