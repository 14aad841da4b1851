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

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{Int64Type, Schema, SchemaRef};
use crossbeam_channel::{Receiver, Sender};

use tilefold_ingest::{IngestError, Role, RowCounts, SourceRows};
use tilefold_query::config::GroupBy;
use tilefold_query::source_query::TIME_COLUMN;

use super::conform::{conform, partition_column};
use super::head::{encode_entry, merge_runs};
use super::topic::{stream_source, topic_name};
use super::{Change, Inner, State, Store};
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
    /// [`Pending::wait`] returns `Ok`.
    pub fn send(&self, request: IngestRequest) -> Result<Pending> {
        self.live().check()?;
        let (reply, acknowledged) = crossbeam_channel::bounded(1);
        self.writer
            .as_ref()
            .ok_or_else(stopped)?
            .send(Job::Ingest(request, reply))
            .map_err(|_| stopped())?;
        Ok(Pending { acknowledged })
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
type BoundFrom = (tilefold_query::config::Source, Vec<String>);

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
    /// Why the store stopped accepting changes.
    failed: Option<String>,
    /// Bound source queries per (GroupBy, source): what they were bound from (the source and the
    /// key columns, all a query depends on), the input schema, and the bound query.
    sources: HashMap<(String, usize), (BoundFrom, SchemaRef, Arc<SourceRows>)>,
    /// Raw schemas of loaded table partitions, by file.
    table_schemas: HashMap<String, SchemaRef>,
}

