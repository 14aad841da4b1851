//! Fault injection for tests. [`FaultInjector`] is a [`FileSystem`] over the real one that also
//! hands [`crate::Database::open_with`] a redb backend over the real database file, and numbers
//! the mutating operations of both in one sequence, so a test can count a workload's operations
//! and then fail each of them in turn. Mutating operations are the file system's `write_new`,
//! `sync_file`, `rename`, `sync_dir` and `remove_file`, and the database file's `write`,
//! `set_len` and `sync_data`.
//!
//! A power cut ([`Fault::PowerCut`]) fails the chosen operation and every later one. The
//! database backend keeps an undo log of the writes since the file's last `sync_data`, and
//! [`FaultInjector::recover`] applies it, leaving the file as the disk held it durably. Segment
//! files are not rolled back: a file not yet renamed into place with its directory synced may
//! be left as is, and garbage collection at open removes whatever no commit references.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use crate::fs::{FileSystem, RealFileSystem};

/// What happens at the chosen operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The operation fails with an [`io::ErrorKind::Other`] error "injected fault"; later
    /// operations succeed.
    Error,
    /// The machine loses power: the operation and every later one fail with an
    /// [`io::ErrorKind::Other`] error "injected power cut" until [`FaultInjector::recover`],
    /// which rolls the database file back to what was last synced.
    PowerCut,
    /// A power cut after which the disk turns out to hold a prefix of the database file's
    /// unsynced writes, its last write possibly cut short at any byte. `seed` picks the prefix.
    TornPowerCut { seed: u64 },
}

/// A [`FileSystem`] over the real one, and a source of database backends over the real file,
/// that fails the `fail_at`-th mutating operation (counted from 1 over both) as `fault` says.
/// Cheap to clone; clones share one count.
///
/// ```
/// use tilefold_storage::{Database, Fault, FaultInjector};
///
/// let dir = std::env::temp_dir().join(format!("tilefold-fault-doctest-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let injector = FaultInjector::new(Some(3), Fault::PowerCut);
/// let opened = Database::open_with(&dir, &injector);
/// assert!(opened.is_err() && injector.operations() >= 3);
/// drop(opened);
/// injector.recover()?;
/// assert!(Database::open(&dir)?.begin_read()?.catalog_names()?.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FaultInjector {
    shared: Arc<Shared>,
}

impl fmt::Debug for FaultInjector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

