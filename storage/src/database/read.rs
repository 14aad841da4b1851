//! Read transactions: a consistent snapshot; every sealed value is verified as it is read.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, PoisonError, RwLock};

use redb::{ReadableTable, TableDefinition, TableError, TableHandle};

use super::{
    database_error, fine_start_from, fine_tiles_table_name, tiles_table_name, FineKey, TileKey,
    CATALOG, CONFIGS, FINE_LEVEL, FINE_TILE_MILLIS, META,
};
use crate::checksum::unseal;
use crate::error::{Result, StorageError};

/// A group-by's key-first tiles table, opened in a read transaction.
type TilesTable = redb::ReadOnlyTable<TileKey<'static>, &'static [u8]>;

/// A group-by's five-minute tiles table (start first), opened in a read transaction.
type FineTableHandle = redb::ReadOnlyTable<FineKey<'static>, &'static [u8]>;

/// A group-by's five-minute tiles, stored start first.
pub(super) struct FineTable {
    table: FineTableHandle,
}

/// A group-by's tiles in one snapshot: each table `None` where the snapshot has none.
pub(super) struct GroupTiles {
    pub(super) main: Option<TilesTable>,
    pub(super) fine: Option<FineTable>,
}

/// One redb read transaction: every read sees the same committed state.
pub struct ReadTxn {
    pub(super) txn: redb::ReadTransaction,
    /// The tiles tables opened so far, by group-by. A snapshot never changes, so each is opened
    /// once per transaction, not once per read.
    tiles_tables: RwLock<HashMap<String, Arc<GroupTiles>>>,
}

impl FineTable {
    /// Opens `group_by`'s five-minute tiles table in `txn`; `None` if it is absent.
    fn open(txn: &redb::ReadTransaction, group_by: &str) -> Result<Option<FineTable>> {
        let name = fine_tiles_table_name(group_by);
        let definition: TableDefinition<FineKey, &[u8]> = TableDefinition::new(&name);
        Ok(open_optional(txn, definition)?.map(|table| FineTable { table }))
    }

    /// Calls `visit` with the tiles of `key` whose start lies in `starts`, in ascending order,
    /// as (start, stored sealed bytes).
    ///
    /// One seek per five-minute start, from the first start in `starts`: to the tile of `key`
    /// there, or past it to the next stored tile. Starts where no key has a tile are skipped in
    /// that seek, so a read takes at most two seeks per start stored, however wide `starts`.
    pub(super) fn visit(
        &self,
        group_by: &str,
        key: &[u8],
        starts: &Range<i64>,
        mut visit: impl FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let context = || format!("reading table {}", fine_tiles_table_name(group_by));
        let none: &[u8] = &[];
        let mut next = fine_start_from(starts.start);
        while let Some(at) = next.filter(|at| *at < starts.end) {
            let mut range = self
                .table
                .range((at, key)..(starts.end, none))
                .map_err(|err| database_error(&context(), err))?;
            let Some(entry) = range.next() else {
                break;
            };
            let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
            let (found, found_key) = tile_key.value();
            if found_key == key {
                visit(found, sealed.value())?;
                next = found.checked_add(FINE_TILE_MILLIS);
            } else if found == at {
                // No tile of `key` at `at`; others' tiles there.
                next = at.checked_add(FINE_TILE_MILLIS);
            } else {
                // No tile at all between `at` and `found`.
                next = Some(found);
            }
        }
        Ok(())
    }

