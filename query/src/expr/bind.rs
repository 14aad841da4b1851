//! Binding: sqlparser's AST → [`Bound`], resolving column names against an Arrow schema and
//! applying Spark's implicit casts. Anything unsupported is an error here, at load time, never
//! at run time (R-CFG-9).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, NullArray, StringArray,
};
use arrow::datatypes::{DataType as ArrowType, Schema, TimeUnit};
use sqlparser::ast::{self, BinaryOperator, Expr, UnaryOperator, Value};

use super::bound::{ArithmeticOp, Bound, CompareOp};
use super::coerce::{comparison_type, is_numeric, is_string, type_name, wider_numeric};
use super::error::did_you_mean;
use super::functions;

/// Functions Spark evaluates differently on every call; rejected so results are reproducible.
const NON_DETERMINISTIC: &[&str] = &[
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "NOW",
    "RAND",
    "RANDN",
    "UUID",
    "CURRENT_TIMEZONE",
    "LOCALTIMESTAMP",
];

/// Binds expressions against one schema.
pub struct Binder<'a> {
    pub schema: &'a Schema,
}

pub type BindResult = Result<Bound, String>;

impl Binder<'_> {
    pub fn bind(&self, expr: &Expr) -> BindResult {
        match expr {
            Expr::Identifier(ident) => self.column(&ident.value),
            Expr::CompoundIdentifier(parts) if parts.len() == 1 => self.column(&parts[0].value),
            Expr::Value(value) => literal(&value.value),
            Expr::Nested(inner) => self.bind(inner),
            Expr::UnaryOp { op, expr } => self.unary(*op, expr),
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::IsNull(inner) => Ok(Bound::IsNull {
                input: Box::new(self.bind(inner)?),
                negated: false,
            }),
            Expr::IsNotNull(inner) => Ok(Bound::IsNull {
                input: Box::new(self.bind(inner)?),
                negated: true,
            }),
            Expr::Cast {
                expr, data_type, ..
            } => {
                let to = sql_type(data_type)?;
                Ok(cast(self.bind(expr)?, &to))
            }
            Expr::Function(function) => self.function(function),
            other => Err(format!("unsupported expression {}", describe(other))),
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
        let input = self.bind(expr)?;
        match op {
            UnaryOperator::Plus => numeric_operand(input, "unary +"),
            UnaryOperator::Minus => Ok(Bound::Negate(Box::new(numeric_operand(input, "unary -")?))),
            UnaryOperator::Not => Ok(Bound::Not(Box::new(boolean_operand(input, "NOT")?))),
            other => Err(format!("unsupported operator {other}")),
        }
    }

    fn binary(&self, left: &Expr, op: &BinaryOperator, right: &Expr) -> BindResult {
        let (l, r) = (self.bind(left)?, self.bind(right)?);
        let arithmetic = |op: ArithmeticOp| arithmetic(op, l.clone(), r.clone());
        let compare = |op: CompareOp| compare(op, l.clone(), r.clone());
        match op {
            BinaryOperator::Plus => arithmetic(ArithmeticOp::Add),
            BinaryOperator::Minus => arithmetic(ArithmeticOp::Subtract),
            BinaryOperator::Multiply => arithmetic(ArithmeticOp::Multiply),
            BinaryOperator::Divide => arithmetic(ArithmeticOp::Divide),
            BinaryOperator::Modulo => arithmetic(ArithmeticOp::Remainder),
            BinaryOperator::Eq => compare(CompareOp::Eq),
            BinaryOperator::NotEq => compare(CompareOp::NotEq),
            BinaryOperator::Lt => compare(CompareOp::Lt),
            BinaryOperator::LtEq => compare(CompareOp::LtEq),
            BinaryOperator::Gt => compare(CompareOp::Gt),
            BinaryOperator::GtEq => compare(CompareOp::GtEq),
            BinaryOperator::And => Ok(Bound::And(
                Box::new(boolean_operand(l, "AND")?),
                Box::new(boolean_operand(r, "AND")?),
            )),
            BinaryOperator::Or => Ok(Bound::Or(
                Box::new(boolean_operand(l, "OR")?),
                Box::new(boolean_operand(r, "OR")?),
            )),
            other => Err(format!("unsupported operator {other}")),
        }
    }

    fn function(&self, function: &ast::Function) -> BindResult {
        let name = function.name.to_string().to_uppercase();
        if NON_DETERMINISTIC.contains(&name.as_str()) {
            return Err(format!("{name} is not deterministic and is not supported"));
        }
        let def = functions::lookup(&name).ok_or_else(|| format!("unsupported function {name}"))?;
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
                        other => Err(format!("{name}: unsupported argument {other}")),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(format!("{name}: subqueries are not supported"))
            }
        };
        if function.filter.is_some() || function.over.is_some() || !function.within_group.is_empty()
        {
            return Err(format!(
                "{name}: aggregate and window functions are not supported"
            ));
        }
        let (args, data_type) = (def.bind)(args).map_err(|reason| format!("{name}: {reason}"))?;
        Ok(Bound::Call {
            function: def,
            args,
            data_type,
        })
    }
}

/// Wraps `bound` in a cast to `to` unless it already has that type.
pub fn cast(bound: Bound, to: &ArrowType) -> Bound {
    if bound.data_type() == *to {
        bound
    } else {
        Bound::Cast {
            input: Box::new(bound),
            to: to.clone(),
        }
    }
}

