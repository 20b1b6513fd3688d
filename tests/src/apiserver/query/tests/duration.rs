use super::super::{format_rfc3339_utc, human_duration, parse_rfc3339};
use jiff::SignedDuration;

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

#[test]
fn human_duration_thresholds() {
    let cases: &[(SignedDuration, &str)] = &[
        (secs(-3), "<invalid>"),
        (secs(-2), "<invalid>"),
        (SignedDuration::from_millis(-1999), "0s"),
        (secs(-1), "0s"),
        (SignedDuration::from_millis(-500), "0s"),
        (secs(0), "0s"),
        (SignedDuration::from_millis(999), "0s"),
        (secs(1), "1s"),
        (secs(45), "45s"),
        (secs(119), "119s"),
        (SignedDuration::from_millis(119_999), "119s"),
        (secs(2 * MIN), "2m"),
        (secs(2 * MIN + 1), "2m1s"),
        (secs(5 * MIN + 10), "5m10s"),
        (secs(10 * MIN - 1), "9m59s"),
        (secs(10 * MIN), "10m"),
        // Past each boundary the finer unit is dropped.
        (secs(10 * MIN + 1), "10m"),
        (secs(25 * MIN), "25m"),
        (secs(3 * HOUR - 1), "179m"),
        (secs(3 * HOUR), "3h"),
        (secs(3 * HOUR + MIN), "3h1m"),
        (secs(5 * HOUR + 30 * MIN), "5h30m"),
        (secs(8 * HOUR - 1), "7h59m"),
        (secs(8 * HOUR), "8h"),
        (secs(8 * HOUR + MIN), "8h"),
        (secs(20 * HOUR), "20h"),
        (secs(48 * HOUR - 1), "47h"),
        (secs(48 * HOUR), "2d"),
        (secs(49 * HOUR), "2d1h"),
        (secs(3 * DAY + 4 * HOUR), "3d4h"),
        (secs(8 * DAY - 1), "7d23h"),
        (secs(8 * DAY), "8d"),
        (secs(8 * DAY + HOUR), "8d"),
        (secs(30 * DAY), "30d"),
        (secs(2 * YEAR - 1), "729d"),
        (secs(2 * YEAR), "2y"),
        (secs(2 * YEAR + 100 * DAY), "2y100d"),
        (secs(8 * YEAR - 1), "7y364d"),
        (secs(8 * YEAR), "8y"),
        (secs(8 * YEAR + DAY), "8y"),
        (secs(10 * YEAR), "10y"),
        // Go's Duration saturates at ~292 years.
        (secs(1000 * YEAR), "292y"),
    ];
    for (d, expected) in cases {
        assert_eq!(human_duration(*d), *expected, "{d:?}");
    }
}

#[test]
fn rfc3339_parsing_is_as_strict_as_go() {
    for ok in [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.123456Z",
        "2024-01-02T03:04:05,5Z",
        "2024-01-02T03:04:05+02:00",
        "2024-01-02T03:04:05.1-07:30",
        "0001-01-01T00:00:00Z",
    ] {
        assert!(parse_rfc3339(ok).is_some(), "{ok} should parse");
    }
    for bad in [
        "",
        "null",
        "2024-01-02",
        "2024-01-02t03:04:05Z",
        "2024-01-02 03:04:05Z",
        "2024-01-02T03:04:05z",
        "2024-01-02T03:04:05",
        "2024-01-02T03:04:60Z",
        "2024-13-02T03:04:05Z",
        "2024-02-30T03:04:05Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T03:04:05.Z",
        "2024-01-02T03:04:05+0200",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05Z ",
    ] {
        assert!(parse_rfc3339(bad).is_none(), "{bad:?} should not parse");
    }
    let ts = parse_rfc3339("2024-01-02T05:04:05.9+02:00").expect("parses");
    assert_eq!(format_rfc3339_utc(ts), "2024-01-02T03:04:05Z");
}
