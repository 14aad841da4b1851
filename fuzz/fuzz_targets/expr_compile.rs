//! Arbitrary text through `Expression::compile` against a fixed schema (R-CFG-9): never a panic,
//! and an expression that compiles evaluates without error, on a small fixed batch and on a
//! slice of it, to one value per row of the type `data_type()` announced.

#![no_main]

use std::sync::{Arc, OnceLock};

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, Int64Builder,
    ListBuilder, MapBuilder, RecordBatch, StringArray, StringBuilder, TimestampMillisecondArray,
};
use arrow::datatypes::{Field, Schema};
use libfuzzer_sys::fuzz_target;
use tilefold_query::expr::Expression;

/// Three rows, nulls in every column: `i` INT, `l` BIGINT, `d` DOUBLE, `s` STRING, `b` BOOLEAN,
/// `arr` ARRAY<BIGINT>, `m` MAP<STRING,BIGINT>, `dt` DATE, `ts` TIMESTAMP.
fn fixed_batch() -> &'static RecordBatch {
    static BATCH: OnceLock<RecordBatch> = OnceLock::new();
    BATCH.get_or_init(|| {
        let mut arr = ListBuilder::new(Int64Builder::new());
        arr.values().append_value(1);
        arr.values().append_null();
        arr.append(true);
        arr.append(false);
        arr.append(true);
        let mut m = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
        m.keys().append_value("a");
        m.values().append_value(1);
        m.append(true).expect("fixed map row");
        m.append(false).expect("fixed map row");
        m.keys().append_value("b");
        m.values().append_null();
        m.append(true).expect("fixed map row");
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(1), None, Some(i32::MAX)])),
            ),
            (
                "l",
                Arc::new(Int64Array::from(vec![Some(i64::MIN), Some(-7), None])),
            ),
            (
                "d",
                Arc::new(Float64Array::from(vec![Some(2.5), None, Some(f64::NAN)])),
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("10"), Some(" a%_\\"), None])),
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            ),
            ("arr", Arc::new(arr.finish())),
            ("m", Arc::new(m.finish())),
            (
                "dt",
                Arc::new(Date32Array::from(vec![Some(19_358), None, Some(-1)])),
            ),
            (
                "ts",
                Arc::new(
                    TimestampMillisecondArray::from(vec![None, Some(0), Some(-1)])
                        .with_timezone("UTC"),
                ),
            ),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect();
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("fixed batch")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let batch = fixed_batch();
    let Ok(expression) = Expression::compile(text, &batch.schema()) else {
        return;
    };
    for input in [batch.clone(), batch.slice(1, 2)] {
        let out = match expression.evaluate(&input) {
            Ok(out) => out,
            Err(e) => panic!("{text:?} compiled but failed to evaluate: {e}"),
        };
        assert_eq!(out.len(), input.num_rows(), "{text:?}: one value per row");
        assert_eq!(
            out.data_type(),
            &expression.data_type(),
            "{text:?}: the announced type"
        );
    }
});
