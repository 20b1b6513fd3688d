//! Everything the notification side runs while this replica leads: the broker's supervisor,
//! AMQP ingress and the notifier's controller, all ending on shutdown.

use std::future::Future;
use std::sync::Arc;

use futures::{StreamExt as _, future};
use img_crd::ImageJob;
use kube::Client;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use kube::runtime::{Controller, controller};
use tracing::{debug, warn};

use super::Notifier;
use super::email::Mailer;
use crate::amqp::broker::Broker;
use crate::amqp::ingress::{self, Ingestor};
use crate::config::Config;
use crate::metrics::Metrics;

/// How many jobs are notified about at once.
const CONCURRENCY: u16 = 64;

/// Runs the notification side over the job cache `store` (with `events`, a subscription to it)
/// until `shutdown` completes: the broker connection and ingress when `--amqp-url` is set, and
/// the notifier always (it sends what is configured).
pub async fn run<S>(
    client: Client,
    config: Config,
    metrics: Metrics,
    mailer: Option<Mailer>,
    events: impl futures::Stream<Item = Arc<DeserializeGuard<ImageJob>>> + Send + 'static,
    store: Store<DeserializeGuard<ImageJob>>,
    shutdown: S,
) where
    S: Future<Output = ()> + Clone + Send + Sync + 'static,
{
    let (broker, supervisor) = match &config.amqp.url {
        None => (None, None),
        Some(_) => match Broker::start(&config.amqp, metrics.clone(), shutdown.clone()) {
            Ok((broker, supervisor)) => (Some(broker), Some(supervisor)),
            Err(e) => {
                warn!(error = %e, "no AMQP bridge");
                (None, None)
            }
        },
    };
    let ingress = broker.as_ref().filter(|_| config.amqp.ingress).map(|b| {
        let ingestor = Ingestor {
            client: client.clone(),
            config: config.amqp.clone(),
            broker: b.clone(),
            metrics: metrics.clone(),
        };
        ingress::run(Arc::new(ingestor), shutdown.clone())
    });
    let notifier = Arc::new(Notifier::new(
        client,
        config,
        broker.clone(),
        mailer,
        metrics,
    ));
    let notifier = notifier_controller(notifier, events, store, broker, shutdown);
    let ingress = async move {
        if let Some(ingress) = ingress {
            ingress.await;
        }
    };
    let supervisor = async move {
        if let Some(supervisor) = supervisor {
            supervisor.await;
        }
    };
    futures::join!(notifier, ingress, supervisor);
}

/// The notifier's controller: reconciles jobs that may be owed a notification, and all of
/// them whenever the broker (re)connects, so what waited for it goes out at once.
fn notifier_controller(
    notifier: Arc<Notifier>,
    events: impl futures::Stream<Item = Arc<DeserializeGuard<ImageJob>>> + Send + 'static,
    store: Store<DeserializeGuard<ImageJob>>,
    broker: Option<Broker>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> impl Future<Output = ()> {
    let filter = notifier.clone();
    let triggers = events
        .filter(move |guard| future::ready(guard.0.as_ref().is_ok_and(|job| filter.may_owe(job))));
    let reconnected: futures::stream::BoxStream<'static, ()> = match broker {
        Some(b) => b.connections().boxed(),
        None => futures::stream::pending().boxed(),
    };
    Controller::for_shared_stream(triggers, store)
        .reconcile_all_on(reconnected)
        .with_config(controller::Config::default().concurrency(CONCURRENCY))
        .graceful_shutdown_on(shutdown)
        .run(super::reconcile, super::error_policy, notifier)
        .for_each(|result| {
            if let Err(controller::Error::ReconcilerFailed(e, object)) = result {
                debug!(job = %object.name, error = %e, "notifier reconcile failed");
            }
            future::ready(())
        })
}
