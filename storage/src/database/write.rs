//! Write transactions: configs, catalog entries and tiles, committed durably.

use redb::TableDefinition;

use super::{database_error, tiles_table_name, TileKey, CATALOG, CONFIGS, META};
use crate::checksum::{seal, sealed};
use crate::error::Result;

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
        self.txn
            .open_table(definition)
            .map_err(|err| database_error(&context(), err))
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

    /// Drops every tile of `group_by` (its table `tiles/<group_by>`), so it can be rebuilt.
    pub fn clear_tiles(&mut self, group_by: &str) -> Result<()> {
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        self.txn
            .delete_table(definition)
            .map_err(|err| database_error(&format!("clearing table {name}"), err))?;
        Ok(())
    }

    /// Stores the tile of `group_by` at (`key`, `level`, `start`), sealed with a checksum,
    /// replacing any previous one.
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
    /// value)` sealed with a checksum. Bulk loads insert in key order, which redb handles best.
    pub fn put_tiles<'a>(
        &mut self,
        group_by: &str,
        tiles: impl IntoIterator<Item = (&'a [u8], u8, i64, &'a [u8])>,
    ) -> Result<()> {
        let name = tiles_table_name(group_by);
        let context = || format!("writing tiles to table {name}");
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let mut table = self.table(definition, &context)?;
        let mut sealed = Vec::new();
        for (key, level, start, value) in tiles {
            sealed.clear();
            sealed.extend_from_slice(value);
            seal(&mut sealed, 0);
            table
                .insert((key, level, start), sealed.as_slice())
                .map_err(|err| database_error(&context(), err))?;
        }
        Ok(())
    }

    /// Removes the tiles of each (key, level) whose starts lie in the range given with it;
    /// returns how many were removed.
    pub fn remove_tiles<'a>(
        &mut self,
        group_by: &str,
        ranges: impl IntoIterator<Item = (&'a [u8], u8, std::ops::Range<i64>)>,
    ) -> Result<usize> {
        let name = tiles_table_name(group_by);
        let context = || format!("removing tiles from table {name}");
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let mut table = self.table(definition, &context)?;
        let mut removed = 0;
        for (key, level, starts) in ranges {
            if starts.start >= starts.end {
                continue;
            }
            let range = (key, level, starts.start)..(key, level, starts.end);
            for entry in table
                .extract_from_if(range, |_, _| true)
                .map_err(|err| database_error(&context(), err))?
            {
                entry.map_err(|err| database_error(&context(), err))?;
                removed += 1;
            }
        }
        Ok(removed)
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
        let name = tiles_table_name(group_by);
        let context = || format!("writing a tile to table {name}");
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let mut table = self.table(definition, &context)?;
        table
            .insert((key, level, start), sealed)
            .map_err(|err| database_error(&context(), err))?;
        Ok(())
    }

    /// Commits durably (`Durability::Immediate`): once this returns, the writes survive a crash.
    pub fn commit(self) -> Result<()> {
        self.txn
            .commit()
            .map_err(|err| database_error("committing", err))
    }
}
