//! The connection to the broker, supervised: connect (with a growing delay while the broker is
//! away), declare the 2010 topology, open a publisher-confirm channel, and start again from
//! scratch whenever the connection or that channel fails. lapin does not revive a dead
//! connection's channels and consumers by itself, so every user of a [`Link`] watches for the
//! next one ([`Broker::next_link`]).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Event};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::topology;
use crate::config::AmqpConfig;
use crate::metrics::Metrics;

/// How long connecting (TCP, TLS and the AMQP handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the broker may take to confirm a message.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);
/// The heartbeat asked for unless the URI names one: a broker that vanishes without closing
/// the connection is noticed within two of these.
const DEFAULT_HEARTBEAT: u16 = 15;
/// How often a live connection is looked at, besides its error events.
const STATUS_POLL: Duration = Duration::from_secs(1);
/// The first reconnection delay; it doubles up to `--amqp-reconnect-max-seconds`.
const FIRST_RETRY: Duration = Duration::from_millis(250);

/// Why a message was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// There is no connection right now.
    #[error("not connected to the broker")]
    NotConnected,
    /// The broker did not confirm in time.
    #[error("the broker did not confirm the message within {0:?}")]
    Timeout(Duration),
    /// The broker refused the message (nack).
    #[error("the broker refused the message")]
    Nacked,
    /// No queue is bound for it: it was returned.
    #[error("the broker returned the message: no queue is bound to {0}")]
    Returned(String),
    /// The channel or connection failed.
    #[error("publishing failed: {0}")]
    Amqp(#[from] lapin::Error),
}

/// Reads `--amqp-url`. The URI holds the password: an error names the problem, never the URI.
pub fn check_url(config: &AmqpConfig) -> anyhow::Result<AMQPUri> {
    let url = config.url.as_deref().unwrap_or_default();
    url.parse()
        .map_err(|e| anyhow::anyhow!("--amqp-url is not an AMQP URI: {e}"))
}

/// One live connection with its publishing channel.
#[derive(Clone)]
pub struct Link {
    /// The connection (consumers open their own channels on it).
    pub connection: Arc<Connection>,
    /// Counts connections: a link with a higher generation replaced this one.
    pub generation: u64,
    publisher: Channel,
    broken: Arc<Notify>,
}

impl Link {
    /// Tells the supervisor this link no longer works (a consumer's channel died, say).
    pub fn mark_broken(&self) {
        self.broken.notify_one();
    }
}

/// A handle on the supervised connection. Cheap to clone.
#[derive(Clone)]
pub struct Broker {
    state: watch::Receiver<Option<Link>>,
}

impl Broker {
    /// Checks `config.url` and makes the handle and the supervisor, which connects when
    /// polled and runs until `shutdown` completes. The supervisor is a future, not a task, so
    /// that whoever drops it (a leader that stops, a crash in a test) drops the connection.
    pub fn start(
        config: &AmqpConfig,
        metrics: Metrics,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<(
        Broker,
        impl std::future::Future<Output = ()> + Send + 'static,
    )> {
        let mut uri = check_url(config)?;
        uri.query.heartbeat.get_or_insert(DEFAULT_HEARTBEAT);
        let (tx, rx) = watch::channel(None);
        let supervisor = Supervisor {
            uri,
            dead_letter: config.dead_letter_queue.clone(),
            max_delay: config.reconnect_max(),
            metrics,
            tx,
        };
        Ok((Broker { state: rx }, supervisor.run(shutdown)))
    }

    /// The live link, if connected.
    pub fn current(&self) -> Option<Link> {
        self.state.borrow().clone()
    }

    /// Whether there is a live connection.
    pub fn is_connected(&self) -> bool {
        self.state.borrow().is_some()
    }

    /// Waits for a live link newer than generation `after`; `None` once the supervisor ended.
    pub async fn next_link(&self, after: u64) -> Option<Link> {
        let mut state = self.state.clone();
        let link = state
            .wait_for(|l| l.as_ref().is_some_and(|l| l.generation > after))
            .await
            .ok()?;
        link.clone()
    }

    /// A stream that yields each time a new connection is up (the notifier retries what
    /// waited for the broker then, instead of after its backoff).
    pub fn connections(&self) -> impl futures::Stream<Item = ()> + Send + 'static {
        tokio_stream::wrappers::WatchStream::new(self.state.clone())
            .filter_map(|l| futures::future::ready(l.map(|_| ())))
    }

