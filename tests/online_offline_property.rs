//! DESIGN.md invariant I1, online equals offline: for random events, random events GroupBys and
//! random query times T,
//!
//! `store.fetch_group_by(g, {k}, Some(T))` == the backfill row of a join over g for the left row
//! `(k, T)` == a naive scan of the raw events that implements SEMANTICS.md directly
//! (`support/naive.rs`), and the fetch gives the same map again after the store is dropped and
//! reopened.
//!
//! Rules exercised:
//! - windows: R-WIN-1 (unbounded), R-WIN-2 (tail hops 5 min / 1 h / 1 d, E-03, E-36 `_24h`),
//!   R-WIN-3 and R-WIN-4 (point-in-time rule, sawtooth), R-WIN-5 / E-01 (`ts == T` excluded),
//!   E-02 (an event exactly at `floor(T − W, hop)` is included, 1 ms earlier is not);
//! - accuracy: R-ACC-1 (inference from `topic`, explicit accuracy wins, E-40), R-ACC-2 and
//!   R-ONL-3 (SNAPSHOT: `[start(D) − W, start(D))` with D = ts_ds(T), E-05, E-06 left partition
//!   ignored), R-ONL-2 (TEMPORAL fetch == offline value at T);
//! - sources: R-SRC-1 (null `ts` dropped), R-SRC-2 / E-24 (null keys dropped; a null fetch key
//!   gives an empty map, R-ONL-4; a null left key gives nulls, R-JOIN-4), R-SRC-4 / E-34 (a late
//!   event stored in a later partition counts by its `ts`);
//! - aggregations: all 20 operations of §3.2 over LONG / DOUBLE / STRING inputs, with nulls, NaN,
//!   ±0.0, LONG overflow (E-22), UTF-16 string order (E-20), `argMap` `k` / `percentiles`
//!   (R-AGG-9), buckets (R-AGG-8, E-15 null bucket ignored), R-AGG-1 (null outputs), R-AGG-3
//!   (NaN rule), R-AGG-12 (doubles compared with relative tolerance 1e-9, absolute 1e-12);
//!   APPROX_UNIQUE_COUNT falls back to R-OP-APPROXUNIQUE's bound when its sketch is not
//!   bit-identical to the oracle's, APPROX_PERCENTILE / APPROX_HISTOGRAM_K are then only compared
//!   fetch against backfill (exactly);
//! - naming and output: R-NAME-1, R-NAME-2, R-NAME-6, R-CFG-6 (`<cleanName>_<feature>`),
//!   R-JOIN-1 (one row per left row, left order, left columns then `ts`, `ds`), R-JOIN-5 and
//!   R-ONL-6 (a key with no data: null offline, absent online), E-08.
//!
//! Tiles: events are loaded in one or two `load_batches` calls (disjoint partition sets, older
//! partitions possibly after newer ones), and query times are drawn on event times, hop
//! boundaries, window edges and just after the newest event, so that 5-minute, hourly and daily
//! tiles and raw ranges all take part.
//!
//! Cases: 64 by default; `PROPTEST_CASES` overrides it.

#[path = "support/naive.rs"]
mod naive;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use naive::{
    day_name, floor, tail_hop, ts_ds, window_millis, AggSpec, Column, Event, WindowSpec,
    APPROX_HISTOGRAM_K, APPROX_PERCENTILE, APPROX_UNIQUE_COUNT, DAY, FIVE_MINUTES, HOUR,
};
use tilefold::query::config::{GroupBy, Join};
use tilefold::query::value::value_at;
use tilefold::{BackfillOptions, ConfigSet, Left, Store, Value};

const GROUP_BY: &str = "test.g.v1";
const JOIN: &str = "test.j.v1";
/// R-NAME-6 / R-CFG-6: `cleanName(test.g.v1)`.
const PREFIX: &str = "test_g_v1_";
/// 2023-11-15T00:00:00Z as a day number.
const BASE_DAY: i64 = 19_676;
const SPAN_DAYS: i64 = 20;
const KEYS: [Option<&str>; 5] = [Some("a"), Some("b"), Some("c"), Some("d"), None];

/// The windows drawn from: every tail hop (R-WIN-2), both sides of each hop threshold.
const WINDOWS: [WindowSpec; 9] = [
    (1, 0),   // 1 h → 5 min
    (11, 0),  // 11 h → 5 min
    (12, 0),  // 12 h → 1 h
    (24, 0),  // 24 h → 1 h (E-36)
    (2, 1),   // 2 d → 1 h
    (11, 1),  // 11 d → 1 h
    (12, 1),  // 12 d → 1 d
    (30, 1),  // 30 d → 1 d
    (288, 0), // 288 h → 1 d (E-03)
];