impl Live {
    pub fn load(state: &State) -> Result<Live> {
        Ok(Live {
            producers: state.read.producers()?.into_iter().collect(),
            next_head: state.heads.entries().map_or(1, |(_, last)| last + 1),
            failed: None,
            sources: HashMap::new(),
            table_schemas: HashMap::new(),
        })
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

type Reply = Sender<Result<IngestReport>>;

enum Job {
    Ingest(IngestRequest, Reply),
}

/// The writer thread and its channel. Dropping it closes the channel, and waits for the thread
/// to finish the requests it has (and a seal under way) and stop.
#[derive(Debug)]
pub(super) struct Writer {
    sender: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(inner: Arc<Inner>) -> Result<Writer> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("tilefold-writer".into())
            .spawn(move || run(inner, receiver))
            .map_err(|e| Error::Request(format!("starting the writer thread: {e}")))?;
        Ok(Writer {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    fn send(&self, job: Job) -> std::result::Result<(), ()> {
        match &self.sender {
            Some(sender) => sender.send(job).map_err(|_| ()),
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

/// The writer thread: one group commit per wake-up, then a seal when the head is due.
fn run(inner: Arc<Inner>, receiver: Receiver<Job>) {
    let store = Store {
        inner,
        writer: None,
    };
    while let Ok(first) = receiver.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (replies, seal) = commit_group(&store, jobs);
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        if seal {
            // A failed seal commit latches the store; the next request reports it.
            let _ = store.compact();
        }
    }
}

/// Rows of one GroupBy waiting in a group, with the newest `ts` so far.
struct Group {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    watermark: Option<i64>,
}

/// Prepares, commits and publishes one group; returns the replies and whether to seal.
fn commit_group(store: &Store, jobs: Vec<Job>) -> (Vec<(Reply, Result<IngestReport>)>, bool) {
    let mut replies = Vec::with_capacity(jobs.len());
    let writer = match store.writer() {
        Ok(writer) => writer,
        Err(err) => {
            let reason = store
                .live()
                .failed
                .clone()
                .unwrap_or_else(|| err.to_string());
            for Job::Ingest(_, reply) in jobs {
                replies.push((reply, Err(Error::Latched(reason.clone()))));
            }
            return (replies, false);
        }
    };
    let state = store.state();
    let now = now_millis();
    let mut pending: BTreeMap<String, Group> = BTreeMap::new();
    let mut producers: HashMap<String, u64> = HashMap::new();
    let mut accepted: Vec<(Reply, IngestReport)> = Vec::new();
    {
        let mut live = store.live();
        for Job::Ingest(request, reply) in jobs {
            if let Some((id, sequence)) = &request.producer {
                let last = producers
                    .get(id)
                    .or_else(|| live.producers.get(id))
                    .copied();
                if last.is_some_and(|last| *sequence <= last) {
                    let report = IngestReport {
                        rows: rows_len(&request.rows),
                        duplicate: true,
                        ..IngestReport::default()
                    };
                    replies.push((reply, Ok(report)));
                    continue;
                }
            }
            match prepare(store, &state, &mut live, &request, now, &mut pending) {
                Ok(report) => {
                    if let Some((id, sequence)) = request.producer {
                        producers.insert(id, sequence);
                    }
                    accepted.push((reply, report));
                }
                Err(err) => replies.push((reply, Err(err))),
            }
        }
    }
    let committed = commit(store, &state, pending, &producers);
    drop(writer);
    let seal = match committed {
        Ok(seal) => {
            let mut live = store.live();
            live.producers.extend(producers);
            replies.extend(accepted.into_iter().map(|(r, report)| (r, Ok(report))));
            seal
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
            false
        }
    };
    (replies, seal)
}

/// Writes the group's rows as one head entry and the producers' sequence numbers in one
/// durable commit, then publishes the state with the new heads. Returns whether the head is
/// due for sealing. A failed commit latches the store.
fn commit(
    store: &Store,
    state: &State,
    pending: BTreeMap<String, Group>,
    producers: &HashMap<String, u64>,
) -> Result<bool> {
    let mut rows: Vec<(String, RecordBatch)> = Vec::new();
    for (name, p) in pending {
        // Each request's rows are sorted already: one merge pass.
        if !p.batches.is_empty() {
            rows.push((name, merge_runs(&p.batches)?));
        }
    }
    if rows.is_empty() && producers.is_empty() {
        return Ok(false);
    }
    let number = store.live().next_head;
    let mut txn = store.inner.db.begin_write()?;
    if !rows.is_empty() {
        let refs: Vec<(&str, &RecordBatch)> = rows.iter().map(|(n, b)| (n.as_str(), b)).collect();
        txn.put_head(number, &encode_entry(&refs)?)?;
    }
    for (id, sequence) in producers {
        txn.put_producer(id, *sequence)?;
    }
    store.commit(txn)?;
    let mut heads = state.heads.clone();
    if !rows.is_empty() {
        store.live().next_head = number + 1;
        heads.add(number, rows)?;
    }
    let due = heads.rows() >= store.inner.options.seal_rows;
    store.publish(Change {
        configs: None,
        tables: None,
        entries: BTreeMap::new(),
        heads: Some(heads),
    })?;
    Ok(due)
}

fn rows_len(rows: &Rows) -> usize {
    match rows {
        Rows::Arrow(batch) => batch.num_rows(),
        Rows::Json(rows) => rows.len(),
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn topic_error(topic: &str, reason: impl Into<String>) -> Error {
    Error::Ingest(IngestError::Topic {
        topic: topic.to_owned(),
        reason: reason.into(),
    })
}

/// Prepares one request's rows for every GroupBy reading its topic and adds them to `pending`.
/// Nothing is added unless every GroupBy accepts the batch.
fn prepare(
    store: &Store,
    state: &State,
    live: &mut Live,
    request: &IngestRequest,
    now: i64,
    pending: &mut BTreeMap<String, Group>,
) -> Result<IngestReport> {
    let topic = topic_name(&request.topic);
    let readers: Vec<(&GroupBy, usize)> = state
        .group_bys
        .values()
        .filter_map(|g| match stream_source(g) {
            Some((index, t)) if t == topic => Some((g, index)),
            _ => None,
        })
        .collect();
    if readers.is_empty() {
        return Err(Error::Ingest(IngestError::UnknownTopic {
            topic: topic.to_owned(),
        }));
    }
    let batch = match &request.rows {
        Rows::Arrow(batch) => batch.clone(),
        Rows::Json(rows) => decode_json(store, state, live, topic, &readers, rows)?,
    };
    let mut report = IngestReport {
        rows: batch.num_rows(),
        ..IngestReport::default()
    };
    let options = &store.inner.options;
    let mut prepared: Vec<(String, RecordBatch, SchemaRef, Option<i64>)> = Vec::new();
    for (group_by, index) in readers {
        let name = group_by.name();
        let key = (name.to_owned(), index);
        let from = (&group_by.sources()[index], group_by.key_columns());
        let rows = match live.sources.get(&key) {
            Some(((source, keys), schema, rows))
                if (source, keys.as_slice()) == from && **schema == *batch.schema() =>
            {
                rows.clone()
            }
            _ => {
                let rows = Arc::new(SourceRows::new(
                    group_by,
                    index,
                    Role::Events,
                    &batch.schema(),
                )?);
                let from = (from.0.clone(), from.1.to_vec());
                live.sources
                    .insert(key, (from, batch.schema(), rows.clone()));
                rows
            }
        };
        if !rows.has_time() {
            return Err(topic_error(
                topic,
                format!("group-by {name}: a topic source needs a timeColumn"),
            ));
        }
        let (rows, mut counts) = rows.prepare(topic, "live", 0, &batch)?;
        // The schema of this GroupBy's stored rows, if it has any.
        let established = pending
            .get(name)
            .map(|p| p.schema.clone())
            .or_else(|| state.heads.get(name).and_then(|h| h.schema()))
            .or_else(|| state.bound.get(name).map(|b| b.schema()));
        let rows = match &established {
            Some(schema) => conform(&rows, schema, &partition_column(group_by))
                .map_err(|reason| topic_error(topic, format!("group-by {name}: {reason}")))?,
            None => {
                // The GroupBy's first rows fix its schema: they must bind its aggregations and
                // keys, or the store could not open them again.
                let bad = |reason: String| topic_error(topic, format!("group-by {name}: {reason}"));
                tilefold_query::evaluate::GroupByEvaluator::new(group_by, &rows.schema())
                    .map_err(|e| bad(e.to_string()))?;
                super::rebuild::key_codec(group_by, &rows.schema())
                    .map_err(|e| bad(e.to_string()))?;
                rows
            }
        };
        let ts = rows
            .column_by_name(TIME_COLUMN)
            .map(|c| c.as_primitive::<Int64Type>().clone());
        let ts = ts.as_ref().map(|t| t.values().as_ref()).unwrap_or(&[]);
        if let Some(&ts) = ts
            .iter()
            .find(|&&t| t > now.saturating_add(options.max_future_skew_ms))
        {
            return Err(Error::Ingest(IngestError::FutureTimestamp {
                topic: topic.to_owned(),
                group_by: name.to_owned(),
                ts,
                now,
                skew_ms: options.max_future_skew_ms,
            }));
        }
        // Lateness is measured against the GroupBy's newest row (stored, unsealed or earlier
        // in this group).
        let bound = state.bound.get(name);
        let stream_from = bound.map_or(i64::MIN, |b| b.entry.stream_from());
        let watermark = [
            pending.get(name).and_then(|p| p.watermark),
            state.heads.get(name).map(|h| h.max_ts()),
            bound.and_then(|b| b.entry.watermark),
        ]
        .into_iter()
        .flatten()
        .max();
        let oldest = match (watermark, options.max_lateness_ms) {
            (Some(w), Some(late)) => w.saturating_sub(late),
            _ => i64::MIN,
        };
        let mut keep = Vec::with_capacity(ts.len());
        for &t in ts {
            if t < stream_from {
                counts.superseded += 1;
                keep.push(false);
            } else if t < oldest {
                counts.late += 1;
                keep.push(false);
            } else {
                keep.push(true);
            }
        }
        let rows = if keep.iter().all(|&k| k) {
            rows
        } else {
            filter_record_batch(&rows, &BooleanArray::from(keep))
                .map_err(|e| topic_error(topic, e.to_string()))?
        };
        counts.kept = rows.num_rows();
        let newest = super::rebuild::ts_range(&rows).1;
        let newest = (rows.num_rows() > 0).then_some(newest);
        report.group_bys.insert(name.to_owned(), counts);
        let schema = established.unwrap_or_else(|| rows.schema());
        prepared.push((name.to_owned(), rows, schema, newest));
    }
    for (name, rows, schema, newest) in prepared {
        let p = pending.entry(name).or_insert_with(|| Group {
            batches: Vec::new(),
            schema,
            watermark: None,
        });
        if rows.num_rows() > 0 {
            p.batches.push(rows);
        }
        p.watermark = p.watermark.max(newest);
    }
    Ok(report)
}

/// Decodes JSON rows against the topic's schema: the raw schema of the table its streaming
/// sources also read, when loaded; else one inferred from the rows.
fn decode_json(
    store: &Store,
    state: &State,
    live: &mut Live,
    topic: &str,
    readers: &[(&GroupBy, usize)],
    rows: &[serde_json::Value],
) -> Result<RecordBatch> {
    for (i, row) in rows.iter().enumerate() {
        if !row.is_object() {
            return Err(topic_error(
                topic,
                format!("row {}: not a JSON object", i + 1),
            ));
        }
    }
    let schema = match table_schema(store, state, live, readers)? {
        Some(schema) => schema,
        None => {
            let inferred = arrow::json::reader::infer_json_schema_from_iterator(
                rows.iter().map(|row| Ok(row.clone())),
            )
            .map_err(|e| topic_error(topic, format!("inferring a schema: {e}")))?;
            Arc::new(inferred)
        }
    };
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| topic_error(topic, e.to_string()))?;
    decoder
        .serialize(rows)
        .map_err(|e| topic_error(topic, e.to_string()))?;
    match decoder
        .flush()
        .map_err(|e| topic_error(topic, e.to_string()))?
    {
        Some(batch) => Ok(batch),
        None => Ok(RecordBatch::new_empty(schema)),
    }
}

/// The raw schema of a loaded table some streaming source of the topic also reads.
fn table_schema(
    store: &Store,
    state: &State,
    live: &mut Live,
    readers: &[(&GroupBy, usize)],
) -> Result<Option<SchemaRef>> {
    for (group_by, index) in readers {
        let Some(tilefold_query::config::Source::Events(source)) = group_by.sources().get(*index)
        else {
            continue;
        };
        let Some(table) = source.table.as_deref().and_then(|t| t.split('/').next()) else {
            continue;
        };
        let Some(file) = state
            .tables
            .get(table)
            .and_then(|t| t.partitions.values().next_back())
        else {
            continue;
        };
        if let Some(schema) = live.table_schemas.get(&file.file) {
            return Ok(Some(schema.clone()));
        }
        let segment = tilefold_storage::Segment::open(&store.inner.dir.join(&file.file))?;
        let schema: SchemaRef = Arc::new(Schema::clone(&segment.batch().schema()));
        live.table_schemas.insert(file.file.clone(), schema.clone());
        return Ok(Some(schema));
    }
    Ok(None)
}
