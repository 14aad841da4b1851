//! I2 across the whole store, database file included: whichever mutating operation of a
//! workload fails (file-system write, fsync, rename, directory fsync, removal; database file
//! write, resize, sync), by an I/O error or by a power cut that loses every unsynced database
//! write (whole, or torn: a prefix kept), the store reopens, every commit that returned `Ok` is
//! there in full, and the commit that failed is there in full or not at all. Every segment the
//! catalog names opens and holds its batch.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use common::TempDir;
use tilefold_storage::{
    remove_unreferenced, write_segment, Database, FailingFileSystem, Fault, FaultInjector,
    FileSystem, RealFileSystem, Result, Segment, DATABASE_FILE_NAME,
};

/// Commits of the workload; each writes a segment, then commits its catalog entry and head
/// entry, and from the third on removes the head entry two commits back.
const COMMITS: u64 = 4;

/// The store's catalog and head after some commits, as (name, bytes) and (number, bytes).
#[derive(Debug, PartialEq, Eq)]
struct State {
    catalog: BTreeMap<String, Vec<u8>>,
    head: BTreeMap<u64, Vec<u8>>,
}

/// How far a workload got before its first error.
#[derive(Debug)]
struct Outcome {
    /// Commits that returned `Ok`.
    committed: u64,
    /// Whether the error came from `commit` itself, so that commit may have landed.
    commit_failed: bool,
    /// The first error, if any.
    error: Option<String>,
}

fn segments(dir: &Path) -> PathBuf {
    dir.join("segments").join("events")
}

fn segment_path(dir: &Path, commit: u64) -> PathBuf {
    segments(dir).join(format!("{commit}.arrow"))
}

fn catalog_name(commit: u64) -> String {
    format!("segment/{commit}")
}

fn catalog_value(commit: u64) -> Vec<u8> {
    format!("events/{commit}.arrow").into_bytes()
}

fn head_payload(commit: u64) -> Vec<u8> {
    (0..200 + commit).map(|i| (i * 7 + commit) as u8).collect()
}

fn batch(commit: u64) -> RecordBatch {
    let start = commit as i64 * 1_000;
    RecordBatch::try_from_iter([
        (
            "user",
            Arc::new(StringArray::from(vec!["ada", "bob", "cy"])) as _,
        ),
        (
            "ts",
            Arc::new(Int64Array::from(vec![start, start + 1, start + 2])) as _,
        ),
    ])
    .unwrap()
}

fn expected(commits: u64) -> State {
    State {
        catalog: (1..=commits)
            .map(|commit| (catalog_name(commit), catalog_value(commit)))
            .collect(),
        head: (commits.saturating_sub(1).max(1)..=commits)
            .map(|commit| (commit, head_payload(commit)))
            .collect(),
    }
}

/// Opens the store in `dir` through `fs` and runs the commits, stopping at the first error;
/// everything it opened is dropped on return.
fn workload(dir: &Path, fs: &dyn FileSystem) -> Outcome {
    let mut outcome = Outcome {
        committed: 0,
        commit_failed: false,
        error: None,
    };
    let mut run = || -> Result<()> {
        let db = Database::open_with(dir, fs)?;
        for commit in 1..=COMMITS {
            write_segment(fs, &segment_path(dir, commit), &batch(commit))?;
            let mut txn = db.begin_write()?;
            txn.put_catalog(&catalog_name(commit), &catalog_value(commit))?;
            txn.put_head(commit, &head_payload(commit))?;
            if commit > 2 {
                txn.remove_head(commit - 2..=commit - 2)?;
            }
            outcome.commit_failed = true;
            txn.commit()?;
            outcome.commit_failed = false;
            outcome.committed = commit;
        }
        Ok(())
    };
    if let Err(err) = run() {
        outcome.error = Some(err.to_string());
    }
    outcome
}

/// A store directory with its segments directory, made without the injector (not counted).
fn new_store(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    std::fs::create_dir_all(segments(dir.path())).unwrap();
    dir
}

