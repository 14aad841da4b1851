//! Chronon's enumerations (SEMANTICS.md §2.3).
//!
//! Written as their integer ids; read from an id or a name (R-CFG-2). An unknown value is an error.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a Chronon enum with its ids and names, plus `id`, `from_id`, `name`, `from_name`,
/// `Display` and serde (integer out; integer or name in).
macro_rules! chronon_enum {
    (
        $(#[$meta:meta])*
        $type:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $id:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $type {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $type {
            /// Every value, in id order.
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The Thrift id written in compiled configs.
            pub const fn id(self) -> i32 {
                match self {
                    $( $type::$variant => $id, )+
                }
            }

            /// The value with this Thrift id, if any.
            pub const fn from_id(id: i64) -> Option<Self> {
                match id {
                    $( $id => Some($type::$variant), )+
                    _ => None,
                }
            }

            /// The Thrift name, e.g. `LAST_K`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $type::$variant => $text, )+
                }
            }

            /// The value with this Thrift name (exact, upper case), if any.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.name() == name)
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i32(self.id())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct EnumVisitor;

                impl Visitor<'_> for EnumVisitor {
                    type Value = $type;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} id or name", stringify!($type))
                    }

                    fn visit_i64<E: de::Error>(self, id: i64) -> Result<$type, E> {
                        $type::from_id(id).ok_or_else(|| {
                            E::custom(format!("unknown {} value {id}", stringify!($type)))
                        })
                    }

                    fn visit_u64<E: de::Error>(self, id: u64) -> Result<$type, E> {
                        i64::try_from(id)
                            .ok()
                            .and_then($type::from_id)
                            .ok_or_else(|| {
                                E::custom(format!("unknown {} value {id}", stringify!($type)))
                            })
                    }

                    fn visit_str<E: de::Error>(self, name: &str) -> Result<$type, E> {
                        $type::from_name(name).ok_or_else(|| {
                            E::custom(format!("unknown {} name {name:?}", stringify!($type)))
                        })
                    }
                }

                deserializer.deserialize_any(EnumVisitor)
            }
        }
    };
}

chronon_enum! {
    /// An aggregation operation (SEMANTICS.md §3.2).
    Operation {
        /// Smallest value.
        Min = 0 => "MIN",
        /// Largest value.
        Max = 1 => "MAX",
        /// Value with the smallest `ts`.
        First = 2 => "FIRST",
        /// Value with the largest `ts`.
        Last = 3 => "LAST",
        /// Exact distinct count.
        UniqueCount = 4 => "UNIQUE_COUNT",
        /// Sketched distinct count; `k` is lgK.
        ApproxUniqueCount = 5 => "APPROX_UNIQUE_COUNT",
        /// Count of non-null inputs.
        Count = 6 => "COUNT",
        /// Sum.
        Sum = 7 => "SUM",
        /// Mean.
        Average = 8 => "AVERAGE",
        /// Population variance.
        Variance = 9 => "VARIANCE",
        /// Skewness.
        Skew = 10 => "SKEW",
        /// Excess kurtosis.
        Kurtosis = 11 => "KURTOSIS",
        /// Sketched percentiles.
        ApproxPercentile = 12 => "APPROX_PERCENTILE",
        /// The k latest values.
        LastK = 13 => "LAST_K",
        /// The k earliest values.
        FirstK = 14 => "FIRST_K",
        /// The k largest values.
        TopK = 15 => "TOP_K",
        /// The k smallest values.
        BottomK = 16 => "BOTTOM_K",
        /// Exact counts per value.
        Histogram = 17 => "HISTOGRAM",
        /// Sketched counts of the k most frequent values.
        ApproxHistogramK = 18 => "APPROX_HISTOGRAM_K",
        /// Distinct count saturating at k.
        BoundedUniqueCount = 19 => "BOUNDED_UNIQUE_COUNT",
    }
}

impl Operation {
    /// Whether delete rows apply an inverse update (R-AGG-10): COUNT, SUM, AVERAGE, HISTOGRAM.
    pub const fn is_deletable(self) -> bool {
        matches!(
            self,
            Operation::Count | Operation::Sum | Operation::Average | Operation::Histogram
        )
    }

