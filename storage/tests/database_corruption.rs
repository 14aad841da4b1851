//! I4 for the database: a flipped byte in a tile or catalog entry is `Corrupted` naming exactly
//! which one; a store of another format version is refused with `FormatVersion`.

mod common;

use common::TempDir;
use tilefold_storage::{
    seal, Database, Layout, StorageError, DATABASE_FILE_NAME, FINE_TILE_MILLIS, FORMAT_VERSION,
};

#[test]
fn a_flipped_byte_in_a_tile_names_the_tile() {
    let dir = TempDir::new("db-flipped-tile");
    let db = Database::open(dir.path()).unwrap();
    let mut sealed = b"ir bytes".to_vec();
    seal(&mut sealed, 0);
    let mut write = db.begin_write().unwrap();
    write
        .put_raw_tile(
            "shop.purchases.v1",
            &[0x01, 0xab],
            3,
            1_703_030_400_000,
            &sealed,
        )
        .unwrap();
    sealed[2] ^= 0x10;
    write
        .put_raw_tile(
            "shop.purchases.v1",
            &[0x01, 0xab],
            3,
            1_703_116_800_000,
            &sealed,
        )
        .unwrap();
    write
        .put_raw_tile(
            "shop.purchases.v1",
            &[0x01, 0xab],
            3,
            1_703_203_200_000,
            b"",
        )
        .unwrap();
    write.commit().unwrap();

    let read = db.begin_read().unwrap();
    let mut out = Vec::new();
    read.tiles(
        "shop.purchases.v1",
        &[0x01, 0xab],
        3,
        0..1_703_116_800_000,
        &Layout::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, vec![(1_703_030_400_000, b"ir bytes".to_vec())]);

    for start in [1_703_116_800_000, 1_703_203_200_000] {
        let error = read
            .tiles(
                "shop.purchases.v1",
                &[0x01, 0xab],
                3,
                start..start + 1,
                &Layout::default(),
                &mut Vec::new(),
            )
            .unwrap_err();
        match &error {
            StorageError::Corrupted { what, .. } => assert_eq!(
                what,
                &format!("tile group-by shop.purchases.v1, key 0x01ab, level 3, start {start}")
            ),
            other => panic!("expected Corrupted, got {other:?}"),
        }
        assert!(error
            .to_string()
            .starts_with("corrupted tile group-by shop.purchases.v1"));
    }
}

