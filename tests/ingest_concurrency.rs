//! I5: readers never block the writer and always see one committed state.
//!
//! Two producer threads ingest while the writer seals on its own (a small `seal_rows`) and a
//! third thread calls `compact()` in a loop, so rows keep moving from the head into segments and
//! tiles. Producer `p` owns four keys; its batch `i` adds one event of value `i` to each of them,
//! 5 s after the previous batch's. So in any committed state each of its keys holds exactly the
//! events of batches 1..=n for one n, and every feature of a key is the naive value over those.
//!
//! Reader threads fetch in a loop, through `fetch_join` (one call reads two keys: the join
//! holds the GroupBy twice, under left columns `k1` and `k2`) and `fetch_group_by`, at a time
//! after all events and at two times inside them (one where the 1-hour window starts on a
//! 5-minute boundary inside the data). Every response must be the naive value at some committed
//! prefix n: a reader that saw a sealed tile together with the head rows it was sealed from
//! would count them twice, one that saw neither would miss them. Both keys of a join response
//! from the same producer must agree on n, and a reader's n never decreases (nor, at an earlier
//! time, falls below what its latest n implies). Readers must also make progress: each sees
//! several different n.
//!
//! The producers run for `TILEFOLD_CONCURRENCY_MS` (default 4,000); `TILEFOLD_CONCURRENCY_SEED`
//! sets the readers' random choices (default: from the clock, printed).

#[path = "support/live.rs"]
mod live;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tilefold::{IngestRequest, Options, Rows, Store};

use live::{
    env_or, fetch_key, fetch_pair, naive, now, open_store, Agg, Event, Rng, TempDir, HOUR, MINUTE,
};

const PRODUCERS: [&str; 2] = ["p0", "p1"];
const KEYS: [[&str; 4]; 2] = [["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"]];
/// Batches per producer at most; the producers also stop after `TILEFOLD_CONCURRENCY_MS`.
const MAX_BATCHES: usize = 5_000;
const READERS: usize = 3;
/// The writer seals once the head holds this many rows (8 rows per pair of batches).
const SEAL_ROWS: usize = 48;

/// The events of batch `i` (1-based) of producer `p`, one per key: value `i`, 5 s apart.
fn batch(p: usize, i: usize, base: i64) -> Vec<Event> {
    KEYS[p]
        .iter()
        .enumerate()
        .map(|(j, k)| {
            let ts = base + i as i64 * 5000 + p as i64 * 10 + j as i64;
            ((*k).to_owned(), i as i64, ts)
        })
        .collect()
}

/// Per producer and key, the key's events of batches 1..=MAX_BATCHES in batch order: those of
/// a prefix n are the first n.
struct Model {
    events: Vec<Vec<Vec<Event>>>,
}

impl Model {
    fn new(base: i64) -> Model {
        let mut events: Vec<Vec<Vec<Event>>> = (0..2)
            .map(|_| (0..4).map(|_| Vec::with_capacity(MAX_BATCHES)).collect())
            .collect();
        for (p, keys) in events.iter_mut().enumerate() {
            for i in 1..=MAX_BATCHES {
                for (j, event) in batch(p, i, base).into_iter().enumerate() {
                    keys[j].push(event);
                }
            }
        }
        Model { events }
    }

    fn key(k: &str) -> (usize, usize) {
        for (p, keys) in KEYS.iter().enumerate() {
            if let Some(j) = keys.iter().position(|x| *x == k) {
                return (p, j);
            }
        }
        panic!("unknown key {k}")
    }

    /// The value of `k` at `t` after batches 1..=n of its producer.
    fn expected(&self, k: &str, n: usize, t: i64) -> Agg {
        let (p, j) = Model::key(k);
        naive(&self.events[p][j][..n], k, t)
    }

    /// How many of `k`'s producer's batches have events before `t`.
    fn before(&self, k: &str, t: i64) -> usize {
        let (p, j) = Model::key(k);
        self.events[p][j].partition_point(|e| e.2 < t)
    }
}

/// One reader's view: the latest n seen per producer (at the time after all events).
struct Reader<'a> {
    model: &'a Model,
    far: i64,
    latest: [usize; 2],
    seen: Vec<(usize, usize)>,
    fetches: usize,
}

impl Reader<'_> {
    /// Checks `agg`, the value of `k` at `t`, against every committed prefix it may come from,
    /// and returns its n (the events of `k` before `t`).
    fn check(&mut self, k: &str, t: i64, agg: Agg, what: &str) -> usize {
        let (p, _) = Model::key(k);
        let n = agg.count.unwrap_or(0) as usize;
        let before = self.model.before(k, t);
        assert!(
            n <= before,
            "{what}: {k} at {t}: count {n} > {before} batches"
        );
        assert_eq!(
            agg,
            self.model.expected(k, n, t),
            "{what}: {k} at {t} is no committed prefix's value"
        );
        if t == self.far {
            assert!(
                n >= self.latest[p],
                "{what}: {k}: n went back from {} to {n}",
                self.latest[p]
            );
            self.latest[p] = n;
            self.seen.push((p, n));
        } else {
            // A state no older than the latest one seen holds at least its events before `t`.
            let floor = self.latest[p].min(before);
            assert!(
                n >= floor,
                "{what}: {k} at {t}: {n} events, expected ≥ {floor}"
            );
        }
        n
    }
}

