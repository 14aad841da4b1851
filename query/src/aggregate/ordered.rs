//! FIRST, LAST (R-OP-FIRSTLAST), FIRST_K, LAST_K, TOP_K and BOTTOM_K (R-OP-KLIST).
//!
//! Ties are broken by the canonical order (R-AGG-11): the sort key is (`ts`, value) for the
//! time-ordered operations and the value for TOP_K/BOTTOM_K. Lists are kept best first and cut at
//! k, so a merge is a bounded merge of two sorted lists.

use std::cmp::Ordering;

use super::{Ir, Scalar};
use crate::value::{canonical_cmp, str_cmp_utf16};
use crate::Value;

/// Which end of the order an operation keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// LAST, LAST_K, TOP_K: the greatest.
    Greatest,
    /// FIRST, FIRST_K, BOTTOM_K: the least.
    Least,
}

impl Keep {
    /// `Greater` when `ord` (a cmp b) says a is better than b.
    fn better(self, ord: Ordering) -> Ordering {
        match self {
            Keep::Greatest => ord,
            Keep::Least => ord.reverse(),
        }
    }
}

fn cmp_timed(a: &(i64, Value), b: &(i64, Value)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| canonical_cmp(&a.1, &b.1))
}

/// FIRST / LAST.
pub fn timed_update(ir: &mut Ir, value: Value, ts: i64, keep: Keep) {
    match ir {
        Ir::Empty => *ir = Ir::Timed { ts, value },
        Ir::Timed {
            ts: cur_ts,
            value: cur,
        } => {
            let ord = ts.cmp(cur_ts).then_with(|| canonical_cmp(&value, cur));
            if keep.better(ord) == Ordering::Greater {
                *cur_ts = ts;
                *cur = value;
            }
        }
        _ => {}
    }
}

/// FIRST_K / LAST_K.
pub fn timed_list_update(ir: &mut Ir, value: Value, ts: i64, k: usize, keep: Keep) {
    if matches!(ir, Ir::Empty) {
        *ir = Ir::TimedList(Vec::with_capacity(k.min(16)));
    }
    let Ir::TimedList(list) = ir else { return };
    let item = (ts, value);
    let pos = list.partition_point(|e| keep.better(cmp_timed(e, &item)) != Ordering::Less);
    if pos < k {
        list.insert(pos, item);
        list.truncate(k);
    }
}

/// TOP_K / BOTTOM_K. Allocates only when the value enters the list.
pub fn ranked_update(ir: &mut Ir, x: Scalar<'_>, k: usize, keep: Keep) {
    if matches!(ir, Ir::Empty) {
        *ir = Ir::Ranked(Vec::with_capacity(k.min(16)));
    }
    let Ir::Ranked(list) = ir else { return };
    let pos = list.partition_point(|e| keep.better(cmp_value_scalar(e, x)) != Ordering::Less);
    if pos < k {
        list.insert(pos, x.to_value());
        list.truncate(k);
    }
}

/// The canonical order between a stored value and an incoming scalar, without allocating.
fn cmp_value_scalar(v: &Value, x: Scalar<'_>) -> Ordering {
    match (v, x) {
        (Value::String(a), Scalar::Str(b)) => str_cmp_utf16(a, b),
        (Value::Binary(a), Scalar::Bytes(b)) => a.as_slice().cmp(b),
        (_, Scalar::Long(_) | Scalar::Double(_) | Scalar::Bool(_)) => {
            canonical_cmp(v, &x.to_value())
        }
        _ => Ordering::Equal,
    }
}

/// Merges two best-first lists, keeping the best k.
fn merge_sorted<T: Clone>(a: &mut Vec<T>, b: &[T], k: usize, better: impl Fn(&T, &T) -> Ordering) {
    let mut out = Vec::with_capacity((a.len() + b.len()).min(k));
    let (mut i, mut j) = (0, 0);
    while out.len() < k && (i < a.len() || j < b.len()) {
        let take_a = j >= b.len() || (i < a.len() && better(&a[i], &b[j]) != Ordering::Less);
        if take_a {
            out.push(a[i].clone());
            i += 1;
        } else {
            out.push(b[j].clone());
            j += 1;
        }
    }
    *a = out;
}

/// Merges `item` into the best-first `list` (cut at `k`), as [`merge`] would merge a list
/// holding it: a listed item it ties with stays first. Searches from `from` on, where the
/// item before it in its own best-first list landed; returns where the next one's search
/// starts (`k` or more: no later item can enter).
pub fn timed_list_merge_item(
    list: &mut Vec<(i64, Value)>,
    from: usize,
    item: (i64, Value),
    k: usize,
    keep: Keep,
) -> usize {
    let from = from.min(list.len());
    let pos =
        from + list[from..].partition_point(|e| keep.better(cmp_timed(e, &item)) != Ordering::Less);
    if pos < k {
        list.insert(pos, item);
        list.truncate(k);
        pos + 1
    } else {
        pos
    }
}

/// Merges states of the ordered family; `false` if the two states are of different kinds.
pub fn merge(a: &mut Ir, b: &Ir, k: usize, keep: Keep) -> bool {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Timed { .. }, Ir::Timed { ts, value }) => timed_update(a, value.clone(), *ts, keep),
        (Ir::TimedList(x), Ir::TimedList(y)) => {
            merge_sorted(x, y, k, |p, q| keep.better(cmp_timed(p, q)));
        }
        (Ir::Ranked(x), Ir::Ranked(y)) => {
            merge_sorted(x, y, k, |p, q| keep.better(canonical_cmp(p, q)));
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(ir: &Ir) -> Vec<Value> {
        match ir {
            Ir::TimedList(l) => l.iter().map(|(_, v)| v.clone()).collect(),
            Ir::Ranked(l) => l.clone(),
            Ir::Timed { value, .. } => vec![value.clone()],
            other => panic!("unexpected {other:?}"),
        }
    }

    /// R-OP-KLIST worked example: (1000,"x"), (2000,"y"), (2000,"z"), (3000,"w").
    #[test]
    fn time_ties_r_op_klist() {
        let rows = [(1000, "x"), (2000, "y"), (2000, "z"), (3000, "w")];
        let (mut last_k, mut first_k, mut last) = (Ir::Empty, Ir::Empty, Ir::Empty);
        for (ts, v) in rows {
            timed_list_update(&mut last_k, v.into(), ts, 2, Keep::Greatest);
            timed_list_update(&mut first_k, v.into(), ts, 2, Keep::Least);
            timed_update(&mut last, v.into(), ts, Keep::Greatest);
        }
        assert_eq!(values(&last_k), vec![Value::from("w"), "z".into()]);
        assert_eq!(values(&first_k), vec![Value::from("x"), "y".into()]);
        assert_eq!(values(&last), vec![Value::from("w")]);
    }

    /// R-OP-KLIST worked example: TOP_K(3) over [5,1,5,3,2] = [5,5,3], BOTTOM_K(2) = [1,2].
    #[test]
    fn top_bottom_r_op_klist() {
        let (mut top, mut bottom) = (Ir::Empty, Ir::Empty);
        for x in [5, 1, 5, 3, 2] {
            ranked_update(&mut top, Scalar::Long(x), 3, Keep::Greatest);
            ranked_update(&mut bottom, Scalar::Long(x), 2, Keep::Least);
        }
        assert_eq!(values(&top), vec![Value::Long(5), 5.into(), 3.into()]);
        assert_eq!(values(&bottom), vec![Value::Long(1), 2.into()]);
    }
}