/// Reopens the store on the real file system and checks it against the outcome; then collects
/// garbage as an open would and checks the catalog's segments survive it.
fn check(dir: &Path, outcome: &Outcome, case: &str) {
    let db = Database::open(dir).unwrap_or_else(|err| panic!("{case}: reopen failed: {err}"));
    let read = db.begin_read().unwrap();
    let mut state = State {
        catalog: BTreeMap::new(),
        head: read.head(0).unwrap().into_iter().collect(),
    };
    for name in read.catalog_names().unwrap() {
        let value = read.catalog(&name).unwrap().unwrap();
        state.catalog.insert(name, value);
    }
    let landed = if state == expected(outcome.committed) {
        outcome.committed
    } else if outcome.commit_failed && state == expected(outcome.committed + 1) {
        outcome.committed + 1
    } else {
        panic!(
            "{case}: {outcome:?} but the store holds {:?} and head entries {:?}",
            state.catalog.keys().collect::<Vec<_>>(),
            state.head.keys().collect::<Vec<_>>()
        );
    };

    let referenced: HashSet<PathBuf> = (1..=landed).map(|c| segment_path(dir, c)).collect();
    remove_unreferenced(&RealFileSystem, &dir.join("segments"), &referenced)
        .unwrap_or_else(|err| panic!("{case}: garbage collection failed: {err}"));
    for commit in 1..=landed {
        let segment = Segment::open(&segment_path(dir, commit))
            .unwrap_or_else(|err| panic!("{case}: segment {commit}: {err}"));
        assert_eq!(segment.batch(), &batch(commit), "{case}: segment {commit}");
    }
}

/// Runs the workload without faults and returns how many mutating operations it made.
fn count_operations() -> u64 {
    let dir = new_store("fault-count");
    let injector = FaultInjector::new(None, Fault::PowerCut);
    let outcome = workload(dir.path(), &injector);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.committed, COMMITS);
    check(dir.path(), &outcome, "no fault");
    injector.operations()
}

/// Runs `case(fail_at)` for every `fail_at` in `1..=operations`, on a few threads: the cases
/// are independent (each its own store and injector) and mostly wait for fsync.
fn for_each_operation(operations: u64, case: impl Fn(u64) + Sync) {
    let next = AtomicU64::new(1);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| loop {
                let fail_at = next.fetch_add(1, Ordering::SeqCst);
                if fail_at > operations {
                    break;
                }
                case(fail_at);
            });
        }
    });
}

/// For every operation of the workload, fails it as `fault(operation)` says and checks the
/// reopened store.
fn fail_each_operation(label: &str, fault: impl Fn(u64) -> Fault + Sync) {
    let operations = count_operations();
    for_each_operation(operations, |fail_at| {
        let fault = fault(fail_at);
        let case = format!("{fault:?} at operation {fail_at} of {operations}");
        let dir = new_store(label);
        let injector = FaultInjector::new(Some(fail_at), fault);
        let outcome = workload(dir.path(), &injector);
        assert!(
            injector.operations() >= fail_at,
            "{case}: the runs diverged"
        );
        match outcome.error.as_deref() {
            Some(error) => assert!(
                error.contains("injected fault") || error.contains("injected power cut"),
                "{case}: the workload failed otherwise: {error}"
            ),
            // The fault hit closing a database, whose errors redb ignores on drop.
            None => assert_eq!(outcome.committed, COMMITS, "{case}"),
        }
        injector
            .recover()
            .unwrap_or_else(|err| panic!("{case}: recover failed: {err}"));
        check(dir.path(), &outcome, &case);
    });
}

#[test]
fn the_workload_counts_the_same_operations_every_run() {
    let operations = count_operations();
    assert_eq!(count_operations(), operations);
    // Four segment writes of four steps each, and the database file's writes and syncs.
    assert!(operations > 4 * 4, "only {operations} operations");
}

