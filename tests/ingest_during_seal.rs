//! Live ingest goes on while a seal runs (issue 5, DESIGN.md "Data flow" 2): the seal freezes
//! the rows it seals, live commits go to `head.redb`, and the seal's end removes exactly the
//! frozen rows. A file system that holds the seal at its segment write makes the overlap
//! deterministic. Also: a store written before `head.redb` existed (head entries and producers
//! in `tilefold.redb`) opens with its rows and producers, and its first seal clears them.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use serde_json::json;
use tilefold::storage::{Database, FileSystem, RealFileSystem, HEAD_DATABASE_FILE_NAME};
use tilefold::{IngestRequest, Options, Rows, Store};

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
use live::{fetch_key, naive, now, open_store, Event, TempDir, DAY, HOUR, MINUTE};

/// The real file system, except that once armed, the next write of a GroupBy segment (a seal's
/// first file) reports on `entered` and waits for `release`.
#[derive(Debug)]
struct GatedFs {
    gate: Mutex<Option<(Sender<()>, Receiver<()>)>>,
}

impl GatedFs {
    fn new() -> Arc<GatedFs> {
        Arc::new(GatedFs {
            gate: Mutex::new(None),
        })
    }

    /// Arms the gate: returns (entered, release).
    fn arm(&self) -> (Receiver<()>, Sender<()>) {
        let (entered_tx, entered_rx) = crossbeam_channel::bounded(1);
        let (release_tx, release_rx) = crossbeam_channel::bounded(1);
        *self.gate.lock().unwrap() = Some((entered_tx, release_rx));
        (entered_rx, release_tx)
    }
}

impl FileSystem for GatedFs {
    fn create_dir_all(&self, path: &Path) -> std::io::Result<()> {
        RealFileSystem.create_dir_all(path)
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if path.to_string_lossy().contains("group_bys") {
            let gate = self.gate.lock().unwrap().take();
            if let Some((entered, release)) = gate {
                entered.send(()).unwrap();
                release.recv().unwrap();
            }
        }
        RealFileSystem.write_new(path, bytes)
    }

    fn sync_file(&self, path: &Path) -> std::io::Result<()> {
        RealFileSystem.sync_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        RealFileSystem.rename(from, to)
    }

    fn sync_dir(&self, path: &Path) -> std::io::Result<()> {
        RealFileSystem.sync_dir(path)
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        RealFileSystem.remove_file(path)
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        RealFileSystem.list_dir(path)
    }
}

/// `n` events over the last day before `end`, keys a..d, values from `first`.
fn events(n: usize, first: i64, end: i64) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let k = ["a", "b", "c", "d"][i % 4].to_owned();
            let ts = end - DAY + ((i as i64 * 7_919 + first) * 61_001) % (DAY - MINUTE);
            (k, first + i as i64, ts)
        })
        .collect()
}

fn request(events: &[Event], producer: Option<(&str, u64)>) -> IngestRequest {
    IngestRequest {
        topic: "ev".into(),
        rows: Rows::Json(
            events
                .iter()
                .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
                .collect(),
        ),
        producer: producer.map(|(id, seq)| (id.to_owned(), seq)),
    }
}

/// Every key's values at a few times equal the naive scan over `events`.
fn check_values(store: &Store, events: &[Event], end: i64, what: &str) {
    for k in ["a", "b", "c", "d"] {
        for t in [end + 1, end - 5 * HOUR, end - DAY + 3 * HOUR, end + DAY / 2] {
            assert_eq!(
                fetch_key(store, k, t),
                naive(events, k, t),
                "{what}: {k} at {t}"
            );
        }
    }
}

/// A store in `dir` with the configs applied, opened with `options` and writing through a
/// [`GatedFs`] (returned, to hold a seal with).
fn gated_store(dir: &TempDir, options: Options) -> (Store, Arc<GatedFs>) {
    let fs = GatedFs::new();
    let store = open_store(
        dir,
        Options {
            fs: fs.clone(),
            ..options
        },
    );
    (store, fs)
}

/// Runs `produce` on a thread while a seal is held at its first segment write; returns what
/// `observe` sees 500 ms into the hold, then lets the seal go on and waits for `produce`.
fn while_a_seal_is_held<T>(
    fs: &GatedFs,
    produce: impl FnOnce() + Send,
    observe: impl FnOnce() -> T,
) -> T {
    let (entered, release) = fs.arm();
    std::thread::scope(|scope| {
        let producer = scope.spawn(produce);
        entered
            .recv_timeout(Duration::from_secs(60))
            .expect("a seal reached its segment write");
        std::thread::sleep(Duration::from_millis(500));
        let seen = observe();
        release.send(()).unwrap();
        producer.join().unwrap();
        seen
    })
}

fn options(fs: Arc<dyn FileSystem>) -> Options {
    Options {
        fs,
        seal_rows: usize::MAX,
        ..Options::default()
    }
}