    /// Whether the operation is "simple" (R-AGG-4): all but FIRST, LAST, FIRST_K and LAST_K.
    pub const fn is_simple(self) -> bool {
        !matches!(
            self,
            Operation::First | Operation::Last | Operation::FirstK | Operation::LastK
        )
    }

    /// Whether the output column name carries `k`: LAST_K, FIRST_K, TOP_K, BOTTOM_K (R-NAME-1).
    /// These operations require `k` in their argMap (R-AGG-9).
    pub const fn requires_k(self) -> bool {
        matches!(
            self,
            Operation::LastK | Operation::FirstK | Operation::TopK | Operation::BottomK
        )
    }

    /// Whether the operation reads `k` from its argMap.
    pub const fn uses_k(self) -> bool {
        self.requires_k() || self.default_k().is_some()
    }

    /// The `k` used when the argMap has none (SEMANTICS.md §3.2), for operations with a default.
    pub const fn default_k(self) -> Option<i64> {
        match self {
            Operation::ApproxUniqueCount
            | Operation::ApproxHistogramK
            | Operation::BoundedUniqueCount => Some(8),
            Operation::ApproxPercentile => Some(128),
            Operation::Histogram => Some(0),
            _ => None,
        }
    }
}

chronon_enum! {
    /// The unit of a window length.
    TimeUnit {
        /// 3,600,000 ms.
        Hours = 0 => "HOURS",
        /// 86,400,000 ms.
        Days = 1 => "DAYS",
    }
}

impl TimeUnit {
    /// Milliseconds in one unit (R-TIME-2).
    pub const fn millis(self) -> i64 {
        match self {
            TimeUnit::Hours => 3_600_000,
            TimeUnit::Days => 86_400_000,
        }
    }

    /// The suffix letter in output names: `h` or `d` (R-NAME-1).
    pub const fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
        }
    }
}

chronon_enum! {
    /// How precisely a GroupBy is computed for a query time (SEMANTICS.md §4.2).
    Accuracy {
        /// Point-in-time at T (R-WIN-3).
        Temporal = 0 => "TEMPORAL",
        /// Daily snapshots.
        Snapshot = 1 => "SNAPSHOT",
    }
}

chronon_enum! {
    /// The kind of a [`TDataType`](super::TDataType).
    DataKind {
        /// Boolean.
        Boolean = 0 => "BOOLEAN",
        /// 8-bit integer.
        Byte = 1 => "BYTE",
        /// 16-bit integer.
        Short = 2 => "SHORT",
        /// 32-bit integer.
        Int = 3 => "INT",
        /// 64-bit integer.
        Long = 4 => "LONG",
        /// 32-bit float.
        Float = 5 => "FLOAT",
        /// 64-bit float.
        Double = 6 => "DOUBLE",
        /// UTF-8 string.
        String = 7 => "STRING",
        /// Bytes.
        Binary = 8 => "BINARY",
        /// Date.
        Date = 9 => "DATE",
        /// Timestamp.
        Timestamp = 10 => "TIMESTAMP",
        /// Map.
        Map = 11 => "MAP",
        /// List.
        List = 12 => "LIST",
        /// Struct.
        Struct = 13 => "STRUCT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        assert_eq!(Operation::ALL.len(), 20);
        for (index, op) in Operation::ALL.iter().enumerate() {
            assert_eq!(op.id() as usize, index);
            assert_eq!(Operation::from_id(i64::from(op.id())), Some(*op));
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(Operation::LastK.name(), "LAST_K");
        assert_eq!(Operation::from_id(20), None);
        assert_eq!(DataKind::ALL.len(), 14);
        assert_eq!(DataKind::from_id(13), Some(DataKind::Struct));
    }

    #[test]
    fn simple_and_deletable() {
        let deletable: Vec<_> = Operation::ALL
            .iter()
            .filter(|op| op.is_deletable())
            .collect();
        assert_eq!(
            deletable,
            [
                &Operation::Count,
                &Operation::Sum,
                &Operation::Average,
                &Operation::Histogram
            ]
        );
        let not_simple = Operation::ALL.iter().filter(|op| !op.is_simple()).count();
        assert_eq!(not_simple, 4);
    }
}
