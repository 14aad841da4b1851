//! Garbage collection removes files no commit references and every `*.tmp` leftover, in
//! nested directories, and keeps referenced files.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use common::TempDir;
use tilefold_storage::{remove_unreferenced, FailingFileSystem, RealFileSystem, StorageError};

#[test]
fn removes_unreferenced_and_temporary_files_keeps_referenced_ones() {
    let dir = TempDir::new("gc");
    let segments = dir.path().join("segments");
    for table in ["purchases", "clicks"] {
        std::fs::create_dir_all(segments.join(table)).unwrap();
    }
    std::fs::create_dir_all(segments.join("empty")).unwrap();
    let file = |relative: &str| -> PathBuf {
        let path = segments.join(relative);
        std::fs::write(&path, relative).unwrap();
        path
    };
    let kept = [file("purchases/1.arrow"), file("clicks/7.arrow")];
    let dropped = [
        file("purchases/2.arrow"),
        file("purchases/3.arrow.tmp"),
        file("clicks/stray"),
        file("top-level.tmp"),
    ];
    // A referenced temporary file is still a leftover.
    let referenced_tmp = file("clicks/8.arrow.tmp");
    let referenced: HashSet<PathBuf> = kept.iter().chain([&referenced_tmp]).cloned().collect();

    let mut removed = remove_unreferenced(&RealFileSystem, &segments, &referenced).unwrap();
    removed.sort();
    let mut expected: Vec<PathBuf> = dropped.iter().chain([&referenced_tmp]).cloned().collect();
    expected.sort();
    assert_eq!(removed, expected);
    for path in &kept {
        assert!(path.exists(), "{}", path.display());
    }
    for path in &expected {
        assert!(!path.exists(), "{}", path.display());
    }
    assert!(segments.join("empty").is_dir());

    // Nothing left to remove the second time; a missing directory is empty.
    assert!(remove_unreferenced(&RealFileSystem, &segments, &referenced)
        .unwrap()
        .is_empty());
    let missing = dir.path().join("missing");
    assert!(remove_unreferenced(&RealFileSystem, &missing, &referenced)
        .unwrap()
        .is_empty());
}

#[test]
fn the_first_failed_removal_is_returned() {
    let dir = TempDir::new("gc-fault");
    let path = dir.path().join("stray.arrow");
    std::fs::write(&path, b"x").unwrap();
    let fs = FailingFileSystem::new(Arc::new(RealFileSystem), Some(1));
    match remove_unreferenced(&fs, dir.path(), &HashSet::new()) {
        Err(StorageError::Io { path: p, .. }) => assert_eq!(p, path),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(path.exists());
}