#[test]
fn rows_ingested_while_a_seal_runs_are_acknowledged_visible_and_kept_after_it() {
    let dir = TempDir::new("during-seal");
    let end = now();
    let fs = GatedFs::new();
    let store = open_store(&dir, options(fs.clone()));
    let first = events(40, 0, end);
    store.submit(request(&first, None)).unwrap();

    let (entered, release) = fs.arm();
    let sealer = {
        let store = store.clone();
        std::thread::spawn(move || store.compact())
    };
    entered
        .recv_timeout(Duration::from_secs(60))
        .expect("the seal reached its segment write");

    // The seal is held with its rows frozen: an ingest is acknowledged all the same.
    let second = events(25, 1_000, end);
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    {
        let store = store.clone();
        let second = second.clone();
        std::thread::spawn(move || done_tx.send(store.submit(request(&second, None))));
    }
    let acknowledged = done_rx.recv_timeout(Duration::from_secs(60));
    if acknowledged.is_err() {
        release.send(()).unwrap();
        panic!("an ingest waited for the seal under way");
    }
    acknowledged.unwrap().unwrap();
    let both: Vec<Event> = first.iter().chain(&second).cloned().collect();
    check_values(&store, &both, end, "during the seal");
    assert_eq!(store.head_rows(), both.len());

    release.send(()).unwrap();
    let report = sealer.join().unwrap().unwrap();
    // The seal took the rows frozen when it began, and only those.
    assert_eq!(report.group_bys.values().sum::<usize>(), first.len());
    assert_eq!(store.head_rows(), second.len());
    check_values(&store, &both, end, "after the seal");

    let third = events(30, 2_000, end);
    store.submit(request(&third, None)).unwrap();
    let all: Vec<Event> = both.iter().chain(&third).cloned().collect();
    let report = store.compact().unwrap();
    assert_eq!(
        report.group_bys.values().sum::<usize>(),
        second.len() + third.len()
    );
    assert_eq!(store.head_rows(), 0);
    check_values(&store, &all, end, "after the second seal");
    store.check().unwrap();
    drop(store);

    let store = Store::open_with_options(&dir.0, options(Arc::new(RealFileSystem))).unwrap();
    assert_eq!(store.head_rows(), 0);
    check_values(&store, &all, end, "reopened");
    store.check().unwrap();
    // Rows ingested after every head entry was sealed and removed survive the next reopen:
    // their entry is numbered after the last one sealed.
    let fourth = events(15, 3_000, end);
    store.submit(request(&fourth, None)).unwrap();
    drop(store);
    let all: Vec<Event> = all.iter().chain(&fourth).cloned().collect();
    let store = Store::open(&dir.0).unwrap();
    assert_eq!(store.head_rows(), fourth.len());
    check_values(&store, &all, end, "reopened after more rows");
}

/// Flow control: while a seal is held, the writer takes rows until the head holds four times
/// `seal_rows` (plus the group that crossed the mark), then waits; the producer's acks stop
/// until the seal ends, and nothing is lost.
#[test]
fn the_writer_waits_for_a_seal_once_the_head_is_full() {
    let dir = TempDir::new("full-head");
    let end = now();
    let seal_rows = 10;
    let (store, fs) = gated_store(
        &dir,
        Options {
            seal_rows,
            ..Options::default()
        },
    );
    let batches: Vec<Vec<Event>> = (0..200).map(|i| events(20, i * 20, end)).collect();
    let acked = AtomicUsize::new(0);
    let during = while_a_seal_is_held(
        &fs,
        || {
            for batch in &batches {
                store.submit(request(batch, None)).unwrap();
                // Acknowledged: the writer added these rows after waiting for the head to
                // fall under the mark.
                assert!(store.head_rows() < 4 * seal_rows + batch.len());
                acked.fetch_add(1, Ordering::SeqCst);
            }
        },
        || acked.load(Ordering::SeqCst),
    );
    // Without flow control the producer would ack all 200 batches in those 500 ms.
    assert!(
        during <= 4,
        "{during} batches acknowledged while the seal was held"
    );
    let all: Vec<Event> = batches.concat();
    check_values(&store, &all, end, "after the seals");
    store.compact().unwrap();
    check_values(&store, &all, end, "compacted");
    store.check().unwrap();
}

