//! Finding one key's rows in a batch sorted by key bytes, with few cache misses.
//!
//! A binary search over an Arrow binary column touches two arrays per step (offsets, then
//! bytes), each step a likely cache miss once the batch outgrows the cache: a head run or a
//! segment of a million rows costs ~40 misses per lookup. [`KeyIndex`] keeps, per row, eight
//! bytes of its key as a big-endian integer, taken after the prefix every key of the batch
//! shares (encoded keys start with a type tag and a length, the same for most keys). The search
//! runs over that one dense array; the full keys are compared only among the rows whose eight
//! bytes equal the key's, usually exactly the key's rows.

use std::ops::Range;

use arrow::array::{Array, BinaryArray};
use tilefold_ingest::order::{partition_point, shared_prefix, word, KeyWords};

/// Per row of a sorted key column, eight bytes of the key after the shared prefix.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    /// How many leading bytes every key of the batch shares.
    common: usize,
    words: KeyWords,
}

impl KeyIndex {
    /// The index of `keys`, which must be sorted (ascending bytes).
    pub fn new(keys: &BinaryArray) -> KeyIndex {
        let n = keys.len();
        if n == 0 {
            return KeyIndex::default();
        }
        // Sorted: every key shares what the first and the last share.
        let common = shared_prefix([keys.value(0), keys.value(n - 1)].into_iter());
        KeyIndex {
            common,
            words: KeyWords::new(keys, common),
        }
    }

    /// The index of a sorted key column whose keys share exactly their first `common` bytes,
    /// from its words (taken at `common`).
    pub fn from_words(common: usize, words: KeyWords) -> KeyIndex {
        KeyIndex { common, words }
    }

    pub fn common(&self) -> usize {
        self.common
    }

    pub fn words(&self) -> &KeyWords {
        &self.words
    }

    /// The rows of `key` in `keys`, the column this index was built from.
    pub fn rows(&self, keys: &BinaryArray, key: &[u8]) -> Range<usize> {
        let words = self.words.words();
        let n = words.len();
        let Some(w) = key_word(keys, n, self.common, key) else {
            return 0..0;
        };
        // Order-preserving: a row whose word is below `w` has a key below `key`, and above,
        // above. The rows whose word is `w` follow; gallop to their end (usually a few rows).
        let lo = words.partition_point(|&x| x < w);
        let hi = run_end(lo, n, |i| words[i] == w);
        exactly(keys, lo..hi, key)
    }
}

/// `key`'s word at `common`, for a lookup in `keys`, the `rows` rows an index was built from;
/// `None` when `key` cannot be among them: the index is empty or of another column, or `key`
/// lacks the prefix every key of `keys` shares.
fn key_word(keys: &BinaryArray, rows: usize, common: usize, key: &[u8]) -> Option<u64> {
    if rows == 0 || rows != keys.len() {
        return None;
    }
    if key.len() < common || key[..common] != keys.value(0)[..common] {
        return None;
    }
    Some(word(key, common))
}

/// The rows of `key` among `block`, rows of sorted `keys` whose words equal `key`'s.
fn exactly(keys: &BinaryArray, block: Range<usize>, key: &[u8]) -> Range<usize> {
    let a = block.start + partition_point(block.len(), |i| keys.value(block.start + i) < key);
    let b = a + partition_point(block.end - a, |i| keys.value(a + i) <= key);
    a..b
}

/// A sealed segment's keys: a hash table from each distinct word (as [`KeyIndex`] takes it) to
/// the block of rows that have it. A lookup probes about one slot where a binary search over
/// the words misses the cache about log2(rows / cached rows) times, and a fetch at now looks
/// a key up in every segment sealed since the tiles last moved on: at a million events a
/// second, tens of them. Slots are 16 bytes, a power of two of them at most three quarters full:
/// 21–43 bytes per distinct key, against [`KeyIndex`]'s 8 bytes a row (about the same for the
/// live bench's segments, whose keys repeat 3–4 times; up to 5× for segments of unique keys).
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    common: usize,
    /// Open addressing with linear probing; a slot with `hi == 0` is empty.
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: a hash's top bits pick the first slot.
    shift: u32,
    rows: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    word: u64,
    lo: u32,
    hi: u32,
}

impl KeyTable {
    /// The table of `keys`, which must be sorted (ascending bytes) and fewer than 2^32.
    pub fn new(keys: &BinaryArray) -> KeyTable {
        let index = KeyIndex::new(keys);
        let words = index.words.words();
        let n = words.len();
        if n == 0 || u32::try_from(n).is_err() {
            return KeyTable::default();
        }
        let distinct = 1 + words.windows(2).filter(|w| w[0] != w[1]).count();
        let bits = (distinct + distinct.div_ceil(3))
            .next_power_of_two()
            .trailing_zeros()
            .max(1);
        let mut table = KeyTable {
            common: index.common,
            slots: vec![Slot::default(); 1 << bits],
            shift: 64 - bits,
            rows: n,
        };
        let mask = table.slots.len() - 1;
        let mut lo = 0;
        while lo < n {
            let hi = run_end(lo, n, |i| words[i] == words[lo]);
            let mut at = table.first_slot(words[lo]);
            while table.slots[at].hi != 0 {
                at = (at + 1) & mask;
            }
            // `n` fits in u32 (checked above).
            table.slots[at] = Slot {
                word: words[lo],
                lo: lo as u32,
                hi: hi as u32,
            };
            lo = hi;
        }
        table
    }

