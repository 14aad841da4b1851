//! Numbers printed the way the JVM's `Double.toString` and `Float.toString` print them, for
//! APPROX_HISTOGRAM_K keys (R-OP-APPROXHIST, E-23): `1.0`, `0.5`, `1.0E10`, `1.0E-5`.
//!
//! Digits are the shortest that round-trip (as the JVM prints since JDK 19); the layout is plain
//! decimal for 10⁻³ ≤ |x| < 10⁷ and computerized scientific notation otherwise.

/// `Double.toString(x)`.
pub fn jvm_double_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    layout(
        &format!("{x:e}"),
        x == 0.0,
        x.abs() >= 1e-3 && x.abs() < 1e7,
    )
}

/// `Float.toString(x)`.
pub fn jvm_float_string(x: f32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    layout(
        &format!("{x:e}"),
        x == 0.0,
        x.abs() >= 1e-3 && x.abs() < 1e7,
    )
}

/// Lays out Rust's shortest scientific form (`-1.25e-7`) in the JVM's style.
fn layout(scientific: &str, zero: bool, plain: bool) -> String {
    let (negative, body) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific),
    };
    let sign = if negative { "-" } else { "" };
    if zero {
        return format!("{sign}0.0");
    }
    let (mantissa, exponent) = body.split_once('e').unwrap_or((body, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !plain {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        return format!("{sign}{first}.{rest}E{exponent}");
    }
    // Plain: the decimal point sits after digit number (exponent + 1).
    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = point as usize;
        if digits.len() <= point {
            let zeros = "0".repeat(point - digits.len());
            format!("{sign}{digits}{zeros}.0")
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_e_23() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1.0e10, "1.0E10"),
            (1.0e-5, "1.0E-5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123.456, "123.456"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (0.001, "0.001"),
            (0.000999, "9.99E-4"),
            (-2.5e-8, "-2.5E-8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(jvm_double_string(x), want, "{x:e}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(jvm_float_string(1.0), "1.0");
        assert_eq!(jvm_float_string(0.1), "0.1");
        assert_eq!(jvm_float_string(1.0e10), "1.0E10");
        assert_eq!(jvm_float_string(16_777_216.0), "1.6777216E7");
    }
}
