//! The row aggregator over Arrow batches: the column-wise batch path equals the row-by-row path,
//! output columns follow R-NAME-1/R-NAME-2, and IR rows round-trip through their encoding.

mod common;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type, Schema};
use common::close;
use proptest::prelude::*;
use tilefold_query::aggregate::{Ir, RowAggregator};
use tilefold_query::config::GroupBy;
use tilefold_query::value::value_at;
use tilefold_query::Value;

/// A GroupBy over every kind of input shape: plain, bucketed, list-flattened, whole values.
const GROUP_BY: &str = r#"{
  "metaData": {"name": "test.mixed.v1", "team": "test"},
  "sources": [{"events": {"table": "data.events", "topic": "events",
    "query": {"selects": {"user": "user", "price": "price", "merchant": "merchant", "tags": "tags", "qty": "qty"},
              "timeColumn": "ts"}}}],
  "keyColumns": ["user"],
  "aggregations": [
    {"inputColumn": "price", "operation": 7, "windows": [{"length": 3, "timeUnit": 1}, {"length": 12, "timeUnit": 0}]},
    {"inputColumn": "price", "operation": 8, "windows": [{"length": 3, "timeUnit": 1}], "buckets": ["merchant"]},
    {"inputColumn": "qty", "operation": 6},
    {"inputColumn": "tags", "operation": 4, "windows": [{"length": 3, "timeUnit": 1}]},
    {"inputColumn": "merchant", "operation": 13, "argMap": {"k": "2"}},
    {"inputColumn": "qty", "operation": 12, "argMap": {"percentiles": "[0.5, 0.9]"}}
  ]
}"#;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("user", ArrowType::Utf8, true),
        Field::new("price", ArrowType::Float64, true),
        Field::new("merchant", ArrowType::Utf8, true),
        Field::new(
            "tags",
            ArrowType::List(Arc::new(Field::new("item", ArrowType::Int64, true))),
            true,
        ),
        Field::new("qty", ArrowType::Int64, true),
    ])
}

fn aggregator() -> RowAggregator {
    let group_by = GroupBy::from_json_str(GROUP_BY).expect("config loads");
    RowAggregator::new(&group_by, &schema()).expect("aggregator")
}

#[test]
fn output_columns_follow_r_name_1_and_2() {
    let agg = aggregator();
    let names: Vec<&str> = agg.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "price_sum_3d",
            "price_sum_12h",
            "price_average_3d_by_merchant",
            "qty_count",
            "tags_unique_count_3d",
            "merchant_last2",
            "qty_approx_percentile",
        ]
    );
    assert_eq!(agg.windows().len(), 3, "3d, 12h, unbounded");
    let fields = agg.output_fields();
    assert_eq!(
        fields[2].data_type(),
        &tilefold_query::DataType::Map(
            Box::new(tilefold_query::DataType::String),
            Box::new(tilefold_query::DataType::Double),
        )
        .to_arrow()
    );
}

type Row = (
    Option<f64>,
    Option<String>,
    Option<Vec<Option<i64>>>,
    Option<i64>,
    i64,
    usize,
    bool,
);

fn batch(rows: &[Row]) -> (RecordBatch, Vec<i64>, Vec<usize>, BooleanArray) {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![Some("u"); rows.len()])),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            rows.iter().map(|r| r.2.clone()),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema()), columns).unwrap();
    let ts = rows.iter().map(|r| r.4).collect();
    let slots = rows.iter().map(|r| r.5).collect();
    let before = BooleanArray::from(rows.iter().map(|r| r.6).collect::<Vec<_>>());
    (batch, ts, slots, before)
}

