//! Leader election on a `coordination.k8s.io/v1` Lease, with the semantics of client-go's
//! `leaderelection` package so that `kubectl get lease` and other Kubernetes tooling read the
//! record the way they read any controller's.
//!
//! A candidate calls [`acquire`], which polls the Lease every `retry_period` until it holds it.
//! The returned [`Leader`] renews the Lease in a background task and reports loss through
//! [`Leader::lost`] and [`Leader::is_leading`]; [`Leader::release`] hands the Lease over at
//! once, while dropping a [`Leader`] stops renewing without releasing (a crash, as far as the
//! other candidates can tell: they take over when the Lease expires).
//!
//! Every write is an update carrying the `resourceVersion` that was read (or a create, for a
//! missing Lease), so when candidates race the API server accepts exactly one write and answers
//! the others with 409 Conflict.
//!
//! # Clocks
//!
//! A Lease has expired when its `renewTime + leaseDurationSeconds` is in the past **by the
//! local clock**, so the candidates' and the holder's wall clocks are assumed to agree to within
//! `lease_duration - renew_deadline` (5 s with the defaults). The holder itself never relies on
//! wall-clock time: it measures `renew_deadline` on the monotonic clock from the moment it took
//! the timestamp it wrote, and stops leading once that passes without a successful renewal. So
//! with skew below that margin the old holder has stepped down before anyone else may take
//! over. Like client-go, this is not fencing: it cannot stop a paused process from acting on
//! stale leadership, so work done under the Lease should be safe to repeat.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// client-go's `JitterFactor`: the acquire loop waits `retry_period * (1 + r * 1.2)`, r in
/// [0, 1), so candidates that start together spread out; `renew_deadline` must exceed
/// `retry_period * 1.2`, as client-go requires, so that a holder gets more than one attempt.
const JITTER_FACTOR: f64 = 1.2;

/// Conflicting writes tolerated while releasing, before giving up (the Lease then expires).
const RELEASE_ATTEMPTS: usize = 5;

/// Errors of leader election.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The [`LeaseConfig`] cannot work (see [`LeaseConfig::validate`]).
    #[error("invalid lease configuration: {0}")]
    InvalidConfig(&'static str),
    /// The API server refused or failed a request.
    #[error("lease request failed: {0}")]
    Kube(#[from] Box<kube::Error>),
    /// [`Leader::release`] did not finish within `renew_deadline`; the Lease will expire
    /// `lease_duration` after its last renewal instead.
    #[error("releasing the lease did not finish within {0:?}")]
    ReleaseTimedOut(Duration),
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Kube(Box::new(e))
    }
}

/// Which Lease to contend for, as whom, and how often: client-go's `LeaderElectionConfig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace.
    pub namespace: String,
    /// This candidate's identity, written to `holderIdentity`; must be unique among the
    /// candidates (the Pod name is the usual choice).
    pub identity: String,
    /// How long others wait after the holder's last renewal before taking over. Written to
    /// `leaseDurationSeconds`, rounded up to whole seconds.
    pub lease_duration: Duration,
    /// How long the holder keeps leading without a successful renewal; must be shorter than
    /// `lease_duration`, the difference being the tolerated clock skew.
    pub renew_deadline: Duration,
    /// How long to wait between attempts to acquire or renew.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// The default `lease_duration`, as in client-go's and controller-runtime's defaults.
    pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
    /// The default `renew_deadline`.
    pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
    /// The default `retry_period`.
    pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);

    /// A configuration for the Lease `namespace/name` contended for as `identity`, with the
    /// default durations (15 s lease, 10 s renew deadline, 2 s retry period).
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        LeaseConfig {
            name: name.into(),
            namespace: namespace.into(),
            identity: identity.into(),
            lease_duration: Self::DEFAULT_LEASE_DURATION,
            renew_deadline: Self::DEFAULT_RENEW_DEADLINE,
            retry_period: Self::DEFAULT_RETRY_PERIOD,
        }
    }

    /// Checks what client-go's `NewLeaderElector` checks: names and identity are not empty,
    /// `lease_duration > renew_deadline > 1.2 * retry_period > 0`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() {
            return Err(Error::InvalidConfig("the lease name is empty"));
        }
        if self.namespace.is_empty() {
            return Err(Error::InvalidConfig("the lease namespace is empty"));
        }
        if self.identity.is_empty() {
            return Err(Error::InvalidConfig("the identity is empty"));
        }
        if self.retry_period.is_zero() {
            return Err(Error::InvalidConfig("retry_period must be positive"));
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(Error::InvalidConfig(
                "lease_duration must be greater than renew_deadline",
            ));
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return Err(Error::InvalidConfig(
                "renew_deadline must be greater than retry_period * 1.2",
            ));
        }
        Ok(())
    }

    /// `leaseDurationSeconds`: the duration rounded up, so others never wait less than the
    /// holder assumes.
    fn lease_duration_seconds(&self) -> i32 {
        let d = self.lease_duration;
        let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
        i32::try_from(secs).unwrap_or(i32::MAX)
    }
}

