//! The bound expression tree: names resolved to column indexes, every node typed, implicit
//! casts made explicit. Evaluation is vectorised over Arrow arrays with arrow's kernels.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, Scalar, UInt32Array,
};
use arrow::compute::kernels::{boolean, cmp, numeric};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::DataType as ArrowType;

use super::coerce::is_integral;
use super::functions::FunctionDef;

/// A typed, resolved expression.
#[derive(Debug, Clone)]
pub enum Bound {
    Column {
        index: usize,
        name: String,
        data_type: ArrowType,
    },
    /// A one-element array holding the literal (possibly null).
    Literal(ArrayRef),
    /// Spark's non-ANSI CAST: a value that does not convert becomes null.
    Cast {
        input: Box<Bound>,
        to: ArrowType,
    },
    /// Operands already cast to `data_type` (for `/`, DOUBLE).
    Arithmetic {
        op: ArithmeticOp,
        left: Box<Bound>,
        right: Box<Bound>,
        data_type: ArrowType,
    },
    Negate(Box<Bound>),
    /// Operands already cast to one type.
    Compare {
        op: CompareOp,
        left: Box<Bound>,
        right: Box<Bound>,
    },
    And(Box<Bound>, Box<Bound>),
    Or(Box<Bound>, Box<Bound>),
    Not(Box<Bound>),
    IsNull {
        input: Box<Bound>,
        negated: bool,
    },
    Call {
        function: &'static FunctionDef,
        args: Vec<Bound>,
        data_type: ArrowType,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithmeticOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// An evaluated operand: a full column, or one value standing for every row.
pub enum Columnar {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Columnar {
    /// The values as an array of `rows` elements.
    pub fn into_array(self, rows: usize) -> Result<ArrayRef, String> {
        match self {
            Columnar::Array(a) => Ok(a),
            Columnar::Scalar(s) => broadcast(&s, rows),
        }
    }

    fn datum(&self) -> Box<dyn arrow::array::Datum + '_> {
        match self {
            Columnar::Array(a) => Box::new(a),
            Columnar::Scalar(s) => Box::new(Scalar::new(s.clone())),
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Columnar::Scalar(_))
    }

    fn wrap(array: ArrayRef, scalar: bool) -> Columnar {
        if scalar {
            Columnar::Scalar(array)
        } else {
            Columnar::Array(array)
        }
    }
}

/// Repeats a one-element array `rows` times.
pub fn broadcast(one: &ArrayRef, rows: usize) -> Result<ArrayRef, String> {
    if one.is_null(0) {
        return Ok(new_null_array(one.data_type(), rows));
    }
    let indexes = UInt32Array::from(vec![0u32; rows]);
    arrow::compute::take(one.as_ref(), &indexes, None).map_err(|e| e.to_string())
}

fn spark_cast(array: &ArrayRef, to: &ArrowType) -> Result<ArrayRef, String> {
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options).map_err(|e| e.to_string())
}

impl Bound {
    pub fn data_type(&self) -> ArrowType {
        match self {
            Bound::Column { data_type, .. }
            | Bound::Arithmetic { data_type, .. }
            | Bound::Call { data_type, .. } => data_type.clone(),
            Bound::Literal(array) => array.data_type().clone(),
            Bound::Cast { to, .. } => to.clone(),
            Bound::Negate(input) => input.data_type(),
            Bound::Compare { .. }
            | Bound::And(..)
            | Bound::Or(..)
            | Bound::Not(_)
            | Bound::IsNull { .. } => ArrowType::Boolean,
        }
    }

    /// Evaluates over `batch`, giving an array of `batch.num_rows()` values.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, String> {
        self.columnar(batch)?.into_array(batch.num_rows())
    }

