//! The notification side against real servers: the operator (in kubelet mode with the fake
//! runner, as in the operator tests) with a private RabbitMQ broker and an aiosmtpd mail
//! server, started from the repository's scripts on loopback ports. The 2010 clients are
//! played by pika (`tests/python/amqp_client.py`), so what the operator publishes is read by
//! an independent AMQP client.
//!
//! Without RabbitMQ, aiosmtpd or the test virtualenv these tests skip with a message, except
//! in CI (or with `IMG_REQUIRE_SERVICES=1`), where they must run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[path = "../support/mod.rs"]
mod support;

mod amqp;
mod broker_outage;
mod email;
#[path = "../support/world.rs"]
mod env;
mod ingress;

use std::net::SocketAddr;

use img_operator::run::Operator;

use crate::env::Env;

use img_tests::services::python::{self, Taken};
use img_tests::services::rabbitmq::RabbitMq;
use img_tests::services::required;

/// Whether the real servers and clients are here; if not, says why (and fails in CI).
pub(crate) fn services_here(need_broker: bool) -> bool {
    let mut missing = Vec::new();
    if python::python().is_err() {
        missing.push("IMG_TEST_PYTHON (the test virtualenv with pika and aiosmtpd)");
    }
    if need_broker && !RabbitMq::available() {
        missing.push("RabbitMQ (Debian's rabbitmq-server)");
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required(),
        "missing {}; scripts/test installs them",
        missing.join(", ")
    );
    eprintln!(
        "skipped: missing {}; scripts/test installs them",
        missing.join(", ")
    );
    false
}

/// Starts a broker off the async runtime's threads.
pub(crate) async fn broker() -> RabbitMq {
    tokio::task::spawn_blocking(|| RabbitMq::start().unwrap())
        .await
        .unwrap()
}

/// Takes up to `count` messages from `queue` with pika, waiting at most `secs`.
pub(crate) async fn take(url: &str, queue: &str, count: usize, secs: f64) -> Vec<Taken> {
    let (url, queue) = (url.to_owned(), queue.to_owned());
    tokio::task::spawn_blocking(move || python::take(&url, &queue, count, secs).unwrap())
        .await
        .unwrap()
}

/// Publishes `bodies` to `queue` on its 2010 exchange with pika.
pub(crate) async fn publish(url: &str, exchange: &str, queue: &str, bodies: Vec<String>) {
    let (url, exchange, queue) = (url.to_owned(), exchange.to_owned(), queue.to_owned());
    tokio::task::spawn_blocking(move || python::publish(&url, &exchange, &queue, &bodies).unwrap())
        .await
        .unwrap()
}

/// The operator's metrics text.
pub(crate) async fn metrics(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}

pub(crate) use img_tests::services::metric;

/// Waits until the operator at `addr` is connected to its broker.
pub(crate) async fn wait_connected(addr: SocketAddr) {
    support::eventually(60, || async {
        (metric(&metrics(addr).await, "img_amqp_connected ") == 1.0).then_some(())
    })
    .await;
}

/// A private broker and a world for the operator, or `None` (the test skips) without them.
pub(crate) async fn bridged() -> Option<(RabbitMq, Env)> {
    if !services_here(true) {
        return None;
    }
    let broker = broker().await;
    Some((broker, Env::start().await))
}

/// A private broker, a world, the broker's URL and an operator bridged to it (default flags),
/// or `None` (the test skips) without the servers. Keep the broker bound: dropping it stops it.
pub(crate) async fn bridged_site() -> Option<(RabbitMq, Env, String, Operator)> {
    let (broker, env) = bridged().await?;
    let url = broker.url();
    let operator = bridged_operator(&env, &url, &[]).await;
    Some((broker, env, url, operator))
}

/// An operator bridged to the broker at `url` (ingress into `default`, quick retries), with
/// `extra` flags, once it is connected and the queues are declared.
pub(crate) async fn bridged_operator(env: &Env, url: &str, extra: &[&str]) -> Operator {
    let mut flags = vec![
        "--amqp-url",
        url,
        "--amqp-ingress-namespace",
        "default",
        "--notify-backoff-ms",
        "200",
        "--notify-backoff-max-seconds",
        "2",
        "--amqp-reconnect-max-seconds",
        "1",
    ];
    flags.extend_from_slice(extra);
    let operator = env.operator(&flags).await;
    // The operator declares the 2010 exchanges and queues before it reports itself
    // connected; a client publishing earlier would find nothing bound (unroutable).
    wait_connected(operator.admin_addr).await;
    operator
}
