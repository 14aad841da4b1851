//! Derivations over base values (R-NAME-9, R-DER-4, E-27): `*` expands, renames replace their
//! source, computed columns evaluate, and an all-rename projection evaluates nothing.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use tilefold_query::config::Derivation;
use tilefold_query::derivation::Derivations;

fn base() -> (Vec<String>, RecordBatch) {
    let names = vec!["x".to_owned(), "y".to_owned()];
    let schema = Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(vec![Some(3.0), None, Some(1.0)])),
        Arc::new(Float64Array::from(vec![Some(6.0), Some(2.0), Some(0.0)])),
    ];
    (
        names,
        RecordBatch::try_new(Arc::new(schema), columns).unwrap(),
    )
}

fn names(d: &Derivations) -> Vec<String> {
    d.output_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn e_27_star_with_a_rename_outputs_the_new_name_only() {
    let (base, batch) = base();
    let d = Derivations::compile(
        "t.j",
        "derivations",
        &[Derivation::star(), Derivation::new("x2", "x")],
        &base,
        &batch.schema(),
    )
    .unwrap();
    assert_eq!(names(&d), ["y", "x2"]);
    assert!(
        d.is_rename_only(),
        "renames and * evaluate nothing (R-DER-4)"
    );
    let out = d.apply(&batch).unwrap();
    assert_eq!(out.column(1).as_primitive::<Float64Type>().value(0), 3.0);
}

#[test]
fn e_27_star_with_a_computed_column_keeps_the_source() {
    let (base, batch) = base();
    let d = Derivations::compile(
        "t.j",
        "derivations",
        &[Derivation::star(), Derivation::new("ratio", "x / y")],
        &base,
        &batch.schema(),
    )
    .unwrap();
    assert_eq!(names(&d), ["x", "y", "ratio"]);
    assert!(!d.is_rename_only());
    let out = d.apply(&batch).unwrap();
    let ratio = out.column(2).as_primitive::<Float64Type>();
    // 3/6 = 0.5; null/2 = null; 1/0 = null (Spark: division by zero is null).
    assert_eq!(ratio.value(0), 0.5);
    assert!(ratio.is_null(1) && ratio.is_null(2));
}

#[test]
fn without_star_only_derivations_appear_and_one_row_equals_the_batch() {
    let (base, batch) = base();
    let d = Derivations::compile(
        "t.j",
        "derivations",
        &[Derivation::new("s", "x + y")],
        &base,
        &batch.schema(),
    )
    .unwrap();
    assert_eq!(names(&d), ["s"]);
    let all = d.apply(&batch).unwrap();
    for row in 0..batch.num_rows() {
        let one = d.apply(&batch.slice(row, 1)).unwrap();
        assert_eq!(one.column(0).as_ref(), all.column(0).slice(row, 1).as_ref());
    }
}

#[test]
fn a_bad_derivation_is_a_load_time_error() {
    let (base, batch) = base();
    let err = Derivations::compile(
        "t.j",
        "derivations",
        &[Derivation::new("z", "x + nope")],
        &base,
        &batch.schema(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "config t.j, derivations[0]: unknown column nope"
    );
}
