//! A sealed segment reads back exactly the batch written: every column type tilefold stores,
//! nulls included, and a batch with no rows.

mod common;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, ListArray,
    StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::Int32Type;
use arrow::record_batch::RecordBatch;
use common::TempDir;
use tilefold_storage::{write_segment, RealFileSystem, Segment};

fn sample_batch() -> RecordBatch {
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "user",
            Arc::new(StringArray::from(vec![
                Some("ada"),
                None,
                Some("bob"),
                Some(""),
            ])),
        ),
        (
            "ts",
            Arc::new(TimestampMillisecondArray::from(vec![
                1_703_030_400_000,
                1_703_030_400_001,
                1_703_030_460_000,
                1_703_116_800_000,
            ])),
        ),
        (
            "amount",
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                Some(-0.0),
                None,
                Some(f64::MAX),
            ])),
        ),
        (
            "count",
            Arc::new(Int64Array::from(vec![
                Some(i64::MIN),
                None,
                Some(0),
                Some(i64::MAX),
            ])),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
            ])),
        ),
        (
            "items",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                Some(vec![Some(1), None, Some(3)]),
                None,
                Some(vec![]),
                Some(vec![Some(-7)]),
            ])),
        ),
        (
            "blob",
            Arc::new(BinaryArray::from_opt_vec(vec![
                Some(b"\x00\x01".as_slice()),
                Some(b"".as_slice()),
                None,
                Some(b"\xff".as_slice()),
            ])),
        ),
        ("small", Arc::new(Int32Array::from(vec![1, 2, 3, 4]))),
    ];
    RecordBatch::try_from_iter(columns).expect("valid batch")
}

#[test]
fn several_column_types_with_nulls_round_trip() {
    let dir = TempDir::new("segment-round-trip");
    let path = dir.path().join("1.arrow");
    let batch = sample_batch();
    let size = write_segment(&RealFileSystem, &path, &batch).unwrap();

    let segment = Segment::open(&path).unwrap();
    assert_eq!(segment.batch(), &batch);
    assert_eq!(segment.file_size(), size);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    assert_eq!(segment.path(), path);
    assert!(!dir.path().join("1.arrow.tmp").exists());
}

#[test]
fn zero_rows_round_trip_with_their_schema() {
    let dir = TempDir::new("segment-empty");
    let path = dir.path().join("empty.arrow");
    let batch = sample_batch().slice(0, 0);
    write_segment(&RealFileSystem, &path, &batch).unwrap();

    let segment = Segment::open(&path).unwrap();
    assert_eq!(segment.batch().num_rows(), 0);
    assert_eq!(segment.batch().schema(), batch.schema());
}

#[test]
fn a_sliced_batch_round_trips_as_its_rows() {
    let dir = TempDir::new("segment-slice");
    let path = dir.path().join("slice.arrow");
    let batch = sample_batch().slice(1, 2);
    write_segment(&RealFileSystem, &path, &batch).unwrap();
    assert_eq!(Segment::open(&path).unwrap().batch(), &batch);
}

#[test]
fn segments_are_shared_across_threads_and_outlive_their_clones() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Segment>();

    let dir = TempDir::new("segment-threads");
    let path = dir.path().join("1.arrow");
    let batch = sample_batch();
    write_segment(&RealFileSystem, &path, &batch).unwrap();
    let segment = Segment::open(&path).unwrap();
    let column = Arc::clone(segment.batch().column(0));
    let clone = segment.clone();
    drop(segment);
    let from_thread = std::thread::spawn(move || clone.batch().clone())
        .join()
        .unwrap();
    assert_eq!(from_thread, batch);
    assert_eq!(&column, batch.column(0));
}
