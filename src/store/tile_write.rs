//! Writing folded tiles into the write transaction: large inputs are folded on one thread per
//! core, each a run of keys, while the calling thread appends the encoded tiles to redb in key
//! order (DESIGN.md "Data flow" 1).

use std::ops::Range;

use arrow::array::RecordBatch;

use tilefold_ingest::{fold_tiles, key_ranges};
use tilefold_query::aggregate::RowAggregator;
use tilefold_query::window::{Level, DAY, FIVE_MINUTES, HOUR, LEVELS};
use tilefold_storage::{
    Layout, ReadTxn, WriteTxn, FINE_LEVEL, FINE_TILE_MILLIS, START_FIRST_MILLIS,
};

use crate::{Error, Result};

/// Encoded tiles on their way from the folding thread to the write transaction.
#[derive(Default)]
struct TileChunk {
    bytes: Vec<u8>,
    /// (key offset, key length, level, start, value offset, value length) into `bytes`.
    tiles: Vec<(usize, usize, u8, i64, usize, usize)>,
}

impl TileChunk {
    /// Appends `key`; returns where the tile's value starts.
    fn push_key(&mut self, key: &[u8]) -> usize {
        self.bytes.extend_from_slice(key);
        self.bytes.len()
    }

    /// Records the tile whose key (`key_len` bytes) precedes its value at `value_at`, which
    /// runs to the end of `bytes`.
    fn push_tile(&mut self, key_len: usize, level: u8, start: i64, value_at: usize) {
        let value_len = self.bytes.len() - value_at;
        self.tiles.push((
            value_at - key_len,
            key_len,
            level,
            start,
            value_at,
            value_len,
        ));
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], u8, i64, &[u8])> {
        let b = &self.bytes;
        self.tiles
            .iter()
            .map(move |&(k, kl, level, start, v, vl)| (&b[k..k + kl], level, start, &b[v..v + vl]))
    }
}

/// `chunk`'s tiles merged into those stored in `read`.
fn merged_chunk(
    (read, layout): (&ReadTxn, &Layout),
    group_by: &str,
    aggregator: &RowAggregator,
    chunk: &TileChunk,
) -> Result<TileChunk> {
    let mut out = TileChunk {
        bytes: Vec::with_capacity(chunk.bytes.len()),
        tiles: Vec::with_capacity(chunk.tiles.len()),
    };
    read.merge_tiles(
        group_by,
        layout,
        chunk.iter(),
        |stored, new, merged| {
            let mut acc = aggregator.decode(stored).map_err(|e| e.to_string())?;
            aggregator
                .merge_encoded(&mut acc, new)
                .map_err(|e| e.to_string())?;
            aggregator.encode(&acc, merged);
            Ok(())
        },
        |key, level, start, value| {
            let value_at = out.push_key(key);
            out.bytes.extend_from_slice(value);
            out.push_tile(key.len(), level, start, value_at);
        },
    )?;
    Ok(out)
}

// Storage keeps five-minute tiles start first, and hour and day tiles where a layout says, by
// its own level numbers and lengths.
const _: () = assert!(Level::FiveMinutes as u8 == FINE_LEVEL && FIVE_MINUTES == FINE_TILE_MILLIS);
const _: () = assert!(
    Level::Hour as u8 == 1
        && Level::Day as u8 == 2
        && START_FIRST_MILLIS[1] == HOUR
        && START_FIRST_MILLIS[2] == DAY
);

/// Tiles per chunk sent to the writer.
const CHUNK_TILES: usize = 16 * 1024;

/// How folded tiles reach the stored ones.
#[derive(Debug, Clone, Copy)]
pub(super) enum TileWrite<'a> {
    /// Replace (the GroupBy's tiles were cleared).
    Put,
    /// Merge into the tile of the same (key, level, start) stored in this snapshot of the last
    /// commit, if any, where the layout it was written with puts it. The folding thread
    /// merges; the writer only inserts.
    Merge(&'a ReadTxn, Layout),
}

/// Rows per folding thread below which [`write_tiles`] folds on one thread.
const FOLD_ROWS_PER_THREAD: usize = 32 * 1024;

/// Folding threads at most.
const FOLD_THREADS: usize = 4;

/// Folds `events` into the tiles that lie in `tiled` (and merges them into the stored ones)
/// while this thread writes them: folding and redb writes overlap. Large inputs are folded on
/// one thread per core (at most [`FOLD_THREADS`]), each a run of keys ([`key_ranges`]); each
/// chunk of tiles is in key order, which lets redb append it. Tiles go where `layout` puts
/// them. Returns the tiles written.
pub(super) fn write_tiles(
    txn: &mut WriteTxn,
    (group_by, layout): (&str, &Layout),
    aggregator: &RowAggregator,
    events: &[RecordBatch],
    tiled: &[Range<i64>; LEVELS],
    how: TileWrite<'_>,
) -> Result<usize> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(FOLD_THREADS));
    let runs = key_ranges(events, threads, FOLD_ROWS_PER_THREAD);
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<TileChunk>(2 * runs.len() + 2);
        let folders: Vec<_> = runs
            .iter()
            .map(|run| {
                let sender = sender.clone();
                scope.spawn(move || fold_run(aggregator, group_by, run, tiled, how, sender))
            })
            .collect();
        drop(sender);
        let mut written = Ok(());
        let mut count = 0;
        for chunk in receiver {
            count += chunk.tiles.len();
            written = txn.put_tiles(group_by, layout, chunk.iter());
            if written.is_err() {
                break;
            }
        }
        let mut folded = Ok(());
        for folder in folders {
            let result = folder
                .join()
                .unwrap_or_else(|_| Err(Error::Request("tile folding panicked".into())));
            folded = folded.and(result);
        }
        written?;
        folded?;
        Ok(count)
    })
}

/// Folds one run of keys into chunks of tiles sent to `sender`, merged into the stored tiles
/// first if `how` asks; stops early once the writer has stopped (it failed, and reports it).
fn fold_run(
    aggregator: &RowAggregator,
    group_by: &str,
    run: &[RecordBatch],
    tiled: &[Range<i64>; LEVELS],
    how: TileWrite<'_>,
    sender: std::sync::mpsc::SyncSender<TileChunk>,
) -> Result<()> {
    let mut chunk = TileChunk::default();
    // Sends `chunk` on; false when the writer has stopped.
    let send = |chunk: TileChunk| -> Result<bool> {
        let chunk = match how {
            TileWrite::Put => chunk,
            TileWrite::Merge(read, layout) => {
                merged_chunk((read, &layout), group_by, aggregator, &chunk)?
            }
        };
        Ok(sender.send(chunk).is_ok())
    };
    let mut stopped = false;
    fold_tiles(
        aggregator,
        run,
        tiled,
        |key, level, start, irs| -> Result<()> {
            if stopped {
                return Ok(());
            }
            let value_at = chunk.push_key(key);
            aggregator.encode(irs, &mut chunk.bytes);
            chunk.push_tile(key.len(), level as u8, start, value_at);
            if chunk.tiles.len() >= CHUNK_TILES {
                stopped = !send(std::mem::take(&mut chunk))?;
            }
            Ok(())
        },
    )?;
    if !stopped {
        send(chunk)?;
    }
    Ok(())
}
