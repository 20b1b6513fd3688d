//! YAML 1.1 scalar resolution and construction as PyYAML does it (`yaml.load` with the default
//! resolver): which plain scalars become booleans, integers, floats, nulls or timestamps, and
//! what value each becomes.

use super::timestamp;
use super::value::Value;

/// The YAML 1.1 core tags PyYAML resolves plain scalars to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Null,
    Bool,
    Int,
    Float,
    Timestamp,
    Str,
    /// `<<`: a merge key.
    Merge,
    /// `=`: PyYAML resolves it but has no constructor for it, so loading fails.
    ValueKey,
}

/// The tag PyYAML's implicit resolver gives a plain (unquoted, untagged) scalar.
pub(crate) fn implicit_tag(s: &str) -> Tag {
    if s.is_empty() || matches!(s, "~" | "null" | "Null" | "NULL") {
        Tag::Null
    } else if is_bool(s) {
        Tag::Bool
    } else if is_int(s) {
        Tag::Int
    } else if is_float(s) {
        Tag::Float
    } else if timestamp::is_timestamp(s) {
        Tag::Timestamp
    } else if s == "<<" {
        Tag::Merge
    } else if s == "=" {
        Tag::ValueKey
    } else {
        Tag::Str
    }
}

fn is_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

/// `:[0-5]?[0-9]` groups, one or more.
fn sexagesimal_tail(groups: &str) -> bool {
    !groups.is_empty()
        && groups.split(':').all(|g| {
            let b = g.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn is_int(s: &str) -> bool {
    let body = strip_sign(s);
    if let Some(bin) = body.strip_prefix("0b") {
        return all(bin, |c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return all(hex, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if body == "0" {
        return true;
    }
    if let Some(oct) = body.strip_prefix('0') {
        return all(oct, |c| matches!(c, '0'..='7' | '_'));
    }
    if let Some((head, tail)) = body.split_once(':') {
        return head.starts_with(|c: char| matches!(c, '1'..='9'))
            && all(head, |c| c.is_ascii_digit() || c == '_')
            && sexagesimal_tail(tail);
    }
    body.starts_with(|c: char| matches!(c, '1'..='9'))
        && all(body, |c| c.is_ascii_digit() || c == '_')
}

fn is_exponent(e: &str) -> bool {
    // PyYAML requires a sign in the exponent: `1.0e+5`, never `1.0e5`.
    match e.strip_prefix(['e', 'E']) {
        Some(rest) => match rest.strip_prefix(['-', '+']) {
            Some(digits) => all(digits, |c| c.is_ascii_digit()),
            None => false,
        },
        None => false,
    }
}

fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let signed = strip_sign(s);
    if matches!(signed, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // `\.[0-9_]+(exp)?` takes no sign in PyYAML's pattern.
    if let Some(frac) = s.strip_prefix('.') {
        let (digits, exp) = split_exponent(frac);
        return all(digits, |c| c.is_ascii_digit() || c == '_') && exp.is_none_or(is_exponent);
    }
    let Some((int_part, rest)) = signed.split_once('.') else {
        return false;
    };
    let digit_or_us = |c: char| c.is_ascii_digit() || c == '_';
    if let Some((head, tail)) = int_part.split_once(':') {
        // Sexagesimal float: `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`.
        return head.starts_with(|c: char| c.is_ascii_digit())
            && all(head, digit_or_us)
            && sexagesimal_tail(tail)
            && rest.chars().all(digit_or_us);
    }
    if !(int_part.starts_with(|c: char| c.is_ascii_digit()) && all(int_part, digit_or_us)) {
        return false;
    }
    let (frac, exp) = split_exponent(rest);
    frac.chars().all(digit_or_us) && exp.is_none_or(is_exponent)
}

fn split_exponent(s: &str) -> (&str, Option<&str>) {
    match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    }
}

/// Why a scalar could not be constructed (PyYAML raised an exception for it).
pub(crate) type ConstructError = String;

/// Builds the value of a scalar already known to carry `tag`.
pub(crate) fn construct(tag: Tag, s: &str) -> Result<Value, ConstructError> {
    match tag {
        Tag::Null => Ok(Value::Null),
        Tag::Str | Tag::Merge => Ok(Value::Str(s.to_owned())),
        Tag::Bool => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(Value::Bool(true)),
            "no" | "false" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("'{s}' is not a boolean")),
        },
        Tag::Int => construct_int(s).map(Value::Int),
        Tag::Float => construct_float(s).map(Value::Float),
        Tag::Timestamp => timestamp::construct(s).map(Value::Timestamp),
        Tag::ValueKey => Err(
            "could not determine a constructor for the tag 'tag:yaml.org,2002:value' \
             (PyYAML cannot load a bare '=')"
                .to_owned(),
        ),
    }
}

fn construct_int(s: &str) -> Result<i128, ConstructError> {
    let cleaned = s.replace('_', "");
    let (sign, body) = match cleaned.strip_prefix('-') {
        Some(b) => (-1, b),
        None => (1, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let too_big = || format!("integer '{s}' is too large");
    let bad = || format!("'{s}' is not an integer");
    let magnitude = if body == "0" {
        0
    } else if let Some(bin) = body.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).map_err(|_| bad())?
    } else if let Some(hex) = body.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).map_err(|_| bad())?
    } else if body.starts_with('0') {
        i128::from_str_radix(body, 8).map_err(|_| bad())?
    } else if body.contains(':') {
        let mut total: i128 = 0;
        for part in body.split(':') {
            let digit: i128 = part.parse().map_err(|_| bad())?;
            total = total
                .checked_mul(60)
                .and_then(|t| t.checked_add(digit))
                .ok_or_else(too_big)?;
        }
        total
    } else {
        body.parse::<i128>().map_err(|_| too_big())?
    };
    Ok(sign * magnitude)
}

fn construct_float(s: &str) -> Result<f64, ConstructError> {
    let cleaned = s.replace('_', "").to_ascii_lowercase();
    let (sign, body) = match cleaned.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let bad = || format!("'{s}' is not a float");
    let magnitude = match body {
        ".inf" => f64::INFINITY,
        ".nan" => f64::NAN,
        _ if body.contains(':') => {
            let mut total = 0.0;
            for part in body.split(':') {
                total = total * 60.0 + part.parse::<f64>().map_err(|_| bad())?;
            }
            total
        }
        _ => body.parse::<f64>().map_err(|_| bad())?,
    };
    Ok(sign * magnitude)
}

/// Maps an explicit `!!name` tag to the core tag, if it is one PyYAML's loader constructs.
pub(crate) fn core_tag(suffix: &str) -> Option<Tag> {
    Some(match suffix {
        "null" => Tag::Null,
        "bool" => Tag::Bool,
        "int" => Tag::Int,
        "float" => Tag::Float,
        "timestamp" => Tag::Timestamp,
        "str" => Tag::Str,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Value {
        construct(implicit_tag(s), s).unwrap()
    }

    #[test]
    fn yaml11_scalars_resolve_as_pyyaml() {
        assert_eq!(load(""), Value::Null);
        assert_eq!(load("~"), Value::Null);
        assert_eq!(load("yes"), Value::Bool(true));
        assert_eq!(load("Off"), Value::Bool(false));
        assert_eq!(load("y"), Value::Str("y".into()));
        assert_eq!(load("1900"), Value::Int(1900));
        assert_eq!(load("010"), Value::Int(8));
        assert_eq!(load("0x1F"), Value::Int(31));
        assert_eq!(load("0b101"), Value::Int(5));
        assert_eq!(load("1_000"), Value::Int(1000));
        assert_eq!(load("1:30"), Value::Int(90));
        assert_eq!(load("-7"), Value::Int(-7));
        assert_eq!(load("1.2"), Value::Float(1.2));
        assert_eq!(load("1."), Value::Float(1.0));
        assert_eq!(load(".5"), Value::Float(0.5));
        assert_eq!(load("1.0e+3"), Value::Float(1000.0));
        assert_eq!(load("1e5"), Value::Str("1e5".into()));
        assert_eq!(load("1.0e5"), Value::Str("1.0e5".into()));
        assert_eq!(load("-.inf"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(load("1:30.5"), Value::Float(90.5));
        assert_eq!(load("1.1.80"), Value::Str("1.1.80".into()));
        assert_eq!(load("2011-03-01"), Value::Timestamp("2011-03-01".into()));
        assert_eq!(
            load("2001-12-14t21:59:43.10-05:00"),
            Value::Timestamp("2001-12-15 02:59:43.100000".into())
        );
        assert_eq!(
            load("2001-12-14 21:59:43"),
            Value::Timestamp("2001-12-14 21:59:43".into())
        );
        assert_eq!(load("--timeout"), Value::Str("--timeout".into()));
        assert_eq!(load("-google-chrome"), Value::Str("-google-chrome".into()));
        assert_eq!(load("* * * * 3"), Value::Str("* * * * 3".into()));
    }

    #[test]
    fn unconstructible_scalars_fail_like_pyyaml() {
        assert!(construct(implicit_tag("="), "=").is_err());
        assert!(construct(Tag::Int, "0b_").is_err());
        assert!(construct(implicit_tag("2011-02-30"), "2011-02-30").is_err());
    }
}
