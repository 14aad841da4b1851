//! Binding of the special forms: literals and typed literals, CASE, `array(...)`, `map(...)`,
//! element access (`a[i]`, `m[k]`), and SQL type names.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array,
    NullArray, RecordBatch, RecordBatchOptions, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType as ArrowType, Schema};
use sqlparser::ast::{self, AccessExpr, CaseWhen, Expr, Subscript, Value};

use super::bind::{cast, BindResult, Binder};
use super::bind_ops::{boolean_operand, compare};
use super::bound::{Bound, CompareOp};
use super::cast::{parse_date, parse_timestamp, spark_cast};
use super::coerce::{
    common_type, implicit_cast, is_atomic, is_integral, is_string, list_type, map_type, map_types,
    timestamp_type, type_name,
};
use super::dialect::unescape_string;

/// A literal: integers are INT when they fit, else BIGINT (`L` suffix: BIGINT); decimals and
/// exponents are DOUBLE (Decision: Spark would make `1.5` a DECIMAL). String literals follow
/// Spark's backslash escapes.
pub fn literal(value: &Value) -> BindResult {
    let array: ArrayRef = match value {
        Value::Number(text, long) => {
            let text = text.as_str();
            let integral = text
                .bytes()
                .skip_while(|b| *b == b'-')
                .all(|b| b.is_ascii_digit());
            if let (false, Ok(v)) = (*long, text.parse::<i32>()) {
                Arc::new(Int32Array::from(vec![v]))
            } else if let Ok(v) = text.parse::<i64>() {
                Arc::new(Int64Array::from(vec![v]))
            } else if *long {
                return Err(format!("{text}L is out of range for BIGINT"));
            } else if integral || text.contains(['.', 'e', 'E']) {
                let v: f64 = text.parse().map_err(|_| format!("invalid number {text}"))?;
                Arc::new(Float64Array::from(vec![v]))
            } else {
                return Err(format!("invalid number {text}"));
            }
        }
        Value::SingleQuotedString(s) => {
            Arc::new(StringArray::from(vec![unescape_string(s, '\'')?]))
        }
        Value::DoubleQuotedString(s) => Arc::new(StringArray::from(vec![unescape_string(s, '"')?])),
        Value::SingleQuotedRawStringLiteral(s) | Value::DoubleQuotedRawStringLiteral(s) => {
            Arc::new(StringArray::from(vec![s.as_str()]))
        }
        Value::Boolean(b) => Arc::new(BooleanArray::from(vec![*b])),
        Value::Null => Arc::new(NullArray::new(1)),
        other => return Err(format!("unsupported literal {other}")),
    };
    Ok(Bound::Literal(array))
}

/// `DATE 'yyyy-mm-dd'` and `TIMESTAMP '...'` (UTC); text Spark cannot parse is an error.
pub fn typed_literal(typed: &ast::TypedString) -> BindResult {
    let text = match &typed.value.value {
        Value::SingleQuotedString(s) => unescape_string(s, '\'')?,
        Value::DoubleQuotedString(s) => unescape_string(s, '"')?,
        other => return Err(format!("unsupported typed literal {other}")),
    };
    let array: ArrayRef = match &typed.data_type {
        ast::DataType::Date => Arc::new(Date32Array::from(vec![
            parse_date(&text).ok_or_else(|| format!("invalid DATE literal {text:?}"))?
        ])),
        ast::DataType::Timestamp(_, _) => {
            let micros = parse_timestamp(&text).ok_or_else(|| {
                format!(
                    "invalid or unsupported TIMESTAMP literal {text:?} (zones must be UTC offsets)"
                )
            })?;
            Arc::new(TimestampMicrosecondArray::from(vec![micros]).with_timezone("UTC"))
        }
        other => return Err(format!("unsupported typed literal {other} '{text}'")),
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
        D::Timestamp(_, _) => timestamp_type(),
        D::Array(ast::ArrayElemTypeDef::AngleBracket(element)) => list_type(sql_type(element)?),
        D::Map(key, value, _) => map_type(sql_type(key)?, sql_type(value)?),
        D::Custom(name, args) if args.is_empty() => {
            match name.to_string().to_ascii_lowercase().as_str() {
                "long" => ArrowType::Int64,
                "short" => ArrowType::Int16,
                "byte" => ArrowType::Int8,
                _ => return Err(format!("unsupported type {t}")),
            }
        }
        other => return Err(format!("unsupported type {other}")),
    })
}

/// Evaluates an expression that reads no column, once.
pub fn constant_value(bound: &Bound) -> Result<ArrayRef, String> {
    if !bound.is_constant() {
        return Err("expected a constant".into());
    }
    let options = RecordBatchOptions::new().with_row_count(Some(1));
    let batch = RecordBatch::try_new_with_options(Arc::new(Schema::empty()), vec![], &options)
        .map_err(|e| e.to_string())?;
    bound.evaluate(&batch)
}

/// The text of a one-row `Utf8` constant; `None` when it is null.
pub fn constant_string(value: &ArrayRef) -> Option<String> {
    let text = value.as_string_opt::<i32>()?;
    (!text.is_empty() && text.is_valid(0)).then(|| text.value(0).to_owned())
}

