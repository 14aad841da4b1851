//! Folding sorted rows into tiles (DESIGN.md "Data flow" 1): every event lands in its day tile,
//! and in its hour and five-minute tiles where those levels are kept.

use std::collections::BTreeMap;
use std::ops::Range;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;

use tilefold_query::aggregate::{AggregationError, Ir, RowAggregator};
use tilefold_query::evaluate::KEY_COLUMN;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{floor, whole_tiles, Level, DAY, FIVE_MINUTES, HOUR, LEVELS};

use crate::order::partition_point;

/// The first tile start kept at each level when the newest event is at `watermark`: five-minute
/// tiles for the last 12 hours, hourly tiles from the start of the day 12 days before the
/// newest event's (12 to 13 days), daily tiles always (DESIGN.md "Measured floor"). Older
/// ranges are read from raw events. Hourly tiles are kept from a day boundary so that a live
/// store gives them up once a day, not at every hour: each time costs a page per key with rows
/// in the range given up (they are stored key first).
pub fn kept_from(watermark: Option<i64>) -> [i64; LEVELS] {
    let mut kept = [i64::MIN; LEVELS];
    match watermark {
        Some(w) => {
            kept[Level::FiveMinutes.index()] = floor(w, FIVE_MINUTES) - 12 * HOUR;
            kept[Level::Hour.index()] = floor(w, DAY) - 12 * DAY;
        }
        None => {
            kept[Level::FiveMinutes.index()] = i64::MAX;
            kept[Level::Hour.index()] = i64::MAX;
        }
    }
    kept
}

