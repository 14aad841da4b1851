//! Conditional functions: IF, COALESCE, NVL/IFNULL, NULLIF, GREATEST, LEAST.

use arrow::array::{new_null_array, Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::kernels::{boolean, cmp, zip::zip};
use arrow::compute::nullif;
use arrow::datatypes::DataType as ArrowType;

use super::{arrow_err, check_arity, coerce_to_common, null_as_false, FunctionDef, Signature};
use crate::expr::bind::cast;
use crate::expr::bound::Bound;
use crate::expr::coerce::{comparison_type, is_numeric, is_string, type_name};
use crate::expr::eval::normalize_floats;

pub(super) static FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "IF",
        bind: bind_if,
        evaluate: eval_if,
    },
    FunctionDef {
        name: "COALESCE",
        bind: bind_coalesce,
        evaluate: eval_coalesce,
    },
    FunctionDef {
        name: "NVL",
        bind: bind_nvl,
        evaluate: eval_coalesce,
    },
    FunctionDef {
        name: "IFNULL",
        bind: bind_nvl,
        evaluate: eval_coalesce,
    },
    FunctionDef {
        name: "NULLIF",
        bind: bind_nullif,
        evaluate: eval_nullif,
    },
    FunctionDef {
        name: "GREATEST",
        bind: bind_extremum,
        evaluate: eval_greatest,
    },
    FunctionDef {
        name: "LEAST",
        bind: bind_extremum,
        evaluate: eval_least,
    },
];

/// `IF(cond, a, b)`: `a` where `cond` is true, else `b` (a NULL condition picks `b`); `a` and `b`
/// meet at their wider common type.
fn bind_if(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 3, 3)?;
    let branches = args.split_off(1);
    let cond = args.remove(0);
    let cond = match cond.data_type() {
        ArrowType::Boolean => cond,
        ArrowType::Null => cast(cond, &ArrowType::Boolean),
        t => {
            return Err(format!(
                "needs a BOOLEAN condition, found {}",
                type_name(&t)
            ))
        }
    };
    let (branches, t) = coerce_to_common(branches, true)?;
    Ok((std::iter::once(cond).chain(branches).collect(), t))
}

fn eval_if(args: &[ArrayRef], rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    if t == &ArrowType::Null {
        return Ok(new_null_array(t, rows));
    }
    let cond = args[0]
        .as_boolean_opt()
        .ok_or("IF: condition is not BOOLEAN")?;
    zip(cond, &args[1], &args[2]).map_err(arrow_err)
}

/// `COALESCE(a, ...)`: the first non-null argument; all arguments meet at their wider common
/// type.
fn bind_coalesce(args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, usize::MAX)?;
    coerce_to_common(args, true)
}

/// `NVL(a, b)` (and `IFNULL`): `COALESCE(a, b)`.
fn bind_nvl(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 2)?;
    coerce_to_common(args, true)
}

fn eval_coalesce(args: &[ArrayRef], rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    if t == &ArrowType::Null {
        return Ok(new_null_array(t, rows));
    }
    let mut out = args[0].clone();
    for next in &args[1..] {
        if out.null_count() == 0 {
            break;
        }
        let present = boolean::is_not_null(&out).map_err(arrow_err)?;
        out = zip(&present, &out, next).map_err(arrow_err)?;
    }
    Ok(out)
}

/// `NULLIF(a, b)`: NULL where `a = b`, else `a` (Spark's `IF(a = b, NULL, a)`); the comparison
/// casts and compares as `=` does (NaN = NaN, `-0.0 = 0.0`). Bound as `[a, a as compared, b as compared]`.
fn bind_nullif(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 2)?;
    let (a, b) = (args[0].clone(), args[1].clone());
    let (at, bt) = (a.data_type(), b.data_type());
    let compared = comparison_type(&at, &bt)
        .ok_or_else(|| format!("cannot compare {} with {}", type_name(&at), type_name(&bt)))?;
    let compared = if compared == ArrowType::Null {
        ArrowType::Boolean
    } else {
        compared
    };
    let (ac, bc) = (cast(a.clone(), &compared), cast(b, &compared));
    Ok((vec![a, ac, bc], at))
}

fn eval_nullif(args: &[ArrayRef], _rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    if t == &ArrowType::Null {
        return Ok(args[0].clone());
    }
    let (a, b) = (normalize_floats(&args[1])?, normalize_floats(&args[2])?);
    let equal = cmp::eq(&a, &b).map_err(arrow_err)?;
    nullif(&args[0], &equal).map_err(arrow_err)
}

/// `GREATEST`/`LEAST(a, b, ...)`: at least two arguments of one orderable type (numbers widen,
/// no string promotion, as Spark's `findWiderTypeWithoutStringPromotion`).
fn bind_extremum(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, usize::MAX)?;
    let (args, t) = coerce_to_common(args, false)?;
    let orderable = is_numeric(&t)
        || is_string(&t)
        || matches!(
            t,
            ArrowType::Null
                | ArrowType::Boolean
                | ArrowType::Date32
                | ArrowType::Timestamp(..)
                | ArrowType::Binary
        );
    if !orderable {
        return Err(format!("cannot order values of type {}", type_name(&t)));
    }
    Ok((args, t))
}

fn eval_greatest(args: &[ArrayRef], rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    extremum(args, rows, t, cmp::gt)
}

fn eval_least(args: &[ArrayRef], rows: usize, t: &ArrowType) -> Result<ArrayRef, String> {
    extremum(args, rows, t, cmp::lt)
}

type Comparison = fn(
    &dyn arrow::array::Datum,
    &dyn arrow::array::Datum,
) -> Result<BooleanArray, arrow::error::ArrowError>;

/// Folds the arguments left to right, replacing the running value where it is null or the next
/// argument is strictly `better`; nulls are skipped, all nulls give NULL. Floats compare as Spark
/// orders them (NaN above everything, `-0.0 = 0.0`); the values kept are the originals.
fn extremum(
    args: &[ArrayRef],
    rows: usize,
    t: &ArrowType,
    better: Comparison,
) -> Result<ArrayRef, String> {
    if t == &ArrowType::Null {
        return Ok(new_null_array(t, rows));
    }
    let mut out = args[0].clone();
    let mut ordered = normalize_floats(&out)?;
    for next in &args[1..] {
        let next_ordered = normalize_floats(next)?;
        let wins = null_as_false(&better(&next_ordered, &ordered).map_err(arrow_err)?);
        let missing = boolean::is_null(&out).map_err(arrow_err)?;
        let take = boolean::or(&wins, &missing).map_err(arrow_err)?;
        out = zip(&take, next, &out).map_err(arrow_err)?;
        ordered = zip(&take, &next_ordered, &ordered).map_err(arrow_err)?;
    }
    Ok(out)
}
