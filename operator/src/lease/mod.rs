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
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, PostParams};
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

mod record;
use record::{Attempt, jitter_fraction, renew, try_acquire_or_renew};

#[cfg(test)]
mod tests;
