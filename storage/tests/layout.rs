//! Hour and day tiles stored start first where a [`Layout`] says: every write, merge, removal,
//! move and read goes where the layout puts a tile, checked against a model of the two kinds of
//! table (key first, start first) as plain ordered maps.

mod common;

use std::collections::BTreeMap;
use std::ops::Range;

use common::{Rng, TempDir};
use tilefold_storage::{Database, Layout, ReadTxn, StorageError, START_FIRST_MILLIS};

const HOUR: i64 = START_FIRST_MILLIS[1];
const DAY: i64 = START_FIRST_MILLIS[2];

/// (key, level, start) → value, per kind of table.
#[derive(Default)]
struct Model {
    key_first: BTreeMap<(Vec<u8>, u8, i64), Vec<u8>>,
    start_first: BTreeMap<(Vec<u8>, u8, i64), Vec<u8>>,
}

impl Model {
    fn put(&mut self, layout: &Layout, tile: (Vec<u8>, u8, i64), value: Vec<u8>) {
        if layout.start_first(tile.1, tile.2) {
            self.start_first.insert(tile, value);
        } else {
            self.key_first.insert(tile, value);
        }
    }

    fn get(&self, layout: &Layout, tile: &(Vec<u8>, u8, i64)) -> Option<&Vec<u8>> {
        if layout.start_first(tile.1, tile.2) {
            self.start_first.get(tile)
        } else {
            self.key_first.get(tile)
        }
    }

    /// What a read under `layout` sees: each tile from the table the layout puts it in.
    fn visible(&self, layout: &Layout) -> Vec<(Vec<u8>, u8, i64, Vec<u8>)> {
        let mut tiles: Vec<_> = self
            .key_first
            .iter()
            .filter(|((_, l, s), _)| !layout.start_first(*l, *s))
            .chain(
                self.start_first
                    .iter()
                    .filter(|((_, l, s), _)| layout.start_first(*l, *s)),
            )
            .map(|((k, l, s), v)| (k.clone(), *l, *s, v.clone()))
            .collect();
        tiles.sort();
        tiles
    }
}

const KEYS: u64 = 9;

fn key(i: u64) -> Vec<u8> {
    vec![b'k', i as u8]
}

/// A random tile of levels 1-4 (hours, days and coarser), starts around the layout's cuts.
fn random_tile(rng: &mut Rng) -> (Vec<u8>, u8, i64) {
    let level = 1 + rng.below(4) as u8;
    let start = match level {
        1 => rng.below(24 * 5) as i64 * HOUR,
        _ => rng.below(5) as i64 * DAY,
    };
    (key(rng.below(KEYS)), level, start)
}

fn check(read: &ReadTxn, layout: &Layout, model: &Model, round: usize) {
    let visible = model.visible(layout);
    assert_eq!(
        read.all_tiles("g", layout).unwrap(),
        visible,
        "round {round}"
    );
    for k in 0..KEYS {
        let key = key(k);
        let spans: Vec<(u8, Range<i64>)> = vec![
            (1, 0..3 * DAY + 7 * HOUR),
            (1, 3 * DAY + 9 * HOUR..i64::MAX),
            (2, DAY..4 * DAY),
            (3, 0..i64::MAX),
            (4, 0..i64::MAX),
        ];
        let mut visited = Vec::new();
        read.visit_tiles("g", &key, layout, &spans, |level, start, bytes| {
            visited.push((key.clone(), level, start, bytes.to_vec()));
            Ok(())
        })
        .unwrap();
        visited.sort();
        let expected: Vec<_> = visible
            .iter()
            .filter(|(k, l, s, _)| {
                *k == key && spans.iter().any(|(sl, r)| sl == l && r.contains(s))
            })
            .cloned()
            .collect();
        assert_eq!(visited, expected, "round {round}, key {k}");
    }
}

