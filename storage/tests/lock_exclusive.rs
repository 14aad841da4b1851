//! One writing handle per store: a second `StoreLock::acquire` on the same directory fails with
//! `Locked` naming the holder's pid, from this process or another, until the first is dropped.

mod common;

use std::path::Path;
use std::process::Command;

use common::TempDir;
use tilefold_storage::{StorageError, StoreLock};

/// Set in the child process: the store directory it must try to lock.
const CHILD_DIR: &str = "TILEFOLD_STORAGE_LOCK_CHILD_DIR";
/// Set in the child process: the pid the LOCK file should name.
const CHILD_EXPECTED_HOLDER: &str = "TILEFOLD_STORAGE_LOCK_CHILD_HOLDER";

const CHILD_SAW_LOCKED: i32 = 10;
const CHILD_ACQUIRED: i32 = 11;
const CHILD_SAW_WRONG_HOLDER: i32 = 12;
const CHILD_FAILED: i32 = 13;

#[test]
fn second_acquire_in_this_process_is_locked_until_the_first_is_dropped() {
    let dir = TempDir::new("lock-same-process");
    let first = StoreLock::acquire(dir.path()).unwrap();
    match StoreLock::acquire(dir.path()) {
        Err(StorageError::Locked { path, holder }) => {
            assert_eq!(path, dir.path().join("LOCK"));
            assert_eq!(holder, std::process::id().to_string());
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let message = StoreLock::acquire(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("open for writing in another process"),
        "{message}"
    );
    drop(first);
    // Another test of this binary may be spawning a child right now: between fork and exec the
    // child shares the LOCK's open file description (flock locks belong to it), so the lock can
    // outlive `first` by that instant. Retry briefly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let again = loop {
        match StoreLock::acquire(dir.path()) {
            Ok(lock) => break lock,
            Err(StorageError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(err) => panic!("reacquiring after drop: {err}"),
        }
    };
    assert_eq!(
        std::fs::read_to_string(again.path()).unwrap(),
        std::process::id().to_string()
    );
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let dir = TempDir::new("lock-missing");
    let missing = dir.path().join("absent");
    assert!(matches!(
        StoreLock::acquire(&missing),
        Err(StorageError::Io { .. })
    ));
}

#[test]
fn another_process_is_locked_out_until_the_lock_is_dropped() {
    let dir = TempDir::new("lock-cross-process");
    let lock = StoreLock::acquire(dir.path()).unwrap();
    assert_eq!(run_child(dir.path()), CHILD_SAW_LOCKED);
    drop(lock);
    assert_eq!(run_child(dir.path()), CHILD_ACQUIRED);
}

/// Runs this test binary again, executing only `child_probe`, and returns its exit code.
fn run_child(dir: &Path) -> i32 {
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_probe", "--test-threads=1", "--quiet"])
        .env(CHILD_DIR, dir)
        .env(CHILD_EXPECTED_HOLDER, std::process::id().to_string())
        .status()
        .unwrap();
    status.code().expect("child exited normally")
}

/// In the parent a no-op; in a child started by `run_child`, tries the lock and exits with a
/// code saying what happened.
#[test]
fn child_probe() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let expected = std::env::var(CHILD_EXPECTED_HOLDER).unwrap_or_default();
    let code = match StoreLock::acquire(Path::new(&dir)) {
        Ok(_) => CHILD_ACQUIRED,
        Err(StorageError::Locked { holder, .. }) if holder == expected => CHILD_SAW_LOCKED,
        Err(StorageError::Locked { .. }) => CHILD_SAW_WRONG_HOLDER,
        Err(_) => CHILD_FAILED,
    };
    std::process::exit(code);
}