fn row_strategy() -> impl Strategy<Value = Row> {
    (
        proptest::option::of((-100i32..100).prop_map(|x| f64::from(x) / 2.0)),
        proptest::option::of("[ab]"),
        proptest::option::of(proptest::collection::vec(
            proptest::option::of(0i64..5),
            0..3,
        )),
        proptest::option::of(0i64..50),
        0i64..10,
        0usize..3,
        proptest::bool::weighted(0.2),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// update_batch (typed fast path, buckets, flattening, reversals) equals update_row over
    /// values read cell by cell, slot by slot; encode → decode keeps every state.
    #[test]
    fn batch_path_equals_row_path(rows in proptest::collection::vec(row_strategy(), 0..40), mutations in any::<bool>()) {
        let agg = aggregator();
        let (batch, ts, slots, before) = batch(&rows);
        let is_before = mutations.then_some(&before);
        let mut by_batch: Vec<Vec<Ir>> = (0..3).map(|_| agg.new_irs()).collect();
        agg.update_batch(&batch, &ts, &slots, is_before, &mut by_batch).unwrap();

        let mut by_row: Vec<Vec<Ir>> = (0..3).map(|_| agg.new_irs()).collect();
        for r in 0..batch.num_rows() {
            let values: Vec<Value> = batch.columns().iter().map(|c| value_at(c.as_ref(), r).unwrap()).collect();
            let delete = mutations && rows[r].6;
            agg.update_row(&values, ts[r], delete, &mut by_row[slots[r]]).unwrap();
        }
        for (a, b) in by_batch.iter().zip(&by_row) {
            let windows: Vec<&[Ir]> = vec![a.as_slice(); agg.windows().len()];
            let fa = agg.finalize(&windows);
            let windows: Vec<&[Ir]> = vec![b.as_slice(); agg.windows().len()];
            let fb = agg.finalize(&windows);
            for (x, y) in fa.iter().zip(&fb) {
                prop_assert!(close(x, y), "{x:?} vs {y:?}");
            }
            let mut bytes = Vec::new();
            agg.encode(a, &mut bytes);
            let decoded = agg.decode(&bytes).unwrap();
            let mut again = Vec::new();
            agg.encode(&decoded, &mut again);
            prop_assert_eq!(&bytes, &again);
        }
    }
}

#[test]
fn merging_slots_equals_folding_them_together() {
    let agg = aggregator();
    let rows: Vec<Row> = (0..30)
        .map(|i| {
            (
                Some(f64::from(i)),
                Some(if i % 3 == 0 { "a" } else { "b" }.into()),
                Some(vec![Some(i64::from(i % 4))]),
                Some(i64::from(i)),
                i64::from(i),
                (i % 2) as usize,
                false,
            )
        })
        .collect();
    let (batch, ts, slots, _) = batch(&rows);
    let mut split: Vec<Vec<Ir>> = (0..2).map(|_| agg.new_irs()).collect();
    agg.update_batch(&batch, &ts, &slots, None, &mut split)
        .unwrap();
    let mut together = vec![agg.new_irs()];
    agg.update_batch(&batch, &ts, &vec![0; rows.len()], None, &mut together)
        .unwrap();
    let mut merged = split[0].clone();
    agg.merge(&mut merged, &split[1]).unwrap();
    let windows = vec![merged.as_slice(); agg.windows().len()];
    let got = agg.finalize(&windows);
    let windows = vec![together[0].as_slice(); agg.windows().len()];
    let want = agg.finalize(&windows);
    assert!(
        got.iter().zip(&want).all(|(a, b)| close(a, b)),
        "{got:?}\n{want:?}"
    );
    assert_eq!(want[0], Value::Double(435.0), "sum of 0..30");
    assert_eq!(
        want[5],
        Value::List(vec!["b".into(), "b".into()]),
        "LAST_K(2) of merchants: ts 29, 28"
    );
}

#[test]
fn malformed_row_bytes_are_errors() {
    let agg = aggregator();
    let mut bytes = Vec::new();
    agg.encode(&agg.new_irs(), &mut bytes);
    assert!(agg.decode(&bytes).is_ok());
    assert!(agg.decode(&bytes[..bytes.len() - 1]).is_err(), "truncated");
    let mut wrong_version = bytes.clone();
    wrong_version[0] = 9;
    let err = agg.decode(&wrong_version).unwrap_err();
    assert!(
        err.to_string().contains("unknown format version 9"),
        "{err}"
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(agg.decode(&trailing).is_err(), "trailing bytes");
    // A huge length prefix is rejected before allocating.
    let mut huge = vec![1u8];
    huge.extend_from_slice(&(agg.parts().len() as u16).to_le_bytes());
    huge.extend_from_slice(&[7, 0xff, 0xff, 0xff, 0xff]);
    assert!(agg.decode(&huge).is_err());
}
