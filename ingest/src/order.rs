//! Ordering rows by (key bytes, ts) with integer comparisons instead of byte-string ones.
//!
//! Encoded keys start with bytes that most keys share (a type tag, length bytes, a common
//! spelling such as `u` in `u123`), so comparing two keys with `memcmp` spends its time on
//! bytes that never decide. Past the prefix every key of a set shares, eight bytes of a key read
//! as a big-endian integer, zero-padded, order keys as their bytes do: if the words differ, the
//! first differing byte of the two keys is within them (or one key ends there). Keys with equal
//! words may still differ after those eight bytes, unless both end within them; then the
//! shorter key is the smaller (it is a prefix of the other, whose extra bytes are zeros), so the
//! word and the length order them exactly. [`KeyWords`] says whether that holds for a set.

use std::cmp::Ordering;

use arrow::array::{Array, BinaryArray};

/// Per key of a column, eight bytes after a prefix shared by every key compared with them.
#[derive(Debug, Clone, Default)]
pub struct KeyWords {
    words: Vec<u64>,
    /// Whether every key ends within its word, so that (word, length) is the key.
    exact: bool,
}

impl KeyWords {
    /// The words of `keys` from byte `common` on; every key compared with these must share
    /// its first `common` bytes with every key of `keys`.
    pub fn new(keys: &BinaryArray, common: usize) -> KeyWords {
        let words = (0..keys.len())
            .map(|i| word(keys.value(i), common))
            .collect();
        let longest = (0..keys.len()).map(|i| keys.value_length(i) as usize).max();
        KeyWords {
            words,
            exact: longest.is_none_or(|n| n <= common + 8),
        }
    }

    /// The words of rows taken from `sets` (words at one offset) in `order`, (set, row) pairs:
    /// a merge's, for the merged rows.
    pub fn gathered(sets: &[&KeyWords], order: &[(usize, usize)]) -> KeyWords {
        KeyWords {
            words: order.iter().map(|&(s, i)| sets[s].words[i]).collect(),
            exact: sets.iter().all(|set| set.exact),
        }
    }

    #[inline]
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Whether (word, length) orders these keys, and any other exact set's, exactly.
    pub fn exact(&self) -> bool {
        self.exact
    }
}

/// How row `i` of `a` compares with row `j` of `b` by key bytes, with words taken at the same
/// offset (`exact` if both sets are).
#[inline]
pub fn compare_keys(
    (a, a_words, i): (&BinaryArray, &[u64], usize),
    (b, b_words, j): (&BinaryArray, &[u64], usize),
    exact: bool,
) -> Ordering {
    a_words[i].cmp(&b_words[j]).then_with(|| {
        if exact {
            a.value_length(i).cmp(&b.value_length(j))
        } else {
            a.value(i).cmp(b.value(j))
        }
    })
}

/// How many leading bytes all of `keys` share (any order).
pub fn shared_prefix<'a>(mut keys: impl Iterator<Item = &'a [u8]>) -> usize {
    let Some(first) = keys.next() else {
        return 0;
    };
    let mut common = first.len();
    for key in keys {
        if common == 0 {
            break;
        }
        common = first[..common]
            .iter()
            .zip(key)
            .take_while(|(a, b)| a == b)
            .count();
    }
    common
}

/// Eight bytes of `key` from `at` on as a big-endian integer, zero-padded.
#[inline]
pub fn word(key: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    let tail = key.get(at..).unwrap_or_default();
    let n = tail.len().min(8);
    bytes[..n].copy_from_slice(&tail[..n]);
    u64::from_be_bytes(bytes)
}

