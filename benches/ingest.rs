//! Live ingest: throughput with durable acks, read-your-writes freshness, and fetch latency while
//! ingest runs at full speed.
//!
//! ```sh
//! cargo bench --bench ingest                                      # everything, ~3 s a scenario
//! TILEFOLD_INGEST_SECONDS=10 cargo bench --bench ingest           # longer scenarios
//! TILEFOLD_INGEST_SECTIONS=throughput cargo bench --bench ingest  # one section
//! ```
//!
//! Sections (`TILEFOLD_INGEST_SECTIONS`, comma-separated; default all three):
//!
//! - `throughput`: `store.ingest("events/purchases", batch)` from P producer threads, each waiting
//!   for its durable ack before sending the next batch, for every batch size × P
//!   (`TILEFOLD_INGEST_BATCHES`, default `1,100,10000`; `TILEFOLD_INGEST_PRODUCERS`, default
//!   `1,4`). A fresh store per scenario, the sample configs registered (three GroupBys read the
//!   topic), no table loaded. Reports events/s, acks/s and ack latency. With
//!   `TILEFOLD_INGEST_INFLIGHT=N` (N > 1) each producer keeps N requests in flight with
//!   `Store::send` / `Pending::wait` instead (still durable acks).
//! - `freshness`: the same scenarios, and after every acknowledged ingest the producer fetches
//!   `shop.purchases.v1` for a user of its batch at now + 1 and checks that `price_count_30d` grew
//!   by exactly that user's rows in the batch (producers own disjoint users). Must be 0
//!   violations: the value is visible in the commit that acknowledged it.
//! - `fetch`: `fetch_join("shop/checkout.v1")` p50/p99 for random users at now on a store holding
//!   `TILEFOLD_INGEST_TABLE_EVENTS` (default 1,000,000) purchases over 30 days, returns and users
//!   (built like benches/fetch.rs, ending today 00:00 UTC; the built store is kept under
//!   `$CARGO_TARGET_DIR/bench-ingest/` and copied per scenario): idle, then while 1 and 2
//!   producers (`TILEFOLD_INGEST_LOAD_PRODUCERS`, default `1,2`) ingest 10,000-event batches
//!   continuously, then idle again on the store the load left (isolates contention from growth).
//!   The idle fetches come after one fetch of every user, so that they measure a warm store.
//!   `TILEFOLD_INGEST_EVENT_SPEED` applies to the loads too (tiles then end during them).
//!
//! Other knobs: `TILEFOLD_INGEST_EVENT_SPEED` (event time per wall-clock time, see
//! [`EventTime`]), `TILEFOLD_INGEST_SEAL_ROWS` (the store's `Options::seal_rows`),
//! `TILEFOLD_INGEST_FETCHES` (idle fetches, default 20,000). Stores live under
//! `$CARGO_TARGET_DIR/bench-ingest/run-<pid>/` and are removed after each scenario.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use tilefold::{load_path, IngestRequest, Options, Rows, Store, Value};

#[path = "support/shop.rs"]
mod shop;
use shop::{ds, load_shop, purchases, Rng, DAY, USERS};

const TOPIC: &str = "events/purchases";
const GROUP_BY: &str = "shop.purchases.v1";
const COUNT: &str = "price_count_30d";
const JOIN: &str = "shop/checkout.v1";
/// GroupBys of the sample configs reading the topic (each event becomes a head row in each).
const READERS: usize = 3;

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .filter_map(|s| s.trim().replace('_', "").parse().ok())
            .collect(),
        Err(_) => default.to_vec(),
    }
}

fn target_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("bench-ingest")
}

/// A store directory removed on drop.
struct TempStore(PathBuf);

impl TempStore {
    fn new(name: &str) -> TempStore {
        let dir = target_dir()
            .join(format!("run-{}", std::process::id()))
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        TempStore(dir)
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        if let Some(parent) = self.0.parent() {
            // Removes the run directory once it is empty.
            let _ = std::fs::remove_dir(parent);
        }
    }
}

