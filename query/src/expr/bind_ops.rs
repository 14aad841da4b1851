//! Binding of operators with Spark's implicit casts: arithmetic, comparisons, boolean logic,
//! IN, BETWEEN, LIKE and the `IS` predicates.

use arrow::datatypes::DataType as ArrowType;
use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};

use super::bind::{cast, BindResult, Binder};
use super::bind_forms::constant_value;
use super::bound::{ArithmeticOp, Bound, CompareOp, LikeSpec};
use super::cast::can_cast;
use super::coerce::{
    common_type, comparison_type, is_atomic, is_integral, is_numeric, is_string, type_name,
    wider_numeric,
};
use super::like::{Case, LikePattern};

pub fn unary(op: UnaryOperator, input: Bound) -> BindResult {
    match op {
        UnaryOperator::Plus => signed_operand(input, "unary +"),
        UnaryOperator::Minus => Ok(Bound::Negate(Box::new(signed_operand(input, "unary -")?))),
        UnaryOperator::Not | UnaryOperator::BangNot => {
            Ok(Bound::Not(Box::new(boolean_operand(input, "NOT")?)))
        }
        other => Err(format!("unsupported operator {other}")),
    }
}

pub fn binary(binder: &Binder, left: &Expr, op: &BinaryOperator, right: &Expr) -> BindResult {
    let (l, r) = (binder.bind(left)?, binder.bind(right)?);
    match op {
        BinaryOperator::Plus => arithmetic(ArithmeticOp::Add, l, r),
        BinaryOperator::Minus => arithmetic(ArithmeticOp::Subtract, l, r),
        BinaryOperator::Multiply => arithmetic(ArithmeticOp::Multiply, l, r),
        BinaryOperator::Divide => arithmetic(ArithmeticOp::Divide, l, r),
        BinaryOperator::Modulo => arithmetic(ArithmeticOp::Remainder, l, r),
        BinaryOperator::MyIntegerDivide => integral_divide(l, r),
        BinaryOperator::Eq => compare(CompareOp::Eq, l, r),
        BinaryOperator::NotEq => compare(CompareOp::NotEq, l, r),
        BinaryOperator::Lt => compare(CompareOp::Lt, l, r),
        BinaryOperator::LtEq => compare(CompareOp::LtEq, l, r),
        BinaryOperator::Gt => compare(CompareOp::Gt, l, r),
        BinaryOperator::GtEq => compare(CompareOp::GtEq, l, r),
        BinaryOperator::Spaceship => null_safe_equal(l, r),
        BinaryOperator::And => Ok(Bound::And(
            Box::new(boolean_operand(l, "AND")?),
            Box::new(boolean_operand(r, "AND")?),
        )),
        BinaryOperator::Or => Ok(Bound::Or(
            Box::new(boolean_operand(l, "OR")?),
            Box::new(boolean_operand(r, "OR")?),
        )),
        BinaryOperator::StringConcat => binder.call("CONCAT", vec![l, r]),
        other => Err(format!("unsupported operator {other}")),
    }
}

/// An arithmetic operand: numbers as they are, strings cast to DOUBLE (Spark), NULL kept for
/// the caller to type.
pub fn numeric_operand(bound: Bound, op: &str) -> BindResult {
    match bound.data_type() {
        t if is_numeric(&t) || t == ArrowType::Null => Ok(bound),
        t if is_string(&t) => Ok(cast(bound, &ArrowType::Float64)),
        t => Err(format!("{op} needs a number, found {}", type_name(&t))),
    }
}

/// The operand of unary `+` or `-`: as [`numeric_operand`], with NULL as DOUBLE (NULL's
/// default numeric type in Spark: `-NULL` is DOUBLE).
fn signed_operand(bound: Bound, op: &str) -> BindResult {
    let bound = numeric_operand(bound, op)?;
    Ok(match bound.data_type() {
        ArrowType::Null => cast(bound, &ArrowType::Float64),
        _ => bound,
    })
}

/// A BOOLEAN operand; NULL is cast to BOOLEAN.
pub fn boolean_operand(bound: Bound, op: &str) -> BindResult {
    match bound.data_type() {
        ArrowType::Boolean => Ok(bound),
        ArrowType::Null => Ok(cast(bound, &ArrowType::Boolean)),
        t => Err(format!("{op} needs a BOOLEAN, found {}", type_name(&t))),
    }
}