const X_VALUES: [f64; 9] = [-1.5, -0.0, 0.0, 0.1, 0.25, 2.0, 3.0, 7.5, 1e10];
const S_VALUES: [&str; 7] = ["a", "b", "c", "d", "e", "\u{FF21}", "\u{1F600}"];

fn base() -> i64 {
    BASE_DAY * DAY
}

// ---------------------------------------------------------------------------------------------
// Generators

/// How one query time is chosen; resolved against the case's events.
#[derive(Debug, Clone)]
enum TimeChoice {
    /// An event's `ts` plus −1, 0 or +1 ms (E-01 ties).
    AtEvent(usize, i64),
    /// An offset from the base, often hop-aligned.
    Offset(i64),
    /// `ts + W + delta` for an event and a window: the event sits on or near the window start
    /// (E-02).
    WindowEdge(usize, usize, i64),
    /// The newest event's `ts` plus a delta: a "now"-like query served by the fine tiles.
    AfterLast(i64),
    /// Near where the store stops keeping fine tiles (12 h of 5-minute tiles, 12 days of hourly
    /// tiles before the newest event; DESIGN.md): `edge + W + delta` puts a window's start
    /// there, `edge + delta` its end. Level 0 = 5 min, 1 = hour; window `None` = end.
    KeptEdge(u8, Option<usize>, i64),
}

#[derive(Debug, Clone)]
struct Query {
    at: TimeChoice,
    /// The left row sits in the next partition (E-06: D comes from `ts`, not `ds`).
    left_late: bool,
}

#[derive(Debug, Clone)]
struct Case {
    events: Vec<Event>,
    aggs: Vec<AggSpec>,
    snapshot: bool,
    topic: bool,
    explicit_accuracy: bool,
    /// 0: one load; two loads of: 1 alternate partitions, 2 newer partitions first, 3 older
    /// partitions first (a daily append).
    load_mode: u8,
    queries: Vec<Query>,
}

fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => (0..SPAN_DAYS).prop_map(|d| d * DAY),
        3 => (0..SPAN_DAYS * 24).prop_map(|h| h * HOUR),
        3 => (0..SPAN_DAYS * 288).prop_map(|f| f * FIVE_MINUTES),
        3 => 0..SPAN_DAYS * DAY,
        // The newest half day, where fine tiles are kept.
        3 => (SPAN_DAYS * DAY - DAY / 2)..SPAN_DAYS * DAY,
        2 => (SPAN_DAYS * 288 - 144..SPAN_DAYS * 288).prop_map(|f| f * FIVE_MINUTES),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    let key = prop_oneof![
        8 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|s| Some(s.to_owned())),
        1 => Just(None),
    ];
    let v = prop_oneof![
        8 => (-5i64..=20).prop_map(Some),
        2 => Just(None),
        1 => Just(Some(i64::MAX - 3)), // E-22 wrap-around
    ];
    let x = prop_oneof![
        8 => prop::sample::select(X_VALUES.to_vec()).prop_map(Some),
        2 => Just(None),
        1 => Just(Some(f64::NAN)),
    ];
    let s = prop_oneof![
        6 => prop::sample::select(S_VALUES.to_vec()).prop_map(|s| Some(s.to_owned())),
        1 => Just(None),
    ];
    let b = prop_oneof![
        3 => Just(Some("p".to_owned())),
        3 => Just(Some("q".to_owned())),
        1 => Just(None),
    ];
    let ts = prop_oneof![15 => offset().prop_map(Some), 1 => Just(None)];
    let late = prop_oneof![8 => Just(0i64), 1 => 1..=3i64];
    (key, v, x, s, b, ts, late, 0..SPAN_DAYS).prop_map(|(k, v, x, s, b, ts, late, day)| {
        let ts = ts.map(|o| base() + o);
        let ds = match ts {
            Some(t) => day_name(t.div_euclid(DAY) + late),
            None => day_name(BASE_DAY + day),
        };
        Event {
            k,
            v,
            x,
            s,
            b,
            ts,
            ds,
        }
    })
}

/// Input columns an operation accepts here (SEMANTICS.md §3.2).
fn inputs_for(op: u8) -> &'static [&'static str] {
    match op {
        0 | 1 | 4 | 15 | 16 => &["v", "x", "s"],
        2 | 3 | 6 | 13 | 14 => &["v", "x", "s", "b"],
        5 => &["s", "v", "x"],
        7..=11 => &["v", "x"],
        12 => &["x", "v"],
        17 => &["s"],
        18 | 19 => &["s", "v"],
        _ => unreachable!(),
    }
}

/// `argMap.k` choices per operation (required for the k operations, R-AGG-9).
fn k_for(op: u8, choice: usize) -> Option<i64> {
    let choices: [Option<i64>; 4] = match op {
        13..=16 => [Some(1), Some(2), Some(3), Some(5)],
        17 => [None, Some(2), None, Some(3)],
        18 => [None, Some(2), Some(4), None],
        19 => [None, Some(2), Some(3), None],
        5 => [None, Some(8), Some(12), None],
        12 => [None, None, Some(16), None],
        _ => [None; 4],
    };
    choices[choice % 4]
}