/// Folds `segments` (each sorted by key bytes, then ts) key by key into the tiles that lie wholly
/// in `tiled[level]` (as [`tilefold_query::window::cover`] reads them: from the first start kept
/// to the end of the tiles written). For each key, `emit` receives its tiles in (level, start)
/// order, so keys and tiles arrive in stored order.
///
/// Levels are folded finest first. A tile whose rows all lie in one tile of the next finer
/// level holds exactly that tile's rows (tiles nest), so it shares that tile's state instead of
/// folding the rows again: the state is the same, bit for bit, because a state's rows arrive in
/// the same order either way. A live seal, whose rows of a key mostly fall in one five-minute
/// tile, folds each row once instead of once per level.
pub fn fold_tiles<E>(
    aggregator: &RowAggregator,
    segments: &[RecordBatch],
    tiled: &[Range<i64>; LEVELS],
    mut emit: impl FnMut(&[u8], Level, i64, &[Ir]) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<AggregationError>,
{
    // A segment without both columns has no rows to fold (and must not hold up the key loop).
    let columns: Vec<_> = segments
        .iter()
        .map(|s| {
            let keys = s
                .column_by_name(KEY_COLUMN)
                .map(|c| c.as_binary::<i32>().clone());
            let ts = s
                .column_by_name(TIME_COLUMN)
                .map(|c| c.as_primitive::<Int64Type>().clone());
            match (keys, ts) {
                (Some(keys), Some(ts)) => (Some(keys), Some(ts)),
                _ => (None, None),
            }
        })
        .collect();
    let mut at = vec![0usize; segments.len()];
    let mut tiles: BTreeMap<(Level, i64), usize> = BTreeMap::new();
    let mut states: Vec<Vec<Ir>> = Vec::new();
    // The key's rows: (segment, first row, end row) per segment holding it, in segment order.
    let mut parts: Vec<(usize, usize, usize)> = Vec::new();
    // Per row of the key (parts concatenated): its tile at the level folded and at the finer
    // one; None where the level is not kept.
    let mut tile_at: Vec<Option<i64>> = Vec::new();
    let mut finer: Vec<Option<i64>> = Vec::new();
    let mut shares: BTreeMap<i64, Share> = BTreeMap::new();
    let mut slots: Vec<usize> = Vec::new();
    loop {
        // The smallest key not yet folded.
        let mut key: Option<&[u8]> = None;
        for (s, (keys, _)) in columns.iter().enumerate() {
            let Some(keys) = keys else { continue };
            if at[s] < keys.len() {
                let k = keys.value(at[s]);
                if key.is_none_or(|min| k < min) {
                    key = Some(k);
                }
            }
        }
        let Some(key) = key else { break };
        let key = key.to_vec();
        tiles.clear();
        states.clear();
        parts.clear();
        for (s, (keys, ts)) in columns.iter().enumerate() {
            let (Some(keys), Some(_)) = (keys, ts) else {
                continue;
            };
            let start = at[s];
            let mut end = start;
            while end < keys.len() && keys.value(end) == key.as_slice() {
                end += 1;
            }
            if end > start {
                at[s] = end;
                parts.push((s, start, end));
            }
        }
        let times = |&(s, start, end): &(usize, usize, usize)| match &columns[s].1 {
            Some(ts) => &ts.values()[start..end],
            None => &[][..],
        };
        // Row r's state at level l is `slots[r * LEVELS + l]` (`usize::MAX`: none, or shared
        // with the finer tile).
        let rows: usize = parts.iter().map(|&(_, start, end)| end - start).sum();
        slots.clear();
        slots.resize(rows * LEVELS, usize::MAX);
        finer.clear();
        let mut fold = false;
        for (i, level) in Level::ALL.into_iter().enumerate() {
            tile_at.clear();
            let stored = whole_tiles(level, &tiled[level.index()]);
            for part in &parts {
                tile_at.extend(times(part).iter().map(|&t| {
                    let tile = floor(t, level.millis());
                    stored.contains(&tile).then_some(tile)
                }));
            }
            // Which of this level's tiles hold the rows of exactly one finer tile.
            shares.clear();
            if i > 0 {
                for (tile, child) in tile_at.iter().zip(&finer) {
                    let Some(tile) = *tile else { continue };
                    let share = match (shares.get(&tile), child) {
                        (None, Some(child)) => Share::One(*child),
                        (Some(Share::One(c)), Some(child)) if c == child => continue,
                        _ => Share::Many,
                    };
                    shares.insert(tile, share);
                }
            }
            let finer_level = Level::ALL[i.saturating_sub(1)];
            for (row, tile) in tile_at.iter().enumerate() {
                let Some(tile) = *tile else { continue };
                if let Some(Share::One(child)) = shares.get(&tile) {
                    if !tiles.contains_key(&(level, tile)) {
                        let slot = tiles[&(finer_level, *child)];
                        tiles.insert((level, tile), slot);
                    }
                    continue;
                }
                let next = states.len();
                let slot = *tiles.entry((level, tile)).or_insert(next);
                if slot == next {
                    states.push(aggregator.new_irs());
                }
                slots[row * LEVELS + i] = slot;
                fold = true;
            }
            std::mem::swap(&mut finer, &mut tile_at);
        }
        if fold {
            // Each row's value is read once for all its levels; each state takes its rows in
            // segment order, then (key, ts) order.
            let mut row = 0;
            for part in &parts {
                let &(s, start, end) = part;
                let part_slots = &slots[row * LEVELS..(row + end - start) * LEVELS];
                row += end - start;
                aggregator.update_rows(
                    &segments[s],
                    start..end,
                    times(part),
                    part_slots,
                    LEVELS,
                    None,
                    &mut states,
                )?;
            }
        }
        for (&(level, start), &slot) in &tiles {
            emit(&key, level, start, &states[slot])?;
        }
    }
    Ok(())
}

/// Splits `segments` (each sorted by key bytes, then ts) into at most `parts` runs of keys,
/// for [`fold_tiles`] to fold on as many threads: run `i` holds, from every segment (in
/// segment order, as slices sharing its buffers), the rows whose keys lie in its range, and
/// every key of run `i` sorts before every key of run `i + 1`, so a key's rows stay together.
/// Split keys are taken at even row counts of the largest segment; inputs of fewer rows than
/// `min_rows` per part are not split.
pub fn key_ranges(
    segments: &[RecordBatch],
    parts: usize,
    min_rows: usize,
) -> Vec<Vec<RecordBatch>> {
    let keys: Vec<_> = segments
        .iter()
        .map(|s| s.column_by_name(KEY_COLUMN).map(|c| c.as_binary::<i32>()))
        .collect();
    let rows: usize = segments.iter().map(RecordBatch::num_rows).sum();
    let parts = parts.min(rows / min_rows.max(1)).max(1);
    let largest = keys.iter().flatten().max_by_key(|k| k.len());
    let (Some(largest), true) = (largest, parts > 1) else {
        return vec![segments.to_vec()];
    };
    let len = largest.len();
    let mut splits: Vec<&[u8]> = (1..parts).map(|p| largest.value(p * len / parts)).collect();
    splits.dedup();
    // Row boundaries per segment: the first row of each key run's range.
    let bounds: Vec<Vec<usize>> = segments
        .iter()
        .zip(&keys)
        .map(|(segment, keys)| {
            let mut at = vec![0];
            for split in &splits {
                at.push(match keys {
                    Some(keys) => partition_point(keys.len(), |i| keys.value(i) < *split),
                    None => segment.num_rows(),
                });
            }
            at.push(segment.num_rows());
            at
        })
        .collect();
    (0..=splits.len())
        .map(|p| {
            segments
                .iter()
                .zip(&bounds)
                .map(|(segment, at)| segment.slice(at[p], at[p + 1] - at[p]))
                .collect()
        })
        .collect()
}

/// Whether a tile's rows all lie in one tile of the next finer level.
#[derive(Debug, Clone, Copy)]
enum Share {
    /// All in this finer tile (its start).
    One(i64),
    /// In several, or some where the finer level is not kept.
    Many,
}