/// The row order that sorts rows with `keys` and `ts` by (key bytes, ts), stably.
pub fn key_ts_order(keys: &BinaryArray, ts: &[i64]) -> Vec<u32> {
    let common = shared_prefix((0..keys.len()).map(|i| keys.value(i)));
    let words = KeyWords::new(keys, common);
    if words.exact() {
        // Every comparison is of integers; the row number makes equal rows keep their order.
        let mut order: Vec<(u64, u32, i64, u32)> = (0..keys.len())
            .map(|r| (words.words[r], keys.value_length(r) as u32, ts[r], r as u32))
            .collect();
        order.sort_unstable();
        return order.into_iter().map(|(.., r)| r).collect();
    }
    let mut order: Vec<(u64, u32)> = (0..keys.len())
        .map(|r| (words.words[r], r as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        let (i, j) = (a.1 as usize, b.1 as usize);
        a.0.cmp(&b.0)
            .then_with(|| keys.value(i).cmp(keys.value(j)))
            .then_with(|| ts[i].cmp(&ts[j]))
            .then_with(|| i.cmp(&j))
    });
    order.into_iter().map(|(_, r)| r).collect()
}

/// The first index in `0..n` for which `pred` is false (`pred` holds on a prefix).
pub fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Keys from a two-letter alphabet over a shared prefix, so that prefixes of one another,
    /// zero bytes (padding look-alikes) and keys equal in their first eight bytes past the
    /// prefix all occur; sets whose keys all end within eight bytes (exact) are as common as
    /// sets with longer keys.
    fn keys() -> impl Strategy<Value = Vec<Vec<u8>>> {
        (prop::collection::vec(any::<u8>(), 0..4), 0usize..12)
            .prop_flat_map(|(prefix, longest)| {
                let key = prop::collection::vec(prop::sample::select(vec![0u8, 1]), 0..=longest);
                (Just(prefix), prop::collection::vec(key, 0..60))
            })
            .prop_map(|(prefix, keys)| {
                keys.into_iter()
                    .map(|k| prefix.iter().copied().chain(k).collect())
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn key_ts_order_equals_a_stable_sort(
            keys in keys(),
            seed in prop::collection::vec(0i64..3, 60),
        ) {
            let ts: Vec<i64> = (0..keys.len()).map(|i| seed[i]).collect();
            let column = BinaryArray::from_iter_values(keys.iter());
            let mut expected: Vec<u32> = (0..keys.len() as u32).collect();
            expected.sort_by(|&a, &b| {
                (&keys[a as usize], ts[a as usize]).cmp(&(&keys[b as usize], ts[b as usize]))
            });
            prop_assert_eq!(key_ts_order(&column, &ts), expected);
        }

        #[test]
        fn compare_keys_equals_byte_order(a in keys(), b in keys()) {
            let all: Vec<&[u8]> = a.iter().chain(&b).map(Vec::as_slice).collect();
            let common = shared_prefix(all.iter().copied());
            let ca = BinaryArray::from_iter_values(a.iter());
            let cb = BinaryArray::from_iter_values(b.iter());
            let (wa, wb) = (KeyWords::new(&ca, common), KeyWords::new(&cb, common));
            let exact = wa.exact() && wb.exact();
            for (i, x) in a.iter().enumerate() {
                for (j, y) in b.iter().enumerate() {
                    let got = compare_keys((&ca, wa.words(), i), (&cb, wb.words(), j), exact);
                    prop_assert_eq!(got, x.cmp(y), "{:?} vs {:?}", x, y);
                }
            }
        }
    }

    /// Tails of nine bytes, equal in the eight a word holds: only the full keys order them.
    #[test]
    fn keys_equal_in_their_words_compare_in_full() {
        let keys = BinaryArray::from_iter_values([b"Pabcdefghz", b"Pabcdefgha", b"Pabcdefghz"]);
        let words = KeyWords::new(&keys, 1);
        assert!(!words.exact());
        assert_eq!(key_ts_order(&keys, &[0, 0, 0]), vec![1, 0, 2]);
        let w = words.words();
        assert_eq!(
            compare_keys((&keys, w, 0), (&keys, w, 1), words.exact()),
            Ordering::Greater
        );
    }

    #[test]
    fn shared_prefix_of_unsorted_keys() {
        let keys: [&[u8]; 4] = [b"abcd", b"abz", b"abcde", b"ab"];
        assert_eq!(shared_prefix(keys.into_iter()), 2);
        assert_eq!(shared_prefix([b"xyz".as_slice()].into_iter()), 3);
        assert_eq!(shared_prefix(std::iter::empty()), 0);
    }
}
