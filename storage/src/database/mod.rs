//! `<store>/tilefold.redb`: a thin typed layer over redb. Every stored catalog entry and tile
//! is sealed with a checksum ([`crate::seal`]) and verified on every read.
//!
//! Tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | bytes (`format_version`: `u32` LE) |
//! | `configs` | config name | compiled JSON |
//! | `catalog` | entry name | sealed bytes |
//! | `tiles/<group-by>` | (key bytes, level, tile start) | sealed IR bytes, levels above [`FINE_LEVEL`] |
//! | `fine/<group-by>` | (tile start, key bytes) | sealed IR bytes, level [`FINE_LEVEL`] |
//! | `hours/<group-by>`, `days/<group-by>` | (tile start, key bytes) | sealed IR bytes, levels 1 and 2 from the [`Layout`]'s starts |
//!
//! A group-by's five-minute tiles ([`FINE_LEVEL`]) are kept start first, the others key first,
//! except the hour and day tiles the [`Layout`] the caller gives puts start first (a live
//! store's hours of the current day and its day so far). Live ingest writes the five-minute tiles that ended, every few minutes, for every key that
//! had rows in them, and removes those older than 12 hours as often. Key first, each key's new
//! tile sits among that key's older ones: a seal rewrote a page per active key, twice (measured
//! on redb alone, `tile_layout`: 1.7-2.3 s per 100k keys). Start first, a seal's tiles are
//! neighbours, and so are the tiles it removes. A read of a key's five-minute tiles looks each up
//! on its own instead of in one range; a fetch reads at most 11 of them per end of a window.
//!
//! `<store>/head.redb` ([`head`]) holds live ingest's tables, `head` (commit number → sealed
//! ingested batches not yet in segments) and `producers` (producer id → last committed sequence
//! number), and the same `meta` table.

mod backend;
mod head;
mod layout;
mod merge;
mod read;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{ReadableDatabase, TableDefinition};

use crate::error::{Result, StorageError};
use crate::fs::{temporary_path, FileSystem, RealFileSystem};

pub use head::HEAD_DATABASE_FILE_NAME;
pub use layout::{Layout, START_FIRST_LEVELS, START_FIRST_MILLIS};
pub use read::ReadTxn;
pub use write::WriteTxn;

/// The on-disk format this build reads and writes: 6, hour and day tiles start first where a
/// [`Layout`] puts them (tables `hours/<group-by>` and `days/<group-by>`), where older builds
/// would not look.
///
/// Older formats open and are marked 6, so that their builds refuse the store from then on.
/// Version 5 differs only in that. Version 4 also kept five-minute tiles key first: they move
/// to their start-first tables in the same commit. Version 3 also stored a GroupBy's rows with its key columns (their wider rows stay
/// readable). Version 2 also lacked a live GroupBy's catalog entry telling up to where its
/// tiles are written (tiles after that are not whole yet). Version 1 also kept live ingest's
/// tables in `tilefold.redb` instead of `head.redb`: its old head entries are read alongside
/// `head.redb`'s until the next seal removes them.
pub const FORMAT_VERSION: u32 = 6;

/// The older formats this build upgrades in place.
const UPGRADES_FROM: [u32; 5] = [1, 2, 3, 4, 5];

/// The database's file name inside a store directory.
pub const DATABASE_FILE_NAME: &str = "tilefold.redb";

/// The level kept start first ([`fine_tiles_table_name`]): five-minute tiles.
pub const FINE_LEVEL: u8 = 0;

/// The length of a [`FINE_LEVEL`] tile, in milliseconds. Its starts are multiples of it (epoch
/// based): reads look tiles up at those starts.
pub const FINE_TILE_MILLIS: i64 = 5 * 60 * 1000;

/// redb's page cache by default: 1 GiB (redb's own default).
pub const DEFAULT_CACHE_BYTES: usize = 1 << 30;

