//! R-JOIN-7: `skewKeys` removes left rows holding a listed value offline (rows with a null key
//! stay); online it has no effect.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tilefold::query::config::{Config, ConfigSet};
use tilefold::{load_path, BackfillOptions, Left, Store, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn users(batches: &[RecordBatch]) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b
                .column_by_name("user_id")
                .unwrap()
                .as_string::<i32>()
                .clone();
            (0..c.len()).map(move |r| c.is_valid(r).then(|| c.value(r).to_owned()))
        })
        .collect()
}

#[test]
fn r_join_7_skew_keys_drop_left_rows_offline_only() {
    let dir = std::env::temp_dir().join(format!("tilefold-skew-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let production = format!("{ROOT}/query/tests/fixtures/production");
    let text = std::fs::read_to_string(format!("{production}/joins/shop/checkout.v1")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["metaData"]["name"] = "shop.checkout_skew.v1".into();
    json["skewKeys"] = serde_json::json!({"user_id": ["'u7'", "'u9'"]});
    let mut configs: ConfigSet = load_path(&production).unwrap();
    configs.insert(Config::from_json_str(&json.to_string(), None).unwrap());

    let store = Store::open(&dir).unwrap();
    store.apply(&configs).unwrap();
    for table in ["purchases", "returns", "users"] {
        let file = format!("{ROOT}/query/tests/fixtures/data/{table}.parquet");
        store
            .load_parquet(&format!("data.{table}"), &[file])
            .unwrap();
    }
    let left = format!("{ROOT}/query/tests/fixtures/data/checkouts.parquet");
    let input: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&left).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let skewed = |u: &Option<String>| matches!(u.as_deref(), Some("u7" | "u9"));
    let expected: Vec<Option<String>> = users(&input).into_iter().filter(|u| !skewed(u)).collect();
    assert!(
        users(&input).iter().any(skewed),
        "the sample has rows to drop"
    );

    let out: Vec<RecordBatch> = store
        .backfill(
            "shop/checkout_skew.v1",
            Left::Parquet(left.into()),
            &BackfillOptions::default(),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(users(&out), expected);

    let keys = BTreeMap::from([("user_id".to_owned(), Value::String("u7".into()))]);
    let online = store
        .fetch_join("shop/checkout_skew.v1", &keys, Some(1_793_448_000_000))
        .unwrap();
    let plain = store
        .fetch_join("shop/checkout.v1", &keys, Some(1_793_448_000_000))
        .unwrap();
    assert!(!online.values.is_empty());
    assert_eq!(online, plain);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
