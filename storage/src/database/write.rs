//! Write transactions: configs, catalog entries and tiles, committed durably.

use std::ops::{Bound, Range};

use redb::{TableDefinition, TableHandle};

use super::read::tile_name;
use super::{
    database_error, fine_tiles_table_name, tiles_table_name, FineKey, TileKey, CATALOG, CONFIGS,
    FINE_LEVEL, FINE_TILE_MILLIS, META, TILES_TABLE_PREFIX,
};
use crate::checksum::{seal, sealed};
use crate::error::{Result, StorageError};

/// Opens (creating it if need be) the table `definition` in `txn`; an error says what it was
/// for (`context`).
fn open_table<'t, K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &'t redb::WriteTransaction,
    definition: TableDefinition<K, V>,
    context: &dyn Fn() -> String,
) -> Result<redb::Table<'t, K, V>> {
    txn.open_table(definition)
        .map_err(|err| database_error(&context(), err))
}

/// Opens the tiles table `name` (keyed `K`) in `txn`.
fn open_tiles<'t, K: redb::Key + 'static>(
    txn: &'t redb::WriteTransaction,
    name: &str,
) -> Result<redb::Table<'t, K, &'static [u8]>> {
    open_table(txn, TableDefinition::new(name), &|| {
        format!("opening table {name}")
    })
}

/// A group-by's tiles tables open in a write transaction, each opened on first use.
struct TilesTables<'t> {
    txn: &'t redb::WriteTransaction,
    group_by: &'t str,
    main: Option<redb::Table<'t, TileKey<'static>, &'static [u8]>>,
    fine: Option<redb::Table<'t, FineKey<'static>, &'static [u8]>>,
}

impl<'t> TilesTables<'t> {
    fn new(txn: &'t redb::WriteTransaction, group_by: &'t str) -> Self {
        TilesTables {
            txn,
            group_by,
            main: None,
            fine: None,
        }
    }

    fn main(&mut self) -> Result<&mut redb::Table<'t, TileKey<'static>, &'static [u8]>> {
        if self.main.is_none() {
            self.main = Some(open_tiles(self.txn, &tiles_table_name(self.group_by))?);
        }
        Ok(self.main.as_mut().expect("opened above"))
    }

    fn fine(&mut self) -> Result<&mut redb::Table<'t, FineKey<'static>, &'static [u8]>> {
        if self.fine.is_none() {
            self.fine = Some(open_tiles(self.txn, &fine_tiles_table_name(self.group_by))?);
        }
        Ok(self.fine.as_mut().expect("opened above"))
    }

    /// Removes the [`FINE_LEVEL`] tiles whose starts lie in `starts` and whose key `keep`
    /// selects (they are neighbours for every key); returns how many were removed.
    fn remove_fine(&mut self, starts: Range<i64>, keep: impl Fn(&[u8]) -> bool) -> Result<usize> {
        if starts.start >= starts.end {
            return Ok(0);
        }
        let name = fine_tiles_table_name(self.group_by);
        let context = || format!("removing tiles from table {name}");
        let none: &[u8] = &[];
        let mut removed = 0;
        for entry in self
            .fine()?
            .extract_from_if((starts.start, none)..(starts.end, none), |(_, k), _| {
                keep(k)
            })
            .map_err(|err| database_error(&context(), err))?
        {
            entry.map_err(|err| database_error(&context(), err))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Stores `sealed` as the tile at (`key`, `level`, `start`), in the table of its level.
    fn insert(&mut self, key: &[u8], level: u8, start: i64, sealed: &[u8]) -> Result<()> {
        let group_by = self.group_by;
        let context = || format!("writing {}", tile_name(group_by, key, level, start));
        if level != FINE_LEVEL {
            self.main()?
                .insert((key, level, start), sealed)
                .map_err(|err| database_error(&context(), err))?;
            return Ok(());
        }
        if start.rem_euclid(FINE_TILE_MILLIS) != 0 {
            return Err(StorageError::Invalid {
                what: tile_name(group_by, key, level, start),
                detail: format!("level {FINE_LEVEL} starts are multiples of {FINE_TILE_MILLIS}"),
            });
        }
        self.fine()?
            .insert((start, key), sealed)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }
}

/// One redb write transaction. Dropped without [`WriteTxn::commit`], it is rolled back.
pub struct WriteTxn {
    pub(super) txn: redb::WriteTransaction,
}

impl std::fmt::Debug for WriteTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTxn").finish_non_exhaustive()
    }
}

impl WriteTxn {
    pub(super) fn new(txn: redb::WriteTransaction) -> Self {
        WriteTxn { txn }
    }