/// The head database's page cache: it holds a few seals' worth of entries, read once at open.
const HEAD_CACHE_BYTES: usize = 64 << 20;

const FORMAT_VERSION_KEY: &str = "format_version";

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const CONFIGS: TableDefinition<&str, &str> = TableDefinition::new("configs");
pub(crate) const CATALOG: TableDefinition<&str, &[u8]> = TableDefinition::new("catalog");

/// A tile's key: (entity key bytes, level, tile start in epoch milliseconds).
pub(crate) type TileKey<'a> = (&'a [u8], u8, i64);

/// The prefix of the names of the tables of [`tiles_table_name`].
const TILES_TABLE_PREFIX: &str = "tiles/";

/// The name of the table holding the tiles of `group_by` above [`FINE_LEVEL`].
pub(crate) fn tiles_table_name(group_by: &str) -> String {
    format!("{TILES_TABLE_PREFIX}{group_by}")
}

/// A start-first tile's key: (tile start in epoch milliseconds, entity key bytes).
pub(crate) type StartFirstKey<'a> = (i64, &'a [u8]);

/// The store's redb database. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Database {
    db: Arc<redb::Database>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Creates or opens the database of the store in `dir`, the file `<dir>/tilefold.redb`:
    /// creates the `meta`, `configs` and `catalog` tables and records [`FORMAT_VERSION`] on
    /// creation; an existing database of another format version is
    /// [`StorageError::FormatVersion`]. `dir` must exist.
    ///
    /// Creation is atomic: the new database is built as `tilefold.redb.tmp` and renamed into
    /// place once its format version is committed, so a crash while creating it leaves no
    /// database file (a leftover `.tmp` is removed by the next open). In place, a crash would
    /// leave a file redb refuses to open ("magic number mismatch").
    pub fn open(dir: &Path) -> Result<Database> {
        Database::open_with(dir, &RealFileSystem)
    }

    /// [`Database::open`], with the database file's I/O going through the backend `fs` hands
    /// out ([`FileSystem::database_backend`]), or redb's own file access if it hands out none;
    /// the renames and syncs of creating it go through `fs` too.
    pub fn open_with(dir: &Path, fs: &dyn FileSystem) -> Result<Database> {
        Database::open_with_cache(dir, fs, DEFAULT_CACHE_BYTES)
    }

    /// [`Database::open_with`], with redb's page cache holding up to `cache_bytes` (reads of
    /// pages outside it go to the file).
    pub fn open_with_cache(
        dir: &Path,
        fs: &dyn FileSystem,
        cache_bytes: usize,
    ) -> Result<Database> {
        Database::open_named(dir, DATABASE_FILE_NAME, fs, cache_bytes)
    }

    /// Creates or opens the store's head database, `<dir>/head.redb` ([`HEAD_DATABASE_FILE_NAME`]),
    /// as [`Database::open_with`] does the main one.
    pub fn open_head(dir: &Path, fs: &dyn FileSystem) -> Result<Database> {
        Database::open_named(dir, HEAD_DATABASE_FILE_NAME, fs, HEAD_CACHE_BYTES)
    }

    fn open_named(
        dir: &Path,
        file_name: &str,
        fs: &dyn FileSystem,
        cache_bytes: usize,
    ) -> Result<Database> {
        let path = dir.join(file_name);
        if !path
            .try_exists()
            .map_err(|err| StorageError::io(&path, err))?
        {
            create(fs, dir, &path)?;
        }
        let database = Database::open_file(fs, path, cache_bytes)?;
        match database.begin_read()?.format_version()? {
            Some(older) if UPGRADES_FROM.contains(&older) => database.upgrade(older)?,
            Some(found) => database.check_format_version(found)?,
            // A database created in place by an earlier build, which crashed before this commit.
            None => database.initialize()?,
        }
        Ok(database)
    }

    /// Opens (or creates in place) the redb file at `path` through `fs`'s backend, if any.
    fn open_file(fs: &dyn FileSystem, path: PathBuf, cache_bytes: usize) -> Result<Database> {
        let backend = fs
            .database_backend(&path)
            .map_err(|err| StorageError::io(&path, err))?;
        let mut builder = redb::Builder::new();
        builder.set_cache_size(cache_bytes);
        let opened = match backend {
            Some(backend) => builder.create_with_backend(backend::BoxedBackend(backend)),
            None => builder.create(&path),
        };
        let db =
            opened.map_err(|err| database_error(&format!("opening {}", path.display()), err))?;
        Ok(Database {
            db: Arc::new(db),
            path: Arc::new(path),
        })
    }

    /// Begins a write transaction; only one runs at a time (a second call waits).
    pub fn begin_write(&self) -> Result<WriteTxn> {
        let txn = self
            .db
            .begin_write()
            .map_err(|err| database_error("beginning a write transaction", err))?;
        Ok(WriteTxn::new(txn))
    }

    /// Begins a read transaction: a snapshot of the last commit, never blocking the writer.
    pub fn begin_read(&self) -> Result<ReadTxn> {
        let txn = self
            .db
            .begin_read()
            .map_err(|err| database_error("beginning a read transaction", err))?;
        Ok(ReadTxn::new(txn))
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_format_version(&self, found: u32) -> Result<()> {
        if found == FORMAT_VERSION {
            return Ok(());
        }
        Err(StorageError::FormatVersion {
            path: self.path.to_path_buf(),
            found,
            expected: FORMAT_VERSION,
        })
    }

    fn initialize(&self) -> Result<()> {
        let txn = self.begin_write()?;
        txn.initialize(FORMAT_VERSION_KEY, FORMAT_VERSION)?;
        txn.commit()
    }

    /// Brings a database of an older format to this one in one commit: moves five-minute
    /// tiles to their own tables (format 4 and older), then records [`FORMAT_VERSION`].
    fn upgrade(&self, older: u32) -> Result<()> {
        let mut txn = self.begin_write()?;
        if older <= 4 {
            txn.move_fine_tiles()?;
        }
        txn.initialize(FORMAT_VERSION_KEY, FORMAT_VERSION)?;
        txn.commit()
    }
}