fn configs() -> tilefold::ConfigSet {
    let root = env!("CARGO_MANIFEST_DIR");
    load_path(format!("{root}/query/tests/fixtures/production")).expect("sample configs")
}

fn options() -> Options {
    let mut options = Options::default();
    if let Ok(v) = std::env::var("TILEFOLD_INGEST_SEAL_ROWS") {
        options.seal_rows = v.trim().replace('_', "").parse().expect("a row count");
    }
    options
}

/// A batch of the topic's rows, shaped like `data.purchases` (the columns the sample GroupBys'
/// selects and wheres read, and `ds`): one for each of `users`, `ts` within the minute before
/// `now`.
fn event_batch(rng: &mut Rng, users: &[u64], now: i64) -> RecordBatch {
    let ts: Vec<i64> = (0..users.len())
        .map(|_| now - rng.below(60_000) as i64)
        .collect();
    purchases(rng, users, ts)
}

/// One producer's pre-built batches (built before the clock starts, cycled through), each with
/// a user of the batch and that user's rows in it. Users are `u ≡ producer (mod producers)`, so
/// producers never share a user.
struct Pool {
    batches: Vec<(RecordBatch, u64, i64)>,
}

impl Pool {
    fn new(producer: usize, producers: usize, batch: usize) -> Pool {
        let mut rng = Rng(0x5eed_0000_0000_0001 ^ ((producer as u64 + 1) << 32) ^ batch as u64);
        // ~320k rows or 4096 batches per producer, whichever is fewer batches.
        let count = (320_000 / batch).clamp(8, 4096);
        let now = now_millis();
        let per = USERS / producers as u64;
        let batches = (0..count)
            .map(|_| {
                let users: Vec<u64> = (0..batch)
                    .map(|_| rng.below(per) * producers as u64 + producer as u64)
                    .collect();
                let user = users[0];
                let rows = users.iter().filter(|&&u| u == user).count() as i64;
                (event_batch(&mut rng, &users, now), user, rows)
            })
            .collect();
        Pool { batches }
    }
}

fn user_keys(user: u64) -> BTreeMap<String, Value> {
    BTreeMap::from([("user_id".to_owned(), Value::String(format!("u{user}")))])
}

fn count_of(store: &Store, user: u64, at: i64) -> i64 {
    let features = store
        .fetch_group_by(GROUP_BY, &user_keys(user), Some(at))
        .expect("fetch_group_by");
    match features.get(COUNT) {
        Some(Value::Long(n)) => *n,
        Some(other) => panic!("{COUNT} is {other:?}"),
        None => 0,
    }
}

fn ingest(store: &Store, batch: &RecordBatch) {
    let report = store.ingest(TOPIC, batch.clone()).expect("ingest");
    check_report(&report, batch.num_rows());
}

fn check_report(report: &tilefold::IngestReport, rows: usize) {
    assert!(!report.duplicate);
    assert_eq!(report.group_bys.len(), READERS, "{report}");
    for counts in report.group_bys.values() {
        assert_eq!(counts.kept, rows, "every row kept: {report}");
    }
}

fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len() as f64
}

/// Percentile `q` of sorted `samples`.
fn pct(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples[((samples.len() as f64 - 1.0) * q).round() as usize]
}

#[derive(Default)]
struct Outcome {
    events: u64,
    acks: u64,
    elapsed: f64,
    /// Ack latencies, µs, sorted.
    latency: Vec<f64>,
    checks: u64,
    violations: u64,
    /// Seals seen (the head's row count dropped between two acks of producer 0).
    seals: u64,
    head_rows: usize,
    /// Time in the freshness fetches, s, over all producers.
    fetch_time: f64,
    /// `TILEFOLD_INGEST_COMPACT=1`: an explicit seal of what the scenario left in the head, after
    /// the clock stopped: (seconds, rows sealed over every GroupBy, tiles written or merged).
    compact: Option<(f64, usize, usize)>,
}

