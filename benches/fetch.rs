//! Fetch latency: `fetch_join("shop/checkout.v1", user, at)` on a store holding N purchase events
//! over 100k users (30 days, or `TILEFOLD_FETCH_DAYS`), returns and a users snapshot, at the end
//! of the data ("now" for a store whose newest events just arrived).
//!
//! ```sh
//! cargo bench --bench fetch                                  # 1M and 10M events
//! TILEFOLD_FETCH_EVENTS=1000000 cargo bench --bench fetch     # one size
//! TILEFOLD_FETCH_CACHE_MB=4096 cargo bench --bench fetch       # a bigger page cache
//! TILEFOLD_FETCH_DAYS=365 cargo bench --bench fetch            # a year of history
//! TILEFOLD_FETCH_AFTER_MINUTES=817 cargo bench --bench fetch   # at 13:37, not at midnight
//! ```
//!
//! Stores are built once per size under `target/bench-fetch/` and reused. Besides criterion's
//! mean, the bench prints p50/p99/p99.9 over 20,000 single fetches of random users: "cold" (the
//! first pass on the freshly opened store), "warm" (the same users again) and "steady" (other
//! users, after one fetch of every user); then the same steady users' fastest of 5 fetches in a
//! row, which leaves out what a first touch of a user's pages costs (the work of a fetch).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use tilefold::{load_path, Options, Store, Value};

#[path = "support/shop.rs"]
mod shop;
use shop::{load_shop, Rng, USERS};

/// 2026-11-01T00:00Z, the end of the data.
const END: i64 = 1_793_491_200_000;

/// Days of history (`TILEFOLD_FETCH_DAYS`, default 30).
fn days() -> u64 {
    std::env::var("TILEFOLD_FETCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

fn store_for(events: usize) -> Store {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let name = match days() {
        30 => format!("store-{events}"),
        days => format!("store-{events}-{days}d"),
    };
    let dir = PathBuf::from(target).join("bench-fetch").join(name);
    let ready = dir.join("READY");
    if ready.exists() {
        // `TILEFOLD_FETCH_CACHE_MB`: redb's page cache (default 1 GiB, the store's default).
        let mut options = Options::default();
        if let Some(mb) = std::env::var("TILEFOLD_FETCH_CACHE_MB")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            options.cache_bytes = mb << 20;
        }
        return Store::open_with_options(&dir, options).expect("open the bench store");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).expect("create the bench store");
    let root = env!("CARGO_MANIFEST_DIR");
    store
        .apply(&load_path(format!("{root}/query/tests/fixtures/production")).expect("configs"))
        .expect("apply");
    let started = Instant::now();
    load_shop(&store, events, days(), END);
    eprintln!(
        "fetch bench: loaded {events} purchases in {:.1?}",
        started.elapsed()
    );
    std::fs::write(&ready, b"").expect("mark the bench store ready");
    store
}

/// The fetch time: the end of the data, or `TILEFOLD_FETCH_AFTER_MINUTES` after it (a store
/// loaded at midnight, serving during the day).
fn at() -> i64 {
    let minutes: i64 = std::env::var("TILEFOLD_FETCH_AFTER_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    END + minutes * 60_000
}

fn keys(user: u64) -> BTreeMap<String, Value> {
    BTreeMap::from([("user_id".to_owned(), Value::String(format!("u{user}")))])
}

/// Prints p50/p99/p99.9 over `users` of the fastest of `tries` fetches at `at` of each user in a
/// row (one: the fetch's latency; several: its work, with the user's pages in the CPU's caches).
fn percentiles(store: &Store, at: i64, events: usize, pass: &str, users: &[u64], tries: usize) {
    let mut samples: Vec<f64> = Vec::with_capacity(users.len());
    for &user in users {
        let k = keys(user);
        let mut fastest = f64::MAX;
        for _ in 0..tries {
            let started = Instant::now();
            let features = store
                .fetch_join("shop/checkout.v1", &k, Some(at))
                .expect("fetch");
            fastest = fastest.min(started.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(features);
        }
        samples.push(fastest);
    }
    samples.sort_by(f64::total_cmp);
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "fetch_join shop/checkout.v1, {events} events, {pass}: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
        p(0.5),
        p(0.99),
        p(0.999)
    );
}

fn bench(c: &mut Criterion) {
    let sizes: Vec<usize> = match std::env::var("TILEFOLD_FETCH_EVENTS") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![1_000_000, 10_000_000],
    };
    // Read once: not inside the timed fetches.
    let time = at();
    let at = Some(time);
    for events in sizes {
        let store = store_for(events);
        let mut rng = Rng(42);
        // Percentiles over single fetches (criterion reports means):
        // - "cold": the first 20,000 fetches of random users on the freshly opened store
        //   (first-touch page reads included);
        // - "warm": the same 20,000 users again;
        // - "steady": after one fetch of every user, 20,000 other random users (a long-running
        //   server whose pages are all in memory, if they fit).
        let users: Vec<u64> = (0..20_000).map(|_| rng.below(USERS)).collect();
        percentiles(&store, time, events, "cold", &users, 1);
        percentiles(&store, time, events, "warm", &users, 1);
        for user in 0..USERS {
            std::hint::black_box(store.fetch_join("shop/checkout.v1", &keys(user), at).ok());
        }
        let others: Vec<u64> = (0..20_000).map(|_| rng.below(USERS)).collect();
        percentiles(&store, time, events, "steady", &others, 1);
        let pass = "steady, fastest of 5 per user";
        percentiles(&store, time, events, pass, &others, 5);
        let mut group = c.benchmark_group(format!("fetch_join/{events}_events"));
        group.bench_function("shop.checkout.v1", |b| {
            b.iter(|| store.fetch_join("shop/checkout.v1", &keys(rng.below(USERS)), at))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
