//! Live ingest (DESIGN.md "Data flow" 2): `store.ingest(topic, rows)` hands its rows to one
//! writer thread through a crossbeam channel. The writer takes every request waiting, prepares
//! each GroupBy's rows (source query, keys, lateness), writes them as one head entry in ONE
//! durable redb commit, publishes the new state and only then acknowledges every request of the
//! group. A fetch issued after `ingest` returned sees the rows (read-your-writes).
//!
//! A failed commit latches the store: every later change fails with [`Error::Latched`] until the
//! store is reopened, which recovers the last committed state from the head (no silent retry of
//! a failed fsync).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use crossbeam_channel::{Receiver, Sender};

use tilefold_ingest::{RowCounts, SourceRows};

use super::head::{encode_entry, merge_runs, HeadChange};
use super::prepare::{prepare_group, Group, Prepared};
use super::queue::{QueueBudget, Queued};
use super::sealer::Sealer;
use super::{Change, Inner, Store};
use crate::{Error, Result};

/// Requests the writer takes into one commit at most.
const MAX_GROUP: usize = 4096;

/// Rows for a topic.
#[derive(Debug, Clone)]
pub enum Rows {
    /// An Arrow batch with the topic's columns (at least those the source queries read).
    Arrow(RecordBatch),
    /// JSON objects, one per row, decoded against the topic's table schema when the table is
    /// loaded, else against a schema inferred from the rows.
    Json(Vec<serde_json::Value>),
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Arrow(batch) => batch.num_rows(),
            Rows::Json(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One batch for a topic, optionally from an idempotent producer.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub topic: String,
    pub rows: Rows,
    /// (producer id, sequence number): a batch whose sequence number the producer already
    /// committed is acknowledged without being applied again.
    pub producer: Option<(String, u64)>,
}

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Input rows.
    pub rows: usize,
    /// The batch repeated a committed sequence number of its producer: nothing was applied.
    pub duplicate: bool,
    /// Per GroupBy reading the topic: rows kept, filtered, rejected as late, superseded.
    pub group_bys: BTreeMap<String, RowCounts>,
}

impl IngestReport {
    /// Rows rejected as late, over every GroupBy.
    pub fn late(&self) -> usize {
        self.group_bys.values().map(|c| c.late).sum()
    }
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.duplicate {
            return write!(f, "{} rows: duplicate batch, not applied", self.rows);
        }
        write!(f, "{} rows", self.rows)?;
        for (name, c) in &self.group_bys {
            write!(f, "; {name}: {} kept", c.kept)?;
            for (n, what) in [
                (c.filtered, "filtered by wheres"),
                (c.null_time, "null time"),
                (c.null_keys, "all keys null"),
                (c.late, "late"),
                (c.superseded, "before the batch end"),
            ] {
                if n > 0 {
                    write!(f, ", {n} {what}")?;
                }
            }
        }
        Ok(())
    }
}

impl Store {
    /// Ingests an Arrow batch into `topic`: every GroupBy whose source reads the topic gets the
    /// rows, durably, before this returns.
    pub fn ingest(&self, topic: &str, batch: RecordBatch) -> Result<IngestReport> {
        self.submit(IngestRequest {
            topic: topic.to_owned(),
            rows: Rows::Arrow(batch),
            producer: None,
        })
    }

    /// Ingests JSON objects (one per row) into `topic`, as [`Store::ingest`] does.
    pub fn ingest_json(&self, topic: &str, rows: Vec<serde_json::Value>) -> Result<IngestReport> {
        self.submit(IngestRequest {
            topic: topic.to_owned(),
            rows: Rows::Json(rows),
            producer: None,
        })
    }

    /// Sends `request` to the writer and waits for its acknowledgement: once this returns
    /// `Ok`, the rows survive a crash and every later read sees them.
    pub fn submit(&self, request: IngestRequest) -> Result<IngestReport> {
        self.send(request)?.wait()
    }

