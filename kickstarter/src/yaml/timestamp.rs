//! YAML 1.1 timestamps as PyYAML resolves and builds them: `2011-03-01` is a date, and
//! `2001-12-14t21:59:43.10-05:00` a datetime, printed as Python's `str()` prints them.

/// Whether PyYAML resolves the plain scalar `s` as a timestamp.
pub(super) fn is_timestamp(s: &str) -> bool {
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
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(year), Some(month), Some(day)) = (
            digits(&s[..4], 4, 4),
            digits(&s[5..7], 2, 2),
            digits(&s[8..], 2, 2),
        )
    {
        return Some(Timestamp {
            year,
            month,
            day,
            time: None,
        });
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

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// Python's `str()` of the `date`/`datetime` PyYAML builds. A time zone is applied and dropped,
/// as PyYAML did under Python 2 (a naive UTC datetime).
pub(super) fn construct(s: &str) -> Result<String, String> {
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