/// Two keys of one producer showing n1 of their b1 events before a time and n2 of b2 are the
/// same prefix N of its batches: n = min(N, b) for both.
fn one_prefix(n1: usize, b1: usize, n2: usize, b2: usize) -> bool {
    match (n1 < b1, n2 < b2) {
        (true, true) => n1 == n2,
        (true, false) => n2 <= n1,
        (false, true) => n1 <= n2,
        (false, false) => true,
    }
}

fn read_until(store: &Store, reader: &mut Reader, times: &[i64], seed: u64, done: &AtomicBool) {
    let mut rng = Rng::new(seed);
    let all: Vec<&str> = KEYS.iter().flatten().copied().collect();
    let pick = |rng: &mut Rng| all[rng.between(0, all.len() as u64 - 1) as usize];
    while !done.load(Ordering::Acquire) {
        let t = times[rng.between(0, times.len() as u64 - 1) as usize];
        let (k1, k2) = (pick(&mut rng), pick(&mut rng));
        if rng.between(0, 2) == 0 {
            let agg = fetch_key(store, k1, t);
            reader.check(k1, t, agg, "fetch_group_by");
        } else {
            let (x, y) = fetch_pair(store, k1, k2, t);
            let n1 = reader.check(k1, t, x, "fetch_join part x");
            let n2 = reader.check(k2, t, y, "fetch_join part y");
            if Model::key(k1).0 == Model::key(k2).0 {
                let (b1, b2) = (reader.model.before(k1, t), reader.model.before(k2, t));
                assert!(
                    one_prefix(n1, b1, n2, b2),
                    "fetch_join: {k1} ({n1} of {b1} events before {t}) and {k2} ({n2} of {b2}) \
                     come from different states"
                );
            }
        }
        reader.fetches += 1;
    }
}

fn produce(store: &Store, p: usize, base: i64, until: Instant) -> usize {
    let mut n = 0;
    while n < MAX_BATCHES && Instant::now() < until {
        let i = n + 1;
        let rows = batch(p, i, base)
            .iter()
            .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
            .collect();
        let report = store
            .submit(IngestRequest {
                topic: "ev".into(),
                rows: Rows::Json(rows),
                producer: Some((PRODUCERS[p].into(), i as u64)),
            })
            .unwrap();
        assert!(!report.duplicate);
        n = i;
    }
    n
}

/// Sets its flag when dropped, on panic too.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn readers_see_one_committed_prefix_while_the_writer_ingests_and_seals() {
    let dir = TempDir::new("concurrency");
    let base = (now() - 8 * HOUR).div_euclid(HOUR) * HOUR;
    let far = now() + MINUTE;
    // After every event; inside them; the 1-hour window from base + 5 min (a 5-minute tile edge).
    let times = [
        far,
        base + 5 * MINUTE + 1,
        base + 10 * MINUTE + 1,
        base + HOUR + 7 * MINUTE,
    ];
    let model = Model::new(base);
    let store = open_store(
        &dir,
        Options {
            seal_rows: SEAL_ROWS,
            ..Options::default()
        },
    );
    let run_for = Duration::from_millis(env_or("TILEFOLD_CONCURRENCY_MS", 4_000));
    let seed: u64 = env_or("TILEFOLD_CONCURRENCY_SEED", now() as u64);
    println!("seed={seed} (TILEFOLD_CONCURRENCY_SEED replays the readers' choices)");
    let started = Instant::now();
    let until = started + run_for;
    let done = AtomicBool::new(false);
    let seals = AtomicUsize::new(0);
    let (batches, readers) = std::thread::scope(|s| {
        let producers: Vec<_> = (0..PRODUCERS.len())
            .map(|p| {
                let store = &store;
                s.spawn(move || produce(store, p, base, until))
            })
            .collect();
        let compactor = s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                if !store.compact().unwrap().group_bys.is_empty() {
                    seals.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        });
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let (store, model, done, times) = (&store, &model, &done, &times);
                s.spawn(move || {
                    let mut reader = Reader {
                        model,
                        far,
                        latest: [0; 2],
                        seen: Vec::new(),
                        fetches: 0,
                    };
                    read_until(store, &mut reader, times, seed ^ r as u64, done);
                    reader
                })
            })
            .collect();
        // Readers and the compactor stop even if a producer panicked.
        let stop = Stop(&done);
        let batches: Vec<usize> = producers.into_iter().map(|h| h.join().unwrap()).collect();
        drop(stop);
        compactor.join().unwrap();
        let readers: Vec<Reader> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        (batches, readers)
    });
    for (r, reader) in readers.iter().enumerate() {
        let mut distinct = reader.seen.clone();
        distinct.sort_unstable();
        distinct.dedup();
        println!(
            "reader {r}: {} fetches, {} distinct prefixes seen, latest {:?}",
            reader.fetches,
            distinct.len(),
            reader.latest
        );
        assert!(
            distinct.len() >= 4,
            "reader {r} made no progress: {distinct:?}"
        );
    }
    // The end state: every key holds its producer's batches, before and after a last seal.
    let check_end = |store: &Store| {
        for (p, keys) in KEYS.iter().enumerate() {
            for k in keys {
                for &t in &times {
                    assert_eq!(
                        fetch_key(store, k, t),
                        model.expected(k, batches[p], t),
                        "{k} at {t}"
                    );
                }
            }
        }
    };
    check_end(&store);
    store.compact().unwrap();
    assert_eq!(store.head_rows(), 0);
    check_end(&store);
    let report = store.check().unwrap();
    println!(
        "batches={batches:?} explicit_seals={} tiles={} elapsed={:.1?}",
        seals.load(Ordering::Relaxed),
        report.tiles,
        started.elapsed()
    );
}
