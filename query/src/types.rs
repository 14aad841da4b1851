//! The logical types tilefold computes with: Chronon's `DataKind`s (SEMANTICS.md §2.3), and their
//! mapping to and from Arrow.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field, Fields};

/// A value type, mirroring Chronon's `TDataType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Byte,
    Short,
    Int,
    Long,
    Float,
    Double,
    String,
    Binary,
    Date,
    Timestamp,
    List(Box<DataType>),
    Map(Box<DataType>, Box<DataType>),
    Struct(Vec<(String, DataType)>),
}

impl DataType {
    /// INT, LONG, SHORT, FLOAT or DOUBLE: "num" in SEMANTICS.md §3.2.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::Short | Self::Int | Self::Long | Self::Float | Self::Double
        )
    }

    /// Integral types widen to LONG.
    pub fn is_integral(&self) -> bool {
        matches!(self, Self::Byte | Self::Short | Self::Int | Self::Long)
    }

    pub fn is_floating(&self) -> bool {
        matches!(self, Self::Float | Self::Double)
    }

    /// BOOLEAN, SHORT, INT, LONG, FLOAT, DOUBLE, STRING or BINARY: the element types a list is
    /// flattened over (R-AGG-4).
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Self::Boolean
                | Self::Short
                | Self::Int
                | Self::Long
                | Self::Float
                | Self::Double
                | Self::String
                | Self::Binary
        )
    }

    /// True if this type is, or contains, a DATE or TIMESTAMP (R-AGG-2).
    pub fn contains_temporal(&self) -> bool {
        match self {
            Self::Date | Self::Timestamp => true,
            Self::List(element) => element.contains_temporal(),
            Self::Map(key, value) => key.contains_temporal() || value.contains_temporal(),
            Self::Struct(fields) => fields.iter().any(|(_, t)| t.contains_temporal()),
            _ => false,
        }
    }

    /// Chronon's type name, as used in its error messages.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// The type of an Arrow column, or `None` for Arrow types Chronon has no kind for.
    pub fn from_arrow(arrow: &ArrowType) -> Option<Self> {
        Some(match arrow {
            ArrowType::Boolean => Self::Boolean,
            ArrowType::Int8 => Self::Byte,
            ArrowType::Int16 => Self::Short,
            ArrowType::Int32 => Self::Int,
            ArrowType::Int64 => Self::Long,
            ArrowType::Float32 => Self::Float,
            ArrowType::Float64 => Self::Double,
            ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => Self::String,
            ArrowType::Binary | ArrowType::LargeBinary | ArrowType::BinaryView => Self::Binary,
            ArrowType::Date32 | ArrowType::Date64 => Self::Date,
            ArrowType::Timestamp(_, _) => Self::Timestamp,
            ArrowType::List(field) | ArrowType::LargeList(field) => {
                Self::List(Box::new(Self::from_arrow(field.data_type())?))
            }
            ArrowType::Map(entries, _) => match entries.data_type() {
                ArrowType::Struct(fields) if fields.len() == 2 => Self::Map(
                    Box::new(Self::from_arrow(fields[0].data_type())?),
                    Box::new(Self::from_arrow(fields[1].data_type())?),
                ),
                _ => return None,
            },
            ArrowType::Struct(fields) => Self::Struct(
                fields
                    .iter()
                    .map(|f| Some((f.name().clone(), Self::from_arrow(f.data_type())?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }

    /// The Arrow type tilefold writes for this type.
    pub fn to_arrow(&self) -> ArrowType {
        match self {
            Self::Boolean => ArrowType::Boolean,
            Self::Byte => ArrowType::Int8,
            Self::Short => ArrowType::Int16,
            Self::Int => ArrowType::Int32,
            Self::Long => ArrowType::Int64,
            Self::Float => ArrowType::Float32,
            Self::Double => ArrowType::Float64,
            Self::String => ArrowType::Utf8,
            Self::Binary => ArrowType::Binary,
            Self::Date => ArrowType::Date32,
            Self::Timestamp => {
                ArrowType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, Some("UTC".into()))
            }
            Self::List(element) => {
                ArrowType::List(Arc::new(Field::new("item", element.to_arrow(), true)))
            }
            Self::Map(key, value) => {
                let entries = Fields::from(vec![
                    Field::new("key", key.to_arrow(), false),
                    Field::new("value", value.to_arrow(), true),
                ]);
                ArrowType::Map(
                    Arc::new(Field::new("entries", ArrowType::Struct(entries), false)),
                    false,
                )
            }
            Self::Struct(fields) => ArrowType::Struct(
                fields
                    .iter()
                    .map(|(name, t)| Field::new(name, t.to_arrow(), true))
                    .collect::<Fields>(),
            ),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean => f.write_str("BOOLEAN"),
            Self::Byte => f.write_str("BYTE"),
            Self::Short => f.write_str("SHORT"),
            Self::Int => f.write_str("INT"),
            Self::Long => f.write_str("LONG"),
            Self::Float => f.write_str("FLOAT"),
            Self::Double => f.write_str("DOUBLE"),
            Self::String => f.write_str("STRING"),
            Self::Binary => f.write_str("BINARY"),
            Self::Date => f.write_str("DATE"),
            Self::Timestamp => f.write_str("TIMESTAMP"),
            Self::List(element) => write!(f, "LIST<{element}>"),
            Self::Map(key, value) => write!(f, "MAP<{key},{value}>"),
            Self::Struct(fields) => {
                f.write_str("STRUCT<")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_round_trip() {
        let types = [
            DataType::Long,
            DataType::List(Box::new(DataType::String)),
            DataType::Map(Box::new(DataType::String), Box::new(DataType::Double)),
            DataType::Struct(vec![
                ("a".into(), DataType::Int),
                ("b".into(), DataType::Binary),
            ]),
        ];
        for t in types {
            assert_eq!(DataType::from_arrow(&t.to_arrow()), Some(t));
        }
    }

    #[test]
    fn names() {
        let t = DataType::Map(Box::new(DataType::String), Box::new(DataType::Int));
        assert_eq!(t.to_string(), "MAP<STRING,INT>");
    }
}