/// `CASE [x] WHEN ... THEN ... [ELSE ...] END`. With an operand, each `WHEN v` is `x = v`
/// coerced on its own; results meet in their common type; no ELSE means NULL.
pub fn case(
    binder: &Binder,
    operand: Option<&Expr>,
    conditions: &[CaseWhen],
    otherwise: Option<&Expr>,
) -> BindResult {
    let operand = operand.map(|e| binder.bind(e)).transpose()?;
    let mut branches = Vec::with_capacity(conditions.len());
    for when in conditions {
        let condition = binder.bind(&when.condition)?;
        let condition = match &operand {
            Some(x) => compare(CompareOp::Eq, x.clone(), condition)?,
            None => boolean_operand(condition, "CASE WHEN")?,
        };
        branches.push((condition, binder.bind(&when.result)?));
    }
    let otherwise = otherwise.map(|e| binder.bind(e)).transpose()?;
    let types: Vec<ArrowType> = branches
        .iter()
        .map(|(_, v)| v.data_type())
        .chain(otherwise.iter().map(Bound::data_type))
        .collect();
    let data_type = common_type(&types).ok_or_else(|| {
        let names: Vec<String> = types.iter().map(type_name).collect();
        format!("CASE results have no common type: {}", names.join(", "))
    })?;
    Ok(Bound::Case {
        branches: branches
            .into_iter()
            .map(|(c, v)| (c, cast(v, &data_type)))
            .collect(),
        otherwise: otherwise.map(|e| Box::new(cast(e, &data_type))),
        data_type,
    })
}

/// `array(e, ...)` / `ARRAY[e, ...]`: elements cast to their common type.
pub fn make_array(elements: Vec<Bound>) -> BindResult {
    let types: Vec<ArrowType> = elements.iter().map(Bound::data_type).collect();
    let element_type = common_type(&types).ok_or_else(|| {
        let names: Vec<String> = types.iter().map(type_name).collect();
        format!("array elements have no common type: {}", names.join(", "))
    })?;
    Ok(Bound::MakeArray {
        elements: elements
            .into_iter()
            .map(|e| cast(e, &element_type))
            .collect(),
        element_type,
    })
}

/// `map(k1, v1, k2, v2, ...)`. Keys must be distinct non-null constants of an atomic type, so
/// the runtime errors Spark raises for null or duplicate keys are load-time errors here.
pub fn make_map(args: Vec<Bound>) -> BindResult {
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Err("map needs key, value pairs (at least one)".into());
    }
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for (i, arg) in args.into_iter().enumerate() {
        if i.is_multiple_of(2) {
            keys.push(arg)
        } else {
            values.push(arg)
        }
    }
    let key_types: Vec<ArrowType> = keys.iter().map(Bound::data_type).collect();
    let value_types: Vec<ArrowType> = values.iter().map(Bound::data_type).collect();
    let key_type = common_type(&key_types)
        .filter(is_atomic)
        .ok_or("map keys must be constants of one atomic type")?;
    let value_type = common_type(&value_types).ok_or("map values have no common type")?;
    let keys: Vec<Bound> = keys.into_iter().map(|k| cast(k, &key_type)).collect();
    let mut seen = Vec::with_capacity(keys.len());
    for key in &keys {
        if !key.is_constant() {
            return Err("map keys must be constants".into());
        }
        let text = spark_cast(&constant_value(key)?, &ArrowType::Utf8)?;
        let text = constant_string(&text).ok_or("map keys cannot be NULL")?;
        if seen.contains(&text) {
            return Err(format!("duplicate map key {text}"));
        }
        seen.push(text);
    }
    Ok(Bound::MakeMap {
        keys,
        values: values.into_iter().map(|v| cast(v, &value_type)).collect(),
        data_type: map_type(key_type, value_type),
    })
}

/// `x[i]` and `m[k]`, chained left to right.
pub fn access(binder: &Binder, root: Bound, chain: &[AccessExpr]) -> BindResult {
    let mut current = root;
    for step in chain {
        let index = match step {
            AccessExpr::Subscript(Subscript::Index { index }) => binder.bind(index)?,
            AccessExpr::Subscript(Subscript::Slice { .. }) => {
                return Err("array slices are not supported".into())
            }
            AccessExpr::Dot(_) => return Err("struct field access is not supported".into()),
        };
        current = subscript(current, index)?;
    }
    Ok(current)
}

fn subscript(container: Bound, index: Bound) -> BindResult {
    let t = container.data_type();
    let it = index.data_type();
    match &t {
        ArrowType::List(_) => {
            // Spark casts a string index to INT, then reads `intValue()` of the ordinal.
            let index = match &it {
                t if is_integral(t) || *t == ArrowType::Null => cast(index, &ArrowType::Int64),
                t if is_string(t) => cast(cast(index, &ArrowType::Int32), &ArrowType::Int64),
                t => {
                    return Err(format!(
                        "an ARRAY index must be an integer, found {}",
                        type_name(t)
                    ))
                }
            };
            Ok(Bound::ArrayElement {
                array: Box::new(container),
                index: Box::new(index),
            })
        }
        ArrowType::Map(..) => {
            let (key_type, _) = map_types(&t).ok_or("invalid map type")?;
            if !implicit_cast(&it, &key_type) {
                return Err(format!(
                    "a {} key cannot look up a {}",
                    type_name(&it),
                    type_name(&t)
                ));
            }
            Ok(Bound::MapValue {
                map: Box::new(container),
                key: Box::new(cast(index, &key_type)),
            })
        }
        other => Err(format!("cannot subscript a {}", type_name(other))),
    }
}
