//! Values to and from JSON (SEMANTICS.md R-REST-4): numbers as numbers, non-finite floats inside
//! containers as strings, BINARY as base64, maps as objects, lists as arrays.

use tilefold_query::Value;

/// `value` as JSON. `top` says whether the value is a direct feature (where non-finite floats
/// cannot occur: R-AGG-3 makes them null) or inside a container.
pub fn value_to_json(value: &Value, top: bool) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Long(v) => J::from(*v),
        Value::Double(v) => match serde_json::Number::from_f64(*v) {
            Some(n) => J::Number(n),
            None if top => J::Null,
            None if v.is_nan() => J::String("NaN".into()),
            None if *v > 0.0 => J::String("Infinity".into()),
            None => J::String("-Infinity".into()),
        },
        Value::String(s) => J::String(s.clone()),
        Value::Binary(b) => J::String(base64(b)),
        Value::List(items) | Value::Struct(items) => {
            J::Array(items.iter().map(|v| value_to_json(v, false)).collect())
        }
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => value_to_json(other, false).to_string(),
                    };
                    (key, value_to_json(v, false))
                })
                .collect(),
        ),
    }
}

/// A JSON key value: integers as LONG, other numbers as DOUBLE.
pub fn json_to_value(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(items.iter().map(json_to_value).collect()),
        J::Object(entries) => Value::map(
            entries
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), json_to_value(v)))
                .collect(),
        ),
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_rest_4_json_values() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        let list = Value::List(vec![
            Value::Double(f64::NAN),
            Value::Double(f64::INFINITY),
            Value::Double(1.5),
        ]);
        assert_eq!(
            value_to_json(&list, true).to_string(),
            r#"["NaN","Infinity",1.5]"#
        );
        assert_eq!(json_to_value(&serde_json::json!(5)), Value::Long(5));
    }
}
