//! I4: a damaged segment file is reported as corruption naming the file, never a panic:
//! truncated anywhere (trailer included), any flipped byte, a wrong magic, and IPC bytes that
//! are damaged but carry a valid trailer (as a hostile or buggy writer would produce).

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, ListArray, StringArray};
use arrow::datatypes::Int32Type;
use arrow::record_batch::RecordBatch;
use common::TempDir;
use tilefold_storage::{write_segment, RealFileSystem, Segment, StorageError};

const TRAILER_LEN: usize = 24;

fn segment_bytes(dir: &Path) -> Vec<u8> {
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "key",
            Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc")])),
        ),
        ("ts", Arc::new(Int64Array::from(vec![1, 2, 3]))),
        (
            "items",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                Some(vec![Some(1), None]),
                None,
                Some(vec![]),
            ])),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let path = dir.join("original.arrow");
    write_segment(&RealFileSystem, &path, &batch).unwrap();
    std::fs::read(&path).unwrap()
}

/// Writes `bytes` to a file and opens it as a segment.
fn open_bytes(dir: &Path, bytes: &[u8]) -> (String, Result<Segment, StorageError>) {
    let path = dir.join("damaged.arrow");
    std::fs::write(&path, bytes).unwrap();
    (path.display().to_string(), Segment::open(&path))
}

fn assert_corrupted(dir: &Path, bytes: &[u8], case: &str) {
    match open_bytes(dir, bytes) {
        (path, Err(StorageError::Corrupted { what, detail })) => {
            assert_eq!(what, format!("segment {path}"), "{case}: {detail}");
        }
        (_, Err(other)) => panic!("{case}: expected Corrupted, got {other}"),
        (_, Ok(_)) => panic!("{case}: damaged segment opened"),
    }
}

#[test]
fn truncated_anywhere_is_corrupted() {
    let dir = TempDir::new("segment-truncated");
    let bytes = segment_bytes(dir.path());
    let len = bytes.len();
    let mut cuts: Vec<usize> = (0..=40).chain(len - 48..len).collect();
    cuts.extend((0..len).step_by(37));
    cuts.push(len / 2);
    for cut in cuts {
        assert_corrupted(dir.path(), &bytes[..cut], &format!("cut at {cut} of {len}"));
    }
}

#[test]
fn a_flipped_byte_anywhere_is_corrupted() {
    let dir = TempDir::new("segment-flipped");
    let bytes = segment_bytes(dir.path());
    let len = bytes.len();
    let positions = (0..len).step_by(7).chain(len - TRAILER_LEN..len);
    for position in positions {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[position] ^= mask;
            assert_corrupted(
                dir.path(),
                &damaged,
                &format!("byte {position} of {len} xor {mask:#04x}"),
            );
        }
    }
}

#[test]
fn wrong_magic_is_corrupted() {
    let dir = TempDir::new("segment-magic");
    let mut bytes = segment_bytes(dir.path());
    let len = bytes.len();
    bytes[len - 8..].copy_from_slice(b"TFSEG\0\0\x02");
    assert_corrupted(dir.path(), &bytes, "format 2 magic");
    bytes[len - 8..].copy_from_slice(b"PAR1\0\0\0\0");
    assert_corrupted(dir.path(), &bytes, "foreign magic");
}

#[test]
fn an_empty_or_foreign_file_is_corrupted() {
    let dir = TempDir::new("segment-foreign");
    assert_corrupted(dir.path(), b"", "empty file");
    assert_corrupted(dir.path(), &[0u8; 4096], "zeros");
    assert_corrupted(dir.path(), b"not a segment at all, just some text", "text");
}

#[test]
fn a_missing_file_is_an_io_error() {
    let dir = TempDir::new("segment-missing");
    let path = dir.path().join("absent.arrow");
    assert!(matches!(Segment::open(&path), Err(StorageError::Io { path: p, .. }) if p == path));
}

/// Damaged IPC bytes under a freshly computed, valid trailer: the checksum cannot catch these,
/// so the decoder's own checks must, without panicking. Some flips land in column values and
/// still decode; only "no panic, and any error is Corrupted" is required.
#[test]
fn damaged_ipc_under_a_valid_trailer_never_panics() {
    let dir = TempDir::new("segment-resealed");
    let bytes = segment_bytes(dir.path());
    let ipc = &bytes[..bytes.len() - TRAILER_LEN];
    let mut rejected = 0;
    for position in 0..ipc.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut damaged = ipc.to_vec();
            damaged[position] ^= mask;
            let resealed = reseal(&damaged);
            match open_bytes(dir.path(), &resealed).1 {
                Ok(_) => {}
                Err(StorageError::Corrupted { .. }) => rejected += 1,
                Err(other) => panic!("byte {position} xor {mask:#04x}: {other}"),
            }
        }
    }
    assert!(rejected > 0);
    for cut in (0..ipc.len()).step_by(5) {
        assert_corrupted(
            dir.path(),
            &reseal(&ipc[..cut]),
            &format!("IPC cut at {cut}"),
        );
    }
}

/// `ipc` followed by a valid trailer.
fn reseal(ipc: &[u8]) -> Vec<u8> {
    let mut file = ipc.to_vec();
    file.extend_from_slice(&crc32fast::hash(ipc).to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&(ipc.len() as u64).to_le_bytes());
    file.extend_from_slice(b"TFSEG\0\0\x01");
    file
}
