//! Spark SQL expressions: Chronon's `selects`, `wheres`, `timeColumn` and `derivations`.
//!
//! An [`Expression`] is parsed with `sqlparser` (Spark dialect) and bound once against an Arrow
//! schema (names resolved, types checked, implicit casts inserted); it then evaluates
//! vectorised over any `RecordBatch` of that schema, any number of times. Semantics follow
//! Spark's non-ANSI mode: nulls propagate, `/` is DOUBLE, integer overflow wraps, a zero
//! divisor or a failed CAST gives null.

mod bind;
mod bound;
mod coerce;
mod error;
pub(crate) mod functions;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Schema};
use sqlparser::dialect::SparkSqlDialect;
use sqlparser::parser::Parser;

pub use error::{did_you_mean, ExprError};

use bind::Binder;
use bound::Bound;

/// Longest expression text accepted, to bound parsing work on untrusted configs.
const MAX_EXPRESSION_BYTES: usize = 64 * 1024;
/// Deepest nesting the parser accepts.
const MAX_DEPTH: usize = 64;

/// A compiled expression: parsed and bound once, evaluated many times.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    bound: Bound,
}

impl Expression {
    /// Parses `text` and binds it against `schema`.
    pub fn compile(text: &str, schema: &Schema) -> Result<Self, ExprError> {
        let fail = |reason: String| ExprError::new(text, reason);
        if text.len() > MAX_EXPRESSION_BYTES {
            return Err(fail(format!("longer than {MAX_EXPRESSION_BYTES} bytes")));
        }
        let dialect = SparkSqlDialect {};
        let mut parser = Parser::new(&dialect)
            .with_recursion_limit(MAX_DEPTH)
            .try_with_sql(text)
            .map_err(|e| fail(e.to_string()))?;
        let ast = parser.parse_expr().map_err(|e| fail(e.to_string()))?;
        let rest = parser.peek_token();
        if rest.token != sqlparser::tokenizer::Token::EOF {
            return Err(fail(format!(
                "unexpected {} after the expression",
                rest.token
            )));
        }
        let bound = Binder { schema }.bind(&ast).map_err(fail)?;
        Ok(Expression {
            text: text.to_owned(),
            bound,
        })
    }

    /// The expression's text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The result type.
    pub fn data_type(&self) -> ArrowType {
        self.bound.data_type()
    }

    /// The column this expression only renames, if it is a bare column reference.
    pub fn as_column(&self) -> Option<&str> {
        match &self.bound {
            Bound::Column { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Evaluates over a batch of the schema it was compiled against.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, ExprError> {
        self.bound
            .evaluate(batch)
            .map_err(|reason| ExprError::new(&self.text, reason))
    }
}