    fn first_slot(&self, word: u64) -> usize {
        // The finalizer of splitmix64: words of text keys differ in few bits.
        let mut x = word;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        (x >> self.shift) as usize
    }

    /// The rows of `key` in `keys`, the column this table was built from (empty if absent).
    pub fn rows(&self, keys: &BinaryArray, key: &[u8]) -> Range<usize> {
        let Some(w) = key_word(keys, self.rows, self.common, key) else {
            return 0..0;
        };
        let mask = self.slots.len() - 1;
        let mut at = self.first_slot(w);
        loop {
            let slot = self.slots[at];
            if slot.hi == 0 {
                return 0..0;
            }
            if slot.word == w {
                return exactly(keys, slot.lo as usize..slot.hi as usize, key);
            }
            at = (at + 1) & mask;
        }
    }
}

/// The end of the run of rows from `lo` on (below `n`) for which `same` holds, `same` holding
/// on a prefix of `lo..n`: galloping, since a key's rows are few next to a batch's.
pub fn run_end(lo: usize, n: usize, same: impl Fn(usize) -> bool) -> usize {
    let mut step = 1;
    while lo + step < n && same(lo + step) {
        step *= 2;
    }
    let upper = (lo + step).min(n);
    lo + partition_point(upper.saturating_sub(lo), |i| same(lo + i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rows of `key` by a scan.
    fn naive(keys: &[Vec<u8>], key: &[u8]) -> Range<usize> {
        match keys.iter().position(|k| k.as_slice() == key) {
            Some(a) => a..a + keys[a..].iter().take_while(|k| k.as_slice() == key).count(),
            None => {
                let at = keys.partition_point(|k| k.as_slice() < key);
                at..at
            }
        }
    }

    fn column(keys: &[Vec<u8>]) -> BinaryArray {
        BinaryArray::from_iter_values(keys.iter())
    }

    /// Keys from a small alphabet, so that shared prefixes, zero bytes (padding look-alikes),
    /// keys that are prefixes of others and keys longer than eight bytes all occur.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 255]), 0..12)
    }

    proptest! {
        #[test]
        fn rows_equal_a_scan(
            mut keys in prop::collection::vec(key(), 0..200),
            prefix in prop::collection::vec(any::<u8>(), 0..6),
            probes in prop::collection::vec(key(), 1..20),
        ) {
            // A shared prefix on every key (as encoded keys have), and on most probes.
            for k in &mut keys {
                k.splice(0..0, prefix.iter().copied());
            }
            keys.sort();
            let array = column(&keys);
            let index = KeyIndex::new(&array);
            let mut probes: Vec<Vec<u8>> = probes
                .into_iter()
                .enumerate()
                .map(|(i, mut p)| {
                    if i % 4 != 0 {
                        p.splice(0..0, prefix.iter().copied());
                    }
                    p
                })
                .collect();
            probes.extend(keys.iter().step_by(7).cloned());
            let table = KeyTable::new(&array);
            for probe in &probes {
                let expected = naive(&keys, probe);
                for found in [index.rows(&array, probe), table.rows(&array, probe)] {
                    if expected.is_empty() {
                        prop_assert!(found.is_empty(), "{probe:?}: {found:?} in {keys:?}");
                    } else {
                        prop_assert_eq!(found, expected.clone(), "{:?}", probe);
                    }
                }
            }
        }
    }

    #[test]
    fn encoded_string_keys_differ_after_their_shared_tag_and_length() {
        // 0x03, u32 BE length, bytes: the tag and the length's high bytes are shared.
        let encode = |s: &str| {
            let mut k = vec![3u8];
            k.extend_from_slice(&(s.len() as u32).to_be_bytes());
            k.extend_from_slice(s.as_bytes());
            k
        };
        let mut keys: Vec<Vec<u8>> = (0..1000)
            .flat_map(|u| {
                let k = encode(&format!("u{u}"));
                [k.clone(), k]
            })
            .collect();
        keys.sort();
        let array = column(&keys);
        let index = KeyIndex::new(&array);
        assert_eq!(index.common, 4);
        let table = KeyTable::new(&array);
        for u in 0..1000 {
            let k = encode(&format!("u{u}"));
            assert_eq!(index.rows(&array, &k), naive(&keys, &k));
            assert_eq!(index.rows(&array, &k).len(), 2);
            assert_eq!(table.rows(&array, &k), naive(&keys, &k));
        }
        for absent in [encode("u1000"), encode("x"), vec![]] {
            assert!(index.rows(&array, &absent).is_empty());
            assert!(table.rows(&array, &absent).is_empty());
        }
        assert!(KeyIndex::new(&column(&[]))
            .rows(&column(&[]), b"k")
            .is_empty());
        assert!(KeyTable::new(&column(&[]))
            .rows(&column(&[]), b"k")
            .is_empty());
    }
}
