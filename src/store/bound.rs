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

/// One GroupBy with data.
#[derive(Debug)]
pub struct BoundGroupBy {
    pub config: GroupBy,
    pub entry: GroupByEntry,
    pub evaluator: GroupByEvaluator,
    pub keys: KeyCodec,
    /// The GroupBy's own derivations over its output columns, if any.
    pub derivations: Option<Derivations>,
    events: Vec<(Segment, i64, i64)>,
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
    ) -> Self {
        let mut events = Vec::new();
        let mut snapshots: BTreeMap<i64, Vec<Segment>> = BTreeMap::new();
        let mut mutations: BTreeMap<i64, Vec<Segment>> = BTreeMap::new();
        for (info, segment) in entry.segments.iter().zip(segments) {
            let day = parse_day(&info.partition).unwrap_or(i64::MIN);
            match info.role {
                RoleName::Events => events.push((segment, info.min_ts, info.max_ts)),
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
            events,
            snapshots,
            mutations,
        }
    }

    pub fn name(&self) -> &str {
        self.config.name()
    }
}

/// [`GroupByData`] over a bound GroupBy and one read transaction.
pub struct DataView<'a> {
    pub group_by: &'a BoundGroupBy,
    pub read: &'a ReadTxn,
}

impl GroupByData for DataView<'_> {
    fn tiles(
        &self,
        key: &[u8],
        level: Level,
        starts: Range<i64>,
        out: &mut Vec<(i64, Vec<u8>)>,
    ) -> Result<(), EvalError> {
        Ok(self
            .read
            .tiles(self.group_by.name(), key, level as u8, starts, out)?)
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
        for (segment, min_ts, max_ts) in &self.group_by.events {
            if *max_ts < range.start || *min_ts >= range.end {
                continue;
            }
            if let Some(rows) = key_rows(segment.batch(), key, Some(&range)) {
                out.push(rows);
            }
        }
        Ok(())
    }

    fn earliest(&self) -> Option<i64> {
        self.group_by.entry.earliest
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
fn key_rows(batch: &RecordBatch, key: &[u8], range: Option<&Range<i64>>) -> Option<RecordBatch> {
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
