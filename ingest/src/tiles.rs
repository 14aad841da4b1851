//! Folding sorted rows into tiles (DESIGN.md "Data flow" 1): every event lands in its day tile,
//! and in its hour and five-minute tiles where those levels are kept.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;

use tilefold_query::aggregate::{AggregationError, Ir, RowAggregator};
use tilefold_query::evaluate::KEY_COLUMN;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{floor, Level, DAY, FIVE_MINUTES, HOUR, LEVELS};

/// The first tile start kept at each level when the newest event is at `watermark`: five-minute
/// tiles for the last 12 hours, hourly tiles for the last 12 days, daily tiles always (DESIGN.md
/// "Measured floor"). Older ranges are read from raw events.
pub fn kept_from(watermark: Option<i64>) -> [i64; LEVELS] {
    let mut kept = [i64::MIN; LEVELS];
    match watermark {
        Some(w) => {
            kept[Level::FiveMinutes.index()] = floor(w, FIVE_MINUTES) - 12 * HOUR;
            kept[Level::Hour.index()] = floor(w, HOUR) - 12 * DAY;
        }
        None => {
            kept[Level::FiveMinutes.index()] = i64::MAX;
            kept[Level::Hour.index()] = i64::MAX;
        }
    }
    kept
}

/// Folds `segments` (each sorted by key bytes, then ts) key by key. For each key, `emit` receives
/// its tiles in (level, start) order, so keys and tiles arrive in stored order.
pub fn fold_tiles<E>(
    aggregator: &RowAggregator,
    segments: &[RecordBatch],
    kept_from: [i64; LEVELS],
    mut emit: impl FnMut(&[u8], Level, i64, &[Ir]) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<AggregationError>,
{
    let columns: Vec<_> = segments
        .iter()
        .map(|s| {
            (
                s.column_by_name(KEY_COLUMN)
                    .map(|c| c.as_binary::<i32>().clone()),
                s.column_by_name(TIME_COLUMN)
                    .map(|c| c.as_primitive::<Int64Type>().clone()),
            )
        })
        .collect();
    let mut at = vec![0usize; segments.len()];
    let mut tiles: BTreeMap<(Level, i64), usize> = BTreeMap::new();
    let mut states: Vec<Vec<Ir>> = Vec::new();
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
        for (s, (keys, ts)) in columns.iter().enumerate() {
            let (Some(keys), Some(ts)) = (keys, ts) else {
                continue;
            };
            let start = at[s];
            let mut end = start;
            while end < keys.len() && keys.value(end) == key.as_slice() {
                end += 1;
            }
            if end == start {
                continue;
            }
            at[s] = end;
            let rows = segments[s].slice(start, end - start);
            let ts = &ts.values()[start..end];
            for level in Level::ALL {
                slots.clear();
                for &t in ts {
                    let tile = floor(t, level.millis());
                    if tile < kept_from[level.index()] {
                        slots.push(usize::MAX);
                        continue;
                    }
                    let next = states.len();
                    let slot = *tiles.entry((level, tile)).or_insert(next);
                    if slot == next {
                        states.push(aggregator.new_irs());
                    }
                    slots.push(slot);
                }
                aggregator.update_batch(&rows, ts, &slots, None, &mut states)?;
            }
        }
        for (&(level, start), &slot) in &tiles {
            emit(&key, level, start, &states[slot])?;
        }
    }
    Ok(())
}
