//! `SPLIT(s, regex[, limit])` → ARRAY<STRING>, with Java's `String.split(regex, limit)`
//! semantics as Spark 3.5 uses them:
//!
//! - `limit <= 0` (default -1): split everywhere and keep trailing empty strings
//!   (`split('a,b,,', ',')` = `["a","b","",""]`; Spark maps Java's `limit = 0` to -1);
//!   `limit > 0`: at most `limit` parts, the last holding the rest of the string;
//! - a zero-width match at the very start yields no leading empty string; no match: `[s]`;
//! - an empty pattern splits a non-empty string into its characters, without a trailing empty
//!   string, keeping only the first `limit` characters when `0 < limit < length` (Spark 3.4/3.5);
//! - the pattern is a Java regex translated to the `regex` crate: `\d \w \s` (and negations) are
//!   ASCII-only as in Java; constructs the crate lacks (look-around, back-references, possessive
//!   quantifiers) are errors: at bind time for a literal pattern, when evaluated for a pattern
//!   from a column. Patterns without regex metacharacters split literally without a regex.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType as ArrowType, Int32Type};
use regex::Regex;

use super::{check_arity, literal_str, number_as, primitives, string_arg, strings, Signature};
use crate::expr::bound::Bound;
use crate::expr::coerce::list_type;

pub(super) fn bind_split(args: Vec<Bound>) -> Signature {
    check_arity(&args, 2, 3)?;
    let mut args = args.into_iter();
    let s = string_arg(args.next().ok_or("missing argument")?)?;
    let pattern = string_arg(args.next().ok_or("missing argument")?)?;
    if let Some(Some(p)) = literal_str(&pattern) {
        Splitter::new(p)?;
    }
    let mut out = vec![s, pattern];
    if let Some(limit) = args.next() {
        out.push(number_as(limit, &ArrowType::Int32)?);
    }
    Ok((out, list_type(ArrowType::Utf8)))
}

