//! One tile per redb entry against tiles packed per (key, level, block of 16 starts), and against
//! one tile an entry with each key's newest tile in a second table keyed by start first (where
//! a seal's writes would sit together), measured on redb alone (session 13): 100k keys × 32 tiles
//! of 300 bytes, about a fetch bench store's day tiles at 10M events.
//!
//! ```sh
//! cargo bench -p tilefold-storage --bench tile_layout            # every layout
//! cargo bench -p tilefold-storage --bench tile_layout -- packed  # one
//! ```
//!
//! Prints, per layout: a load in key order (100k tiles a transaction), then reads of a random
//! key's last 14 tiles after one read of every key (a fetch's day tiles), then one transaction
//! that rewrites the last tile of every key (a seal writing the tiles that ended for 100k active
//! keys). Databases live under `$CARGO_TARGET_DIR` (or `target/`) and are removed after.

use std::path::PathBuf;
use std::time::Instant;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

const KEYS: u64 = 100_000;
/// Tiles per key, all of one level.
const TILES: i64 = 32;
const VALUE: usize = 300;
/// Tiles per packed value.
const BLOCK: i64 = 16;
/// Tiles a read asks for (the newest).
const READ: i64 = 14;
const TABLE: TableDefinition<(&[u8], u8, i64), &[u8]> = TableDefinition::new("tiles");
/// `Layout::Recent`'s newest tiles: (level, start, key).
const RECENT: TableDefinition<(u8, i64, &[u8]), &[u8]> = TableDefinition::new("recent");

fn key(k: u64) -> Vec<u8> {
    format!("u{k:08}").into_bytes()
}

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// (key, level, start) → one tile.
    Tiles,
    /// (key, level, block) → (start i64, length u32, bytes) for each of the block's tiles.
    Packed,
    /// As `Tiles`, but each key's newest tile in `RECENT`.
    Recent,
}

fn percentiles(mut samples: Vec<f64>) -> String {
    samples.sort_by(f64::total_cmp);
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    format!("p50 {:.1} µs, p99 {:.1} µs", p(0.5), p(0.99))
}

/// The packed block `block` of tiles all equal to `value`.
fn packed_block(block: i64, value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(BLOCK as usize * (VALUE + 12));
    for i in 0..BLOCK {
        bytes.extend_from_slice(&(block * BLOCK + i).to_le_bytes());
        bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
        bytes.extend_from_slice(value);
    }
    bytes
}

/// Sums the bytes of the tiles of a packed block starting at or after `from`.
fn sum_packed(bytes: &[u8], from: i64) -> usize {
    let mut sum = 0;
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let start = i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        if start >= from {
            sum += bytes[at + 12..at + 12 + len]
                .iter()
                .map(|&b| usize::from(b))
                .sum::<usize>();
        }
        at += 12 + len;
    }
    sum
}

