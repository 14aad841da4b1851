//! Read transactions: a consistent snapshot; every sealed value is verified as it is read.

use std::ops::Range;

use redb::{ReadableTable, TableDefinition, TableError, TableHandle};

use super::{database_error, tiles_table_name, TileKey, CATALOG, CONFIGS, META};
use crate::checksum::unseal;
use crate::error::{Result, StorageError};

/// One redb read transaction: every read sees the same committed state.
pub struct ReadTxn {
    pub(super) txn: redb::ReadTransaction,
}

impl std::fmt::Debug for ReadTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTxn").finish_non_exhaustive()
    }
}

/// Opens a table, `None` when it does not exist (yet).
pub(super) fn open_optional<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    definition: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>> {
    match txn.open_table(definition) {
        Ok(table) => Ok(Some(table)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(err) => Err(database_error(
            &format!("opening table {}", definition.name()),
            err,
        )),
    }
}

impl ReadTxn {
    pub(super) fn new(txn: redb::ReadTransaction) -> Self {
        ReadTxn { txn }
    }

    /// The recorded format version, `None` in a database not yet initialized.
    pub(super) fn format_version(&self) -> Result<Option<u32>> {
        let Some(meta) = open_optional(&self.txn, META)? else {
            return Ok(None);
        };
        let context = "reading the format version";
        let Some(value) = meta
            .get(super::FORMAT_VERSION_KEY)
            .map_err(|err| database_error(context, err))?
        else {
            return Ok(None);
        };
        let bytes: [u8; 4] = value.value().try_into().map_err(|_| {
            StorageError::corrupted(
                "meta entry format_version",
                format!("{} bytes, expected 4", value.value().len()),
            )
        })?;
        Ok(Some(u32::from_le_bytes(bytes)))
    }

    /// Every stored config as (name, compiled JSON), ordered by name.
    pub fn configs(&self) -> Result<Vec<(String, String)>> {
        let context = "reading configs";
        let Some(table) = open_optional(&self.txn, CONFIGS)? else {
            return Ok(Vec::new());
        };
        let mut configs = Vec::new();
        for entry in table.iter().map_err(|err| database_error(context, err))? {
            let (name, json) = entry.map_err(|err| database_error(context, err))?;
            configs.push((name.value().to_string(), json.value().to_string()));
        }
        Ok(configs)
    }

    /// Catalog entry `name`, checksum verified; `None` if absent.
    pub fn catalog(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let context = || format!("reading catalog entry {name}");
        let Some(table) = open_optional(&self.txn, CATALOG)? else {
            return Ok(None);
        };
        let Some(sealed) = table
            .get(name)
            .map_err(|err| database_error(&context(), err))?
        else {
            return Ok(None);
        };
        let payload = unseal(sealed.value()).map_err(|err| {
            StorageError::corrupted(format!("catalog entry {name}"), err.to_string())
        })?;
        Ok(Some(payload.to_vec()))
    }

    /// The names of all catalog entries, in order.
    pub fn catalog_names(&self) -> Result<Vec<String>> {
        let context = "listing catalog entries";
        let Some(table) = open_optional(&self.txn, CATALOG)? else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for entry in table.iter().map_err(|err| database_error(context, err))? {
            let (name, _) = entry.map_err(|err| database_error(context, err))?;
            names.push(name.value().to_string());
        }
        Ok(names)
    }

    /// Appends to `out` the tiles of `group_by` at (`key`, `level`) whose start lies in
    /// `starts`, in ascending start order, each as (start, IR bytes). `out` is not cleared.
    ///
    /// Every tile's checksum is verified; a mismatch is [`StorageError::Corrupted`] naming the
    /// group-by, key (hex), level and start. A group-by without tiles yields nothing.
    pub fn tiles(
        &self,
        group_by: &str,
        key: &[u8],
        level: u8,
        starts: Range<i64>,
        out: &mut Vec<(i64, Vec<u8>)>,
    ) -> Result<()> {
        if starts.start >= starts.end {
            return Ok(());
        }
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let Some(table) = open_optional(&self.txn, definition)? else {
            return Ok(());
        };
        let context = || format!("reading table {name}");
        let range = table
            .range((key, level, starts.start)..(key, level, starts.end))
            .map_err(|err| database_error(&context(), err))?;
        for entry in range {
            let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
            let (_, _, start) = tile_key.value();
            let payload = unseal_tile(group_by, key, level, start, sealed.value())?;
            out.push((start, payload.to_vec()));
        }
        Ok(())
    }
}

impl ReadTxn {
    /// Every tile of `group_by` as (key, level, start, IR bytes), in key order, checksums
    /// verified (for checks that rebuild tiles and compare).
    #[expect(
        clippy::type_complexity,
        reason = "a plain tuple named field by field above, destructured by its callers"
    )]
    pub fn all_tiles(&self, group_by: &str) -> Result<Vec<(Vec<u8>, u8, i64, Vec<u8>)>> {
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let Some(table) = open_optional(&self.txn, definition)? else {
            return Ok(Vec::new());
        };
        let context = || format!("reading table {name}");
        let mut tiles = Vec::new();
        for entry in table
            .iter()
            .map_err(|err| database_error(&context(), err))?
        {
            let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
            let (key, level, start) = tile_key.value();
            let payload = unseal_tile(group_by, key, level, start, sealed.value())?;
            tiles.push((key.to_vec(), level, start, payload.to_vec()));
        }
        Ok(tiles)
    }
}

/// The payload of a stored tile, its checksum verified; a mismatch is
/// [`StorageError::Corrupted`] naming the group-by, key (hex), level and start.
pub(super) fn unseal_tile<'a>(
    group_by: &str,
    key: &[u8],
    level: u8,
    start: i64,
    sealed: &'a [u8],
) -> Result<&'a [u8]> {
    unseal(sealed).map_err(|err| {
        StorageError::corrupted(tile_name(group_by, key, level, start), err.to_string())
    })
}

/// How messages name a tile.
pub(super) fn tile_name(group_by: &str, key: &[u8], level: u8, start: i64) -> String {
    format!(
        "tile group-by {group_by}, key 0x{}, level {level}, start {start}",
        hex(key)
    )
}

/// Lower-case hexadecimal digits of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}