/// P producers ingest batches of `batch` events for `seconds`; with `fresh`, each ack is
/// followed by the read-your-writes check.
fn run_producers(
    store: &Store,
    producers: usize,
    batch: usize,
    seconds: f64,
    fresh: bool,
    inflight: usize,
) -> Outcome {
    let pools: Vec<Pool> = (0..producers)
        .map(|p| Pool::new(p, producers, batch))
        .collect();
    // Warm-up: binds the GroupBys and the source queries.
    ingest(store, &pools[0].batches[0].0);
    let event_time = EventTime::from_env(seconds);
    let barrier = Barrier::new(producers + 1);
    let deadline = Duration::from_secs_f64(seconds);
    let results: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = pools
            .iter()
            .enumerate()
            .map(|(p, pool)| {
                let barrier = &barrier;
                let thread = std::thread::Builder::new().name(format!("producer-{p}"));
                thread.spawn_scoped(s, move || {
                    let mut out = Outcome {
                        latency: Vec::with_capacity(1 << 16),
                        ..Outcome::default()
                    };
                    let mut last_head = store.head_rows();
                    barrier.wait();
                    let started = Instant::now();
                    let mut i = 0usize;
                    let mut window: std::collections::VecDeque<(tilefold::Pending, Instant, usize)> =
                        std::collections::VecDeque::new();
                    while started.elapsed() < deadline {
                        if p == 0 {
                            let head = store.head_rows();
                            if head < last_head {
                                out.seals += 1;
                            }
                            last_head = head;
                        }
                        let (batch, user, rows) = &pool.batches[i % pool.batches.len()];
                        i += 1;
                        let batch = &*event_time.apply(batch, started);
                        if inflight > 1 {
                            let sent = Instant::now();
                            let pending = store
                                .send(IngestRequest {
                                    topic: TOPIC.to_owned(),
                                    rows: Rows::Arrow(batch.clone()),
                                    producer: None,
                                })
                                .expect("send");
                            window.push_back((pending, sent, batch.num_rows()));
                            if window.len() >= inflight {
                                let (pending, sent, n) = window.pop_front().unwrap();
                                let report = pending.wait().expect("ingest");
                                check_report(&report, n);
                                out.latency.push(sent.elapsed().as_secs_f64() * 1e6);
                                out.events += n as u64;
                                out.acks += 1;
                            }
                            continue;
                        }
                        let (at, before) = if fresh {
                            let at = now_millis() + 1;
                            let t = Instant::now();
                            let before = count_of(store, *user, at);
                            out.fetch_time += t.elapsed().as_secs_f64();
                            (at, before)
                        } else {
                            (0, 0)
                        };
                        let sent = Instant::now();
                        ingest(store, batch);
                        out.latency.push(sent.elapsed().as_secs_f64() * 1e6);
                        out.events += batch.num_rows() as u64;
                        out.acks += 1;
                        if fresh {
                            // Immediately after the ack: the same `at`, one commit later.
                            let t = Instant::now();
                            let after = count_of(store, *user, at);
                            out.fetch_time += t.elapsed().as_secs_f64();
                            out.checks += 1;
                            if after != before + rows {
                                out.violations += 1;
                                if out.violations <= 3 {
                                    eprintln!(
                                        "  freshness violation: u{user} at {at}: {before} -> {after}, expected +{rows}"
                                    );
                                }
                            }
                        }
                    }
                    for (pending, sent, n) in window.drain(..) {
                        let report = pending.wait().expect("ingest");
                        check_report(&report, n);
                        out.latency.push(sent.elapsed().as_secs_f64() * 1e6);
                        out.events += n as u64;
                        out.acks += 1;
                    }
                    out.elapsed = started.elapsed().as_secs_f64();
                    out
                })
                .expect("spawn a producer")
            })
            .collect();
        barrier.wait();
        handles
            .into_iter()
            .map(|h| h.join().expect("producer"))
            .collect()
    });
    let mut total = Outcome::default();
    for r in results {
        total.events += r.events;
        total.acks += r.acks;
        total.elapsed = total.elapsed.max(r.elapsed);
        total.latency.extend(r.latency);
        total.checks += r.checks;
        total.violations += r.violations;
        total.seals += r.seals;
        total.fetch_time += r.fetch_time;
    }
    total.latency.sort_by(f64::total_cmp);
    total.head_rows = store.head_rows();
    total
}