/// Random rounds of writes, merges and removals, each committed and checked, with the layout's
/// hour and day cuts moving forward a day at a time (hour tiles moved key first, day tiles
/// removed from the start-first table), as a live store moves them.
#[test]
fn every_operation_goes_where_the_layout_puts_tiles() {
    let dir = TempDir::new("layout-model");
    let db = Database::open(dir.path()).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut model = Model::default();
    let mut layout = Layout::default();
    for round in 0..60 {
        let mut write = db.begin_write().unwrap();
        match round % 6 {
            // Move the cuts on: hours of the days before the new cut go key first, the day tiles
            // before it are dropped from the start-first table.
            5 => {
                let day = (round / 6) as i64 % 5;
                let (from, to) = (layout.start_first_from[1], day * DAY);
                if from == i64::MAX || to > from {
                    let range = from.min(to)..to;
                    let moved = write.move_to_key_first("g", 1, range.clone()).unwrap();
                    let keys: Vec<_> = model
                        .start_first
                        .keys()
                        .filter(|(_, l, s)| *l == 1 && range.contains(s))
                        .cloned()
                        .collect();
                    assert_eq!(moved, keys.len(), "round {round}");
                    for tile in keys {
                        let value = model.start_first.remove(&tile).unwrap();
                        model.key_first.insert(tile, value);
                    }
                    let dropped = layout.start_first_from[2].min(to)..to;
                    write.remove_start_first("g", 2, dropped.clone()).unwrap();
                    model
                        .start_first
                        .retain(|(_, l, s), _| !(*l == 2 && dropped.contains(s)));
                    layout.start_first_from[1] = to;
                    layout.start_first_from[2] = to;
                }
            }
            4 => {
                // Remove a few ranges, some across the cut.
                let mut ranges = Vec::new();
                for _ in 0..4 {
                    let (k, level, start) = random_tile(&mut rng);
                    let len = if level == 1 { 30 * HOUR } else { 2 * DAY };
                    ranges.push((k, level, start..start + len));
                }
                let removed = write
                    .remove_tiles(
                        "g",
                        &layout,
                        ranges.iter().map(|(k, l, r)| (k.as_slice(), *l, r.clone())),
                    )
                    .unwrap();
                let mut expected = 0;
                for (k, l, r) in &ranges {
                    for (cut, table) in [
                        (false, &mut model.key_first),
                        (true, &mut model.start_first),
                    ] {
                        let before = table.len();
                        table.retain(|(tk, tl, ts), _| {
                            !(tk == k
                                && tl == l
                                && r.contains(ts)
                                && layout.start_first(*l, *ts) == cut)
                        });
                        expected += before - table.len();
                    }
                }
                assert_eq!(removed, expected, "round {round}");
            }
            3 => {
                // Merge into stored tiles: the value appended to what the layout's table holds.
                let read = db.begin_read().unwrap();
                let tiles: Vec<_> = (0..30).map(|_| random_tile(&mut rng)).collect();
                let mut tiles: Vec<_> = tiles
                    .into_iter()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                tiles.sort();
                let values: Vec<Vec<u8>> = tiles
                    .iter()
                    .map(|_| vec![b'+', rng.below(9) as u8])
                    .collect();
                let mut merged = Vec::new();
                read.merge_tiles(
                    "g",
                    &layout,
                    tiles
                        .iter()
                        .zip(&values)
                        .map(|((k, l, s), v)| (k.as_slice(), *l, *s, v.as_slice())),
                    |stored, new, out| {
                        out.extend_from_slice(stored);
                        out.extend_from_slice(new);
                        Ok(())
                    },
                    |k, l, s, v| merged.push((k.to_vec(), l, s, v.to_vec())),
                )
                .unwrap();
                for ((tile, value), (k, l, s, out)) in tiles.iter().zip(&values).zip(&merged) {
                    assert_eq!(tile, &(k.clone(), *l, *s));
                    let mut expected = model.get(&layout, tile).cloned().unwrap_or_default();
                    expected.extend_from_slice(value);
                    assert_eq!(out, &expected, "round {round}");
                }
                write
                    .put_tiles(
                        "g",
                        &layout,
                        merged
                            .iter()
                            .map(|(k, l, s, v)| (k.as_slice(), *l, *s, v.as_slice())),
                    )
                    .unwrap();
                for (k, l, s, v) in merged {
                    model.put(&layout, (k, l, s), v);
                }
            }
            _ => {
                let mut tiles: Vec<_> = (0..40)
                    .map(|_| {
                        let tile = random_tile(&mut rng);
                        let value = format!("{tile:?} {round}").into_bytes();
                        (tile, value)
                    })
                    .collect();
                if round % 2 == 0 {
                    tiles.sort();
                }
                write
                    .put_tiles(
                        "g",
                        &layout,
                        tiles
                            .iter()
                            .map(|((k, l, s), v)| (k.as_slice(), *l, *s, v.as_slice())),
                    )
                    .unwrap();
                for (tile, value) in tiles {
                    model.put(&layout, tile, value);
                }
            }
        }
        write.commit().unwrap();
        check(&db.begin_read().unwrap(), &layout, &model, round);
    }
    assert!(
        model.key_first.keys().any(|(_, l, _)| *l == 1),
        "hours moved key first"
    );
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    check(&db.begin_read().unwrap(), &layout, &model, usize::MAX);
}

/// A start-first tile must start on its level's boundary: a misaligned hour tile is refused
/// with `Invalid` naming it, and nothing of the batch is written.
#[test]
fn a_misaligned_start_first_tile_is_refused() {
    let dir = TempDir::new("layout-misaligned");
    let db = Database::open(dir.path()).unwrap();
    let layout = Layout {
        start_first_from: [i64::MIN, 0, i64::MAX],
    };
    let mut write = db.begin_write().unwrap();
    let error = write
        .put_tiles(
            "g",
            &layout,
            [
                (&b"a"[..], 1, HOUR, &b"v"[..]),
                (&b"a"[..], 1, HOUR + 1, &b"v"[..]),
            ],
        )
        .unwrap_err();
    match error {
        StorageError::Invalid { what, .. } => assert!(what.contains("level 1"), "{what}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    drop(write);
    let read = db.begin_read().unwrap();
    assert!(read.all_tiles("g", &layout).unwrap().is_empty());
}
