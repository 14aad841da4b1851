//! Configs, catalog entries and tiles read back as written, across a reopen; tile range reads
//! are ordered by start and respect their bounds exactly.

mod common;

use common::TempDir;
use tilefold_storage::{Database, Layout, ReadTxn, DATABASE_FILE_NAME, FINE_TILE_MILLIS};

/// The length of a five-minute (level 0) tile, whose starts are its multiples.
const M: i64 = FINE_TILE_MILLIS;

fn tiles(
    read: &ReadTxn,
    group_by: &str,
    key: &[u8],
    level: u8,
    starts: std::ops::Range<i64>,
) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    read.tiles(group_by, key, level, starts, &Layout::default(), &mut out)
        .unwrap();
    out
}

#[test]
fn configs_and_catalog_survive_a_reopen() {
    let dir = TempDir::new("db-reopen");
    let path = dir.path().join(DATABASE_FILE_NAME);
    {
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(db.path(), path);
        let mut write = db.begin_write().unwrap();
        write
            .put_config("shop.purchases.v1", r#"{"name":"purchases"}"#)
            .unwrap();
        write.put_config("shop.clicks.v1", "{}").unwrap();
        write
            .put_catalog("table/purchases", b"\x00\x01schema")
            .unwrap();
        write.put_catalog("table/clicks", b"").unwrap();
        write.put_catalog("gone", b"soon").unwrap();
        write.commit().unwrap();

        let mut write = db.begin_write().unwrap();
        write.remove_catalog("gone").unwrap();
        write.remove_catalog("never-existed").unwrap();
        write.put_config("shop.clicks.v1", r#"{"v":2}"#).unwrap();
        write.commit().unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    let read = db.begin_read().unwrap();
    assert_eq!(
        read.configs().unwrap(),
        vec![
            ("shop.clicks.v1".to_string(), r#"{"v":2}"#.to_string()),
            (
                "shop.purchases.v1".to_string(),
                r#"{"name":"purchases"}"#.to_string()
            ),
        ]
    );
    assert_eq!(
        read.catalog_names().unwrap(),
        vec!["table/clicks", "table/purchases"]
    );
    assert_eq!(
        read.catalog("table/purchases").unwrap().unwrap(),
        b"\x00\x01schema"
    );
    assert_eq!(read.catalog("table/clicks").unwrap().unwrap(), b"");
    assert_eq!(read.catalog("gone").unwrap(), None);
}

#[test]
fn an_uncommitted_transaction_is_rolled_back() {
    let dir = TempDir::new("db-rollback");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    write.put_config("c", "{}").unwrap();
    write.put_tile("g", b"k", 0, 0, b"ir").unwrap();
    drop(write);
    let read = db.begin_read().unwrap();
    assert!(read.configs().unwrap().is_empty());
    assert!(tiles(&read, "g", b"k", 0, i64::MIN..i64::MAX).is_empty());
}

#[test]
fn tile_ranges_are_ordered_and_bounded() {
    let dir = TempDir::new("db-tiles");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    // Written out of order, around the bounds, with neighbouring keys and levels.
    for start in [300, -100, 0, 200, 100, i64::MIN, i64::MAX - 1] {
        write
            .put_tile("g", b"\x01\x02", 1, start, &start.to_le_bytes())
            .unwrap();
    }
    write
        .put_tile("g", b"\x01", 1, 100, b"shorter key")
        .unwrap();
    write
        .put_tile("g", b"\x01\x02\x00", 1, 100, b"longer key")
        .unwrap();
    write
        .put_tile("g", b"\x01\x02", 0, 0, b"finer level")
        .unwrap();
    write
        .put_tile("g", b"\x01\x02", 2, 100, b"coarser level")
        .unwrap();
    write
        .put_tile("other", b"\x01\x02", 1, 100, b"other group-by")
        .unwrap();
    write.commit().unwrap();

    let read = db.begin_read().unwrap();
    let starts = |found: Vec<(i64, Vec<u8>)>| -> Vec<i64> {
        for (start, value) in &found {
            assert_eq!(value, &start.to_le_bytes());
        }
        found.into_iter().map(|(start, _)| start).collect()
    };
    assert_eq!(
        starts(tiles(&read, "g", b"\x01\x02", 1, 0..300)),
        vec![0, 100, 200]
    );
    assert_eq!(
        starts(tiles(&read, "g", b"\x01\x02", 1, 1..301)),
        vec![100, 200, 300]
    );
    assert_eq!(
        starts(tiles(&read, "g", b"\x01\x02", 1, i64::MIN..i64::MAX)),
        vec![i64::MIN, -100, 0, 100, 200, 300, i64::MAX - 1]
    );
    assert!(tiles(&read, "g", b"\x01\x02", 1, 100..100).is_empty());
    // A reversed range is empty, not an error.
    let reversed = std::ops::Range { start: 300, end: 0 };
    assert!(tiles(&read, "g", b"\x01\x02", 1, reversed).is_empty());
    assert!(tiles(&read, "g", b"\x01\x02", 1, 101..200).is_empty());
    assert_eq!(
        tiles(&read, "g", b"\x01", 1, 0..1000),
        vec![(100, b"shorter key".to_vec())]
    );
    assert_eq!(
        tiles(&read, "g", b"\x01\x02", 2, 0..1000),
        vec![(100, b"coarser level".to_vec())]
    );
    assert_eq!(
        tiles(&read, "other", b"\x01\x02", 1, 0..1000),
        vec![(100, b"other group-by".to_vec())]
    );
    assert!(tiles(&read, "no such group-by", b"\x01\x02", 1, 0..1000).is_empty());

    // `tiles` appends: successive levels accumulate in one buffer.
    let mut out = Vec::new();
    read.tiles("g", b"\x01\x02", 0, 0..1000, &Layout::default(), &mut out)
        .unwrap();
    read.tiles("g", b"\x01\x02", 2, 0..1000, &Layout::default(), &mut out)
        .unwrap();
    assert_eq!(out.len(), 2);
}

#[test]
fn clear_tiles_drops_one_group_by_only() {
    let dir = TempDir::new("db-clear");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    // Five-minute tiles (level 0, their own table) and hourly ones.
    for level in [0, 1] {
        write.put_tile("g", b"k", level, M, b"old").unwrap();
        write.put_tile("h", b"k", level, M, b"kept").unwrap();
    }
    write.commit().unwrap();

    let before = db.begin_read().unwrap();
    let mut write = db.begin_write().unwrap();
    write.clear_tiles("g").unwrap();
    write.clear_tiles("never-written").unwrap();
    write.put_tile("g", b"k", 0, 2 * M, b"rebuilt").unwrap();
    write.commit().unwrap();

    let read = db.begin_read().unwrap();
    assert_eq!(
        tiles(&read, "g", b"k", 0, 0..10 * M),
        vec![(2 * M, b"rebuilt".to_vec())]
    );
    assert!(tiles(&read, "g", b"k", 1, 0..10 * M).is_empty());
    for level in [0, 1] {
        assert_eq!(
            tiles(&read, "h", b"k", level, 0..10 * M),
            vec![(M, b"kept".to_vec())]
        );
        // I5: an earlier reader still sees its snapshot.
        assert_eq!(
            tiles(&before, "g", b"k", level, 0..10 * M),
            vec![(M, b"old".to_vec())]
        );
    }
}

#[test]
fn handles_are_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Database>();
    assert_send_sync::<ReadTxn>();

    let dir = TempDir::new("db-threads");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    write.put_tile("g", b"k", 0, M, b"ir").unwrap();
    write.commit().unwrap();
    let read = db.begin_read().unwrap();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| assert_eq!(tiles(&read, "g", b"k", 0, 0..10 * M).len(), 1));
        }
    });
}