struct Shared {
    fail_at: Option<u64>,
    fault: Fault,
    operations: AtomicU64,
    /// False from a power cut until [`FaultInjector::recover`].
    powered: AtomicBool,
    /// Database backends handed out and not yet dropped by redb.
    open_backends: AtomicUsize,
    /// Per database file, the undo log of its writes since its last `sync_data`, oldest first.
    journals: Mutex<BTreeMap<PathBuf, Vec<Undo>>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultInjector")
            .field("fail_at", &self.fail_at)
            .field("fault", &self.fault)
            .field("operations", &self.operations.load(Ordering::SeqCst))
            .field("powered", &self.powered.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// How to take back one unsynced change to a database file.
enum Undo {
    /// `write` of `written` bytes at `offset`: the bytes it overwrote (those below `old_len`)
    /// and the file's length before it.
    Write {
        offset: u64,
        written: u64,
        old: Vec<u8>,
        old_len: u64,
    },
    /// `set_len(len)`: the length before and, if it shrank the file, the bytes cut off.
    SetLen {
        len: u64,
        old_len: u64,
        cut: Vec<u8>,
    },
}

impl FaultInjector {
    /// Fails the `fail_at`-th mutating operation as `fault` says; `None` fails nothing (to count
    /// a workload's operations).
    pub fn new(fail_at: Option<u64>, fault: Fault) -> Self {
        FaultInjector {
            shared: Arc::new(Shared {
                fail_at,
                fault,
                operations: AtomicU64::new(0),
                powered: AtomicBool::new(true),
                open_backends: AtomicUsize::new(0),
                journals: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// How many mutating operations were attempted, failed ones included.
    pub fn operations(&self) -> u64 {
        self.shared.operations.load(Ordering::SeqCst)
    }

    /// Restores power after a power cut: rolls every database file back to what its last
    /// `sync_data` made durable (for [`Fault::TornPowerCut`], keeps a prefix of the writes
    /// since), and lets later operations succeed. With [`Fault::Error`] the files are left as
    /// they are. Call it once every database opened through this injector has been dropped;
    /// while one is open it is an error and changes nothing.
    pub fn recover(&self) -> io::Result<()> {
        if self.shared.open_backends.load(Ordering::SeqCst) != 0 {
            return Err(io::Error::other(
                "a database opened through the fault injector is still open",
            ));
        }
        let journals = std::mem::take(&mut *self.shared.journals());
        let mut random = match self.shared.fault {
            Fault::Error => None,
            Fault::PowerCut => Some(None),
            Fault::TornPowerCut { seed } => Some(Some(SplitMix64(seed))),
        };
        if let Some(random) = &mut random {
            for (path, undo) in journals {
                roll_back(&path, &undo, random.as_mut())?;
            }
        }
        self.shared.powered.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Shared {
    /// Numbers one mutating operation and says whether it may go ahead.
    fn attempt(&self) -> io::Result<()> {
        let number = self.operations.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(number) {
            if self.fault == Fault::Error {
                return Err(io::Error::other("injected fault"));
            }
            self.powered.store(false, Ordering::SeqCst);
        }
        if !self.powered.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected power cut"));
        }
        Ok(())
    }

    fn journals(&self) -> MutexGuard<'_, BTreeMap<PathBuf, Vec<Undo>>> {
        self.journals.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FileSystem for FaultInjector {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        RealFileSystem.create_dir_all(path)
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.shared.attempt()?;
        RealFileSystem.write_new(path, bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.shared.attempt()?;
        RealFileSystem.sync_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.shared.attempt()?;
        RealFileSystem.rename(from, to)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.shared.attempt()?;
        RealFileSystem.sync_dir(path)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.shared.attempt()?;
        RealFileSystem.remove_file(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        RealFileSystem.list_dir(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        RealFileSystem.is_dir(path)
    }

    fn database_backend(&self, path: &Path) -> io::Result<Option<Box<dyn StorageBackend>>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        self.shared.open_backends.fetch_add(1, Ordering::SeqCst);
        Ok(Some(Box::new(InjectedBackend {
            file,
            path: path.to_path_buf(),
            shared: Arc::clone(&self.shared),
        })))
    }
}

/// The database file through the fault injector: redb's own file backend (locks included), its
/// mutating operations counted and failed, its unsynced writes journaled.
#[derive(Debug)]
struct InjectedBackend {
    file: FileBackend,
    path: PathBuf,
    shared: Arc<Shared>,
}

impl Drop for InjectedBackend {
    fn drop(&mut self) {
        self.shared.open_backends.fetch_sub(1, Ordering::SeqCst);
    }
}

impl StorageBackend for InjectedBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.shared.attempt()?;
        let mut journals = self.shared.journals();
        let old_len = self.file.len()?;
        let mut cut = Vec::new();
        if len < old_len {
            cut.resize(to_usize(old_len - len)?, 0);
            self.file.read(len, &mut cut)?;
        }
        let undo = Undo::SetLen { len, old_len, cut };
        journals.entry(self.path.clone()).or_default().push(undo);
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.shared.attempt()?;
        // Held across the sync, so no write slips in between the sync and forgetting the log.
        let mut journals = self.shared.journals();
        self.file.sync_data()?;
        journals.remove(&self.path);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.shared.attempt()?;
        let mut journals = self.shared.journals();
        let old_len = self.file.len()?;
        let overwritten = data
            .len()
            .min(to_usize(old_len.saturating_sub(offset)).unwrap_or(usize::MAX));
        let mut old = vec![0; overwritten];
        if !old.is_empty() {
            self.file.read(offset, &mut old)?;
        }
        let undo = Undo::Write {
            offset,
            written: data.len() as u64,
            old,
            old_len,
        };
        journals.entry(self.path.clone()).or_default().push(undo);
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// Takes back the changes in `undo` (oldest first) to the file at `path`, newest first. With
/// `torn`, a random prefix of them stays, the first change taken back possibly only in part.
fn roll_back(path: &Path, undo: &[Undo], torn: Option<&mut SplitMix64>) -> io::Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let (kept, kept_bytes) = match torn {
        None => (0, 0),
        Some(random) => {
            let kept = random.below(undo.len() as u64 + 1);
            let kept_bytes = match undo.get(to_usize(kept)?) {
                Some(Undo::Write { written, .. }) => random.below(*written),
                _ => 0,
            };
            (to_usize(kept)?, kept_bytes)
        }
    };
    for (index, change) in undo.iter().enumerate().skip(kept).rev() {
        let partly = if index == kept { kept_bytes } else { 0 };
        match change {
            Undo::Write {
                offset,
                old,
                old_len,
                ..
            } => {
                // Bytes [offset, offset + partly) of the write reached the disk.
                if let Some(lost) = old.get(to_usize(partly)?..) {
                    write_at(&mut file, offset + partly, lost)?;
                }
                file.set_len((*old_len).max(offset + partly))?;
            }
            Undo::SetLen { len, old_len, cut } => {
                file.set_len(*old_len)?;
                write_at(&mut file, *len, cut)?;
            }
        }
    }
    file.sync_all()
}

fn write_at(file: &mut File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

fn to_usize(value: u64) -> io::Result<usize> {
    usize::try_from(value).map_err(io::Error::other)
}

/// A small deterministic random number generator (SplitMix64), so a torn power cut is
/// reproducible from its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        self.next() % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One change to the database file, as redb would make it.
    enum Change {
        Write(u64, Vec<u8>),
        SetLen(u64),
    }

    /// Syncs `[0; 100]` at 0 in an 8 KiB file, then makes changes that overwrite, shrink and
    /// grow it, partly past its synced end.
    fn unsynced_changes() -> Vec<Change> {
        vec![
            Change::Write(50, vec![2; 200]),
            Change::SetLen(100),
            Change::Write(4_000, vec![3; 10]),
            Change::SetLen(20_000),
            Change::Write(19_990, vec![4; 20]),
            Change::Write(0, vec![5; 30]),
        ]
    }

    fn temporary_file(label: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "tilefold-storage-fault-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        path
    }

    /// Runs the synced setup and `changes` through a fresh backend over `path`; returns the
    /// file's content after the sync and after each change.
    fn run(injector: &FaultInjector, path: &Path, changes: &[Change]) -> Vec<Vec<u8>> {
        let backend = injector.database_backend(path).unwrap().unwrap();
        backend.set_len(8_192).unwrap();
        backend.write(0, &[1; 100]).unwrap();
        backend.sync_data().unwrap();
        let mut contents = vec![std::fs::read(path).unwrap()];
        for change in changes {
            match change {
                Change::Write(offset, bytes) => backend.write(*offset, bytes).unwrap(),
                Change::SetLen(len) => backend.set_len(*len).unwrap(),
            }
            contents.push(std::fs::read(path).unwrap());
        }
        contents
    }

    /// Whether `file` is `before` with a prefix of the change to `after` applied: a write cut
    /// short, which leaves `after`'s bytes below some offset and `before`'s from there on.
    fn between(file: &[u8], before: &[u8], after: &[u8]) -> bool {
        (0..=after.len()).any(|cut| {
            file.len() == before.len().max(cut)
                && file[..cut] == after[..cut]
                && file[cut..] == *before.get(cut..).unwrap_or_default()
        })
    }

    #[test]
    fn a_power_cut_rolls_the_file_back_to_its_last_sync() {
        let path = temporary_file("rollback");
        let injector = FaultInjector::new(None, Fault::PowerCut);
        let contents = run(&injector, &path, &unsynced_changes());
        assert_ne!(contents.last(), contents.first());
        injector.recover().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), contents[0]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_torn_power_cut_keeps_a_prefix_of_the_unsynced_changes() {
        let path = temporary_file("torn");
        let mut cut_short = 0;
        for seed in 0..100 {
            let _ = std::fs::remove_file(&path);
            let injector = FaultInjector::new(None, Fault::TornPowerCut { seed });
            let contents = run(&injector, &path, &unsynced_changes());
            injector.recover().unwrap();
            let file = std::fs::read(&path).unwrap();
            let kept = contents.iter().position(|content| *content == file);
            if kept.is_none() {
                assert!(
                    contents
                        .windows(2)
                        .any(|pair| between(&file, &pair[0], &pair[1])),
                    "seed {seed}: not a prefix of the changes"
                );
                cut_short += 1;
            }
        }
        assert!(cut_short > 0, "no write was ever cut short");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_error_leaves_the_file_as_it_is() {
        let path = temporary_file("error");
        let injector = FaultInjector::new(None, Fault::Error);
        let contents = run(&injector, &path, &unsynced_changes());
        injector.recover().unwrap();
        assert_eq!(Some(&std::fs::read(&path).unwrap()), contents.last());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn operations_fail_from_the_power_cut_until_recover() {
        let path = temporary_file("dead");
        let injector = FaultInjector::new(Some(2), Fault::PowerCut);
        let backend = injector.database_backend(&path).unwrap().unwrap();
        backend.set_len(4_096).unwrap();
        assert!(backend.write(0, &[1; 10]).is_err());
        assert!(backend.sync_data().is_err());
        assert!(backend.set_len(0).is_err());
        assert_eq!(injector.operations(), 4);
        drop(backend);
        injector.recover().unwrap();
        // The unsynced `set_len` is rolled back: the file is empty again.
        assert_eq!(std::fs::read(&path).unwrap(), Vec::<u8>::new());
        let backend = injector.database_backend(&path).unwrap().unwrap();
        backend.write(0, &[1; 10]).unwrap();
        drop(backend);
        std::fs::remove_file(&path).unwrap();
    }
}