/// `TILEFOLD_INGEST_EVENT_SPEED=S` (S > 0): event time runs S times as fast as the clock, ending
/// at the pools' `now` when the scenario ends, so that tiles end during a run (S = 600: ten
/// minutes of events per second, two five-minute tiles a second, an hour every six seconds).
/// By default every batch's rows lie in the minute before `now`, which leaves the seals' tile
/// work (a tile is written once it has ended) out of the measure.
#[derive(Clone, Copy)]
struct EventTime {
    speed: f64,
    seconds: f64,
}

impl EventTime {
    fn from_env(seconds: f64) -> EventTime {
        let speed = env_f64("TILEFOLD_INGEST_EVENT_SPEED", 0.0);
        EventTime { speed, seconds }
    }

    /// How far to move a pool batch's times, sent `started.elapsed()` into the scenario.
    fn shift(self, started: Instant) -> Option<i64> {
        let behind = self.seconds - started.elapsed().as_secs_f64();
        (self.speed > 0.0).then(|| -(behind.max(0.0) * self.speed * 1000.0) as i64)
    }

    /// `batch` as sent `started.elapsed()` into the scenario: its times moved, or as it is.
    fn apply(self, batch: &RecordBatch, started: Instant) -> std::borrow::Cow<'_, RecordBatch> {
        match self.shift(started) {
            Some(by) => std::borrow::Cow::Owned(shift_ts(batch, by)),
            None => std::borrow::Cow::Borrowed(batch),
        }
    }
}

/// `batch` with every `ts` moved by `by` ms.
fn shift_ts(batch: &RecordBatch, by: i64) -> RecordBatch {
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    let i = batch.schema().index_of("ts").expect("a ts column");
    let ts: arrow::array::Int64Array = batch
        .column(i)
        .as_primitive::<Int64Type>()
        .unary(|t| t + by);
    let mut columns = batch.columns().to_vec();
    columns[i] = std::sync::Arc::new(ts);
    RecordBatch::try_new(batch.schema(), columns).expect("shifted batch")
}

struct Row {
    section: &'static str,
    batch: usize,
    producers: usize,
    out: Outcome,
}

fn throughput(rows: &mut Vec<Row>, section: &'static str, fresh: bool) {
    let seconds = env_f64("TILEFOLD_INGEST_SECONDS", 3.0);
    let inflight = if fresh {
        1
    } else {
        env_usize("TILEFOLD_INGEST_INFLIGHT", 1).max(1)
    };
    for &batch in &env_list("TILEFOLD_INGEST_BATCHES", &[1, 100, 10_000]) {
        for &producers in &env_list("TILEFOLD_INGEST_PRODUCERS", &[1, 4]) {
            let dir = TempStore::new(&format!("{section}-{batch}x{producers}"));
            let store = Store::open_with_options(&dir.0, options()).expect("open");
            store.apply(&configs()).expect("apply");
            let mut out = run_producers(&store, producers, batch, seconds, fresh, inflight);
            if env_usize("TILEFOLD_INGEST_COMPACT", 0) > 0 {
                let started = Instant::now();
                let report = store.compact().expect("compact");
                out.compact = Some((
                    started.elapsed().as_secs_f64(),
                    report.group_bys.values().sum(),
                    report.tiles,
                ));
            }
            let line = format!(
                "{section:<10} batch {batch:>6} × {producers} producer(s){}: {:>10.0} events/s {:>9.0} acks/s  ack mean {:>8.1} µs p50 {:>8.1} µs p99 {:>8.1} µs  seals {}  head {} rows",
                if inflight > 1 { format!(", {inflight} in flight") } else { String::new() },
                out.events as f64 / out.elapsed,
                out.acks as f64 / out.elapsed,
                mean(&out.latency),
                pct(&out.latency, 0.5),
                pct(&out.latency, 0.99),
                out.seals,
                out.head_rows,
            );
            let line = match out.compact {
                Some((secs, rows, tiles)) => {
                    format!("{line}  compact: {rows} rows, {tiles} tiles in {secs:.2} s")
                }
                None => line,
            };
            if fresh {
                eprintln!(
                    "{line}  checks {} violations {} (fetch {:.0}% of producer time)",
                    out.checks,
                    out.violations,
                    100.0 * out.fetch_time / (out.elapsed * producers as f64)
                );
            } else {
                eprintln!("{line}");
            }
            drop(store);
            rows.push(Row {
                section,
                batch,
                producers,
                out,
            });
        }
    }
}

