//! Write transactions: configs, catalog entries and tiles, committed durably.

use std::ops::{Bound, Range};

use redb::{ReadableTable, TableDefinition, TableHandle};

use super::layout::{start_first_millis, start_first_table_name};
use super::read::tile_name;
use super::{
    database_error, tiles_table_name, Layout, StartFirstKey, TileKey, CATALOG, CONFIGS, FINE_LEVEL,
    META, START_FIRST_LEVELS, TILES_TABLE_PREFIX,
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

/// A start-first tiles table open in a write transaction.
type StartFirstTable<'t> = redb::Table<'t, StartFirstKey<'static>, &'static [u8]>;

/// A group-by's tiles tables open in a write transaction, each opened on first use.
struct TilesTables<'t> {
    txn: &'t redb::WriteTransaction,
    group_by: &'t str,
    layout: Layout,
    main: Option<redb::Table<'t, TileKey<'static>, &'static [u8]>>,
    start_first: [Option<StartFirstTable<'t>>; START_FIRST_LEVELS],
}

impl<'t> TilesTables<'t> {
    fn new(txn: &'t redb::WriteTransaction, group_by: &'t str, layout: &Layout) -> Self {
        TilesTables {
            txn,
            group_by,
            layout: *layout,
            main: None,
            start_first: Default::default(),
        }
    }

    fn main(&mut self) -> Result<&mut redb::Table<'t, TileKey<'static>, &'static [u8]>> {
        if self.main.is_none() {
            self.main = Some(open_tiles(self.txn, &tiles_table_name(self.group_by))?);
        }
        Ok(self.main.as_mut().expect("opened above"))
    }

    /// The start-first table of `level` (below [`START_FIRST_LEVELS`]).
    fn start_first(&mut self, level: u8) -> Result<&mut StartFirstTable<'t>> {
        let slot = &mut self.start_first[usize::from(level)];
        if slot.is_none() {
            let name = start_first_table_name(self.group_by, level);
            *slot = Some(open_tiles(self.txn, &name)?);
        }
        Ok(slot.as_mut().expect("opened above"))
    }

    /// Removes the start-first tiles of `level` whose starts lie in `starts` and whose key
    /// `keep` selects (they are neighbours for every key); returns how many were removed.
    fn remove_start_first(
        &mut self,
        level: u8,
        starts: Range<i64>,
        keep: impl Fn(&[u8]) -> bool,
    ) -> Result<usize> {
        if starts.start >= starts.end || usize::from(level) >= START_FIRST_LEVELS {
            return Ok(0);
        }
        let name = start_first_table_name(self.group_by, level);
        let context = || format!("removing tiles from table {name}");
        let none: &[u8] = &[];
        let mut removed = 0;
        for entry in self
            .start_first(level)?
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

    /// Stores `sealed` as the tile at (`key`, `level`, `start`), in the table the layout puts
    /// it in.
    fn insert(&mut self, key: &[u8], level: u8, start: i64, sealed: &[u8]) -> Result<()> {
        let group_by = self.group_by;
        let context = || format!("writing {}", tile_name(group_by, key, level, start));
        if !self.layout.start_first(level, start) {
            self.main()?
                .insert((key, level, start), sealed)
                .map_err(|err| database_error(&context(), err))?;
            return Ok(());
        }
        let millis = start_first_millis(level).unwrap_or(1);
        if start.rem_euclid(millis) != 0 {
            return Err(StorageError::Invalid {
                what: tile_name(group_by, key, level, start),
                detail: format!("start-first level {level} starts are multiples of {millis}"),
            });
        }
        self.start_first(level)?
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

    /// Drops every tile of `group_by` (its table `tiles/<group_by>` and its start-first
    /// tables), so it can be rebuilt.
    pub fn clear_tiles(&mut self, group_by: &str) -> Result<()> {
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        self.txn
            .delete_table(definition)
            .map_err(|err| database_error(&format!("clearing table {name}"), err))?;
        for level in 0..START_FIRST_LEVELS as u8 {
            let name = start_first_table_name(group_by, level);
            let definition: TableDefinition<StartFirstKey, &[u8]> = TableDefinition::new(&name);
            self.txn
                .delete_table(definition)
                .map_err(|err| database_error(&format!("clearing table {name}"), err))?;
        }
        Ok(())
    }

    /// Stores the tile of `group_by` at (`key`, `level`, `start`), sealed with a checksum,
    /// replacing any previous one, where the default [`Layout`] puts it. A [`FINE_LEVEL`] tile
    /// whose start is not a multiple of [`crate::FINE_TILE_MILLIS`] is [`StorageError::Invalid`].
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

    /// Stores many tiles of `group_by` in one pass (each table opened once), each `(key,
    /// level, start, value)` sealed with a checksum, where `layout` puts it, as
    /// [`Self::put_tile`] does. A start-first tile whose start is not a multiple of its level's
    /// length ([`crate::START_FIRST_MILLIS`]) is [`StorageError::Invalid`].
    ///
    /// Key-first tiles go in through a cursor for as long as each sorts just after the one
    /// before it and before any tile already stored: a bulk load's, which arrive in key order
    /// into a cleared table, are appended to the open leaf instead of descending from the root
    /// each. From the first tile out of that order (one already stored, which is replaced),
    /// the rest are inserted one by one.
    pub fn put_tiles<'a>(
        &mut self,
        group_by: &str,
        layout: &Layout,
        tiles: impl IntoIterator<Item = (&'a [u8], u8, i64, &'a [u8])>,
    ) -> Result<()> {
        let mut tiles = tiles.into_iter();
        // Only the start-first tables: the key-first one is opened here, once.
        let mut start_first = TilesTables::new(&self.txn, group_by, layout);
        let mut sealed = Vec::new();
        let seal_into = |sealed: &mut Vec<u8>, value: &[u8]| {
            sealed.clear();
            sealed.extend_from_slice(value);
            seal(sealed, 0);
        };
        let mut first = None;
        for tile in tiles.by_ref() {
            if !layout.start_first(tile.1, tile.2) {
                first = Some(tile);
                break;
            }
            seal_into(&mut sealed, tile.3);
            start_first.insert(tile.0, tile.1, tile.2, &sealed)?;
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
                if layout.start_first(level, start) {
                    start_first.insert(key, level, start, &sealed)?;
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
            if layout.start_first(level, start) {
                start_first.insert(key, level, start, &sealed)?;
                continue;
            }
            main.insert((key, level, start), sealed.as_slice())
                .map_err(|err| database_error(&context(key, level, start), err))?;
        }
        Ok(())
    }

    /// Removes the tiles of each (key, level) whose starts lie in the range given with it,
    /// where `layout` puts them; returns how many were removed.
    pub fn remove_tiles<'a>(
        &mut self,
        group_by: &str,
        layout: &Layout,
        ranges: impl IntoIterator<Item = (&'a [u8], u8, Range<i64>)>,
    ) -> Result<usize> {
        let context = || format!("removing tiles of group-by {group_by}");
        let mut tables = TilesTables::new(&self.txn, group_by, layout);
        let mut removed = 0;
        for (key, level, starts) in ranges {
            let (key_first, start_first) = layout.split(level, &starts);
            // Start first: the key's tiles lie among every other key's of those starts.
            removed += tables.remove_start_first(level, start_first, |k| k == key)?;
            if key_first.start >= key_first.end {
                continue;
            }
            let range = (key, level, key_first.start)..(key, level, key_first.end);
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

    /// Removes every key's start-first tiles of `group_by` at `level` whose starts lie in
    /// `starts` (they are neighbours in their table); returns how many were removed.
    pub fn remove_start_first(
        &mut self,
        group_by: &str,
        level: u8,
        starts: Range<i64>,
    ) -> Result<usize> {
        TilesTables::new(&self.txn, group_by, &Layout::default()).remove_start_first(
            level,
            starts,
            |_| true,
        )
    }

    /// Moves every key's start-first tiles of `group_by` at `level` whose starts lie in
    /// `starts` to the key-first table (replacing any stored there at the same place): for a
    /// layout whose start-first range of `level` is to begin at `starts.end`. Returns how many
    /// were moved.
    ///
    /// The tiles go in key order: one pass over the range per start, merged by key, so that
    /// each key's tiles reach the key-first table together (a page per key, not per tile).
    pub fn move_to_key_first(
        &mut self,
        group_by: &str,
        level: u8,
        starts: Range<i64>,
    ) -> Result<usize> {
        let Some(millis) = start_first_millis(level) else {
            return Ok(0);
        };
        if starts.start >= starts.end {
            return Ok(0);
        }
        let name = start_first_table_name(group_by, level);
        let context = || format!("moving tiles from table {name} to key first");
        let none: &[u8] = &[];
        let mut tables = TilesTables::new(&self.txn, group_by, &Layout::default());
        // Each start's tiles, in key order; only starts that hold tiles.
        let source = tables.start_first(level)?;
        let mut runs = Vec::new();
        let mut at = super::layout::start_from(millis, starts.start);
        while let Some(start) = at.filter(|at| *at < starts.end) {
            let mut run = source
                .range((start, none)..(starts.end, none))
                .map_err(|err| database_error(&context(), err))?
                .peekable();
            let Some(first) = run.peek() else {
                break;
            };
            let found = match first {
                Ok((tile_key, _)) => tile_key.value().0,
                Err(_) => start,
            };
            let end = found.saturating_add(millis);
            runs.push(
                source
                    .range((found, none)..(end, none))
                    .map_err(|err| database_error(&context(), err))?
                    .peekable(),
            );
            at = found.checked_add(millis);
        }
        let mut main = open_tiles::<TileKey>(&self.txn, &tiles_table_name(group_by))?;
        let mut moved = 0;
        loop {
            // The run whose next tile has the smallest key.
            let mut smallest: Option<(usize, Vec<u8>)> = None;
            for (i, run) in runs.iter_mut().enumerate() {
                let Some(next) = run.peek() else { continue };
                let key = match next {
                    Ok((tile_key, _)) => tile_key.value().1,
                    Err(_) => &[][..],
                };
                if smallest
                    .as_ref()
                    .is_none_or(|(_, min)| key < min.as_slice())
                {
                    smallest = Some((i, key.to_vec()));
                }
            }
            let Some((i, _)) = smallest else { break };
            let (tile_key, sealed) = runs[i]
                .next()
                .expect("peeked above")
                .map_err(|err| database_error(&context(), err))?;
            let (start, key) = tile_key.value();
            main.insert((key, level, start), sealed.value())
                .map_err(|err| database_error(&context(), err))?;
            moved += 1;
        }
        drop(runs);
        drop(main);
        let removed = tables.remove_start_first(level, starts, |_| true)?;
        debug_assert_eq!(removed, moved);
        Ok(moved)
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
            let mut tables = TilesTables::new(&self.txn, group_by, &Layout::default());
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
    /// included, where `layout` puts it: for tests that store corrupted tiles.
    #[doc(hidden)]
    pub fn put_raw_tile_in(
        &mut self,
        group_by: &str,
        layout: &Layout,
        (key, level, start): (&[u8], u8, i64),
        sealed: &[u8],
    ) -> Result<()> {
        TilesTables::new(&self.txn, group_by, layout).insert(key, level, start, sealed)
    }

    /// [`Self::put_raw_tile_in`] the default [`Layout`].
    #[doc(hidden)]
    pub fn put_raw_tile(
        &mut self,
        group_by: &str,
        key: &[u8],
        level: u8,
        start: i64,
        sealed: &[u8],
    ) -> Result<()> {
        self.put_raw_tile_in(group_by, &Layout::default(), (key, level, start), sealed)
    }

    /// Commits durably (`Durability::Immediate`): once this returns, the writes survive a crash.
    pub fn commit(self) -> Result<()> {
        self.txn
            .commit()
            .map_err(|err| database_error("committing", err))
    }
}
