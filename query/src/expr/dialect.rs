//! The SQL dialect expressions are parsed in: sqlparser's Spark dialect, plus Spark's
//! backslash escapes in string literals, which sqlparser's Spark dialect does not know.
//!
//! The tokenizer runs with unescaping off, so string literals arrive exactly as written and
//! [`unescape_string`] applies Spark's own rules (`ParserUtils.unescapeSQLString`).

use std::any::TypeId;

use sqlparser::ast::Expr;
use sqlparser::dialect::{Dialect, SparkSqlDialect};
use sqlparser::parser::{Parser, ParserError};

/// [`SparkSqlDialect`] with backslash escapes in string literals. It keeps the Spark dialect's
/// type identity, so the parser's dialect-specific branches treat it as Spark.
#[derive(Debug, Default, Clone, Copy)]
pub struct SparkExprDialect;

const SPARK: SparkSqlDialect = SparkSqlDialect {};

impl Dialect for SparkExprDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<SparkSqlDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        SPARK.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        SPARK.identifier_quote_style(identifier)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        SPARK.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        SPARK.is_identifier_part(ch)
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        SPARK.supports_filter_during_aggregation()
    }
    fn supports_lambda_functions(&self) -> bool {
        SPARK.supports_lambda_functions()
    }
    fn supports_struct_literal(&self) -> bool {
        SPARK.supports_struct_literal()
    }
    fn supports_nested_comments(&self) -> bool {
        SPARK.supports_nested_comments()
    }
    fn supports_long_type_as_bigint(&self) -> bool {
        SPARK.supports_long_type_as_bigint()
    }
    fn require_interval_qualifier(&self) -> bool {
        SPARK.require_interval_qualifier()
    }
    fn supports_bang_not_operator(&self) -> bool {
        SPARK.supports_bang_not_operator()
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        SPARK.supports_map_literal_with_angle_brackets()
    }
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        SPARK.parse_infix(parser, expr, precedence)
    }
}

/// The value of a quoted string literal's raw body, by Spark's `unescapeSQLString`: `\uXXXX`,
/// `\UXXXXXXXX`, octal `\[01][0-7][0-7]`, `\0 \b \n \r \t \Z`; `\%` and `\_` keep their backslash
/// (for LIKE patterns); any other escaped character stands for itself.
///
/// A doubled quote inside a literal (`'it''s'`) is rejected: Spark 3's lexer reads it as two
/// adjacent literals (`its`), later versions as an escaped quote, so its meaning is ambiguous.
pub fn unescape_string(raw: &str, quote: char) -> Result<String, String> {
    let doubled: String = [quote, quote].iter().collect();
    if raw.contains(&doubled) {
        return Err(format!(
            "a doubled quote {doubled} inside a string literal is ambiguous; write \\{quote}"
        ));
    }
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let hex = |len: usize| -> Option<u32> {
            let digits: String = chars.get(i + 2..i + 2 + len)?.iter().collect();
            (digits.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
        };
        let octal = chars.get(i + 1..i + 4).and_then(|d| {
            let ok = matches!(d[0], '0' | '1') && d[1..].iter().all(|c| ('0'..='7').contains(c));
            ok.then(|| d.iter().fold(0u32, |v, c| v * 8 + (*c as u32 - '0' as u32)))
        });
        match chars[i + 1] {
            'u' if hex(4).is_some() => {
                out.push(code_point(hex(4).unwrap_or(0))?);
                i += 6;
            }
            'U' if hex(8).is_some() => {
                out.push(code_point(hex(8).unwrap_or(0))?);
                i += 10;
            }
            _ if octal.is_some() => {
                out.push(code_point(octal.unwrap_or(0))?);
                i += 4;
            }
            c => {
                match c {
                    '0' => out.push('\0'),
                    'b' => out.push('\u{8}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'Z' => out.push('\u{1a}'),
                    '%' | '_' => {
                        out.push('\\');
                        out.push(c);
                    }
                    other => out.push(other),
                }
                i += 2;
            }
        }
    }
    Ok(out)
}

/// A code point as a char; lone surrogates (which Java strings allow) are rejected.
fn code_point(value: u32) -> Result<char, String> {
    char::from_u32(value).ok_or_else(|| format!("\\u{value:x} is not a valid character"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_escapes() {
        let cases = [
            (r"plain", "plain"),
            (r"it\'s", "it's"),
            (r"a\\b", r"a\b"),
            (r"tab\there", "tab\there"),
            (r"\%\_", r"\%\_"),
            (r"\u0041\101", "AA"),
            (r"\U0001F600", "\u{1F600}"),
            (r"\q", "q"),
            ("trailing\\", "trailing\\"),
        ];
        for (raw, want) in cases {
            assert_eq!(unescape_string(raw, '\'').as_deref(), Ok(want), "{raw}");
        }
        assert!(unescape_string("it''s", '\'').is_err());
        assert!(unescape_string(r"\uD800", '\'').is_err());
    }
}