fn symbol(op: ArithmeticOp) -> &'static str {
    match op {
        ArithmeticOp::Add => "+",
        ArithmeticOp::Subtract => "-",
        ArithmeticOp::Multiply => "*",
        ArithmeticOp::Divide => "/",
        ArithmeticOp::Remainder => "%",
        ArithmeticOp::IntegralDivide => "DIV",
    }
}

/// Spark arithmetic: operands widen to a common numeric type (strings count as DOUBLE, NULL
/// takes the other side's type, NULL with NULL is DOUBLE); `/` is always DOUBLE; integer
/// results wrap on overflow (`INT + INT` is INT).
pub fn arithmetic(op: ArithmeticOp, l: Bound, r: Bound) -> BindResult {
    let (l, r) = (
        numeric_operand(l, symbol(op))?,
        numeric_operand(r, symbol(op))?,
    );
    let data_type = match (op, wider_numeric(&l.data_type(), &r.data_type())) {
        (ArithmeticOp::Divide, _) | (_, None) => ArrowType::Float64,
        (_, Some(t)) => t,
    };
    Ok(Bound::Arithmetic {
        op,
        left: Box::new(cast(l, &data_type)),
        right: Box::new(cast(r, &data_type)),
        data_type,
    })
}

/// `a DIV b`: BIGINT division truncating toward zero, null for a zero divisor. Operands are
/// integral (or strings, or NULL) cast to BIGINT; FLOAT and DOUBLE operands are rejected (Spark
/// would divide DECIMAL literals exactly, which tilefold computes as DOUBLE).
fn integral_divide(l: Bound, r: Bound) -> BindResult {
    let operand = |b: Bound| -> BindResult {
        match b.data_type() {
            t if is_integral(&t) || is_string(&t) || t == ArrowType::Null => {
                Ok(cast(b, &ArrowType::Int64))
            }
            t => Err(format!(
                "DIV needs integral operands, found {}",
                type_name(&t)
            )),
        }
    };
    Ok(Bound::Arithmetic {
        op: ArithmeticOp::IntegralDivide,
        left: Box::new(operand(l)?),
        right: Box::new(operand(r)?),
        data_type: ArrowType::Int64,
    })
}

/// The common type of a comparison's operands. Besides Spark's `comparison_type`, a BOOLEAN
/// may be tested for (null-safe) equality with a number, cast to that number's type
/// (`BooleanEquality`: `flag = 1`).
fn comparison_operands(op: CompareOp, l: Bound, r: Bound) -> Result<(Bound, Bound), String> {
    let (lt, rt) = (l.data_type(), r.data_type());
    let equality = matches!(op, CompareOp::Eq | CompareOp::NotEq | CompareOp::NullSafeEq);
    let t = match (&lt, &rt) {
        (ArrowType::Boolean, n) | (n, ArrowType::Boolean) if equality && is_numeric(n) => {
            Some(n.clone())
        }
        _ => comparison_type(&lt, &rt),
    };
    let t =
        t.ok_or_else(|| format!("cannot compare {} with {}", type_name(&lt), type_name(&rt)))?;
    let t = match t {
        ArrowType::Null => ArrowType::Boolean,
        t if is_atomic(&t) => t,
        t => {
            return Err(format!(
                "comparing {} values is not supported",
                type_name(&t)
            ))
        }
    };
    Ok((cast(l, &t), cast(r, &t)))
}

pub fn compare(op: CompareOp, l: Bound, r: Bound) -> BindResult {
    let (left, right) = comparison_operands(op, l, r)?;
    Ok(Bound::Compare {
        op,
        left: Box::new(left),
        right: Box::new(right),
    })
}

/// `a <=> b`, `a IS NOT DISTINCT FROM b`.
pub fn null_safe_equal(l: Bound, r: Bound) -> BindResult {
    compare(CompareOp::NullSafeEq, l, r)
}

pub fn is_null(input: Bound, negated: bool) -> BindResult {
    Ok(Bound::IsNull {
        input: Box::new(input),
        negated,
    })
}

