//! Fault injection through the storage seam during bulk loads (issue 4, DESIGN.md I2): an I/O
//! error, a power cut or a torn power cut at every write and sync point of a sequence of loads,
//! whose partitions are written and prepared on several threads at once, one of which replaces a
//! partition loaded before. After each fault the store is reopened on the real file system and
//! holds every load that returned, and of the load that failed all or nothing: values equal a
//! naive scan over exactly those partitions, and tiles equal tiles rebuilt from raw rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use tilefold::query::config::Config;
use tilefold::storage::{Fault, FaultInjector};
use tilefold::{ConfigSet, Options, Store, Value};

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
use live::{agg_of, configs, fetch_key, naive, Agg, Event, TempDir, DAY, HOUR};

/// 2026-10-01T00:00Z, the first partition's day.
const FIRST_DAY: i64 = 1_790_812_800_000;

/// Partitions per load, by day index from [`FIRST_DAY`]: the second load replaces day 2.
const LOADS: [&[i64]; 3] = [&[0, 1, 2], &[2, 3], &[4]];

/// The rows of day `day` in load `load`: three keys, times spread over the day (within it: the
/// GroupBy also reads a topic, so its table counts rows up to the end of the last partition).
fn partition(load: usize, day: i64) -> Vec<Event> {
    (0..6)
        .map(|i| {
            let k = ["a", "b", "c"][(load + i) % 3].to_owned();
            let ts = FIRST_DAY + day * DAY + ((i as i64 * 3 + load as i64) % 8) * 3 * HOUR + 7;
            (k, load as i64 * 100 + day * 10 + i as i64, ts)
        })
        .collect()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, false),
        Field::new("v", DataType::Int64, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("ds", DataType::Utf8, false),
    ]))
}

fn ds(day: i64) -> String {
    format!("2026-10-{:02}", day + 1)
}

/// Load `load`'s rows as one batch, its partitions interleaved.
fn load_batch(load: usize) -> RecordBatch {
    let mut rows: Vec<(Event, String)> = Vec::new();
    for &day in LOADS[load] {
        rows.extend(partition(load, day).into_iter().map(|e| (e, ds(day))));
    }
    rows.sort_by_key(|(e, _)| (e.1 % 7, e.2));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0 .0.clone()),
        )),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0 .1))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0 .2))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.1.clone()),
        )),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

/// The rows stored after the first `loads` loads: each day's partition from the last load
/// holding it.
fn stored_after(loads: usize) -> Vec<Event> {
    let mut days: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
    for (load, partitions) in LOADS.iter().enumerate().take(loads) {
        for &day in *partitions {
            days.insert(day, partition(load, day));
        }
    }
    days.into_values().flatten().collect()
}

/// A GroupBy like `configs()`'s reading only the table (registered after the loads).
fn table_reader() -> ConfigSet {
    let group_by = r#"{"metaData": {"name": "t.table.v1"}, "keyColumns": ["k"], "accuracy": 0,
        "sources": [{"events": {"table": "data.ev", "query": {"selects": {"k": "k", "v": "v"}, "timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}, "windows": [{"length": 1, "timeUnit": 0}, {"length": 1, "timeUnit": 1}]},
                         {"inputColumn": "v", "operation": 1, "argMap": {}, "windows": [{"length": 1, "timeUnit": 1}]},
                         {"inputColumn": "v", "operation": 6, "argMap": {}}]}"#;
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(group_by, None).unwrap());
    set
}

/// The workload, stopping at the first error. Returns how many loads returned.
fn workload(dir: &std::path::Path, fs: FaultInjector) -> usize {
    let options = Options {
        fs: Arc::new(fs),
        merge_when_idle: None,
        ..Options::default()
    };
    let Ok(store) = Store::open_with_options(dir, options) else {
        return 0;
    };
    if store.apply(&configs()).is_err() {
        return 0;
    }
    for load in 0..LOADS.len() {
        if store
            .load_batches("data.ev", &schema(), &[load_batch(load)])
            .is_err()
        {
            return load;
        }
    }
    LOADS.len()
}

/// Fetch times: inside and after the loaded days, on and off the hour.
fn times() -> Vec<i64> {
    vec![
        FIRST_DAY + 2 * DAY + 5 * HOUR,
        FIRST_DAY + 3 * DAY,
        FIRST_DAY + 4 * DAY + 13 * HOUR + 1,
        FIRST_DAY + 6 * DAY,
    ]
}

fn values(events: &[Event]) -> Vec<Agg> {
    let mut out = Vec::new();
    for k in ["a", "b", "c"] {
        for t in times() {
            out.push(naive(events, k, t));
        }
    }
    out
}

/// Reopens on the real file system: the loads that returned, and all or none of the next.
fn verify(dir: &std::path::Path, returned: usize, what: &str) {
    let store = Store::open(dir).unwrap_or_else(|e| panic!("{what}: reopening: {e}"));
    let (groups, _) = store.config_names();
    if groups.is_empty() {
        assert_eq!(returned, 0, "{what}: loads without their config");
        return;
    }
    let mut got = Vec::new();
    for k in ["a", "b", "c"] {
        for t in times() {
            got.push(fetch_key(&store, k, t));
        }
    }
    let allowed: Vec<usize> = (returned..=(returned + 1).min(LOADS.len())).collect();
    assert!(
        allowed.iter().any(|&n| got == values(&stored_after(n))),
        "{what}: values are none of the states after {allowed:?} loads: {got:?}"
    );
    store
        .check()
        .unwrap_or_else(|e| panic!("{what}: check: {e}"));
    // A GroupBy registered now is prepared from the stored table partitions: they hold the
    // same rows.
    store
        .apply(&table_reader())
        .unwrap_or_else(|e| panic!("{what}: apply: {e}"));
    let mut from_table = Vec::new();
    for k in ["a", "b", "c"] {
        for t in times() {
            let keys = BTreeMap::from([("k".to_owned(), Value::String(k.into()))]);
            let features = store
                .fetch_group_by("t.table.v1", &keys, Some(t))
                .unwrap_or_else(|e| panic!("{what}: fetch: {e}"));
            from_table.push(agg_of(&features, ""));
        }
    }
    assert_eq!(from_table, got, "{what}: the table's partitions");
    // The reopened store loads again.
    store
        .load_batches("data.ev", &schema(), &[load_batch(0)])
        .unwrap_or_else(|e| panic!("{what}: load after: {e}"));
}

#[test]
fn every_fault_point_of_a_load_keeps_whole_loads() {
    let dir = TempDir::new("load-count");
    let counter = FaultInjector::new(None, Fault::Error);
    assert_eq!(workload(&dir.0, counter.clone()), LOADS.len());
    let operations = counter.operations();
    verify(&dir.0, LOADS.len(), "clean run");
    assert!(operations > 50, "{operations} operations");
    drop(dir);

    let modes = [
        ("error", Fault::Error),
        ("power cut", Fault::PowerCut),
        ("torn power cut", Fault::TornPowerCut { seed: 5 }),
    ];
    let mut runs = 0;
    for (name, fault) in modes {
        for fail_at in 1..=operations {
            let dir = TempDir::new("load-run");
            let injector = FaultInjector::new(Some(fail_at), fault);
            let returned = workload(&dir.0, injector.clone());
            injector.recover().unwrap();
            verify(&dir.0, returned, &format!("{name} at operation {fail_at}"));
            runs += 1;
        }
    }
    println!("load fault runs: {runs} over {operations} operations, no load torn or lost");
}
