//! A GroupBy bound to its stored rows: the evaluator, the key codec and the open segments, read
//! through [`GroupByData`].

use std::collections::BTreeMap;
use std::ops::Range;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;

use tilefold_query::config::GroupBy;
use tilefold_query::derivation::Derivations;
use tilefold_query::evaluate::{EvalError, GroupByData, GroupByEvaluator, KEY_COLUMN};
use tilefold_query::key::KeyCodec;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{parse_day, Level, LEVELS};
use tilefold_storage::{ReadTxn, Segment};

use super::catalog::{GroupByEntry, RoleName};
use super::head::Head;

/// One GroupBy with data.
#[derive(Debug)]
pub struct BoundGroupBy {
    pub config: GroupBy,
    pub entry: GroupByEntry,
    pub evaluator: GroupByEvaluator,
    pub keys: KeyCodec,
    /// The GroupBy's own derivations over its output columns, if any.
    pub derivations: Option<Derivations>,
    /// The schema of its stored rows.
    schema: arrow::datatypes::SchemaRef,
    /// Event segments with the `ts` range of their rows that count.
    events: Vec<(Segment, Range<i64>)>,
    snapshots: BTreeMap<i64, Vec<Segment>>,
    mutations: BTreeMap<i64, Vec<Segment>>,
}

impl BoundGroupBy {
    pub fn new(
        config: GroupBy,
        entry: GroupByEntry,
        evaluator: GroupByEvaluator,
        keys: KeyCodec,
        derivations: Option<Derivations>,
        segments: Vec<Segment>,
        schema: arrow::datatypes::SchemaRef,
    ) -> Self {
        let mut events = Vec::new();
        let mut snapshots: BTreeMap<i64, Vec<Segment>> = BTreeMap::new();
        let mut mutations: BTreeMap<i64, Vec<Segment>> = BTreeMap::new();
        for (info, segment) in entry.segments.iter().zip(segments) {
            let day = parse_day(&info.partition).unwrap_or(i64::MIN);
            match info.role {
                RoleName::Events => {
                    let counted = entry.counted(info);
                    let range = counted.start.max(info.min_ts)..counted.end.min(info.max_ts + 1);
                    if range.start < range.end {
                        events.push((segment, range));
                    }
                }
                RoleName::Snapshot => snapshots.entry(day).or_default().push(segment),
                RoleName::Mutations => mutations.entry(day).or_default().push(segment),
            }
        }
        BoundGroupBy {
            config,
            entry,
            evaluator,
            keys,
            derivations,
            schema,
            events,
            snapshots,
            mutations,
        }
    }

    pub fn name(&self) -> &str {
        self.config.name()
    }

    pub fn schema(&self) -> arrow::datatypes::SchemaRef {
        self.schema.clone()
    }

    /// The event segments, each with the `ts` range of its rows that count.
    pub fn event_segments(&self) -> impl Iterator<Item = (&Segment, &Range<i64>)> {
        self.events
            .iter()
            .map(|(segment, counted)| (segment, counted))
    }
}

/// [`GroupByData`] over a bound GroupBy, one read transaction and the head of that commit.
pub struct DataView<'a> {
    pub group_by: &'a BoundGroupBy,
    pub read: &'a ReadTxn,
    pub head: Option<&'a Head>,
}

impl GroupByData for DataView<'_> {
    fn tiles(
        &self,
        key: &[u8],
        spans: &[(Level, Range<i64>)],
        out: &mut [Vec<(i64, Vec<u8>)>; LEVELS],
    ) -> Result<(), EvalError> {
        let spans: Vec<(u8, Range<i64>)> = spans
            .iter()
            .map(|(level, starts)| (*level as u8, starts.clone()))
            .collect();
        self.read
            .visit_tiles(self.group_by.name(), key, &spans, |level, start, bytes| {
                if let Some(level) = out.get_mut(usize::from(level)) {
                    level.push((start, bytes.to_vec()));
                }
                Ok(())
            })?;
        Ok(())
    }

    fn kept_from(&self) -> [i64; LEVELS] {
        self.group_by.entry.kept_from
    }

    fn events(
        &self,
        key: &[u8],
        range: Range<i64>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for (segment, counted) in &self.group_by.events {
            let range = range.start.max(counted.start)..range.end.min(counted.end);
            if range.start >= range.end {
                continue;
            }
            if let Some(rows) = key_rows(segment.batch(), key, Some(&range)) {
                out.push(rows);
            }
        }
        Ok(())
    }

    fn unsealed(
        &self,
        key: &[u8],
        range: Range<i64>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        if let Some(head) = self.head {
            let from = self.group_by.entry.stream_from();
            let range = range.start.max(from)..range.end;
            if range.start < range.end {
                head.key_rows(key, &range, out);
            }
        }
        Ok(())
    }

    fn earliest(&self) -> Option<i64> {
        let head = self.head.map(Head::min_ts);
        match (self.group_by.entry.earliest, head) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn snapshot_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for segment in self.group_by.snapshots.get(&day).into_iter().flatten() {
            out.extend(key_rows(segment.batch(), key, None));
        }
        Ok(())
    }

    fn mutation_rows(
        &self,
        key: &[u8],
        day: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<(), EvalError> {
        for segment in self.group_by.mutations.get(&day).into_iter().flatten() {
            out.extend(key_rows(segment.batch(), key, None));
        }
        Ok(())
    }
}

/// The rows of `key` (and with `ts` in `range`) of a batch sorted by (key, ts), zero-copy.
pub(super) fn key_rows(
    batch: &RecordBatch,
    key: &[u8],
    range: Option<&Range<i64>>,
) -> Option<RecordBatch> {
    let keys = batch.column_by_name(KEY_COLUMN)?.as_binary_opt::<i32>()?;
    let n = keys.len();
    let lo = partition_point(n, |i| keys.value(i) < key);
    let hi = lo + partition_point(n - lo, |i| keys.value(lo + i) <= key);
    let (lo, hi) = match range {
        Some(range) => {
            let ts = batch
                .column_by_name(TIME_COLUMN)?
                .as_primitive_opt::<Int64Type>()?;
            let ts = &ts.values()[lo..hi];
            let a = ts.partition_point(|&t| t < range.start);
            let b = ts.partition_point(|&t| t < range.end);
            (lo + a, lo + b)
        }
        None => (lo, hi),
    };
    (hi > lo).then(|| batch.slice(lo, hi - lo))
}

fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