fn run(layout: Layout, dir: &std::path::Path) {
    let name = match layout {
        Layout::Tiles => "tiles",
        Layout::Packed => "packed",
        Layout::Recent => "recent",
    };
    let path = dir.join(format!("tile-layout-{name}.redb"));
    let _ = std::fs::remove_file(&path);
    let db = Database::builder()
        .set_cache_size(1 << 30)
        .create(&path)
        .expect("create");
    let value = vec![7u8; VALUE];
    let started = Instant::now();
    let keys_per_txn = 100_000 / TILES as u64;
    for first in (0..KEYS).step_by(keys_per_txn as usize) {
        let txn = db.begin_write().expect("write");
        {
            let mut table = txn.open_table(TABLE).expect("table");
            for k in first..(first + keys_per_txn).min(KEYS) {
                let k = key(k);
                match layout {
                    Layout::Tiles | Layout::Recent => {
                        let newest = if layout == Layout::Recent {
                            TILES - 1
                        } else {
                            TILES
                        };
                        for start in 0..newest {
                            table
                                .insert((k.as_slice(), 2u8, start), value.as_slice())
                                .expect("insert");
                        }
                    }
                    Layout::Packed => {
                        for block in 0..TILES / BLOCK {
                            let bytes = packed_block(block, &value);
                            table
                                .insert((k.as_slice(), 2u8, block), bytes.as_slice())
                                .expect("insert");
                        }
                    }
                }
            }
        }
        txn.commit().expect("commit");
    }
    if layout == Layout::Recent {
        let txn = db.begin_write().expect("write");
        {
            let mut recent = txn.open_table(RECENT).expect("table");
            for k in 0..KEYS {
                recent
                    .insert((2u8, TILES - 1, key(k).as_slice()), value.as_slice())
                    .expect("insert");
            }
        }
        txn.commit().expect("commit");
    }
    let seconds = started.elapsed().as_secs_f64();
    let tiles = KEYS * TILES as u64;
    eprintln!(
        "{name}: load {tiles} tiles in {seconds:.2} s ({:.0} tiles/s), file {} MiB",
        tiles as f64 / seconds,
        std::fs::metadata(&path).map_or(0, |m| m.len() >> 20)
    );
    let read = |k: u64| -> usize {
        let txn = db.begin_read().expect("read");
        let table = txn.open_table(TABLE).expect("table");
        let k = key(k);
        let mut sum = 0;
        let (from, to) = match layout {
            Layout::Tiles | Layout::Recent => (TILES - READ, TILES),
            Layout::Packed => ((TILES - READ) / BLOCK, TILES / BLOCK),
        };
        if layout == Layout::Recent {
            let recent = txn.open_table(RECENT).expect("table");
            if let Some(bytes) = recent.get((2u8, TILES - 1, k.as_slice())).expect("get") {
                sum += bytes.value().iter().map(|&b| usize::from(b)).sum::<usize>();
            }
        }
        for entry in table
            .range((k.as_slice(), 2u8, from)..(k.as_slice(), 2u8, to))
            .expect("range")
        {
            let (_, bytes) = entry.expect("entry");
            sum += match layout {
                Layout::Tiles | Layout::Recent => {
                    bytes.value().iter().map(|&b| usize::from(b)).sum()
                }
                Layout::Packed => sum_packed(bytes.value(), TILES - READ),
            };
        }
        sum
    };
    for k in 0..KEYS {
        std::hint::black_box(read(k));
    }
    let mut rng = Rng(42);
    let samples: Vec<f64> = (0..20_000)
        .map(|_| {
            let k = rng.below(KEYS);
            let started = Instant::now();
            std::hint::black_box(read(k));
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    eprintln!(
        "  the newest {READ} tiles of a random key: {}",
        percentiles(samples)
    );
    let started = Instant::now();
    let txn = db.begin_write().expect("write");
    if layout == Layout::Recent {
        let mut recent = txn.open_table(RECENT).expect("table");
        for k in 0..KEYS {
            let k = key(k);
            let mut bytes = recent
                .get((2u8, TILES - 1, k.as_slice()))
                .expect("get")
                .expect("stored")
                .value()
                .to_vec();
            bytes[0] = 9;
            recent
                .insert((2u8, TILES - 1, k.as_slice()), bytes.as_slice())
                .expect("insert");
        }
    } else {
        let mut table = txn.open_table(TABLE).expect("table");
        let at = match layout {
            Layout::Tiles | Layout::Recent => TILES - 1,
            Layout::Packed => (TILES - 1) / BLOCK,
        };
        for k in 0..KEYS {
            let k = key(k);
            let mut bytes = table
                .get((k.as_slice(), 2u8, at))
                .expect("get")
                .expect("stored")
                .value()
                .to_vec();
            let last = bytes.len() - VALUE;
            bytes[last] = 9;
            table
                .insert((k.as_slice(), 2u8, at), bytes.as_slice())
                .expect("insert");
        }
    }
    txn.commit().expect("commit");
    eprintln!(
        "  rewrite the newest tile of every key, one transaction: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    drop(db);
    let _ = std::fs::remove_file(&path);
}

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()));
    std::fs::create_dir_all(&dir).expect("target directory");
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (layout, name) in [
        (Layout::Tiles, "tiles"),
        (Layout::Packed, "packed"),
        (Layout::Recent, "recent"),
    ] {
        if only.as_deref().is_none_or(|o| o == name) {
            run(layout, &dir);
        }
    }
}
