//! HISTOGRAM (R-OP-HIST, deletable) and APPROX_HISTOGRAM_K (R-OP-APPROXHIST).

use std::collections::BTreeMap;

use datasketches::frequencies::{ErrorType, FrequentItemsSketch};

use super::{AggregationError, Ir};
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
        entries.sort_by(|a, b| b.1.cmp(&a.1));
        entries.truncate(k);
    }
    let entries = entries
        .into_iter()
        .map(|(key, c)| (Value::String(key.clone()), Value::Long(i64::from(c as i32))));
    Value::map(entries.collect())
}

/// The frequent-items map size for k: the smallest power of two ≥ k, at least 8 (the sketch's
/// minimum; the reference allows 2).
pub fn frequent_capacity(k: i64) -> usize {
    let k = usize::try_from(k.max(1)).unwrap_or(usize::MAX);
    k.checked_next_power_of_two().unwrap_or(1 << 30).clamp(8, 1 << 26)
}

/// APPROX_HISTOGRAM_K: exact counts while at most k distinct keys, then a frequent-items sketch.
pub fn approx_histogram_update(ir: &mut Ir, key: &str, k: i64) -> Result<(), AggregationError> {
    match ir {
        Ir::Empty => {
            let mut counts = BTreeMap::new();
            counts.insert(key.to_owned(), 1);
            *ir = Ir::Counts(counts);
            promote_if_needed(ir, k)
        }
        Ir::Counts(counts) => {
            add_count(counts, key, 1);
            promote_if_needed(ir, k)
        }
        Ir::Frequent(sketch) => {
            sketch.update_ref(key);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn promote_if_needed(ir: &mut Ir, k: i64) -> Result<(), AggregationError> {
    let Ir::Counts(counts) = ir else { return Ok(()) };
    if i64::try_from(counts.len()).unwrap_or(i64::MAX) <= k {
        return Ok(());
    }
    let mut sketch = new_sketch(k)?;
    for (key, count) in counts.iter() {
        sketch.update_with_count_ref(key.as_str(), u64::try_from(*count).unwrap_or(0));
    }
    *ir = Ir::Frequent(Box::new(sketch));
    Ok(())
}

fn new_sketch(k: i64) -> Result<FrequentItemsSketch<String>, AggregationError> {
    FrequentItemsSketch::new(frequent_capacity(k)).map_err(|e| AggregationError::Merge(e.to_string()))
}

pub fn approx_histogram_merge(a: &mut Ir, b: &Ir, k: i64) -> Result<bool, AggregationError> {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Counts(x), Ir::Counts(y)) => {
            for (key, count) in y {
                add_count(x, key, *count);
            }
            promote_if_needed(a, k)?;
        }
        (Ir::Frequent(x), Ir::Counts(y)) => {
            for (key, count) in y {
                x.update_with_count_ref(key.as_str(), u64::try_from(*count).unwrap_or(0));
            }
        }
        (Ir::Counts(x), Ir::Frequent(y)) => {
            let mut sketch = new_sketch(k)?;
            for (key, count) in x.iter() {
                sketch.update_with_count_ref(key.as_str(), u64::try_from(*count).unwrap_or(0));
            }
            sketch.merge(y);
            *a = Ir::Frequent(Box::new(sketch));
        }
        (Ir::Frequent(x), Ir::Frequent(y)) => x.merge(y),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Up to k items with the highest estimates (no false positives), equal estimates by key.
pub fn approx_histogram_finalize(ir: &Ir, k: i64) -> Value {
    let k = usize::try_from(k).unwrap_or(0);
    let mut entries: Vec<(String, i64)> = match ir {
        Ir::Counts(counts) => counts.iter().map(|(key, c)| (key.clone(), *c)).collect(),
        Ir::Frequent(sketch) => sketch
            .frequent_items(ErrorType::NoFalsePositives)
            .into_iter()
            .map(|row| (row.item().clone(), i64::try_from(row.estimate()).unwrap_or(i64::MAX)))
            .collect(),
        _ => return Value::Null,
    };
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(k);
    let entries = entries.into_iter().map(|(key, c)| (Value::String(key), Value::Long(c)));
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
        assert_eq!(histogram_finalize(counts, 0), Value::map(vec![("a".into(), (-1).into())]));
        histogram_update(&mut ir, "a", 1);
        let Ir::Counts(counts) = &ir else { panic!() };
        assert_eq!(histogram_finalize(counts, 0), Value::map(vec![]));
    }

    #[test]
    fn capacity() {
        assert_eq!(frequent_capacity(0), 8);
        assert_eq!(frequent_capacity(8), 8);
        assert_eq!(frequent_capacity(9), 16);
        assert_eq!(frequent_capacity(100), 128);
    }
}
