//! Live ingest (issue 5): read-your-writes, replay after reopen, sealing without changing values,
//! idempotent producers, lateness, future timestamps, lambda semantics between a table and its
//! topic, and bad input. Expected values come from a naive scan written from SEMANTICS.md
//! (R-WIN-3: a window of W at T holds events with floor(T − W, tailHop(W)) ≤ ts < T).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;
use tilefold::query::config::Config;
use tilefold::{ConfigSet, Error, IngestRequest, Options, Rows, SealReport, Store, Value};

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
use live::{now, TempDir, DAY, HOUR, MINUTE};

/// `t.live.v1`: per key `k`, SUM(v) over 1 day and COUNT(v) unbounded, from table `data.ev`
/// and topic `ev`.
fn configs() -> ConfigSet {
    let group_by = r#"{"metaData": {"name": "t.live.v1"}, "keyColumns": ["k"],
        "sources": [{"events": {"table": "data.ev", "topic": "ev/host=a", "query": {"selects": {"k": "k", "v": "v"}, "timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}, "windows": [{"length": 1, "timeUnit": 1}]},
                         {"inputColumn": "v", "operation": 6, "argMap": {}}]}"#;
    let join = format!(
        r#"{{"metaData": {{"name": "t.livejoin.v1"}}, "left": {{"events": {{"table": "data.left", "query": {{"selects": {{"k": "k", "ts": "ts"}}, "timeColumn": "ts"}}}}}},
        "joinParts": [{{"groupBy": {group_by}}}]}}"#
    );
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(group_by, None).unwrap());
    set.insert(Config::from_json_str(&join, None).unwrap());
    set
}

/// The values a fetch at `t` must give for key `k` over `events` (k, v, ts): R-WIN-3 with
/// tailHop(1 day) = 1 hour, and an unbounded count.
fn naive(events: &[(String, i64, i64)], k: &str, t: i64) -> (Option<i64>, Option<i64>) {
    let start = (t - DAY).div_euclid(HOUR) * HOUR;
    let mine: Vec<_> = events.iter().filter(|e| e.0 == k && e.2 < t).collect();
    let in_day: Vec<_> = mine.iter().filter(|e| e.2 >= start).collect();
    let sum = (!in_day.is_empty()).then(|| in_day.iter().map(|e| e.1).sum());
    let count = (!mine.is_empty()).then_some(mine.len() as i64);
    (sum, count)
}

fn fetched(store: &Store, k: &str, t: i64) -> (Option<i64>, Option<i64>) {
    let keys = BTreeMap::from([("k".to_owned(), Value::String(k.into()))]);
    let features = store.fetch_group_by("t.live.v1", &keys, Some(t)).unwrap();
    let get = |suffix: &str| {
        features
            .values
            .iter()
            .find(|(name, _)| name.ends_with(suffix))
            .and_then(|(_, v)| match v {
                Value::Long(x) => Some(*x),
                Value::Null => None,
                other => panic!("unexpected {other:?}"),
            })
    };
    (get("_sum_1d"), get("_count"))
}

fn rows(events: &[(String, i64, i64)]) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
        .collect()
}

/// Events over the last two days for keys a..e, deterministic.
fn sample(n: usize, end: i64) -> Vec<(String, i64, i64)> {
    (0..n)
        .map(|i| {
            let k = ["a", "b", "c", "d", "e"][i % 5].to_owned();
            let ts = end - 2 * DAY + (i as i64 * 7_919_993) % (2 * DAY);
            (k, i as i64 % 97, ts)
        })
        .collect()
}

fn check_all(store: &Store, events: &[(String, i64, i64)], times: &[i64]) {
    for k in ["a", "b", "c", "d", "e", "zz"] {
        for &t in times {
            assert_eq!(fetched(store, k, t), naive(events, k, t), "key {k} at {t}");
        }
    }
}

/// Ingests `live` (added to `events`), then seals; every value is checked at `times` before
/// and after the seal, and every tile against the raw rows after it. Returns the seal's report.
fn ingest_then_seal(
    store: &Store,
    events: &mut Vec<(String, i64, i64)>,
    live: Vec<(String, i64, i64)>,
    times: &[i64],
) -> SealReport {
    store.ingest_json("ev", rows(&live)).unwrap();
    events.extend(live);
    check_all(store, events, times);
    let report = store.compact().unwrap();
    check_all(store, events, times);
    store.check().unwrap();
    report
}

/// `store` closed and opened again from `dir`, every value checked at `times` and every tile
/// against the raw rows.
fn reopened(
    store: Store,
    dir: &std::path::Path,
    events: &[(String, i64, i64)],
    times: &[i64],
) -> Store {
    drop(store);
    let store = Store::open(dir).unwrap();
    check_all(&store, events, times);
    // I3: the stored tiles equal tiles rebuilt from the raw rows.
    store.check().unwrap();
    store
}

