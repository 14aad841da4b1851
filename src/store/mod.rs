//! The store: one directory, opened by one writing process (DESIGN.md "On disk").
//!
//! - `tilefold.redb` holds configs, the catalog ([`catalog`]) and tiles.
//! - `head.redb` holds live rows not yet sealed and the producers' sequence numbers ([`head`]),
//!   so that live ingest commits while a seal writes `tilefold.redb`.
//! - `segments/tables/<table>/<id>.arrow` hold loaded tables' raw rows, one file per partition.
//! - `segments/group_bys/<group-by>/<id>.arrow` hold each GroupBy's prepared rows (source query
//!   applied, sorted by key and time), one file per source table partition.
//!
//! Every change writes its files first (temp, fsync, rename, fsync dir), then commits one redb
//! transaction that references them; files no commit references are removed at open. A seal
//! then also removes the head entries it sealed from `head.redb`, in a second commit that a
//! crash may skip (`seal.rs`).

mod backfill;
mod bound;
mod catalog;
mod check;
mod conform;
mod fetch;
mod head;
mod ingest;
mod key_index;
mod load;
mod partial_day;
mod prepare;
mod queue;
mod rebuild;
mod seal;
mod sealer;
mod stream_merge;
mod tile_write;
mod topic;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tilefold_query::config::{ConfigSet, GroupBy, Join};
use tilefold_query::naming::clean_name;
use tilefold_storage::{
    remove_unreferenced, Database, FileSystem, ReadTxn, RealFileSystem, Segment, StoreLock,
};

use crate::{Error, Result};
use bound::{BoundGroupBy, OpenSegment};
use catalog::{GroupByEntry, TableEntry};
use head::{Head, HeadChange, Heads};

pub use backfill::{Backfill, BackfillOptions, BackfillReport, Left};
pub use check::CheckReport;
pub use fetch::Features;
pub use ingest::{IngestReport, IngestRequest, Pending, Rows};
pub use load::LoadReport;
pub use seal::SealReport;

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Every file write goes through this (fault-injection tests replace it).
    pub fs: Arc<dyn FileSystem>,
    /// Live rows older than their GroupBy's newest row by more than this many milliseconds are
    /// rejected and counted as late. `None` (the default): any lateness is accepted.
    pub max_lateness_ms: Option<i64>,
    /// A live row more than this many milliseconds ahead of the wall clock rejects its batch.
    /// Default: 10 minutes.
    pub max_future_skew_ms: i64,
    /// The writer seals the head into segments once it holds this many rows, on a seal thread
    /// while it goes on committing. Past twice this many unsealed rows it paces its commits to
    /// the seal rate, past four times it waits for seals (~150 bytes of memory per head row).
    /// Default: 1,000,000.
    pub seal_rows: usize,
    /// The most memory redb's page cache may hold. Default: 1 GiB. Fetch reads tiles through
    /// it: a store whose database file is larger than the cache pays a file read (a system call
    /// into the OS page cache) for every page it misses.
    pub cache_bytes: usize,
    /// [`Store::send`] waits while this many rows wait for the writer (a request larger than
    /// this is let in alone), so producers faster than the writer cannot grow its queue without
    /// bound. Default: 1,000,000.
    pub max_queued_rows: usize,
    /// After this long with no seal asked for, the seal thread merges stream segments that
    /// seals leave alone (eight full-size seals' segments into one, [`Store::merge_segments`]),
    /// one run per GroupBy at a time, until none is left. `None`: only when asked. Default:
    /// 2 seconds.
    pub merge_when_idle: Option<std::time::Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fs: Arc::new(RealFileSystem),
            max_lateness_ms: None,
            max_future_skew_ms: 10 * 60 * 1000,
            seal_rows: 1_000_000,
            cache_bytes: tilefold_storage::DEFAULT_CACHE_BYTES,
            max_queued_rows: 1_000_000,
            merge_when_idle: Some(std::time::Duration::from_secs(2)),
        }
    }
}

/// An open store. Cheap to clone; `Send + Sync`. Readers never wait for the writer: each call
/// works on the state of the last commit.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
    /// The live writer thread; `None` in the writer's own handle. When the last handle of the
    /// application goes, the thread finishes its work and stops, and the store closes (and
    /// unlocks) before that drop returns.
    writer: Option<Arc<ingest::Writer>>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    db: Database,
    /// `head.redb`: live rows not yet sealed, producers.
    head_db: Database,
    fs: Arc<dyn FileSystem>,
    options: Options,
    state: RwLock<Arc<State>>,
    /// Serialises changes of `tilefold.redb` (apply, load, sealing); taken before `writer`.
    changes: Mutex<()>,
    /// Serialises changes of `head.redb` (live ingest; apply and load hold it too, so that no
    /// rows arrive while configs or batch ends change).
    writer: Mutex<()>,
    /// Serialises publishing: each new state is made from the one before.
    publish: Mutex<()>,
    /// The live writer's own state: producers, the next head entry, the latch.
    live: Mutex<ingest::Live>,
    _lock: StoreLock,
}