pub(super) fn eval_split(
    args: &[ArrayRef],
    _rows: usize,
    t: &ArrowType,
) -> Result<ArrayRef, String> {
    let (s, patterns) = (strings(args, 0)?, strings(args, 1)?);
    let limits = match args.len() {
        3 => Some(primitives::<Int32Type>(args, 2)?),
        _ => None,
    };
    let ArrowType::List(field) = t else {
        return Err(format!("SPLIT: unexpected result type {t}"));
    };
    let mut out = ListBuilder::new(StringBuilder::new()).with_field(field.clone());
    let mut cached: Option<(String, Splitter)> = None;
    let mut parts = Vec::new();
    for i in 0..s.len() {
        let limit = match limits {
            Some(l) if l.is_null(i) => None,
            Some(l) => Some(l.value(i)),
            None => Some(-1),
        };
        let (Some(limit), false, false) = (limit, s.is_null(i), patterns.is_null(i)) else {
            out.append_null();
            continue;
        };
        let pattern = patterns.value(i);
        if !matches!(&cached, Some((p, _)) if p == pattern) {
            cached = Some((pattern.to_owned(), Splitter::new(pattern)?));
        }
        let Some((_, splitter)) = &cached else {
            return Err("SPLIT: no compiled pattern".into());
        };
        parts.clear();
        splitter.split(s.value(i), limit, &mut parts);
        for part in &parts {
            out.values().append_value(part);
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// A compiled split pattern.
pub(crate) enum Splitter {
    Empty,
    Literal(String),
    Regex(Regex),
}

impl Splitter {
    /// Compiles a Java regex, or says why it cannot be used.
    pub(crate) fn new(pattern: &str) -> Result<Splitter, String> {
        if pattern.is_empty() {
            return Ok(Splitter::Empty);
        }
        if let Some(literal) = literal_pattern(pattern) {
            return Ok(Splitter::Literal(literal));
        }
        translate_java_regex(pattern)
            .and_then(|p| Regex::new(&p).map_err(|e| e.to_string()))
            .map(Splitter::Regex)
            .map_err(|e| format!("unsupported regex {pattern:?}: {e}"))
    }

    /// Splits `s` into `parts` (cleared by the caller).
    pub(crate) fn split<'s>(&self, s: &'s str, limit: i32, parts: &mut Vec<&'s str>) {
        match self {
            Splitter::Empty if !s.is_empty() => {
                let count = s.chars().count();
                let keep = usize::try_from(limit)
                    .ok()
                    .filter(|&l| l > 0 && l <= count)
                    .unwrap_or(count);
                let mut ends = s.char_indices().map(|(i, _)| i).skip(1);
                let mut start = 0;
                for _ in 0..keep {
                    let end = ends.next().unwrap_or(s.len());
                    parts.push(&s[start..end]);
                    start = end;
                }
            }
            Splitter::Empty => java_split(s, limit, |from| Some((from, from)), parts),
            Splitter::Literal(p) => java_split(
                s,
                limit,
                |from| {
                    s[from..]
                        .find(p.as_str())
                        .map(|i| (from + i, from + i + p.len()))
                },
                parts,
            ),
            Splitter::Regex(r) => java_split(
                s,
                limit,
                |from| r.find_at(s, from).map(|m| (m.start(), m.end())),
                parts,
            ),
        }
    }
}

/// Java's `Pattern.split(input, limit)` (limit 0 treated as -1) over matches found by `find`
/// (the first match at or after a byte offset), stepping as `Matcher.find` does: after an empty
/// match, the next search starts one character later.
fn java_split<'s>(
    s: &'s str,
    limit: i32,
    mut find: impl FnMut(usize) -> Option<(usize, usize)>,
    parts: &mut Vec<&'s str>,
) {
    let max_parts = usize::try_from(limit).ok().filter(|&l| l > 0);
    let mut index = 0;
    let mut from = 0;
    while from <= s.len() {
        let Some((start, end)) = find(from) else {
            break;
        };
        from = if start == end {
            s[end..]
                .chars()
                .next()
                .map_or(s.len() + 1, |c| end + c.len_utf8())
        } else {
            end
        };
        if max_parts.is_some_and(|max| parts.len() + 1 >= max) {
            break;
        }
        if index == 0 && start == 0 && end == 0 {
            continue; // no leading empty string for a zero-width match at the start
        }
        parts.push(&s[index..start]);
        index = end;
    }
    if index == 0 && parts.is_empty() {
        parts.push(s);
        return;
    }
    parts.push(&s[index..]);
}

/// The literal text a pattern without regex metacharacters matches (as Java's fast path: also
/// one escaped non-alphanumeric character such as `\|`).
fn literal_pattern(pattern: &str) -> Option<String> {
    const META: &[char] = &[
        '\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}',
    ];
    if !pattern.contains(META) {
        return Some(pattern.to_owned());
    }
    let mut chars = pattern.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some('\\'), Some(c), None) if !c.is_ascii_alphanumeric() => Some(c.to_string()),
        _ => None,
    }
}

/// Rewrites Java's ASCII-only predefined classes for the Unicode-aware `regex` crate, and
/// rejects possessive quantifiers (`a*+`), which the crate would read as nested repetition.
fn translate_java_regex(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let (mut in_class, mut after_quantifier) = (false, false);
    while let Some(c) = chars.next() {
        let quantified = after_quantifier;
        after_quantifier = false;
        match c {
            '\\' => match chars.next() {
                Some('d') => out.push_str("[0-9]"),
                Some('D') => out.push_str("[^0-9]"),
                Some('w') => out.push_str("[a-zA-Z_0-9]"),
                Some('W') => out.push_str("[^a-zA-Z_0-9]"),
                Some('s') => out.push_str("[ \\t\\n\\x0B\\f\\r]"),
                Some('S') => out.push_str("[^ \\t\\n\\x0B\\f\\r]"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '+' if quantified && !in_class => {
                return Err("possessive quantifiers are not supported".into());
            }
            _ => {
                match c {
                    '[' => in_class = true,
                    ']' => in_class = false,
                    '*' | '+' | '?' | '}' => after_quantifier = !in_class,
                    _ => {}
                }
                out.push(c);
            }
        }
    }
    Ok(out)
}
