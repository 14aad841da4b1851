//! tilefold's semantics: the Chronon config model, the aggregation algebra and output naming.
//!
//! Everything that decides *which value* a feature has lives here; `tilefold-storage` below only
//! stores bytes, and `tilefold-ingest` above only feeds rows in.
//!
//! ```
//! use tilefold_query::config::{Aggregation, Operation};
//! use tilefold_query::aggregate::{AggregationPart, Ir, PartArgs};
//! use tilefold_query::{DataType, Value};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sum = AggregationPart::new(Operation::Sum, "price", &DataType::Long, None, &PartArgs::default())?;
//! let (mut morning, mut evening) = (Ir::Empty, Ir::Empty);
//! sum.update(&mut morning, &Value::Long(3), None, 1_000)?;
//! sum.update(&mut evening, &Value::Long(4), None, 2_000)?;
//! sum.merge(&mut morning, &evening)?;
//! assert_eq!(sum.finalize(&morning), Value::Long(7));
//! # let _ = Aggregation::new(Operation::Sum, "price");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod config;
pub mod derivation;
pub mod evaluate;
pub mod expr;
pub mod key;
pub mod naming;
pub mod source_query;
mod types;
pub mod value;
pub mod window;

pub use types::DataType;
pub use value::Value;