/// What one commit changed, for [`Store::publish`].
pub(super) struct Change {
    /// New configs (`None`: unchanged).
    pub configs: Option<(BTreeMap<String, GroupBy>, BTreeMap<String, Join>)>,
    /// New loaded tables (`None`: unchanged).
    pub tables: Option<BTreeMap<String, TableEntry>>,
    /// New catalog entries of the GroupBys whose rows changed (`None`: none left).
    pub entries: BTreeMap<String, Option<GroupByEntry>>,
    /// How the unsealed rows and head entries change.
    pub heads: HeadChange,
}

impl Change {
    /// A change of the heads alone (a commit of `head.redb`, or a seal's freeze or thaw).
    fn heads(heads: HeadChange) -> Change {
        Change {
            configs: None,
            tables: None,
            entries: BTreeMap::new(),
            heads,
        }
    }
}

/// One committed state: configs, catalog, bound GroupBys and the read transaction of that commit.
#[derive(Debug)]
struct State {
    group_bys: Arc<BTreeMap<String, GroupBy>>,
    joins: Arc<BTreeMap<String, Join>>,
    tables: Arc<BTreeMap<String, TableEntry>>,
    bound: BTreeMap<String, Arc<BoundGroupBy>>,
    /// Joins prepared for fetch: column names, derivations compiled.
    online: BTreeMap<String, Arc<fetch::OnlineJoin>>,
    /// Unsealed live rows per GroupBy, and the numbers of the head entries holding them.
    heads: Heads,
    /// A snapshot of `tilefold.redb` at the commit of the catalog above. A live commit (of
    /// `head.redb` only) keeps it: a seal's tiles must not be seen before its catalog is.
    read: Arc<ReadTxn>,
}