type RawAgg = (u8, usize, usize, Vec<usize>, bool);

fn raw_agg() -> impl Strategy<Value = RawAgg> {
    (
        0..20u8,
        0..4usize,
        0..4usize,
        prop::sample::subsequence((0..WINDOWS.len()).collect::<Vec<_>>(), 0..=3),
        prop::bool::weighted(0.3),
    )
}

fn resolve_aggs(raw: &[RawAgg], snapshot: bool) -> Vec<AggSpec> {
    let mut out: Vec<AggSpec> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (op, input, k, windows, bucket) in raw {
        let inputs = inputs_for(*op);
        let windows: Vec<WindowSpec> = windows
            .iter()
            .map(|&w| WINDOWS[w])
            // E-35: a SNAPSHOT GroupBy takes DAYS windows only.
            .filter(|w| !snapshot || w.1 == 1)
            .collect();
        let agg = AggSpec {
            op: *op,
            input: inputs[input % inputs.len()],
            k: k_for(*op, *k),
            percentiles: (*op == APPROX_PERCENTILE && k % 2 == 0).then(|| vec![0.5, 0.9]),
            windows,
            bucket: *bucket,
        };
        // R-NAME-4: duplicate output names are a config error; keep the first.
        let new = agg.column_names();
        if new.iter().any(|n| names.contains(n)) {
            continue;
        }
        names.extend(new);
        out.push(agg);
    }
    out
}

fn query() -> impl Strategy<Value = Query> {
    let at = prop_oneof![
        3 => (0..64usize, -1i64..=1).prop_map(|(e, d)| TimeChoice::AtEvent(e, d)),
        3 => offset().prop_map(TimeChoice::Offset),
        3 => (
            0..64usize,
            0..WINDOWS.len(),
            prop::sample::select(vec![0, 1, -1, FIVE_MINUTES, HOUR, DAY - 1]),
        )
            .prop_map(|(e, w, d)| TimeChoice::WindowEdge(e, w, d)),
        2 => (
            0..2u8,
            prop::option::weighted(0.7, 0..WINDOWS.len()),
            prop_oneof![
                -HOUR..HOUR,
                prop::sample::select(vec![0, 1, -1, FIVE_MINUTES, -FIVE_MINUTES, HOUR, -HOUR]),
            ],
        )
            .prop_map(|(l, w, d)| TimeChoice::KeptEdge(l, w, d)),
        4 => prop_oneof![
            0..13 * HOUR,
            (0..=156i64).prop_map(|f| f * FIVE_MINUTES),
            13 * HOUR..3 * DAY,
        ]
        .prop_map(TimeChoice::AfterLast),
    ];
    (at, prop::bool::weighted(0.15)).prop_map(|(at, left_late)| Query { at, left_late })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(event(), 1..64),
        prop::collection::vec(raw_agg(), 1..=4),
        prop::bool::weighted(0.25),
        any::<bool>(),
        any::<bool>(),
        0..4u8,
        prop::collection::vec(query(), 2..=6),
    )
        .prop_map(
            |(events, raw, snapshot, explicit_accuracy, topic, load_mode, queries)| {
                // R-ACC-1: without an explicit accuracy, a topic makes it TEMPORAL.
                let topic = if explicit_accuracy { topic } else { !snapshot };
                let mut events = events;
                // At least one row survives R-SRC-1/R-SRC-2, so the GroupBy has data: with none,
                // backfill fails while fetch returns empty maps (see
                // `backfill_when_no_loaded_row_survives_the_source_query`).
                if !events.iter().any(|e| e.k.is_some() && e.ts.is_some()) {
                    let e = &mut events[0];
                    e.k = Some("a".to_owned());
                    let ts = e.ts.unwrap_or(base() + (SPAN_DAYS - 1) * DAY);
                    e.ts = Some(ts);
                    e.ds = ts_ds(ts);
                }
                Case {
                    events,
                    aggs: resolve_aggs(&raw, snapshot),
                    snapshot,
                    topic,
                    explicit_accuracy,
                    load_mode,
                    queries,
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Configs, batches

fn group_by_json(case: &Case) -> serde_json::Value {
    use serde_json::json;
    let aggregations: Vec<serde_json::Value> = case
        .aggs
        .iter()
        .map(|a| {
            let mut arg_map = serde_json::Map::new();
            if let Some(k) = a.k {
                arg_map.insert("k".into(), json!(k.to_string()));
            }
            if let Some(p) = &a.percentiles {
                let list: Vec<String> = p.iter().map(|p| p.to_string()).collect();
                arg_map.insert(
                    "percentiles".into(),
                    json!(format!("[{}]", list.join(", "))),
                );
            }
            let mut agg = json!({
                "inputColumn": a.input,
                "operation": a.op,
                "argMap": arg_map,
            });
            if !a.windows.is_empty() {
                agg["windows"] = a
                    .windows
                    .iter()
                    .map(|(n, u)| json!({"length": n, "timeUnit": u}))
                    .collect();
            }
            if a.bucket {
                agg["buckets"] = json!(["b"]);
            }
            agg
        })
        .collect();
    let mut events = json!({
        "table": "data.ev",
        "query": {
            "selects": {"k": "k", "v": "v", "x": "x", "s": "s", "b": "b"},
            "timeColumn": "ts",
            "setups": []
        }
    });
    if case.topic {
        events["topic"] = json!("ev_topic");
    }
    let mut group_by = json!({
        "metaData": {"name": GROUP_BY, "online": 1, "team": "test"},
        "sources": [{"events": events}],
        "keyColumns": ["k"],
        "aggregations": aggregations,
    });
    if case.explicit_accuracy {
        group_by["accuracy"] = json!(if case.snapshot { 1 } else { 0 });
    }
    group_by
}

fn configs(case: &Case) -> Result<ConfigSet, TestCaseError> {
    let group_by = group_by_json(case);
    let join = serde_json::json!({
        "metaData": {"name": JOIN, "online": 1, "team": "test"},
        "left": {"events": {"table": "data.left", "query": {
            "selects": {"k": "k", "ts": "ts"}, "timeColumn": "ts", "setups": []}}},
        "joinParts": [{"groupBy": group_by}],
    });
    let text = group_by.to_string();
    let parsed = GroupBy::from_json_str(&text)
        .map_err(|e| TestCaseError::fail(format!("GroupBy config: {e}\n{text}")))?;
    let join = Join::from_json_str(&join.to_string())
        .map_err(|e| TestCaseError::fail(format!("Join config: {e}\n{join}")))?;
    let mut configs = ConfigSet::new();
    configs.group_bys.insert(GROUP_BY.to_owned(), parsed);
    configs.joins.insert(JOIN.to_owned(), join);
    Ok(configs)
}

fn event_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", ArrowType::Utf8, true),
        Field::new("v", ArrowType::Int64, true),
        Field::new("x", ArrowType::Float64, true),
        Field::new("s", ArrowType::Utf8, true),
        Field::new("b", ArrowType::Utf8, true),
        Field::new("ts", ArrowType::Int64, true),
        Field::new("ds", ArrowType::Utf8, true),
    ]))
}

