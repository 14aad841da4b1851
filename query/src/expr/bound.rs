//! The bound expression tree: names resolved to column indexes, every node typed, implicit
//! casts made explicit. Evaluation is vectorised over Arrow arrays; the operators live in
//! [`super::eval`] and the special forms (IN, CASE, LIKE, element access, constructors) in
//! [`super::eval_forms`].

use arrow::array::{new_null_array, Array, ArrayRef, RecordBatch, Scalar, UInt32Array};
use arrow::datatypes::DataType as ArrowType;

use super::cast::spark_cast;
use super::coerce::list_type;
use super::functions::FunctionDef;
use super::like::{Case, LikePattern};
use super::{eval, eval_forms};

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
    /// Spark's non-ANSI CAST ([`spark_cast`]): a value that does not convert becomes null.
    Cast {
        input: Box<Bound>,
        to: ArrowType,
    },
    /// Operands already cast to `data_type` (for `/`, DOUBLE; for DIV, BIGINT).
    Arithmetic {
        op: ArithmeticOp,
        left: Box<Bound>,
        right: Box<Bound>,
        data_type: ArrowType,
    },
    Negate(Box<Bound>),
    /// Operands already cast to one atomic type.
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
    /// `input IS [NOT] TRUE|FALSE`: never null.
    IsBoolean {
        input: Box<Bound>,
        value: bool,
        negated: bool,
    },
    /// `input IN (list)`, every item cast to the input's type: true if one equals, else null if
    /// the input or an item is null, else false.
    InList {
        input: Box<Bound>,
        list: Vec<Bound>,
    },
    /// `CASE WHEN c THEN v ... [ELSE e] END`; values already cast to `data_type`.
    Case {
        branches: Vec<(Bound, Bound)>,
        otherwise: Option<Box<Bound>>,
        data_type: ArrowType,
    },
    /// `input [I]LIKE pattern`; `input` is `Utf8`.
    Like {
        input: Box<Bound>,
        pattern: LikeSpec,
        case: Case,
    },
    /// `array(e, ...)`; elements already cast to one type.
    MakeArray {
        elements: Vec<Bound>,
        element_type: ArrowType,
    },
    /// `map(k, v, ...)`; constant, distinct, non-null keys and values cast to the map's types.
    MakeMap {
        keys: Vec<Bound>,
        values: Vec<Bound>,
        data_type: ArrowType,
    },
    /// `array[index]`, 0-based; `index` is BIGINT, truncated to INT as Spark does.
    ArrayElement {
        array: Box<Bound>,
        index: Box<Bound>,
    },
    /// `map[key]`; `key` already cast to the map's key type.
    MapValue {
        map: Box<Bound>,
        key: Box<Bound>,
    },
    Call {
        function: &'static FunctionDef,
        args: Vec<Bound>,
        data_type: ArrowType,
    },
}

/// A LIKE pattern: compiled once when constant, else per row.
#[derive(Debug, Clone)]
pub enum LikeSpec {
    Fixed(LikePattern),
    PerRow { pattern: Box<Bound>, escape: char },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithmeticOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
    /// `DIV`: BIGINT division truncating toward zero.
    IntegralDivide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `<=>`: equality where null equals null, never null.
    NullSafeEq,
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