fn numeric_operand(bound: Bound, op: &str) -> BindResult {
    let t = bound.data_type();
    match t {
        t if is_numeric(&t) => Ok(bound),
        ArrowType::Null => Ok(cast(bound, &ArrowType::Int32)),
        t if is_string(&t) => Ok(cast(bound, &ArrowType::Float64)),
        t => Err(format!("{op} needs a number, found {}", type_name(&t))),
    }
}

fn boolean_operand(bound: Bound, op: &str) -> BindResult {
    match bound.data_type() {
        ArrowType::Boolean => Ok(bound),
        ArrowType::Null => Ok(cast(bound, &ArrowType::Boolean)),
        t => Err(format!("{op} needs a BOOLEAN, found {}", type_name(&t))),
    }
}

/// Spark arithmetic: operands widen to a common numeric type (strings count as DOUBLE); `/` is
/// always DOUBLE; integer results wrap on overflow.
fn arithmetic(op: ArithmeticOp, l: Bound, r: Bound) -> BindResult {
    let symbol = match op {
        ArithmeticOp::Add => "+",
        ArithmeticOp::Subtract => "-",
        ArithmeticOp::Multiply => "*",
        ArithmeticOp::Divide => "/",
        ArithmeticOp::Remainder => "%",
    };
    let (l, r) = (numeric_operand(l, symbol)?, numeric_operand(r, symbol)?);
    let data_type = if op == ArithmeticOp::Divide {
        ArrowType::Float64
    } else {
        wider_numeric(&l.data_type(), &r.data_type()).unwrap_or(ArrowType::Float64)
    };
    Ok(Bound::Arithmetic {
        op,
        left: Box::new(cast(l, &data_type)),
        right: Box::new(cast(r, &data_type)),
        data_type,
    })
}

fn compare(op: CompareOp, l: Bound, r: Bound) -> BindResult {
    let (lt, rt) = (l.data_type(), r.data_type());
    let t = comparison_type(&lt, &rt)
        .ok_or_else(|| format!("cannot compare {} with {}", type_name(&lt), type_name(&rt)))?;
    let t = if t == ArrowType::Null {
        ArrowType::Boolean
    } else {
        t
    };
    Ok(Bound::Compare {
        op,
        left: Box::new(cast(l, &t)),
        right: Box::new(cast(r, &t)),
    })
}

/// A literal: integers are INT when they fit, else BIGINT (`L` suffix: BIGINT); decimals and
/// exponents are DOUBLE (Decision: Spark would make `1.5` a DECIMAL).
pub fn literal(value: &Value) -> BindResult {
    let array: ArrayRef = match value {
        Value::Number(text, long) => {
            let text = text.as_str();
            if let (false, Ok(v)) = (*long, text.parse::<i32>()) {
                Arc::new(Int32Array::from(vec![v]))
            } else if let Ok(v) = text.parse::<i64>() {
                Arc::new(Int64Array::from(vec![v]))
            } else {
                let v: f64 = text.parse().map_err(|_| format!("invalid number {text}"))?;
                Arc::new(Float64Array::from(vec![v]))
            }
        }
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
            Arc::new(StringArray::from(vec![s.as_str()]))
        }
        Value::Boolean(b) => Arc::new(BooleanArray::from(vec![*b])),
        Value::Null => Arc::new(NullArray::new(1)),
        other => return Err(format!("unsupported literal {other}")),
    };
    Ok(Bound::Literal(array))
}

/// A SQL type name as an Arrow type.
pub fn sql_type(t: &ast::DataType) -> Result<ArrowType, String> {
    use ast::DataType as D;
    Ok(match t {
        D::Boolean | D::Bool => ArrowType::Boolean,
        D::TinyInt(_) => ArrowType::Int8,
        D::SmallInt(_) => ArrowType::Int16,
        D::Int(_) | D::Integer(_) => ArrowType::Int32,
        D::BigInt(_) => ArrowType::Int64,
        D::Float(_) | D::Real => ArrowType::Float32,
        D::Double(_) | D::DoublePrecision => ArrowType::Float64,
        // Decision: DECIMAL computes as DOUBLE.
        D::Decimal(_) | D::Numeric(_) | D::Dec(_) => ArrowType::Float64,
        D::String(_) | D::Varchar(_) | D::Char(_) | D::Text => ArrowType::Utf8,
        D::Binary(_) | D::Varbinary(_) | D::Bytea => ArrowType::Binary,
        D::Date => ArrowType::Date32,
        D::Timestamp(_, _) => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        D::Custom(name, _) if name.to_string().eq_ignore_ascii_case("long") => ArrowType::Int64,
        D::Custom(name, _) if name.to_string().eq_ignore_ascii_case("short") => ArrowType::Int16,
        D::Custom(name, _) if name.to_string().eq_ignore_ascii_case("byte") => ArrowType::Int8,
        other => return Err(format!("unsupported type {other}")),
    })
}

fn describe(expr: &Expr) -> String {
    let text = expr.to_string();
    let kind = format!("{expr:?}");
    let kind = kind.split(['(', ' ', '{']).next().unwrap_or("");
    format!("{kind} ({text})")
}
