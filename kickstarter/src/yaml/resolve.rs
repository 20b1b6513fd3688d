//! YAML 1.1 scalar resolution and construction as PyYAML does it (`yaml.load` with the default
//! resolver): which plain scalars become booleans, integers, floats, nulls or timestamps, and
//! what value each becomes.

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
    } else if is_timestamp(s) {
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

fn is_timestamp(s: &str) -> bool {
    parse_timestamp(s).is_some()
}

struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, u32, u32, i64)>, // h, m, s, microseconds, tz offset in minutes
}

fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    (s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// PyYAML's timestamp pattern: `YYYY-MM-DD`, or `YYYY-M-D` followed by `T`/`t`/blanks and a
/// time with optional fraction and time zone.
fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(year), Some(month), Some(day)) = (
            digits(&s[..4], 4, 4),
            digits(&s[5..7], 2, 2),
            digits(&s[8..], 2, 2),
        ) {
            return Some(Timestamp {
                year,
                month,
                day,
                time: None,
            });
        }
    }
    let sep = s.find(['T', 't', ' ', '\t'])?;
    let (date, rest) = s.split_at(sep);
    let mut date_parts = date.splitn(3, '-');
    let year = digits(date_parts.next()?, 4, 4)?;
    let month = digits(date_parts.next()?, 1, 2)?;
    let day = digits(date_parts.next()?, 1, 2)?;
    let rest = if rest.starts_with(['T', 't']) {
        &rest[1..]
    } else {
        rest.trim_start_matches([' ', '\t'])
    };
    let zone_at = rest
        .char_indices()
        .skip(1)
        .find(|&(_, c)| matches!(c, 'Z' | '+' | '-' | ' ' | '\t'))
        .map_or(rest.len(), |(i, _)| i);
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut hms_parts = hms.split(':');
    let hour = digits(hms_parts.next()?, 1, 2)?;
    let minute = digits(hms_parts.next()?, 2, 2)?;
    let second = digits(hms_parts.next()?, 2, 2)?;
    if hms_parts.next().is_some() {
        return None;
    }
    let micros = match fraction {
        Some(f) if f.bytes().all(|c| c.is_ascii_digit()) => {
            let mut f = f.chars().take(6).collect::<String>();
            while f.len() < 6 {
                f.push('0');
            }
            f.parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let zone = zone.trim_start_matches([' ', '\t']);
    let offset = if zone.is_empty() || zone == "Z" {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let body = zone.strip_prefix(['+', '-'])?;
        let (h, m) = match body.split_once(':') {
            Some((h, m)) => (digits(h, 1, 2)?, digits(m, 2, 2)?),
            None => (digits(body, 1, 2)?, 0),
        };
        sign * i64::from(h * 60 + m)
    };
    Some(Timestamp {
        year,
        month,
        day,
        time: Some((hour, minute, second, micros, offset)),
    })
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
        Tag::Timestamp => construct_timestamp(s).map(Value::Timestamp),
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

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Python's `str()` of the `date`/`datetime` PyYAML builds. A time zone is applied and dropped,
/// as PyYAML did under Python 2 (a naive UTC datetime).
fn construct_timestamp(s: &str) -> Result<String, ConstructError> {
    let t = parse_timestamp(s).ok_or_else(|| format!("'{s}' is not a timestamp"))?;
    let bad = || format!("'{s}' is not a valid date");
    if t.year == 0
        || t.month == 0
        || t.month > 12
        || t.day == 0
        || t.day > days_in_month(t.year, t.month)
    {
        return Err(bad());
    }
    let Some((h, m, sec, micros, offset)) = t.time else {
        return Ok(format!("{:04}-{:02}-{:02}", t.year, t.month, t.day));
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(bad());
    }
    // Shift to UTC on a day count so month and year boundaries come out right.
    let mut minutes = i64::from(h) * 60 + i64::from(m) - offset;
    let (mut year, mut month, mut day) = (t.year, t.month, t.day);
    while minutes < 0 {
        minutes += 24 * 60;
        if day > 1 {
            day -= 1;
        } else {
            if month > 1 {
                month -= 1;
            } else {
                month = 12;
                year -= 1;
            }
            day = days_in_month(year, month);
        }
    }
    while minutes >= 24 * 60 {
        minutes -= 24 * 60;
        if day < days_in_month(year, month) {
            day += 1;
        } else {
            day = 1;
            if month < 12 {
                month += 1;
            } else {
                month = 1;
                year += 1;
            }
        }
    }
    let mut out = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{sec:02}",
        minutes / 60,
        minutes % 60
    );
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    Ok(out)
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
