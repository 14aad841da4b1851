//! Read transactions: a consistent snapshot; every sealed value is verified as it is read.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, PoisonError, RwLock};

use redb::{ReadableTable, TableDefinition, TableError, TableHandle};

use super::layout::{start_first_millis, start_first_table_name, start_from};
use super::{
    database_error, tiles_table_name, Layout, StartFirstKey, TileKey, CATALOG, CONFIGS, META,
    START_FIRST_LEVELS,
};
use crate::checksum::unseal;
use crate::error::{Result, StorageError};

/// A group-by's key-first tiles table, opened in a read transaction.
type TilesTable = redb::ReadOnlyTable<TileKey<'static>, &'static [u8]>;

/// A group-by's start-first tiles table of one level, opened in a read transaction.
type StartFirstHandle = redb::ReadOnlyTable<StartFirstKey<'static>, &'static [u8]>;

/// A group-by's tiles of one level stored start first.
pub(super) struct StartFirstTable {
    table: StartFirstHandle,
    level: u8,
    /// The level's tile length: its starts are multiples of it.
    millis: i64,
}

/// A group-by's tiles in one snapshot: each table `None` where the snapshot has none.
pub(super) struct GroupTiles {
    pub(super) main: Option<TilesTable>,
    /// Per level up to [`START_FIRST_LEVELS`].
    pub(super) start_first: [Option<StartFirstTable>; START_FIRST_LEVELS],
}

impl GroupTiles {
    /// The start-first table of `level`, if the snapshot has one.
    pub(super) fn start_first(&self, level: u8) -> Option<&StartFirstTable> {
        self.start_first.get(usize::from(level))?.as_ref()
    }
}

/// One redb read transaction: every read sees the same committed state.
pub struct ReadTxn {
    pub(super) txn: redb::ReadTransaction,
    /// The tiles tables opened so far, by group-by. A snapshot never changes, so each is opened
    /// once per transaction, not once per read.
    tiles_tables: RwLock<HashMap<String, Arc<GroupTiles>>>,
}

impl StartFirstTable {
    /// Opens `group_by`'s start-first table of `level` in `txn`; `None` if it is absent.
    fn open(
        txn: &redb::ReadTransaction,
        group_by: &str,
        level: u8,
    ) -> Result<Option<StartFirstTable>> {
        let name = start_first_table_name(group_by, level);
        let definition: TableDefinition<StartFirstKey, &[u8]> = TableDefinition::new(&name);
        let millis = start_first_millis(level).unwrap_or(i64::MAX);
        Ok(
            open_optional(txn, definition)?.map(|table| StartFirstTable {
                table,
                level,
                millis,
            }),
        )
    }

