//! `fold_tiles` shares a tile's state with the finer tile holding the same rows; the tiles it
//! emits must equal, byte for byte, those of folding every level's rows on their own (the
//! reference below), over keys spread across several segments, levels kept or not, and rows on
//! and across tile boundaries (DESIGN.md "Data flow" 1, SEMANTICS.md R-AGG-12: same rows in the
//! same order, same bits).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;
use tilefold_ingest::{fold_tiles, key_ranges};
use tilefold_query::aggregate::{AggregationError, RowAggregator};
use tilefold_query::config::GroupBy;
use tilefold_query::evaluate::KEY_COLUMN;
use tilefold_query::source_query::TIME_COLUMN;
use tilefold_query::window::{floor, Level, DAY, HOUR, LEVELS};

/// Order-sensitive doubles (SUM), sketches, sets and ordered items: anything that would show a
/// row folded twice, missed, or folded in another order.
const GROUP_BY: &str = r#"{
  "metaData": {"name": "test.tiles.v1", "team": "test"},
  "sources": [{"events": {"table": "data.events", "topic": "events",
    "query": {"selects": {"user": "user", "price": "price", "merchant": "merchant"},
              "timeColumn": "ts"}}}],
  "keyColumns": ["user"],
  "aggregations": [
    {"inputColumn": "price", "operation": 7, "windows": [{"length": 3, "timeUnit": 1}]},
    {"inputColumn": "price", "operation": 9},
    {"inputColumn": "price", "operation": 12, "argMap": {"k": "16", "percentiles": "[0.5]"}},
    {"inputColumn": "merchant", "operation": 4},
    {"inputColumn": "merchant", "operation": 5},
    {"inputColumn": "merchant", "operation": 13, "argMap": {"k": "3"}},
    {"inputColumn": "price", "operation": 8, "buckets": ["merchant"]}
  ]
}"#;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("price", DataType::Float64, true),
        Field::new("merchant", DataType::Utf8, true),
        Field::new(KEY_COLUMN, DataType::Binary, false),
        Field::new(TIME_COLUMN, DataType::Int64, false),
    ])
}

fn aggregator() -> RowAggregator {
    let group_by = GroupBy::from_json_str(GROUP_BY).expect("config loads");
    RowAggregator::new(&group_by, &schema()).expect("aggregator")
}

/// (key, ts, price, merchant)
type Row = (u8, i64, Option<f64>, Option<u8>);

/// A segment sorted by (key, ts), as sealed segments are.
fn segment(mut rows: Vec<Row>) -> RecordBatch {
    rows.sort_by_key(|r| (r.0, r.1));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.2))),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.3.map(|m| format!("m{m}"))),
        )),
        Arc::new(BinaryArray::from_iter_values(rows.iter().map(|r| [r.0]))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    RecordBatch::try_new(Arc::new(schema()), columns).expect("segment")
}

type Tiles = BTreeMap<(Vec<u8>, Level, i64), Vec<u8>>;

/// The time each level's tiles cover.
type Tiled = [Range<i64>; LEVELS];

/// Every tile of every level.
const ALL: Tiled = [const { i64::MIN..i64::MAX }; LEVELS];

fn folded(agg: &RowAggregator, segments: &[RecordBatch], tiled: &Tiled) -> Tiles {
    let mut tiles = Tiles::new();
    fold_tiles(agg, segments, tiled, |key, level, start, irs| {
        let mut bytes = Vec::new();
        agg.encode(irs, &mut bytes);
        let previous = tiles.insert((key.to_vec(), level, start), bytes);
        assert!(previous.is_none(), "a tile emitted twice");
        Ok::<_, AggregationError>(())
    })
    .expect("fold");
    tiles
}

/// The reference: every level on its own, each tile folded from its rows, segment by segment
/// in segment order, each segment's rows in (key, ts) order; a tile only if it lies wholly in
/// the level's tiled time.
fn reference(agg: &RowAggregator, segments: &[RecordBatch], tiled: &Tiled) -> Tiles {
    let mut states = BTreeMap::new();
    for segment in segments {
        let keys = segment
            .column_by_name(KEY_COLUMN)
            .and_then(|c| c.as_any().downcast_ref::<BinaryArray>())
            .expect("keys");
        let ts = segment
            .column_by_name(TIME_COLUMN)
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .expect("ts");
        for row in 0..segment.num_rows() {
            for level in Level::ALL {
                let t = ts.value(row);
                let start = floor(t, level.millis());
                let stored = &tiled[level.index()];
                if start < stored.start || start + level.millis() > stored.end {
                    continue;
                }
                let mut one = vec![agg.new_irs()];
                let tile_key = (keys.value(row).to_vec(), level, start);
                if let Some(state) = states.remove(&tile_key) {
                    one[0] = state;
                }
                agg.update_batch(&segment.slice(row, 1), &[t], &[0], None, &mut one)
                    .expect("update");
                states.insert(tile_key, one.pop().expect("state"));
            }
        }
    }
    states
        .into_iter()
        .map(|(tile, irs)| {
            let mut bytes = Vec::new();
            agg.encode(&irs, &mut bytes);
            (tile, bytes)
        })
        .collect()
}

