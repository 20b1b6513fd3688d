//! Ages and timestamps as kube-apiserver renders them in Tables.
//!
//! Printer columns show ages through apimachinery's `duration.HumanDuration`
//! ("45s", "5m10s", "3d4h", ...). The thresholds below follow that
//! function's documented behaviour: about two to three significant figures,
//! switching unit at 2 minutes, 10 minutes, 3 hours, 8 hours, 48 hours,
//! 8 days, 2 years and 8 years.

use jiff::{SignedDuration, Timestamp};

/// Go's `time.Duration` is an `int64` of nanoseconds, so `time.Since` of a
/// very old timestamp saturates at roughly 292 years. Clamping to the same
/// range keeps the largest ages identical to the real server's.
const GO_DURATION_MAX_SECS: i64 = i64::MAX / 1_000_000_000;

/// Renders `d` like apimachinery's `duration.HumanDuration`.
///
/// Negative durations of up to one second (clock skew) render as `0s`;
/// anything more negative renders as `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    let secs = d
        .as_secs()
        .clamp(-GO_DURATION_MAX_SECS, GO_DURATION_MAX_SECS);
    if secs < -1 {
        return "<invalid>".to_owned();
    }
    if secs < 0 {
        return "0s".to_owned();
    }
    if secs < 60 * 2 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Age of `then` at `now`, rendered with [`human_duration`].
pub fn age(then: Timestamp, now: Timestamp) -> String {
    human_duration(now.duration_since(then))
}

fn digits(bytes: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    let part = bytes.get(range)?;
    if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    part.iter()
        .try_fold(0u32, |acc, b| Some(acc * 10 + u32::from(b - b'0')))
}

/// Parses a timestamp the way Go's `time.Parse(time.RFC3339, s)` does:
/// `YYYY-MM-DDTHH:MM:SS`, an optional `.` or `,` fraction, then `Z` or a
/// `±HH:MM` offset. The shape is checked here first because jiff accepts
/// more spellings (lowercase `t`, a space separator, leap seconds clamped
/// to :59) than Go, and the server must not be more lenient than the real
/// one.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let shape_ok = b.len() >= 20
        && digits(b, 0..4).is_some()
        && b[4] == b'-'
        && digits(b, 5..7).is_some_and(|m| (1..=12).contains(&m))
        && b[7] == b'-'
        && digits(b, 8..10).is_some_and(|d| (1..=31).contains(&d))
        && b[10] == b'T'
        && digits(b, 11..13).is_some_and(|h| h < 24)
        && b[13] == b':'
        && digits(b, 14..16).is_some_and(|m| m < 60)
        && b[16] == b':'
        && digits(b, 17..19).is_some_and(|s| s < 60);
    if !shape_ok {
        return None;
    }
    let mut i = 19;
    if matches!(b.get(i), Some(b'.' | b',')) {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let zone_ok = match b.get(i..) {
        Some([b'Z']) => true,
        Some([b'+' | b'-', ..]) if b.len() == i + 6 => {
            b[i + 3] == b':'
                && digits(b, i + 1..i + 3).is_some_and(|h| h < 24)
                && digits(b, i + 4..i + 6).is_some_and(|m| m < 60)
        }
        _ => false,
    };
    if !zone_ok {
        return None;
    }
    // jiff only understands `.` as the fraction separator in this position.
    s.replace(',', ".").parse().ok()
}

/// Unix second of Go's zero `time.Time` (0001-01-01T00:00:00Z).
const GO_ZERO_TIME_SECOND: i64 = -62_135_596_800;

/// Whether `ts` is Go's zero time, which the server treats as "unset"
/// (`<unknown>` ages, `0001-01-01T00:00:00Z` creation times).
pub fn is_go_zero_time(ts: Timestamp) -> bool {
    ts.as_second() == GO_ZERO_TIME_SECOND && ts.subsec_nanosecond() == 0
}

/// Formats `ts` like Go's `t.UTC().Format(time.RFC3339)` (whole seconds,
/// `Z` suffix), which is how the default table convertor renders
/// `Created At`.
pub fn format_rfc3339_utc(ts: Timestamp) -> String {
    // Formatted by hand: jiff's strftime reports failures through
    // `Display`, which would panic inside `to_string`.
    let t = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
