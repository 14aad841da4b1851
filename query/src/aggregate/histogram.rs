//! HISTOGRAM (R-OP-HIST, deletable) and APPROX_HISTOGRAM_K (R-OP-APPROXHIST).

use std::collections::BTreeMap;

use super::Ir;
use crate::Value;

/// HISTOGRAM: +1 or −1 for `key`; a count that reaches exactly 0 removes its key (E-17).
pub fn histogram_update(ir: &mut Ir, key: &str, delta: i64) {
    if matches!(ir, Ir::Empty) {
        *ir = Ir::Counts(BTreeMap::new());
    }
    let Ir::Counts(counts) = ir else { return };
    add_count(counts, key, delta);
}

fn add_count(counts: &mut BTreeMap<String, i64>, key: &str, delta: i64) {
    match counts.get_mut(key) {
        Some(c) => {
            *c = c.wrapping_add(delta);
            if *c == 0 {
                counts.remove(key);
            }
        }
        None if delta != 0 => {
            counts.insert(key.to_owned(), delta);
        }
        None => {}
    }
}

pub fn histogram_merge(a: &mut Ir, b: &Ir) -> bool {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Counts(x), Ir::Counts(y)) => {
            for (key, count) in y {
                add_count(x, key, *count);
            }
        }
        _ => return false,
    }
    true
}

/// The k entries with the largest counts, ties by key ascending (Decision); all when k = 0.
pub fn histogram_finalize(counts: &BTreeMap<String, i64>, k: usize) -> Value {
    let mut entries: Vec<(&String, i64)> = counts.iter().map(|(key, c)| (key, *c)).collect();
    if k > 0 && entries.len() > k {
        // Stable sort over key-ordered entries: count descending, then key ascending.
        entries.sort_by_key(|e| std::cmp::Reverse(e.1));
        entries.truncate(k);
    }
    let entries = entries
        .into_iter()
        .map(|(key, c)| (Value::String(key.clone()), Value::Long(i64::from(c as i32))));
    Value::map(entries.collect())
}

/// The summary's capacity for k: the smallest power of two ≥ k, and at least 2
/// (R-OP-APPROXHIST).
pub fn frequent_capacity(k: i64) -> usize {
    let k = usize::try_from(k.max(2)).unwrap_or(usize::MAX);
    k.checked_next_power_of_two()
        .unwrap_or(1 << 30)
        .min(1 << 26)
}

/// APPROX_HISTOGRAM_K: a mergeable Misra–Gries summary (Agarwal et al., "Mergeable
/// Summaries", 2012) with `frequent_capacity(k)` counters. While it holds no more keys than its
/// capacity the counts are exact. Its state is a function of its content alone (a sorted map and
/// the total decrement), so encoding is canonical and fetch and backfill agree.
pub fn approx_histogram_update(ir: &mut Ir, key: &str, k: i64) {
    match ir {
        Ir::Empty => {
            let mut counts = BTreeMap::new();
            counts.insert(key.to_owned(), 1);
            *ir = Ir::Frequent { counts, offset: 0 };
        }
        Ir::Frequent { counts, offset } => {
            add_count(counts, key, 1);
            purge(counts, offset, frequent_capacity(k));
        }
        _ => {}
    }
}

/// Keeps at most `capacity` counters: subtracts the (capacity+1)-th largest count from every
/// counter, drops those that reach zero, and adds it to the error bound `offset`.
fn purge(counts: &mut BTreeMap<String, i64>, offset: &mut i64, capacity: usize) {
    if counts.len() <= capacity {
        return;
    }
    let mut sorted: Vec<i64> = counts.values().copied().collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let cut = sorted[capacity];
    counts.retain(|_, c| {
        *c -= cut;
        *c > 0
    });
    *offset = offset.saturating_add(cut);
}

pub fn approx_histogram_merge(a: &mut Ir, b: &Ir, k: i64) -> bool {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (
            Ir::Frequent { counts, offset },
            Ir::Frequent {
                counts: other,
                offset: other_offset,
            },
        ) => {
            for (key, count) in other {
                add_count(counts, key, *count);
            }
            *offset = offset.saturating_add(*other_offset);
            purge(counts, offset, frequent_capacity(k));
        }
        _ => return false,
    }
    true
}

/// Up to k items with the highest estimates (count + offset), ties by key ascending (Decision);
/// only items whose lower bound (their counter) exceeds the error bound (no false positives).
pub fn approx_histogram_finalize(ir: &Ir, k: i64) -> Value {
    let Ir::Frequent { counts, offset } = ir else {
        return Value::Null;
    };
    let k = usize::try_from(k).unwrap_or(0);
    let mut entries: Vec<(&String, i64)> = counts
        .iter()
        .filter(|(_, c)| **c > *offset)
        .map(|(key, c)| (key, c.saturating_add(*offset)))
        .collect();
    // Stable over key order: estimate descending, then key ascending.
    entries.sort_by_key(|e| std::cmp::Reverse(e.1));
    entries.truncate(k);
    let entries = entries
        .into_iter()
        .map(|(key, c)| (Value::String(key.clone()), Value::Long(c)));
    Value::map(entries.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-OP-HIST worked example: k=2 over {a:3, b:2, c:2, d:1} gives {a:3, b:2}.
    #[test]
    fn top_k_ties_r_op_hist() {
        let mut ir = Ir::Empty;
        for key in ["a", "a", "a", "b", "b", "c", "c", "d"] {
            histogram_update(&mut ir, key, 1);
        }
        let Ir::Counts(counts) = &ir else { panic!() };
        let want = Value::map(vec![("a".into(), 3.into()), ("b".into(), 2.into())]);
        assert_eq!(histogram_finalize(counts, 2), want);
    }

    /// E-17: a delete to 0 removes the key; on an empty state it leaves −1; removing all gives {}.
    #[test]
    fn deletes_e_17() {
        let mut ir = Ir::Empty;
        histogram_update(&mut ir, "a", -1);
        let Ir::Counts(counts) = &ir else { panic!() };
        assert_eq!(
            histogram_finalize(counts, 0),
            Value::map(vec![("a".into(), (-1).into())])
        );
        histogram_update(&mut ir, "a", 1);
        let Ir::Counts(counts) = &ir else { panic!() };
        assert_eq!(histogram_finalize(counts, 0), Value::map(vec![]));
    }

    #[test]
    fn capacity() {
        assert_eq!(frequent_capacity(0), 2);
        assert_eq!(frequent_capacity(3), 4);
        assert_eq!(frequent_capacity(8), 8);
        assert_eq!(frequent_capacity(9), 16);
        assert_eq!(frequent_capacity(100), 128);
    }

    /// With capacity 2, the third distinct key purges: every counter drops by the smallest.
    #[test]
    fn misra_gries_purge_keeps_heavy_keys() {
        let mut ir = Ir::Empty;
        for key in ["a", "a", "a", "b", "b", "c"] {
            approx_histogram_update(&mut ir, key, 2);
        }
        let Ir::Frequent { counts, offset } = &ir else {
            panic!()
        };
        assert_eq!(*offset, 1);
        assert_eq!(counts.get("a"), Some(&2));
        assert_eq!(counts.get("b"), Some(&1));
        // Estimates are count + offset; b's lower bound 1 does not exceed the error bound 1.
        let want = Value::map(vec![("a".into(), 3.into())]);
        assert_eq!(approx_histogram_finalize(&ir, 2), want);
    }
}