fn times(end: i64) -> Vec<i64> {
    vec![
        end,
        end - HOUR,
        end - 5 * HOUR - 1,
        end - DAY,
        end - DAY - 300_000,
        end - 2 * DAY + HOUR,
    ]
}

#[test]
fn a_fetch_after_ingest_sees_the_rows_and_so_does_a_reopened_store() {
    let dir = TempDir::new("ryw");
    let end = now();
    let events = sample(400, end);
    {
        let store = Store::open(&dir.0).unwrap();
        store.apply(&configs()).unwrap();
        let mut seen = Vec::new();
        for chunk in events.chunks(37) {
            let report = store.ingest_json("ev", rows(chunk)).unwrap();
            assert_eq!(report.rows, chunk.len());
            seen.extend_from_slice(chunk);
            // Read-your-writes: the very next fetch sees the batch.
            let k = &chunk[0].0;
            assert_eq!(fetched(&store, k, end + 1), naive(&seen, k, end + 1));
        }
        check_all(&store, &events, &times(end));
        assert_eq!(store.head_rows(), events.len());
    }
    // Acknowledged rows survive closing without a seal: replayed from the head.
    let store = Store::open(&dir.0).unwrap();
    assert_eq!(store.head_rows(), events.len());
    check_all(&store, &events, &times(end));
}

#[test]
fn sealing_moves_rows_into_segments_and_tiles_without_changing_values() {
    let dir = TempDir::new("seal");
    let end = now();
    let events = sample(600, end);
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    for (i, chunk) in events.chunks(100).enumerate() {
        store.ingest_json("ev", rows(chunk)).unwrap();
        if i % 2 == 1 {
            let report = store.compact().unwrap();
            assert_eq!(report.group_bys["t.live.v1"], 100 * 2);
            assert_eq!(store.head_rows(), 0);
        }
        let seen = &events[..(i + 1) * 100];
        check_all(&store, seen, &times(end));
    }
    reopened(store, &dir.0, &events, &times(end));
}

#[test]
fn the_writer_seals_on_its_own_past_the_threshold() {
    let dir = TempDir::new("autoseal");
    let end = now();
    let events = sample(500, end);
    let store = Store::open_with_options(
        &dir.0,
        Options {
            seal_rows: 120,
            ..Options::default()
        },
    )
    .unwrap();
    store.apply(&configs()).unwrap();
    for (i, chunk) in events.chunks(50).enumerate() {
        store.ingest_json("ev", rows(chunk)).unwrap();
        check_all(&store, &events[..(i + 1) * 50], &times(end)[..2]);
    }
    // The writer sealed along the way, on its seal thread: once that catches up, fewer rows
    // than the threshold are left unsealed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while store.head_rows() >= 120 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(
        store.head_rows() < 120,
        "{} rows unsealed",
        store.head_rows()
    );
    store.compact().unwrap();
    assert_eq!(store.head_rows(), 0);
    check_all(&store, &events, &times(end));
    store.check().unwrap();
}

#[test]
fn a_retried_batch_of_an_idempotent_producer_is_applied_once() {
    let dir = TempDir::new("idem");
    let end = now();
    let events = sample(30, end);
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let send = |seq: u64, chunk: &[(String, i64, i64)]| {
        store
            .submit(IngestRequest {
                topic: "ev".into(),
                rows: Rows::Json(rows(chunk)),
                producer: Some(("p1".into(), seq)),
            })
            .unwrap()
    };
    assert!(!send(1, &events[..10]).duplicate);
    assert!(!send(2, &events[10..20]).duplicate);
    assert!(
        send(2, &events[10..20]).duplicate,
        "a retry is acknowledged, not applied"
    );
    assert!(send(1, &events[..10]).duplicate);
    assert_eq!(store.producer_sequence("p1"), Some(2));
    check_all(&store, &events[..20], &times(end));
    drop(store);
    // The sequence numbers are durable with the rows.
    let store = Store::open(&dir.0).unwrap();
    assert_eq!(store.producer_sequence("p1"), Some(2));
    let retry = store
        .submit(IngestRequest {
            topic: "ev".into(),
            rows: Rows::Json(rows(&events[10..20])),
            producer: Some(("p1".into(), 2)),
        })
        .unwrap();
    assert!(retry.duplicate);
    check_all(&store, &events[..20], &times(end));
}

