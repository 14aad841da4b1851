//! `put_tiles` appends tiles that arrive in key order through a cursor and inserts the rest one
//! by one: whatever the order of a batch (sorted into an empty table, sorted among stored
//! tiles, replacing stored tiles, unsorted, with a tile given twice), the stored tiles equal a
//! plain ordered map that took the same puts, in the transaction and after a reopen.

mod common;

use std::collections::BTreeMap;

use common::{Rng, TempDir};
use tilefold_storage::{Database, Layout, FINE_LEVEL, FINE_TILE_MILLIS};

/// (key, level, start) → value.
type Model = BTreeMap<(Vec<u8>, u8, i64), Vec<u8>>;

type Tile = (Vec<u8>, u8, i64, Vec<u8>);

fn random_tile(rng: &mut Rng, round: usize) -> Tile {
    let key = vec![rng.below(5) as u8; 1 + rng.below(3) as usize];
    let level = rng.below(4) as u8;
    let start = (rng.below(12) as i64 - 3) * FINE_TILE_MILLIS;
    let value = format!("{key:?} {level} {start} round {round} {}", rng.below(100)).into_bytes();
    (key, level, start, value)
}

fn stored(db: &Database) -> Vec<Tile> {
    db.begin_read()
        .unwrap()
        .all_tiles("g", &Layout::default())
        .unwrap()
}

fn flat(model: &Model) -> Vec<Tile> {
    model
        .iter()
        .map(|((k, l, s), v)| (k.clone(), *l, *s, v.clone()))
        .collect()
}

#[test]
fn batches_in_any_order_store_what_single_puts_would() {
    let dir = TempDir::new("put-tiles");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut model = Model::new();
    for round in 0..40 {
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(stored(&db), flat(&model), "round {round}: after reopening");
        let mut write = db.begin_write().unwrap();
        if round % 10 == 0 {
            // A bulk load: the tiles cleared, then put in key order.
            write.clear_tiles("g").unwrap();
            model.clear();
        }
        let mut batch: Vec<Tile> = (0..rng.below(60))
            .map(|_| random_tile(&mut rng, round))
            .collect();
        match round % 4 {
            // Sorted (a load's or a seal's order), with the last of equal tiles kept.
            0 | 1 => {
                batch.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
                batch.dedup_by(|b, a| (&a.0, a.1, a.2) == (&b.0, b.1, b.2));
            }
            // Descending: every tile out of order for the cursor.
            2 => batch.sort_by(|a, b| (&b.0, b.1, b.2).cmp(&(&a.0, a.1, a.2))),
            // As generated: unsorted, possibly a tile twice (the later one wins).
            _ => {}
        }
        write
            .put_tiles(
                "g",
                &Layout::default(),
                batch
                    .iter()
                    .map(|(k, l, s, v)| (k.as_slice(), *l, *s, v.as_slice())),
            )
            .unwrap();
        for (k, l, s, v) in batch {
            model.insert((k, l, s), v);
        }
        write.commit().unwrap();
        assert_eq!(stored(&db), flat(&model), "round {round}");
    }
    assert!(model.keys().any(|(_, l, _)| *l == FINE_LEVEL));
    assert!(model.keys().any(|(_, l, _)| *l != FINE_LEVEL));
}
