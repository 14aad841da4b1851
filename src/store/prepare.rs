//! The writer's preparation of a group of ingest requests: each GroupBy reading a request's
//! topic gets the rows through its source query, checked against its stored schema, lateness
//! and future-time bounds.
//!
//! Consecutive requests of one topic with one schema are applied together: their rows are
//! concatenated and every source query runs once, with each row traced back to its request so
//! that every request still gets its own counts and the lateness bound of its place in the
//! group. If the rows of such a run fail anywhere, its requests are prepared one by one again,
//! so that only the failing request is rejected, with its own error.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::{Int64Type, Schema, SchemaRef};

use tilefold_ingest::{IngestError, Role, RowCounts, SourceRows};
use tilefold_query::config::GroupBy;
use tilefold_query::source_query::{Fate, TIME_COLUMN};

use super::conform::{conform, partition_column};
use super::ingest::{IngestReport, IngestRequest, Live, Reply, Rows};
use super::topic::{stream_source, topic_name};
use super::{State, Store};
use crate::{Error, Result};

/// Rows of one GroupBy waiting in a group, with the newest `ts` so far.
pub(super) struct Group {
    pub batches: Vec<RecordBatch>,
    pub schema: SchemaRef,
    pub watermark: Option<i64>,
}

/// What preparing a group's requests gave: replies to send now (duplicates and rejected
/// requests), requests accepted into the commit with their reports, and the sequence numbers
/// the commit records.
#[derive(Default)]
pub(super) struct Prepared {
    pub replies: Vec<(Reply, Result<IngestReport>)>,
    pub accepted: Vec<(Reply, IngestReport)>,
    pub producers: HashMap<String, u64>,
    pub pending: BTreeMap<String, Group>,
}

/// A decoded request waiting in a run.
struct Member {
    request: IngestRequest,
    reply: Reply,
    batch: RecordBatch,
}

/// Consecutive requests of one topic whose rows have one schema.
struct Run {
    topic: String,
    schema: SchemaRef,
    members: Vec<Member>,
}

/// Prepares `requests` in order into `prepared`.
pub(super) fn prepare_group(
    store: &Store,
    state: &State,
    live: &mut Live,
    requests: Vec<(IngestRequest, Reply)>,
    now: i64,
) -> Prepared {
    let mut prepared = Prepared::default();
    let mut run: Option<Run> = None;
    for (request, reply) in requests {
        // Whether a request repeats a sequence number depends on whether the run's requests
        // are accepted: prepare them first (retries are rare).
        if let Some(r) = run.take_if(|r| r.repeated_by(&request)) {
            r.flush(store, state, live, now, &mut prepared);
        }
        if is_duplicate(&request, &prepared.producers, live) {
            prepared.replies.push((reply, Ok(duplicate(&request))));
            continue;
        }
        let topic = topic_name(&request.topic).to_owned();
        let batch = match readers(state, &topic)
            .and_then(|readers| decode(store, state, live, &topic, &readers, &request.rows))
        {
            Ok(batch) => batch,
            Err(err) => {
                prepared.replies.push((reply, Err(err)));
                continue;
            }
        };
        if let Some(r) = run.take_if(|r| r.topic != topic || r.schema != batch.schema()) {
            r.flush(store, state, live, now, &mut prepared);
        }
        run.get_or_insert_with(|| Run {
            topic,
            schema: batch.schema(),
            members: Vec::new(),
        })
        .members
        .push(Member {
            request,
            reply,
            batch,
        });
    }
    if let Some(r) = run {
        r.flush(store, state, live, now, &mut prepared);
    }
    prepared
}

impl Run {
    /// Whether `request` repeats the sequence number of one of the run's requests.
    fn repeated_by(&self, request: &IngestRequest) -> bool {
        let Some((id, sequence)) = &request.producer else {
            return false;
        };
        self.members.iter().any(|m| {
            m.request
                .producer
                .as_ref()
                .is_some_and(|(i, s)| i == id && sequence <= s)
        })
    }