#[test]
fn late_rows_merge_into_old_tiles_and_rows_past_the_bound_are_rejected() {
    let dir = TempDir::new("late");
    let end = now();
    let store = Store::open_with_options(
        &dir.0,
        Options {
            max_lateness_ms: Some(DAY),
            ..Options::default()
        },
    )
    .unwrap();
    store.apply(&configs()).unwrap();
    let mut events = vec![("a".to_owned(), 5, end - HOUR)];
    store.ingest_json("ev", rows(&events)).unwrap();
    store.compact().unwrap();
    // 20 hours late: within the bound, merged into the sealed hour and day tiles.
    let late = ("a".to_owned(), 7, end - 21 * HOUR);
    let report = store
        .ingest_json("ev", rows(std::slice::from_ref(&late)))
        .unwrap();
    assert_eq!(report.late(), 0);
    events.push(late);
    // Two days late: past the bound, rejected and counted.
    let report = store
        .ingest_json("ev", rows(&[("a".to_owned(), 11, end - 2 * DAY - HOUR)]))
        .unwrap();
    assert_eq!(report.late(), 1);
    assert_eq!(report.group_bys["t.live.v1"].kept, 0);
    check_all(&store, &events, &times(end));
    store.compact().unwrap();
    check_all(&store, &events, &times(end));
    store.check().unwrap();
}

#[test]
fn a_row_from_the_future_rejects_its_batch() {
    let dir = TempDir::new("future");
    let end = now();
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let batch = [
        ("a".to_owned(), 1, end - HOUR),
        ("b".to_owned(), 2, end + DAY),
    ];
    let err = store.ingest_json("ev", rows(&batch)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Ingest(_)), "{text}");
    assert!(text.contains(&format!("ts {}", end + DAY)), "{text}");
    // Nothing of the batch was applied.
    check_all(&store, &[], &times(end));
}

/// The first live rows of a GroupBy fix the type of its stored rows: rows its aggregations
/// cannot read are rejected, and the store still opens.
#[test]
fn first_rows_of_a_type_the_aggregations_cannot_read_are_rejected() {
    let dir = TempDir::new("firsttype");
    let end = now();
    {
        let store = Store::open(&dir.0).unwrap();
        store.apply(&configs()).unwrap();
        for bad in [
            json!({"k": "a", "v": "seven", "ts": end}),
            json!({"k": "a", "v": null, "ts": end}),
        ] {
            let err = store.ingest_json("ev", vec![bad]).unwrap_err();
            assert!(err.to_string().contains("group-by t.live.v1"), "{err}");
        }
        assert_eq!(store.head_rows(), 0);
    }
    let store = Store::open(&dir.0).unwrap();
    let good = vec![("a".to_owned(), 3, end - HOUR)];
    store.ingest_json("ev", rows(&good)).unwrap();
    check_all(&store, &good, &times(end));
}

#[test]
fn bad_input_gets_a_clear_error_and_keeps_stored_rows() {
    let dir = TempDir::new("bad");
    let end = now();
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let good = vec![("a".to_owned(), 3, end - HOUR)];
    store.ingest_json("ev", rows(&good)).unwrap();
    let err = store.ingest_json("nope", rows(&good)).unwrap_err();
    assert!(
        err.to_string()
            .contains("topic nope: no registered GroupBy reads"),
        "{err}"
    );
    let err = store
        .ingest_json("ev", vec![json!({"k": "a", "v": "seven", "ts": end})])
        .unwrap_err();
    assert!(err.to_string().contains("topic ev"), "{err}");
    let err = store.ingest_json("ev", vec![json!([1, 2])]).unwrap_err();
    assert!(err.to_string().contains("not a JSON object"), "{err}");
    // An Arrow batch whose value column is a string where stored rows have LONG.
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Utf8, true),
            Field::new("ts", DataType::Int64, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            Arc::new(StringArray::from(vec!["x"])),
            Arc::new(Int64Array::from(vec![end - 1])),
        ],
    )
    .unwrap();
    let err = store.ingest("ev", batch).unwrap_err();
    assert!(
        err.to_string().contains("column v is Utf8 here but Int64"),
        "{err}"
    );
    check_all(&store, &good, &times(end));
}

