//! String functions: LOWER/LCASE, UPPER/UCASE, LENGTH (CHAR_LENGTH, CHARACTER_LENGTH), CONCAT,
//! SUBSTR/SUBSTRING, TRIM, LTRIM, RTRIM, POSITION/LOCATE, INSTR (SPLIT lives in `split.rs`).
//!
//! Positions and lengths count characters (Unicode code points, as Spark's `UTF8String`), not
//! bytes. Non-string atomic arguments are cast to STRING first.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, StringArray, StringBuilder};
use arrow::compute::kernels::concat_elements::concat_elements_utf8_many;
use arrow::compute::kernels::length::length;
use arrow::datatypes::{DataType as ArrowType, Int32Type};

use super::split::{bind_split, eval_split};
use super::{arrow_err, check_arity, number_as, primitives, string_arg, strings};
use super::{FunctionDef, Signature};
use crate::expr::bound::Bound;

pub(super) static FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "LOWER",
        bind: bind_string_to_string,
        evaluate: eval_lower,
    },
    FunctionDef {
        name: "LCASE",
        bind: bind_string_to_string,
        evaluate: eval_lower,
    },
    FunctionDef {
        name: "UPPER",
        bind: bind_string_to_string,
        evaluate: eval_upper,
    },
    FunctionDef {
        name: "UCASE",
        bind: bind_string_to_string,
        evaluate: eval_upper,
    },
    FunctionDef {
        name: "LENGTH",
        bind: bind_length,
        evaluate: eval_length,
    },
    FunctionDef {
        name: "CHAR_LENGTH",
        bind: bind_length,
        evaluate: eval_length,
    },
    FunctionDef {
        name: "CHARACTER_LENGTH",
        bind: bind_length,
        evaluate: eval_length,
    },
    FunctionDef {
        name: "CONCAT",
        bind: bind_concat,
        evaluate: eval_concat,
    },
    FunctionDef {
        name: "SUBSTR",
        bind: bind_substring,
        evaluate: eval_substring,
    },
    FunctionDef {
        name: "SUBSTRING",
        bind: bind_substring,
        evaluate: eval_substring,
    },
    FunctionDef {
        name: "TRIM",
        bind: bind_trim,
        evaluate: eval_trim,
    },
    FunctionDef {
        name: "LTRIM",
        bind: bind_trim,
        evaluate: eval_ltrim,
    },
    FunctionDef {
        name: "RTRIM",
        bind: bind_trim,
        evaluate: eval_rtrim,
    },
    FunctionDef {
        name: "POSITION",
        bind: bind_locate,
        evaluate: eval_locate,
    },
    FunctionDef {
        name: "LOCATE",
        bind: bind_locate,
        evaluate: eval_locate,
    },
    FunctionDef {
        name: "INSTR",
        bind: bind_instr,
        evaluate: eval_locate,
    },
    FunctionDef {
        name: "SPLIT",
        bind: bind_split,
        evaluate: eval_split,
    },
];

/// Applies `f` to every non-null string; nulls stay null.
fn map_strings<F>(input: &StringArray, mut f: F) -> ArrayRef
where
    F: for<'s> FnMut(&'s str) -> Cow<'s, str>,
{
    let mut out = StringBuilder::with_capacity(input.len(), input.value_data().len());
    for value in input.iter() {
        match value {
            Some(s) => out.append_value(f(s)),
            None => out.append_null(),
        }
    }
    Arc::new(out.finish())
}

/// One string argument, STRING result.
fn bind_string_to_string(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 1)?;
    Ok((vec![string_arg(args.remove(0))?], ArrowType::Utf8))
}

fn eval_lower(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(map_strings(strings(args, 0)?, |s| {
        if s.is_ascii() {
            if s.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(s.to_ascii_lowercase())
            } else {
                Cow::Borrowed(s)
            }
        } else {
            Cow::Owned(s.to_lowercase())
        }
    }))
}

fn eval_upper(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(map_strings(strings(args, 0)?, |s| {
        if s.is_ascii() {
            if s.bytes().any(|b| b.is_ascii_lowercase()) {
                Cow::Owned(s.to_ascii_uppercase())
            } else {
                Cow::Borrowed(s)
            }
        } else {
            Cow::Owned(s.to_uppercase())
        }
    }))
}

/// `LENGTH(s)`: INT, characters of a string (bytes of a BINARY).
fn bind_length(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 1, 1)?;
    let s = args.remove(0);
    let s = match s.data_type() {
        ArrowType::Binary => s,
        _ => string_arg(s)?,
    };
    Ok((vec![s], ArrowType::Int32))
}

fn eval_length(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    if args[0].data_type() == &ArrowType::Binary {
        return length(&args[0]).map_err(arrow_err);
    }
    let s = strings(args, 0)?;
    let out = Int32Array::from_unary(s, |v: &str| {
        let chars = if v.is_ascii() {
            v.len()
        } else {
            v.chars().count()
        };
        i32::try_from(chars).unwrap_or(i32::MAX)
    });
    Ok(Arc::new(out))
}

/// `CONCAT(a, ...)`: STRING; NULL if any argument is NULL; `CONCAT()` is ''.
fn bind_concat(args: Vec<Bound>) -> Signature {
    let args = args
        .into_iter()
        .map(string_arg)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((args, ArrowType::Utf8))
}