pub fn is_boolean(input: Bound, value: bool, negated: bool) -> BindResult {
    Ok(Bound::IsBoolean {
        input: Box::new(boolean_operand(input, "IS TRUE/FALSE")?),
        value,
        negated,
    })
}

/// `x [NOT] IN (a, b, ...)`: Spark's `InConversion` casts the value and every item to their
/// wider common type (with string promotion: `1 IN ('1')` compares strings).
pub fn in_list(binder: &Binder, expr: &Expr, list: &[Expr], negated: bool) -> BindResult {
    let input = binder.bind(expr)?;
    let list = binder.bind_all(list)?;
    let types: Vec<ArrowType> = std::iter::once(&input)
        .chain(&list)
        .map(Bound::data_type)
        .collect();
    let t = common_type(&types).ok_or_else(|| {
        let names: Vec<String> = types.iter().map(type_name).collect();
        format!("IN needs values of one type, found {}", names.join(", "))
    })?;
    let t = match t {
        ArrowType::Null => ArrowType::Boolean,
        t if is_atomic(&t) => t,
        t => return Err(format!("IN over {} values is not supported", type_name(&t))),
    };
    let found = Bound::InList {
        input: Box::new(cast(input, &t)),
        list: list.into_iter().map(|item| cast(item, &t)).collect(),
    };
    Ok(negate_if(found, negated))
}

fn negate_if(bound: Bound, negated: bool) -> Bound {
    if negated {
        Bound::Not(Box::new(bound))
    } else {
        bound
    }
}

/// `x [NOT] BETWEEN lo AND hi` is `x >= lo AND x <= hi`, each comparison coerced on its own.
pub fn between(binder: &Binder, expr: &Expr, low: &Expr, high: &Expr, negated: bool) -> BindResult {
    let x = binder.bind(expr)?;
    let low = compare(CompareOp::GtEq, x.clone(), binder.bind(low)?)?;
    let high = compare(CompareOp::LtEq, x, binder.bind(high)?)?;
    Ok(negate_if(
        Bound::And(Box::new(low), Box::new(high)),
        negated,
    ))
}

/// A LIKE operand as `Utf8`: strings as they are, other atomic types cast to STRING (Spark's
/// implicit cast), NULL as a null string.
fn string_operand(bound: Bound, op: &str) -> BindResult {
    let t = bound.data_type();
    if t == ArrowType::Null || (is_atomic(&t) && can_cast(&t, &ArrowType::Utf8)) {
        Ok(cast(bound, &ArrowType::Utf8))
    } else {
        Err(format!("{op} needs a STRING, found {}", type_name(&t)))
    }
}

/// `x [NOT] [I]LIKE pattern [ESCAPE 'c']`. A constant pattern is compiled here, so an invalid
/// one is an error at load time.
pub fn like(
    binder: &Binder,
    expr: &Expr,
    pattern: &Expr,
    escape: Option<&Expr>,
    negated: bool,
    any: bool,
    insensitive: bool,
) -> BindResult {
    let op = if insensitive { "ILIKE" } else { "LIKE" };
    if any {
        return Err(format!("{op} ANY/ALL is not supported"));
    }
    let escape = match escape {
        None => '\\',
        Some(e) => {
            let value = constant_value(&string_operand(binder.bind(e)?, "ESCAPE")?)?;
            let text = super::bind_forms::constant_string(&value);
            let mut chars = text.as_deref().unwrap_or("").chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => return Err("ESCAPE needs a string of one character".into()),
            }
        }
    };
    let case = if insensitive {
        Case::Insensitive
    } else {
        Case::Sensitive
    };
    let input = string_operand(binder.bind(expr)?, op)?;
    let pattern = string_operand(binder.bind(pattern)?, op)?;
    let text = if pattern.is_constant() {
        super::bind_forms::constant_string(&constant_value(&pattern)?)
    } else {
        None
    };
    let spec = match text {
        Some(text) => {
            let text = match case {
                Case::Sensitive => text,
                Case::Insensitive => text.to_lowercase(),
            };
            LikeSpec::Fixed(LikePattern::compile(&text, escape)?)
        }
        None => LikeSpec::PerRow {
            pattern: Box::new(pattern),
            escape,
        },
    };
    let matched = Bound::Like {
        input: Box::new(input),
        pattern: spec,
        case,
    };
    Ok(negate_if(matched, negated))
}
