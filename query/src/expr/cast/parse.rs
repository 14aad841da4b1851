//! Spark's string → number and string → boolean conversions (non-ANSI: invalid text is `None`).

/// Java's `Character.isWhitespace(c) || Character.isISOControl(c)` (`UTF8String.trimAll`).
pub fn is_java_whitespace_or_control(c: char) -> bool {
    c.is_control() || (c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}'))
}

/// `UTF8String.trimAll`: strips Java whitespace and ISO control characters at both ends.
pub fn trim_all(s: &str) -> &str {
    s.trim_matches(is_java_whitespace_or_control)
}

/// `UTF8String.toLong` / `toInt` (Spark 3.4+): ASCII whitespace and control bytes trimmed, an
/// optional sign, decimal digits, and optionally `.` followed by digits only, which are
/// truncated (`'1.9'` → 1, `'.'` → 0). Out of `[min, max]` → `None`.
pub fn parse_integral(s: &str, min: i64, max: i64) -> Option<i64> {
    let trim = |b: &u8| *b <= b' ' || *b == 0x7f;
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !trim(b))?;
    let end = bytes.iter().rposition(|b| !trim(b))?;
    let bytes = &bytes[start..=end];
    let (negative, digits) = match bytes.first() {
        Some(b'-') if bytes.len() > 1 => (true, &bytes[1..]),
        Some(b'+') if bytes.len() > 1 => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (integral, fraction) = match digits.iter().position(|b| *b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[..0]),
    };
    if !integral.iter().chain(fraction).all(u8::is_ascii_digit) {
        return None;
    }
    // Accumulated negatively, as Spark does, so the minimum value parses.
    let mut value: i64 = 0;
    for digit in integral {
        value = value
            .checked_mul(10)?
            .checked_sub(i64::from(digit - b'0'))?;
    }
    let value = if negative {
        value
    } else {
        value.checked_neg()?
    };
    (min..=max).contains(&value).then_some(value)
}

/// Java `String.trim`: strips characters ≤ U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Whether `s` (already trimmed, sign removed) is a Java decimal floating-point literal:
/// digits with an optional `.` and fraction (at least one digit overall), an optional exponent,
/// and an optional `f`/`F`/`d`/`D` suffix. Returns the text without the suffix.
fn java_decimal_body(s: &str) -> Option<&str> {
    let body = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (integral, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(integral) && digits(fraction) && !(integral.is_empty() && fraction.is_empty());
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    (mantissa_ok && exponent_ok).then_some(body)
}

/// Spark's string → DOUBLE: Java's `Double.parseDouble` (trimmed, optional sign, `NaN`,
/// `Infinity`, decimal text with an optional type suffix), else Spark's special literals
/// (`inf`, `+inf`, `infinity`, `-inf`, `-infinity`, `nan`, any case). Hexadecimal floating-point
/// text (`0x1p3`, which Java accepts) gives `None`.
pub fn parse_double(s: &str) -> Option<f64> {
    parse_java_float(s)
}

/// Spark's string → FLOAT: as [`parse_double`], rounded once to single precision.
pub fn parse_float(s: &str) -> Option<f32> {
    parse_java_float(s)
}

fn parse_java_float<F>(s: &str) -> Option<F>
where
    F: std::str::FromStr + std::ops::Neg<Output = F> + From<f32>,
{
    let t = java_trim(s);
    let (negative, unsigned) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let signed = |v: F| if negative { -v } else { v };
    let value = match unsigned {
        "NaN" => Some(F::from(f32::NAN)),
        "Infinity" => Some(signed(F::from(f32::INFINITY))),
        _ => java_decimal_body(unsigned)
            .and_then(|body| body.parse::<F>().ok())
            .map(signed),
    };
    value.or_else(|| match t.to_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(F::from(f32::INFINITY)),
        "-inf" | "-infinity" => Some(-F::from(f32::INFINITY)),
        "nan" => Some(F::from(f32::NAN)),
        _ => None,
    })
}

/// Spark's string → BOOLEAN (`StringUtils.isTrueString` / `isFalseString`): after `trimAll` and
/// lower-casing, `t true y yes 1` are true and `f false n no 0` false; anything else is `None`.
pub fn parse_boolean(s: &str) -> Option<bool> {
    match trim_all(s).to_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_text() {
        let int = |s| parse_integral(s, i32::MIN.into(), i32::MAX.into());
        assert_eq!(int(" 42 "), Some(42));
        assert_eq!(int("-7"), Some(-7));
        assert_eq!(int("+7"), Some(7));
        assert_eq!(int("1.9"), Some(1));
        assert_eq!(int("-1.9"), Some(-1));
        assert_eq!(int("."), Some(0));
        assert_eq!(int("1.x"), None);
        assert_eq!(int("1e3"), None);
        assert_eq!(int("-"), None);
        assert_eq!(int(""), None);
        assert_eq!(int("2147483648"), None);
        assert_eq!(int("-2147483648"), Some(-2147483648));
        assert_eq!(
            parse_integral("-9223372036854775808", i64::MIN, i64::MAX),
            Some(i64::MIN)
        );
        assert_eq!(
            parse_integral("9223372036854775808", i64::MIN, i64::MAX),
            None
        );
    }

    #[test]
    fn floating_text() {
        assert_eq!(parse_double(" 1.5 "), Some(1.5));
        assert_eq!(parse_double("1e3"), Some(1000.0));
        assert_eq!(parse_double("1.5d"), Some(1.5));
        assert_eq!(parse_double(".5"), Some(0.5));
        assert_eq!(parse_double("5."), Some(5.0));
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double("INF"), Some(f64::INFINITY));
        assert!(parse_double("NaN").is_some_and(f64::is_nan));
        assert!(parse_double("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_double("-nan"), None);
        assert_eq!(parse_double("."), None);
        assert_eq!(parse_double("1e"), None);
        assert_eq!(parse_double("abc"), None);
        assert_eq!(parse_double("1,5"), None);
        assert_eq!(parse_float("0.1"), Some(0.1f32));
    }

    #[test]
    fn boolean_text() {
        assert_eq!(parse_boolean(" YES "), Some(true));
        assert_eq!(parse_boolean("t"), Some(true));
        assert_eq!(parse_boolean("0"), Some(false));
        assert_eq!(parse_boolean("N"), Some(false));
        assert_eq!(parse_boolean("2"), None);
        assert_eq!(parse_boolean("truth"), None);
    }
}
