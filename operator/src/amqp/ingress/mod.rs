//! Ingress: messages on `kickstarter_queue` and `image_queue` become ImageJobs. A message is
//! acknowledged only once its job exists (a redelivery finds the job by its name and does not
//! make a second); one that cannot become a job goes to the dead-letter queue with the reason
//! (and, when it had an id, its sender hears on `error_queue`); one that meets a passing API
//! error is requeued after a pause.

pub mod build;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use img_crd::ImageJob;
use img_crd::admission::{SourceText, builtin_template, template_from_config_map};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource as _};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Consumer};
use serde_json::json;
use tracing::{debug, info, warn};

use super::broker::{Broker, Link};
use super::messages::{ErrorMessage, Ingress, IngressKind, IngressSource, Refusal, parse_ingress};
use super::topology::{ERROR_QUEUE, IMAGE_QUEUE, KICKSTARTER_QUEUE, exchange_of};
use crate::config::AmqpConfig;
use crate::metrics::Metrics;

/// How long a message that met a passing error waits before it goes back to its queue (so a
/// failing API server is not hammered by the same messages).
const REQUEUE_PAUSE: Duration = Duration::from_secs(2);

/// What ingress needs.
pub struct Ingestor {
    /// The API client.
    pub client: Client,
    /// AMQP settings.
    pub config: AmqpConfig,
    /// The broker.
    pub broker: Broker,
    /// Metrics.
    pub metrics: Metrics,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its job was made.
    Created(String),
    /// Its job already existed (a redelivery, or the same message sent twice).
    Duplicate(String),
    /// It cannot become a job.
    Refused(Refusal),
    /// A passing error (the API server is away): try again later.
    Retry(String),
}

/// Consumes both ingress queues on every connection the broker makes, until `shutdown`.
pub async fn run(ingestor: Arc<Ingestor>, shutdown: impl std::future::Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    let mut generation = 0;
    loop {
        let link = tokio::select! {
            () = &mut shutdown => return,
            link = ingestor.broker.next_link(generation) => link,
        };
        let Some(link) = link else { return };
        generation = link.generation;
        tokio::select! {
            () = &mut shutdown => return,
            consumed = consume(&ingestor, &link) => {
                if let Err(e) = consumed {
                    warn!(error = %e, "AMQP ingress stopped; waiting for the next connection");
                }
                // The consumers' channel is gone; so, as far as ingress is concerned, is the
                // connection.
                link.mark_broken();
            }
        }
    }
}

/// Consumes both queues on `link` until its channel or connection ends.
async fn consume(ingestor: &Ingestor, link: &Link) -> lapin::Result<()> {
    let channel = link.connection.create_channel().await?;
    channel
        .basic_qos(ingestor.config.prefetch, BasicQosOptions::default())
        .await?;
    let subscribe = |queue: &'static str, kind: IngressKind| {
        let channel = channel.clone();
        async move {
            let consumer: Consumer = channel
                .basic_consume(
                    queue.into(),
                    format!("img-operator-{queue}").into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            lapin::Result::Ok(consumer.map(move |d| (kind, d)))
        }
    };
    let kickstarter = subscribe(KICKSTARTER_QUEUE, IngressKind::Kickstarter).await?;
    let image = subscribe(IMAGE_QUEUE, IngressKind::Image).await?;
    info!("consuming kickstarter_queue and image_queue");
    futures::stream::select(kickstarter, image)
        .for_each_concurrent(
            usize::from(ingestor.config.prefetch.max(1)),
            |(kind, delivery)| async move {
                match delivery {
                    Ok(delivery) => handle(ingestor, kind, delivery).await,
                    Err(e) => warn!(error = %e, "AMQP consumer failed"),
                }
            },
        )
        .await;
    Ok(())
}

fn queue_of(kind: IngressKind) -> &'static str {
    match kind {
        IngressKind::Kickstarter => KICKSTARTER_QUEUE,
        IngressKind::Image => IMAGE_QUEUE,
    }
}