    /// Sends `request` to the writer without waiting: a producer may keep many requests in
    /// flight, and the writer commits all waiting requests together. Nothing is durable until
    /// [`Pending::wait`] returns `Ok`. Waits while the writer's queue holds
    /// `Options::max_queued_rows` rows (back-pressure).
    pub fn send(&self, request: IngestRequest) -> Result<Pending> {
        self.live().check()?;
        let writer = self.writer.as_ref().ok_or_else(stopped)?;
        let queued = writer.budget.acquire(request.rows.len());
        let (reply, acknowledged) = crossbeam_channel::bounded(1);
        writer
            .send(Job::Ingest(request, reply), queued)
            .map_err(|_| stopped())?;
        Ok(Pending { acknowledged })
    }

    /// Rows sent to the live writer and not yet committed.
    pub fn queued_rows(&self) -> usize {
        self.writer.as_ref().map_or(0, |w| w.budget.rows())
    }

    /// The last committed sequence number of `producer`, if it committed any.
    pub fn producer_sequence(&self, producer: &str) -> Option<u64> {
        self.live().producers.get(producer).copied()
    }

    /// Unsealed live rows, over every GroupBy.
    pub fn head_rows(&self) -> usize {
        self.state().heads.rows()
    }
}

/// What a bound source query depends on: the source and the GroupBy's key columns.
pub(super) type BoundFrom = (tilefold_query::config::Source, Vec<String>);

/// An ingest sent to the writer and not yet acknowledged.
#[derive(Debug)]
#[must_use = "an ingest is durable only once `wait` returns Ok"]
pub struct Pending {
    acknowledged: Receiver<Result<IngestReport>>,
}

impl Pending {
    /// Waits for the commit of the request: `Ok` once it is durable and visible to reads.
    pub fn wait(self) -> Result<IngestReport> {
        self.acknowledged.recv().map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Request("the live writer has stopped".into())
}

/// The live writer's state, guarded by `Inner::live`.
#[derive(Debug)]
pub(super) struct Live {
    pub producers: HashMap<String, u64>,
    pub next_head: u64,
    /// `tilefold.redb` holds head entries written before `head.redb` existed: the next seal
    /// removes them.
    pub legacy_head: bool,
    /// Why the store stopped accepting changes.
    failed: Option<String>,
    /// Bound source queries per (GroupBy, source): what they were bound from (the source and the
    /// key columns, all a query depends on), the input schema, and the bound query.
    pub(super) sources: HashMap<(String, usize), (BoundFrom, SchemaRef, Arc<SourceRows>)>,
    /// Raw schemas of loaded table partitions, by file.
    pub(super) table_schemas: HashMap<String, SchemaRef>,
}

impl Live {
    /// The writer's state at open: each producer's last sequence number, the next head entry.
    pub fn new(producers: HashMap<String, u64>, next_head: u64, legacy_head: bool) -> Live {
        Live {
            producers,
            next_head,
            legacy_head,
            failed: None,
            sources: HashMap::new(),
            table_schemas: HashMap::new(),
        }
    }

    pub fn check(&self) -> Result<()> {
        match &self.failed {
            Some(reason) => Err(Error::Latched(reason.clone())),
            None => Ok(()),
        }
    }

    pub fn latch(&mut self, err: &Error) {
        if self.failed.is_none() {
            self.failed = Some(err.to_string());
        }
    }
}

pub(super) type Reply = Sender<Result<IngestReport>>;

enum Job {
    Ingest(IngestRequest, Reply),
}

/// The writer thread and its channel. Dropping it closes the channel, and waits for the thread
/// to finish the requests it has (and a seal under way) and stop.
#[derive(Debug)]
pub(super) struct Writer {
    sender: Option<Sender<(Job, Queued)>>,
    thread: Option<JoinHandle<()>>,
    budget: Arc<QueueBudget>,
}

impl Writer {
    pub fn start(inner: Arc<Inner>) -> Result<Writer> {
        let budget = QueueBudget::new(inner.options.max_queued_rows);
        // Unbounded: the budget bounds what waits in it.
        let (sender, receiver) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("tilefold-writer".into())
            .spawn(move || run(inner, receiver))
            .map_err(|e| Error::Request(format!("starting the writer thread: {e}")))?;
        Ok(Writer {
            sender: Some(sender),
            thread: Some(thread),
            budget,
        })
    }