fn event_batch(events: &[&Event]) -> RecordBatch {
    let strings = |f: &dyn Fn(&Event) -> Option<String>| -> ArrayRef {
        Arc::new(events.iter().map(|e| f(e)).collect::<StringArray>())
    };
    let columns: Vec<ArrayRef> = vec![
        strings(&|e| e.k.clone()),
        Arc::new(events.iter().map(|e| e.v).collect::<Int64Array>()),
        Arc::new(events.iter().map(|e| e.x).collect::<Float64Array>()),
        strings(&|e| e.s.clone()),
        strings(&|e| e.b.clone()),
        Arc::new(events.iter().map(|e| e.ts).collect::<Int64Array>()),
        strings(&|e| Some(e.ds.clone())),
    ];
    RecordBatch::try_new(event_schema(), columns).expect("event batch")
}

/// The events in one or two loads of disjoint partition sets.
fn loads(case: &Case) -> Vec<Vec<&Event>> {
    let mut partitions: Vec<&str> = case.events.iter().map(|e| e.ds.as_str()).collect();
    partitions.sort_unstable();
    partitions.dedup();
    let first: Vec<&str> = match case.load_mode {
        0 => partitions.clone(),
        1 => partitions.iter().step_by(2).copied().collect(),
        2 => partitions[partitions.len() / 2..].to_vec(),
        _ => partitions[..partitions.len().div_ceil(2)].to_vec(),
    };
    let (a, b): (Vec<&Event>, Vec<&Event>) = case
        .events
        .iter()
        .partition(|e| first.contains(&e.ds.as_str()));
    [a, b].into_iter().filter(|l| !l.is_empty()).collect()
}

/// The query times, with each left row's partition.
fn resolve_queries(case: &Case) -> Vec<(i64, String)> {
    let mut times: Vec<i64> = case.events.iter().filter_map(|e| e.ts).collect();
    times.sort_unstable();
    let last = times.last().copied().unwrap_or(base() + SPAN_DAYS * DAY);
    case.queries
        .iter()
        .map(|q| {
            let pick = |i: usize| times.get(i % times.len().max(1)).copied();
            let t = match q.at {
                TimeChoice::AtEvent(i, d) => pick(i).unwrap_or(last) + d,
                TimeChoice::Offset(o) => base() + o,
                TimeChoice::WindowEdge(i, w, d) => {
                    pick(i).unwrap_or(last) + window_millis(WINDOWS[w]) + d
                }
                TimeChoice::AfterLast(d) => last + d,
                TimeChoice::KeptEdge(level, w, d) => {
                    let edge = if level == 0 {
                        floor(last, FIVE_MINUTES) - 12 * HOUR
                    } else {
                        floor(last, HOUR) - 12 * DAY
                    };
                    edge + w.map_or(0, |w| window_millis(WINDOWS[w])) + d
                }
            };
            let day = t.div_euclid(DAY) + i64::from(q.left_late);
            (t, day_name(day))
        })
        .collect()
}