/// Takes one delivery to its end: acknowledged, dead-lettered, or requeued.
async fn handle(ingestor: &Ingestor, kind: IngressKind, delivery: Delivery) {
    let queue = queue_of(kind);
    let outcome = ingest(ingestor, kind, &delivery.data).await;
    let settled = match &outcome {
        Outcome::Created(name) => {
            info!(queue, job = %name, "job created from an AMQP message");
            ack(&delivery).await
        }
        Outcome::Duplicate(name) => {
            info!(queue, job = %name, redelivered = delivery.redelivered, "job already made for this message");
            ack(&delivery).await
        }
        Outcome::Refused(refusal) => match dead_letter(ingestor, queue, &delivery, refusal).await {
            Ok(()) => {
                warn!(queue, reason = %refusal.reason, "message refused to the dead-letter queue");
                ack(&delivery).await
            }
            Err(e) => {
                warn!(queue, error = %e, "cannot dead-letter a refused message; requeueing it");
                requeue(&delivery).await
            }
        },
        Outcome::Retry(why) => {
            warn!(queue, error = %why, "cannot make the job now; requeueing the message");
            requeue(&delivery).await
        }
    };
    let label = match outcome {
        Outcome::Created(_) => "created",
        Outcome::Duplicate(_) => "duplicate",
        Outcome::Refused(_) => "dead_lettered",
        Outcome::Retry(_) => "requeued",
    };
    if settled {
        ingestor.metrics.ingress(queue, label);
    }
}

async fn ack(delivery: &Delivery) -> bool {
    match delivery.acker.ack(BasicAckOptions::default()).await {
        Ok(_) => true,
        // The channel is gone: the broker redelivers the message, which finds its job.
        Err(e) => {
            warn!(error = %e, "cannot acknowledge a message; it will be redelivered");
            false
        }
    }
}

async fn requeue(delivery: &Delivery) -> bool {
    tokio::time::sleep(REQUEUE_PAUSE).await;
    let options = BasicNackOptions {
        requeue: true,
        ..Default::default()
    };
    match delivery.acker.nack(options).await {
        Ok(_) => true,
        Err(e) => {
            warn!(error = %e, "cannot requeue a message; it will be redelivered");
            false
        }
    }
}