/// A store like benches/fetch.rs's, ending at `end`: `events` purchases over 30 days, a tenth as
/// many returns, and the users snapshots of the last two days. Built once per (size, day).
fn template(events: usize, end: i64) -> PathBuf {
    let root = target_dir().join("templates");
    let dir = root.join(format!("store-{events}-{}", ds(end)));
    if dir.join("READY").exists() {
        return dir;
    }
    // Older days' templates are stale (their data ends before today).
    let _ = std::fs::remove_dir_all(&root);
    let store = Store::open_with_options(&dir, options()).expect("create the template store");
    store.apply(&configs()).expect("apply");
    let started = Instant::now();
    load_shop(&store, events, 30, end);
    drop(store);
    std::fs::write(dir.join("READY"), b"").expect("mark the template ready");
    eprintln!(
        "fetch section: built a store of {events} purchases in {:.1?}",
        started.elapsed()
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "READY" {
            std::fs::copy(entry.path(), &target).expect("copy");
            // Flushed now, not by the kernel's writeback while the scenario measures.
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .expect("sync the copy");
        }
    }
}

/// `count` fetch_join latencies of random users at now, µs, sorted.
fn fetches(store: &Store, rng: &mut Rng, count: usize) -> Vec<f64> {
    let mut samples = Vec::with_capacity(count);
    while samples.len() < count {
        let keys = user_keys(rng.below(USERS));
        let started = Instant::now();
        let features = store.fetch_join(JOIN, &keys, None).expect("fetch_join");
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(features);
    }
    samples.sort_by(f64::total_cmp);
    samples
}

struct FetchRow {
    what: String,
    samples: Vec<f64>,
    /// p99 of the idle fetches on the same store before the load.
    idle_p99: f64,
    /// Events/s ingested while these fetches ran.
    events_per_s: Option<f64>,
    seals: u64,
}

fn print_fetch(row: &FetchRow) {
    eprintln!(
        "fetch      {}: p50 {:.1} µs p99 {:.1} µs p99.9 {:.1} µs ({} fetches){}",
        row.what,
        pct(&row.samples, 0.5),
        pct(&row.samples, 0.99),
        pct(&row.samples, 0.999),
        row.samples.len(),
        row.events_per_s.map_or(String::new(), |v| format!(
            "; ingest {v:.0} events/s, {} seal(s) seen",
            row.seals
        )),
    );
}

