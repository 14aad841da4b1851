//! Fetch latency: `fetch_join("shop/checkout.v1", user, at)` on a store holding N purchase events
//! over 100k users (30 days), returns and a users snapshot, at the end of the data ("now" for a
//! store whose newest events just arrived).
//!
//! ```sh
//! cargo bench --bench fetch                                  # 1M and 10M events
//! TILEFOLD_FETCH_EVENTS=1000000 cargo bench --bench fetch     # one size
//! ```
//!
//! Stores are built once per size under `target/bench-fetch/` and reused. Besides criterion's
//! mean, the bench prints p50/p99/p99.9 over 20,000 single fetches of random users.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion};
use tilefold::{load_path, Store, Value};

const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00Z, the end of the data.
const END: i64 = 1_793_491_200_000;
const USERS: u64 = 100_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ds(ts: i64) -> String {
    tilefold::query::window::day_name(ts.div_euclid(DAY))
}

fn store_for(events: usize) -> Store {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = PathBuf::from(target).join(format!("bench-fetch/store-{events}"));
    let ready = dir.join("READY");
    if ready.exists() {
        return Store::open(&dir).expect("open the bench store");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("create the bench store");
    let root = env!("CARGO_MANIFEST_DIR");
    store
        .apply(&load_path(format!("{root}/query/tests/fixtures/production")).expect("configs"))
        .expect("apply");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let started = Instant::now();
    // Purchases, in chunks of one million rows.
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("merchant", DataType::Utf8, true),
        Field::new("purchase_price", DataType::Float64, true),
        Field::new("merchant_fee_percent", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let mut batches = Vec::new();
    let mut left = events;
    while left > 0 {
        let n = left.min(1_000_000);
        left -= n;
        let ts: Vec<i64> = (0..n)
            .map(|_| END - 1 - rng.below(30 * DAY as u64) as i64)
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|_| format!("u{}", rng.below(USERS))),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|_| format!("m{}", rng.below(50))),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|_| (rng.below(20_000) as f64) / 100.0),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|_| rng.below(10) as f64),
            )),
            Arc::new(Int64Array::from(ts.clone())),
            Arc::new(StringArray::from_iter_values(ts.iter().map(|&t| ds(t)))),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns).expect("purchases batch"));
    }
    store
        .load_batches("data.purchases", &schema, &batches)
        .expect("load purchases");
    eprintln!(
        "fetch bench: loaded {events} purchases in {:.1?}",
        started.elapsed()
    );
    // Returns: a tenth as many.
    let n = events / 10;
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("refund_amount", DataType::Float64, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let ts: Vec<i64> = (0..n)
        .map(|_| END - 1 - rng.below(30 * DAY as u64) as i64)
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|_| format!("u{}", rng.below(USERS))),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|_| (rng.below(5_000) as f64) / 100.0),
        )),
        Arc::new(Int64Array::from(ts.clone())),
        Arc::new(StringArray::from_iter_values(ts.iter().map(|&t| ds(t)))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("returns batch");
    store
        .load_batches("data.returns", &schema, &[batch])
        .expect("load returns");
    // Users: the snapshots of the last two days.
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Utf8, true),
        Field::new("account_age_days", DataType::Int64, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("ds", DataType::Utf8, true),
    ]));
    let mut batches = Vec::new();
    for day in [END - 2 * DAY, END - DAY] {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                (0..USERS).map(|u| format!("u{u}")),
            )),
            Arc::new(Int64Array::from_iter_values(
                (0..USERS).map(|u| (u % 900) as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..USERS).map(|u| ["DE", "IN", "US"][u as usize % 3]),
            )),
            Arc::new(StringArray::from_iter_values((0..USERS).map(|_| ds(day)))),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns).expect("users batch"));
    }
    store
        .load_batches("data.users", &schema, &batches)
        .expect("load users");
    std::fs::write(&ready, b"").expect("mark the bench store ready");
    store
}

fn keys(user: u64) -> BTreeMap<String, Value> {
    BTreeMap::from([("user_id".to_owned(), Value::String(format!("u{user}")))])
}

fn bench(c: &mut Criterion) {
    let sizes: Vec<usize> = match std::env::var("TILEFOLD_FETCH_EVENTS") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![1_000_000, 10_000_000],
    };
    let at = Some(END);
    for events in sizes {
        let store = store_for(events);
        let mut rng = Rng(42);
        // Percentiles over single fetches (criterion reports means).
        let mut samples: Vec<f64> = Vec::with_capacity(20_000);
        for _ in 0..20_000 {
            let k = keys(rng.below(USERS));
            let started = Instant::now();
            let features = store.fetch_join("shop/checkout.v1", &k, at).expect("fetch");
            samples.push(started.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(features);
        }
        samples.sort_by(f64::total_cmp);
        let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
        eprintln!(
            "fetch_join shop/checkout.v1, {events} events: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
            p(0.5),
            p(0.99),
            p(0.999)
        );
        let mut group = c.benchmark_group(format!("fetch_join/{events}_events"));
        group.bench_function("shop.checkout.v1", |b| {
            b.iter(|| store.fetch_join("shop/checkout.v1", &keys(rng.below(USERS)), at))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