    /// The values as an arrow `Datum`.
    pub fn datum(&self) -> Box<dyn arrow::array::Datum + '_> {
        match self {
            Columnar::Array(a) => Box::new(a),
            Columnar::Scalar(s) => Box::new(Scalar::new(s.clone())),
        }
    }

    pub fn is_scalar(&self) -> bool {
        matches!(self, Columnar::Scalar(_))
    }

    /// Applies `f` to the underlying array, keeping the scalar-ness.
    pub fn map(
        self,
        f: impl FnOnce(&ArrayRef) -> Result<ArrayRef, String>,
    ) -> Result<Self, String> {
        Ok(match self {
            Columnar::Array(a) => Columnar::Array(f(&a)?),
            Columnar::Scalar(s) => Columnar::Scalar(f(&s)?),
        })
    }

    pub fn wrap(array: ArrayRef, scalar: bool) -> Columnar {
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

impl Bound {
    pub fn data_type(&self) -> ArrowType {
        match self {
            Bound::Column { data_type, .. }
            | Bound::Arithmetic { data_type, .. }
            | Bound::Case { data_type, .. }
            | Bound::MakeMap { data_type, .. }
            | Bound::Call { data_type, .. } => data_type.clone(),
            Bound::Literal(array) => array.data_type().clone(),
            Bound::Cast { to, .. } => to.clone(),
            Bound::Negate(input) => input.data_type(),
            Bound::MakeArray { element_type, .. } => list_type(element_type.clone()),
            Bound::ArrayElement { array, .. } => match array.data_type() {
                ArrowType::List(field) => field.data_type().clone(),
                _ => ArrowType::Null,
            },
            Bound::MapValue { map, .. } => super::coerce::map_types(&map.data_type())
                .map(|(_, value)| value)
                .unwrap_or(ArrowType::Null),
            Bound::Compare { .. }
            | Bound::And(..)
            | Bound::Or(..)
            | Bound::Not(_)
            | Bound::IsNull { .. }
            | Bound::IsBoolean { .. }
            | Bound::InList { .. }
            | Bound::Like { .. } => ArrowType::Boolean,
        }
    }

    /// Whether the expression reads no column (its value is the same for every row).
    pub fn is_constant(&self) -> bool {
        match self {
            Bound::Column { .. } => false,
            Bound::Literal(_) => true,
            Bound::Cast { input, .. }
            | Bound::Negate(input)
            | Bound::Not(input)
            | Bound::IsNull { input, .. }
            | Bound::IsBoolean { input, .. } => input.is_constant(),
            Bound::Arithmetic { left, right, .. }
            | Bound::Compare { left, right, .. }
            | Bound::And(left, right)
            | Bound::Or(left, right)
            | Bound::ArrayElement {
                array: left,
                index: right,
            }
            | Bound::MapValue {
                map: left,
                key: right,
            } => left.is_constant() && right.is_constant(),
            Bound::InList { input, list } => {
                input.is_constant() && list.iter().all(Bound::is_constant)
            }
            Bound::Case {
                branches,
                otherwise,
                ..
            } => {
                branches
                    .iter()
                    .all(|(c, v)| c.is_constant() && v.is_constant())
                    && otherwise.as_ref().is_none_or(|o| o.is_constant())
            }
            Bound::Like { input, pattern, .. } => {
                input.is_constant()
                    && match pattern {
                        LikeSpec::Fixed(_) => true,
                        LikeSpec::PerRow { pattern, .. } => pattern.is_constant(),
                    }
            }
            Bound::MakeArray { elements, .. } => elements.iter().all(Bound::is_constant),
            Bound::MakeMap { keys, values, .. } => {
                keys.iter().chain(values).all(Bound::is_constant)
            }
            Bound::Call { args, .. } => args.iter().all(Bound::is_constant),
        }
    }

    /// Evaluates over `batch`, giving an array of `batch.num_rows()` values.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, String> {
        let out = self.columnar(batch)?.into_array(batch.num_rows())?;
        if out.len() != batch.num_rows() {
            return Err(format!(
                "internal: {} values for {} rows",
                out.len(),
                batch.num_rows()
            ));
        }
        Ok(out)
    }

    #[recursive::recursive]
    pub(crate) fn columnar(&self, batch: &RecordBatch) -> Result<Columnar, String> {
        Ok(match self {
            Bound::Column { index, name, .. } => Columnar::Array(
                batch
                    .columns()
                    .get(*index)
                    .cloned()
                    .ok_or_else(|| format!("input has no column {name}"))?,
            ),
            Bound::Literal(one) => Columnar::Scalar(one.clone()),
            Bound::Cast { input, to } => input.columnar(batch)?.map(|a| spark_cast(a, to))?,
            Bound::Arithmetic {
                op, left, right, ..
            } => eval::arithmetic(*op, left.columnar(batch)?, right.columnar(batch)?, batch)?,
            Bound::Negate(input) => eval::negate(input.columnar(batch)?)?,
            Bound::Compare { op, left, right } => {
                eval::compare(*op, left.columnar(batch)?, right.columnar(batch)?)?
            }
            Bound::And(left, right) => eval::and_or(true, left, right, batch)?,
            Bound::Or(left, right) => eval::and_or(false, left, right, batch)?,
            Bound::Not(input) => eval::not(input.columnar(batch)?)?,
            Bound::IsNull { input, negated } => eval::is_null(input.columnar(batch)?, *negated)?,
            Bound::IsBoolean {
                input,
                value,
                negated,
            } => eval::is_boolean(input.columnar(batch)?, *value, *negated)?,
            Bound::InList { input, list } => eval_forms::in_list(input, list, batch)?,
            Bound::Case {
                branches,
                otherwise,
                data_type,
            } => eval_forms::case(branches, otherwise.as_deref(), data_type, batch)?,
            Bound::Like {
                input,
                pattern,
                case,
            } => eval_forms::like(input, pattern, *case, batch)?,
            Bound::MakeArray {
                elements,
                element_type,
            } => eval_forms::make_array(elements, element_type, batch)?,
            Bound::MakeMap {
                keys,
                values,
                data_type,
            } => eval_forms::make_map(keys, values, data_type, batch)?,
            Bound::ArrayElement { array, index } => {
                eval_forms::array_element(array.evaluate(batch)?, index.evaluate(batch)?)?
            }
            Bound::MapValue { map, key } => {
                eval_forms::map_value(map.evaluate(batch)?, key.evaluate(batch)?)?
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