/// Per load: a fresh copy of the template store; idle fetches; fetches while `producers`
/// threads ingest 10k-event batches; idle fetches again on the store the load left.
fn fetch_under_load(rows: &mut Vec<FetchRow>) {
    let seconds = env_f64("TILEFOLD_INGEST_SECONDS", 3.0);
    let events = env_usize("TILEFOLD_INGEST_TABLE_EVENTS", 1_000_000);
    let idle_count = env_usize("TILEFOLD_INGEST_FETCHES", 20_000);
    let end = now_millis().div_euclid(DAY) * DAY;
    let template = template(events, end);
    let mut rng = Rng(42);
    for &producers in &env_list("TILEFOLD_INGEST_LOAD_PRODUCERS", &[1, 2]) {
        let dir = TempStore::new(&format!("fetch-load-{producers}"));
        copy_dir(&template, &dir.0);
        let store = Store::open_with_options(&dir.0, options()).expect("open");
        // One fetch of every user first: the idle figure is a warm store's, as the fetches
        // under load (which reach every user) mostly are, not first page reads.
        for user in 0..USERS {
            std::hint::black_box(store.fetch_join(JOIN, &user_keys(user), None).ok());
        }
        let idle = fetches(&store, &mut rng, idle_count);
        let idle_p99 = pct(&idle, 0.99);
        let row = FetchRow {
            what: format!("idle (fresh store for the {producers}-producer load)"),
            samples: idle,
            idle_p99,
            events_per_s: None,
            seals: 0,
        };
        print_fetch(&row);
        rows.push(row);
        let pools: Vec<Pool> = (0..producers)
            .map(|p| Pool::new(p, producers, 10_000))
            .collect();
        let stop = AtomicBool::new(false);
        let ingested = AtomicU64::new(0);
        // The producers' clock: `TILEFOLD_INGEST_EVENT_SPEED` moves their rows' times as in the
        // throughput section (the 300 ms before the measure included).
        let event_time = EventTime::from_env(seconds + 0.3);
        let started = Instant::now();
        // A first batch, on that clock too: unmoved, its rows would be the newest for most of
        // the load, and every row after them late (merged into every level's tiles).
        ingest(&store, &event_time.apply(&pools[0].batches[0].0, started));
        let (samples, rate, seals) = std::thread::scope(|s| {
            for (p, pool) in pools.iter().enumerate() {
                let (store, stop, ingested) = (&store, &stop, &ingested);
                let thread = std::thread::Builder::new().name(format!("producer-{p}"));
                thread
                    .spawn_scoped(s, move || {
                        let mut i = 0;
                        while !stop.load(Ordering::Relaxed) {
                            let batch = &pool.batches[i % pool.batches.len()].0;
                            i += 1;
                            let batch = &*event_time.apply(batch, started);
                            ingest(store, batch);
                            ingested.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                        }
                    })
                    .expect("spawn a producer");
            }
            // Ingest gets going (and the head grows) before the clock starts.
            std::thread::sleep(Duration::from_millis(300));
            let from = ingested.load(Ordering::Relaxed);
            let measured = Instant::now();
            let mut rng = Rng(7 + producers as u64);
            let mut samples = Vec::new();
            let mut seals = 0;
            let mut last_head = store.head_rows();
            while measured.elapsed().as_secs_f64() < seconds {
                let keys = user_keys(rng.below(USERS));
                let started = Instant::now();
                let features = store.fetch_join(JOIN, &keys, None).expect("fetch_join");
                samples.push(started.elapsed().as_secs_f64() * 1e6);
                std::hint::black_box(features);
                let head = store.head_rows();
                if head < last_head {
                    seals += 1;
                }
                last_head = head;
            }
            let rate =
                (ingested.load(Ordering::Relaxed) - from) as f64 / measured.elapsed().as_secs_f64();
            stop.store(true, Ordering::Relaxed);
            samples.sort_by(f64::total_cmp);
            (samples, rate, seals)
        });
        let row = FetchRow {
            what: format!("{producers} producer(s) ingesting 10k-event batches"),
            samples,
            idle_p99,
            events_per_s: Some(rate),
            seals,
        };
        print_fetch(&row);
        rows.push(row);
        // The same store, idle again: what the data the load added costs without contention. An
        // empty ingest returns once the writer finished everything before it (a seal included).
        let barrier = &pools[0].batches[0].0;
        ingest(&store, &barrier.slice(0, 0));
        let row = FetchRow {
            what: format!(
                "idle after the {producers}-producer load (head {} rows)",
                store.head_rows()
            ),
            samples: fetches(&store, &mut rng, idle_count),
            idle_p99,
            events_per_s: None,
            seals: 0,
        };
        print_fetch(&row);
        rows.push(row);
    }
}

