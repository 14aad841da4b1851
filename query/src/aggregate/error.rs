//! Errors of the aggregation algebra.

/// Why an aggregation could not be set up or could not fold its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AggregationError {
    /// R-AGG-2: DATE and TIMESTAMP inputs.
    #[error("{column}: Date type and Timestamp time should not be aggregated over (it is {data_type}). Please use Query's Select expressions to transform them into Long.")]
    TemporalInput { column: String, data_type: String },
    /// R-AGG-2: any other input type the operation does not accept.
    #[error("{column}: {data_type} is incompatible with {operation}")]
    IncompatibleType {
        column: String,
        data_type: String,
        operation: &'static str,
    },
    /// R-AGG-5.
    #[error("{column}: Bucketing over map columns is currently unsupported")]
    BucketOverMap { column: String },
    /// R-AGG-8: bucket columns must be STRING.
    #[error("bucket column {column} must be STRING, found {data_type}")]
    BucketNotString { column: String, data_type: String },
    /// R-AGG-7.
    #[error("{column}: elementWise {reason}")]
    ElementWise {
        column: String,
        reason: &'static str,
    },
    /// R-AGG-7: a null element in an elementWise input.
    #[error("Null values are not allowed within tensors")]
    NullInTensor,
    /// R-AGG-7: elementWise inputs of unequal lengths.
    #[error("Tensor dimensions must match (expected {expected}, found {found})")]
    TensorDimensions { expected: usize, found: usize },
    /// An argMap parameter outside the range an operation supports.
    #[error("{column}: {operation} argument {argument}: {reason}")]
    InvalidArgument {
        column: String,
        operation: &'static str,
        argument: &'static str,
        reason: String,
    },
    /// A column the aggregation reads is missing from the input.
    #[error("input has no column {column}")]
    MissingColumn { column: String },
    /// A column of an Arrow type that has no Chronon counterpart.
    #[error("column {column} has unsupported Arrow type {data_type}")]
    UnsupportedArrowType { column: String, data_type: String },
    /// A column whose Arrow type changed since the aggregation was set up.
    #[error("column {column} changed type: expected {expected}, found {found}")]
    ColumnTypeChanged {
        column: String,
        expected: String,
        found: String,
    },
    /// Two states that cannot be merged (different sketch parameters).
    #[error("cannot merge states: {0}")]
    Merge(String),
    /// An error in one aggregation of a config: names the config and the field path.
    #[error("config {config}, {path}: {source}")]
    InConfig {
        config: String,
        path: String,
        source: Box<AggregationError>,
    },
    /// The GroupBy has no aggregations to fold.
    #[error("group-by {0} has no aggregations")]
    NoAggregations(String),
}

/// Malformed IR bytes. Decoding never panics and never allocates more than the input can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed IR bytes at offset {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: String,
}
