//! The 2010 exchanges and queues, and the dead-letter queue IMG adds. Declared on every
//! (re)connection: durable direct exchanges, durable queues bound by their own names.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ExchangeKind};
use tracing::warn;

/// The exchange of the image-creation queues.
pub const IMAGE_EXCHANGE: &str = "image_exchange";
/// The exchange of the result queues, "picked up by django".
pub const RESULT_EXCHANGE: &str = "django_result_exchange";

/// Kickstarter configurations to render and build (on [`IMAGE_EXCHANGE`]).
pub const KICKSTARTER_QUEUE: &str = "kickstarter_queue";
/// Kickstarts to build (on [`IMAGE_EXCHANGE`]).
pub const IMAGE_QUEUE: &str = "image_queue";
/// `{'url', 'id'}` when an image is ready (on [`RESULT_EXCHANGE`]).
pub const LINK_QUEUE: &str = "link_queue";
/// `{'logfile', 'id'}` when a job's log is there (on [`RESULT_EXCHANGE`]).
pub const RESULT_QUEUE: &str = "result_queue";
/// `{'error', 'id', 'url'}` when a job failed (on [`RESULT_EXCHANGE`]).
pub const ERROR_QUEUE: &str = "error_queue";

/// Each queue with its exchange, as the design lists them.
pub const BINDINGS: [(&str, &str); 5] = [
    (IMAGE_QUEUE, IMAGE_EXCHANGE),
    (KICKSTARTER_QUEUE, IMAGE_EXCHANGE),
    (LINK_QUEUE, RESULT_EXCHANGE),
    (RESULT_QUEUE, RESULT_EXCHANGE),
    (ERROR_QUEUE, RESULT_EXCHANGE),
];

/// The exchange a result queue is bound to.
pub fn exchange_of(queue: &str) -> &'static str {
    BINDINGS
        .iter()
        .find(|(q, _)| *q == queue)
        .map_or("", |(_, e)| e)
}

/// Declares the exchanges and queues (and `dead_letter`, on the default exchange). An
/// exchange or queue that already exists with other settings (a 2010 deployment's non-durable
/// queue, say) is used as it is, with a warning: redeclaring it would fail.
pub async fn declare(connection: &Connection, dead_letter: &str) -> lapin::Result<()> {
    let mut channel = connection.create_channel().await?;
    for exchange in [IMAGE_EXCHANGE, RESULT_EXCHANGE] {
        channel = declare_exchange(connection, channel, exchange).await?;
    }
    for (queue, exchange) in BINDINGS {
        channel = declare_queue(connection, channel, queue).await?;
        channel
            .queue_bind(
                queue.into(),
                exchange.into(),
                queue.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    let channel = declare_queue(connection, channel, dead_letter).await?;
    let _ = channel.close(200, "declared".into()).await;
    Ok(())
}

/// Declares the durable direct `exchange` on `channel`, or — when it exists with other
/// settings, which closes `channel` — checks that it exists on a new channel. Returns a
/// usable channel.
async fn declare_exchange(
    connection: &Connection,
    channel: Channel,
    exchange: &str,
) -> lapin::Result<Channel> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let declared = channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await;
    let Err(e) = declared else {
        return Ok(channel);
    };
    warn!(exchange, error = %e, "exchange exists with other settings; using it as it is");
    let channel = connection.create_channel().await?;
    let passive = ExchangeDeclareOptions {
        passive: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Direct,
            passive,
            FieldTable::default(),
        )
        .await?;
    Ok(channel)
}

/// Declares the durable `queue` on `channel`, or — when it exists with other settings, which
/// closes `channel` — checks that it exists on a new channel. Returns a usable channel.
async fn declare_queue(
    connection: &Connection,
    channel: Channel,
    queue: &str,
) -> lapin::Result<Channel> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let declared = channel
        .queue_declare(queue.into(), durable, FieldTable::default())
        .await;
    let Err(e) = declared else {
        return Ok(channel);
    };
    warn!(queue, error = %e, "queue exists with other settings; using it as it is");
    let channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await?;
    Ok(channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_sit_on_the_designs_exchanges() {
        assert_eq!(exchange_of(LINK_QUEUE), RESULT_EXCHANGE);
        assert_eq!(exchange_of(ERROR_QUEUE), RESULT_EXCHANGE);
        assert_eq!(exchange_of(RESULT_QUEUE), RESULT_EXCHANGE);
        assert_eq!(exchange_of(IMAGE_QUEUE), IMAGE_EXCHANGE);
        assert_eq!(exchange_of(KICKSTARTER_QUEUE), IMAGE_EXCHANGE);
        assert_eq!(exchange_of("nope"), "");
    }
}