fn main() {
    let sections: Vec<String> = std::env::var("TILEFOLD_INGEST_SECTIONS")
        .unwrap_or_else(|_| "throughput,freshness,fetch".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    let on = |s: &str| sections.iter().any(|x| x == s);
    eprintln!(
        "ingest bench: {} CPUs, {:.1} s a scenario, seal_rows {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env_f64("TILEFOLD_INGEST_SECONDS", 3.0),
        options().seal_rows
    );
    let mut rows = Vec::new();
    if on("throughput") {
        throughput(&mut rows, "throughput", false);
    }
    if on("freshness") {
        throughput(&mut rows, "freshness", true);
    }
    let mut fetch_rows = Vec::new();
    if on("fetch") {
        fetch_under_load(&mut fetch_rows);
    }

    println!();
    if !rows.is_empty() {
        println!(
            "{:<10} {:>6} {:>4} {:>12} {:>10} {:>12} {:>11} {:>11} {:>6} {:>8} {:>10}",
            "section",
            "batch",
            "prod",
            "events/s",
            "acks/s",
            "ack mean µs",
            "ack p50 µs",
            "ack p99 µs",
            "seals",
            "checks",
            "violations"
        );
        for r in &rows {
            let o = &r.out;
            let fresh = r.section == "freshness";
            println!(
                "{:<10} {:>6} {:>4} {:>12.0} {:>10.0} {:>12.1} {:>11.1} {:>11.1} {:>6} {:>8} {:>10}",
                r.section,
                r.batch,
                r.producers,
                o.events as f64 / o.elapsed,
                o.acks as f64 / o.elapsed,
                mean(&o.latency),
                pct(&o.latency, 0.5),
                pct(&o.latency, 0.99),
                o.seals,
                if fresh {
                    o.checks.to_string()
                } else {
                    "-".into()
                },
                if fresh {
                    o.violations.to_string()
                } else {
                    "-".into()
                },
            );
        }
        let goal = |batch: usize, producers: usize, what: &str, target: f64| {
            if let Some(r) = rows
                .iter()
                .find(|r| r.section == "throughput" && r.batch == batch && r.producers == producers)
            {
                let v = if what == "events/s" {
                    r.out.events as f64 / r.out.elapsed
                } else {
                    r.out.acks as f64 / r.out.elapsed
                };
                println!(
                    "goal: batch {batch} × {producers}: {v:.0} {what} (goal ≥ {target:.0}): {}",
                    if v >= target { "met" } else { "MISSED" }
                );
            }
        };
        goal(10_000, 1, "events/s", 1e6);
        goal(10_000, 4, "events/s", 1e6);
        goal(1, 4, "acks/s", 5e4);
        let (checks, violations) = rows
            .iter()
            .filter(|r| r.section == "freshness")
            .fold((0, 0), |(c, v), r| (c + r.out.checks, v + r.out.violations));
        if checks > 0 {
            println!(
                "goal: freshness: {checks} checks, {violations} violations (goal 0): {}",
                if violations == 0 { "met" } else { "MISSED" }
            );
        }
    }
    if !fetch_rows.is_empty() {
        println!();
        println!(
            "{:<58} {:>9} {:>9} {:>10} {:>11} {:>12}",
            "fetch_join shop.checkout.v1 at now",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "p99 / idle",
            "ingest ev/s"
        );
        for r in &fetch_rows {
            println!(
                "{:<58} {:>9.1} {:>9.1} {:>10.1} {:>11.2} {:>12}",
                r.what,
                pct(&r.samples, 0.5),
                pct(&r.samples, 0.99),
                pct(&r.samples, 0.999),
                pct(&r.samples, 0.99) / r.idle_p99,
                r.events_per_s.map_or("-".into(), |v| format!("{v:.0}")),
            );
        }
        let worst = fetch_rows
            .iter()
            .filter(|r| r.events_per_s.is_some())
            .map(|r| pct(&r.samples, 0.99) / r.idle_p99)
            .fold(f64::NAN, f64::max);
        if !worst.is_nan() {
            println!(
                "goal: fetch p99 under load ≤ 2× idle: worst {worst:.2}×: {}",
                if worst <= 2.0 { "met" } else { "MISSED" }
            );
        }
    }
}
