//! I2 for files outside redb: whichever step of `write_atomic` fails (write, fsync, rename,
//! directory fsync), the error is returned and the final path holds either its previous content
//! or the complete new content, never a partial file.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::TempDir;
use tilefold_storage::{
    write_atomic, write_segment, FailingFileSystem, FileSystem, RealFileSystem, Segment,
    StorageError,
};

const STEPS: u64 = 4;

fn failing(fail_at: Option<u64>) -> FailingFileSystem {
    FailingFileSystem::new(Arc::new(RealFileSystem), fail_at)
}

fn new_content() -> Vec<u8> {
    (0..64 * 1024).map(|i| (i % 251) as u8).collect()
}

fn assert_injected(result: Result<(), StorageError>, step: u64) {
    match result {
        Err(StorageError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::Other, "step {step}");
            assert_eq!(source.to_string(), "injected fault", "step {step}");
        }
        other => panic!("step {step}: expected the injected fault, got {other:?}"),
    }
}

#[test]
fn without_faults_it_takes_four_steps() {
    let dir = TempDir::new("atomic-ok");
    let path = dir.path().join("file");
    let fs = failing(None);
    write_atomic(&fs, &path, b"content").unwrap();
    assert_eq!(fs.operations(), STEPS);
    assert_eq!(std::fs::read(&path).unwrap(), b"content");
    assert!(!dir.path().join("file.tmp").exists());
}

#[test]
fn a_fault_at_any_step_leaves_no_file_or_the_whole_file() {
    for step in 1..=STEPS {
        let dir = TempDir::new("atomic-new");
        let path = dir.path().join("file");
        let fs = failing(Some(step));
        assert_injected(write_atomic(&fs, &path, &new_content()), step);
        if path.exists() {
            assert_eq!(std::fs::read(&path).unwrap(), new_content(), "step {step}");
        }
        assert!(
            !dir.path().join("file.tmp").exists(),
            "step {step}: temporary left"
        );
        // Before the rename, the final path must not exist at all.
        assert_eq!(path.exists(), step > 3, "step {step}");
    }
}

#[test]
fn a_fault_at_any_step_keeps_the_previous_content_or_replaces_it_whole() {
    for step in 1..=STEPS {
        let dir = TempDir::new("atomic-replace");
        let path = dir.path().join("file");
        std::fs::write(&path, b"previous").unwrap();
        let fs = failing(Some(step));
        assert_injected(write_atomic(&fs, &path, &new_content()), step);
        let now = std::fs::read(&path).unwrap();
        assert!(
            now == b"previous" || now == new_content(),
            "step {step}: partial file of {} bytes",
            now.len()
        );
    }
}

#[test]
fn a_failed_segment_write_never_leaves_an_unreadable_segment() {
    let batch = arrow::record_batch::RecordBatch::try_from_iter([(
        "ts",
        Arc::new(arrow::array::Int64Array::from(vec![1, 2, 3])) as _,
    )])
    .unwrap();
    for step in 1..=STEPS {
        let dir = TempDir::new("atomic-segment");
        let path = dir.path().join("1.arrow");
        let fs = failing(Some(step));
        assert!(write_segment(&fs, &path, &batch).is_err(), "step {step}");
        if path.exists() {
            assert_eq!(Segment::open(&path).unwrap().batch(), &batch, "step {step}");
        }
    }
}

#[test]
fn the_failing_file_system_counts_only_mutating_operations() {
    let dir = TempDir::new("atomic-count");
    let fs = failing(Some(2));
    fs.create_dir_all(&dir.path().join("a/b")).unwrap();
    assert_eq!(fs.list_dir(dir.path()).unwrap().len(), 1);
    assert_eq!(fs.operations(), 0);
    let file = dir.path().join("a/b/f");
    fs.write_new(&file, b"x").unwrap();
    assert!(fs.sync_file(&file).is_err());
    fs.remove_file(&file).unwrap();
    assert_eq!(fs.operations(), 3);
    assert!(fs.list_dir(&dir.path().join("missing")).unwrap().is_empty());
    assert!(!Path::new(&file).exists());
}
