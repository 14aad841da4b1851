//! Binding: sqlparser's AST → [`Bound`], resolving column names against an Arrow schema and
//! applying Spark's implicit casts. Anything unsupported is an error here, at load time, never
//! at run time (R-CFG-9).
//!
//! This file dispatches on the AST and binds names and function calls; operators are bound in
//! [`super::bind_ops`], the special forms (CASE, constructors, element access, CAST, literals)
//! in [`super::bind_forms`].

use std::cell::Cell;
use std::fmt::{self, Write};

use arrow::datatypes::{DataType as ArrowType, Schema};
use sqlparser::ast::{self, CeilFloorKind, DateTimeField, Expr, TrimWhereField, UnaryOperator};

use super::bind_forms as forms;
use super::bind_ops as ops;
use super::bound::Bound;
use super::cast::can_cast;
use super::coerce::type_name;
use super::error::did_you_mean;
use super::functions;

pub use super::bind_forms::{literal, sql_type};

/// Functions Spark evaluates differently on every call; rejected so results are reproducible.
const NON_DETERMINISTIC: &[&str] = &[
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "NOW",
    "RAND",
    "RANDN",
    "RANDOM",
    "UUID",
    "SHUFFLE",
    "CURRENT_TIMEZONE",
    "LOCALTIMESTAMP",
    "MONOTONICALLY_INCREASING_ID",
    "SPARK_PARTITION_ID",
    "INPUT_FILE_NAME",
];

/// Deepest expression tree bound: deeper trees (`a + b + c + ...` with hundreds of terms) are
/// rejected so binding, evaluation and dropping stay within a thread's stack.
pub const MAX_BIND_DEPTH: usize = 256;

/// Binds expressions against one schema.
pub struct Binder<'a> {
    schema: &'a Schema,
    depth: Cell<usize>,
}

pub type BindResult = Result<Bound, String>;

