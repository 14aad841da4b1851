//! The file-system seam: every file this crate writes goes through [`FileSystem`], so tests can
//! fail any step of a write ([`FailingFileSystem`]) and check that nothing half-written is left
//! where a reader would find it. The database file's I/O can go through the same seam: a file
//! system may hand [`crate::Database::open_with`] a redb backend
//! ([`FileSystem::database_backend`]), as [`crate::FaultInjector`] does.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Result, StorageError};

/// The file operations storage needs. Mutating operations are `write_new`, `sync_file`,
/// `rename`, `sync_dir` and `remove_file`.
pub trait FileSystem: Send + Sync + fmt::Debug {
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Creates or truncates `path` and writes all of `bytes` (no sync).
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Files and directories directly in `path`, sorted; empty if `path` does not exist.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
    /// Whether `path` is a directory (not following a symbolic link).
    fn is_dir(&self, path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())
    }
    /// The storage redb should use for the database file at `path` (created if absent), or
    /// `None` for redb's own file access, the default.
    fn database_backend(&self, path: &Path) -> io::Result<Option<Box<dyn redb::StorageBackend>>> {
        let _ = path;
        Ok(None)
    }
}

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFileSystem;

impl FileSystem for RealFileSystem {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = File::create(path)?;
        file.write_all(bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        OpenOptions::new().write(true).open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut paths = entries
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<io::Result<Vec<_>>>()?;
        paths.sort();
        Ok(paths)
    }
}

/// The temporary name `write_atomic` writes before renaming: `<path>.tmp`.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` so that `path` is either absent, its previous content, or all of
/// `bytes`: write to `<path>.tmp`, fsync it, rename it over `path`, fsync the parent directory.
/// The parent directory must exist. On failure before the rename the temporary file is removed
/// (best effort; garbage collection removes leftovers).
pub fn write_atomic(fs: &dyn FileSystem, path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = temporary_path(path);
    let written = fs
        .write_new(&temporary, bytes)
        .and_then(|()| fs.sync_file(&temporary))
        .map_err(|err| StorageError::io(&temporary, err))
        .and_then(|()| {
            fs.rename(&temporary, path)
                .map_err(|err| StorageError::io(path, err))
        });
    if let Err(err) = written {
        // Best effort: the error that matters is the one already in hand.
        let _ = fs.remove_file(&temporary);
        return Err(err);
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs.sync_dir(parent)
        .map_err(|err| StorageError::io(parent, err))
}

/// A test seam: forwards to `inner`, but fails the `fail_at`-th mutating operation (counted from
/// 1 over `write_new`, `sync_file`, `rename`, `sync_dir`, `remove_file`) with an
/// [`io::ErrorKind::Other`] error "injected fault". The database backend is `inner`'s, not
/// counted; [`crate::FaultInjector`] counts the database file's writes too.
#[derive(Debug)]
pub struct FailingFileSystem {
    inner: Arc<dyn FileSystem>,
    fail_at: Option<u64>,
    operations: AtomicU64,
}

impl FailingFileSystem {
    pub fn new(inner: Arc<dyn FileSystem>, fail_at: Option<u64>) -> Self {
        FailingFileSystem {
            inner,
            fail_at,
            operations: AtomicU64::new(0),
        }
    }

    /// How many mutating operations were attempted, the failed one included.
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::SeqCst)
    }

    fn attempt(&self) -> io::Result<()> {
        let number = self.operations.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(number) {
            return Err(io::Error::other("injected fault"));
        }
        Ok(())
    }
}

impl FileSystem for FailingFileSystem {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.inner.create_dir_all(path)
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.attempt()?;
        self.inner.write_new(path, bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.attempt()?;
        self.inner.sync_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.attempt()?;
        self.inner.rename(from, to)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.attempt()?;
        self.inner.sync_dir(path)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.attempt()?;
        self.inner.remove_file(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.inner.list_dir(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.inner.is_dir(path)
    }

    fn database_backend(&self, path: &Path) -> io::Result<Option<Box<dyn redb::StorageBackend>>> {
        self.inner.database_backend(path)
    }
}
