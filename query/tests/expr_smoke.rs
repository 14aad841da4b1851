//! First checks of the expression core on the sample configs' own expressions.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use tilefold_query::expr::Expression;

fn batch() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("purchase_price", DataType::Int64, true),
        Field::new("merchant_fee_percent", DataType::Float64, true),
        Field::new("merchant", DataType::Utf8, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![Some(200), None, Some(50), Some(10)])),
        Arc::new(Float64Array::from(vec![
            Some(5.0),
            Some(1.0),
            None,
            Some(0.0),
        ])),
        Arc::new(StringArray::from(vec![Some("a"), None, None, Some("b")])),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

#[test]
fn purchases_select_and_where() {
    let b = batch();
    let price = Expression::compile(
        "purchase_price * (1 - merchant_fee_percent/100)",
        &b.schema(),
    )
    .unwrap();
    assert_eq!(price.data_type(), DataType::Float64);
    let out = price.evaluate(&b).unwrap();
    let out = out.as_primitive::<Float64Type>();
    // 200 * (1 - 0.05) = 190; nulls propagate.
    assert_eq!(out.value(0), 190.0);
    assert!(out.is_null(1) && out.is_null(2));
    assert_eq!(out.value(3), 10.0);

    let filter = Expression::compile(
        "purchase_price IS NOT NULL OR merchant IS NOT NULL",
        &b.schema(),
    )
    .unwrap();
    let keep = filter.evaluate(&b).unwrap();
    let keep = keep.as_boolean();
    assert_eq!(
        (0..4).map(|i| keep.value(i)).collect::<Vec<_>>(),
        [true, false, true, true]
    );
}

#[test]
fn unknown_column_suggests_the_closest() {
    let b = batch();
    let err = Expression::compile("purchase_prise * 2", &b.schema()).unwrap_err();
    assert_eq!(
        err.reason,
        "unknown column purchase_prise (did you mean purchase_price?)"
    );
    let err = Expression::compile("CURRENT_DATE()", &b.schema()).unwrap_err();
    assert!(err.reason.contains("not deterministic"), "{err}");
}

#[test]
fn division_by_zero_is_null_and_integer_overflow_wraps() {
    let b = batch();
    let div = Expression::compile("purchase_price / 0", &b.schema())
        .unwrap()
        .evaluate(&b)
        .unwrap();
    assert_eq!(div.null_count(), 4);
    let rem = Expression::compile("purchase_price % 0", &b.schema())
        .unwrap()
        .evaluate(&b)
        .unwrap();
    assert_eq!(rem.null_count(), 4);
    let wrap = Expression::compile("purchase_price + 9223372036854775807", &b.schema()).unwrap();
    let wrap = wrap.evaluate(&b).unwrap();
    assert_eq!(
        wrap.as_primitive::<arrow::datatypes::Int64Type>().value(3),
        i64::MIN + 9
    );
}
