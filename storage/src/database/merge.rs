//! Merging new tiles into a snapshot's stored ones. A seal folds and merges on one thread while
//! the writer only inserts: the snapshot is the last commit, which the seal's own write
//! transaction has not changed for these tiles.

use super::read::{tile_name, unseal_tile};
use super::{database_error, tiles_table_name, Layout};
use crate::error::{Result, StorageError};
use crate::ReadTxn;

impl ReadTxn {
    /// For each `(key, level, start, value)` of `tiles`, calls `emit` with the bytes the tile
    /// holds once `value` is merged into it: `value` where this snapshot has no such tile where
    /// `layout` puts it,
    /// otherwise what `merge(stored, value, out)` writes to `out`. A stored tile whose checksum
    /// fails, or that `merge` rejects (its text says why), is [`StorageError::Corrupted`] naming
    /// the tile.
    ///
    /// `merge` must be a function of its inputs: a tile whose stored and new bytes equal the
    /// previous merged tile's takes that tile's result without calling it again. A key's levels
    /// often hold the same rows (a live seal's rows of a key mostly fall in one five-minute
    /// tile, so its hour, day and coarser tiles equal it), and merging sketches is costly.
    pub fn merge_tiles<'a>(
        &self,
        group_by: &str,
        layout: &Layout,
        tiles: impl IntoIterator<Item = (&'a [u8], u8, i64, &'a [u8])>,
        mut merge: impl FnMut(&[u8], &[u8], &mut Vec<u8>) -> std::result::Result<(), String>,
        mut emit: impl FnMut(&'a [u8], u8, i64, &[u8]),
    ) -> Result<()> {
        let tables = self.tiles_table(group_by)?;
        let context = || format!("reading table {}", tiles_table_name(group_by));
        // The last merge: the stored payload and new value it took, and its result.
        let (mut last_stored, mut last_value, mut merged) = (Vec::new(), Vec::new(), Vec::new());
        let mut any = false;
        for (key, level, start, value) in tiles {
            let stored = if layout.start_first(level, start) {
                match tables.start_first(level) {
                    Some(table) => table.get(group_by, key, start)?,
                    None => None,
                }
            } else {
                match &tables.main {
                    Some(table) => table
                        .get((key, level, start))
                        .map_err(|err| database_error(&context(), err))?,
                    None => None,
                }
            };
            let Some(stored) = stored else {
                emit(key, level, start, value);
                continue;
            };
            let payload = unseal_tile(group_by, key, level, start, stored.value())?;
            if !(any && payload == last_stored && value == last_value) {
                merged.clear();
                merge(payload, value, &mut merged).map_err(|reason| {
                    StorageError::corrupted(tile_name(group_by, key, level, start), reason)
                })?;
                last_stored.clear();
                last_stored.extend_from_slice(payload);
                last_value.clear();
                last_value.extend_from_slice(value);
                any = true;
            }
            emit(key, level, start, &merged);
        }
        Ok(())
    }
}