#[test]
fn an_error_at_any_operation_loses_no_commit_and_tears_none() {
    fail_each_operation("fault-error", |_| Fault::Error);
}

#[test]
fn a_power_cut_at_any_operation_loses_no_commit_and_tears_none() {
    fail_each_operation("fault-power-cut", |_| Fault::PowerCut);
}

#[test]
fn a_power_cut_keeping_part_of_the_unsynced_writes_loses_no_commit_and_tears_none() {
    for round in 0..3 {
        fail_each_operation("fault-torn", |fail_at| Fault::TornPowerCut {
            seed: fail_at * 31 + round,
        });
    }
}

/// Regression: redb creates its file in place and writes its magic number last, so a crash
/// while creating it left a file it refuses to open ("magic number mismatch"), and the store
/// could never be opened again. Creation is now atomic (`tilefold.redb.tmp`, renamed into place).
#[test]
fn a_crash_while_creating_the_database_leaves_a_store_that_opens() {
    let operations = {
        let dir = new_store("fault-create-count");
        let injector = FaultInjector::new(None, Fault::PowerCut);
        drop(Database::open_with(dir.path(), &injector).unwrap());
        injector.operations()
    };
    for_each_operation(operations, |fail_at| {
        for fault in [Fault::Error, Fault::PowerCut] {
            let dir = new_store("fault-create");
            let injector = FaultInjector::new(Some(fail_at), fault);
            drop(Database::open_with(dir.path(), &injector));
            injector.recover().unwrap();
            let db = Database::open(dir.path())
                .unwrap_or_else(|err| panic!("{fault:?} at {fail_at}: {err}"));
            assert!(db.begin_read().unwrap().catalog_names().unwrap().is_empty());
            let leftover = dir.path().join(format!("{DATABASE_FILE_NAME}.tmp"));
            assert!(
                !leftover.exists(),
                "{fault:?} at {fail_at}: {leftover:?} left"
            );
        }
    });
}

#[test]
fn the_failing_file_system_forwards_the_database_backend() {
    let dir = new_store("fault-forward");
    let injector = FaultInjector::new(None, Fault::Error);
    let failing = FailingFileSystem::new(Arc::new(injector.clone()), None);
    let db = Database::open_with(dir.path(), &failing).unwrap();
    // The failing file system counts the rename and sync of creating the database; the
    // injector also counts the database file's writes and syncs.
    assert!(
        injector.operations() > failing.operations(),
        "the database bypassed the injector"
    );
    drop(db);
}

#[test]
fn recover_refuses_while_the_database_is_open() {
    let dir = new_store("fault-open");
    let injector = FaultInjector::new(None, Fault::PowerCut);
    let db = Database::open_with(dir.path(), &injector).unwrap();
    assert!(injector.recover().is_err());
    drop(db);
    injector.recover().unwrap();
}

#[test]
fn after_a_power_cut_every_operation_fails_until_recover() {
    let dir = new_store("fault-dead");
    let injector = FaultInjector::new(Some(1), Fault::PowerCut);
    let file = dir.path().join("file");
    for attempt in 0..3 {
        let err = injector.write_new(&file, b"x").unwrap_err();
        assert_eq!(err.to_string(), "injected power cut", "attempt {attempt}");
    }
    assert!(Database::open_with(dir.path(), &injector).is_err());
    injector.recover().unwrap();
    injector.write_new(&file, b"x").unwrap();
    assert!(Database::open_with(dir.path(), &injector).is_ok());
}

#[test]
fn an_error_fails_one_operation_only() {
    let dir = new_store("fault-once");
    let injector = FaultInjector::new(Some(2), Fault::Error);
    let file = dir.path().join("file");
    injector.write_new(&file, b"x").unwrap();
    let err = injector.sync_file(&file).unwrap_err();
    assert_eq!(err.to_string(), "injected fault");
    injector.sync_file(&file).unwrap();
    assert_eq!(injector.operations(), 3);
}
