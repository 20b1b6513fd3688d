//! Go-style rendering of decoded JSON, so error messages match the real server's byte for
//! byte: apimachinery formats patch fragments with `%v` (e.g. `map[$patch:bogus name:x]`)
//! and names Go types in `expected a ..., but received a ...` messages.

use serde_json::{Number, Value};

/// Renders `v` the way Go's `%v` renders the `interface{}` tree apimachinery decodes JSON
/// into: maps with sorted keys as `map[k:v ...]`, slices as `[a b]`, `null` as `<nil>`.
pub(super) fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Renders a list of lists the way `fmt.Sprint([][]interface{}{...})` does.
pub(super) fn go_lists(lists: &[&[Value]]) -> String {
    let parts: Vec<String> = lists
        .iter()
        .map(|l| go_value(&Value::Array(l.to_vec())))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// `%s` of a value that is not a string prints `%!s(type=value)` in Go.
pub(super) fn go_percent_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".to_owned(),
        other => format!("%!s({}={})", go_type_name(Some(other)), go_value(other)),
    }
}

/// The Go type apimachinery's JSON decoding produces for `v` (integers become `int64`).
/// `None` stands for a Go `nil` interface, whose type prints as `%!s(<nil>)`.
pub(super) fn go_type_name(v: Option<&Value>) -> &'static str {
    match v {
        None | Some(Value::Null) => "%!s(<nil>)",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) if n.is_f64() => "float64",
        Some(Value::Number(_)) => "int64",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "[]interface {}",
        Some(Value::Object(_)) => "map[string]interface {}",
    }
}

/// Go's `%v` for numbers: integers verbatim, floats in shortest form with an exponent
/// only below 1e-4 or from 1e21 on.
fn go_number(n: &Number) -> String {
    let Some(f) = n.as_f64().filter(|_| n.is_f64()) else {
        return n.to_string();
    };
    if f == 0.0 || !f.is_finite() {
        return if f == 0.0 {
            "0".to_owned()
        } else {
            f.to_string()
        };
    }
    let exp = f.abs().log10().floor();
    if !(-4.0..21.0).contains(&exp) {
        // Rust prints `1e-7`; Go prints `1e-07` (sign always, at least two digits).
        let s = format!("{f:e}");
        return match s.split_once('e') {
            Some((mantissa, e)) => {
                let (sign, digits) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        };
    }
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_go() {
        assert_eq!(
            go_value(&json!({"name": "x", "$patch": "bogus"})),
            "map[$patch:bogus name:x]"
        );
        assert_eq!(go_value(&json!([1, 1.5, null, true])), "[1 1.5 <nil> true]");
        assert_eq!(go_value(&json!(1e-7)), "1e-07");
        assert_eq!(go_value(&json!(2e21)), "2e+21");
        assert_eq!(go_value(&json!(3.0)), "3");
        assert_eq!(go_percent_s(&json!(5)), "%!s(int64=5)");
        assert_eq!(go_type_name(Some(&json!("a"))), "string");
    }
}