/// What `body` from `kind`'s queue becomes.
pub async fn ingest(ingestor: &Ingestor, kind: IngressKind, body: &[u8]) -> Outcome {
    let limit = ingestor.config.max_message_bytes;
    if body.len() > limit {
        return Outcome::Refused(Refusal::new(
            format!(
                "the message is {} bytes, over the limit of {limit} (--amqp-max-message-bytes)",
                body.len()
            ),
            None,
        ));
    }
    let message = match parse_ingress(kind, body) {
        Ok(m) => m,
        Err(refusal) => return Outcome::Refused(refusal),
    };
    match create(ingestor, &message).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Makes the job (and template ConfigMap) of `message`, or finds them made.
async fn create(ingestor: &Ingestor, message: &Ingress) -> kube::Result<Outcome> {
    let namespace = &ingestor.config.ingress_namespace;
    let client = &ingestor.client;
    let template = match &message.source {
        IngressSource::Kickstart(_) => None,
        IngressSource::Config(config) => {
            let base = match base_template(ingestor).await? {
                Ok(base) => base,
                Err(reason) => {
                    return Ok(Outcome::Refused(Refusal::new(
                        reason,
                        Some(message.id.clone()),
                    )));
                }
            };
            match build::choose_configuration(config, &base, &message.id) {
                Ok(chosen) => Some((chosen, config, base)),
                Err(refusal) => return Ok(Outcome::Refused(refusal)),
            }
        }
    };
    let job = build::image_job(message, namespace, template.as_ref().map(|(c, _, _)| c));
    let name = job.metadata.name.clone().unwrap_or_default();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    if let Some((_, config, base)) = &template {
        let cm = build::template_config_map(&job, config, base);
        match config_maps.create(&PostParams::default(), &cm).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(kube::Error::Api(e)) if e.code == 422 => {
                return Ok(Outcome::Refused(Refusal::new(
                    format!("the template ConfigMap is refused: {}", e.message),
                    Some(message.id.clone()),
                )));
            }
            Err(e) => return Err(e),
        }
    }
    let jobs: Api<ImageJob> = Api::namespaced(client.clone(), namespace);
    let (made, outcome) = match jobs.create(&PostParams::default(), &job).await {
        Ok(made) => (made, Outcome::Created(name.clone())),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = jobs.get(&name).await?;
            if existing.spec.legacy_id != job.spec.legacy_id {
                return Ok(Outcome::Refused(Refusal::new(
                    format!(
                        "job {name:?} already exists for another id ({:?})",
                        existing.spec.legacy_id.unwrap_or_default()
                    ),
                    Some(message.id.clone()),
                )));
            }
            (existing, Outcome::Duplicate(name.clone()))
        }
        Err(kube::Error::Api(e)) if e.code == 422 || e.code == 400 => {
            if template.is_some() {
                let _ = config_maps
                    .delete(&build::template_name(&name), &Default::default())
                    .await;
            }
            return Ok(Outcome::Refused(Refusal::new(
                format!("the ImageJob is refused: {}", e.message),
                Some(message.id.clone()),
            )));
        }
        Err(e) => return Err(e),
    };
    if template.is_some() {
        // The ConfigMap goes with its job. Set after the job exists (it needs the uid); a
        // redelivery after a crash sets it again.
        let owner = OwnerReference {
            api_version: ImageJob::api_version(&()).into_owned(),
            kind: ImageJob::kind(&()).into_owned(),
            name: name.clone(),
            uid: made.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let patch = json!({"metadata": {"ownerReferences": [owner]}});
        config_maps
            .patch(
                &build::template_name(&name),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await?;
    }
    Ok(outcome)
}

/// The deployment's template (`--amqp-template-configmap`), or the example built into IMG.
/// The outer error is a passing API error; the inner one refuses the message.
async fn base_template(ingestor: &Ingestor) -> kube::Result<Result<SourceText, String>> {
    let Some(name) = &ingestor.config.template_config_map else {
        return Ok(Ok(builtin_template()));
    };
    let api: Api<ConfigMap> =
        Api::namespaced(ingestor.client.clone(), &ingestor.config.ingress_namespace);
    Ok(match api.get_opt(name).await? {
        Some(cm) => Ok(template_from_config_map(name, &cm)),
        None => Err(format!(
            "the deployment's template ConfigMap {name:?} (--amqp-template-configmap) does not exist in namespace {:?}",
            ingestor.config.ingress_namespace
        )),
    })
}

/// Publishes `delivery`'s message, as it came, to the dead-letter queue with the reason; and
/// tells its sender on `error_queue` when it had an id.
async fn dead_letter(
    ingestor: &Ingestor,
    queue: &str,
    delivery: &Delivery,
    refusal: &Refusal,
) -> Result<(), super::broker::PublishError> {
    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()));
    headers.insert("x-img-reason".into(), text(&refusal.reason));
    headers.insert("x-img-queue".into(), text(queue));
    if let Some(id) = &refusal.id {
        headers.insert("x-img-id".into(), text(&id.as_text()));
    }
    let properties = delivery
        .properties
        .clone()
        .with_headers(headers)
        .with_delivery_mode(2);
    ingestor
        .broker
        .publish(
            "",
            &ingestor.config.dead_letter_queue,
            &delivery.data,
            properties,
        )
        .await?;
    if let Some(id) = &refusal.id {
        let answer = ErrorMessage {
            error: format!("IMG refused the message: {}", refusal.reason),
            id: id.clone(),
            url: String::new(),
        };
        let body = serde_json::to_vec(&answer).unwrap_or_default();
        let sent = ingestor
            .broker
            .publish(
                exchange_of(ERROR_QUEUE),
                ERROR_QUEUE,
                &body,
                BasicProperties::default()
                    .with_content_type("application/json".into())
                    .with_delivery_mode(2),
            )
            .await;
        // The refusal itself is safe in the dead-letter queue; the answer is a courtesy.
        if let Err(e) = sent {
            debug!(error = %e, "the refusal's error_queue message was not published");
        }
    }
    Ok(())
}
