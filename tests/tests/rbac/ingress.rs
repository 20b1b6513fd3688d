//! The AMQP ingress path, as the operator's ServiceAccount: a message on each ingress queue
//! becomes a job (with a template ConfigMap owned by it for `kickstarter_queue`), a message
//! sent again finds its job, and the operator builds both. The broker is not needed for what
//! RBAC judges: the messages go straight to the code that turns them into objects
//! (`img_operator::amqp::ingress::ingest`), the same code the consumers call.

use clap::Parser;
use img_crd::Phase;
use img_operator::amqp::broker::Broker;
use img_operator::amqp::ingress::{Ingestor, Outcome, ingest};
use img_operator::amqp::messages::IngressKind;
use img_operator::config::AmqpConfig;
use img_operator::metrics::Metrics;
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::env::kickstart;
use crate::operator::World;

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    amqp: AmqpConfig,
}

/// Runs in the ingress namespace the chart is rendered with ([`crate::AMQP_INGRESS`]).
pub(crate) async fn amqp_ingress(w: &World, ns: &str) {
    let config = Flags::parse_from([
        "x",
        "--amqp-url",
        "amqp://unused:unused@127.0.0.1:9/%2f",
        "--amqp-ingress-namespace",
        ns,
    ])
    .amqp;
    let metrics = Metrics::register(&mut Registry::default());
    // The supervisor is never polled: nothing connects.
    let (broker, _supervisor) =
        Broker::start(&config, metrics.clone(), std::future::pending()).unwrap();
    let ingestor = Ingestor {
        client: crate::client_as(&w.env.server, &w.user).await,
        config,
        broker,
        metrics,
    };
    let image =
        json!({"email": "", "id": "rbac-1", "imagetype": "raw", "ksfile": kickstart("succeed")});
    let config = kickstarter::example::CONFIGURATIONS.replace(
        "        Platform: DEVELOPER",
        "        Platform: DEVELOPER\n        Active: False",
    );
    let template = json!({"config": config, "email": "", "imagetype": "raw", "id": "rbac-2"});
    let mut names = Vec::new();
    for (kind, body) in [
        (IngressKind::Image, image.to_string()),
        (IngressKind::Kickstarter, template.to_string()),
    ] {
        let Outcome::Created(name) = ingest(&ingestor, kind, body.as_bytes()).await else {
            panic!("not created: {body}");
        };
        let again = ingest(&ingestor, kind, body.as_bytes()).await;
        assert_eq!(again, Outcome::Duplicate(name.clone()));
        names.push(name);
    }
    for name in &names {
        w.env.wait_phase(ns, name, Phase::Succeeded).await;
    }
}