fn eval_concat(args: &[ArrayRef], rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    if args.is_empty() {
        return Ok(Arc::new(StringArray::from(vec![""; rows])));
    }
    let arrays = (0..args.len())
        .map(|i| strings(args, i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(
        concat_elements_utf8_many(&arrays).map_err(arrow_err)?,
    ))
}

/// `SUBSTR(s, pos[, len])`: STRING; `pos` and `len` are INT.
fn bind_substring(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 3)?;
    let mut args = args.into_iter();
    let mut out = vec![string_arg(args.next().ok_or("missing argument")?)?];
    for arg in args {
        out.push(number_as(arg, &ArrowType::Int32)?);
    }
    Ok((out, ArrowType::Utf8))
}

fn eval_substring(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    let s = strings(args, 0)?;
    let pos = primitives::<Int32Type>(args, 1)?;
    let len = match args.len() {
        3 => Some(primitives::<Int32Type>(args, 2)?),
        _ => None,
    };
    let mut out = StringBuilder::with_capacity(s.len(), s.value_data().len());
    for i in 0..s.len() {
        let length = match len {
            Some(len) if len.is_null(i) => None,
            Some(len) => Some(len.value(i)),
            None => Some(i32::MAX),
        };
        match (s.is_null(i) || pos.is_null(i), length) {
            (false, Some(length)) => {
                out.append_value(substring_sql(s.value(i), pos.value(i), length))
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Spark's `UTF8String.substringSQL`: 1-based `pos`, 0 acts as 1, negative counts from the end;
/// `len` characters from there (clipped to the string), '' when `len < 1`.
pub(crate) fn substring_sql(s: &str, pos: i32, len: i32) -> &str {
    let chars = if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    } as i64;
    let (pos, len) = (i64::from(pos), i64::from(len));
    let start = match pos {
        p if p > 0 => p - 1,
        p if p < 0 => chars + p,
        _ => 0,
    };
    let end = (start + len).min(chars);
    let start = start.max(0);
    if start >= end {
        return "";
    }
    // 0 <= start < end <= chars, so both fit usize.
    let (start, end) = (start as usize, end as usize);
    if s.is_ascii() {
        return &s[start..end];
    }
    let mut offsets = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    let from = offsets.nth(start).unwrap_or(s.len());
    let to = offsets.nth(end - start - 1).unwrap_or(s.len());
    &s[from..to]
}

/// `TRIM(s)`, `LTRIM(s)`, `RTRIM(s)`: STRING without leading/trailing spaces (U+0020 only, as
/// Spark's `UTF8String.trim`). The two-argument (trim characters) forms are not supported.
fn bind_trim(mut args: Vec<Bound>) -> Signature {
    if args.len() == 2 {
        return Err("trimming characters other than spaces is not supported".into());
    }
    check_arity(&args, 1, 1)?;
    Ok((vec![string_arg(args.remove(0))?], ArrowType::Utf8))
}

fn eval_trim(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(map_strings(strings(args, 0)?, |s| {
        Cow::Borrowed(s.trim_matches(' '))
    }))
}

fn eval_ltrim(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(map_strings(strings(args, 0)?, |s| {
        Cow::Borrowed(s.trim_start_matches(' '))
    }))
}

fn eval_rtrim(args: &[ArrayRef], _rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    Ok(map_strings(strings(args, 0)?, |s| {
        Cow::Borrowed(s.trim_end_matches(' '))
    }))
}

/// `POSITION(substr, str[, pos])` and `LOCATE(...)`: INT, the 1-based character position of the
/// first `substr` in `str` at or after character `pos` (default 1); 0 if there is none or
/// `pos < 1`; a NULL `pos` gives 0 (Spark's `StringLocate`, after Hive).
fn bind_locate(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 3)?;
    let mut args = args.into_iter();
    let mut out = Vec::with_capacity(3);
    for text in args.by_ref().take(2) {
        out.push(string_arg(text)?);
    }
    if let Some(pos) = args.next() {
        out.push(number_as(pos, &ArrowType::Int32)?);
    }
    Ok((out, ArrowType::Int32))
}

/// `INSTR(str, substr)`: `LOCATE(substr, str)`.
fn bind_instr(mut args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 2)?;
    args.swap(0, 1);
    bind_locate(args)
}

fn eval_locate(args: &[ArrayRef], rows: usize, _t: &ArrowType) -> Result<ArrayRef, String> {
    let (needle, text) = (strings(args, 0)?, strings(args, 1)?);
    let start = match args.len() {
        3 => Some(primitives::<Int32Type>(args, 2)?),
        _ => None,
    };
    let out: Int32Array = (0..rows)
        .map(|i| {
            let from = match start {
                Some(p) if p.is_null(i) => return Some(0),
                Some(p) => p.value(i),
                None => 1,
            };
            if needle.is_null(i) || text.is_null(i) {
                return None;
            }
            Some(locate(text.value(i), needle.value(i), from))
        })
        .collect();
    Ok(Arc::new(out))
}

/// `UTF8String.indexOf(needle, from - 1) + 1`: 1-based, 0 when absent or `from < 1`; an empty
/// needle is found at 1.
pub(crate) fn locate(text: &str, needle: &str, from: i32) -> i32 {
    if from < 1 {
        return 0;
    }
    if needle.is_empty() {
        return 1;
    }
    let skip = usize::try_from(from - 1).unwrap_or(usize::MAX);
    let Some(offset) = text.char_indices().nth(skip).map(|(i, _)| i) else {
        return 0;
    };
    text[offset..].find(needle).map_or(0, |found| {
        let chars = text[..offset + found].chars().count();
        i32::try_from(chars).map_or(i32::MAX, |c| c.saturating_add(1))
    })
}
