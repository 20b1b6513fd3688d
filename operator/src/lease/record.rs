//! Reading and writing the Lease record: one acquire-or-renew attempt, the renew loop, and
//! the rules for taking a Lease over.

use std::hash::{BuildHasher, RandomState};
use std::time::SystemTime;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;

use super::LeaseConfig;

/// The renewer: every `retry_period`, renew; step down after `renew_deadline` without success
/// or as soon as someone else holds the Lease.
pub(super) async fn renew(
    api: Api<Lease>,
    cfg: LeaseConfig,
    mut renewed_at: Instant,
    leading: watch::Sender<bool>,
) {
    let lose = |reason: &str, holder: Option<&str>| {
        tracing::warn!(
            identity = %cfg.identity,
            lease = %cfg.name,
            namespace = %cfg.namespace,
            holder = holder.unwrap_or(""),
            reason,
            "lost lease"
        );
        leading.send_replace(false);
    };
    loop {
        // Measured from the instant the last written renewTime was taken, so the holder steps
        // down before `renewTime + lease_duration`, when others may take over.
        let deadline = renewed_at + cfg.renew_deadline;
        tokio::time::sleep_until(deadline.min(Instant::now() + cfg.retry_period)).await;
        if Instant::now() >= deadline {
            lose("no successful renewal within the renew deadline", None);
            return;
        }
        match tokio::time::timeout_at(deadline, try_acquire_or_renew(&api, &cfg, true)).await {
            Ok(Ok(Attempt::Held { renewed_at: at, .. })) => {
                renewed_at = at;
                tracing::trace!(identity = %cfg.identity, lease = %cfg.name, "renewed lease");
            }
            Ok(Ok(Attempt::Busy { holder })) => {
                lose("the lease is held by someone else", holder.as_deref());
                return;
            }
            Ok(Ok(Attempt::Conflict)) => tracing::warn!(
                identity = %cfg.identity,
                lease = %cfg.name,
                namespace = %cfg.namespace,
                "failed to renew lease: it was written concurrently; retrying"
            ),
            Ok(Err(error)) => tracing::warn!(
                identity = %cfg.identity,
                lease = %cfg.name,
                namespace = %cfg.namespace,
                error = %error,
                "failed to renew lease; retrying"
            ),
            Err(_elapsed) => {
                lose("no successful renewal within the renew deadline", None);
                return;
            }
        }
    }
}

/// The outcome of one read-then-write attempt.
pub(super) enum Attempt {
    /// This candidate holds the Lease; `renewed_at` is when the written `renewTime` was taken.
    Held {
        renewed_at: Instant,
        transitions: i32,
    },
    /// Someone else holds it (`None`: nobody, which a renewing holder also treats as loss).
    Busy { holder: Option<String> },
    /// Another write won the race (409); try again later.
    Conflict,
}

/// client-go's `tryAcquireOrRenew`. When `renewing`, only a Lease still held by this identity
/// is written: a cleared or taken Lease means leadership was lost in between.
pub(super) async fn try_acquire_or_renew(
    api: &Api<Lease>,
    cfg: &LeaseConfig,
    renewing: bool,
) -> Result<Attempt, kube::Error> {
    let current = api.get_opt(&cfg.name).await?;
    let renewed_at = Instant::now();
    let now = Timestamp::now();
    let Some(mut lease) = current else {
        // Absent (never created, or deleted): creating is atomic, so at most one candidate wins.
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(cfg.name.clone()),
                namespace: Some(cfg.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(plan(&LeaseSpec::default(), cfg, now, false).unwrap_or_default()),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(lease) => Ok(Attempt::Held {
                renewed_at,
                transitions: transitions(&lease),
            }),
            Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(Attempt::Conflict),
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.take().unwrap_or_default();
    match plan(&spec, cfg, now, renewing) {
        Err(holder) => Ok(Attempt::Busy { holder }),
        Ok(spec) => {
            lease.spec = Some(spec);
            // `lease` keeps the resourceVersion that was read: a concurrent write makes this 409.
            match api.replace(&cfg.name, &PostParams::default(), &lease).await {
                Ok(lease) => Ok(Attempt::Held {
                    renewed_at,
                    transitions: transitions(&lease),
                }),
                Err(kube::Error::Api(s)) if s.is_conflict() => Ok(Attempt::Conflict),
                Err(e) => Err(e),
            }
        }
    }
}

/// The `leaseTransitions` of a Lease that was written.
pub(super) fn transitions(lease: &Lease) -> i32 {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.lease_transitions)
        .unwrap_or(0)
}

/// The spec to write to take or renew `current` at `now`, or `Err(holder)` if it may not be
/// taken. A record from an absent Lease is the default (empty) spec.
pub(super) fn plan(
    current: &LeaseSpec,
    cfg: &LeaseConfig,
    now: Timestamp,
    renewing: bool,
) -> Result<LeaseSpec, Option<String>> {
    let holder = current
        .holder_identity
        .as_deref()
        .filter(|holder| !holder.is_empty());
    let ours = holder == Some(cfg.identity.as_str());
    if !ours && (renewing || (holder.is_some() && !expired(current, cfg, now))) {
        return Err(holder.map(str::to_owned));
    }
    let now = MicroTime(now);
    // Other fields (`strategy`, `preferredHolder`) are kept as found.
    let mut spec = current.clone();
    spec.holder_identity = Some(cfg.identity.clone());
    spec.lease_duration_seconds = Some(cfg.lease_duration_seconds());
    spec.renew_time = Some(now.clone());
    if ours {
        spec.acquire_time = spec.acquire_time.or(Some(now));
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0));
    } else {
        spec.acquire_time = Some(now);
        // As in client-go, any change of holder counts, also after a release (empty holder);
        // only a brand-new Lease starts at 0.
        spec.lease_transitions = Some(match current.lease_transitions {
            Some(n) if holder.is_some() || current.renew_time.is_some() => n.saturating_add(1),
            Some(n) => n,
            None if holder.is_some() || current.renew_time.is_some() => 1,
            None => 0,
        });
    }
    Ok(spec)
}

/// Whether `renewTime + leaseDurationSeconds` is before `now` (local clock; see the module
/// docs). No `renewTime` counts as expired, no duration as this candidate's own.
pub(super) fn expired(spec: &LeaseSpec, cfg: &LeaseConfig, now: Timestamp) -> bool {
    let Some(renewed) = &spec.renew_time else {
        return true;
    };
    let seconds = spec
        .lease_duration_seconds
        .unwrap_or_else(|| cfg.lease_duration_seconds());
    match renewed
        .0
        .checked_add(SignedDuration::from_secs(i64::from(seconds)))
    {
        Ok(expiry) => expiry < now,
        // Beyond the representable range: not in the past.
        Err(_) => false,
    }
}

/// A number in [0, 1) that differs between calls and processes, for jitter, without a random
/// number crate: std's `RandomState` is randomly keyed per process and per instance.
pub(super) fn jitter_fraction() -> f64 {
    let bits = RandomState::new().hash_one(SystemTime::now());
    // The top 53 bits, exactly representable in an f64.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
