//! [`Scalar`]: one input element as a simple operation sees it, borrowed from an Arrow column or
//! a [`Value`]; never allocates.

use crate::Value;

/// One non-null input element after list flattening (R-AGG-4). Integral types arrive as `Long`,
/// FLOAT and DOUBLE as `Double`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> Scalar<'a> {
    /// The scalar inside a value, or `None` for null and containers.
    pub fn from_value(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Boolean(v) => Scalar::Bool(*v),
            Value::Long(v) => Scalar::Long(*v),
            Value::Double(v) => Scalar::Double(*v),
            Value::String(v) => Scalar::Str(v),
            Value::Binary(v) => Scalar::Bytes(v),
            _ => return None,
        })
    }

    pub fn to_value(self) -> Value {
        match self {
            Scalar::Bool(v) => Value::Boolean(v),
            Scalar::Long(v) => Value::Long(v),
            Scalar::Double(v) => Value::Double(v),
            Scalar::Str(v) => Value::String(v.to_owned()),
            Scalar::Bytes(v) => Value::Binary(v.to_vec()),
        }
    }

    /// The value as a double (numbers and booleans; true = 1).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Scalar::Long(v) => Some(v as f64),
            Scalar::Double(v) => Some(v),
            Scalar::Bool(v) => Some(if v { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
}
