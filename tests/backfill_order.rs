//! Backfill evaluates a batch's left rows sorted by (key, query time), split over threads at key
//! boundaries, and shares one key's tiles between consecutive rows; none of this may show in
//! its output, whatever the batch size. Invariants (R-JOIN-1,
//! R-ONL-2, DESIGN.md I1):
//!
//! - every backfill row holds exactly what `fetch_join` gives for its key at its `ts`, whatever
//!   the order and repetition of the left rows: many rows of few keys in shuffled time order,
//!   duplicate (key, ts) rows, times on 5-minute, hour, day, 4-day and 16-day boundaries, times
//!   far apart (before the first event, long after the last), and batches whose rows cluster
//!   around one instant, so that a later row of a key asks for tiles the rows before it did not
//!   read, at later and at earlier starts (a memo served without checking the start it covers
//!   makes about 200 rows differ);
//! - rows come out in left-input order (R-JOIN-1);
//! - two join parts over different GroupBys with the same key never see each other's tiles;
//! - an error still names the first failing row in left-input order, whichever thread meets it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use serde_json::json;
use tilefold::query::config::{GroupBy, Join};
use tilefold::query::value::value_at;
use tilefold::{BackfillOptions, ConfigSet, Left, Store, Value};

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
#[path = "support/naive.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod naive;
use live::TempDir;
use naive::day_name;

const FIVE_MINUTES: i64 = 300_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// 2023-11-15T00:00:00Z.
const BASE: i64 = 19_676 * DAY;
const SPAN_DAYS: i64 = 40;
/// Keys with data, most frequent first (a zipf-like skew), and how many events each has.
const KEYS: [(&str, usize); 4] = [("a", 2400), ("b", 700), ("c", 150), ("d", 30)];
/// Windows with every tail hop (R-WIN-2): 1 h → 5 min, 12 h and 2 d → 1 h, 12 d and 30 d → 1 d.
const WINDOWS: [(i64, u8); 5] = [(1, 0), (12, 0), (2, 1), (12, 1), (30, 1)];

const JOIN: &str = "test.order.v1";
const JOIN_BY_NUMBER: &str = "test.order_n.v1";

/// SplitMix64: a small deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

fn ds(t: i64) -> String {
    day_name(t.div_euclid(DAY))
}

/// SNAPSHOT GroupBys take day windows only.
const DAY_WINDOWS: [(i64, u8); 3] = [(1, 1), (5, 1), (30, 1)];

fn windows_json() -> serde_json::Value {
    windows(&WINDOWS)
}

fn windows(windows: &[(i64, u8)]) -> serde_json::Value {
    windows
        .iter()
        .map(|(n, u)| json!({"length": n, "timeUnit": u}))
        .collect()
}

/// Three GroupBys over `data.ev`: `g` (TEMPORAL, keyed by `k`, order-sensitive LAST_K among
/// others), `h` (SNAPSHOT, keyed by `k` too, other values) and `n` (keyed by the LONG `n`).
fn configs() -> ConfigSet {
    let source = |selects: serde_json::Value| {
        json!([{"events": {"table": "data.ev", "query": {
            "selects": selects, "timeColumn": "ts", "setups": []}}}])
    };
    let g = json!({
        "metaData": {"name": "test.order_g.v1", "online": 1, "team": "test"},
        "sources": source(json!({"k": "k", "v": "v", "s": "s"})),
        "keyColumns": ["k"],
        "accuracy": 0,
        "aggregations": [
            {"inputColumn": "v", "operation": 7, "argMap": {}, "windows": windows_json()},
            {"inputColumn": "v", "operation": 1, "argMap": {}, "windows": windows_json()},
            {"inputColumn": "s", "operation": 4, "argMap": {}, "windows": windows_json()},
            {"inputColumn": "v", "operation": 13, "argMap": {"k": "3"}, "windows": windows_json()},
        ],
    });
    let h = json!({
        "metaData": {"name": "test.order_h.v1", "online": 1, "team": "test"},
        "sources": source(json!({"k": "k", "w": "v * 3 + 1"})),
        "keyColumns": ["k"],
        "accuracy": 1,
        "aggregations": [
            {"inputColumn": "w", "operation": 8, "argMap": {}, "windows": windows(&DAY_WINDOWS)},
            {"inputColumn": "w", "operation": 0, "argMap": {}, "windows": windows(&DAY_WINDOWS)},
            {"inputColumn": "w", "operation": 6, "argMap": {}},
        ],
    });
    let n = json!({
        "metaData": {"name": "test.order_n.v1", "online": 1, "team": "test"},
        "sources": source(json!({"n": "n", "v": "v"})),
        "keyColumns": ["n"],
        "accuracy": 0,
        "aggregations": [
            {"inputColumn": "v", "operation": 7, "argMap": {}, "windows": windows_json()},
        ],
    });
    let left = |selects: serde_json::Value| {
        json!({"events": {"table": "data.left", "query": {
            "selects": selects, "timeColumn": "ts", "setups": []}}})
    };
    let join = json!({
        "metaData": {"name": JOIN, "online": 1, "team": "test"},
        "left": left(json!({"k": "k", "ts": "ts"})),
        "joinParts": [{"groupBy": g}, {"groupBy": h}],
    });
    let join_by_number = json!({
        "metaData": {"name": JOIN_BY_NUMBER, "online": 1, "team": "test"},
        "left": left(json!({"n": "n", "ts": "ts"})),
        "joinParts": [{"groupBy": n}],
    });
    let mut configs = ConfigSet::new();
    for group_by in [g, h, n] {
        let parsed = GroupBy::from_json_str(&group_by.to_string()).expect("GroupBy config");
        configs.group_bys.insert(parsed.name().to_owned(), parsed);
    }
    for (name, join) in [(JOIN, join), (JOIN_BY_NUMBER, join_by_number)] {
        let parsed = Join::from_json_str(&join.to_string()).expect("Join config");
        configs.joins.insert(name.to_owned(), parsed);
    }
    configs
}

