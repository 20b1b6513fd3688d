//! Go-compatible text formatting.
//!
//! kube-apiserver is written in Go, and several strings it sends to clients
//! are produced by Go's `fmt`, `strconv` and `encoding/json` packages: the
//! quoted values inside validation errors (`%q`), printer-column cells for
//! `type: string` columns (`fmt.Fprint` for scalars, `json.Marshal` for
//! objects and arrays). Clients (and tests comparing against real output)
//! see those exact bytes, so this module reproduces the relevant rules
//! instead of using Rust's own `Debug`/`Display` or `serde_json` output.

use serde_json::Value;
use std::fmt::Write as _;

/// Quotes `s` like Go's `strconv.Quote` / `%q` for the characters that can
/// appear in selectors: backslash and double quote are escaped, control
/// characters use the short escapes Go uses and `\x`/`\u` otherwise.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The shortest round-trip decimal digits of a finite, non-negative `f`
/// and its decimal exponent, as `(digits, point)` where the value is
/// `0.digits × 10^point`. Rust's `{:e}` formatting already produces the
/// shortest representation, which is exactly what Go's `strconv` uses for
/// precision `-1`.
fn shortest_digits(f: f64) -> (String, i64) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    (digits, exponent + 1)
}

/// Go's `%e`-style rendering of shortest digits (`d.ddde±XX`).
fn exponent_form(digits: &str, point: i64) -> String {
    let mut out = String::new();
    let (first, rest) = digits.split_at(1.min(digits.len()));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let exp = point - 1;
    let sign = if exp < 0 { '-' } else { '+' };
    let _ = write!(out, "e{sign}{:02}", exp.abs());
    out
}

/// Go's `%f`-style rendering of shortest digits with no trailing zeros.
fn plain_form(digits: &str, point: i64) -> String {
    let len = digits.len() as i64;
    if point <= 0 {
        format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
    } else if point >= len {
        format!("{digits}{}", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    }
}

/// Formats a float like Go's `fmt.Print` (`%v`, i.e. `strconv.FormatFloat(f,
/// 'g', -1, 64)`): exponent form when the exponent is below -4 or at least
/// 6 (so `1e+06`, `1.5e-05`), plain form otherwise.
pub(super) fn go_format_float(f: f64) -> String {
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let (digits, point) = shortest_digits(f);
    let exp = point - 1;
    if f != 0.0 && !(-4..6).contains(&exp) {
        format!("{sign}{}", exponent_form(&digits, point))
    } else {
        format!("{sign}{}", plain_form(&digits, point))
    }
}

/// Formats a float like Go's `encoding/json`: plain form unless the
/// magnitude is below 1e-6 or at least 1e21, and `e-07` shortened to `e-7`.
fn go_json_float(f: f64) -> String {
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let abs = f.abs();
    let (digits, point) = shortest_digits(f);
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = exponent_form(&digits, point);
        // Go trims a single leading zero from negative exponents only.
        let text = match text.find("e-0") {
            Some(i) if text.len() == i + 4 => format!("{}e-{}", &text[..i], &text[i + 3..]),
            _ => text,
        };
        format!("{sign}{text}")
    } else {
        format!("{sign}{}", plain_form(&digits, point))
    }
}

/// Renders a JSON number the way a Go program holding the decoded value
/// would print it: integers (int64 in Go's unstructured decoding) as
/// decimal, everything else as float64.
fn number_text(n: &serde_json::Number, float: fn(f64) -> String) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        float(n.as_f64().unwrap_or(0.0))
    }
}

/// Appends `s` as a JSON string with Go's default escaping (`<`, `>` and
/// `&` become `\u003c` etc., U+2028/U+2029 are escaped).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n, go_json_float)),
        Value::String(s) => push_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go sorts map keys bytewise; do it explicitly so the output does
            // not depend on serde_json's `preserve_order` feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, key);
                out.push(':');
                if let Some(v) = map.get(key) {
                    push_json(out, v);
                }
            }
            out.push('}');
        }
    }
}

/// Serialises `value` byte-for-byte like Go's `json.Marshal` of the same
/// decoded (unstructured) value.
pub(super) fn go_json(value: &Value) -> String {
    let mut out = String::new();
    push_json(&mut out, value);
    out
}

/// Text of one JSONPath result as client-go's `JSONPath.PrintResults` writes
/// it: objects and arrays as compact JSON, scalars through `fmt.Fprint`,
/// and a JSON null (an invalid `reflect.Value` in Go) as `<no value>`.
pub(super) fn go_print_value(value: &Value) -> String {
    match value {
        Value::Null => "<no value>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n, go_format_float),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => go_json(value),
    }
}
