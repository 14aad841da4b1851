//! A live GroupBy's current day: its hour tiles and its partial day tile, stored start first.
//!
//! The seal at each hour's end writes the hour tile of every key active in it. Key first, each
//! sat among that key's older tiles: a page per active key (with 100k keys, ~25 s of the seal
//! thread per hour, session 15). Start first, the hour's tiles are neighbours. At each day's
//! end the day's hour tiles move key first, where a window's ends read a key's in one range
//! scan, one page per key once a day instead of every hour.
//!
//! The day so far is one more tile per key, the day tile at the day's start, stored start first
//! too: the seal at each hour's end merges the hour's rows into it. A fetch at now reads it
//! instead of the day's hour tiles (up to 23 seeks, start first). It holds the counted sealed
//! rows from the day's start to the end of the last hour tile written
//! ([`GroupByEntry::partial_day`]); the evaluator reads it only for ranges that span exactly
//! that ([`tilefold_query::window::cover`]), and the day's hour tiles otherwise.

use std::ops::Range;

use arrow::array::RecordBatch;

use tilefold_query::aggregate::RowAggregator;
use tilefold_query::window::{floor, Level, DAY, HOUR, LEVELS};
use tilefold_storage::{ReadTxn, WriteTxn};

use super::bound::BoundGroupBy;
use super::catalog::GroupByEntry;
use super::rebuild::rows_within;
use super::tile_write::{write_tiles, TileWrite};
use crate::Result;

/// Where a seal leaves the start-first hour tiles of `old` begin, given where its tiles were
/// written (`written`, see `seal::tiles_written_to`) and where they will be (`to`): from the
/// start of the day of `to` at the latest (the hours before move key first). A GroupBy whose
/// hour tiles were all key first (loaded or rebuilt) starts at the first hour the seals write
/// whole: its loaded tiles before that stay key first.
pub(super) fn hours_start_first_from(old: &GroupByEntry, written: i64, to: i64) -> i64 {
    let day = floor(to, DAY);
    let from = old
        .hours_start_first_from
        .unwrap_or(if written == i64::MAX {
            day
        } else {
            floor(written, HOUR)
        });
    from.max(day)
}

/// Moves the start-first tiles of the days that ended between `old`'s layout and `new`'s:
/// their hour tiles key first, and their partial day tiles away (the seal writes their whole
/// day tiles, key first). Returns how many hour tiles moved.
pub(super) fn move_ended_days(
    txn: &mut WriteTxn,
    group_by: &str,
    old: &GroupByEntry,
    new: &GroupByEntry,
) -> Result<usize> {
    let (old, new) = (old.layout(), new.layout());
    let (hour, day) = (Level::Hour.index(), Level::Day.index());
    let mut moved = 0;
    let (from, to) = (old.start_first_from[hour], new.start_first_from[hour]);
    if from < to {
        moved += txn.move_to_key_first(group_by, Level::Hour as u8, from..to)?;
    }
    let (from, to) = (old.start_first_from[day], new.start_first_from[day]);
    if from < to {
        txn.remove_start_first(group_by, Level::Day as u8, from..to)?;
    }
    Ok(moved)
}

/// Writes `entry`'s partial day tile ([`GroupByEntry::partial_day`]) for a seal of `rows` (the
/// new sealed rows of `bound`, its aggregator and the last commit's snapshot): within the day
/// of `bound`'s partial tile, the rows of the hours that ended since and the late rows before
/// them merge into it; otherwise (a new day, or the first seal keeping one) it is folded from
/// every counted sealed row of the day so far. Returns the tiles written.
pub(super) fn write_partial_day(
    txn: &mut WriteTxn,
    (bound, aggregator, read): (&BoundGroupBy, &RowAggregator, &ReadTxn),
    rows: &RecordBatch,
    entry: &GroupByEntry,
) -> Result<usize> {
    let Some(day) = entry.partial_day() else {
        return Ok(0);
    };
    let name = bound.name();
    let old = &bound.entry;
    // Only the day level, and only the day's tile.
    let tiled: [Range<i64>; LEVELS] = std::array::from_fn(|l| {
        if l == Level::Day.index() {
            day.start..day.start + DAY
        } else {
            0..0
        }
    });
    let layout = entry.layout();
    match old.partial_day() {
        Some(before) if before.start == day.start && before.end <= day.end => {
            let mut inputs: Vec<RecordBatch> =
                rows_within(rows, &before, name)?.into_iter().collect();
            inputs.extend(counted_rows_within(bound, rows, &(before.end..day.end))?);
            if inputs.is_empty() {
                return Ok(0);
            }
            let how = TileWrite::Merge(read, old.layout());
            write_tiles(txn, (name, &layout), aggregator, &inputs, &tiled, how)
        }
        _ => {
            let inputs = counted_rows_within(bound, rows, &day)?;
            write_tiles(
                txn,
                (name, &layout),
                aggregator,
                &inputs,
                &tiled,
                TileWrite::Put,
            )
        }
    }
}

/// The counted sealed rows of `bound` (its segments, already open) and the new sealed `rows`
/// with `ts` in `range`.
pub(super) fn counted_rows_within(
    bound: &BoundGroupBy,
    rows: &RecordBatch,
    range: &Range<i64>,
) -> Result<Vec<RecordBatch>> {
    let name = bound.name();
    let mut inputs = Vec::new();
    if range.start >= range.end {
        return Ok(inputs);
    }
    for (segment, counted) in bound.event_segments() {
        let within = range.start.max(counted.start)..range.end.min(counted.end);
        if !within.is_empty() {
            inputs.extend(rows_within(segment.batch(), &within, name)?);
        }
    }
    inputs.extend(rows_within(rows, range, name)?);
    Ok(inputs)
}