fn left_batch(rows: &[(Option<&str>, i64, String)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", ArrowType::Utf8, true),
        Field::new("ts", ArrowType::Int64, true),
        Field::new("ds", ArrowType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(rows.iter().map(|r| r.0).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| Some(r.1)).collect::<Int64Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.2.as_str()))
                    .collect::<StringArray>(),
            ),
        ],
    )
    .expect("left batch")
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// R-AGG-12: relative tolerance 1e-9, absolute 1e-12; NaN only equals NaN.
fn doubles_close(x: f64, y: f64) -> bool {
    if x.is_nan() || y.is_nan() {
        return x.is_nan() && y.is_nan();
    }
    if x == y {
        return true;
    }
    let diff = (x - y).abs();
    diff <= 1e-12 || diff <= 1e-9 * x.abs().max(y.abs())
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => doubles_close(*x, *y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && close(va, vb))
        }
        _ => a == b,
    }
}

fn is_approx(op: u8) -> bool {
    matches!(
        op,
        APPROX_UNIQUE_COUNT | APPROX_PERCENTILE | APPROX_HISTOGRAM_K
    )
}

/// R-OP-APPROXUNIQUE: |est − n| ≤ max(1, 0.15 n), per bucket for bucketed outputs.
fn within_approx_unique_bound(estimate: &Value, exact: &Value) -> bool {
    match (estimate, exact) {
        (Value::Long(e), Value::Long(n)) => (e - n).abs() as f64 <= (0.15 * *n as f64).max(1.0),
        (Value::Map(e), Value::Map(n)) => {
            e.len() == n.len()
                && e.iter()
                    .zip(n)
                    .all(|((ka, va), (kb, vb))| ka == kb && within_approx_unique_bound(va, vb))
        }
        _ => false,
    }
}

/// Whether every output (per bucket when bucketed) that differs from the oracle's comes from
/// rows beyond the exact range: `exact` (distinct values or inputs) greater than `k`. Only then
/// may a frequent-items or quantile sketch depend on fold and merge order.
fn sketch_in_use(naive: &Value, store: &Value, exact: &Value, bucketed: bool, k: i64) -> bool {
    let over = |n: &Value| matches!(n, Value::Long(n) if *n > k);
    if !bucketed {
        return over(exact);
    }
    let (Value::Map(naive), Value::Map(store), Value::Map(exact)) = (naive, store, exact) else {
        return false;
    };
    naive.len() == store.len()
        && naive.iter().zip(store).all(|((bucket, a), (other, b))| {
            bucket == other
                && (close(a, b)
                    || exact
                        .iter()
                        .find(|(e, _)| e == bucket)
                        .is_some_and(|(_, n)| over(n)))
        })
}

#[derive(Debug, Default)]
struct Stats {
    cases: usize,
    events: usize,
    lookups: usize,
    /// Non-null values compared against the oracle, per operation id.
    non_null: [usize; 20],
    /// APPROX_* values not bit-identical to the oracle's, per operation id.
    approx_fallbacks: [usize; 20],
    snapshot_cases: usize,
    bucketed_columns: usize,
    unbounded_columns: usize,
    /// (key, T) with an event at exactly T (E-01).
    ties_at_t: usize,
    /// (key, T, window) with an event exactly at the window start (E-02).
    at_window_start: usize,
    /// (key, T) with T within 12 h after the newest event (fine tiles).
    near_now: usize,
    /// Late events (partition after ts_ds(ts), E-34).
    late_events: usize,
    two_loads: usize,
}

static STATS: Mutex<Option<Stats>> = Mutex::new(None);

fn record(f: impl FnOnce(&mut Stats)) {
    let mut guard = STATS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Stats::default));
}