    /// The stored sealed bytes of `key`'s tile at `start`, if any.
    pub(super) fn get(
        &self,
        group_by: &str,
        key: &[u8],
        start: i64,
    ) -> Result<Option<redb::AccessGuard<'_, &'static [u8]>>> {
        self.table.get((start, key)).map_err(|err| {
            database_error(
                &format!("reading table {}", fine_tiles_table_name(group_by)),
                err,
            )
        })
    }
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
        ReadTxn {
            txn,
            tiles_tables: RwLock::default(),
        }
    }

    /// The tiles tables of `group_by`, opened on first use.
    pub(super) fn tiles_table(&self, group_by: &str) -> Result<Arc<GroupTiles>> {
        // A poisoned lock only means a panic elsewhere while it was held; the map stays valid.
        if let Some(tables) = self
            .tiles_tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(group_by)
        {
            return Ok(tables.clone());
        }
        let name = tiles_table_name(group_by);
        let definition: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&name);
        let tables = Arc::new(GroupTiles {
            main: open_optional(&self.txn, definition)?,
            fine: FineTable::open(&self.txn, group_by)?,
        });
        self.tiles_tables
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(group_by.to_owned(), tables.clone());
        Ok(tables)
    }

    /// The recorded format version, `None` in a database not yet initialized.
    pub(super) fn format_version(&self) -> Result<Option<u32>> {
        Ok(self
            .meta::<4>(super::FORMAT_VERSION_KEY)?
            .map(u32::from_le_bytes))
    }

    /// The `meta` entry `key`, which must be `N` bytes long; `None` if it is absent.
    pub(super) fn meta<const N: usize>(&self, key: &str) -> Result<Option<[u8; N]>> {
        let Some(meta) = open_optional(&self.txn, META)? else {
            return Ok(None);
        };
        let context = format!("reading meta entry {key}");
        let Some(value) = meta.get(key).map_err(|err| database_error(&context, err))? else {
            return Ok(None);
        };
        let bytes: [u8; N] = value.value().try_into().map_err(|_| {
            StorageError::corrupted(
                format!("meta entry {key}"),
                format!("{} bytes, expected {N}", value.value().len()),
            )
        })?;
        Ok(Some(bytes))
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
        let tables = self.tiles_table(group_by)?;
        if level == FINE_LEVEL {
            if let Some(fine) = &tables.fine {
                fine.visit(group_by, key, &starts, |start, sealed| {
                    let payload = unseal_tile(group_by, key, level, start, sealed)?;
                    out.push((start, payload.to_vec()));
                    Ok(())
                })?;
            }
            return Ok(());
        }
        let Some(table) = &tables.main else {
            return Ok(());
        };
        let context = || format!("reading table {}", tiles_table_name(group_by));
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

/// How many tiles outside the asked ranges a scan steps over before it seeks instead (a seek
/// costs about as much as stepping over this many neighbouring tiles).
const SKIP_BEFORE_SEEK: usize = 8;

impl ReadTxn {
    /// Calls `visit` with the tiles of `group_by` at `key` for each (level, starts) of `spans`
    /// (levels ascending, each at most once) whose start lies in `starts`, in key order, as
    /// (level, start, IR bytes). The bytes are borrowed from the database, not copied.
    ///
    /// A key's tiles above [`FINE_LEVEL`] sit next to each other whatever their level, so one
    /// range scan can serve several levels: a scan goes on from one level's tiles into the next
    /// level's as long as it steps over few tiles nobody asked for, and seeks otherwise.
    /// [`FINE_LEVEL`] tiles, the lowest level, are looked up one by one first. Checksums are
    /// verified as in [`Self::tiles`].
    pub fn visit_tiles(
        &self,
        group_by: &str,
        key: &[u8],
        spans: &[(u8, Range<i64>)],
        mut visit: impl FnMut(u8, i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let tables = self.tiles_table(group_by)?;
        let (fine, spans): (Vec<_>, Vec<_>) = spans
            .iter()
            .filter(|(_, s)| s.start < s.end)
            .partition(|(level, _)| *level == FINE_LEVEL);
        if let Some(table) = &tables.fine {
            for (level, starts) in fine {
                table.visit(group_by, key, starts, |start, sealed| {
                    visit(
                        *level,
                        start,
                        unseal_tile(group_by, key, *level, start, sealed)?,
                    )
                })?;
            }
        }
        let Some(table) = &tables.main else {
            return Ok(());
        };
        let context = || format!("reading table {}", tiles_table_name(group_by));
        let Some(&(last_level, last)) = spans.last() else {
            return Ok(());
        };
        // The first span not yet read to its end.
        let mut next = 0;
        while let Some(&(level, starts)) = spans.get(next) {
            let range = table
                .range((key, *level, starts.start)..(key, *last_level, last.end))
                .map_err(|err| database_error(&context(), err))?;
            let mut skipped = 0;
            let mut resume = spans.len();
            for entry in range {
                let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
                let (_, level, start) = tile_key.value();
                // Spans wholly before this tile are done.
                while spans
                    .get(next)
                    .is_some_and(|(l, s)| *l < level || (*l == level && s.end <= start))
                {
                    next += 1;
                }
                match spans.get(next) {
                    Some((l, s)) if *l == level && s.contains(&start) => {
                        visit(
                            level,
                            start,
                            unseal_tile(group_by, key, level, start, sealed.value())?,
                        )?;
                    }
                    _ => {
                        skipped += 1;
                        if skipped > SKIP_BEFORE_SEEK {
                            resume = next;
                            break;
                        }
                    }
                }
            }
            next = resume;
        }
        Ok(())
    }

    /// Every tile of `group_by` as (key, level, start, IR bytes), in key order, checksums
    /// verified (for checks that rebuild tiles and compare).
    #[expect(
        clippy::type_complexity,
        reason = "a plain tuple named field by field above, destructured by its callers"
    )]
    pub fn all_tiles(&self, group_by: &str) -> Result<Vec<(Vec<u8>, u8, i64, Vec<u8>)>> {
        let mut tiles = Vec::new();
        let (fine, main) = (fine_tiles_table_name(group_by), tiles_table_name(group_by));
        let fine: TableDefinition<FineKey, &[u8]> = TableDefinition::new(&fine);
        self.push_tiles(group_by, fine, &mut tiles, |(start, key)| {
            (key.to_vec(), FINE_LEVEL, start)
        })?;
        let main: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&main);
        self.push_tiles(group_by, main, &mut tiles, |(key, level, start)| {
            (key.to_vec(), level, start)
        })?;
        // Key order, as one key-first table would give them.
        tiles.sort_unstable_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
        Ok(tiles)
    }

    /// Appends every tile of `definition` (a table of `group_by`'s tiles, absent or not) to
    /// `out` as (key, level, start, payload), the stored key taken apart by `split`.
    fn push_tiles<K: redb::Key + 'static>(
        &self,
        group_by: &str,
        definition: TableDefinition<K, &[u8]>,
        out: &mut Vec<(Vec<u8>, u8, i64, Vec<u8>)>,
        split: impl Fn(K::SelfType<'_>) -> (Vec<u8>, u8, i64),
    ) -> Result<()> {
        let Some(table) = open_optional(&self.txn, definition)? else {
            return Ok(());
        };
        let context = || format!("reading table {}", definition.name());
        for entry in table
            .iter()
            .map_err(|err| database_error(&context(), err))?
        {
            let (tile_key, sealed) = entry.map_err(|err| database_error(&context(), err))?;
            let (key, level, start) = split(tile_key.value());
            let payload = unseal_tile(group_by, &key, level, start, sealed.value())?.to_vec();
            out.push((key, level, start, payload));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::super::Database;
    use super::*;

    /// `visit_tiles` over several levels gives exactly what one `tiles` read per level gives,
    /// whether its scans step over unasked tiles (few) or seek past them (many).
    #[test]
    fn visit_tiles_equals_one_read_per_level() {
        const UNIT: i64 = FINE_TILE_MILLIS;
        let dir = std::env::temp_dir().join(format!("tilefold-visit-tiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::open(&dir).unwrap();
        let mut write = db.begin_write().unwrap();
        let mut tiles = Vec::new();
        for key in [&b"j"[..], b"k", b"l"] {
            for level in 0..5u8 {
                // Level 2 holds many tiles, the others a few; starts are 10 units apart (a unit
                // of five minutes, so that level 0 is stored start first).
                let count = if level == 2 { 40 } else { 6 };
                for i in 0..count {
                    let value = format!("{key:?}/{level}/{i}").into_bytes();
                    tiles.push((key.to_vec(), level, i64::from(i) * 10 * UNIT, value));
                }
            }
        }
        write
            .put_tiles(
                "g",
                tiles
                    .iter()
                    .map(|(k, l, s, v)| (k.as_slice(), *l, *s, v.as_slice())),
            )
            .unwrap();
        write.commit().unwrap();
        let read = db.begin_read().unwrap();
        let cases: Vec<Vec<(u8, Range<i64>)>> = vec![
            vec![(2, 0..400)],
            vec![(0, 10..30), (1, 0..60)],
            vec![(0, 0..60), (2, 380..400), (3, 0..20)],
            vec![(1, 50..60), (2, 0..10), (4, 20..50)],
            vec![(0, 5..5), (2, 100..200), (3, 40..1000)],
            vec![(0, 0..10), (4, 0..10)],
            vec![(3, 100..200)],
            // Several ranges of one level: near (stepped over) and far apart (sought).
            vec![(1, 0..10), (1, 20..30), (2, 10..20)],
            vec![(2, 0..50), (2, 100..150), (2, 300..320), (3, 0..20)],
            vec![(2, 0..10), (2, 390..400), (4, 50..60)],
            vec![],
        ];
        let cases = cases.into_iter().map(|spans| {
            spans
                .into_iter()
                .map(|(level, starts)| (level, starts.start * UNIT..starts.end * UNIT))
                .collect::<Vec<_>>()
        });
        for spans in cases {
            let mut expected = Vec::new();
            for (level, starts) in &spans {
                let mut out = Vec::new();
                read.tiles("g", b"k", *level, starts.clone(), &mut out)
                    .unwrap();
                expected.extend(out.into_iter().map(|(s, v)| (*level, s, v)));
            }
            let mut visited = Vec::new();
            read.visit_tiles("g", b"k", &spans, |level, start, bytes| {
                visited.push((level, start, bytes.to_vec()));
                Ok(())
            })
            .unwrap();
            assert_eq!(visited, expected, "spans {spans:?}");
        }
        let mut none = 0;
        read.visit_tiles("absent", b"k", &[(0, 0..100)], |_, _, _| {
            none += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(none, 0);
        drop(read);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