/// Events of the keys over `SPAN_DAYS` days, and a burst in the newest 12 hours (where 5-minute
/// tiles are kept).
fn event_batch(rng: &mut Rng) -> (SchemaRef, RecordBatch) {
    let end = BASE + SPAN_DAYS * DAY;
    let mut rows: Vec<(&str, i64, i64, String, i64)> = Vec::new();
    for (n, (key, count)) in KEYS.iter().enumerate() {
        for i in 0..*count {
            let ts = if i % 8 == 0 {
                rng.range(end - 12 * HOUR, end)
            } else {
                rng.range(BASE, end)
            };
            let v = rng.range(-50, 1000);
            let s = format!("s{}", rng.below(40));
            rows.push((key, n as i64, v, s, ts));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", ArrowType::Utf8, true),
        Field::new("n", ArrowType::Int64, true),
        Field::new("v", ArrowType::Int64, true),
        Field::new("s", ArrowType::Utf8, true),
        Field::new("ts", ArrowType::Int64, true),
        Field::new("ds", ArrowType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.1)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| Some(r.2)).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.3.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(rows.iter().map(|r| Some(r.4)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| Some(ds(r.4))).collect::<StringArray>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("event batch");
    (schema, batch)
}

fn open_store(dir: &TempDir, rng: &mut Rng) -> Store {
    let store = Store::open(&dir.0).expect("open");
    store.apply(&configs()).expect("apply");
    let (schema, events) = event_batch(rng);
    store
        .load_batches("data.ev", &schema, &[events])
        .expect("load");
    store
}

/// A query time: anywhere, on a hop or tile boundary, or far from the events.
fn query_time(rng: &mut Rng) -> i64 {
    let anywhere = rng.range(BASE - DAY, BASE + (SPAN_DAYS + 5) * DAY);
    match rng.below(10) {
        // Just after the newest events: 5-minute tiles.
        8 => BASE + SPAN_DAYS * DAY - rng.range(0, 6 * HOUR),
        9 => [BASE - 20 * DAY, BASE + 90 * DAY, BASE + 400 * DAY][rng.below(3) as usize],
        _ => aligned(rng, anywhere),
    }
}

/// `t` as is or floored to a hop or tile size (5 minutes, 1 hour, 1, 4 or 16 days).
fn aligned(rng: &mut Rng, t: i64) -> i64 {
    let unit = [1, FIVE_MINUTES, HOUR, DAY, 4 * DAY, 16 * DAY][rng.below(6) as usize];
    t.div_euclid(unit) * unit
}

/// Query times a few days around `center`: as a key's rows move later, its windows' starts
/// cross tile boundaries, where a level's first tile can move earlier (a coarser tile no
/// longer fits at the start of the window).
fn near(rng: &mut Rng, center: i64) -> i64 {
    let t = center + rng.range(-3 * DAY, 3 * DAY);
    aligned(rng, t)
}

/// A left key: mostly `a`, then `b`, ...; sometimes one without data or null.
fn left_key(rng: &mut Rng) -> Option<&'static str> {
    match rng.below(100) {
        0..=49 => Some("a"),
        50..=74 => Some("b"),
        75..=86 => Some("c"),
        87..=92 => Some("d"),
        93..=96 => Some("zz"),
        _ => None,
    }
}

fn left_batch(rows: &[(Option<&str>, i64)], key_column: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new(key_column, ArrowType::Utf8, true),
        Field::new("ts", ArrowType::Int64, true),
        Field::new("ds", ArrowType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.0).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.1)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| Some(ds(r.1))).collect::<StringArray>()),
    ];
    RecordBatch::try_new(schema, columns).expect("left batch")
}