    /// Prepares the run's rows at once; if that fails, each request alone.
    fn flush(self, store: &Store, state: &State, live: &mut Live, now: i64, out: &mut Prepared) {
        let Run {
            topic,
            schema,
            members,
        } = self;
        let mut prepare = |rows: &RecordBatch, offsets: &[usize], pending: &mut _| {
            let readers = readers(state, &topic)?;
            prepare_rows(
                store, state, live, &topic, &readers, rows, offsets, now, pending,
            )
        };
        if members.len() > 1 {
            let mut offsets = vec![0];
            for m in &members {
                offsets.push(offsets[offsets.len() - 1] + m.batch.num_rows());
            }
            let together = concat_batches(&schema, members.iter().map(|m| &m.batch))
                .map_err(|e| topic_error(&topic, e.to_string()))
                .and_then(|rows| prepare(&rows, &offsets, &mut out.pending));
            if let Ok(reports) = together {
                for (m, report) in members.into_iter().zip(reports) {
                    out.accept(m, report);
                }
                return;
            }
        }
        for m in members {
            let offsets = [0, m.batch.num_rows()];
            match prepare(&m.batch, &offsets, &mut out.pending) {
                Ok(mut reports) => {
                    let report = reports.pop().expect("one report");
                    out.accept(m, report);
                }
                Err(err) => out.replies.push((m.reply, Err(err))),
            }
        }
    }
}

impl Prepared {
    fn accept(&mut self, member: Member, report: IngestReport) {
        if let Some((id, sequence)) = member.request.producer {
            self.producers.insert(id, sequence);
        }
        self.accepted.push((member.reply, report));
    }
}

/// Whether `request` repeats a sequence number its producer committed, or one accepted earlier
/// in this group.
fn is_duplicate(request: &IngestRequest, accepted: &HashMap<String, u64>, live: &Live) -> bool {
    request.producer.as_ref().is_some_and(|(id, sequence)| {
        accepted
            .get(id)
            .or_else(|| live.producers.get(id))
            .is_some_and(|last| sequence <= last)
    })
}

fn duplicate(request: &IngestRequest) -> IngestReport {
    IngestReport {
        rows: request.rows.len(),
        duplicate: true,
        ..IngestReport::default()
    }
}

pub(super) fn topic_error(topic: &str, reason: impl Into<String>) -> Error {
    Error::Ingest(IngestError::Topic {
        topic: topic.to_owned(),
        reason: reason.into(),
    })
}

/// The GroupBys (and source index) reading `topic`.
fn readers<'a>(state: &'a State, topic: &str) -> Result<Vec<(&'a GroupBy, usize)>> {
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
    Ok(readers)
}

/// A request's rows as Arrow.
fn decode(
    store: &Store,
    state: &State,
    live: &mut Live,
    topic: &str,
    readers: &[(&GroupBy, usize)],
    rows: &Rows,
) -> Result<RecordBatch> {
    match rows {
        Rows::Arrow(batch) => Ok(batch.clone()),
        Rows::Json(rows) => decode_json(store, state, live, topic, readers, rows),
    }
}