impl<'a> Binder<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        Binder {
            schema,
            depth: Cell::new(0),
        }
    }

    /// Binds one node. Recursion continues on a fresh heap-allocated stack segment when the
    /// current one runs low, so the nesting limit holds on any thread, optimised or not.
    #[recursive::recursive]
    pub fn bind(&self, expr: &Expr) -> BindResult {
        let depth = self.depth.get() + 1;
        if depth > MAX_BIND_DEPTH {
            return Err(format!(
                "expression nested more than {MAX_BIND_DEPTH} levels deep"
            ));
        }
        self.depth.set(depth);
        let bound = self.bind_node(expr);
        self.depth.set(depth - 1);
        bound
    }

    fn bind_node(&self, expr: &Expr) -> BindResult {
        match expr {
            Expr::Identifier(ident) => self.identifier(ident),
            Expr::CompoundIdentifier(parts) if parts.len() == 1 => self.identifier(&parts[0]),
            Expr::CompoundIdentifier(parts) => Err(format!(
                "unsupported qualified name {} (table qualifiers and struct fields are not \
                 supported)",
                parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            )),
            Expr::Value(value) => literal(&value.value),
            Expr::Nested(inner) => self.bind(inner),
            Expr::UnaryOp { op, expr } => self.unary(*op, expr),
            Expr::BinaryOp { left, op, right } => ops::binary(self, left, op, right),
            Expr::IsNull(inner) => ops::is_null(self.bind(inner)?, false),
            Expr::IsNotNull(inner) => ops::is_null(self.bind(inner)?, true),
            Expr::IsUnknown(inner) => ops::is_null(
                ops::boolean_operand(self.bind(inner)?, "IS UNKNOWN")?,
                false,
            ),
            Expr::IsNotUnknown(inner) => ops::is_null(
                ops::boolean_operand(self.bind(inner)?, "IS NOT UNKNOWN")?,
                true,
            ),
            Expr::IsTrue(inner) => ops::is_boolean(self.bind(inner)?, true, false),
            Expr::IsNotTrue(inner) => ops::is_boolean(self.bind(inner)?, true, true),
            Expr::IsFalse(inner) => ops::is_boolean(self.bind(inner)?, false, false),
            Expr::IsNotFalse(inner) => ops::is_boolean(self.bind(inner)?, false, true),
            Expr::IsDistinctFrom(l, r) => Ok(Bound::Not(Box::new(ops::null_safe_equal(
                self.bind(l)?,
                self.bind(r)?,
            )?))),
            Expr::IsNotDistinctFrom(l, r) => ops::null_safe_equal(self.bind(l)?, self.bind(r)?),
            Expr::InList {
                expr,
                list,
                negated,
            } => ops::in_list(self, expr, list, *negated),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => ops::between(self, expr, low, high, *negated),
            Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => ops::like(
                self,
                expr,
                pattern,
                escape_char.as_deref(),
                *negated,
                *any,
                false,
            ),
            Expr::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => ops::like(
                self,
                expr,
                pattern,
                escape_char.as_deref(),
                *negated,
                *any,
                true,
            ),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => forms::case(self, operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Cast {
                expr,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    return Err("CAST ... FORMAT is not supported".into());
                }
                explicit_cast(self.bind(expr)?, &sql_type(data_type)?)
            }
            Expr::TypedString(typed) => forms::typed_literal(typed),
            Expr::Array(array) => forms::make_array(self.bind_all(&array.elem)?),
            Expr::CompoundFieldAccess { root, access_chain } => {
                forms::access(self, self.bind(root)?, access_chain)
            }
            Expr::Function(function) => self.function(function),
            Expr::Ceil { expr, field } => self.rounding("CEIL", expr, field),
            Expr::Floor { expr, field } => self.rounding("FLOOR", expr, field),
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let from = substring_from
                    .as_deref()
                    .ok_or("SUBSTRING needs a start position")?;
                let mut args = vec![self.bind(expr)?, self.bind(from)?];
                if let Some(length) = substring_for {
                    args.push(self.bind(length)?);
                }
                self.call("SUBSTRING", args)
            }
            Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                if trim_what.is_some() || trim_characters.is_some() {
                    return Err("TRIM with characters to remove is not supported".into());
                }
                let name = match trim_where {
                    None | Some(TrimWhereField::Both) => "TRIM",
                    Some(TrimWhereField::Leading) => "LTRIM",
                    Some(TrimWhereField::Trailing) => "RTRIM",
                };
                self.call(name, vec![self.bind(expr)?])
            }
            Expr::Position { expr, r#in } => {
                self.call("POSITION", vec![self.bind(expr)?, self.bind(r#in)?])
            }
            Expr::RLike { .. } => Err(
                "RLIKE/REGEXP is not supported (Java and Rust regular expressions differ)".into(),
            ),
            other => Err(format!("unsupported expression {}", describe(other))),
        }
    }

    /// Binds each expression.
    pub fn bind_all(&self, exprs: &[Expr]) -> Result<Vec<Bound>, String> {
        exprs.iter().map(|e| self.bind(e)).collect()
    }

    fn identifier(&self, ident: &ast::Ident) -> BindResult {
        match ident.quote_style {
            // The tokenizer keeps a doubled backtick as written; Spark reads it as one.
            Some('`') => self.column(&ident.value.replace("``", "`")),
            _ => self.column(&ident.value),
        }
    }

    fn column(&self, name: &str) -> BindResult {
        let fields = self.schema.fields();
        let index = fields.iter().position(|f| f.name() == name).or_else(|| {
            // Spark resolves names case-insensitively; an ambiguous match is an error below.
            let matches: Vec<usize> = fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name().eq_ignore_ascii_case(name))
                .map(|(i, _)| i)
                .collect();
            (matches.len() == 1).then(|| matches[0])
        });
        match index {
            Some(index) => Ok(Bound::Column {
                index,
                name: fields[index].name().clone(),
                data_type: fields[index].data_type().clone(),
            }),
            None => {
                let hint = did_you_mean(name, fields.iter().map(|f| f.name().as_str()))
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                Err(format!("unknown column {name}{hint}"))
            }
        }
    }

    fn unary(&self, op: UnaryOperator, expr: &Expr) -> BindResult {
        // `-2147483648` is one INT literal in Spark, not the negation of a BIGINT.
        if let (UnaryOperator::Minus, Expr::Value(value)) = (op, expr) {
            if let ast::Value::Number(text, long) = &value.value {
                if !text.starts_with('-') {
                    return literal(&ast::Value::Number(format!("-{text}"), *long));
                }
            }
        }
        ops::unary(op, self.bind(expr)?)
    }

    /// `CEIL(x)`, `CEIL(x, scale)`; `CEIL(x TO unit)` is not supported.
    fn rounding(&self, name: &str, expr: &Expr, field: &CeilFloorKind) -> BindResult {
        let mut args = vec![self.bind(expr)?];
        match field {
            CeilFloorKind::DateTimeField(DateTimeField::NoDateTime) => {}
            CeilFloorKind::Scale(scale) => args.push(literal(&scale.value)?),
            CeilFloorKind::DateTimeField(unit) => {
                return Err(format!("{name}(... TO {unit}) is not supported"))
            }
        }
        self.call(name, args)
    }

    fn function(&self, function: &ast::Function) -> BindResult {
        let name = function.name.to_string().to_uppercase();
        if NON_DETERMINISTIC.contains(&name.as_str()) {
            return Err(format!("{name} is not deterministic and is not supported"));
        }
        if function.filter.is_some()
            || function.over.is_some()
            || !function.within_group.is_empty()
            || function.null_treatment.is_some()
        {
            return Err(format!(
                "{name}: aggregate and window functions are not supported"
            ));
        }
        if !matches!(function.parameters, ast::FunctionArguments::None) {
            return Err(format!("{name}: parameterised functions are not supported"));
        }
        let args = match &function.args {
            ast::FunctionArguments::None => Vec::new(),
            ast::FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    return Err(format!("{name}: DISTINCT and clauses are not supported"));
                }
                list.args
                    .iter()
                    .map(|arg| match arg {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => self.bind(e),
                        other => Err(format!(
                            "{name}: unsupported argument {}",
                            prefix(format_args!("{other}"), 80)
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(format!("{name}: subqueries are not supported"))
            }
        };
        match name.as_str() {
            "ARRAY" => forms::make_array(args),
            "MAP" => forms::make_map(args),
            _ => self.call(&name, args),
        }
    }

    /// Calls the registered function `name` (upper case) on bound arguments.
    pub fn call(&self, name: &str, args: Vec<Bound>) -> BindResult {
        let def = functions::lookup(name).ok_or_else(|| format!("unsupported function {name}"))?;
        let (args, data_type) = (def.bind)(args).map_err(|reason| format!("{name}: {reason}"))?;
        Ok(Bound::Call {
            function: def,
            args,
            data_type,
        })
    }
}

/// Wraps `bound` in a cast to `to` unless it already has that type. Callers insert only the
/// casts Spark's coercion rules allow, all of which [`can_cast`] accepts.
pub fn cast(bound: Bound, to: &ArrowType) -> Bound {
    if bound.data_type() == *to {
        return bound;
    }
    Bound::Cast {
        input: Box::new(bound),
        to: to.clone(),
    }
}

/// A CAST written in the expression: checked against Spark's castable pairs.
pub fn explicit_cast(bound: Bound, to: &ArrowType) -> BindResult {
    let from = bound.data_type();
    if !can_cast(&from, to) {
        return Err(format!(
            "cannot cast {} to {}",
            type_name(&from),
            type_name(to)
        ));
    }
    Ok(cast(bound, to))
}

/// A writer keeping at most `limit` bytes, then failing so formatting stops early: formatting
/// a deep tree in full would recurse as deep as the tree.
struct Prefix {
    text: String,
    limit: usize,
}

impl Write for Prefix {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.text.len() + c.len_utf8() > self.limit {
                return Err(fmt::Error);
            }
            self.text.push(c);
        }
        Ok(())
    }
}

/// The first `limit` bytes of `value`'s formatting, `…` marking a cut.
fn prefix(value: fmt::Arguments<'_>, limit: usize) -> String {
    let mut out = Prefix {
        text: String::new(),
        limit,
    };
    if out.write_fmt(value).is_err() {
        out.text.push('…');
    }
    out.text
}

/// The AST node kind and the start of its text, e.g. `Extract (EXTRACT(YEAR FROM day))`.
fn describe(expr: &Expr) -> String {
    let kind = prefix(format_args!("{expr:?}"), 40);
    let kind = kind.split(['(', ' ', '{', '…']).next().unwrap_or("");
    format!("{kind} ({})", prefix(format_args!("{expr}"), 80))
}
