//! The head: a GroupBy's rows ingested live and not yet sealed into a segment (DESIGN.md "Data
//! flow" 2). Durably they are entries of redb's `head` table, one per group commit; in memory
//! each GroupBy's head is a few runs sorted by (key, ts), merged like a log-structured merge
//! tree so that a commit costs O(log n) amortized copying and a read O(log n) binary searches.
//!
//! A head entry's bytes:
//!
//! ```text
//! entry := count:u32 · (name_len:u32 · name · ipc_len:u64 · Arrow IPC stream of the rows)*
//! ```

use std::collections::BTreeMap;
use std::io::Cursor;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryArray, RecordBatch};
use arrow::compute::{concat_batches, interleave_record_batch};
use arrow::datatypes::{Int64Type, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use tilefold_ingest::order::{compare_keys, shared_prefix, KeyWords};
use tilefold_ingest::sort_by_key_and_ts;
use tilefold_query::evaluate::KEY_COLUMN;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_storage::StorageError;

use super::bound::indexed_key_rows;
use super::key_index::KeyIndex;
use crate::{Error, Result};

/// The unsealed rows of every GroupBy, and the first and last head entry holding them.
///
/// A seal under way works on the rows *frozen* when it began (the entries up to
/// [`Heads::sealing`]); rows committed meanwhile go to runs after them, so that the seal's end
/// removes exactly the rows it sealed ([`HeadChange::Sealed`]).
#[derive(Debug, Clone, Default)]
pub struct Heads {
    groups: BTreeMap<String, Arc<Head>>,
    entries: Option<(u64, u64)>,
    /// The last head entry of the frozen rows, while a seal is under way.
    sealing: Option<u64>,
}

/// How a commit changes the heads ([`Heads::apply`]).
#[derive(Debug, Default)]
pub enum HeadChange {
    #[default]
    Keep,
    /// A group commit's head entry: its number and rows per GroupBy.
    Add(u64, Vec<(String, RecordBatch)>),
    /// A seal begins: every row so far is frozen.
    Freeze,
    /// The seal committed: the frozen rows are in segments and tiles now.
    Sealed,
    /// The seal failed: the frozen rows are unsealed rows again.
    Thaw,
}

impl Heads {
    pub fn get(&self, group_by: &str) -> Option<&Head> {
        self.groups.get(group_by).map(Arc::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Head)> {
        self.groups.iter().map(|(name, head)| (name, head.as_ref()))
    }

    /// The first and last head entry, `None` when nothing is unsealed.
    pub fn entries(&self) -> Option<(u64, u64)> {
        self.entries
    }

    /// The last head entry a seal under way holds.
    pub fn sealing(&self) -> Option<u64> {
        self.sealing
    }

    /// Unsealed rows over every GroupBy, frozen ones included.
    pub fn rows(&self) -> usize {
        self.groups.values().map(|h| h.rows()).sum()
    }

    /// Unsealed rows no seal is working on.
    pub fn open_rows(&self) -> usize {
        self.groups.values().map(|h| h.rows() - h.frozen_rows).sum()
    }

    /// These heads changed by `change`.
    pub fn apply(&self, change: HeadChange) -> Result<Heads> {
        let mut heads = self.clone();
        match change {
            HeadChange::Keep => {}
            HeadChange::Add(number, rows) => heads.add(number, rows)?,
            HeadChange::Freeze => {
                heads.sealing = heads.entries.map(|(_, last)| last);
                for head in heads.groups.values_mut() {
                    *head = Arc::new(head.frozen());
                }
            }
            HeadChange::Sealed => {
                let Some(through) = heads.sealing.take() else {
                    return Ok(heads);
                };
                heads.entries = heads
                    .entries
                    .filter(|&(_, last)| last > through)
                    .map(|(first, last)| (first.max(through + 1), last));
                let mut groups = BTreeMap::new();
                for (name, head) in &heads.groups {
                    if let Some(head) = head.without_frozen() {
                        groups.insert(name.clone(), Arc::new(head));
                    }
                }
                heads.groups = groups;
            }
            HeadChange::Thaw => {
                heads.sealing = None;
                for head in heads.groups.values_mut() {
                    *head = Arc::new(Head {
                        frozen: 0,
                        frozen_rows: 0,
                        ..Head::clone(head)
                    });
                }
            }
        }
        Ok(heads)
    }

    /// Adds head entry `number` (entries come in increasing order), holding `rows` per
    /// GroupBy, each sorted by (key, ts).
    pub fn add(&mut self, number: u64, rows: Vec<(String, RecordBatch)>) -> Result<()> {
        self.entries = Some((self.entries.map_or(number, |(first, _)| first), number));
        for (name, rows) in rows {
            let head = match self.groups.get(&name) {
                Some(head) => head.with(rows)?,
                None => Head::new(rows),
            };
            self.groups.insert(name, Arc::new(head));
        }
        Ok(())
    }
}

/// Runs merged at once.
const MERGE_RUNS: usize = 4;

/// One GroupBy's unsealed rows. Immutable: a commit makes a new head ([`Head::with`]).
#[derive(Debug, Clone)]
pub struct Head {
    /// Oldest first; sizes (roughly) decrease.
    runs: Vec<Run>,
    rows: usize,
    /// The first `frozen` runs, of `frozen_rows` rows, are a seal's: never merged with later ones.
    frozen: usize,
    frozen_rows: usize,
    min_ts: i64,
    max_ts: i64,
}

/// Rows sorted by (key, ts), and the index of their keys: a fetch looks a key up in every run.
#[derive(Debug, Clone)]
struct Run {
    rows: RecordBatch,
    keys: Arc<KeyIndex>,
}

impl Run {
    fn new(rows: RecordBatch) -> Run {
        let keys = rows
            .column_by_name(KEY_COLUMN)
            .and_then(|c| c.as_binary_opt::<i32>())
            .map(KeyIndex::new)
            .unwrap_or_default();
        Run {
            rows,
            keys: Arc::new(keys),
        }
    }

    fn num_rows(&self) -> usize {
        self.rows.num_rows()
    }
}

/// The rows of `runs`.
fn batches(runs: &[Run]) -> Vec<RecordBatch> {
    runs.iter().map(|run| run.rows.clone()).collect()
}

impl Head {
    /// A head of one run, `rows` sorted by (key, ts).
    pub fn new(rows: RecordBatch) -> Head {
        let (min_ts, max_ts) = super::rebuild::ts_range(&rows);
        Head {
            rows: rows.num_rows(),
            runs: vec![Run::new(rows)],
            frozen: 0,
            frozen_rows: 0,
            min_ts,
            max_ts,
        }
    }

    /// This head with `rows` (sorted by (key, ts), of the same schema) added.
    pub fn with(&self, rows: RecordBatch) -> Result<Head> {
        if rows.num_rows() == 0 {
            return Ok(self.clone());
        }
        let (min_ts, max_ts) = super::rebuild::ts_range(&rows);
        let added = rows.num_rows();
        let mut runs = self.runs.clone();
        runs.push(Run::new(rows));
        // Tiered merging: four runs of about the same size become one, so each row is copied
        // about log4(rows / batch) times and a read searches a few runs per tier.
        while runs.len() - self.frozen >= MERGE_RUNS {
            let n = runs.len();
            if runs[n - MERGE_RUNS].num_rows() > 2 * runs[n - 1].num_rows() {
                break;
            }
            let merged = merge_indexed(&runs[n - MERGE_RUNS..])?;
            runs.truncate(n - MERGE_RUNS);
            runs.push(merged);
        }
        Ok(Head {
            rows: self.rows + added,
            runs,
            frozen: self.frozen,
            frozen_rows: self.frozen_rows,
            min_ts: self.min_ts.min(min_ts),
            max_ts: self.max_ts.max(max_ts),
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// This head with every run frozen.
    fn frozen(&self) -> Head {
        Head {
            frozen: self.runs.len(),
            frozen_rows: self.rows,
            ..self.clone()
        }
    }

    /// This head without its frozen runs; `None` if nothing is left.
    fn without_frozen(&self) -> Option<Head> {
        let runs = self.runs[self.frozen..].to_vec();
        let (min_ts, max_ts) = runs
            .iter()
            .filter(|run| run.num_rows() > 0)
            .map(|run| super::rebuild::ts_range(&run.rows))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))?;
        Some(Head {
            rows: self.rows - self.frozen_rows,
            runs,
            frozen: 0,
            frozen_rows: 0,
            min_ts,
            max_ts,
        })
    }

    pub fn min_ts(&self) -> i64 {
        self.min_ts
    }

    pub fn max_ts(&self) -> i64 {
        self.max_ts
    }

    pub fn schema(&self) -> Option<SchemaRef> {
        self.runs.first().map(|r| r.rows.schema())
    }

    /// Appends the rows of `key` with `ts` in `range`, one batch per run, each sorted by ts.
    pub fn key_rows(&self, key: &[u8], range: &Range<i64>, out: &mut Vec<RecordBatch>) {
        if range.start > self.max_ts || range.end <= self.min_ts {
            return;
        }
        for run in &self.runs {
            out.extend(indexed_key_rows(&run.rows, &run.keys, key, Some(range)));
        }
    }

    /// The frozen rows (a seal's) in one batch sorted by (key, ts); `None` if none are.
    pub fn frozen_merged(&self) -> Result<Option<RecordBatch>> {
        if self.frozen == 0 {
            return Ok(None);
        }
        Ok(Some(merge_indexed(&self.runs[..self.frozen])?.rows))
    }
}

/// Merges runs sorted by (key, ts), oldest first, into one in a single pass (each row copied
/// once); on ties the older row comes first.
pub fn merge_runs(runs: &[RecordBatch]) -> Result<RecordBatch> {
    let Some(first) = runs.first() else {
        return Err(Error::Request("merging no head rows".into()));
    };
    if runs.len() == 1 {
        return Ok(first.clone());
    }
    let columns: Option<Vec<_>> = runs.iter().map(keys_and_ts).collect();
    let Some(columns) = columns else {
        let all = concat_batches(&first.schema(), runs).map_err(internal)?;
        return sort_by_key_and_ts(&all).map_err(internal);
    };
    // Keys compare as integers past the prefix every run's keys share (see
    // tilefold_ingest::order); a run's keys span its first to its last.
    let common = shared_prefix(
        columns
            .iter()
            .filter(|(keys, _)| !keys.is_empty())
            .flat_map(|(keys, _)| [keys.value(0), keys.value(keys.len() - 1)]),
    );
    let words: Vec<KeyWords> = columns
        .iter()
        .map(|(keys, _)| KeyWords::new(keys, common))
        .collect();
    let exact = words.iter().all(KeyWords::exact);
    let words: Vec<&[u64]> = words.iter().map(KeyWords::words).collect();
    let order = merge_order(&columns, &words, exact);
    let refs: Vec<&RecordBatch> = runs.iter().collect();
    interleave_record_batch(&refs, &order).map_err(internal)
}

/// Merges runs as [`merge_runs`] does; the merged run's key index is gathered from theirs when
/// their keys share one prefix (the usual case: a tag and length bytes), not computed again.
fn merge_indexed(runs: &[Run]) -> Result<Run> {
    if let [run] = runs {
        return Ok(run.clone());
    }
    let columns: Option<Vec<_>> = runs.iter().map(|run| keys_and_ts(&run.rows)).collect();
    let common = runs.first().map_or(0, |run| run.keys.common());
    // Every run's keys share their first `common` bytes, the same bytes in each.
    let shared = |columns: &[(&BinaryArray, &[i64])]| -> bool {
        let Some((first, _)) = columns.first().filter(|(keys, _)| !keys.is_empty()) else {
            return false;
        };
        let prefix = first.value(0).get(..common);
        runs.iter().zip(columns).all(|(run, (keys, _))| {
            !keys.is_empty()
                && run.keys.common() == common
                && run.keys.words().words().len() == keys.len()
                && keys.value(0).get(..common) == prefix
        })
    };
    match columns {
        Some(columns) if shared(&columns) => {
            // Every key of every run shares `common` bytes and differs within the next one
            // across the runs' extremes, so the merged run's prefix is `common` too.
            let sets: Vec<&KeyWords> = runs.iter().map(|run| run.keys.words()).collect();
            let exact = sets.iter().all(|set| set.exact());
            let words: Vec<&[u64]> = sets.iter().map(|set| set.words()).collect();
            let order = merge_order(&columns, &words, exact);
            let refs: Vec<&RecordBatch> = runs.iter().map(|run| &run.rows).collect();
            let rows = interleave_record_batch(&refs, &order).map_err(internal)?;
            let words = KeyWords::gathered(&sets, &order);
            Ok(Run {
                rows,
                keys: Arc::new(KeyIndex::from_words(common, words)),
            })
        }
        _ => Ok(Run::new(merge_runs(&batches(runs))?)),
    }
}

/// The key column and the `ts` values of head rows.
fn keys_and_ts(rows: &RecordBatch) -> Option<(&BinaryArray, &[i64])> {
    let keys = rows.column_by_name(KEY_COLUMN)?.as_binary_opt::<i32>()?;
    let ts = rows
        .column_by_name(TIME_COLUMN)?
        .as_primitive_opt::<Int64Type>()?;
    Some((keys, ts.values()))
}

/// The (run, row) order that merges runs sorted by (key, ts) whose keys have `words` taken at
/// one offset (`exact` as [`compare_keys`] takes it); on ties the older run's row comes first.
fn merge_order(
    columns: &[(&BinaryArray, &[i64])],
    words: &[&[u64]],
    exact: bool,
) -> Vec<(usize, usize)> {
    let less = |(r, i): (usize, usize), (s, j): (usize, usize)| {
        let ((a, a_ts), (b, b_ts)) = (&columns[r], &columns[s]);
        compare_keys((a, words[r], i), (b, words[s], j), exact)
            .then_with(|| a_ts[i].cmp(&b_ts[j]))
            .is_lt()
    };
    // The next row of each run.
    let mut next = vec![0usize; columns.len()];
    let mut order: Vec<(usize, usize)> =
        Vec::with_capacity(columns.iter().map(|(_, ts)| ts.len()).sum());
    loop {
        let mut best: Option<usize> = None;
        for (r, (_, ts)) in columns.iter().enumerate() {
            let i = next[r];
            if i == ts.len() {
                continue;
            }
            if best.is_none_or(|b| less((r, i), (b, next[b]))) {
                best = Some(r);
            }
        }
        let Some(b) = best else { break };
        order.push((b, next[b]));
        next[b] += 1;
    }
    order
}

fn internal(err: arrow::error::ArrowError) -> Error {
    Error::Request(format!("merging head rows: {err}"))
}

/// Encodes one group commit's rows: (GroupBy name, rows) pairs.
pub fn encode_entry(rows: &[(&str, &RecordBatch)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    for (name, batch) in rows {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        let mut ipc = Vec::new();
        {
            let mut writer =
                StreamWriter::try_new(&mut ipc, &batch.schema()).map_err(encode_error)?;
            writer.write(batch).map_err(encode_error)?;
            writer.finish().map_err(encode_error)?;
        }
        out.extend_from_slice(&(ipc.len() as u64).to_le_bytes());
        out.extend_from_slice(&ipc);
    }
    Ok(out)
}

fn encode_error(err: arrow::error::ArrowError) -> Error {
    Error::Request(format!("encoding head rows: {err}"))
}

/// Decodes head entry `number` (see the module docs). Damage is [`StorageError::Corrupted`].
pub fn decode_entry(number: u64, bytes: &[u8]) -> Result<Vec<(String, RecordBatch)>> {
    let corrupted = |detail: String| {
        Error::Storage(StorageError::Corrupted {
            what: format!("head entry {number}"),
            detail,
        })
    };
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let end = at
            .checked_add(n)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| corrupted(format!("truncated at byte {at}")))?;
        let slice = &bytes[at..end];
        at = end;
        Ok(slice)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().unwrap_or_default());
    let mut out = Vec::new();
    for _ in 0..count {
        let len = u32::from_le_bytes(take(4)?.try_into().unwrap_or_default()) as usize;
        let name = std::str::from_utf8(take(len)?)
            .map_err(|e| corrupted(format!("group-by name: {e}")))?
            .to_owned();
        let len = u64::from_le_bytes(take(8)?.try_into().unwrap_or_default());
        let len = usize::try_from(len).map_err(|_| corrupted("rows too long".into()))?;
        let ipc = take(len)?;
        let reader = StreamReader::try_new(Cursor::new(ipc), None)
            .map_err(|e| corrupted(format!("rows of {name}: {e}")))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| corrupted(format!("rows of {name}: {e}")))?;
        let batch = concat_batches(&schema, &batches)
            .map_err(|e| corrupted(format!("rows of {name}: {e}")))?;
        out.push((name, batch));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BinaryArray, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn run(rows: &[(u8, i64, i64)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new(TIME_COLUMN, DataType::Int64, false),
            Field::new(KEY_COLUMN, DataType::Binary, false),
        ]));
        let keys: Vec<Vec<u8>> = rows.iter().map(|r| vec![r.0]).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))) as ArrayRef,
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(BinaryArray::from_iter_values(keys.iter())),
            ],
        )
        .unwrap();
        sort_by_key_and_ts(&batch).unwrap()
    }

    fn triples(batch: &RecordBatch) -> Vec<(u8, i64, i64)> {
        let keys = batch.column(2).as_binary::<i32>();
        let ts = batch.column(1).as_primitive::<Int64Type>();
        let v = batch.column(0).as_primitive::<Int64Type>();
        (0..batch.num_rows())
            .map(|r| (keys.value(r)[0], ts.value(r), v.value(r)))
            .collect()
    }

    #[test]
    fn runs_merge_into_key_and_time_order_with_older_rows_first_on_ties() {
        let mut all = Vec::new();
        let mut head: Option<Head> = None;
        let mut x = 7u64;
        for batch in 0..40 {
            let rows: Vec<(u8, i64, i64)> = (0..(batch % 7 + 1))
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 60) as u8, ((x >> 40) % 5) as i64, batch)
                })
                .collect();
            all.extend_from_slice(&rows);
            let rows = run(&rows);
            head = Some(match head {
                Some(h) => h.with(rows).unwrap(),
                None => Head::new(rows),
            });
        }
        let head = head.unwrap();
        assert!(head.runs.len() < 12, "{} runs", head.runs.len());
        assert_indexes_are_fresh(&head);
        assert_eq!(head.rows(), all.len());
        // A stable sort by (key, ts) keeps insertion order on ties: older batches first.
        all.sort_by_key(|r| (r.0, r.1));
        assert_eq!(triples(&merge_runs(&batches(&head.runs)).unwrap()), all);
        let mut out = Vec::new();
        head.key_rows(&[3], &(1..4), &mut out);
        let mut got: Vec<_> = out.iter().flat_map(triples).collect();
        got.sort_by_key(|r| (r.1, r.2));
        let mut want: Vec<_> = all
            .iter()
            .copied()
            .filter(|r| r.0 == 3 && (1..4).contains(&r.1))
            .collect();
        want.sort_by_key(|r| (r.1, r.2));
        assert_eq!(got, want);
    }

    /// Every run's key index equals one computed from its keys (merges gather theirs).
    fn assert_indexes_are_fresh(head: &Head) {
        for (r, run) in head.runs.iter().enumerate() {
            let fresh = KeyIndex::new(run.rows.column_by_name(KEY_COLUMN).unwrap().as_binary());
            assert_eq!(run.keys.common(), fresh.common(), "run {r}");
            assert_eq!(run.keys.words().words(), fresh.words().words(), "run {r}");
            assert_eq!(run.keys.words().exact(), fresh.words().exact(), "run {r}");
        }
    }

    /// Runs whose keys share a prefix (tag and length bytes) merge through their key indexes;
    /// runs that share less, or keys longer than a word, merge by computing words again. Either
    /// way the rows come out in (key, ts) order with fresh indexes.
    #[test]
    fn merged_runs_keep_exact_key_indexes() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(TIME_COLUMN, DataType::Int64, false),
            Field::new(KEY_COLUMN, DataType::Binary, false),
        ]));
        let batch = |keys: Vec<Vec<u8>>, ts: i64| {
            let n = keys.len() as i64;
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from_iter_values((0..n).map(|i| ts + i % 3))) as ArrayRef,
                    Arc::new(BinaryArray::from_iter_values(keys)),
                ],
            )
            .unwrap();
            sort_by_key_and_ts(&batch).unwrap()
        };
        let encode = |s: String| {
            let mut k = vec![3u8];
            k.extend_from_slice(&(s.len() as u32).to_be_bytes());
            k.extend_from_slice(s.as_bytes());
            k
        };
        let mut x = 11u64;
        let mut next = |bound: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % bound
        };
        let mut all: Vec<(Vec<u8>, i64)> = Vec::new();
        let mut head: Option<Head> = None;
        for b in 0..64i64 {
            // Short keys (u0..u999), then a stretch of long ones, then keys of one length only.
            let keys: Vec<Vec<u8>> = (0..next(20) + 1)
                .map(|_| match b / 16 {
                    1 => encode(format!("user-with-a-long-name-{}", next(50))),
                    2 => encode(format!("u{}", 100 + next(900))),
                    _ => encode(format!("u{}", next(1000))),
                })
                .collect();
            let rows = batch(keys, b * 10);
            let ts = rows.column(0).as_primitive::<Int64Type>();
            let k = rows.column(1).as_binary::<i32>();
            all.extend((0..rows.num_rows()).map(|i| (k.value(i).to_vec(), ts.value(i))));
            head = Some(match head {
                Some(h) => h.with(rows).unwrap(),
                None => Head::new(rows),
            });
            assert_indexes_are_fresh(head.as_ref().unwrap());
        }
        let head = head.unwrap();
        let merged = merge_runs(&batches(&head.runs)).unwrap();
        let ts = merged.column(0).as_primitive::<Int64Type>();
        let k = merged.column(1).as_binary::<i32>();
        let got: Vec<(Vec<u8>, i64)> = (0..merged.num_rows())
            .map(|i| (k.value(i).to_vec(), ts.value(i)))
            .collect();
        all.sort();
        assert_eq!(got, all);
    }

    /// (key, ts, value) triples.
    type Rows = Vec<(u8, i64, i64)>;

    fn sorted(mut rows: Rows) -> Rows {
        rows.sort();
        rows
    }

    /// Random commits, freezes, seals and thaws against a model of head entries: the heads
    /// always hold the rows of the entries not yet sealed, a seal gets exactly the rows frozen
    /// when it began, and rows committed during a seal stay after it.
    #[test]
    fn a_seal_removes_exactly_the_rows_frozen_when_it_began() {
        for seed in 0..40u64 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = |bound: u64| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % bound
            };
            // (entry number, its rows); the frozen entries are those up to `frozen`.
            let mut model: Vec<(u64, Rows)> = Vec::new();
            let mut frozen: Option<u64> = None;
            let mut heads = Heads::default();
            let mut number = 0;
            for step in 0..60 {
                let change = match next(10) {
                    0 => HeadChange::Freeze,
                    1 => HeadChange::Sealed,
                    2 => HeadChange::Thaw,
                    _ => {
                        number += 1;
                        let rows: Vec<(u8, i64, i64)> = (0..next(6) + 1)
                            .map(|_| (next(4) as u8, next(5) as i64, step))
                            .collect();
                        model.push((number, rows.clone()));
                        HeadChange::Add(number, vec![("g".to_owned(), run(&rows))])
                    }
                };
                match &change {
                    HeadChange::Freeze => frozen = model.last().map(|(n, _)| *n),
                    HeadChange::Sealed => {
                        if let Some(through) = frozen.take() {
                            model.retain(|(n, _)| *n > through);
                        }
                    }
                    HeadChange::Thaw => frozen = None,
                    _ => {}
                }
                heads = heads.apply(change).unwrap();
                let what = format!("seed {seed} step {step}");
                assert_eq!(heads.sealing(), frozen, "{what}");
                assert_eq!(
                    heads.entries(),
                    model
                        .first()
                        .map(|(first, _)| (*first, model.last().unwrap().0)),
                    "{what}"
                );
                let all: Vec<_> = model.iter().flat_map(|(_, r)| r.clone()).collect();
                let frozen_rows: Vec<_> = model
                    .iter()
                    .filter(|(n, _)| frozen.is_some_and(|f| *n <= f))
                    .flat_map(|(_, r)| r.clone())
                    .collect();
                assert_eq!(heads.rows(), all.len(), "{what}");
                assert_eq!(heads.open_rows(), all.len() - frozen_rows.len(), "{what}");
                let Some(head) = heads.get("g") else {
                    assert!(all.is_empty(), "{what}");
                    continue;
                };
                let merged = merge_runs(&batches(&head.runs)).unwrap();
                assert_eq!(sorted(triples(&merged)), sorted(all.clone()), "{what}");
                let got = head
                    .frozen_merged()
                    .unwrap()
                    .map_or(Vec::new(), |b| triples(&b));
                assert_eq!(sorted(got), sorted(frozen_rows), "{what}");
                let ts = all.iter().map(|r| r.1);
                assert_eq!(
                    (head.min_ts(), head.max_ts()),
                    (ts.clone().min().unwrap(), ts.max().unwrap()),
                    "{what}"
                );
            }
        }
    }
}
