//! Reading aggregation inputs from Arrow columns. Plain scalar columns take a typed,
//! allocation-free path; nested columns go through [`value_at`].

use arrow::array::PrimitiveArray;
use arrow::array::{
    Array, AsArray, BinaryArray, BooleanArray, LargeBinaryArray, LargeStringArray, StringArray,
    StringViewArray,
};
use arrow::datatypes::{
    DataType as ArrowType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};

use super::Scalar;
use crate::value::value_at;
use crate::Value;

/// A column downcast once per batch, read row by row.
pub enum ColumnReader<'a> {
    Bool(&'a BooleanArray),
    Int8(&'a PrimitiveArray<Int8Type>),
    Int16(&'a PrimitiveArray<Int16Type>),
    Int32(&'a PrimitiveArray<Int32Type>),
    Int64(&'a PrimitiveArray<Int64Type>),
    Float32(&'a PrimitiveArray<Float32Type>),
    Float64(&'a PrimitiveArray<Float64Type>),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    /// Anything else: read as whole values.
    Nested(&'a dyn Array),
}

impl<'a> ColumnReader<'a> {
    pub fn new(array: &'a dyn Array) -> Self {
        let any = array.as_any();
        match array.data_type() {
            ArrowType::Boolean => Self::Bool(array.as_boolean()),
            ArrowType::Int8 => Self::Int8(array.as_primitive()),
            ArrowType::Int16 => Self::Int16(array.as_primitive()),
            ArrowType::Int32 => Self::Int32(array.as_primitive()),
            ArrowType::Int64 => Self::Int64(array.as_primitive()),
            ArrowType::Float32 => Self::Float32(array.as_primitive()),
            ArrowType::Float64 => Self::Float64(array.as_primitive()),
            ArrowType::Utf8 => any.downcast_ref().map_or(Self::Nested(array), Self::Utf8),
            ArrowType::LargeUtf8 => any
                .downcast_ref()
                .map_or(Self::Nested(array), Self::LargeUtf8),
            ArrowType::Utf8View => any
                .downcast_ref()
                .map_or(Self::Nested(array), Self::Utf8View),
            ArrowType::Binary => any.downcast_ref().map_or(Self::Nested(array), Self::Binary),
            ArrowType::LargeBinary => any
                .downcast_ref()
                .map_or(Self::Nested(array), Self::LargeBinary),
            _ => Self::Nested(array),
        }
    }

    /// The scalar at `row`, or `None` for null (and for nested columns).
    #[inline]
    pub fn scalar(&self, row: usize) -> Option<Scalar<'a>> {
        macro_rules! get {
            ($a:expr, $f:expr) => {
                if $a.is_null(row) {
                    None
                } else {
                    Some($f($a.value(row)))
                }
            };
        }
        match self {
            Self::Bool(a) => get!(a, Scalar::Bool),
            Self::Int8(a) => get!(a, |v: i8| Scalar::Long(v.into())),
            Self::Int16(a) => get!(a, |v: i16| Scalar::Long(v.into())),
            Self::Int32(a) => get!(a, |v: i32| Scalar::Long(v.into())),
            Self::Int64(a) => get!(a, Scalar::Long),
            Self::Float32(a) => get!(a, |v: f32| Scalar::Double(v.into())),
            Self::Float64(a) => get!(a, Scalar::Double),
            Self::Utf8(a) => get!(a, Scalar::Str),
            Self::LargeUtf8(a) => get!(a, Scalar::Str),
            Self::Utf8View(a) => get!(a, Scalar::Str),
            Self::Binary(a) => get!(a, Scalar::Bytes),
            Self::LargeBinary(a) => get!(a, Scalar::Bytes),
            Self::Nested(_) => None,
        }
    }

    /// The whole value at `row`.
    pub fn value(&self, row: usize) -> Value {
        match self {
            Self::Nested(a) => value_at(*a, row).unwrap_or(Value::Null),
            _ => self.scalar(row).map_or(Value::Null, Scalar::to_value),
        }
    }

    /// The string at `row` (bucket columns), or `None` for null or a non-string column.
    #[inline]
    pub fn str(&self, row: usize) -> Option<&'a str> {
        match self.scalar(row) {
            Some(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }
}
