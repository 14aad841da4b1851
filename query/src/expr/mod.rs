//! Spark SQL expressions: Chronon's `selects`, `wheres`, `timeColumn` and `derivations`.
//!
//! An [`Expression`] is parsed with `sqlparser` (Spark dialect, plus Spark's backslash escapes
//! in string literals) and bound once against an Arrow schema: names resolved, types checked,
//! Spark's implicit casts inserted. It then evaluates vectorised over any `RecordBatch` of that
//! schema, any number of times. Anything outside the supported subset fails in
//! [`Expression::compile`] with a reason, never in [`Expression::evaluate`] (R-CFG-9).
//!
//! Semantics are Spark 3's non-ANSI mode with UTC as the session time zone: nulls propagate,
//! AND/OR/NOT are three-valued, `/` is DOUBLE, integer arithmetic keeps its type and wraps, a
//! zero divisor or a failed CAST gives null.
//!
//! Supported: columns (case-insensitive), literals (`1` INT, `1L`/large BIGINT, `1.5`/`1e3`
//! DOUBLE, strings, booleans, NULL, `DATE '…'`, `TIMESTAMP '…'`); `+ - * / % DIV`, unary `+ -`;
//! `= == != <> < <= > >= <=>`, `IS [NOT] DISTINCT FROM`; `AND OR NOT !`; `IS [NOT]
//! NULL/TRUE/FALSE/UNKNOWN`; `[NOT] IN (…)`, `[NOT] BETWEEN`, `[NOT] LIKE/ILIKE [ESCAPE]`;
//! `CASE`; `CAST`/`TRY_CAST`/`::` (module `cast` lists the rules); `array(…)`, `ARRAY[…]`,
//! `map(…)`, `a[i]`, `m[k]`; `||`, `SUBSTRING(… FROM … FOR …)`, `TRIM(…)`, `POSITION(… IN …)`,
//! `CEIL`, `FLOOR` and every function of the registry (module `functions`).
//!
//! Deviations from Spark, each a Decision:
//! - DECIMAL computes as DOUBLE (literals like `0.1`, `CAST(x AS DECIMAL(p,s))`).
//! - A pattern column of LIKE whose value is an invalid pattern gives null (Spark raises).
//! - `map(…)` keys must be distinct non-null constants (Spark raises on null or duplicate keys
//!   at run time); `map()` without arguments is rejected.
//! - Rejected although Spark accepts: `DIV` of FLOAT/DOUBLE, comparing or IN over arrays and
//!   maps, CAST of arrays/maps to STRING, RLIKE, struct fields, interval arithmetic, region
//!   time-zone ids (`Europe/Paris`) in TIMESTAMP literals, `'it''s'` (ambiguous across Spark
//!   versions), expressions nested more than 256 levels deep.
//! - CAST of time-only text (`'12:00:00'`, which Spark puts on the current date) or of text
//!   with a region time zone to TIMESTAMP gives null; hexadecimal floating-point text to
//!   DOUBLE gives null.

mod bind;
mod bind_forms;
mod bind_ops;
mod bound;
mod cast;
mod coerce;
mod dialect;
mod error;
mod eval;
mod eval_forms;
pub(crate) mod functions;
mod like;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Schema};
use sqlparser::parser::{Parser, ParserOptions};

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
        let dialect = dialect::SparkExprDialect;
        // String literals arrive as written; the binder applies Spark's escapes.
        let mut parser = Parser::new(&dialect)
            .with_options(ParserOptions::new().with_unescape(false))
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
        let bound = Binder::new(schema).bind(&ast).map_err(fail)?;
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
