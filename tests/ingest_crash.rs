//! I2 under kill -9: an acknowledged event survives; an unacknowledged batch is all or nothing.
//! I3 after every crash: the stored tiles equal tiles rebuilt from the raw rows.
//!
//! The test runs its own binary again as a child (`crash_child`, which does nothing unless
//! `TILEFOLD_CRASH_CHILD` names a store). The child opens the store with a small `seal_rows`, so
//! the writer seals in the background while it is being killed, and two idempotent producers
//! (`crash` with JSON rows, `crash2` with Arrow rows, one thread each) ingest batch after batch,
//! each continuing from its committed sequence number + 1. A batch's rows are a function of
//! (producer, sequence number) and touch at least two keys; after each acknowledgement the child
//! prints `ack <producer> <seq>` (flushed) to the pipe the parent reads. The first producer also
//! calls `compact()` now and then.
//!
//! Each cycle the parent kills the child with SIGKILL after a random 20–300 ms, reads every ack
//! it got, reopens the store and checks:
//! - `producer_sequence` ≥ the highest ack of each producer (an acked batch is never lost);
//! - every key at several times (hop boundaries, window edges, the middle of the data, now), by
//!   `fetch_group_by` and by `fetch_join`, equals the naive value over exactly the batches
//!   1..=`producer_sequence` of each producer: a half batch, a batch without its sequence number
//!   or a sequence number without its batch would change some key's count;
//! - `check()`: the tiles equal tiles rebuilt from the raw rows.
//!
//! `TILEFOLD_CRASH_CYCLES` (default 50) sets the number of cycles and `TILEFOLD_CRASH_SEED` the
//! seed (default: from the clock; printed, with each cycle's kill time, to replay a failure).
#![cfg(unix)]

#[path = "support/live.rs"]
mod live;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;
use tilefold::{IngestRequest, Options, Rows, Store};

use live::{
    env_or, fetch_key, fetch_pair, naive, now, open_store, Event, Rng, TempDir, DAY, HOUR, MINUTE,
};

/// Set in the child: the store's directory.
const CHILD_ENV: &str = "TILEFOLD_CRASH_CHILD";
/// Set in the child: the base of the events' timestamps.
const BASE_ENV: &str = "TILEFOLD_CRASH_BASE";
const CHILD_TEST: &str = "crash_child";
const PRODUCERS: [&str; 2] = ["crash", "crash2"];
const KEYS: [&str; 5] = ["k0", "k1", "k2", "k3", "k4"];
/// The child's writer seals once the head holds this many rows.
const SEAL_ROWS: usize = 300;

/// The rows of batch `seq` of producer `p`: 2 to 6 rows over at least two keys, values 1..=1000,
/// timestamps from `base` on, 250 ms apart per sequence number (wrapping after 5 hours).
fn batch(p: usize, seq: u64, base: i64) -> Vec<Event> {
    let rows = 2 + ((seq * 7 + p as u64) % 5) as usize;
    (0..rows)
        .map(|j| {
            let key = if p == 0 {
                (seq as usize + j) % KEYS.len()
            } else {
                (seq as usize * 2 + j * 2) % KEYS.len()
            };
            let v = ((seq * 31 + j as u64 * 7 + p as u64 * 13) % 1000 + 1) as i64;
            let ts = base + (seq as i64 * 250 + p as i64 * 100 + j as i64) % (5 * HOUR);
            (KEYS[key].to_owned(), v, ts)
        })
        .collect()
}

fn request(p: usize, seq: u64, events: &[Event]) -> IngestRequest {
    let rows = if p == 0 {
        Rows::Json(
            events
                .iter()
                .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
                .collect(),
        )
    } else {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
            Field::new("ts", DataType::Int64, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(events.iter().map(|e| &e.0))),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.1))),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.2))),
        ];
        Rows::Arrow(RecordBatch::try_new(schema, columns).unwrap())
    };
    IngestRequest {
        topic: "ev".into(),
        rows,
        producer: Some((PRODUCERS[p].into(), seq)),
    }
}