/// Back-pressure: a producer that sends without waiting, while the writer waits for a held
/// seal, is held once `max_queued_rows` rows wait in the writer's queue (plus the send that
/// crossed the bound); every request is committed once the seal ends.
#[test]
fn sends_wait_once_the_writer_queue_holds_max_queued_rows() {
    let dir = TempDir::new("queue-bound");
    let end = now();
    let (seal_rows, max_queued_rows) = (10, 100);
    let (store, fs) = gated_store(
        &dir,
        Options {
            seal_rows,
            max_queued_rows,
            ..Options::default()
        },
    );
    let batches: Vec<Vec<Event>> = (0..100).map(|i| events(20, i * 20, end)).collect();
    let sent = AtomicUsize::new(0);
    let (queued, during) = while_a_seal_is_held(
        &fs,
        || {
            let pending: Vec<_> = batches
                .iter()
                .map(|batch| {
                    let pending = store.send(request(batch, None)).unwrap();
                    sent.fetch_add(1, Ordering::SeqCst);
                    pending
                })
                .collect();
            for pending in pending {
                pending.wait().unwrap();
            }
        },
        || (store.queued_rows(), sent.load(Ordering::SeqCst)),
    );
    // Without the bound all 100 sends return at once, 2,000 rows queued.
    assert!(queued <= max_queued_rows, "{queued} rows queued");
    // Committed before the writer stopped: under 4 × seal_rows plus a group (at most the
    // 100 queued rows); queued: at most 100 rows.
    assert!(
        during * 20 <= 4 * seal_rows + 2 * max_queued_rows,
        "{during} sends returned while the seal was held"
    );
    assert_eq!(store.queued_rows(), 0);
    let all: Vec<Event> = batches.concat();
    check_values(&store, &all, end, "after the seals");
}

#[test]
fn a_store_with_its_head_in_the_main_database_opens_with_its_rows_and_producers() {
    let dir = TempDir::new("legacy-head");
    let end = now();
    let first = events(30, 0, end);
    let second = events(20, 500, end);
    {
        let store = open_store(&dir, options(Arc::new(RealFileSystem)));
        store.submit(request(&first, Some(("p", 1)))).unwrap();
        store.submit(request(&second, Some(("p", 2)))).unwrap();
    }
    // Move head.redb's tables into tilefold.redb, as a store written before the split has them.
    {
        let head = Database::open_head(&dir.0, &RealFileSystem).unwrap();
        let read = head.begin_read().unwrap();
        let (entries, producers) = (read.head(0).unwrap(), read.producers().unwrap());
        assert_eq!(entries.len(), 2);
        drop((read, head));
        std::fs::remove_file(dir.0.join(HEAD_DATABASE_FILE_NAME)).unwrap();
        let main = Database::open(&dir.0).unwrap();
        let mut txn = main.begin_write().unwrap();
        for (number, bytes) in &entries {
            txn.put_head(*number, bytes).unwrap();
        }
        for (id, sequence) in &producers {
            txn.put_producer(id, *sequence).unwrap();
        }
        txn.commit().unwrap();
        drop(main);
        // And format version 1, which such a store has.
        let raw =
            redb::Database::create(dir.0.join(tilefold::storage::DATABASE_FILE_NAME)).unwrap();
        let write = raw.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
        write
            .open_table(meta)
            .unwrap()
            .insert("format_version", 1u32.to_le_bytes().as_slice())
            .unwrap();
        write.commit().unwrap();
    }
    let both: Vec<Event> = first.iter().chain(&second).cloned().collect();
    let store = Store::open(&dir.0).unwrap();
    assert_eq!(store.head_rows(), both.len());
    assert_eq!(store.producer_sequence("p"), Some(2));
    check_values(&store, &both, end, "legacy head");
    // A retried batch is still recognised; a new one gets a number after the legacy entries.
    assert!(
        store
            .submit(request(&second, Some(("p", 2))))
            .unwrap()
            .duplicate
    );
    let third = events(10, 900, end);
    store.submit(request(&third, Some(("p", 3)))).unwrap();
    let all: Vec<Event> = both.iter().chain(&third).cloned().collect();
    check_values(&store, &all, end, "legacy head and a new batch");
    store.compact().unwrap();
    check_values(&store, &all, end, "sealed");
    drop(store);

    let main = Database::open(&dir.0).unwrap();
    assert!(
        main.begin_read().unwrap().head(0).unwrap().is_empty(),
        "the seal left legacy head entries in tilefold.redb"
    );
    drop(main);
    let store = Store::open(&dir.0).unwrap();
    assert_eq!(store.head_rows(), 0);
    assert_eq!(store.producer_sequence("p"), Some(3));
    check_values(&store, &all, end, "reopened");
    store.check().unwrap();
}

/// `seal_rows: 0` seals after every commit, as 1 does (it once made the writer wait forever).
#[test]
fn seal_rows_zero_seals_after_every_commit() {
    let dir = TempDir::new("seal-rows-zero");
    let end = now();
    let store = open_store(
        &dir,
        Options {
            seal_rows: 0,
            ..Options::default()
        },
    );
    let batches: Vec<Vec<Event>> = (0..8).map(|i| events(5, i * 5, end)).collect();
    for batch in &batches {
        store.submit(request(batch, None)).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while store.head_rows() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(store.head_rows(), 0);
    check_values(&store, &batches.concat(), end, "sealed");
    store.check().unwrap();
}