/// Times around a day and its hours and five-minute tiles, so that rows share tiles at some
/// levels and not at others, and some sit on boundaries.
fn ts() -> impl Strategy<Value = i64> {
    let base = 40 * DAY;
    prop_oneof![
        (0i64..300_000).prop_map(move |d| base + 3 * HOUR + d),
        (0i64..2 * HOUR).prop_map(move |d| base + 2 * HOUR + d),
        (0i64..6).prop_map(move |k| base + k * HOUR),
        (0i64..20 * DAY).prop_map(move |d| base - 10 * DAY + d),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (
        0u8..4,
        ts(),
        proptest::option::weighted(0.9, -1e3f64..1e3),
        proptest::option::weighted(0.9, 0u8..5),
    )
}

/// Levels kept from some start (fine ones only recently), written up to some instant (a live
/// GroupBy's tiles that have ended), or both.
fn tiled() -> impl Strategy<Value = Tiled> {
    let base = 40 * DAY;
    let five = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(base + 3 * HOUR),
        Just(base)
    ];
    let hour = prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(base - 5 * DAY)];
    let written = prop_oneof![
        Just(i64::MAX),
        Just(base + 3 * HOUR + 5 * 60_000),
        Just(base + 2 * HOUR + 35 * 60_000),
        Just(base + DAY),
        Just(base - 3 * DAY),
    ];
    (five, hour, written).prop_map(|(five, hour, written)| {
        let mut kept = [i64::MIN; LEVELS];
        kept[Level::FiveMinutes.index()] = five;
        kept[Level::Hour.index()] = hour;
        std::array::from_fn(|level| kept[level]..written)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shared_states_equal_folding_every_level(
        segments in proptest::collection::vec(proptest::collection::vec(row(), 0..40), 1..4),
        tiled in tiled(),
    ) {
        let agg = aggregator();
        let segments: Vec<RecordBatch> = segments.into_iter().map(segment).collect();
        prop_assert_eq!(folded(&agg, &segments, &tiled), reference(&agg, &segments, &tiled));
    }

    /// Folding each of `key_ranges`' runs on its own gives the tiles of folding all rows: no
    /// row lost or doubled, a key's rows in one run, and runs in key order.
    #[test]
    fn key_ranges_fold_to_the_same_tiles(
        segments in proptest::collection::vec(proptest::collection::vec(row(), 0..40), 1..4),
        parts in 1usize..5,
        min_rows in 1usize..8,
    ) {
        let agg = aggregator();
        let segments: Vec<RecordBatch> = segments.into_iter().map(segment).collect();
        let runs = key_ranges(&segments, parts, min_rows);
        let rows: usize = segments.iter().map(RecordBatch::num_rows).sum();
        prop_assert!(runs.len() <= parts.min(rows / min_rows).max(1));
        let mut all = Tiles::new();
        let mut last_key: Option<Vec<u8>> = None;
        for run in &runs {
            prop_assert_eq!(run.len(), segments.len());
            let tiles = folded(&agg, run, &ALL);
            let keys: Vec<&Vec<u8>> = tiles.keys().map(|(k, _, _)| k).collect();
            if let (Some(last), Some(first)) = (&last_key, keys.first()) {
                prop_assert!(last < *first, "runs overlap or are out of order");
            }
            if let Some(k) = keys.last() {
                last_key = Some((*k).clone());
            }
            for (tile, bytes) in tiles {
                prop_assert!(all.insert(tile, bytes).is_none(), "a tile in two runs");
            }
        }
        let sliced: usize = runs.iter().flatten().map(RecordBatch::num_rows).sum();
        prop_assert_eq!(sliced, rows);
        prop_assert_eq!(all, folded(&agg, &segments, &ALL));
    }
}

/// A hand-made case: one key, three rows in one five-minute tile, one row a day later; no level
/// limit. The five-minute tile, its hour and its day share one state; the 4-day and 16-day
/// tiles hold all four rows (or the two days apart).
#[test]
fn rows_of_one_five_minute_tile_make_equal_tiles_up_to_the_day() {
    let agg = aggregator();
    let t = 40 * DAY + 3 * HOUR;
    let rows = vec![
        (1, t + 1, Some(1.5), Some(1)),
        (1, t + 2, Some(2.25), Some(2)),
        (1, t + 3, None, Some(1)),
        (1, t + DAY, Some(4.0), Some(3)),
    ];
    let tiles = folded(&agg, &[segment(rows)], &ALL);
    let tile = |level: Level, t: i64| tiles[&(vec![1], level, floor(t, level.millis()))].clone();
    assert_eq!(tile(Level::FiveMinutes, t), tile(Level::Hour, t));
    assert_eq!(tile(Level::Hour, t), tile(Level::Day, t));
    assert_ne!(
        tile(Level::Day, t),
        tile(Level::FourDays, t),
        "4-day holds the later row"
    );
    assert_eq!(
        tiles.len(),
        2 * 3 + 1 + 1,
        "two 5-min/hour/day tiles, one 4-day, one 16-day"
    );
}

/// A segment without a time column has nothing to fold: it is skipped, and the others fold as
/// they would alone (it does not hold up the key-by-key loop).
#[test]
fn a_segment_without_a_time_column_is_skipped() {
    let agg = aggregator();
    let t = 40 * DAY + 3 * HOUR;
    let good = segment(vec![(1, t, Some(1.0), Some(1)), (2, t, Some(2.0), Some(2))]);
    let keys_only = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            KEY_COLUMN,
            DataType::Binary,
            false,
        )])),
        vec![Arc::new(BinaryArray::from_iter_values([[1u8], [3u8]])) as ArrayRef],
    )
    .expect("batch");
    assert_eq!(
        folded(&agg, &[keys_only, good.clone()], &ALL),
        folded(&agg, &[good], &ALL)
    );
}