/// Writes one line to the parent; false once the parent is gone.
fn say(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

/// One producer of the child: batches until killed (or, should the parent vanish, until its
/// pipe breaks or a minute has passed).
fn produce(store: &Store, p: usize, base: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seq = store.producer_sequence(PRODUCERS[p]).unwrap_or(0) + 1;
    while Instant::now() < deadline {
        let events = batch(p, seq, base);
        match store.submit(request(p, seq, &events)) {
            Ok(report) if report.duplicate => {
                say(&format!("err {p} {seq}: acknowledged as a duplicate"));
                return;
            }
            Ok(_) => {
                if !say(&format!("ack {p} {seq}")) {
                    return;
                }
            }
            Err(err) => {
                say(&format!("err {p} {seq}: {err}"));
                return;
            }
        }
        if p == 0 && seq.is_multiple_of(23) {
            if let Err(err) = store.compact() {
                say(&format!("err {p} {seq}: compact: {err}"));
                return;
            }
        }
        seq += 1;
    }
}

/// The child: does nothing unless the parent set `TILEFOLD_CRASH_CHILD`.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let base: i64 = env_or(BASE_ENV, 0);
    let options = Options {
        seal_rows: SEAL_ROWS,
        ..Options::default()
    };
    let store = match Store::open_with_options(&dir, options) {
        Ok(store) => store,
        Err(err) => {
            say(&format!("err open: {err}"));
            return;
        }
    };
    std::thread::scope(|s| {
        for p in 0..PRODUCERS.len() {
            let store = &store;
            s.spawn(move || produce(store, p, base));
        }
    });
}

/// What one cycle's child printed.
struct Run {
    /// The acknowledged sequence numbers of each producer, in order.
    acks: [Vec<u64>; 2],
    errors: Vec<String>,
    stderr: String,
    killed: bool,
}

fn run_child(dir: &std::path::Path, base: i64, kill_after: Duration) -> Run {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(BASE_ENV, base.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    std::thread::sleep(kill_after);
    // SIGKILL on Unix.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let mut run = Run {
        acks: [Vec::new(), Vec::new()],
        errors: Vec::new(),
        stderr: errors.join().unwrap(),
        killed: status.signal() == Some(9),
    };
    // Every line in the pipe was written after its acknowledgement, including those read after
    // the kill.
    for line in lines.join().unwrap() {
        // The harness's `test crash_child ... ` may precede the first line.
        let words: Vec<&str> = line.split_whitespace().collect();
        let from = words
            .iter()
            .position(|w| *w == "ack" || *w == "err")
            .unwrap_or(words.len());
        match &words[from..] {
            ["ack", p, seq] => run.acks[p.parse::<usize>().unwrap()].push(seq.parse().unwrap()),
            ["err", ..] => run.errors.push(line.clone()),
            _ => {}
        }
    }
    run
}

/// Query times: hop boundaries and window edges around the data, its middle, and now.
fn times(base: i64, events: &[Event]) -> Vec<i64> {
    let mut times = vec![
        base,
        base + 1,
        base + 150_001,
        base + 5 * MINUTE,
        base + 5 * MINUTE + 1,
        base + HOUR + 3 * MINUTE,
        base + HOUR + 5 * MINUTE + 1,
        base + DAY + 1,
        now() + 1,
    ];
    if !events.is_empty() {
        let mid = events[events.len() / 2].2;
        times.extend([mid, mid + 1]);
    }
    times
}

/// Fetch equals the naive value over exactly `events`, for every key at every time.
fn check_values(store: &Store, base: i64, events: &[Event], context: &str) {
    for t in times(base, events) {
        for k in KEYS.iter().chain(&["zz"]) {
            assert_eq!(
                fetch_key(store, k, t),
                naive(events, k, t),
                "{context}: key {k} at {t}"
            );
        }
        let (x, y) = fetch_pair(store, "k0", "k3", t);
        assert_eq!(x, naive(events, "k0", t), "{context}: join, k0 at {t}");
        assert_eq!(y, naive(events, "k3", t), "{context}: join, k3 at {t}");
    }
}

/// The GroupBy's segment files (and temporary files) on disk.
fn segment_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("segments/group_bys/t_stress_v1")).map_or(0, |d| d.count())
}