    /// Publishes `body` to `exchange` with `routing_key` and waits for the broker's confirm.
    /// The message is mandatory: one that no queue takes is an error, not silently dropped.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let link = self.current().ok_or(PublishError::NotConnected)?;
        let options = BasicPublishOptions {
            mandatory: true,
            ..Default::default()
        };
        let sent = link
            .publisher
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                options,
                body,
                properties,
            )
            .await;
        let confirm = match sent {
            Ok(confirm) => confirm,
            Err(e) => {
                link.mark_broken();
                return Err(e.into());
            }
        };
        let confirmation = match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Err(_) => {
                // A broker that stops confirming is as good as gone.
                link.mark_broken();
                return Err(PublishError::Timeout(CONFIRM_TIMEOUT));
            }
            Ok(Err(e)) => {
                link.mark_broken();
                return Err(e.into());
            }
            Ok(Ok(c)) => c,
        };
        match confirmation {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => Err(PublishError::Returned(format!(
                "exchange {exchange:?} with routing key {routing_key:?}"
            ))),
            Confirmation::Nack(_) => Err(PublishError::Nacked),
        }
    }
}

struct Supervisor {
    uri: AMQPUri,
    dead_letter: String,
    max_delay: Duration,
    metrics: Metrics,
    tx: watch::Sender<Option<Link>>,
}

impl Supervisor {
    async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut generation = 0;
        let mut failures: u32 = 0;
        let (host, port) = (&self.uri.authority.host, self.uri.authority.port);
        loop {
            let connected = tokio::select! {
                () = &mut shutdown => break,
                c = tokio::time::timeout(CONNECT_TIMEOUT, self.connect()) => c,
            };
            match connected {
                Ok(Ok((connection, publisher))) => {
                    failures = 0;
                    generation += 1;
                    let connection = Arc::new(connection);
                    let link = Link {
                        connection: connection.clone(),
                        generation,
                        publisher,
                        broken: Arc::new(Notify::new()),
                    };
                    // Counted before it shows as connected, so nobody reads "connected" with
                    // the count of the connection before.
                    self.metrics.amqp_connections.inc();
                    self.metrics.amqp_connected.set(1);
                    info!(%host, port, generation, "connected to the AMQP broker");
                    self.tx.send_replace(Some(link.clone()));
                    let stopping = tokio::select! {
                        () = &mut shutdown => true,
                        () = link.broken.notified() => false,
                        () = failed(&connection) => false,
                    };
                    self.tx.send_replace(None);
                    self.metrics.amqp_connected.set(0);
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        connection.close(200, "img-operator reconnecting or stopping".into()),
                    )
                    .await;
                    if stopping {
                        info!("AMQP connection closed");
                        break;
                    }
                    warn!(%host, port, "the AMQP connection failed; reconnecting");
                }
                Ok(Err(e)) => {
                    failures += 1;
                    self.metrics.amqp_connect_failures.inc();
                    warn!(%host, port, attempt = failures, error = %e, "cannot connect to the AMQP broker");
                }
                Err(_) => {
                    failures += 1;
                    self.metrics.amqp_connect_failures.inc();
                    warn!(%host, port, attempt = failures, "connecting to the AMQP broker timed out after {CONNECT_TIMEOUT:?}");
                }
            }
            let delay = FIRST_RETRY
                .saturating_mul(1 << failures.min(16))
                .min(self.max_delay);
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        self.tx.send_replace(None);
        self.metrics.amqp_connected.set(0);
    }

    /// One connection: handshake, topology, and a channel in confirm mode.
    async fn connect(&self) -> lapin::Result<(Connection, Channel)> {
        let properties = ConnectionProperties::default()
            .with_connection_name(concat!("img-operator ", env!("CARGO_PKG_VERSION")).into());
        let connection = Connection::connect_uri(self.uri.clone(), properties).await?;
        topology::declare(&connection, &self.dead_letter).await?;
        let publisher = connection.create_channel().await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok((connection, publisher))
    }
}

/// Returns when `connection` fails: an error event, or a status that is no longer connected.
async fn failed(connection: &Connection) {
    let mut events = connection.events_listener();
    let mut poll = tokio::time::interval(STATUS_POLL);
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Event::Error(e)) => {
                    warn!(error = %e, "AMQP connection error");
                    return;
                }
                Some(Event::ConnectionBlocked(reason)) => {
                    warn!(%reason, "the broker blocked the connection (resource alarm); publishing waits");
                }
                Some(_) => {}
                None => return,
            },
            _ = poll.tick() => {
                if !connection.status().connected() {
                    return;
                }
            }
        }
    }
}