/// Prepares the rows of consecutive requests (request `i` holds rows
/// `offsets[i]..offsets[i + 1]` of `batch`) for every GroupBy reading `topic`, and adds them to
/// `pending`; one report per request. Nothing is added unless every GroupBy accepts every row.
#[expect(
    clippy::too_many_arguments,
    reason = "the writer's state for one preparation, passed apart so that each can be borrowed"
)]
fn prepare_rows(
    store: &Store,
    state: &State,
    live: &mut Live,
    topic: &str,
    readers: &[(&GroupBy, usize)],
    batch: &RecordBatch,
    offsets: &[usize],
    now: i64,
    pending: &mut BTreeMap<String, Group>,
) -> Result<Vec<IngestReport>> {
    let requests = offsets.len() - 1;
    let mut reports: Vec<IngestReport> = offsets
        .windows(2)
        .map(|w| IngestReport {
            rows: w[1] - w[0],
            ..IngestReport::default()
        })
        .collect();
    let options = &store.inner.options;
    let mut prepared: Vec<(String, RecordBatch, SchemaRef, Option<i64>)> = Vec::new();
    let mut applied: Vec<(QueryAndKeys, _)> = Vec::new();
    for &(group_by, index) in readers {
        let name = group_by.name();
        // GroupBys reading the topic through the same query and keys share its rows.
        let from = (&group_by.sources()[index], group_by.key_columns());
        let shared = match applied.iter().position(|(f, _)| *f == from) {
            Some(i) => i,
            None => {
                let source = bound_source(live, group_by, index, &batch.schema())?;
                if !source.has_time() {
                    return Err(topic_error(
                        topic,
                        format!("group-by {name}: a topic source needs a timeColumn"),
                    ));
                }
                applied.push((from, apply_source(&source, topic, batch, offsets)?));
                applied.len() - 1
            }
        };
        let (rows, counts, request_rows) = &applied[shared].1;
        let (rows, mut counts) = (rows.clone(), counts.clone());
        let request = |row: usize| request_rows.as_ref().map_or(0, |of| of[row] as usize);
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
        // Lateness is measured against the GroupBy's newest row before each request: stored,
        // unsealed, or earlier in this group.
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
        let mut oldest = vec![i64::MIN; requests];
        if let Some(late) = options.max_lateness_ms {
            // A late row is older than the watermark: only rows that count move it.
            let mut newest: Vec<Option<i64>> = vec![None; requests];
            for (row, &t) in ts.iter().enumerate() {
                if t >= stream_from {
                    let n = &mut newest[request(row)];
                    *n = (*n).max(Some(t));
                }
            }
            let mut watermark = watermark;
            for (i, n) in newest.into_iter().enumerate() {
                if let Some(w) = watermark {
                    oldest[i] = w.saturating_sub(late);
                }
                watermark = watermark.max(n);
            }
        }
        for c in &mut counts {
            c.kept = 0;
        }
        let mut keep = Vec::with_capacity(ts.len());
        for (row, &t) in ts.iter().enumerate() {
            let c = &mut counts[request(row)];
            if t < stream_from {
                c.superseded += 1;
                keep.push(false);
            } else if t < oldest[request(row)] {
                c.late += 1;
                keep.push(false);
            } else {
                c.kept += 1;
                keep.push(true);
            }
        }
        let rows = if keep.iter().all(|&k| k) {
            rows
        } else {
            filter_record_batch(&rows, &BooleanArray::from(keep))
                .map_err(|e| topic_error(topic, e.to_string()))?
        };
        let newest = super::rebuild::ts_range(&rows).1;
        let newest = (rows.num_rows() > 0).then_some(newest);
        for (report, c) in reports.iter_mut().zip(counts) {
            report.group_bys.insert(name.to_owned(), c);
        }
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
    Ok(reports)
}

/// What a source query and key columns are: GroupBys with equal ones get equal rows.
type QueryAndKeys<'a> = (&'a tilefold_query::config::Source, &'a [String]);

/// `source` applied to the rows of consecutive requests (request `i` holds rows
/// `offsets[i]..offsets[i + 1]` of `batch`): the prepared rows, counts per request, and the
/// request of each prepared row (`None` for one request).
fn apply_source(
    source: &SourceRows,
    topic: &str,
    batch: &RecordBatch,
    offsets: &[usize],
) -> Result<(RecordBatch, Vec<RowCounts>, Option<Vec<u32>>)> {
    let requests = offsets.len() - 1;
    if requests == 1 {
        let (rows, counts) = source.prepare(topic, "live", 0, batch)?;
        return Ok((rows, vec![counts], None));
    }
    let (rows, _, trace) = source.prepare_traced(topic, "live", 0, batch)?;
    let mut counts = vec![RowCounts::default(); requests];
    for (i, c) in counts.iter_mut().enumerate() {
        c.read = offsets[i + 1] - offsets[i];
        for fate in &trace.fates[offsets[i]..offsets[i + 1]] {
            match fate {
                Fate::Kept => {}
                Fate::Filtered => c.filtered += 1,
                Fate::NullTime => c.null_time += 1,
                Fate::NullKeys => c.null_keys += 1,
            }
        }
    }
    let request_of = |row: u32| (offsets.partition_point(|&o| o <= row as usize) - 1) as u32;
    let of = trace.origin.iter().map(|&r| request_of(r)).collect();
    Ok((rows, counts, Some(of)))
}

/// The source query of `group_by`'s source `index` bound to `schema`, from the writer's cache
/// while the source and keys are unchanged.
fn bound_source(
    live: &mut Live,
    group_by: &GroupBy,
    index: usize,
    schema: &SchemaRef,
) -> Result<Arc<SourceRows>> {
    let key = (group_by.name().to_owned(), index);
    let from = (&group_by.sources()[index], group_by.key_columns());
    if let Some(((source, keys), bound_schema, rows)) = live.sources.get(&key) {
        if (source, keys.as_slice()) == from && **bound_schema == **schema {
            return Ok(rows.clone());
        }
    }
    let rows = Arc::new(SourceRows::new(group_by, index, Role::Events, schema)?);
    let from = (from.0.clone(), from.1.to_vec());
    live.sources
        .insert(key, (from, schema.clone(), rows.clone()));
    Ok(rows)
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