/// Creates the database file `path` in `dir` like [`crate::write_atomic`] writes a file: builds
/// and initializes it as `<path>.tmp` (removing a leftover first), closes it, renames it over
/// `path` and syncs `dir`. On failure the temporary file is removed (best effort).
fn create(fs: &dyn FileSystem, dir: &Path, path: &Path) -> Result<()> {
    let temporary = temporary_path(path);
    if temporary
        .try_exists()
        .map_err(|err| StorageError::io(&temporary, err))?
    {
        fs.remove_file(&temporary)
            .map_err(|err| StorageError::io(&temporary, err))?;
    }
    // The database is closed when it is dropped, at the end of the closure.
    let built = Database::open_file(fs, temporary.clone(), DEFAULT_CACHE_BYTES)
        .and_then(|database| database.initialize());
    let renamed = built.and_then(|()| {
        fs.rename(&temporary, path)
            .map_err(|err| StorageError::io(path, err))
    });
    if let Err(err) = renamed {
        // Best effort: the error that matters is the one already in hand.
        let _ = fs.remove_file(&temporary);
        return Err(err);
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs.sync_dir(dir).map_err(|err| StorageError::io(dir, err))
}

/// A redb error as [`StorageError`]: redb's own corruption report becomes
/// [`StorageError::Corrupted`], everything else [`StorageError::Database`] with `context`.
pub(crate) fn database_error(context: &str, err: impl Into<redb::Error>) -> StorageError {
    match err.into() {
        redb::Error::Corrupted(detail) => StorageError::corrupted(
            format!("database {DATABASE_FILE_NAME} or {HEAD_DATABASE_FILE_NAME}"),
            format!("{context}: {detail}"),
        ),
        err => StorageError::Database(format!("{context}: {err}")),
    }
}
