//! The operator's life: admin endpoints, leader election, then the controller and the queue
//! while this replica leads; a clean shutdown releases the Lease so a standby takes over at
//! once, and losing the Lease ends the operator with an error (its Pod restarts and rejoins
//! the election, as client-go controllers do).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use futures::FutureExt as _;
use kube::Client;
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use crate::admin::{self, Health};
use crate::config::Config;
use crate::controller;
use crate::lease::{self, LeaseConfig};
use crate::metrics::Metrics;
use crate::notify::email::Mailer;

/// A running operator.
pub struct Operator {
    /// Where /metrics, /healthz and /readyz are served.
    pub admin_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    admin: JoinHandle<()>,
}

/// Distinguishes operators started in one process (tests run several).
static INSTANCE: AtomicUsize = AtomicUsize::new(0);

fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "img-operator".to_owned());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        INSTANCE.fetch_add(1, Ordering::Relaxed)
    )
}

/// The Lease settings for `config`: client-go's proportions (renew deadline 2/3 of the lease,
/// retries every 2/15 of it).
fn lease_config(config: &Config, identity: String) -> LeaseConfig {
    let duration = Duration::from_secs(config.leader.lease_duration_seconds.max(2));
    LeaseConfig {
        renew_deadline: duration * 2 / 3,
        retry_period: duration * 2 / 15,
        lease_duration: duration,
        ..LeaseConfig::new(
            config.leader.lease_name.clone(),
            config.leader.lease_namespace.clone(),
            identity,
        )
    }
}

impl Operator {
    /// Starts the operator: serves the admin endpoints at once, then waits for the Lease.
    pub async fn start(client: Client, mut config: Config) -> anyhow::Result<Operator> {
        let identity = config
            .leader
            .identity
            .clone()
            .unwrap_or_else(default_identity);
        config.leader.identity = Some(identity.clone());
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        let health = Health::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = stopped.map(|_| ()).shared();
        let (admin_addr, admin) = admin::serve(
            config.admin_addr,
            admin::router(Arc::new(registry), health.clone()),
            stopped.clone(),
        )
        .await
        .with_context(|| format!("serving the admin endpoints on {}", config.admin_addr))?;
        let lease = lease_config(&config, identity.clone());
        lease.validate()?;
        // Settings errors end the start here, not in the leader much later.
        let mailer = Mailer::new(&config.smtp)?;
        if config.amqp.url.is_some() {
            crate::amqp::broker::check_url(&config.amqp)?;
        }
        let task = tokio::spawn(async move {
            // Ready once serving: a standby replica is as ready as it needs to be.
            health.set_ready(true);
            info!(%identity, lease = %lease.name, "waiting for the leader Lease");
            let Some(leader) = lease::acquire(client.clone(), lease, stopped.clone()).await? else {
                return Ok(());
            };
            info!(%identity, "leading");
            metrics.leader.set(1);
            let outcome = tokio::select! {
                () = controller::run(client, config, metrics.clone(), mailer, stopped) => Ok(()),
                () = leader.lost() => Err(anyhow::anyhow!(
                    "lost the leader Lease; stopping so that only the new leader acts"
                )),
            };
            metrics.leader.set(0);
            if outcome.is_ok() {
                leader.release().await?;
                info!("stopped; Lease released");
            }
            outcome
        });
        Ok(Operator {
            admin_addr,
            stop: Some(stop),
            task,
            admin,
        })
    }

    /// Stops cleanly: in-flight reconciles finish, the Lease is released.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let outcome = (&mut self.task).await;
        let _ = (&mut self.admin).await;
        outcome?
    }

    /// Stops at once without any cleanup, as a killed process would (tests use this to see
    /// that nothing is lost or run twice).
    pub fn crash(self) {
        self.task.abort();
        self.admin.abort();
    }

    /// Waits until the operator ends by itself (it lost the Lease, or failed to start).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        let outcome = (&mut self.task).await;
        outcome?
    }
}
