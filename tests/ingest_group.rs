//! Group commit must not change what any request gets: the writer applies the rows of many
//! waiting requests at once, and each request must still get exactly the report (or error) it
//! gets when it is committed alone, with the same values stored.
//!
//! The test sends the same requests to two stores: pipelined to one (`Store::send`, so the
//! writer finds many waiting and groups them), one at a time to the other (`Store::submit`, one
//! request per commit). The requests mix rows filtered by `wheres`, null times, null keys, late
//! rows (the bound is measured against each request's place in the sequence), duplicate
//! sequence numbers (within a group and across commits), rows from the future and rows of a
//! wrong type (which reject their request only), and JSON next to Arrow.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;
use tilefold::query::config::Config;
use tilefold::{ConfigSet, IngestReport, IngestRequest, Options, Rows, Store, Value};

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
use live::{now, Rng, TempDir, DAY, HOUR};

const KEYS: [&str; 4] = ["a", "b", "c", "d"];

/// Two GroupBys on topic `ev`: one filters with `wheres`, one takes every row.
fn configs() -> ConfigSet {
    let filtered = r#"{"metaData": {"name": "t.pos.v1"}, "keyColumns": ["k"],
        "sources": [{"events": {"table": "data.ev", "topic": "ev", "query": {"selects": {"k": "k", "v": "v"}, "wheres": ["v >= 0"], "timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}, "windows": [{"length": 1, "timeUnit": 1}]},
                         {"inputColumn": "v", "operation": 6, "argMap": {}}]}"#;
    let all = r#"{"metaData": {"name": "t.all.v1"}, "keyColumns": ["k"],
        "sources": [{"events": {"table": "data.ev", "topic": "ev", "query": {"selects": {"k": "k", "v": "v"}, "timeColumn": "ts"}}}],
        "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}}]}"#;
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(filtered, None).unwrap());
    set.insert(Config::from_json_str(all, None).unwrap());
    set
}

fn options() -> Options {
    Options {
        max_lateness_ms: Some(6 * HOUR),
        ..Options::default()
    }
}

/// One row: key (None = null), value, ts (None = null).
type Row = (Option<&'static str>, i64, Option<i64>);

fn arrow_rows(rows: &[Row]) -> RecordBatch {
    batch(rows, false)
}

/// Rows whose `v` is a string: the stored rows have LONG `v`, so the request is rejected.
fn mistyped(rows: &[Row]) -> RecordBatch {
    batch(rows, true)
}

fn batch(rows: &[Row], string_values: bool) -> RecordBatch {
    let (v_type, v): (DataType, ArrayRef) = if string_values {
        let v = rows.iter().map(|r| format!("x{}", r.1)).collect::<Vec<_>>();
        (DataType::Utf8, Arc::new(StringArray::from(v)))
    } else {
        let v = rows.iter().map(|r| r.1).collect::<Vec<_>>();
        (DataType::Int64, Arc::new(Int64Array::from(v)))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("v", v_type, true),
        Field::new("ts", DataType::Int64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        v,
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// A deterministic mix of requests, in sending order.
fn requests(seed: u64, count: usize, end: i64) -> Vec<IngestRequest> {
    let mut rng = Rng::new(seed);
    let mut sequences = [0u64; 2];
    let mut out = Vec::with_capacity(count);
    // The first request fixes the stored schema (LONG v) for both GroupBys.
    out.push(IngestRequest {
        topic: "ev".into(),
        rows: Rows::Arrow(arrow_rows(&[(Some("a"), 1, Some(end - 3 * HOUR))])),
        producer: None,
    });
    while out.len() < count {
        let n = rng.between(1, 5) as usize;
        let mut rows: Vec<Row> = Vec::with_capacity(n);
        for _ in 0..n {
            let k = match rng.between(0, 20) {
                0 => None,
                i => Some(KEYS[i as usize % KEYS.len()]),
            };
            let v = rng.between(0, 50) as i64 - 10; // some negative: filtered by t.pos.v1
                                                    // Mostly the last two hours; some up to two days back (late past the 6 h bound
                                                    // once newer rows arrived); a few null.
            let ts = match rng.between(0, 30) {
                0 => None,
                1..=4 => Some(end - DAY - rng.between(0, DAY as u64) as i64),
                _ => Some(end - 2 * HOUR + rng.between(0, 2 * HOUR as u64) as i64),
            };
            rows.push((k, v, ts));
        }
        let kind = rng.between(0, 40);
        if kind == 0 {
            // A row from the future rejects its request.
            rows.push((Some("a"), 5, Some(end + DAY)));
        }
        let rows = match kind {
            1 => Rows::Arrow(mistyped(&rows)),
            2..=7 => Rows::Json(
                rows.iter()
                    .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
                    .collect(),
            ),
            _ => Rows::Arrow(arrow_rows(&rows)),
        };
        // Two idempotent producers; now and then a sequence number is repeated (a retry).
        let producer = match rng.between(0, 4) {
            0 | 1 => {
                let p = rng.between(0, 1) as usize;
                if rng.between(0, 6) > 0 || sequences[p] == 0 {
                    sequences[p] += 1;
                }
                let sequence = sequences[p] - rng.between(0, 2).min(sequences[p] - 1);
                Some((format!("p{p}"), sequence))
            }
            _ => None,
        };
        out.push(IngestRequest {
            topic: "ev".into(),
            rows,
            producer,
        });
    }
    // An unknown topic in the middle.
    out.insert(
        count / 2,
        IngestRequest {
            topic: "nope".into(),
            rows: Rows::Arrow(arrow_rows(&[(Some("a"), 1, Some(end - HOUR))])),
            producer: None,
        },
    );
    out
}

/// A request's outcome; an error by its message, without the clock reading it may hold.
fn outcome(result: tilefold::Result<IngestReport>) -> Result<IngestReport, String> {
    result.map_err(|e| {
        let text = e.to_string();
        match text.find("ahead of the clock (") {
            Some(at) => text[..at].to_owned(),
            None => text,
        }
    })
}

fn values(store: &Store, end: i64) -> BTreeMap<(String, String, i64), Vec<(String, Value)>> {
    let mut all = BTreeMap::new();
    for group_by in ["t.pos.v1", "t.all.v1"] {
        for k in KEYS {
            for t in [end, end - HOUR, end - 5 * HOUR, end - DAY, end + HOUR] {
                let keys = BTreeMap::from([("k".to_owned(), Value::String(k.into()))]);
                let features = store.fetch_group_by(group_by, &keys, Some(t)).unwrap();
                all.insert((group_by.to_owned(), k.to_owned(), t), features.values);
            }
        }
    }
    all
}

#[test]
fn grouped_requests_get_the_reports_and_values_they_get_one_at_a_time() {
    let end = now();
    for seed in [1, 2, 3] {
        let requests = requests(seed, 600, end);
        let alone_dir = TempDir::new(&format!("group-alone-{seed}"));
        let alone = Store::open_with_options(&alone_dir.0, options()).unwrap();
        alone.apply(&configs()).unwrap();
        let expected: Vec<_> = requests
            .iter()
            .map(|r| outcome(alone.submit(r.clone())))
            .collect();

        let grouped_dir = TempDir::new(&format!("group-together-{seed}"));
        let grouped = Store::open_with_options(&grouped_dir.0, options()).unwrap();
        grouped.apply(&configs()).unwrap();
        let pending: Vec<_> = requests
            .iter()
            .map(|r| grouped.send(r.clone()).unwrap())
            .collect();
        let got: Vec<_> = pending.into_iter().map(|p| outcome(p.wait())).collect();

        // The mix must exercise every path (else the comparison proves little).
        let reports: Vec<&IngestReport> = expected.iter().filter_map(|r| r.as_ref().ok()).collect();
        let sum = |f: fn(&tilefold::RowCounts) -> usize| -> usize {
            reports
                .iter()
                .flat_map(|r| r.group_bys.values())
                .map(f)
                .sum()
        };
        assert!(sum(|c| c.filtered) > 0 && sum(|c| c.null_time) > 0 && sum(|c| c.null_keys) > 0);
        assert!(sum(|c| c.late) > 0 && sum(|c| c.kept) > 0);
        assert!(reports.iter().any(|r| r.duplicate));
        assert!(expected.iter().filter(|r| r.is_err()).count() >= 3);

        for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got, expected, "seed {seed}, request {i}");
        }
        assert_eq!(grouped.head_rows(), alone.head_rows(), "seed {seed}");
        for p in ["p0", "p1"] {
            assert_eq!(grouped.producer_sequence(p), alone.producer_sequence(p));
        }
        assert_eq!(values(&grouped, end), values(&alone, end), "seed {seed}");
        grouped.compact().unwrap();
        assert_eq!(values(&grouped, end), values(&alone, end), "seed {seed}");
        grouped.check().unwrap();
    }
}
