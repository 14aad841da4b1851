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

use std::io::Cursor;
use std::ops::Range;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use tilefold_ingest::sort_by_key_and_ts;
use tilefold_storage::StorageError;

use super::bound::key_rows;
use crate::{Error, Result};

/// One GroupBy's unsealed rows. Immutable: a commit makes a new head ([`Head::with`]).
#[derive(Debug, Clone)]
pub struct Head {
    /// Sorted by (key, ts); sizes decrease, each at most half the one before.
    runs: Vec<RecordBatch>,
    rows: usize,
    min_ts: i64,
    max_ts: i64,
}

impl Head {
    /// A head of one run, `rows` sorted by (key, ts).
    pub fn new(rows: RecordBatch) -> Head {
        let (min_ts, max_ts) = super::rebuild::ts_range(&rows);
        Head {
            rows: rows.num_rows(),
            runs: vec![rows],
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
        runs.push(rows);
        // Merge while the newest run is at least half the size of the one before it.
        while runs.len() >= 2 {
            let n = runs.len();
            if runs[n - 1].num_rows() * 2 < runs[n - 2].num_rows() {
                break;
            }
            let newer = runs.pop().unwrap_or_else(|| unreachable!());
            let older = runs.pop().unwrap_or_else(|| unreachable!());
            runs.push(merge(&older, &newer)?);
        }
        Ok(Head {
            rows: self.rows + added,
            runs,
            min_ts: self.min_ts.min(min_ts),
            max_ts: self.max_ts.max(max_ts),
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn min_ts(&self) -> i64 {
        self.min_ts
    }

    pub fn max_ts(&self) -> i64 {
        self.max_ts
    }

    pub fn schema(&self) -> Option<SchemaRef> {
        self.runs.first().map(|r| r.schema())
    }

    /// Appends the rows of `key` with `ts` in `range`, one batch per run, each sorted by ts.
    pub fn key_rows(&self, key: &[u8], range: &Range<i64>, out: &mut Vec<RecordBatch>) {
        if range.start > self.max_ts || range.end <= self.min_ts {
            return;
        }
        for run in &self.runs {
            out.extend(key_rows(run, key, Some(range)));
        }
    }

    /// Every row in one batch sorted by (key, ts).
    pub fn merged(&self) -> Result<Option<RecordBatch>> {
        let Some(first) = self.runs.first() else {
            return Ok(None);
        };
        if self.runs.len() == 1 {
            return Ok(Some(first.clone()));
        }
        let all = concat_batches(&first.schema(), &self.runs).map_err(internal)?;
        Ok(Some(sort_by_key_and_ts(&all).map_err(internal)?))
    }
}

fn merge(older: &RecordBatch, newer: &RecordBatch) -> Result<RecordBatch> {
    let all = concat_batches(&older.schema(), [older, newer]).map_err(internal)?;
    sort_by_key_and_ts(&all).map_err(internal)
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
