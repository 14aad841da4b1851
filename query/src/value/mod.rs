//! Owned values, with the canonical total order of SEMANTICS.md R-AGG-11.
//!
//! Numbers are normalised: every integral type is held as [`Value::Long`] and every floating type
//! as [`Value::Double`] (a FLOAT widens exactly). The [`DataType`](crate::DataType) that goes with a
//! value says how to write it back.

mod arrow_cell;
mod jvm_format;
mod order;
mod to_arrow;

pub use arrow_cell::value_at;
pub use jvm_format::{jvm_double_string, jvm_float_string};
pub use order::{canonical_cmp, canonical_f64_bits, str_cmp_utf16};
pub use to_arrow::values_to_array;

use std::cmp::Ordering;

/// One value of any Chronon type.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Boolean(bool),
    /// BYTE, SHORT, INT and LONG.
    Long(i64),
    /// FLOAT and DOUBLE.
    Double(f64),
    String(String),
    Binary(Vec<u8>),
    List(Vec<Value>),
    /// Entries, kept sorted by key under [`canonical_cmp`].
    Map(Vec<(Value, Value)>),
    /// Field values in schema order.
    Struct(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A map from entries in any order: sorted by key, so equal maps are equal values.
    pub fn map(mut entries: Vec<(Value, Value)>) -> Value {
        entries.sort_by(|a, b| canonical_cmp(&a.0, &b.0));
        Value::Map(entries)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Long(v) => Some(*v as f64),
            Value::Double(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Long(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Equality is the canonical order's equality: all NaNs are equal, −0.0 ≠ +0.0, and maps compare
/// by content.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        canonical_cmp(self, other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        canonical_cmp(self, other)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Long(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
