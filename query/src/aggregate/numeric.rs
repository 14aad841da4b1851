//! COUNT, SUM, AVERAGE (deletable, R-AGG-10) and MIN, MAX (R-OP-MINMAX): inline states, no heap
//! allocation except when MIN/MAX over strings replaces its string.

use std::cmp::Ordering;

use super::{Ir, Scalar};
use crate::value::str_cmp_utf16;

pub fn count_update(ir: &mut Ir, delta: i64) {
    match ir {
        Ir::Empty => *ir = Ir::Long(delta),
        Ir::Long(c) => *c = c.wrapping_add(delta),
        _ => {}
    }
}

/// SUM: LONG sums wrap in two's complement (R-AGG-12, E-22); BOOLEAN counts true as 1.
pub fn sum_update(ir: &mut Ir, x: Scalar<'_>, floating: bool, sign: i64) {
    if floating {
        let Some(v) = x.as_f64() else { return };
        let v = if sign < 0 { -v } else { v };
        match ir {
            Ir::Empty => *ir = Ir::Double(v),
            Ir::Double(s) => *s += v,
            _ => {}
        }
    } else {
        let v = match x {
            Scalar::Long(v) => v,
            Scalar::Bool(b) => i64::from(b),
            _ => return,
        };
        let v = v.wrapping_mul(sign);
        match ir {
            Ir::Empty => *ir = Ir::Long(v),
            Ir::Long(s) => *s = s.wrapping_add(v),
            _ => {}
        }
    }
}

/// AVERAGE: (sum, count); a delete on an empty state leaves (−x, −1).
pub fn average_update(ir: &mut Ir, x: Scalar<'_>, sign: i64) {
    let Some(v) = x.as_f64() else { return };
    let v = if sign < 0 { -v } else { v };
    match ir {
        Ir::Empty => {
            *ir = Ir::Average {
                sum: v,
                count: sign,
            }
        }
        Ir::Average { sum, count } => {
            *sum += v;
            *count = count.wrapping_add(sign);
        }
        _ => {}
    }
}

/// MIN (`want = Less`) or MAX (`want = Greater`). A NaN makes the result NaN (R-OP-MINMAX);
/// −0.0 < +0.0.
pub fn extreme_update(ir: &mut Ir, x: Scalar<'_>, want: Ordering) {
    match (&mut *ir, x) {
        (Ir::Empty, Scalar::Long(v)) => *ir = Ir::Long(v),
        (Ir::Empty, Scalar::Double(v)) => *ir = Ir::Double(v),
        (Ir::Empty, Scalar::Str(v)) => *ir = Ir::Str(v.to_owned()),
        (Ir::Long(cur), Scalar::Long(v)) if v.cmp(cur) == want => *cur = v,
        (Ir::Double(cur), Scalar::Double(v)) => {
            if cur.is_nan() {
                return;
            }
            if v.is_nan() || v.total_cmp(cur) == want {
                *cur = v;
            }
        }
        (Ir::Str(cur), Scalar::Str(v)) if str_cmp_utf16(v, cur) == want => v.clone_into(cur),
        _ => {}
    }
}

/// Merges states of the numeric family; `false` if the two states are of different kinds.
pub fn merge(a: &mut Ir, b: &Ir, extreme: Option<Ordering>) -> bool {
    match (&mut *a, b) {
        (_, Ir::Empty) => {}
        (Ir::Empty, _) => *a = b.clone(),
        (Ir::Long(x), Ir::Long(y)) => match extreme {
            None => *x = x.wrapping_add(*y),
            Some(want) => {
                if y.cmp(x) == want {
                    *x = *y;
                }
            }
        },
        (Ir::Double(x), Ir::Double(y)) => match extreme {
            None => *x += *y,
            Some(want) => {
                if !x.is_nan() && (y.is_nan() || y.total_cmp(x) == want) {
                    *x = *y;
                }
            }
        },
        (Ir::Str(x), Ir::Str(y)) => {
            if let Some(want) = extreme {
                if str_cmp_utf16(y, x) == want {
                    x.clone_from(y);
                }
            }
        }
        (Ir::Average { sum, count }, Ir::Average { sum: s2, count: c2 }) => {
            *sum += *s2;
            *count = count.wrapping_add(*c2);
        }
        _ => return false,
    }
    true
}
