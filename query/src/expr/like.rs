//! Spark's `LIKE` patterns: `_` matches one character, `%` any run of characters (newlines
//! included), the escape character (default `\`) makes the next `_`, `%` or escape character
//! literal. Matching is case-sensitive and whole-string. As in Spark's `escapeLikeRegex`, an
//! escape before any other character, or at the end, makes the pattern invalid.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `_`
    One,
    /// `%`
    Any,
}

/// A compiled LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikePattern {
    tokens: Vec<Token>,
}

impl LikePattern {
    /// Compiles `pattern` with `escape` as the escape character.
    pub fn compile(pattern: &str, escape: char) -> Result<Self, String> {
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(if c == escape {
                match chars.next() {
                    Some(next) if next == '_' || next == '%' || next == escape => {
                        Token::Literal(next)
                    }
                    Some(next) => {
                        return Err(format!(
                            "invalid LIKE pattern {pattern:?}: the escape character is not allowed \
                             to precede {next:?}"
                        ))
                    }
                    None => {
                        return Err(format!(
                            "invalid LIKE pattern {pattern:?}: it is not allowed to end with the \
                             escape character"
                        ))
                    }
                }
            } else {
                match c {
                    '_' => Token::One,
                    '%' => Token::Any,
                    c => Token::Literal(c),
                }
            });
        }
        Ok(LikePattern { tokens })
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut p) = (0, 0);
        // The last `%` seen and the text position it is currently extended to.
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match tokens.get(p) {
                Some(Token::One) => (t, p) = (t + 1, p + 1),
                Some(Token::Literal(c)) if *c == text[t] => (t, p) = (t + 1, p + 1),
                Some(Token::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        star = Some((star_p, star_t + 1));
                        (t, p) = (star_t + 1, star_p + 1);
                    }
                    None => return false,
                },
            }
        }
        tokens[p.min(tokens.len())..]
            .iter()
            .all(|token| *token == Token::Any)
    }
}

/// How a LIKE compares: as written, or both sides lower-cased (ILIKE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

fn fold(text: &str, case: Case) -> std::borrow::Cow<'_, str> {
    match case {
        Case::Sensitive => text.into(),
        Case::Insensitive => text.to_lowercase().into(),
    }
}

/// `input LIKE pattern` for a fixed pattern; `input` is `Utf8`.
pub fn like_fixed(input: &ArrayRef, pattern: &LikePattern, case: Case) -> ArrayRef {
    let input = input.as_string::<i32>();
    let out: BooleanArray = input
        .iter()
        .map(|v| v.map(|v| pattern.matches(&fold(v, case))))
        .collect();
    Arc::new(out)
}

/// `input LIKE pattern` with a pattern per row; both are `Utf8` of one length. A row whose
/// pattern is invalid gives null (Spark raises an error).
pub fn like_per_row(input: &ArrayRef, patterns: &ArrayRef, escape: char, case: Case) -> ArrayRef {
    let (input, patterns) = (input.as_string::<i32>(), patterns.as_string::<i32>());
    let out: BooleanArray = input
        .iter()
        .zip(patterns.iter())
        .map(|(v, p)| {
            let pattern = LikePattern::compile(&fold(p?, case), escape).ok()?;
            Some(pattern.matches(&fold(v?, case)))
        })
        .collect();
    debug_assert_eq!(out.len(), input.len());
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str, pattern: &str) -> bool {
        LikePattern::compile(pattern, '\\')
            .map(|p| p.matches(text))
            .unwrap_or(false)
    }

    #[test]
    fn wildcards_and_escapes() {
        assert!(like("abc", "abc"));
        assert!(!like("abc", "ab"));
        assert!(like("abc", "a%"));
        assert!(like("abc", "%c"));
        assert!(like("abc", "%b%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abbc", "a_c"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("a\nb", "a%b"));
        assert!(like("a%", r"a\%"));
        assert!(!like("ab", r"a\%"));
        assert!(like(r"a\", r"a\\"));
        assert!(like("aXbXc", "a%b%c"));
        assert!(like("mississippi", "%iss%ppi"));
        assert!(like("é", "_"));
        assert!(LikePattern::compile(r"a\b", '\\').is_err());
        assert!(LikePattern::compile(r"a\", '\\').is_err());
        assert!(LikePattern::compile("a#%", '#').is_ok_and(|p| p.matches("a%")));
    }
}
