//! Bad input never panics and never loses stored data (DESIGN.md I4): each class gets a typed
//! error naming what was wrong, or is rejected row by row and counted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use tilefold::query::config::Config;
use tilefold::{ConfigSet, Error, Store, Value};

const DAY: i64 = 86_400_000;
const BASE: i64 = 1_790_899_200_000; // 2026-10-02T00:00Z

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tilefold-bad-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn configs(select_v: &str, time: &str) -> ConfigSet {
    let group_by = format!(
        r#"{{"metaData": {{"name": "t.g.v1"}}, "keyColumns": ["k"],
        "sources": [{{"events": {{"table": "data.ev", "topic": "ev", "query": {{"selects": {{"k": "k", "v": "{select_v}"}}, "timeColumn": "{time}"}}}}}}],
        "aggregations": [{{"inputColumn": "v", "operation": 7, "argMap": {{}}}}, {{"inputColumn": "v", "operation": 6, "argMap": {{}}, "windows": [{{"length": 1, "timeUnit": 1}}]}}]}}"#
    );
    let join = format!(
        r#"{{"metaData": {{"name": "t.j.v1"}}, "left": {{"events": {{"table": "data.left", "query": {{"selects": {{"k": "k", "ts": "ts"}}, "timeColumn": "ts"}}}}}},
        "joinParts": [{{"groupBy": {group_by}, "keyMapping": {{"user": "k"}}}}]}}"#
    );
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(&group_by, None).unwrap());
    set.insert(
        Config::from_json_str(
            &join.replace("\"keyMapping\": {\"user\": \"k\"}", "\"prefix\": \"p\""),
            None,
        )
        .unwrap(),
    );
    set
}

fn events(ts: Vec<Option<i64>>) -> (Arc<Schema>, RecordBatch) {
    let n = ts.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("v", DataType::Int64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let ds: Vec<Option<String>> = ts
        .iter()
        .map(|t| {
            Some(tilefold::query::window::day_name(
                t.unwrap_or(BASE).div_euclid(DAY),
            ))
        })
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            (0..n)
                .map(|i| Some(if i % 2 == 0 { "a" } else { "b" }))
                .collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            (0..n as i64).map(Some).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(ts)),
        Arc::new(StringArray::from(ds)),
    ];
    (
        schema.clone(),
        RecordBatch::try_new(schema, columns).unwrap(),
    )
}

fn keys(k: Value) -> BTreeMap<String, Value> {
    BTreeMap::from([("k".to_owned(), k)])
}

#[test]
fn unknown_column_in_a_select_names_config_and_field() {
    let dir = TempDir::new("column");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v_typo", "ts")).unwrap();
    let (schema, batch) = events(vec![Some(BASE)]);
    let err = store
        .load_batches("data.ev", &schema, &[batch])
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::Config(_) | Error::Ingest(_)),
        "{err:?}"
    );
    assert!(
        text.contains("t.g.v1") && text.contains("selects.v") && text.contains("v_typo"),
        "{text}"
    );
}

#[test]
fn a_time_column_that_is_not_long_is_rejected() {
    let dir = TempDir::new("time-type");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v", "ds")).unwrap();
    let (schema, batch) = events(vec![Some(BASE)]);
    let text = store
        .load_batches("data.ev", &schema, &[batch])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("timeColumn") && text.contains("LONG"),
        "{text}"
    );
}

/// R-SRC-1: rows with a null time are dropped and counted; the rest load.
#[test]
fn null_time_rows_are_rejected_and_counted() {
    let dir = TempDir::new("null-time");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v", "ts")).unwrap();
    let (schema, batch) = events(vec![Some(BASE), None, Some(BASE + 1000), None]);
    let report = store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let counts = report.group_bys["t.g.v1"];
    assert_eq!((counts.kept, counts.null_time), (2, 2));
    assert!(
        report.to_string().contains("2 rejected: null time column"),
        "{report}"
    );
    // Key "a" holds rows 0 (v 0, kept) and 2 (v 2, kept); rows 1 and 3 had no time.
    let features = store
        .fetch_group_by("t.g.v1", &keys(Value::String("a".into())), Some(BASE + DAY))
        .unwrap();
    assert_eq!(features.get("v_sum"), Some(&Value::Long(2)));
    assert_eq!(features.get("v_count_1d"), Some(&Value::Long(2)));
}