impl Store {
    /// Opens (or creates) the store in `dir`. Fails with [`Error::Storage`] if another process
    /// has it open.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(dir, Arc::new(RealFileSystem))
    }

    /// Opens the store with file writes going through `fs` (fault-injection tests).
    pub fn open_with(dir: impl AsRef<Path>, fs: Arc<dyn FileSystem>) -> Result<Store> {
        Store::open_with_options(
            dir,
            Options {
                fs,
                ..Options::default()
            },
        )
    }

    /// Opens the store with `options`. Live rows acknowledged before a crash are replayed from
    /// the head.
    pub fn open_with_options(dir: impl AsRef<Path>, mut options: Options) -> Result<Store> {
        // 0 would mean a seal after every commit, which 1 does too.
        options.seal_rows = options.seal_rows.max(1);
        let dir = dir.as_ref().to_owned();
        let fs = options.fs.clone();
        fs.create_dir_all(&dir).map_err(Error::io(&dir))?;
        let lock = StoreLock::acquire(&dir)?;
        let db = Database::open_with_cache(&dir, fs.as_ref(), options.cache_bytes)?;
        let head_db = Database::open_head(&dir, fs.as_ref())?;
        let (state, live) = load_state(&dir, &db, &head_db)?;
        // Files no commit references: left by an interrupted change.
        let referenced: HashSet<PathBuf> = referenced_files(&dir, &state);
        remove_unreferenced(fs.as_ref(), &dir.join("segments"), &referenced)?;
        let inner = Arc::new(Inner {
            dir,
            db,
            head_db,
            fs,
            options,
            state: RwLock::new(Arc::new(state)),
            changes: Mutex::new(()),
            writer: Mutex::new(()),
            publish: Mutex::new(()),
            live: Mutex::new(live),
            _lock: lock,
        });
        let writer = ingest::Writer::start(inner.clone())?;
        Ok(Store {
            inner,
            writer: Some(Arc::new(writer)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// Registers configs: every GroupBy, and every Join with the GroupBys of its parts. GroupBys
    /// whose tables are already loaded are prepared from them.
    pub fn apply(&self, configs: &ConfigSet) -> Result<()> {
        let _changes = self.changes()?;
        let _writer = self.writer()?;
        self.seal_locked()?;
        let state = self.state();
        let mut group_bys = BTreeMap::clone(&state.group_bys);
        let mut changed = Vec::new();
        let mut register = |group_by: &GroupBy, from: &str| -> Result<()> {
            if let Some(existing) = group_bys.get(group_by.name()) {
                if existing == group_by {
                    return Ok(());
                }
                if !same_semantics(existing, group_by)
                    && !configs.group_bys.contains_key(group_by.name())
                {
                    return Err(Error::Config(
                        tilefold_query::config::ConfigError::Invalid {
                            config: from.to_owned(),
                            field: "joinParts".into(),
                            reason: format!(
                                "group-by {} differs from the registered one with that name",
                                group_by.name()
                            ),
                        },
                    ));
                }
            }
            group_bys.insert(group_by.name().to_owned(), group_by.clone());
            changed.push(group_by.name().to_owned());
            Ok(())
        };
        for group_by in configs.group_bys.values() {
            register(group_by, group_by.name())?;
        }
        for join in configs.joins.values() {
            for part in &join.join_parts {
                if !configs.group_bys.contains_key(part.group_by.name()) {
                    register(&part.group_by, join.name())?;
                }
            }
        }
        let mut joins = BTreeMap::clone(&state.joins);
        for join in configs.joins.values() {
            joins.insert(join.name().to_owned(), join.clone());
        }
        let mut txn = self.inner.db.begin_write()?;
        for name in &changed {
            txn.put_config(name, &group_bys[name].to_json_string())?;
        }
        for join in configs.joins.values() {
            txn.put_config(join.name(), &join.to_json_string())?;
        }
        let mut work = rebuild::Work::new(self, &state, &mut txn)?;
        for name in &changed {
            let config = &group_bys[name];
            if state
                .group_bys
                .get(name)
                .is_some_and(|old| old.sources != config.sources)
            {
                work.forget_streams.insert(name.clone());
            }
            work.rebuild(config, None)?;
        }
        let (entries, obsolete) = work.finish()?;
        self.commit(txn)?;
        self.publish(Change {
            configs: Some((group_bys, joins)),
            tables: None,
            entries,
            heads: HeadChange::Keep,
        })?;
        self.remove_files(&obsolete);
        Ok(())
    }

    /// The names of the registered GroupBys and Joins.
    pub fn config_names(&self) -> (Vec<String>, Vec<String>) {
        let state = self.state();
        (
            state.group_bys.keys().cloned().collect(),
            state.joins.keys().cloned().collect(),
        )
    }

    fn state(&self) -> Arc<State> {
        match self.inner.state.read() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The right to change `tilefold.redb`; [`Error::Latched`] after a failed commit.
    fn changes(&self) -> Result<MutexGuard<'_, ()>> {
        let guard = lock(&self.inner.changes);
        self.live().check()?;
        Ok(guard)
    }

    /// The right to change `head.redb`; [`Error::Latched`] after a failed commit.
    fn writer(&self) -> Result<MutexGuard<'_, ()>> {
        let guard = lock(&self.inner.writer);
        self.live().check()?;
        Ok(guard)
    }

    fn live(&self) -> MutexGuard<'_, ingest::Live> {
        lock(&self.inner.live)
    }

    /// Commits `txn`; a failure latches the store (no silent retry of a failed fsync).
    fn commit(&self, txn: tilefold_storage::WriteTxn) -> Result<()> {
        txn.commit().map_err(|err| {
            let err = Error::from(err);
            self.live().latch(&err);
            err
        })
    }

    /// Installs the state of a new commit: `entries` replace the GroupBys' catalog entries,
    /// `heads` changes the unsealed rows and the head entries holding them. A commit that
    /// cannot be published (its segments do not open) latches the store: what is durable would
    /// not be what reads see; reopening recovers it.
    fn publish(&self, change: Change) -> Result<()> {
        self.install(change)
            .inspect_err(|err| self.live().latch(err))
    }

    fn install(&self, change: Change) -> Result<()> {
        let Change {
            configs,
            tables,
            entries,
            heads,
        } = change;
        let _publishing = lock(&self.inner.publish);
        let old = self.state();
        let configs_changed = configs.is_some();
        // Only a commit of `tilefold.redb` changes configs, tables or entries.
        let renew_read = configs_changed || tables.is_some() || !entries.is_empty();
        let (group_bys, joins) = match configs {
            Some((group_bys, joins)) => (Arc::new(group_bys), Arc::new(joins)),
            None => (old.group_bys.clone(), old.joins.clone()),
        };
        let tables = tables.map_or_else(|| old.tables.clone(), Arc::new);
        let heads = old.heads.apply(heads)?;
        let mut bound = old.bound.clone();
        for (name, entry) in entries {
            let before = bound.remove(&name);
            if let (Some(entry), Some(config)) = (entry, group_bys.get(&name)) {
                let head = heads.get(&name);
                if let Some(b) = bind(&self.inner.dir, config, entry, head, before.as_deref())? {
                    bound.insert(name, Arc::new(b));
                }
            }
        }
        bind_heads(&self.inner.dir, &group_bys, &heads, &mut bound)?;
        let online = if bound.len() == old.bound.len()
            && bound
                .iter()
                .zip(&old.bound)
                .all(|(a, b)| Arc::ptr_eq(a.1, b.1))
            && !configs_changed
        {
            old.online.clone()
        } else {
            online_joins(&joins, &bound)
        };
        let state = State {
            online,
            group_bys,
            joins,
            tables,
            bound,
            heads,
            read: if renew_read {
                Arc::new(self.inner.db.begin_read()?)
            } else {
                old.read.clone()
            },
        };
        match self.inner.state.write() {
            Ok(mut s) => *s = Arc::new(state),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(state),
        }
        Ok(())
    }

    fn remove_files(&self, files: &[PathBuf]) {
        for file in files {
            // Best effort: a file left behind is removed at the next open.
            let _ = self.inner.fs.remove_file(file);
        }
    }

    /// Resolves a GroupBy name given as `team.name.v1`, `team/name.v1` or its clean name.
    fn group_by_name(state: &State, name: &str) -> Option<String> {
        let dotted = name.replacen('/', ".", 1);
        if state.group_bys.contains_key(&dotted) {
            return Some(dotted);
        }
        let clean = clean_name(name);
        state
            .group_bys
            .keys()
            .find(|n| clean_name(n) == clean)
            .cloned()
    }

    fn join_name(state: &State, name: &str) -> Option<String> {
        let dotted = name.replacen('/', ".", 1);
        state.joins.contains_key(&dotted).then_some(dotted)
    }
}

/// Locks `mutex`; a poisoned lock only means a panic elsewhere while it was held, and what it
/// guards stays valid.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Two GroupBys compute the same values (metadata aside).
fn same_semantics(a: &GroupBy, b: &GroupBy) -> bool {
    a.sources == b.sources
        && a.key_columns == b.key_columns
        && a.aggregations == b.aggregations
        && a.accuracy() == b.accuracy()
        && a.derivations == b.derivations
}

/// The state of the last commit, and the live writer's state.
fn load_state(dir: &Path, db: &Database, head_db: &Database) -> Result<(State, ingest::Live)> {
    let read = db.begin_read()?;
    let mut group_bys = BTreeMap::new();
    let mut joins = BTreeMap::new();
    for (name, json) in read.configs()? {
        match tilefold_query::config::Config::from_json_str(&json, None)? {
            tilefold_query::config::Config::GroupBy(g) => {
                group_bys.insert(name, g);
            }
            tilefold_query::config::Config::Join(j) => {
                joins.insert(name, *j);
            }
            tilefold_query::config::Config::StagingQuery(_) => {}
        }
    }
    let mut tables = BTreeMap::new();
    let mut bound = BTreeMap::new();
    for key in read.catalog_names()? {
        let Some(bytes) = read.catalog(&key)? else {
            continue;
        };
        let corrupted = |e: serde_json::Error| {
            Error::Storage(tilefold_storage::StorageError::Corrupted {
                what: format!("catalog entry {key}"),
                detail: e.to_string(),
            })
        };
        if let Some(table) = key.strip_prefix("table/") {
            let entry: TableEntry = serde_json::from_slice(&bytes).map_err(corrupted)?;
            tables.insert(table.to_owned(), entry);
        } else if let Some(name) = key.strip_prefix("group_by/") {
            let entry: GroupByEntry = serde_json::from_slice(&bytes).map_err(corrupted)?;
            if let Some(config) = group_bys.get(name) {
                if let Some(b) = bind(dir, config, entry, None, None)? {
                    bound.insert(name.to_owned(), Arc::new(b));
                }
            }
        }
    }
    // Live rows acknowledged but not yet sealed: replayed from the head, in commit order. A
    // store written before `head.redb` existed keeps its head in `tilefold.redb`.
    let head_read = head_db.begin_read()?;
    let sealed_through = read.sealed_through()?;
    let mut entries: BTreeMap<u64, Vec<u8>> = read.head(sealed_through)?.into_iter().collect();
    let legacy_head = !entries.is_empty();
    entries.extend(head_read.head(sealed_through)?);
    let mut heads = Heads::default();
    for (number, bytes) in &entries {
        let mut rows = head::decode_entry(*number, bytes)?;
        rows.retain(|(name, _)| group_bys.contains_key(name));
        heads.add(*number, rows)?;
    }
    bind_heads(dir, &group_bys, &heads, &mut bound)?;
    let mut producers: HashMap<String, u64> = read.producers()?.into_iter().collect();
    for (id, sequence) in head_read.producers()? {
        let last = producers.entry(id).or_default();
        *last = (*last).max(sequence);
    }
    // Numbers are never reused, not even those of sealed entries already removed.
    let next_head = entries
        .keys()
        .last()
        .map_or(0, |&last| last)
        .max(sealed_through)
        + 1;
    let live = ingest::Live::new(producers, next_head, legacy_head);
    let state = State {
        online: online_joins(&joins, &bound),
        group_bys: Arc::new(group_bys),
        joins: Arc::new(joins),
        tables: Arc::new(tables),
        bound,
        heads,
        read: Arc::new(read),
    };
    Ok((state, live))
}

/// Binds GroupBys that have unsealed rows but no segments yet, over their head's schema.
fn bind_heads(
    dir: &Path,
    group_bys: &BTreeMap<String, GroupBy>,
    heads: &Heads,
    bound: &mut BTreeMap<String, Arc<BoundGroupBy>>,
) -> Result<()> {
    for (name, head) in heads.iter() {
        if bound.contains_key(name) {
            continue;
        }
        let Some(config) = group_bys.get(name) else {
            continue;
        };
        let mut entry = GroupByEntry::empty();
        entry.stream_source = topic::stream_source(config).map(|(i, _)| i);
        if let Some(b) = bind(dir, config, entry, Some(head), None)? {
            bound.insert(name.clone(), Arc::new(b));
        }
    }
    Ok(())
}

fn online_joins(
    joins: &BTreeMap<String, Join>,
    bound: &BTreeMap<String, Arc<BoundGroupBy>>,
) -> BTreeMap<String, Arc<fetch::OnlineJoin>> {
    joins
        .iter()
        .map(|(name, join)| {
            (
                name.clone(),
                Arc::new(fetch::OnlineJoin::compile(join, bound)),
            )
        })
        .collect()
}

fn referenced_files(dir: &Path, state: &State) -> HashSet<PathBuf> {
    let mut files = HashSet::new();
    for table in state.tables.values() {
        files.extend(table.partitions.values().map(|p| dir.join(&p.file)));
    }
    for bound in state.bound.values() {
        files.extend(bound.entry.segments.iter().map(|s| dir.join(&s.file)));
    }
    files
}

/// Opens a GroupBy's segments and binds its evaluator to their schema (or its head's, without
/// segments); `None` without either. Segments `before` (the GroupBy as bound until now) has open
/// are shared, not opened again: segment files never change, and a live GroupBy gains one
/// segment a seal.
fn bind(
    dir: &Path,
    config: &GroupBy,
    entry: GroupByEntry,
    head: Option<&Head>,
    before: Option<&BoundGroupBy>,
) -> Result<Option<BoundGroupBy>> {
    let open: HashMap<&str, &OpenSegment> = before.map(BoundGroupBy::segments).unwrap_or_default();
    let segments = entry
        .segments
        .iter()
        .map(|s| match open.get(s.file.as_str()) {
            Some(&segment) => Ok(segment.clone()),
            None => {
                let segment = OpenSegment::new(Segment::open(&dir.join(&s.file))?);
                // A segment a seal just wrote, of a GroupBy that fetches read: its key table is
                // built here, on the thread that publishes the seal, not by the first fetch after
                // it. Without fetches no table is built (they cost memory per distinct key).
                if s.stream && before.is_some_and(BoundGroupBy::fetched) {
                    segment.index_keys();
                }
                Ok(segment)
            }
        })
        .collect::<Result<Vec<_>, tilefold_storage::StorageError>>()?;
    let schema = match (segments.first(), head.and_then(|h| h.schema())) {
        (Some(open), _) => open.segment.batch().schema(),
        (None, Some(schema)) => schema,
        (None, None) => return Ok(None),
    };
    let evaluator = tilefold_query::evaluate::GroupByEvaluator::new(config, &schema)?;
    let keys = rebuild::key_codec(config, &schema)?;
    let derivations = fetch::group_by_derivations(config, &evaluator, &keys)?;
    Ok(Some(BoundGroupBy::new(
        config.clone(),
        entry,
        evaluator,
        keys,
        derivations,
        segments,
        schema,
    )))
}