#[test]
fn a_catalog_entry_with_a_bad_checksum_names_the_entry() {
    let dir = TempDir::new("db-flipped-catalog");
    let path = dir.path().join(DATABASE_FILE_NAME);
    drop(Database::open(dir.path()).unwrap());
    {
        // Store a value whose checksum does not match, bypassing the typed API.
        let raw = redb::Database::create(&path).unwrap();
        let write = raw.begin_write().unwrap();
        {
            let definition: redb::TableDefinition<&str, &[u8]> =
                redb::TableDefinition::new("catalog");
            let mut table = write.open_table(definition).unwrap();
            table
                .insert("table/purchases", b"schema\0\0\0\0".as_slice())
                .unwrap();
        }
        write.commit().unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    match db.begin_read().unwrap().catalog("table/purchases") {
        Err(StorageError::Corrupted { what, .. }) => {
            assert_eq!(what, "catalog entry table/purchases")
        }
        other => panic!("expected Corrupted, got {other:?}"),
    }
}

#[test]
fn another_format_version_is_refused() {
    let dir = TempDir::new("db-format-version");
    let path = dir.path().join(DATABASE_FILE_NAME);
    drop(Database::open(dir.path()).unwrap());
    {
        let raw = redb::Database::create(&path).unwrap();
        let write = raw.begin_write().unwrap();
        {
            let definition: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
            let mut table = write.open_table(definition).unwrap();
            table
                .insert(
                    "format_version",
                    (FORMAT_VERSION + 1).to_le_bytes().as_slice(),
                )
                .unwrap();
        }
        write.commit().unwrap();
    }
    match Database::open(dir.path()) {
        Err(StorageError::FormatVersion {
            path: p,
            found,
            expected,
        }) => {
            assert_eq!(
                (p, found, expected),
                (path, FORMAT_VERSION + 1, FORMAT_VERSION)
            );
        }
        other => panic!("expected FormatVersion, got {other:?}"),
    }
}

/// A version-1 database (live ingest's tables inside it), a version-2 one (tiles always whole),
/// a version-3 one (stored rows with every selected column) or a version-4 one (five-minute
/// tiles key first, among the others) opens, its five-minute tiles moved to their own table,
/// and is marked with the current version, so that older builds refuse it from then on.
#[test]
fn older_databases_are_upgraded_in_place() {
    for older in [1, 2, 3, 4] {
        upgraded_in_place(older);
    }
}

fn upgraded_in_place(older: u32) {
    use redb::{ReadableDatabase, ReadableTable};
    let dir = TempDir::new(&format!("db-format-upgrade-{older}"));
    let path = dir.path().join(DATABASE_FILE_NAME);
    drop(Database::open(dir.path()).unwrap());
    let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
    let version = || -> u32 {
        let raw = redb::Database::create(&path).unwrap();
        let read = raw.begin_read().unwrap();
        let table = read.open_table(meta).unwrap();
        let value = table.get("format_version").unwrap().unwrap();
        u32::from_le_bytes(value.value().try_into().unwrap())
    };
    // Tiles as formats up to 4 stored them: every level in one key-first table.
    let tiles: redb::TableDefinition<(&[u8], u8, i64), &[u8]> =
        redb::TableDefinition::new("tiles/g");
    let stored: Vec<(&[u8], u8, i64)> = vec![
        (b"a", 0, 0),
        (b"a", 0, FINE_TILE_MILLIS),
        (b"a", 1, 0),
        (b"b", 0, 0),
        (b"b", 2, 0),
    ];
    {
        let raw = redb::Database::create(&path).unwrap();
        let write = raw.begin_write().unwrap();
        write
            .open_table(meta)
            .unwrap()
            .insert("format_version", older.to_le_bytes().as_slice())
            .unwrap();
        let mut table = write.open_table(tiles).unwrap();
        for &(key, level, start) in &stored {
            let mut value = format!("{key:?} {level} {start}").into_bytes();
            seal(&mut value, 0);
            table.insert((key, level, start), value.as_slice()).unwrap();
        }
        drop(table);
        write.commit().unwrap();
    }
    assert_eq!(version(), older);
    let db = Database::open(dir.path()).unwrap();
    let read = db.begin_read().unwrap();
    let all: Vec<(Vec<u8>, u8, i64, Vec<u8>)> = stored
        .iter()
        .map(|&(key, level, start)| {
            let value = format!("{key:?} {level} {start}").into_bytes();
            (key.to_vec(), level, start, value)
        })
        .collect();
    assert_eq!(read.all_tiles("g", &Layout::default()).unwrap(), all);
    let mut fine = Vec::new();
    read.tiles("g", b"a", 0, 0..i64::MAX, &Layout::default(), &mut fine)
        .unwrap();
    assert_eq!(fine.len(), 2);
    drop((read, db));
    assert_eq!(version(), FORMAT_VERSION);
    // The key-first table holds no five-minute tile any more.
    let raw = redb::Database::create(&path).unwrap();
    let read = raw.begin_read().unwrap();
    let table = read.open_table(tiles).unwrap();
    let levels: Vec<u8> = table
        .iter()
        .unwrap()
        .map(|entry| entry.unwrap().0.value().1)
        .collect();
    assert_eq!(levels, vec![1, 2]);
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = TempDir::new("db-foreign");
    let path = dir.path().join(DATABASE_FILE_NAME);
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert!(Database::open(dir.path()).is_err());
}