    /// Calls `visit` with the tiles of `key` whose start lies in `starts`, in ascending order,
    /// as (start, stored sealed bytes).
    ///
    /// One seek per start of the level, from the first start in `starts`: to the tile of `key`
    /// there, or past it to the next stored tile. Starts where no key has a tile are skipped in
    /// that seek, so a read takes at most two seeks per start stored, however wide `starts`.
    pub(super) fn visit(
        &self,
        group_by: &str,
        key: &[u8],
        starts: &Range<i64>,
        mut visit: impl FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let context = || {
            format!(
                "reading table {}",
                start_first_table_name(group_by, self.level)
            )
        };
        let none: &[u8] = &[];
        let mut next = start_from(self.millis, starts.start);
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
                next = found.checked_add(self.millis);
            } else if found == at {
                // No tile of `key` at `at`; others' tiles there.
                next = at.checked_add(self.millis);
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
                &format!(
                    "reading table {}",
                    start_first_table_name(group_by, self.level)
                ),
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
            start_first: [
                StartFirstTable::open(&self.txn, group_by, 0)?,
                StartFirstTable::open(&self.txn, group_by, 1)?,
                StartFirstTable::open(&self.txn, group_by, 2)?,
            ],
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
    /// `starts`, in ascending start order, each as (start, IR bytes), read where `layout` puts
    /// them. `out` is not cleared.
    ///
    /// Every tile's checksum is verified; a mismatch is [`StorageError::Corrupted`] naming the
    /// group-by, key (hex), level and start. A group-by without tiles yields nothing.
    pub fn tiles(
        &self,
        group_by: &str,
        key: &[u8],
        level: u8,
        starts: Range<i64>,
        layout: &Layout,
        out: &mut Vec<(i64, Vec<u8>)>,
    ) -> Result<()> {
        self.visit_tiles(
            group_by,
            key,
            layout,
            &[(level, starts)],
            |_, start, payload| {
                out.push((start, payload.to_vec()));
                Ok(())
            },
        )
    }
}

/// How many tiles outside the asked ranges a scan steps over before it seeks instead (a seek
/// costs about as much as stepping over this many neighbouring tiles).
const SKIP_BEFORE_SEEK: usize = 8;

impl ReadTxn {
    /// Calls `visit` with the tiles of `group_by` at `key` for each (level, starts) of `spans`
    /// (levels ascending, each level's ranges ascending and disjoint) whose start lies in
    /// `starts`, read where `layout` puts them, as (level, start, IR bytes). Each level's tiles
    /// come in ascending start order. The bytes are borrowed from the database, not copied.
    ///
    /// A key's key-first tiles sit next to each other whatever their level, so one range scan
    /// can serve several levels: a scan goes on from one level's tiles into the next level's
    /// as long as it steps over few tiles nobody asked for, and seeks otherwise. Start-first
    /// tiles, which come after a level's key-first ones in time, are then looked up one start
    /// at a time. Checksums are verified as in [`Self::tiles`].
    pub fn visit_tiles(
        &self,
        group_by: &str,
        key: &[u8],
        layout: &Layout,
        spans: &[(u8, Range<i64>)],
        mut visit: impl FnMut(u8, i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let tables = self.tiles_table(group_by)?;
        let mut key_first = Vec::with_capacity(spans.len());
        let mut start_first = Vec::new();
        for (level, starts) in spans {
            let (before, from) = layout.split(*level, starts);
            if before.start < before.end {
                key_first.push((*level, before));
            }
            if from.start < from.end {
                start_first.push((*level, from));
            }
        }
        self.visit_key_first(&tables, group_by, key, &key_first, &mut visit)?;
        for (level, starts) in &start_first {
            let Some(table) = tables.start_first(*level) else {
                continue;
            };
            table.visit(group_by, key, starts, |start, sealed| {
                visit(
                    *level,
                    start,
                    unseal_tile(group_by, key, *level, start, sealed)?,
                )
            })?;
        }
        Ok(())
    }

    /// [`Self::visit_tiles`] over key-first `spans` (none empty).
    fn visit_key_first(
        &self,
        tables: &GroupTiles,
        group_by: &str,
        key: &[u8],
        spans: &[(u8, Range<i64>)],
        visit: &mut impl FnMut(u8, i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let Some(table) = &tables.main else {
            return Ok(());
        };
        let context = || format!("reading table {}", tiles_table_name(group_by));
        let Some((last_level, last)) = spans.last() else {
            return Ok(());
        };
        // The first span not yet read to its end.
        let mut next = 0;
        while let Some((level, starts)) = spans.get(next) {
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

    /// Every tile of `group_by` that `layout` reads, as (key, level, start, IR bytes), in key
    /// order, checksums verified (for checks that rebuild tiles and compare). A tile stored
    /// where `layout` does not read it is left out.
    #[expect(
        clippy::type_complexity,
        reason = "a plain tuple named field by field above, destructured by its callers"
    )]
    pub fn all_tiles(
        &self,
        group_by: &str,
        layout: &Layout,
    ) -> Result<Vec<(Vec<u8>, u8, i64, Vec<u8>)>> {
        let mut tiles = Vec::new();
        for level in 0..START_FIRST_LEVELS as u8 {
            let name = start_first_table_name(group_by, level);
            let table: TableDefinition<StartFirstKey, &[u8]> = TableDefinition::new(&name);
            self.push_tiles(group_by, table, &mut tiles, |(start, key)| {
                (key.to_vec(), level, start)
            })?;
            tiles.retain(|(_, l, start, _)| *l != level || layout.start_first(level, *start));
        }
        let main = tiles_table_name(group_by);
        let main: TableDefinition<TileKey, &[u8]> = TableDefinition::new(&main);
        let from = tiles.len();
        self.push_tiles(group_by, main, &mut tiles, |(key, level, start)| {
            (key.to_vec(), level, start)
        })?;
        let mut at = 0;
        tiles.retain(|(_, level, start, _)| {
            at += 1;
            at <= from || !layout.start_first(*level, *start)
        });
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

    /// `visit_tiles` over several levels gives exactly the tiles stored in the asked ranges,
    /// each level's in ascending order, and what one `tiles` read per level gives, whether its
    /// scans step over unasked tiles (few) or seek past them (many), and whatever the layout
    /// puts start first.
    #[test]
    fn visit_tiles_equals_one_read_per_level() {
        const UNIT: i64 = crate::FINE_TILE_MILLIS;
        let dir = std::env::temp_dir().join(format!("tilefold-visit-tiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::open(&dir).unwrap();
        let layouts = [
            Layout::default(),
            // Hours from the 36th unit (a multiple of an hour), days from the 288th (a day).
            Layout {
                start_first_from: [i64::MIN, 36 * UNIT, 288 * UNIT],
            },
        ];
        let mut tiles = Vec::new();
        for key in [&b"j"[..], b"k", b"l"] {
            for level in 0..5u8 {
                // Level 2 holds many tiles, the others a few; starts are multiples of each
                // level's length (a unit is five minutes), a day apart at level 2.
                let (count, step) = match level {
                    2 => (40, 288),
                    1 => (6, 12),
                    _ => (6, 10),
                };
                for i in 0..count {
                    let value = format!("{key:?}/{level}/{i}").into_bytes();
                    tiles.push((key.to_vec(), level, i64::from(i) * step * UNIT, value));
                }
            }
        }
        for (g, layout) in layouts.iter().enumerate() {
            let group_by = format!("g{g}");
            let mut write = db.begin_write().unwrap();
            write
                .put_tiles(
                    &group_by,
                    layout,
                    tiles
                        .iter()
                        .map(|(k, l, s, v)| (k.as_slice(), *l, *s, v.as_slice())),
                )
                .unwrap();
            write.commit().unwrap();
            let read = db.begin_read().unwrap();
            let cases: Vec<Vec<(u8, Range<i64>)>> = vec![
                vec![(2, 0..12_000)],
                vec![(0, 10..30), (1, 0..60)],
                vec![(0, 0..60), (2, 380..12_000), (3, 0..20)],
                vec![(1, 24..60), (2, 0..10), (4, 20..50)],
                vec![(0, 5..5), (2, 100..2_000), (3, 40..1000)],
                vec![(0, 0..10), (4, 0..10)],
                vec![(3, 100..200)],
                // Several ranges of one level: near (stepped over) and far apart (sought).
                vec![(1, 0..12), (1, 24..48), (2, 10..300)],
                vec![
                    (2, 0..600),
                    (2, 1_000..3_000),
                    (2, 9_000..9_500),
                    (3, 0..20),
                ],
                vec![(2, 0..10), (2, 11_000..12_000), (4, 50..60)],
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
                let mut stored = Vec::new();
                for (level, starts) in &spans {
                    let mut out = Vec::new();
                    read.tiles(&group_by, b"k", *level, starts.clone(), layout, &mut out)
                        .unwrap();
                    expected.extend(out.into_iter().map(|(s, v)| (*level, s, v)));
                    stored.extend(
                        tiles
                            .iter()
                            .filter(|(k, l, s, _)| k == b"k" && l == level && starts.contains(s))
                            .map(|(_, l, s, v)| (*l, *s, v.clone())),
                    );
                }
                let mut visited = Vec::new();
                read.visit_tiles(&group_by, b"k", layout, &spans, |level, start, bytes| {
                    visited.push((level, start, bytes.to_vec()));
                    Ok(())
                })
                .unwrap();
                // Levels may come in any order, each level's tiles in ascending order.
                visited.sort_by_key(|(level, _, _)| *level);
                assert_eq!(visited, expected, "{layout:?}, spans {spans:?}");
                assert_eq!(visited, stored, "{layout:?}, spans {spans:?}");
            }
        }
        let read = db.begin_read().unwrap();
        let mut none = 0;
        read.visit_tiles(
            "absent",
            b"k",
            &Layout::default(),
            &[(0, 0..100)],
            |_, _, _| {
                none += 1;
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(none, 0);
        drop(read);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