    pub(crate) fn columnar(&self, batch: &RecordBatch) -> Result<Columnar, String> {
        let err = |e: arrow::error::ArrowError| e.to_string();
        Ok(match self {
            Bound::Column { index, name, .. } => Columnar::Array(
                batch
                    .columns()
                    .get(*index)
                    .cloned()
                    .ok_or_else(|| format!("input has no column {name}"))?,
            ),
            Bound::Literal(one) => Columnar::Scalar(one.clone()),
            Bound::Cast { input, to } => match input.columnar(batch)? {
                Columnar::Array(a) => Columnar::Array(spark_cast(&a, to)?),
                Columnar::Scalar(s) => Columnar::Scalar(spark_cast(&s, to)?),
            },
            Bound::Arithmetic {
                op, left, right, ..
            } => {
                let (l, r) = (left.columnar(batch)?, right.columnar(batch)?);
                if matches!(op, ArithmeticOp::Divide | ArithmeticOp::Remainder) {
                    return divide(*op, l, r, batch.num_rows());
                }
                let scalar = l.is_scalar() && r.is_scalar();
                let (ld, rd) = (l.datum(), r.datum());
                let (ld, rd) = (ld.as_ref(), rd.as_ref());
                let out = match op {
                    ArithmeticOp::Add => numeric::add_wrapping(ld, rd),
                    ArithmeticOp::Subtract => numeric::sub_wrapping(ld, rd),
                    _ => numeric::mul_wrapping(ld, rd),
                }
                .map_err(err)?;
                Columnar::wrap(out, scalar)
            }
            Bound::Negate(input) => {
                let v = input.columnar(batch)?;
                let scalar = v.is_scalar();
                let a = v.into_array(if scalar { 1 } else { batch.num_rows() })?;
                Columnar::wrap(numeric::neg_wrapping(&a).map_err(err)?, scalar)
            }
            Bound::Compare { op, left, right } => {
                let (l, r) = (left.columnar(batch)?, right.columnar(batch)?);
                let scalar = l.is_scalar() && r.is_scalar();
                let (ld, rd) = (l.datum(), r.datum());
                let (ld, rd) = (ld.as_ref(), rd.as_ref());
                let out = match op {
                    CompareOp::Eq => cmp::eq(ld, rd),
                    CompareOp::NotEq => cmp::neq(ld, rd),
                    CompareOp::Lt => cmp::lt(ld, rd),
                    CompareOp::LtEq => cmp::lt_eq(ld, rd),
                    CompareOp::Gt => cmp::gt(ld, rd),
                    CompareOp::GtEq => cmp::gt_eq(ld, rd),
                }
                .map_err(err)?;
                Columnar::wrap(Arc::new(out), scalar)
            }
            Bound::And(left, right) | Bound::Or(left, right) => {
                let rows = batch.num_rows();
                let l = left.evaluate(batch)?;
                let r = right.evaluate(batch)?;
                let (l, r) = (as_boolean(&l)?, as_boolean(&r)?);
                let out = if matches!(self, Bound::And(..)) {
                    boolean::and_kleene(l, r)
                } else {
                    boolean::or_kleene(l, r)
                }
                .map_err(err)?;
                debug_assert_eq!(out.len(), rows);
                Columnar::Array(Arc::new(out))
            }
            Bound::Not(input) => {
                let a = input.evaluate(batch)?;
                Columnar::Array(Arc::new(boolean::not(as_boolean(&a)?).map_err(err)?))
            }
            Bound::IsNull { input, negated } => {
                let a = input.evaluate(batch)?;
                let out = if *negated {
                    boolean::is_not_null(&a)
                } else {
                    boolean::is_null(&a)
                };
                Columnar::Array(Arc::new(out.map_err(err)?))
            }
            Bound::Call {
                function,
                args,
                data_type,
            } => {
                let rows = batch.num_rows();
                let args = args
                    .iter()
                    .map(|a| a.evaluate(batch))
                    .collect::<Result<Vec<_>, _>>()?;
                Columnar::Array((function.evaluate)(&args, rows, data_type)?)
            }
        })
    }
}

fn as_boolean(a: &ArrayRef) -> Result<&BooleanArray, String> {
    a.as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| format!("expected BOOLEAN, found {}", a.data_type()))
}

/// A one-element array of type `t` holding the small integer `v`.
fn constant(v: i8, t: &ArrowType) -> Result<ArrayRef, String> {
    spark_cast(
        &(Arc::new(arrow::array::Int8Array::from(vec![v])) as ArrayRef),
        t,
    )
}

/// `/` and `%`: a zero divisor gives null (Spark, non-ANSI). Integer `%` follows the dividend's
/// sign, as on the JVM, and i64::MIN % −1 is 0.
fn divide(op: ArithmeticOp, l: Columnar, r: Columnar, rows: usize) -> Result<Columnar, String> {
    let err = |e: arrow::error::ArrowError| e.to_string();
    let (l, r) = (l.into_array(rows)?, r.into_array(rows)?);
    let t = r.data_type().clone();
    let is_zero = cmp::eq(&r, &Scalar::new(constant(0, &t)?)).map_err(err)?;
    // Zero divisors become one so the kernel never fails; those rows are nulled afterwards.
    // For integers, −1 becomes one too: x % −1 = 0 = x % 1, without overflow at i64::MIN.
    let replace = if is_integral(&t) && op == ArithmeticOp::Remainder {
        let is_minus_one = cmp::eq(&r, &Scalar::new(constant(-1, &t)?)).map_err(err)?;
        boolean::or(&is_zero, &is_minus_one).map_err(err)?
    } else {
        is_zero.clone()
    };
    let one = Scalar::new(constant(1, &t)?);
    let safe_r = arrow::compute::kernels::zip::zip(&replace, &one, &r).map_err(err)?;
    let out = match op {
        ArithmeticOp::Divide => numeric::div(&l, &safe_r),
        _ => numeric::rem(&l, &safe_r),
    }
    .map_err(err)?;
    Ok(Columnar::Array(
        arrow::compute::nullif(&out, &is_zero).map_err(err)?,
    ))
}