    fn send(&self, job: Job, queued: Queued) -> std::result::Result<(), ()> {
        match &self.sender {
            Some(sender) => sender.send((job, queued)).map_err(|_| ()),
            None => Err(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Job")
    }
}

/// The writer thread: one group commit per wake-up. A due seal runs on the seal thread
/// ([`Sealer`]), so that the writer keeps committing live rows meanwhile.
fn run(inner: Arc<Inner>, receiver: Receiver<(Job, Queued)>) {
    let store = Store {
        inner,
        writer: None,
    };
    let sealer = Sealer::start(&store);
    while let Ok((first, queued)) = receiver.recv() {
        let mut jobs = vec![first];
        // The group's rows stay counted in the queue until it is committed and acknowledged.
        let mut rows = vec![queued];
        while jobs.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok((job, queued)) => {
                    jobs.push(job);
                    rows.push(queued);
                }
                Err(_) => break,
            }
        }
        let (replies, added) = commit_group(&store, jobs);
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        drop(rows);
        if added > 0 {
            sealer.after_commit(added);
        }
    }
}

/// Prepares, commits and publishes one group; returns the replies and the head rows added.
fn commit_group(store: &Store, jobs: Vec<Job>) -> (Vec<(Reply, Result<IngestReport>)>, usize) {
    let requests: Vec<(IngestRequest, Reply)> = jobs
        .into_iter()
        .map(|Job::Ingest(request, reply)| (request, reply))
        .collect();
    let writer = match store.writer() {
        Ok(writer) => writer,
        Err(err) => {
            let reason = store
                .live()
                .failed
                .clone()
                .unwrap_or_else(|| err.to_string());
            let replies = requests
                .into_iter()
                .map(|(_, reply)| (reply, Err(Error::Latched(reason.clone()))))
                .collect();
            return (replies, 0);
        }
    };
    let state = store.state();
    let prepared = prepare_group(store, &state, &mut store.live(), requests, now_millis());
    let Prepared {
        mut replies,
        accepted,
        producers,
        pending,
    } = prepared;
    let committed = commit(store, pending, &producers);
    drop(writer);
    let added = match committed {
        Ok(added) => {
            let mut live = store.live();
            live.producers.extend(producers);
            replies.extend(accepted.into_iter().map(|(r, report)| (r, Ok(report))));
            added
        }
        Err(err) => {
            // A failed commit latched the store; anything else failed before writing.
            let latched = store.live().failed.clone();
            let message = err.to_string();
            for (reply, _) in accepted {
                let err = match &latched {
                    Some(reason) => Error::Latched(reason.clone()),
                    None => Error::Request(message.clone()),
                };
                replies.push((reply, Err(err)));
            }
            0
        }
    };
    (replies, added)
}

/// Writes the group's rows as one head entry and the producers' sequence numbers in one
/// durable commit of `head.redb`, then publishes the state with the new heads. Returns the head
/// rows added. A failed commit latches the store.
fn commit(
    store: &Store,
    pending: BTreeMap<String, Group>,
    producers: &HashMap<String, u64>,
) -> Result<usize> {
    let mut rows: Vec<(String, RecordBatch)> = Vec::new();
    for (name, p) in pending {
        // Each request's rows are sorted already: one merge pass.
        if !p.batches.is_empty() {
            rows.push((name, merge_runs(&p.batches)?));
        }
    }
    if rows.is_empty() && producers.is_empty() {
        return Ok(0);
    }
    let number = store.live().next_head;
    let mut txn = store.inner.head_db.begin_write()?;
    if !rows.is_empty() {
        let refs: Vec<(&str, &RecordBatch)> = rows.iter().map(|(n, b)| (n.as_str(), b)).collect();
        txn.put_head(number, &encode_entry(&refs)?)?;
    }
    for (id, sequence) in producers {
        txn.put_producer(id, *sequence)?;
    }
    store.commit(txn)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let added = rows.iter().map(|(_, b)| b.num_rows()).sum();
    store.live().next_head = number + 1;
    store.publish(Change::heads(HeadChange::Add(number, rows)))?;
    Ok(added)
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