fn table_batch(events: &[(String, i64, i64)]) -> (Arc<Schema>, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("v", DataType::Int64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                events.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(Int64Array::from(
                events.iter().map(|e| e.1).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                events.iter().map(|e| e.2).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                events
                    .iter()
                    .map(|e| tilefold::query::window::day_name(e.2.div_euclid(DAY)))
                    .collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    (schema, batch)
}

/// Lambda semantics: the table counts before the end of its last loaded partition, the topic
/// from there on; loading a newer partition supersedes the streamed rows it covers.
#[test]
fn a_loaded_partition_supersedes_the_streamed_rows_it_covers() {
    let dir = TempDir::new("lambda");
    let end = now();
    let today = end.div_euclid(DAY) * DAY;
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    // The table holds days up to yesterday.
    let batch_rows = vec![
        ("a".to_owned(), 100, today - DAY - 2 * HOUR),
        ("a".to_owned(), 200, today - 3 * HOUR),
    ];
    let (schema, batch) = table_batch(&batch_rows);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    // The topic repeats yesterday's last row (before the batch end: superseded) and goes on
    // today.
    let streamed = vec![
        ("a".to_owned(), 200, today - 3 * HOUR),
        ("a".to_owned(), 1, today + 1),
        ("a".to_owned(), 2, today + 2),
    ];
    let report = store.ingest_json("ev", rows(&streamed)).unwrap();
    assert_eq!(report.group_bys["t.live.v1"].superseded, 1);
    let mut counted = batch_rows.clone();
    counted.extend_from_slice(&streamed[1..]);
    let at = [end + 1, today + 3, today];
    for t in at {
        assert_eq!(fetched(&store, "a", t), naive(&counted, "a", t), "at {t}");
    }
    store.compact().unwrap();
    // Today's partition arrives in the table with a different history: it replaces the
    // streamed rows of today.
    let today_rows = vec![("a".to_owned(), 1000, today + 1)];
    let (schema, batch) = table_batch(&today_rows);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let mut counted = batch_rows.clone();
    counted.extend_from_slice(&today_rows);
    for t in at {
        assert_eq!(fetched(&store, "a", t), naive(&counted, "a", t), "at {t}");
    }
    store.check().unwrap();
    // Today is now covered by the table: a streamed row of today no longer counts.
    let report = store
        .ingest_json("ev", rows(&[("a".to_owned(), 5, end - 1)]))
        .unwrap();
    assert_eq!(report.group_bys["t.live.v1"].superseded, 1);
    assert_eq!(fetched(&store, "a", end + 1), naive(&counted, "a", end + 1));
}

#[test]
fn backfill_sees_live_rows_as_fetch_does() {
    let dir = TempDir::new("backfill");
    let end = now();
    let events = sample(200, end);
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    store.ingest_json("ev", rows(&events[..120])).unwrap();
    store.compact().unwrap();
    store.ingest_json("ev", rows(&events[120..])).unwrap();
    let lefts: Vec<(String, i64, i64)> = times(end)
        .into_iter()
        .flat_map(|t| ["a", "c", "zz"].map(|k| (k.to_owned(), 0, t)))
        .collect();
    let (_, left) = table_batch(&lefts);
    let left = left.project(&[0, 2, 3]).unwrap();
    let check = |store: &Store| {
        let out = store
            .backfill(
                "t.livejoin.v1",
                tilefold::Left::Batches(vec![left.clone()]),
                &tilefold::BackfillOptions::default(),
            )
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let out = arrow::compute::concat_batches(&out[0].schema(), &out).unwrap();
        let sum = out
            .column_by_name("t_live_v1_v_sum_1d")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .clone();
        for (i, (k, _, t)) in lefts.iter().enumerate() {
            let expected = naive(&events, k, *t).0;
            let got = (!sum.is_null(i)).then(|| sum.value(i));
            assert_eq!(got, expected, "{k} at {t}");
            assert_eq!(fetched(store, k, *t).0, expected);
        }
    };
    // Rows in the head, sealed rows in tiles and raw past the tiles written.
    check(&store);
    // A second seal writes the tiles that ended since the first.
    store.compact().unwrap();
    check(&store);
}

/// A GroupBy selecting every column (no `selects`): live rows without the partition column fit,
/// and live rows sealed before the table's first load are rewritten to the table's columns.
#[test]
fn live_rows_without_the_partition_column_fit_a_select_all_group_by() {
    let dir = TempDir::new("selectall");
    let end = now();
    let today = end.div_euclid(DAY) * DAY;
    let group_by = r#"{"metaData": {"name": "t.all.v1"}, "keyColumns": ["k"],
        "sources": [{"events": {"table": "data.ev", "topic": "ev", "query": {"timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}, "windows": [{"length": 1, "timeUnit": 1}]},
                         {"inputColumn": "v", "operation": 6, "argMap": {}}]}"#;
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(group_by, None).unwrap());
    let store = Store::open(&dir.0).unwrap();
    store.apply(&set).unwrap();
    let arrow = |events: &[(String, i64, i64)]| {
        let (_, batch) = table_batch(events);
        batch.project(&[0, 1, 2]).unwrap() // k, v, ts: no ds
    };
    let live = vec![("a".to_owned(), 1, today + 1)];
    store.ingest("ev", arrow(&live)).unwrap();
    store.compact().unwrap();
    let table = vec![("a".to_owned(), 10, today - HOUR)];
    let (schema, batch) = table_batch(&table);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let later = vec![("a".to_owned(), 100, today + 2)];
    store.ingest("ev", arrow(&later)).unwrap();
    let counted: Vec<_> = table.iter().chain(&live).chain(&later).cloned().collect();
    let keys = BTreeMap::from([("k".to_owned(), Value::String("a".into()))]);
    let features = store.fetch_group_by("t.all.v1", &keys, Some(end)).unwrap();
    let (sum, count) = naive(&counted, "a", end);
    let expected: Vec<(String, Value)> = [("v_sum_1d", sum), ("v_count", count)]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n.to_owned(), Value::Long(v))))
        .collect();
    assert_eq!(features.values, expected);
    store.compact().unwrap();
    store.check().unwrap();
}

/// Dropping the last handle waits for the writer (and a seal it started after an ack) to
/// finish: the store is closed and unlocked when the drop returns, so it reopens at once.
#[test]
fn a_dropped_store_reopens_at_once_even_with_a_seal_under_way() {
    let dir = TempDir::new("dropreopen");
    let end = now();
    let events = sample(300, end);
    let options = || Options {
        seal_rows: 50,
        ..Options::default()
    };
    {
        let store = Store::open_with_options(&dir.0, options()).unwrap();
        store.apply(&configs()).unwrap();
    }
    for chunk in events.chunks(60) {
        let store = Store::open_with_options(&dir.0, options()).unwrap();
        // 60 rows pass the threshold: the writer seals right after acknowledging.
        store.ingest_json("ev", rows(chunk)).unwrap();
    }
    let store = Store::open(&dir.0).unwrap();
    check_all(&store, &events, &times(end));
    store.check().unwrap();
}

/// The tiles a GroupBy of `t.live.v1`'s shape keeps for `events` when the newest row is at
/// `watermark` (DESIGN.md "Measured floor"): five-minute tiles from 12 hours before the newest
/// row's five minutes, hourly ones from 12 days before its hour, day, 4-day and 16-day tiles
/// always; one tile per key and aligned start that holds a row, written once it has ended five
/// minutes before the newest row's five minutes (a live GroupBy reads rows after that raw).
/// The current day's partial tile counts too: one per key with rows from its start to the
/// hours written.
fn expected_tiles(events: &[(String, i64, i64)], watermark: i64) -> usize {
    let floor = |t: i64, size: i64| t.div_euclid(size) * size;
    let five = 5 * 60_000;
    let written = floor(watermark, five) - five;
    let levels = [
        (five, floor(watermark, five) - 12 * HOUR),
        (HOUR, floor(watermark, DAY) - 12 * DAY),
        (DAY, i64::MIN),
        (4 * DAY, i64::MIN),
        (16 * DAY, i64::MIN),
    ];
    let mut tiles = std::collections::BTreeSet::new();
    // The current day's partial tile: from its start to the end of the hours written.
    let partial = floor(written, DAY)..floor(written, HOUR);
    for (k, _, ts) in events {
        for (i, (size, kept)) in levels.iter().enumerate() {
            let start = floor(*ts, *size);
            if start >= *kept && start + size <= written {
                tiles.insert((k.clone(), i, start));
            }
        }
        if partial.contains(ts) {
            tiles.insert((k.clone(), 2, partial.start));
        }
    }
    tiles.len()
}

/// A live GroupBy writes each tile once, when it has ended (five minutes before the newest
/// sealed row's five minutes), and merges late rows into tiles written before; rows after the
/// last tile ended are read raw. Hand-counted from that rule, step by step; values equal the
/// naive scan at times between all of it, before and after reopening.
#[test]
fn a_live_group_by_writes_each_tile_once_it_has_ended() {
    let dir = TempDir::new("ended");
    // Yesterday 10:00: no day boundary in any step, whatever the time of day.
    let b = now().div_euclid(DAY) * DAY - DAY + 10 * HOUR;
    let minute = 60_000;
    let row = |k: &str, v: i64, ts: i64| (k.to_owned(), v, ts);
    // (rows ingested and sealed, tiles the seal writes)
    let steps: [(Vec<_>, usize); 5] = [
        // Tiles end by b − 5m: none of these rows is in one.
        (
            vec![
                row("a", 1, b + minute),
                row("a", 2, b + 2 * minute),
                row("a", 4, b + 3 * minute),
            ],
            0,
        ),
        // Tiles end by b: [b, b+5m) has not ended yet (rows up to five minutes late are in
        // time for it).
        (
            vec![row("a", 8, b + 7 * minute), row("b", 16, b + 7 * minute)],
            0,
        ),
        // By b+55m: a's [b, b+5m) and [b+5m, b+10m), b's [b+5m, b+10m).
        (vec![row("a", 32, b + HOUR + minute)], 3),
        // A late row: merged into c's five-minute tile, written before (its hour has not ended).
        (vec![row("c", 64, b + 2 * minute)], 1),
        // By b+1h: the hour [b, b+1h) of a, b and c, and their day so far (their partial day
        // tiles, [00:00, b + 1h): the hour's rows merged in).
        (vec![row("a", 128, b + HOUR + 6 * minute)], 6),
    ];
    let times: Vec<i64> = [0, 3, 6, 9, 30, 61, 62, 67, 120]
        .iter()
        .map(|m| b + m * minute)
        .chain([now()])
        .collect();
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let mut events = Vec::new();
    for (i, (batch, tiles)) in steps.into_iter().enumerate() {
        let report = ingest_then_seal(&store, &mut events, batch, &times);
        assert_eq!(report.tiles, tiles, "step {i}");
    }
    reopened(store, &dir.0, &events, &times);
}

/// A store fed only live keeps five-minute tiles for 12 hours and hourly ones for 12 days:
/// each seal removes the fine tiles that fell behind the newest row, and values do not change
/// (the evaluator reads those ranges from the sealed rows).
#[test]
fn seals_remove_fine_tiles_that_fell_behind_the_newest_row() {
    let dir = TempDir::new("trim");
    let end = now();
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let mut events = Vec::new();
    let mut trimmed = 0;
    for day in (0..16).rev() {
        let from = end - (day + 1) * DAY;
        let batch: Vec<(String, i64, i64)> = (0..40)
            .map(|i| {
                let k = ["a", "b", "c", "d", "e"][i % 5].to_owned();
                (k, i as i64 % 13, from + (i as i64 * 2_160_001) % DAY)
            })
            .collect();
        store.ingest_json("ev", rows(&batch)).unwrap();
        events.extend(batch);
        trimmed += store.compact().unwrap().trimmed;
        let watermark = events.iter().map(|e| e.2).max().unwrap();
        let report = store.check().unwrap();
        assert_eq!(
            report.tiles,
            expected_tiles(&events, watermark),
            "day {day}"
        );
        check_all(&store, &events, &times(end));
    }
    assert!(trimmed > 0);
    reopened(store, &dir.0, &events, &times(end));
}

/// R-WIN-3 (events with ts < T) when tiles reach past T: a loaded table writes every tile, the
/// current day's, hour's and five minutes' too. A fetch at a T after every stored row may read
/// those tiles whole (they hold no row at or after T: the evaluator covers to the next day
/// boundary); at a T with rows at or after it in the same tiles it must not. Every value equals
/// the naive scan, from tiles alone and with live rows on top.
#[test]
fn tiles_reaching_past_the_query_time_count_only_when_no_row_is_at_or_after_it() {
    let dir = TempDir::new("reach");
    // The day before yesterday: rows of a, b and c, the newest at 13:37:00.005 (the live rows
    // below fall on yesterday, in the past whatever the time of day).
    let day = now().div_euclid(DAY) * DAY - 2 * DAY;
    let minute = 60_000;
    let mut events: Vec<(String, i64, i64)> = (0..60)
        .map(|i| {
            let k = ["a", "b", "c"][i % 3].to_owned();
            (
                k,
                i as i64 + 1,
                day + 13 * HOUR + (i as i64 * 37 % 60) * minute / 2,
            )
        })
        .collect();
    events.push(("a".into(), 1000, day + 13 * HOUR + 37 * minute + 5));
    let newest = day + 13 * HOUR + 37 * minute + 5;
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let (schema, batch) = table_batch(&events);
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let times = [
        newest + 1,                    // after every row, inside the newest five minutes
        newest,                        // the newest row is at T: not counted
        newest - 3,                    // rows after T in the same five minutes
        day + 13 * HOUR + 20 * minute, // rows after T in the same hour
        day + 14 * HOUR + 1,           // after every row, in the next hour
        day + DAY - 1,                 // after every row, the day's last instant
        day + DAY + 7 * minute,        // the next day: between the live rows
        day + DAY + 9 * minute + 1,    // after the live rows
    ];
    check_all(&store, &events, &times);
    // Live rows on top, after the table's last partition (streamed rows before it do not
    // count), unsealed and then sealed: the newest row moves past the last times.
    let live = vec![
        ("a".to_owned(), 5000, day + DAY + 2 * minute),
        ("b".to_owned(), 7000, day + DAY + 9 * minute),
    ];
    ingest_then_seal(&store, &mut events, live, &times);
}

/// A GroupBy whose tiles were all rebuilt (here by loading a partition again, after live rows
/// were sealed) holds whole tiles up to its newest row: the next seal merges the rows of that
/// row's five minutes into their tile and writes every later tile whole once it has ended, the
/// hour and day tiles reaching past the newest row included (R-WIN-3 values unchanged
/// throughout, and every stored tile equal to one rebuilt from the raw rows).
#[test]
fn the_first_seal_after_a_rebuild_writes_the_tiles_that_end() {
    let dir = TempDir::new("first-seal");
    let d = now().div_euclid(DAY) * DAY - 3 * DAY;
    let minute = 60_000;
    let next = d + DAY;
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let table: Vec<(String, i64, i64)> = (0..30)
        .map(|i| {
            let k = ["a", "b", "c"][i % 3].to_owned();
            (k, i as i64 + 1, d + 20 * HOUR + i as i64 * 7 * minute)
        })
        .collect();
    let (schema, batch) = table_batch(&table);
    store
        .load_batches("data.ev", &schema, std::slice::from_ref(&batch))
        .unwrap();
    let mut events = table.clone();
    let streamed = vec![("a".to_owned(), 100, next + 5 * HOUR + 12 * minute + 30_000)];
    store.ingest_json("ev", rows(&streamed)).unwrap();
    events.extend(streamed);
    store.compact().unwrap();
    // The same partition again: every tile is rebuilt, the streamed row's included.
    store.load_batches("data.ev", &schema, &[batch]).unwrap();
    let times = [
        next + 5 * HOUR + 13 * minute,
        next + 5 * HOUR + 15 * minute - 1,
        next + 5 * HOUR + 15 * minute,
        next + 5 * HOUR + 40 * minute,
        next + 6 * HOUR,
        next + 6 * HOUR + 3 * minute,
        next + 8 * HOUR,
        next + 20 * HOUR + 30 * minute,
        next + DAY + HOUR,
        next + 2 * DAY,
    ];
    check_all(&store, &events, &times);
    let streamed = vec![
        // In the newest row's five minutes.
        ("a".to_owned(), 200, next + 5 * HOUR + 13 * minute + 10_000),
        ("c".to_owned(), 300, next + 5 * HOUR + 15 * minute - 1),
        // Later five minutes, and the next hour.
        ("a".to_owned(), 400, next + 5 * HOUR + 31 * minute),
        ("b".to_owned(), 500, next + 6 * HOUR + 2 * minute),
    ];
    ingest_then_seal(&store, &mut events, streamed, &times);
    // Past the hour and the day: those tiles end and are written whole.
    let streamed = vec![
        ("a".to_owned(), 600, next + 7 * HOUR + 20 * minute),
        ("b".to_owned(), 700, next + DAY + 30 * minute),
    ];
    ingest_then_seal(&store, &mut events, streamed, &times);
    reopened(store, &dir.0, &events, &times);
}

/// The stream segment files under the store's `segments/group_bys/`.
fn stream_files(dir: &std::path::Path) -> usize {
    let root = dir.join("segments").join("group_bys");
    let Ok(group_bys) = std::fs::read_dir(root) else {
        return 0;
    };
    group_bys
        .map(|g| std::fs::read_dir(g.unwrap().path()).unwrap().count())
        .sum()
}

/// A seal after every batch: the newest stream segments merge into one as they pile up, so
/// that 64 seals leave a few files instead of 64, with every value, tile and file as before
/// (and after a reopen).
#[test]
fn many_seals_merge_their_stream_segments() {
    let dir = TempDir::new("merge");
    let end = now();
    // Only the seals' merges: the file counts below would race an idle seal thread's.
    let options = || Options {
        merge_when_idle: None,
        ..Options::default()
    };
    let store = Store::open_with_options(&dir.0, options()).unwrap();
    store.apply(&configs()).unwrap();
    let all = sample(640, end);
    let mut events = Vec::new();
    let mut merged = 0;
    for (i, batch) in all.chunks(10).enumerate() {
        store.ingest_json("ev", rows(batch)).unwrap();
        events.extend_from_slice(batch);
        merged += store.compact().unwrap().merged;
        assert_eq!(stream_files(&dir.0), i + 1 - merged, "seal {i}");
        if i % 16 == 15 {
            check_all(&store, &events, &times(end));
            store.check().unwrap();
        }
    }
    assert!(stream_files(&dir.0) <= 15, "{} files", stream_files(&dir.0));
    drop(store);
    let store = Store::open_with_options(&dir.0, options()).unwrap();
    check_all(&store, &events, &times(end));
    store.check().unwrap();
    assert_eq!(stream_files(&dir.0), 64 - merged);
}

/// Eight seals of 30 rows with `seal_rows` 80: each too large for a seal's own merges (at most
/// 40 rows, half of `seal_rows`), so the seals leave eight files.
fn eight_full_size_seals(store: &Store, end: i64) -> Vec<(String, i64, i64)> {
    let all = sample(240, end);
    for batch in all.chunks(30) {
        store.ingest_json("ev", rows(batch)).unwrap();
        assert_eq!(store.compact().unwrap().merged, 0);
    }
    all
}

/// Full-size seals' segments, which seals leave alone, merge in `Store::merge_segments` (up
/// to four times `seal_rows` rows into one): eight files become one, every value and tile as
/// before, and after a reopen.
#[test]
fn merge_segments_merges_what_seals_leave() {
    let dir = TempDir::new("merge-full");
    let end = now();
    let options = || Options {
        seal_rows: 80,
        merge_when_idle: None,
        ..Options::default()
    };
    let store = Store::open_with_options(&dir.0, options()).unwrap();
    store.apply(&configs()).unwrap();
    let events = eight_full_size_seals(&store, end);
    assert_eq!(stream_files(&dir.0), 8);
    assert_eq!(store.merge_segments().unwrap(), 7);
    assert_eq!(stream_files(&dir.0), 1);
    assert_eq!(store.merge_segments().unwrap(), 0);
    check_all(&store, &events, &times(end));
    store.check().unwrap();
    drop(store);
    let store = Store::open_with_options(&dir.0, options()).unwrap();
    check_all(&store, &events, &times(end));
    store.check().unwrap();
    assert_eq!(stream_files(&dir.0), 1);
}

/// The seal thread merges them on its own once no seal has been asked for a while
/// (`Options::merge_when_idle`), with fetches going on meanwhile.
#[test]
fn an_idle_seal_thread_merges_full_size_seals() {
    let dir = TempDir::new("merge-idle");
    let end = now();
    let store = Store::open_with_options(
        &dir.0,
        Options {
            seal_rows: 80,
            merge_when_idle: Some(std::time::Duration::from_millis(20)),
            ..Options::default()
        },
    )
    .unwrap();
    store.apply(&configs()).unwrap();
    let events = eight_full_size_seals(&store, end);
    let waited = std::time::Instant::now();
    while stream_files(&dir.0) > 1 {
        check_all(&store, &events, &times(end));
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "{} files after a minute",
            stream_files(&dir.0)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    check_all(&store, &events, &times(end));
    store.check().unwrap();
    reopened(store, &dir.0, &events, &times(end));
}

/// A live store's current day (`src/store/partial_day.rs`): the seal at each hour's end writes
/// the hour's tiles start first and merges the hour's rows into each key's day-so-far tile;
/// late rows of the day merge into both; at the day's end the day's hour tiles move key first
/// and its whole day tile replaces the partial one. Values equal the naive scan at times that
/// read the partial tile (after the newest row, windows reaching back past the day's start)
/// and at times that read the day's hour tiles instead (ending before the partial tile does),
/// before and after reopening; `check()` rebuilds every tile, the partial ones included.
#[test]
fn the_current_day_is_tiled_start_first_and_its_hours_move_key_first_at_its_end() {
    let dir = TempDir::new("day-so-far");
    // The day before yesterday: every row is in the past, whatever the time of day.
    let d = now().div_euclid(DAY) * DAY - 2 * DAY;
    let store = Store::open(&dir.0).unwrap();
    store.apply(&configs()).unwrap();
    let keys = ["a", "b", "c", "d", "e"];
    let mut events = Vec::new();
    let (mut moved, mut step) = (0, 0);
    // From 20:00 to 04:00 the next day, a seal every 40 minutes.
    let mut at = d + 20 * HOUR;
    while at < d + DAY + 4 * HOUR {
        let mut batch = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            // Not every key in every step.
            if (step + i) % 3 != 0 {
                let v = (step * 7 + i) as i64 % 23;
                batch.push((k.to_string(), v, at + i as i64 * 7 * MINUTE));
            }
        }
        // A late row, three hours back: into an earlier hour of the day (or of the day before).
        if step % 2 == 1 {
            let late = at - 3 * HOUR + 11 * MINUTE;
            batch.push((keys[step % 5].to_string(), 1000 + step as i64, late));
        }
        store.ingest_json("ev", rows(&batch)).unwrap();
        events.extend(batch);
        moved += store.compact().unwrap().moved;
        let newest = events.iter().map(|e| e.2).max().unwrap();
        let day = newest.div_euclid(DAY) * DAY;
        let times = [
            newest + 1,
            newest + 10 * MINUTE,
            newest - 2 * HOUR,
            day + 30 * MINUTE,
            newest.div_euclid(HOUR) * HOUR + 1,
            newest - DAY + HOUR + 1,
        ];
        check_all(&store, &events, &times);
        store.check().unwrap();
        at += 40 * MINUTE;
        step += 1;
    }
    // The day before yesterday's hours from 20:00 on were written start first, and moved.
    assert!(moved > 0, "hour tiles moved key first");
    let newest = events.iter().map(|e| e.2).max().unwrap();
    let times = [newest + 1, d + DAY + HOUR, d + 22 * HOUR + 1, now()];
    reopened(store, &dir.0, &events, &times);
}