/// Left batches: a large shuffled one (split over the backfill's threads) with duplicate rows;
/// many small ones of one to three keys whose times cluster around a random instant (each
/// batch starts a new memo, so many keys start their rows at many different times); one of a
/// single key (both join parts read that same key one after the other).
fn left_rows(rng: &mut Rng) -> Vec<Vec<(Option<&'static str>, i64)>> {
    let mut large: Vec<(Option<&str>, i64)> = (0..2000)
        .map(|_| (left_key(rng), query_time(rng)))
        .collect();
    for _ in 0..400 {
        let copy = large[rng.below(large.len() as u64) as usize];
        large.push(copy);
    }
    rng.shuffle(&mut large);
    let mut batches = vec![large];
    for _ in 0..150 {
        let center = rng.range(BASE, BASE + (SPAN_DAYS + 5) * DAY);
        let keys: Vec<Option<&str>> = (0..1 + rng.below(3)).map(|_| left_key(rng)).collect();
        let mut small: Vec<(Option<&str>, i64)> = (0..10 + rng.below(30))
            .map(|_| {
                (
                    keys[rng.below(keys.len() as u64) as usize],
                    near(rng, center),
                )
            })
            .collect();
        small.push(small[0]);
        rng.shuffle(&mut small);
        batches.push(small);
    }
    batches.push((0..300).map(|_| (Some("c"), query_time(rng))).collect());
    batches
}

#[test]
fn backfill_rows_equal_fetch_in_left_order_whatever_the_row_order() {
    let dir = TempDir::new("equal");
    let mut rng = Rng(7);
    let store = open_store(&dir, &mut rng);
    let batches = left_rows(&mut rng);
    // The default batch holds every row; the others cut the input elsewhere than its batches,
    // and split keys between batches.
    for batch_rows in [BackfillOptions::default().batch_rows, 1, 97, 1000] {
        let options = BackfillOptions {
            batch_rows,
            ..BackfillOptions::default()
        };
        backfill_equals_fetch(&store, &batches, &options);
    }
}

