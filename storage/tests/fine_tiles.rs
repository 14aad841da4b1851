//! Five-minute tiles (level 0) live in their own start-first table: every read, removal and
//! listing of them gives what one key-first table of all levels would, checked against a
//! plain ordered map of the same tiles.

mod common;

use std::collections::BTreeMap;
use std::ops::Range;

use common::{Rng, TempDir};
use tilefold_storage::{Database, Layout, ReadTxn, StorageError, FINE_LEVEL, FINE_TILE_MILLIS};

const M: i64 = FINE_TILE_MILLIS;

/// (key, level, start) → value: the model of one group-by's tiles.
type Model = BTreeMap<(Vec<u8>, u8, i64), Vec<u8>>;

/// The model's tiles of `key` at `level` whose start lies in `starts`, in start order.
fn expected(model: &Model, key: &[u8], level: u8, starts: &Range<i64>) -> Vec<(i64, Vec<u8>)> {
    model
        .iter()
        .filter(|((k, l, s), _)| k == key && *l == level && starts.contains(s))
        .map(|((_, _, s), v)| (*s, v.clone()))
        .collect()
}

fn read_level(read: &ReadTxn, key: &[u8], level: u8, starts: Range<i64>) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    read.tiles("g", key, level, starts, &Layout::default(), &mut out)
        .unwrap();
    out
}

/// A random range of starts around the stored ones, often not on a tile boundary.
fn random_range(rng: &mut Rng) -> Range<i64> {
    let from = rng.below(60) as i64 * M / 2 - 5 * M - rng.below(3) as i64;
    let to = from + rng.below(30) as i64 * M / 3;
    from..to
}

#[test]
fn reads_and_removals_match_one_ordered_table() {
    let dir = TempDir::new("fine-model");
    let db = Database::open(dir.path()).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut model = Model::new();
    let keys: Vec<Vec<u8>> = (0..12u8)
        .map(|k| vec![k % 4; usize::from(k / 4) + 1])
        .collect();
    let mut write = db.begin_write().unwrap();
    for _ in 0..400 {
        let key = keys[rng.below(keys.len() as u64) as usize].clone();
        let level = rng.below(3) as u8;
        // Negative starts too: five-minute multiples on both sides of the epoch.
        let start = (rng.below(40) as i64 - 8) * M;
        let value = format!("{key:?} {level} {start} {}", rng.below(1000)).into_bytes();
        write.put_tile("g", &key, level, start, &value).unwrap();
        model.insert((key, level, start), value);
    }
    write.commit().unwrap();

    for round in 0..6 {
        let read = db.begin_read().unwrap();
        let all: Vec<_> = model
            .iter()
            .map(|((k, l, s), v)| (k.clone(), *l, *s, v.clone()))
            .collect();
        assert_eq!(
            read.all_tiles("g", &Layout::default()).unwrap(),
            all,
            "round {round}"
        );
        for _ in 0..200 {
            let key = &keys[rng.below(keys.len() as u64) as usize];
            let level = rng.below(3) as u8;
            let starts = random_range(&mut rng);
            assert_eq!(
                read_level(&read, key, level, starts.clone()),
                expected(&model, key, level, &starts),
                "round {round}, key {key:?}, level {level}, starts {starts:?}"
            );
            // Several levels in one visit: each level's tiles in order, levels in any order.
            let spans: Vec<(u8, Range<i64>)> =
                (0..3u8).map(|l| (l, random_range(&mut rng))).collect();
            let mut visited = Vec::new();
            read.visit_tiles(
                "g",
                key,
                &Layout::default(),
                &spans,
                |level, start, bytes| {
                    visited.push((level, start, bytes.to_vec()));
                    Ok(())
                },
            )
            .unwrap();
            visited.sort_by_key(|(level, _, _)| *level);
            let wanted: Vec<_> = spans
                .iter()
                .flat_map(|(l, s)| {
                    expected(&model, key, *l, s)
                        .into_iter()
                        .map(move |(start, v)| (*l, start, v))
                })
                .collect();
            assert_eq!(
                visited, wanted,
                "round {round}, key {key:?}, spans {spans:?}"
            );
        }
        drop(read);

        // Remove: every key's five-minute tiles in a range, then some keys' tiles per level.
        let mut write = db.begin_write().unwrap();
        let range = random_range(&mut rng);
        let before = model.len();
        model.retain(|(_, l, s), _| !(*l == FINE_LEVEL && range.contains(s)));
        assert_eq!(
            write.remove_start_first("g", 0, range.clone()).unwrap(),
            before - model.len(),
            "round {round}, range {range:?}"
        );
        let mut ranges = Vec::new();
        for _ in 0..3 {
            let key = keys[rng.below(keys.len() as u64) as usize].clone();
            ranges.push((key, rng.below(3) as u8, random_range(&mut rng)));
        }
        let before = model.len();
        for (key, level, starts) in &ranges {
            model.retain(|(k, l, s), _| !(k == key && l == level && starts.contains(s)));
        }
        let removed = write
            .remove_tiles(
                "g",
                &Layout::default(),
                ranges.iter().map(|(k, l, s)| (k.as_slice(), *l, s.clone())),
            )
            .unwrap();
        assert_eq!(
            removed,
            before - model.len(),
            "round {round}, ranges {ranges:?}"
        );
        write.commit().unwrap();
    }
}

/// A five-minute tile whose start is not a multiple of five minutes cannot be stored (reads
/// look tiles up at those starts only): a typed error naming the tile, not a tile lost later.
#[test]
fn a_five_minute_tile_off_the_grid_is_refused() {
    let dir = TempDir::new("fine-misaligned");
    let db = Database::open(dir.path()).unwrap();
    let mut write = db.begin_write().unwrap();
    let err = write.put_tile("g", b"\x0a", 0, M + 1, b"ir").unwrap_err();
    assert!(matches!(err, StorageError::Invalid { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("group-by g")
            && message.contains("key 0x0a")
            && message.contains("start 300001"),
        "{message}"
    );
    // Coarser levels take any start.
    write.put_tile("g", b"\x0a", 1, M + 1, b"ir").unwrap();
}

/// Reads of the five-minute tiles at the ends of the time line neither overflow nor loop.
#[test]
fn five_minute_reads_at_the_ends_of_time() {
    let dir = TempDir::new("fine-ends");
    let db = Database::open(dir.path()).unwrap();
    let last = i64::MAX - i64::MAX.rem_euclid(M);
    let first = i64::MIN + (M - i64::MIN.rem_euclid(M));
    let mut write = db.begin_write().unwrap();
    write.put_tile("g", b"k", 0, last, b"last").unwrap();
    write.put_tile("g", b"k", 0, first, b"first").unwrap();
    write.commit().unwrap();
    let read = db.begin_read().unwrap();
    assert_eq!(
        read_level(&read, b"k", 0, i64::MIN..i64::MAX),
        vec![(first, b"first".to_vec()), (last, b"last".to_vec())]
    );
    assert_eq!(
        read_level(&read, b"k", 0, last - M + 1..i64::MAX),
        vec![(last, b"last".to_vec())]
    );
    assert!(read_level(&read, b"k", 0, last + 1..i64::MAX).is_empty());
    assert!(read_level(&read, b"k", 0, i64::MIN..first).is_empty());
    assert_eq!(
        read_level(&read, b"k", 0, first..first + 1),
        vec![(first, b"first".to_vec())]
    );
}