#[test]
fn acknowledged_batches_survive_sigkill_and_no_half_batch_is_visible() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let cycles: usize = env_or("TILEFOLD_CRASH_CYCLES", 50);
    let seed: u64 = env_or("TILEFOLD_CRASH_SEED", now() as u64);
    println!("seed={seed} (TILEFOLD_CRASH_SEED replays the kill times)");
    let dir = TempDir::new("crash");
    let base = (now() - 6 * HOUR).div_euclid(HOUR) * HOUR;
    drop(open_store(&dir, Options::default()));
    let started = Instant::now();
    // Per producer: the highest sequence number acknowledged and the one committed so far.
    let mut acked = [0u64; 2];
    let mut committed = [0u64; 2];
    let mut events_acked = 0usize;
    // Acknowledged batches found missing at a reopen, (producer, seq), and their rows.
    let mut lost: BTreeSet<(usize, u64)> = BTreeSet::new();
    let mut events_lost = 0usize;
    let mut committed_unacked = 0u64;
    // Cycles whose kill left segment files of an uncommitted seal (removed at the reopen).
    let mut seals_interrupted = 0usize;
    for cycle in 0..cycles {
        let cycle_seed = Rng::new(seed ^ cycle as u64).next_u64();
        let mut rng = Rng::new(cycle_seed);
        let kill_after = rng.between(20, 300);
        let context = format!(
            "cycle {cycle} (seed {seed}, cycle seed {cycle_seed}, kill after {kill_after} ms)"
        );
        let run = run_child(&dir.0, base, Duration::from_millis(kill_after));
        assert!(
            run.errors.is_empty() && run.killed,
            "{context}: the child failed: {:?}\n{}",
            run.errors,
            run.stderr
        );
        for p in 0..PRODUCERS.len() {
            // Each run continues from the committed sequence number + 1, one by one.
            for (expected, &seq) in (committed[p] + 1..).zip(&run.acks[p]) {
                assert_eq!(seq, expected, "{context}: producer {p}'s acknowledgements");
                acked[p] = seq;
                if !lost.remove(&(p, seq)) {
                    events_acked += batch(p, seq, base).len();
                }
            }
        }
        let files_before = segment_files(&dir.0);
        let store = Store::open(&dir.0).unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
        if segment_files(&dir.0) < files_before {
            seals_interrupted += 1;
        }
        for p in 0..PRODUCERS.len() {
            let now_committed = store.producer_sequence(PRODUCERS[p]).unwrap_or(0);
            for seq in now_committed + 1..=acked[p] {
                if lost.insert((p, seq)) {
                    events_lost += batch(p, seq, base).len();
                    eprintln!("{context}: producer {p} batch {seq} was acknowledged but is gone");
                }
            }
            committed_unacked += now_committed.saturating_sub(acked[p].max(committed[p]));
            committed[p] = now_committed;
        }
        // Exactly the batches 1..=committed of each producer are visible, whole.
        let events: Vec<Event> = (0..PRODUCERS.len())
            .flat_map(|p| (1..=committed[p]).flat_map(move |seq| batch(p, seq, base)))
            .collect();
        check_values(&store, base, &events, &context);
        store
            .check()
            .unwrap_or_else(|e| panic!("{context}: check: {e}"));
    }
    // Replayed heads seal into the same values.
    let store = Store::open(&dir.0).unwrap();
    let events: Vec<Event> = (0..PRODUCERS.len())
        .flat_map(|p| (1..=committed[p]).flat_map(move |seq| batch(p, seq, base)))
        .collect();
    store.compact().unwrap();
    assert_eq!(store.head_rows(), 0);
    check_values(&store, base, &events, "after the last cycle and a seal");
    let report = store.check().unwrap();
    let segments = segment_files(&dir.0);
    println!(
        "cycles={cycles} events_acked={events_acked} events_lost={events_lost} \
         batches_committed={} committed_unacked={committed_unacked} segments={segments} \
         seals_interrupted={seals_interrupted} \
         tiles={} elapsed={:.1?}",
        committed[0] + committed[1],
        report.tiles,
        started.elapsed()
    );
    assert_eq!(events_lost, 0, "acknowledged batches lost: {lost:?}");
}
