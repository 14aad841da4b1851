//! The canonical total order, R-AGG-11 (Decision).

use std::cmp::Ordering;

use super::Value;

/// Total order over values: null first; numbers numerically with floats in IEEE total order
/// (−∞ < −0.0 < +0.0 < +∞ < NaN, all NaNs equal); strings by UTF-16 code units; binaries by
/// unsigned bytes; false < true; lists element-wise with a shorter prefix first; maps by their
/// key-sorted entries; structs field by field.
pub fn canonical_cmp(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Less,
        (_, Null) => Ordering::Greater,
        (Long(x), Long(y)) => x.cmp(y),
        (Double(x), Double(y)) => cmp_f64(*x, *y),
        (Long(x), Double(y)) => cmp_long_double(*x, *y),
        (Double(x), Long(y)) => cmp_long_double(*y, *x).reverse(),
        (Boolean(x), Boolean(y)) => x.cmp(y),
        (String(x), String(y)) => str_cmp_utf16(x, y),
        (Binary(x), Binary(y)) => x.cmp(y),
        (List(x), List(y)) | (Struct(x), Struct(y)) => cmp_sequences(x, y),
        (Map(x), Map(y)) => {
            for ((xk, xv), (yk, yv)) in x.iter().zip(y) {
                let ord = canonical_cmp(xk, yk).then_with(|| canonical_cmp(xv, yv));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            x.len().cmp(&y.len())
        }
        // Values of different kinds never meet within one column; order them by kind so the
        // order stays total.
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

fn cmp_sequences(x: &[Value], y: &[Value]) -> Ordering {
    for (a, b) in x.iter().zip(y) {
        let ord = canonical_cmp(a, b);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    x.len().cmp(&y.len())
}

fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Boolean(_) => 1,
        Value::Long(_) | Value::Double(_) => 2,
        Value::String(_) => 3,
        Value::Binary(_) => 4,
        Value::List(_) => 5,
        Value::Map(_) => 6,
        Value::Struct(_) => 7,
    }
}

/// IEEE total order with every NaN made canonical (so all NaNs compare equal and sort last).
pub fn cmp_f64(x: f64, y: f64) -> Ordering {
    canonical_f64(x).total_cmp(&canonical_f64(y))
}

fn canonical_f64(x: f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else {
        x
    }
}

/// The bit pattern that identifies a double for distinct counting (R-OP-UNIQUE): NaNs share one
/// pattern, −0.0 and +0.0 stay apart.
pub fn canonical_f64_bits(x: f64) -> u64 {
    canonical_f64(x).to_bits()
}

fn cmp_long_double(x: i64, y: f64) -> Ordering {
    if y.is_nan() {
        return Ordering::Less;
    }
    // Exact comparison of an i64 against a double, without rounding x.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if y >= TWO_POW_63 {
        return Ordering::Less;
    }
    if y < -TWO_POW_63 {
        return Ordering::Greater;
    }
    let t = y.trunc();
    let ti = t as i64;
    match x.cmp(&ti) {
        // x == trunc(y): x < y exactly when y has a positive fraction.
        Ordering::Equal => (0.0f64).partial_cmp(&(y - t)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// Compares strings by UTF-16 code units, the JVM's `String.compareTo` (E-20).
pub fn str_cmp_utf16(a: &str, b: &str) -> Ordering {
    // UTF-8 byte order equals code point order; it differs from UTF-16 order only between
    // supplementary characters (surrogate pairs, 0xD800..) and BMP characters ≥ 0xE000.
    if a.is_ascii() && b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_ieee_total_order_r_agg_11() {
        let ordered = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            1.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in ordered.windows(2) {
            assert_eq!(cmp_f64(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(cmp_f64(f64::NAN, -f64::NAN), Ordering::Equal);
    }

    #[test]
    fn utf16_order_e_20() {
        // U+FF21 is one UTF-16 unit 0xFF21; U+1F600 is the pair 0xD83D 0xDE00, so it sorts first.
        assert_eq!(str_cmp_utf16("\u{FF21}", "😀"), Ordering::Greater);
        assert_eq!(
            "\u{FF21}".cmp("😀"),
            Ordering::Less,
            "byte order would differ"
        );
    }

    #[test]
    fn mixed_long_double() {
        assert_eq!(cmp_long_double(1, 1.5), Ordering::Less);
        assert_eq!(cmp_long_double(2, 1.5), Ordering::Greater);
        assert_eq!(cmp_long_double(-1, -1.5), Ordering::Greater);
        assert_eq!(cmp_long_double(-2, -1.5), Ordering::Less);
        assert_eq!(cmp_long_double(3, 3.0), Ordering::Equal);
        assert_eq!(cmp_long_double(i64::MAX, 9.3e18), Ordering::Less);
        assert_eq!(cmp_long_double(i64::MIN, -9.3e18), Ordering::Greater);
    }

    #[test]
    fn containers_r_agg_11() {
        let short = Value::List(vec![Value::Long(1)]);
        let long = Value::List(vec![Value::Long(1), Value::Long(0)]);
        assert_eq!(canonical_cmp(&short, &long), Ordering::Less);
        let with_null = Value::List(vec![Value::Null]);
        assert_eq!(canonical_cmp(&with_null, &short), Ordering::Less);
        assert_eq!(
            canonical_cmp(&Value::Boolean(false), &Value::Boolean(true)),
            Ordering::Less
        );
        assert_eq!(
            canonical_cmp(&Value::Binary(vec![0x7f]), &Value::Binary(vec![0x80])),
            Ordering::Less
        );
    }
}