/// `ReadTxn::merge_tiles` merges into the snapshot's present tiles and passes absent ones on; a
/// tile whose stored and new bytes equal the previous merged tile's takes that result without
/// calling `merge` again, and every tile still comes out as `merge` would have made it.
#[test]
fn merge_tiles_merges_present_tiles_and_reuses_equal_merges() {
    let dir = TempDir::new("db-merge");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    for level in 0..4u8 {
        // Levels 0..3 hold "ab"; level 3 holds "xy".
        let stored: &[u8] = if level < 3 { b"ab" } else { b"xy" };
        write.put_tile("g", b"k", level, 0, stored).unwrap();
    }
    write.commit().unwrap();

    let read = db.begin_read().unwrap();
    let new: [(&[u8], u8, i64, &[u8]); 6] = [
        (b"k", 0, 0, b"1"), // merged
        (b"k", 4, 0, b"1"), // absent: passed on, no merge
        (b"k", 1, 0, b"1"), // the stored and new bytes of the last merge: its result reused
        (b"k", 2, 0, b"2"), // same stored, other new: merged
        (b"k", 3, 0, b"2"), // other stored, same new: merged
        (b"k", 5, 0, b"2"), // absent: passed on, no merge
    ];
    let mut calls = Vec::new();
    let mut out = Vec::new();
    read.merge_tiles(
        "g",
        &Layout::default(),
        new,
        |stored, value, merged| {
            calls.push((stored.to_vec(), value.to_vec()));
            // A deterministic merge: stored bytes, '+', new bytes.
            merged.extend_from_slice(stored);
            merged.push(b'+');
            merged.extend_from_slice(value);
            Ok(())
        },
        |key, level, start, value| out.push((key.to_vec(), level, start, value.to_vec())),
    )
    .unwrap();
    assert_eq!(
        calls,
        [
            (b"ab".to_vec(), b"1".to_vec()),
            (b"ab".to_vec(), b"2".to_vec()),
            (b"xy".to_vec(), b"2".to_vec()),
        ]
    );
    let expected: Vec<(Vec<u8>, u8, i64, Vec<u8>)> = [
        (0, &b"ab+1"[..]),
        (4, b"1"),
        (1, b"ab+1"),
        (2, b"ab+2"),
        (3, b"xy+2"),
        (5, b"2"),
    ]
    .into_iter()
    .map(|(level, value)| (b"k".to_vec(), level, 0, value.to_vec()))
    .collect();
    assert_eq!(out, expected);

    // A group-by without tiles: everything passes through unmerged.
    let mut passed = 0;
    read.merge_tiles(
        "none",
        &Layout::default(),
        new,
        |_, _, _| Err("no merge expected".into()),
        |_, _, _, _| passed += 1,
    )
    .unwrap();
    assert_eq!(passed, new.len());
}

/// A stored tile whose checksum fails stops `ReadTxn::merge_tiles` with `Corrupted` naming it.
#[test]
fn merge_tiles_reports_a_corrupted_stored_tile() {
    let dir = TempDir::new("db-merge-corrupt");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    write
        .put_raw_tile("g", b"\x0a", 2, 86_400_000, b"payload and a wrong checksum")
        .unwrap();
    write.commit().unwrap();
    let read = db.begin_read().unwrap();
    let new: [(&[u8], u8, i64, &[u8]); 1] = [(b"\x0a", 2, 86_400_000, b"1")];
    let err = read
        .merge_tiles(
            "g",
            &Layout::default(),
            new,
            |_, _, _| Ok(()),
            |_, _, _, _| {},
        )
        .unwrap_err();
    assert!(
        matches!(err, tilefold_storage::StorageError::Corrupted { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("group-by g, key 0x0a, level 2, start 86400000"),
        "{message}"
    );
}