/// Contends for the Lease until this candidate holds it (`Ok(Some)`) or `shutdown` completes
/// (`Ok(None)`).
///
/// Each attempt reads the Lease and creates it if it is missing, or takes it if nobody holds it,
/// this candidate already does (a restart with the same identity), or the holder's
/// `renewTime + leaseDurationSeconds` is in the past by the local clock (see the module docs on
/// clocks). Taking it from anyone else sets `acquireTime` and increments `leaseTransitions`.
/// Attempts are `retry_period` apart plus up to 120 % jitter, as in client-go.
///
/// API errors are logged and retried (the API server may come back); only an invalid
/// configuration is returned as an error. If `shutdown` completes while a write is in flight,
/// that write may still land: the Lease then stays held by this identity until it expires.
pub async fn acquire(
    client: Client,
    config: LeaseConfig,
    shutdown: impl Future,
) -> Result<Option<Leader>, Error> {
    config.validate()?;
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let mut shutdown = std::pin::pin!(shutdown);
    // The holder last reported, so that waiting is logged once per holder, not every attempt.
    let mut seen_holder: Option<Option<String>> = None;
    tracing::debug!(
        identity = %config.identity,
        lease = %config.name,
        namespace = %config.namespace,
        "contending for lease"
    );
    loop {
        let attempt = tokio::select! {
            biased;
            _ = &mut shutdown => return Ok(None),
            attempt = try_acquire_or_renew(&api, &config, false) => attempt,
        };
        match attempt {
            Ok(Attempt::Held {
                renewed_at,
                transitions,
            }) => {
                tracing::info!(
                    identity = %config.identity,
                    lease = %config.name,
                    namespace = %config.namespace,
                    transitions,
                    "acquired lease"
                );
                return Ok(Some(Leader::start(api, config, renewed_at)));
            }
            Ok(Attempt::Busy { holder }) => {
                if seen_holder.as_ref() != Some(&holder) {
                    tracing::info!(
                        identity = %config.identity,
                        lease = %config.name,
                        namespace = %config.namespace,
                        holder = holder.as_deref().unwrap_or(""),
                        "lease is held by another candidate; waiting"
                    );
                    seen_holder = Some(holder);
                }
            }
            Ok(Attempt::Conflict) => tracing::debug!(
                identity = %config.identity,
                lease = %config.name,
                namespace = %config.namespace,
                "another candidate wrote the lease first"
            ),
            Err(error) => tracing::warn!(
                identity = %config.identity,
                lease = %config.name,
                namespace = %config.namespace,
                error = %error,
                "failed to acquire lease; retrying"
            ),
        }
        let wait = config
            .retry_period
            .mul_f64(1.0 + JITTER_FACTOR * jitter_fraction());
        tokio::select! {
            biased;
            _ = &mut shutdown => return Ok(None),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// The holder of a Lease, renewing it in the background until it is lost, released or dropped.
///
/// Dropping a `Leader` stops the renewals without releasing the Lease, exactly like a crash:
/// the other candidates take over once it expires. Use [`Leader::release`] to hand over at once.
pub struct Leader {
    config: LeaseConfig,
    api: Api<Lease>,
    /// `true` while leading; the renewer sends `false` on loss and drops the sender when it ends.
    leading: watch::Receiver<bool>,
    /// `None` only after [`Leader::release`] took it.
    renewer: Option<JoinHandle<()>>,
}

impl Leader {
    fn start(api: Api<Lease>, config: LeaseConfig, renewed_at: Instant) -> Leader {
        let (tx, rx) = watch::channel(true);
        let renewer = tokio::spawn(renew(api.clone(), config.clone(), renewed_at, tx));
        Leader {
            config,
            api,
            leading: rx,
            renewer: Some(renewer),
        }
    }

    /// The configuration the Lease was acquired with.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }

    /// Whether this candidate still holds the Lease: `false` once a renewal found another
    /// holder or no renewal succeeded for `renew_deadline`. Never becomes `true` again.
    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Completes when leadership is lost (another holder found, or no successful renewal for
    /// `renew_deadline`), or once the `Leader` is released or dropped. Independent of `self`,
    /// so it can be awaited in a `select!` alongside the work done as leader; completes at once
    /// if leadership is already lost.
    pub fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut leading = self.leading.clone();
        async move {
            // An error means the renewer is gone (released, dropped, or panicked): not leading.
            let _ = leading.wait_for(|leading| !*leading).await;
        }
    }

    /// Stops renewing and clears `holderIdentity` (as client-go's `ReleaseOnCancel` does, with
    /// `leaseDurationSeconds: 1`), so that a waiting candidate takes over on its next attempt
    /// instead of after the Lease expires. Nothing is written if leadership was already lost or
    /// someone else holds the Lease. Gives up after `renew_deadline` (the Lease then expires as
    /// after a crash).
    pub async fn release(mut self) -> Result<(), Error> {
        if let Some(renewer) = self.renewer.take() {
            renewer.abort();
            // Wait for it to end so no renewal lands after the release.
            let _ = renewer.await;
        }
        if !self.is_leading() {
            tracing::info!(
                identity = %self.config.identity,
                lease = %self.config.name,
                namespace = %self.config.namespace,
                "not releasing lease: leadership was already lost"
            );
            return Ok(());
        }
        let deadline = self.config.renew_deadline;
        tokio::time::timeout(deadline, self.clear_holder())
            .await
            .map_err(|_| Error::ReleaseTimedOut(deadline))?
    }

    async fn clear_holder(&self) -> Result<(), Error> {
        let cfg = &self.config;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(mut lease) = self.api.get_opt(&cfg.name).await? else {
                return Ok(());
            };
            let mut spec = lease.spec.take().unwrap_or_default();
            if spec.holder_identity.as_deref() != Some(cfg.identity.as_str()) {
                tracing::info!(
                    identity = %cfg.identity,
                    lease = %cfg.name,
                    namespace = %cfg.namespace,
                    holder = spec.holder_identity.as_deref().unwrap_or(""),
                    "not releasing lease: someone else holds it"
                );
                return Ok(());
            }
            let now = MicroTime(Timestamp::now());
            spec.holder_identity = Some(String::new());
            spec.lease_duration_seconds = Some(1);
            spec.acquire_time = Some(now.clone());
            spec.renew_time = Some(now);
            lease.spec = Some(spec);
            match self
                .api
                .replace(&cfg.name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => {
                    tracing::info!(
                        identity = %cfg.identity,
                        lease = %cfg.name,
                        namespace = %cfg.namespace,
                        "released lease"
                    );
                    return Ok(());
                }
                // Someone wrote in between: read again and see who holds it now.
                Err(kube::Error::Api(s)) if s.is_conflict() && attempt < RELEASE_ATTEMPTS => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        // A crash: stop renewing, leave the Lease to expire.
        if let Some(renewer) = self.renewer.take() {
            renewer.abort();
        }
    }
}

impl fmt::Debug for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leader")
            .field("config", &self.config)
            .field("leading", &self.is_leading())
            .finish_non_exhaustive()
    }
}

/// The renewer: every `retry_period`, renew; step down after `renew_deadline` without success
/// or as soon as someone else holds the Lease.
async fn renew(
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
enum Attempt {
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
async fn try_acquire_or_renew(
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
fn transitions(lease: &Lease) -> i32 {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.lease_transitions)
        .unwrap_or(0)
}

/// The spec to write to take or renew `current` at `now`, or `Err(holder)` if it may not be
/// taken. A record from an absent Lease is the default (empty) spec.
fn plan(
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
fn expired(spec: &LeaseSpec, cfg: &LeaseConfig, now: Timestamp) -> bool {
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
fn jitter_fraction() -> f64 {
    let bits = RandomState::new().hash_one(SystemTime::now());
    // The top 53 bits, exactly representable in an f64.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
}
