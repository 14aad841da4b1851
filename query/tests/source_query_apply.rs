//! Source queries on the samples' own configs (R-SRC-1, R-SRC-2, R-TIME-3, R-CFG-9): wheres
//! filter with three-valued logic, selects compute, the time column becomes `ts`, null times
//! and all-null keys are dropped and counted; bind errors name config, field and reason.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use tilefold_query::config::{load_path, GroupBy, Source};
use tilefold_query::source_query::SourceQuery;

fn sample(name: &str) -> GroupBy {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/production");
    load_path(dir).unwrap().group_bys.remove(name).unwrap()
}

/// The columns of `data.purchases` in the sample data.
fn purchases_schema() -> Schema {
    Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("merchant", DataType::Utf8, true),
        Field::new("purchase_price", DataType::Float64, true),
        Field::new("merchant_fee_percent", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ])
}

fn compile(
    group_by: &GroupBy,
    schema: &Schema,
) -> Result<SourceQuery, tilefold_query::config::ConfigError> {
    let source = &group_by.sources()[0];
    let query = source.query().unwrap();
    let events = matches!(source, Source::Events(_));
    SourceQuery::compile(
        group_by.name(),
        "sources[0].events.query",
        query,
        group_by.key_columns(),
        events,
        schema,
    )
}

#[test]
fn purchases_v1_query_filters_computes_and_drops() {
    let gb = sample("shop.purchases.v1");
    let schema = purchases_schema();
    let q = compile(&gb, &schema).unwrap();
    let names: Vec<&str> = q
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["user_id", "merchant", "price", "ds", "ts"]);

    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some("u1"),
            Some("u2"),
            None,
            Some("u4"),
            Some("u5"),
        ])),
        Arc::new(StringArray::from(vec![
            Some("m1"),
            None,
            Some("m3"),
            Some("m4"),
            Some("m5"),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(100.0),
            None,
            Some(10.0),
            Some(40.0),
            Some(8.0),
        ])),
        Arc::new(Float64Array::from(vec![5.0, 1.0, 0.0, 10.0, 0.0])),
        Arc::new(Int64Array::from(vec![
            Some(1000),
            Some(2000),
            Some(3000),
            None,
            Some(5000),
        ])),
        Arc::new(StringArray::from(vec!["2026-10-01"; 5])),
    ];
    let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
    let applied = q.apply(&batch).unwrap();
    // Row 2 (u2): price NULL and merchant NULL → the where is false: filtered.
    assert_eq!(applied.filtered, 1);
    // Row 4 (u4): null ts → dropped; row 3: the only key (user_id) is null → dropped.
    assert_eq!((applied.null_time, applied.null_keys), (1, 1));
    let out = applied.batch;
    assert_eq!(out.num_rows(), 2);
    let users = out.column(0).as_string::<i32>();
    assert_eq!((users.value(0), users.value(1)), ("u1", "u5"));
    // price = purchase_price * (1 - fee/100): 100 * 0.95 and 8 * 1.
    let price = out.column(2).as_primitive::<Float64Type>();
    assert_eq!((price.value(0), price.value(1)), (95.0, 8.0));
    let ts = out.column(4).as_primitive::<Int64Type>();
    assert_eq!((ts.value(0), ts.value(1)), (1000, 5000));
}

#[test]
fn a_misspelled_column_is_a_load_time_error_naming_config_and_field() {
    let gb = sample("shop.purchases.v1");
    let mut schema_fields = purchases_schema().fields().to_vec();
    schema_fields[2] = Arc::new(Field::new("purchase_prise", DataType::Float64, true));
    let err = compile(&gb, &Schema::new(schema_fields)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config shop.purchases.v1, sources[0].events.query.selects.price: unknown column purchase_price (did you mean purchase_prise?)"
    );
}

#[test]
fn the_time_column_must_be_a_long_r_time_3() {
    let gb = sample("shop.purchases.v1");
    let mut fields = purchases_schema().fields().to_vec();
    fields[4] = Arc::new(Field::new("ts", DataType::Utf8, true));
    let err = compile(&gb, &Schema::new(fields)).unwrap_err();
    assert!(
        err.to_string()
            .contains("timeColumn: the time column must give epoch milliseconds as LONG"),
        "{err}"
    );
}

#[test]
fn entity_snapshots_without_time_column_keep_selected_columns() {
    let gb = sample("shop.users.v1");
    let schema = Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("account_age_days", DataType::Int64, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("ds", DataType::Utf8, true),
    ]);
    let q = SourceQuery::compile(
        gb.name(),
        "sources[0].entities.query",
        gb.sources()[0].query().unwrap(),
        gb.key_columns(),
        false,
        &schema,
    )
    .unwrap();
    let names: Vec<&str> = q
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["user_id", "account_age_days", "country", "ds"]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["u1"])),
        Arc::new(Int64Array::from(vec![Some(3)])),
        Arc::new(StringArray::from(vec![None::<&str>])),
        Arc::new(StringArray::from(vec!["2026-10-01"])),
    ];
    let out = q
        .apply(&RecordBatch::try_new(Arc::new(schema), columns).unwrap())
        .unwrap()
        .batch;
    assert_eq!(out.num_rows(), 1);
    assert!(out.column(2).is_null(0));
}
