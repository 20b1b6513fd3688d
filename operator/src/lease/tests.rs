#![allow(clippy::unwrap_used)]

use super::record::*;
use super::*;
use k8s_openapi::api::coordination::v1::LeaseSpec;

fn cfg(identity: &str) -> LeaseConfig {
    LeaseConfig::new("l", "ns", identity)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).unwrap()
}

fn held(holder: &str, renewed: i64, transitions: i32) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.to_owned()),
        lease_duration_seconds: Some(15),
        acquire_time: Some(MicroTime(at(-100))),
        renew_time: Some(MicroTime(at(renewed))),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

#[test]
fn defaults_validate_and_bad_configs_do_not() {
    let c = cfg("a");
    assert_eq!(
        (c.lease_duration, c.renew_deadline, c.retry_period),
        (
            Duration::from_secs(15),
            Duration::from_secs(10),
            Duration::from_secs(2)
        )
    );
    c.validate().unwrap();
    assert!(cfg("").validate().is_err());
    let mut c = cfg("a");
    c.renew_deadline = c.lease_duration;
    assert!(c.validate().is_err());
    let mut c = cfg("a");
    c.renew_deadline = Duration::from_millis(2400);
    assert!(c.validate().is_err());
    c.renew_deadline = Duration::from_millis(2401);
    c.validate().unwrap();
}

#[test]
fn lease_duration_rounds_up_to_seconds() {
    let mut c = cfg("a");
    c.lease_duration = Duration::from_millis(1500);
    assert_eq!(c.lease_duration_seconds(), 2);
    c.lease_duration = Duration::from_secs(2);
    assert_eq!(c.lease_duration_seconds(), 2);
}

#[test]
fn a_live_lease_is_not_taken_an_expired_one_is() {
    let live = held("b", 0, 3);
    assert_eq!(plan(&live, &cfg("a"), at(15), false), Err(Some("b".into())));
    let taken = plan(&live, &cfg("a"), at(16), false).unwrap();
    assert_eq!(taken.holder_identity.as_deref(), Some("a"));
    assert_eq!(taken.lease_transitions, Some(4));
    assert_eq!(taken.acquire_time, Some(MicroTime(at(16))));
}

#[test]
fn renewing_keeps_acquire_time_and_transitions() {
    let ours = held("a", 0, 3);
    let renewed = plan(&ours, &cfg("a"), at(5), true).unwrap();
    assert_eq!(renewed.acquire_time, ours.acquire_time);
    assert_eq!(renewed.lease_transitions, Some(3));
    assert_eq!(renewed.renew_time, Some(MicroTime(at(5))));
    // A renewing holder does not take back a cleared or expired-and-taken lease.
    assert_eq!(plan(&held("", 0, 3), &cfg("a"), at(5), true), Err(None));
    assert_eq!(
        plan(&held("b", -100, 3), &cfg("a"), at(5), true),
        Err(Some("b".into()))
    );
}

#[test]
fn a_new_lease_starts_at_zero_transitions_a_released_one_counts() {
    let new = plan(&LeaseSpec::default(), &cfg("a"), at(0), false).unwrap();
    assert_eq!(new.lease_transitions, Some(0));
    let released = plan(&held("", 0, 3), &cfg("a"), at(1), false).unwrap();
    assert_eq!(released.lease_transitions, Some(4));
}

#[test]
fn jitter_is_a_fraction() {
    for _ in 0..100 {
        let f = jitter_fraction();
        assert!((0.0..1.0).contains(&f));
    }
}
