//! Fault injection through the storage seam (issue 5, DESIGN.md I2): an I/O error, a power cut
//! or a torn power cut at every write and sync point of opening a store, registering a config,
//! live ingest and sealing. After each fault the store is reopened on the real file system and:
//! every acknowledged batch is there, no half batch is visible (values equal a naive scan over
//! exactly the committed batches), tiles equal tiles rebuilt from raw rows, and a store whose
//! commit failed refused every later change until reopened.

use std::sync::Arc;

use serde_json::json;
use tilefold::storage::{Fault, FaultInjector};
use tilefold::{Error, IngestRequest, Options, Rows, Store};

const BATCHES: u64 = 6;

#[path = "support/live.rs"]
#[allow(dead_code, reason = "shared with tests that use more of it")]
mod live;
use live::{configs, fetch_key, naive, now, TempDir, DAY, HOUR};

/// Batch `seq`'s rows (k, v, ts): three keys, times spread over the last day.
fn batch(seq: u64, end: i64) -> Vec<(String, i64, i64)> {
    (0..5)
        .map(|i| {
            let k = ["a", "b", "c"][(seq as usize + i) % 3].to_owned();
            let ts = end - DAY + ((seq as i64 * 7 + i as i64) * 3_511_111) % DAY;
            (k, seq as i64 * 10 + i as i64, ts)
        })
        .collect()
}

fn send(store: &Store, seq: u64, end: i64) -> tilefold::Result<tilefold::IngestReport> {
    let rows = batch(seq, end)
        .into_iter()
        .map(|(k, v, ts)| json!({"k": k, "v": v, "ts": ts}))
        .collect();
    store.submit(IngestRequest {
        topic: "ev".into(),
        rows: Rows::Json(rows),
        producer: Some(("p".into(), seq)),
    })
}

/// Runs in which a commit failed and latched the store.
static LATCHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The workload, stopping at the first error. Returns the sequence numbers acknowledged.
fn workload(dir: &std::path::Path, fs: Option<FaultInjector>, end: i64) -> Vec<u64> {
    let mut acked = Vec::new();
    let options = Options {
        fs: match fs {
            Some(fs) => Arc::new(fs),
            None => Arc::new(tilefold::storage::RealFileSystem),
        },
        seal_rows: usize::MAX,
        ..Options::default()
    };
    let Ok(store) = Store::open_with_options(dir, options) else {
        return acked;
    };
    if store.apply(&configs()).is_err() {
        return acked;
    }
    for seq in 1..=BATCHES {
        match send(&store, seq, end) {
            Ok(_) => acked.push(seq),
            Err(err) => {
                // A failed commit latches the store: no later change is accepted.
                if matches!(err, Error::Latched(_)) {
                    LATCHED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert!(matches!(send(&store, seq + 1, end), Err(Error::Latched(_))));
                    assert!(matches!(store.compact(), Err(Error::Latched(_))));
                }
                return acked;
            }
        }
        if seq % 3 == 0 && store.compact().is_err() {
            return acked;
        }
    }
    acked
}

/// Reopens the store on the real file system and checks the invariants.
fn verify(dir: &std::path::Path, acked: &[u64], end: i64, what: &str) {
    let store = Store::open(dir).unwrap_or_else(|e| panic!("{what}: reopening: {e}"));
    let committed = store.producer_sequence("p").unwrap_or(0);
    let last_acked = acked.last().copied().unwrap_or(0);
    assert!(
        committed >= last_acked,
        "{what}: acknowledged batch {last_acked} lost (committed {committed})"
    );
    let (groups, _) = store.config_names();
    if groups.is_empty() {
        assert_eq!(committed, 0, "{what}: batches without their config");
        return;
    }
    let events: Vec<_> = (1..=committed).flat_map(|s| batch(s, end)).collect();
    for k in ["a", "b", "c"] {
        for t in [end + 1, end - 5 * HOUR, end - DAY + 2 * HOUR] {
            assert_eq!(
                fetch_key(&store, k, t),
                naive(&events, k, t),
                "{what}: {k} at {t}"
            );
        }
    }
    store
        .check()
        .unwrap_or_else(|e| panic!("{what}: check: {e}"));
    // The reopened store accepts changes again.
    send(&store, committed + 1, end).unwrap_or_else(|e| panic!("{what}: ingest after: {e}"));
}

#[test]
fn every_fault_point_of_ingest_and_sealing_keeps_acknowledged_batches() {
    let end = now();
    // Count the mutating operations of a clean run.
    let dir = TempDir::new("count");
    let counter = FaultInjector::new(None, Fault::Error);
    assert_eq!(
        workload(&dir.0, Some(counter.clone()), end).len(),
        BATCHES as usize
    );
    let operations = counter.operations();
    verify(&dir.0, &(1..=BATCHES).collect::<Vec<_>>(), end, "clean run");
    assert!(operations > 50, "{operations} operations");

    let modes = [
        ("error", Fault::Error),
        ("power cut", Fault::PowerCut),
        ("torn power cut", Fault::TornPowerCut { seed: 11 }),
    ];
    let mut runs = 0;
    for (name, fault) in modes {
        for fail_at in 1..=operations {
            let dir = TempDir::new("run");
            let injector = FaultInjector::new(Some(fail_at), fault);
            let acked = workload(&dir.0, Some(injector.clone()), end);
            injector.recover().unwrap();
            verify(
                &dir.0,
                &acked,
                end,
                &format!("{name} at operation {fail_at}"),
            );
            runs += 1;
        }
    }
    let latched = LATCHED.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "fault runs: {runs} over {operations} operations, {latched} latched by a failed ingest \
         commit, 0 acknowledged batches lost"
    );
    assert!(latched > 0, "no fault hit an ingest commit");
}