#[test]
fn a_corrupt_parquet_file_is_named_and_nothing_stored_is_lost() {
    let dir = TempDir::new("parquet");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v", "ts")).unwrap();
    let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let bad = dir.0.join("bad.parquet");
    std::fs::write(&bad, b"PAR1 this is not parquet PAR1").unwrap();
    let err = store.load_parquet("data.ev", &[&bad]).unwrap_err();
    assert!(err.to_string().contains("bad.parquet"), "{err}");
    let features = store
        .fetch_group_by("t.g.v1", &keys(Value::String("a".into())), Some(BASE + DAY))
        .unwrap();
    assert_eq!(features.get("v_sum"), Some(&Value::Long(0)));
}

#[test]
fn a_second_writer_gets_a_clear_error() {
    let dir = TempDir::new("lock");
    let _store = Store::open(&dir.0).unwrap();
    let err = Store::open(&dir.0).unwrap_err();
    assert!(
        err.to_string()
            .contains("open for writing in another process"),
        "{err}"
    );
}

#[test]
fn a_truncated_segment_is_reported_as_corruption() {
    let dir = TempDir::new("segment");
    {
        let store = Store::open(&dir.0).unwrap();
        store.apply(&configs("v", "ts")).unwrap();
        let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
        store.load_batches("data.ev", &schema, &[batch]).unwrap();
    }
    let segment = find_files(&dir.0.join("segments/group_bys"))[0].clone();
    let bytes = std::fs::read(&segment).unwrap();
    std::fs::write(&segment, &bytes[..bytes.len() / 2]).unwrap();
    let err = Store::open(&dir.0).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("corrupted") && text.contains(".arrow"),
        "{text}"
    );
}