fn backfill_equals_fetch(
    store: &Store,
    batches: &[Vec<(Option<&'static str>, i64)>],
    options: &BackfillOptions,
) {
    let input: Vec<RecordBatch> = batches.iter().map(|b| left_batch(b, "k")).collect();
    let out: Vec<RecordBatch> = store
        .backfill(JOIN, Left::Batches(input), options)
        .expect("backfill")
        .collect::<Result<_, _>>()
        .expect("backfill batches");
    assert!(
        out.iter().all(|b| b.num_rows() <= options.batch_rows),
        "batches of at most {} rows",
        options.batch_rows
    );
    let expected: Vec<(Option<&str>, i64)> = batches.concat();
    assert_eq!(
        out.iter().map(RecordBatch::num_rows).sum::<usize>(),
        expected.len(),
        "R-JOIN-1: one row per left row"
    );
    let mut row = 0;
    let mut non_null = 0;
    let mut differing: Vec<String> = Vec::new();
    for batch in &out {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for r in 0..batch.num_rows() {
            let cell = |c: usize| value_at(batch.column(c).as_ref(), r).unwrap_or(Value::Null);
            let (key, t) = expected[row];
            let key = key.map_or(Value::Null, |k| Value::String(k.to_owned()));
            assert_eq!(
                (cell(0), cell(1)),
                (key.clone(), Value::Long(t)),
                "row {row}: left columns in left-input order (R-JOIN-1)"
            );
            let offline: Vec<(String, Value)> = (3..names.len())
                .map(|c| (names[c].clone(), cell(c)))
                .filter(|(_, v)| !v.is_null())
                .collect();
            let keys = BTreeMap::from([("k".to_owned(), key)]);
            let online = store.fetch_join(JOIN, &keys, Some(t)).expect("fetch");
            if offline != online.values {
                differing.push(format!(
                    "row {row} ({keys:?} at {t}):\n  backfill: {offline:?}\n  fetch:    {:?}",
                    online.values
                ));
            }
            non_null += offline.len();
            row += 1;
        }
    }
    assert!(
        differing.is_empty(),
        "batch rows {}: {} of {} backfill rows differ from fetch; the first:\n{}",
        options.batch_rows,
        differing.len(),
        expected.len(),
        differing[..differing.len().min(3)].join("\n")
    );
    assert!(non_null > 10 * expected.len(), "the rows have values");
}

#[test]
fn backfill_error_names_the_first_failing_row_in_left_order() {
    let dir = TempDir::new("error");
    let mut rng = Rng(11);
    let store = open_store(&dir, &mut rng);
    let t = BASE + 10 * DAY;
    // Sorted by key, "bad1" would come first; in left order "bad2" does.
    let rows = [
        (Some("1"), t),
        (Some("0"), t + HOUR),
        (Some("bad2"), t),
        (Some("2"), t),
        (Some("bad1"), t - DAY),
        (Some("1"), t - HOUR),
    ];
    let input = vec![left_batch(&rows, "n")];
    let result: Result<Vec<RecordBatch>, _> = store
        .backfill(
            JOIN_BY_NUMBER,
            Left::Batches(input),
            &BackfillOptions::default(),
        )
        .expect("backfill")
        .collect();
    let error = result
        .expect_err("a key that does not cast fails the batch")
        .to_string();
    assert!(
        error.contains("join part test_order_n_v1") && error.contains("bad2"),
        "{error}"
    );
}

/// Rows are split over threads by key; the error is still that of the first failing row in
/// left order, though the key of a later failing row sorts first and may finish first.
#[test]
fn a_failing_row_in_any_thread_is_reported_by_left_order() {
    let dir = TempDir::new("threads");
    let mut rng = Rng(13);
    drop(open_store(&dir, &mut rng));
    // Corrupt one day tile of keys `b` and `d` (keys `a` ... `d` have events on every day).
    let day = BASE + 10 * DAY;
    {
        let codec =
            tilefold::query::key::KeyCodec::new(vec![("k".into(), tilefold::DataType::String)])
                .expect("codec");
        let db = tilefold::storage::Database::open(&dir.0).expect("database");
        let mut txn = db.begin_write().expect("write");
        for k in ["b", "d"] {
            let key = codec
                .encode(&[Value::String(k.into())])
                .expect("encode")
                .expect("key");
            txn.put_raw_tile("test.order_g.v1", &key, 2, day, b"\x01\x02\x03")
                .expect("put");
        }
        txn.commit().expect("commit");
    }
    let store = Store::open(&dir.0).expect("reopen");
    // 2,000 good rows (`a`, `c`, times before the corrupt day), one `d` row at 600 and one `b`
    // row at 1,500 whose windows hold the corrupt tile.
    let mut rows: Vec<(Option<&str>, i64)> = (0..2000)
        .map(|i| {
            let k = if i % 2 == 0 { "a" } else { "c" };
            (Some(k), BASE + rng.range(0, 9 * DAY))
        })
        .collect();
    rows[600] = (Some("d"), day + 2 * DAY);
    rows[1500] = (Some("b"), day + 2 * DAY);
    for first_bad in ["d", "b"] {
        let mut rows = rows.clone();
        if first_bad == "b" {
            rows.swap(600, 1500);
        }
        let result: Result<Vec<RecordBatch>, _> = store
            .backfill(
                JOIN,
                Left::Batches(vec![left_batch(&rows, "k")]),
                &BackfillOptions::default(),
            )
            .expect("backfill")
            .collect();
        let error = result.expect_err("a corrupt tile fails").to_string();
        let other = if first_bad == "b" { "d" } else { "b" };
        let hex = |k: &str| {
            tilefold::query::key::hex(
                &tilefold::query::key::KeyCodec::new(vec![(
                    "k".into(),
                    tilefold::DataType::String,
                )])
                .expect("codec")
                .encode(&[Value::String(k.into())])
                .expect("encode")
                .expect("key"),
            )
        };
        assert!(
            error.contains("corrupted tile") && error.contains(&hex(first_bad)),
            "first bad {first_bad}: {error}"
        );
        assert!(!error.contains(&hex(other)), "{error}");
    }
}