/// Fetch values (`actual`) against the oracle's non-null columns, in column order.
fn check_against_oracle(
    context: &str,
    oracle: &[Column],
    actual: &[(String, Value)],
) -> Result<(), TestCaseError> {
    let expected: Vec<&Column> = oracle.iter().filter(|c| !c.value.is_null()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|c| c.name.as_str()).collect();
    let actual_names: Vec<&str> = actual.iter().map(|(n, _)| n.as_str()).collect();
    if expected_names != actual_names {
        return Err(TestCaseError::fail(format!(
            "{context}: non-null features differ\n  naive: {:?}\n  store: {:?}",
            expected
                .iter()
                .map(|c| (&c.name, &c.value))
                .collect::<Vec<_>>(),
            actual
        )));
    }
    for (column, (_, value)) in expected.iter().zip(actual) {
        record(|s| s.non_null[column.op as usize] += 1);
        if close(&column.value, value) {
            continue;
        }
        let tolerated = match (column.op, &column.shadow) {
            (APPROX_UNIQUE_COUNT, Some(n)) => within_approx_unique_bound(value, n),
            // R-OP-APPROXHIST: exact while at most k distinct values (k defaults to 8).
            (APPROX_HISTOGRAM_K, Some(n)) => sketch_in_use(
                &column.value,
                value,
                n,
                column.bucketed,
                column.k.unwrap_or(8),
            ),
            // R-OP-PCTL: exact while n <= k (k defaults to 128).
            (APPROX_PERCENTILE, Some(n)) => sketch_in_use(
                &column.value,
                value,
                n,
                column.bucketed,
                column.k.unwrap_or(128),
            ),
            _ => false,
        };
        if !tolerated {
            return Err(TestCaseError::fail(format!(
                "{context}: {}\n  naive: {:?}\n  store: {:?}",
                column.name, column.value, value
            )));
        }
        record(|s| s.approx_fallbacks[column.op as usize] += 1);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One case

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "tilefold-online-offline-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> TestCaseError + '_ {
    move |e| TestCaseError::fail(format!("{what}: {e}"))
}

fn fetch(store: &Store, key: Option<&str>, t: i64) -> Result<Vec<(String, Value)>, TestCaseError> {
    let keys = BTreeMap::from([(
        "k".to_owned(),
        key.map_or(Value::Null, |k| Value::String(k.to_owned())),
    )]);
    let features = store
        .fetch_group_by(GROUP_BY, &keys, Some(t))
        .map_err(fail("fetch_group_by"))?;
    Ok(features.values)
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let configs = configs(case)?;
    let dir = TempDir::new();
    let queries = resolve_queries(case);
    let newest = case.events.iter().filter_map(|e| e.ts).max();
    let loads = loads(case);
    record(|s| {
        s.cases += 1;
        s.events += case.events.len();
        s.snapshot_cases += usize::from(case.snapshot);
        s.two_loads += usize::from(loads.len() == 2);
        s.late_events += case
            .events
            .iter()
            .filter(|e| e.ts.is_some_and(|t| ts_ds(t) != e.ds))
            .count();
        for a in &case.aggs {
            let n = a.windows.len().max(1);
            if a.bucket {
                s.bucketed_columns += n;
            }
            if a.windows.is_empty() {
                s.unbounded_columns += 1;
            }
        }
    });

    // Online, before reopening.
    let store = Store::open(&dir.0).map_err(fail("Store::open"))?;
    store.apply(&configs).map_err(fail("apply"))?;
    let schema = event_schema();
    for load in &loads {
        store
            .load_batches("data.ev", &schema, &[event_batch(load)])
            .map_err(fail("load_batches"))?;
    }

    let mut left_rows: Vec<(Option<&str>, i64, String)> = Vec::new();
    let mut oracles: Vec<Vec<Column>> = Vec::new();
    let mut fetched: Vec<Vec<(String, Value)>> = Vec::new();
    for (t, left_ds) in &queries {
        for key in KEYS {
            let context = format!(
                "fetch k={key:?} T={t} ({}), {}",
                ts_ds(*t),
                if case.snapshot {
                    "SNAPSHOT"
                } else {
                    "TEMPORAL"
                }
            );
            let oracle = match key {
                Some(k) => naive::evaluate(&case.aggs, case.snapshot, &case.events, k, *t),
                // R-ONL-4 / R-JOIN-4: a null key gives nothing online and nulls offline.
                None => naive::evaluate(&case.aggs, case.snapshot, &[], "", *t),
            };
            let actual = fetch(&store, key, *t)?;
            check_against_oracle(&context, &oracle, &actual)?;
            if let Some(k) = key {
                coverage(case, k, *t, newest);
            }
            left_rows.push((key, *t, left_ds.clone()));
            oracles.push(oracle);
            fetched.push(actual);
        }
    }

    // Offline: one backfill row per (key, T).
    let out: Vec<RecordBatch> = store
        .backfill(
            JOIN,
            Left::Batches(vec![left_batch(&left_rows)]),
            &BackfillOptions::default(),
        )
        .map_err(fail("backfill"))?
        .collect::<Result<_, _>>()
        .map_err(fail("backfill batch"))?;
    let rows: usize = out.iter().map(RecordBatch::num_rows).sum();
    prop_assert_eq!(rows, left_rows.len(), "R-JOIN-1: one row per left row");
    let feature_names: Vec<String> = oracles
        .first()
        .map(|o| o.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let mut expected_schema = vec!["k".to_owned(), "ts".to_owned(), "ds".to_owned()];
    expected_schema.extend(feature_names.iter().map(|n| format!("{PREFIX}{n}")));
    let mut row = 0;
    for batch in &out {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        prop_assert_eq!(&names, &expected_schema, "backfill columns (R-NAME-1/2/6)");
        for r in 0..batch.num_rows() {
            let (key, t, ds) = &left_rows[row];
            let cell = |c: usize| value_at(batch.column(c).as_ref(), r).unwrap_or(Value::Null);
            let echoed = (cell(0), cell(1), cell(2));
            let wanted = (
                key.map_or(Value::Null, |k| Value::String(k.to_owned())),
                Value::Long(*t),
                Value::String(ds.clone()),
            );
            prop_assert_eq!(echoed, wanted, "left columns in left order (R-JOIN-1)");
            let context = format!("backfill vs fetch k={key:?} T={t} ds={ds}");
            let mut offline: Vec<(String, Value)> = Vec::new();
            for (c, name) in feature_names.iter().enumerate() {
                let value = cell(3 + c);
                if !value.is_null() {
                    offline.push((name.clone(), value));
                }
            }
            let online = &fetched[row];
            let same_names = offline
                .iter()
                .map(|(n, _)| n)
                .eq(online.iter().map(|(n, _)| n));
            prop_assert!(
                same_names,
                "{}: non-null features differ\n  backfill: {:?}\n  fetch:    {:?}",
                context,
                offline,
                online
            );
            for ((name, off), (_, on)) in offline.iter().zip(online) {
                let op = oracles[row]
                    .iter()
                    .find(|c| &c.name == name)
                    .map_or(u8::MAX, |c| c.op);
                // Sketches must be bit-identical online and offline; doubles within R-AGG-12.
                let same = if is_approx(op) {
                    off == on
                } else {
                    close(off, on)
                };
                prop_assert!(
                    same,
                    "{}: {}\n  backfill: {:?}\n  fetch:    {:?}",
                    context,
                    name,
                    off,
                    on
                );
            }
            row += 1;
        }
    }
    drop(store);

    // Reopened: the same maps and the same backfill output, exactly.
    let store = Store::open(&dir.0).map_err(fail("Store::open (reopen)"))?;
    for ((key, t, _), before) in left_rows.iter().zip(&fetched) {
        let again = fetch(&store, *key, *t)?;
        prop_assert!(
            &again == before,
            "fetch after reopen k={:?} T={}\n  before: {:?}\n  after:  {:?}",
            key,
            t,
            before,
            again
        );
    }
    let again: Vec<RecordBatch> = store
        .backfill(
            JOIN,
            Left::Batches(vec![left_batch(&left_rows)]),
            &BackfillOptions::default(),
        )
        .map_err(fail("backfill (reopen)"))?
        .collect::<Result<_, _>>()
        .map_err(fail("backfill batch (reopen)"))?;
    prop_assert!(again == out, "backfill output changed after reopen");
    drop(store);
    Ok(())
}

/// Counts which edge cases a (key, T) lookup touches.
fn coverage(case: &Case, key: &str, t: i64, newest: Option<i64>) {
    let ts: Vec<i64> = case
        .events
        .iter()
        .filter(|e| e.k.as_deref() == Some(key))
        .filter_map(|e| e.ts)
        .collect();
    record(|s| {
        s.lookups += 1;
        if ts.contains(&t) {
            s.ties_at_t += 1;
        }
        if newest.is_some_and(|n| t >= n && t - n <= 12 * HOUR) {
            s.near_now += 1;
        }
        if !case.snapshot {
            for a in &case.aggs {
                for w in &a.windows {
                    let w = window_millis(*w);
                    let start = floor(t - w, tail_hop(w));
                    if ts.contains(&start) {
                        s.at_window_start += 1;
                    }
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Tests

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn i1_fetch_equals_backfill_equals_naive_scan() {
    let config = ProptestConfig {
        cases: cases(),
        // No regression files next to the sources; the minimal case is printed on failure.
        failure_persistence: None,
        max_shrink_iters: 512,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| check_case(&case));
    if let Some(stats) = STATS.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        eprintln!("online/offline property coverage: {stats:#?}");
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// R-TIME-4 / R-TIME-5 examples for the oracle's calendar.
#[test]
fn oracle_calendar() {
    assert_eq!(ts_ds(1_703_073_661_923), "2023-12-20");
    assert_eq!(ts_ds(1_703_030_399_999), "2023-12-19");
    assert_eq!(day_name(1_703_030_400_000 / DAY), "2023-12-20");
    assert_eq!(day_name(BASE_DAY), "2023-11-15");
    assert_eq!(day_name(19_782), "2024-02-29");
}

/// A fixed case on the edges: E-01 (event at T), E-02 (event at the window start and 1 ms
/// before it), E-34 (late partition), 5-minute and 1-day hops, a bucket and a SNAPSHOT twin.
#[test]
fn fixed_edges() {
    let t = base() + 19 * DAY + 10 * HOUR + 7 * FIVE_MINUTES + 1234;
    let ev = |k: &str, ts: i64, v: i64, late: i64| Event {
        k: Some(k.to_owned()),
        v: Some(v),
        x: Some(v as f64 / 4.0),
        s: Some(["a", "b", "c"][v as usize % 3].to_owned()),
        b: Some(if v % 2 == 0 { "p" } else { "q" }.to_owned()),
        ts: Some(ts),
        ds: day_name(ts.div_euclid(DAY) + late),
    };
    let start_1h = floor(t - HOUR, FIVE_MINUTES);
    let start_30d = floor(t - 30 * DAY, DAY);
    let events = vec![
        ev("a", t, 1, 0),                 // E-01: excluded at T
        ev("a", t - 1, 2, 0),             // included
        ev("a", start_1h, 3, 0),          // E-02: included in 1 h
        ev("a", start_1h - 1, 4, 1),      // E-02: excluded from 1 h; late partition (E-34)
        ev("a", start_30d, 5, 2),         // E-02 for a 1-day hop, late partition
        ev("a", start_30d - 1, 6, 0),     // excluded from 30 d
        ev("b", base() + 3 * DAY, 7, 0),  // another key
        ev("a", base() + 19 * DAY, 8, 0), // day boundary
    ];
    let aggs = vec![
        AggSpec {
            op: 6,
            input: "v",
            k: None,
            percentiles: None,
            windows: vec![(1, 0), (30, 1), (12, 0)],
            bucket: false,
        },
        AggSpec {
            op: 13,
            input: "v",
            k: Some(3),
            percentiles: None,
            windows: vec![(1, 0), (2, 1)],
            bucket: true,
        },
        AggSpec {
            op: 7,
            input: "x",
            k: None,
            percentiles: None,
            windows: vec![],
            bucket: false,
        },
    ];
    let queries = [
        TimeChoice::AtEvent(usize::MAX, 0),
        TimeChoice::Offset(t - base()),
        TimeChoice::AfterLast(0),
        TimeChoice::AfterLast(FIVE_MINUTES),
        TimeChoice::Offset(19 * DAY),
    ]
    .into_iter()
    .map(|at| Query {
        at,
        left_late: false,
    })
    .collect::<Vec<_>>();
    for snapshot in [false, true] {
        let aggs: Vec<AggSpec> = aggs
            .iter()
            .cloned()
            .map(|mut a| {
                if snapshot {
                    a.windows.retain(|w| w.1 == 1);
                }
                a
            })
            .collect();
        for load_mode in 0..4 {
            let case = Case {
                events: events.clone(),
                aggs: aggs.clone(),
                snapshot,
                topic: !snapshot,
                explicit_accuracy: false,
                load_mode,
                queries: queries.clone(),
            };
            if let Err(e) = check_case(&case) {
                panic!("{e}\n{case:#?}");
            }
        }
    }
    // The oracle itself on E-01 / E-02: COUNT 1h at T sees t − 1 and start_1h only.
    let oracle = naive::evaluate(&aggs, false, &events, "a", t);
    assert_eq!(oracle[0].name, "v_count_1h");
    assert_eq!(oracle[0].value, Value::Long(2));
    assert_eq!(oracle[1].name, "v_count_30d");
    assert_eq!(oracle[1].value, Value::Long(5));
}

/// R-JOIN-1 / R-JOIN-5 with I1: a source table was loaded but none of its rows survives the
/// source query (R-SRC-1 null `ts`, R-SRC-2 null key). Online the key has no data (an empty map,
/// R-ONL-6); offline every left row must still get one output row, with null features.
#[test]
fn backfill_when_no_loaded_row_survives_the_source_query() {
    for (k, ts) in [(None, Some(base() + HOUR)), (Some("a"), None)] {
        let case = Case {
            events: vec![Event {
                k: k.map(str::to_owned),
                v: Some(1),
                x: Some(1.0),
                s: Some("a".to_owned()),
                b: Some("p".to_owned()),
                ts,
                ds: day_name(BASE_DAY),
            }],
            aggs: vec![AggSpec {
                op: 6,
                input: "v",
                k: None,
                percentiles: None,
                windows: vec![],
                bucket: false,
            }],
            snapshot: false,
            topic: true,
            explicit_accuracy: false,
            load_mode: 0,
            queries: vec![Query {
                at: TimeChoice::Offset(DAY),
                left_late: false,
            }],
        };
        if let Err(e) = check_case(&case) {
            panic!("{e}\n{case:#?}");
        }
    }
}