#[test]
fn a_flipped_tile_byte_is_a_corrupted_error_naming_the_tile() {
    let dir = TempDir::new("tile");
    {
        let store = Store::open(&dir.0).unwrap();
        store.apply(&configs("v", "ts")).unwrap();
        let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
        store.load_batches("data.ev", &schema, &[batch]).unwrap();
    }
    let codec = tilefold::query::key::KeyCodec::new(vec![("k".into(), tilefold::DataType::String)])
        .unwrap();
    let key = codec.encode(&[Value::String("a".into())]).unwrap().unwrap();
    {
        let db = tilefold::storage::Database::open(&dir.0).unwrap();
        let mut txn = db.begin_write().unwrap();
        txn.put_raw_tile("t.g.v1", &key, 2, BASE, b"\x01\x02\x03\x04\x05\x06")
            .unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(&dir.0).unwrap();
    let err = store
        .fetch_group_by(
            "t.g.v1",
            &keys(Value::String("a".into())),
            Some(BASE + 3 * DAY),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("tile") && text.contains("t.g.v1") && text.contains(&BASE.to_string()),
        "{text}"
    );
}

/// R-ONL-4, E-24, E-25, E-26: null keys, uncastable keys and missing keys.
#[test]
fn fetch_key_errors() {
    let dir = TempDir::new("keys");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v", "ts")).unwrap();
    let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let at = Some(BASE + DAY);
    // A null key: an empty success.
    assert!(store
        .fetch_group_by("t.g.v1", &keys(Value::Null), at)
        .unwrap()
        .values
        .is_empty());
    // A missing key: a malformed GroupBy request.
    assert!(store
        .fetch_group_by("t.g.v1", &BTreeMap::new(), at)
        .is_err());
    // In a join, a missing key sets the part's exception (E-26).
    let features = store.fetch_join("t/j.v1", &BTreeMap::new(), at).unwrap();
    let exception = features.get("p_t_g_v1_exception").expect("exception");
    assert!(
        matches!(exception, Value::String(s) if s.contains("missing keys k")),
        "{exception:?}"
    );
    // A key of another type casts (R-ONL-5): 5 → "5" for a STRING key.
    let features = store
        .fetch_join("t/j.v1", &keys(Value::Long(5)), at)
        .unwrap();
    assert!(features.values.is_empty(), "{features:?}");
    // Unknown names fail the request as a whole (R-ONL-8).
    assert!(store
        .fetch_join("t/nope.v1", &keys(Value::Null), at)
        .is_err());
}

fn find_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(find_files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// E-28 (R-ONL-10): a failed part's derived keys are removed and its exception restored; other
/// derived columns see its values as null.
#[test]
fn e28_failed_part_removes_its_derived_keys() {
    let dir = TempDir::new("e28");
    let store = Store::open(&dir.0).unwrap();
    let mut set = configs("v", "ts");
    let group_by = set.group_bys["t.g.v1"].to_json_string();
    let join = format!(
        r#"{{"metaData": {{"name": "t.d.v1"}}, "left": {{"events": {{"table": "data.left", "query": {{"selects": {{"k": "k", "ts": "ts"}}, "timeColumn": "ts"}}}}}},
        "joinParts": [{{"groupBy": {group_by}, "prefix": "p"}}],
        "derivations": [{{"name": "*", "expression": "*"}},
            {{"name": "p_t_g_v1_filled", "expression": "COALESCE(p_t_g_v1_v_sum, 0)"}},
            {{"name": "other", "expression": "COALESCE(p_t_g_v1_v_sum, -1)"}}]}}"#
    );
    set.insert(Config::from_json_str(&join, None).unwrap());
    store.apply(&set).unwrap();
    let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let at = Some(BASE + DAY);
    // With the key: v_sum of "a" is 0 (row 0), so filled 0 and other 0.
    let ok = store
        .fetch_join("t/d.v1", &keys(Value::String("a".into())), at)
        .unwrap();
    assert_eq!(ok.get("p_t_g_v1_filled"), Some(&Value::Long(0)), "{ok:?}");
    // Without it: the part fails; its derived key goes (though its expression gives 0), `other`
    // sees null.
    let failed = store.fetch_join("t/d.v1", &BTreeMap::new(), at).unwrap();
    assert!(failed.get("p_t_g_v1_exception").is_some(), "{failed:?}");
    assert_eq!(failed.get("p_t_g_v1_filled"), None, "{failed:?}");
    assert_eq!(failed.get("other"), Some(&Value::Long(-1)), "{failed:?}");
}

/// A column whose type changes between loads is an error naming it and both types; what was
/// stored stays. Extra columns a query does not select are ignored.
#[test]
fn a_column_that_changes_type_between_loads_is_rejected() {
    let dir = TempDir::new("retype");
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs("v", "ts")).unwrap();
    let (schema, batch) = events(vec![Some(BASE), Some(BASE + 1)]);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    // The next day's partition, with `v` as DOUBLE and an extra column.
    let schema2 = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("v", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
        Field::new("extra", DataType::Utf8, true),
    ]));
    let day = tilefold::query::window::day_name((BASE + DAY).div_euclid(DAY));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["a"])),
        Arc::new(arrow::array::Float64Array::from(vec![1.5])),
        Arc::new(Int64Array::from(vec![BASE + DAY])),
        Arc::new(StringArray::from(vec![day])),
        Arc::new(StringArray::from(vec!["ignored"])),
    ];
    let batch2 = RecordBatch::try_new(schema2.clone(), columns).unwrap();
    let text = store
        .load_batches("data.ev", &schema2, &[batch2])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("column v is Float64 here but Int64"),
        "{text}"
    );
    let features = store
        .fetch_group_by(
            "t.g.v1",
            &keys(Value::String("a".into())),
            Some(BASE + 2 * DAY),
        )
        .unwrap();
    assert_eq!(features.get("v_sum"), Some(&Value::Long(0)));
}
