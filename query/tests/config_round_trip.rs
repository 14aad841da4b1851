//! Parsing then writing a config gives back the compiled JSON (R-CFG-1 … R-CFG-4): enums as
//! integers, booleans as 0/1, unset fields omitted, verbatim fields unchanged, unknown fields
//! dropped, and parse(write(config)) == config.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tilefold_query::config::{load_file, Config, ConfigKind, GroupBy, Join, StagingQuery};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for production in ["production", "semantics/production"] {
        for kind in ConfigKind::ALL {
            let kind_dir = root.join(production).join(kind.directory());
            for team in fs::read_dir(kind_dir).unwrap() {
                for file in fs::read_dir(team.unwrap().path()).unwrap() {
                    files.push(file.unwrap().path());
                }
            }
        }
    }
    files.sort();
    files
}

/// The input as written by the compiler, compared semantically: nulls mean unset (R-CFG-1), and
/// numbers compare by value (`10` and `10.0`).
fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key.clone(), normalize(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Number(number) => json!(number.as_f64()),
        other => other.clone(),
    }
}

fn reparse(config: &Config) -> Config {
    Config::from_json_str(&config.to_json_string(), Some(config.kind())).unwrap()
}

#[test]
fn every_fixture_writes_back_its_input() {
    let files = fixture_files();
    assert_eq!(files.len(), 15);
    for file in files {
        let input: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        let config = load_file(&file).unwrap();
        assert_eq!(
            normalize(&config.to_json_value()),
            normalize(&input),
            "{}",
            file.display()
        );
        assert_eq!(reparse(&config), config, "{}", file.display());
    }
}

/// `selects` and other maps keep their order through parse and write.
#[test]
fn map_order_is_kept() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/production");
    let group_by = GroupBy::from_path(root.join("group_bys/shop/purchases.v1")).unwrap();
    let query = group_by.sources()[0].query().unwrap();
    assert_eq!(
        query.selected_columns().unwrap(),
        ["user_id", "merchant", "price"]
    );
    let text = group_by.to_json_string();
    let position = |needle: &str| text.find(needle).unwrap();
    assert!(position("\"user_id\": \"user_id\"") < position("\"merchant\": \"merchant\""));
    assert!(position("\"merchant\": \"merchant\"") < position("\"price\": "));
}

/// R-CFG-2 (Decision): names and true/false are read; integers and 0/1 are written. R-CFG-1:
/// unknown fields are ignored and `null` is unset.
#[test]
fn enum_names_booleans_nulls_and_unknown_fields() {
    let text = r#"{
        "metaData": {"name": "shop.lenient.v1", "online": true, "production": false,
                     "outputNamespace": null, "futureField": {"x": 1}},
        "sources": [{"events": {"table": "data.purchases", "topic": "events/purchases",
            "isCumulative": false, "unknown": [1, 2],
            "query": {"selects": {"user_id": "user_id", "price": "price"}, "timeColumn": "ts"}},
            "entities": null}],
        "keyColumns": ["user_id"],
        "aggregations": [{"inputColumn": "price", "operation": "LAST_K", "argMap": {"k": "5"},
            "windows": [{"length": 2, "timeUnit": "DAYS"}], "elementWise": 0}],
        "accuracy": "TEMPORAL",
        "lineage": "ignored"
    }"#;
    let group_by = GroupBy::from_json_str(text).unwrap();
    let expected = json!({
        "metaData": {"name": "shop.lenient.v1", "online": 1, "production": 0},
        "sources": [{"events": {"table": "data.purchases", "topic": "events/purchases",
            "isCumulative": 0,
            "query": {"selects": {"user_id": "user_id", "price": "price"}, "timeColumn": "ts"}}}],
        "keyColumns": ["user_id"],
        "aggregations": [{"inputColumn": "price", "operation": 13, "argMap": {"k": "5"},
            "windows": [{"length": 2, "timeUnit": 1}], "elementWise": 0}],
        "accuracy": 0
    });
    assert_eq!(group_by.to_json_value(), expected);
    assert_eq!(group_by.output_columns()[0].name, "price_last5_2d");
}

/// R-CFG-3: customJson, dependencies and tableProperties values are kept verbatim, even when
/// they are not valid JSON.
#[test]
fn verbatim_fields_are_kept() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/semantics/production");
    let staging =
        StagingQuery::from_path(root.join("staging_queries/payments/daily_stats.v1")).unwrap();
    let meta = staging.meta_data.as_ref().unwrap();
    let properties = meta.table_properties.as_ref().unwrap();
    assert_eq!(
        properties.get("note").map(String::as_str),
        Some("{not valid json")
    );
    assert_eq!(
        meta.dependencies.as_deref().unwrap(),
        ["data.txn/ds={{ ds }}"]
    );
    assert_eq!(staging.create_view, Some(false));
    assert_eq!(staging.to_json_value()["createView"], json!(0));

    let group_by = GroupBy::from_path(root.join("group_bys/payments/merchant_txn.v1")).unwrap();
    let meta = group_by.meta_data.as_ref().unwrap();
    assert_eq!(meta.custom_json.as_deref(), Some("{\"lag\": 0}"));
    assert_eq!(
        meta.dependencies.as_deref().unwrap(),
        [
            "{\"name\": \"wait_for_data.txn_ds\", \"spec\": \"data.txn/ds={{ ds }}\", \
          \"start\": \"2023-01-01\", \"end\": null}"
        ]
    );

    let join = Join::from_path(root.join("joins/payments/checkout_model.v2")).unwrap();
    assert_eq!(join.meta_data.as_ref().unwrap().sample_percent, Some(10.0));
}