    /// Opens `definition` in this transaction; an error says what it was for (`context`).
    pub(super) fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
        context: &dyn Fn() -> String,
    ) -> Result<redb::Table<'_, K, V>> {
        open_table(&self.txn, definition, context)
    }

    /// Creates the fixed tables and records the format version.
    pub(super) fn initialize(&self, key: &str, version: u32) -> Result<()> {
        let context = || "creating the tables".to_owned();
        self.table(CONFIGS, &context)?;
        self.table(CATALOG, &context)?;
        let mut meta = self.table(META, &context)?;
        meta.insert(key, version.to_le_bytes().as_slice())
            .map_err(|err| database_error("writing the format version", err))?;
        Ok(())
    }

    /// Stores the compiled JSON of config `name`, replacing any previous one.
    pub fn put_config(&mut self, name: &str, json: &str) -> Result<()> {
        let context = || format!("writing config {name}");
        let mut table = self.table(CONFIGS, &context)?;
        table
            .insert(name, json)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Stores catalog entry `name`, sealed with a checksum, replacing any previous one.
    pub fn put_catalog(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let context = || format!("writing catalog entry {name}");
        let stored = sealed(bytes);
        let mut table = self.table(CATALOG, &context)?;
        table
            .insert(name, stored.as_slice())
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Removes catalog entry `name` (nothing happens if it is absent).
    pub fn remove_catalog(&mut self, name: &str) -> Result<()> {
        let context = || format!("removing catalog entry {name}");
        let mut table = self.table(CATALOG, &context)?;
        table
            .remove(name)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Drops every tile of `group_by` (its tables `tiles/<group_by>` and `fine/<group_by>`),
    /// so it can be rebuilt.
    pub fn clear_tiles(&mut self, group_by: &str) -> Result<()> {
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        self.txn
            .delete_table(definition)
            .map_err(|err| database_error(&format!("clearing table {name}"), err))?;
        let name = fine_tiles_table_name(group_by);
        let definition: TableDefinition<FineKey, &[u8]> = TableDefinition::new(&name);
        self.txn
            .delete_table(definition)
            .map_err(|err| database_error(&format!("clearing table {name}"), err))?;
        Ok(())
    }

    /// Stores the tile of `group_by` at (`key`, `level`, `start`), sealed with a checksum,
    /// replacing any previous one. A [`FINE_LEVEL`] tile whose start is not a multiple of
    /// [`FINE_TILE_MILLIS`] is [`StorageError::Invalid`].
    pub fn put_tile(
        &mut self,
        group_by: &str,
        key: &[u8],
        level: u8,
        start: i64,
        value: &[u8],
    ) -> Result<()> {
        self.put_raw_tile(group_by, key, level, start, &sealed(value))
    }

    /// Stores many tiles of `group_by` in one pass (one table open), each `(key, level, start,
    /// value)` sealed with a checksum, as [`Self::put_tile`] does.
    ///
    /// Key-first tiles go in through a cursor for as long as each sorts just after the one
    /// before it and before any tile already stored: a bulk load's, which arrive in key order
    /// into a cleared table, are appended to the open leaf instead of descending from the root
    /// each. From the first tile out of that order (one already stored, which is replaced),
    /// the rest are inserted one by one.
    pub fn put_tiles<'a>(
        &mut self,
        group_by: &str,
        tiles: impl IntoIterator<Item = (&'a [u8], u8, i64, &'a [u8])>,
    ) -> Result<()> {
        let mut tiles = tiles.into_iter();
        // Only the start-first table: the key-first one is opened here, once.
        let mut fine = TilesTables::new(&self.txn, group_by);
        let mut sealed = Vec::new();
        let seal_into = |sealed: &mut Vec<u8>, value: &[u8]| {
            sealed.clear();
            sealed.extend_from_slice(value);
            seal(sealed, 0);
        };
        let mut first = None;
        for tile in tiles.by_ref() {
            if tile.1 != FINE_LEVEL {
                first = Some(tile);
                break;
            }
            seal_into(&mut sealed, tile.3);
            fine.insert(tile.0, tile.1, tile.2, &sealed)?;
        }
        let Some(first) = first else {
            return Ok(());
        };
        let name = tiles_table_name(group_by);
        let context = |key: &[u8], level: u8, start: i64| {
            format!("writing {}", tile_name(group_by, key, level, start))
        };
        let mut main = open_tiles::<TileKey>(&self.txn, &name)?;
        let mut rest = None;
        {
            let (key, level, start, _) = first;
            let mut cursor = main
                .lower_bound_mut(Bound::Included((key, level, start)))
                .map_err(|err| database_error(&context(key, level, start), err))?;
            let mut next = Some(first);
            while let Some(tile) = next.take().or_else(|| tiles.next()) {
                let (key, level, start, value) = tile;
                seal_into(&mut sealed, value);
                if level == FINE_LEVEL {
                    fine.insert(key, level, start, &sealed)?;
                    continue;
                }
                match cursor.insert_before((key, level, start), sealed.as_slice()) {
                    Ok(()) => {}
                    Err(redb::CursorError::UnorderedKey) => {
                        rest = Some(tile);
                        break;
                    }
                    Err(err) => {
                        return Err(database_error(&context(key, level, start), err));
                    }
                }
            }
            cursor
                .close()
                .map_err(|err| database_error(&format!("writing tiles to {name}"), err))?;
        }
        for (key, level, start, value) in rest.into_iter().chain(tiles) {
            seal_into(&mut sealed, value);
            if level == FINE_LEVEL {
                fine.insert(key, level, start, &sealed)?;
                continue;
            }
            main.insert((key, level, start), sealed.as_slice())
                .map_err(|err| database_error(&context(key, level, start), err))?;
        }
        Ok(())
    }

    /// Removes the tiles of each (key, level) whose starts lie in the range given with it;
    /// returns how many were removed.
    pub fn remove_tiles<'a>(
        &mut self,
        group_by: &str,
        ranges: impl IntoIterator<Item = (&'a [u8], u8, Range<i64>)>,
    ) -> Result<usize> {
        let context = || format!("removing tiles of group-by {group_by}");
        let mut tables = TilesTables::new(&self.txn, group_by);
        let mut removed = 0;
        for (key, level, starts) in ranges {
            if starts.start >= starts.end {
                continue;
            }
            if level == FINE_LEVEL {
                // Start first: the key's tiles lie among every other key's of those starts.
                removed += tables.remove_fine(starts, |k| k == key)?;
                continue;
            }
            let range = (key, level, starts.start)..(key, level, starts.end);
            for entry in tables
                .main()?
                .extract_from_if(range, |_, _| true)
                .map_err(|err| database_error(&context(), err))?
            {
                entry.map_err(|err| database_error(&context(), err))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes every key's [`FINE_LEVEL`] tiles of `group_by` whose starts lie in `starts` (they
    /// are neighbours in their table); returns how many were removed.
    pub fn remove_fine_tiles(&mut self, group_by: &str, starts: Range<i64>) -> Result<usize> {
        TilesTables::new(&self.txn, group_by).remove_fine(starts, |_| true)
    }

    /// Moves the [`FINE_LEVEL`] tiles out of every key-first tiles table into the group-by's
    /// start-first one (a database of format version 4 or older kept them all key first).
    pub(super) fn move_fine_tiles(&mut self) -> Result<()> {
        let context = || "moving five-minute tiles to their own tables".to_owned();
        let names: Vec<String> = self
            .txn
            .list_tables()
            .map_err(|err| database_error(&context(), err))?
            .map(|handle| handle.name().to_owned())
            .filter(|name| name.starts_with(TILES_TABLE_PREFIX))
            .collect();
        for name in names {
            let group_by = &name[TILES_TABLE_PREFIX.len()..];
            let mut tables = TilesTables::new(&self.txn, group_by);
            let mut moved = Vec::new();
            for entry in tables
                .main()?
                .extract_if(|(_, level, _), _| level == FINE_LEVEL)
                .map_err(|err| database_error(&context(), err))?
            {
                let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
                let (key, _, start) = tile_key.value();
                moved.push((key.to_vec(), start, sealed.value().to_vec()));
            }
            for (key, start, sealed) in moved {
                tables.insert(&key, FINE_LEVEL, start, &sealed)?;
            }
        }
        Ok(())
    }

    /// Stores `sealed` as the tile at (`key`, `level`, `start`) exactly as given, checksum
    /// included: for tests that store corrupted tiles.
    #[doc(hidden)]
    pub fn put_raw_tile(
        &mut self,
        group_by: &str,
        key: &[u8],
        level: u8,
        start: i64,
        sealed: &[u8],
    ) -> Result<()> {
        TilesTables::new(&self.txn, group_by).insert(key, level, start, sealed)
    }

    /// Commits durably (`Durability::Immediate`): once this returns, the writes survive a crash.
    pub fn commit(self) -> Result<()> {
        self.txn
            .commit()
            .map_err(|err| database_error("committing", err))
    }
}
