//! Egress: the 2010 result messages, read by pika, with exactly the documented fields, and
//! recorded in status so that a restarted operator does not send them again.

use std::collections::BTreeSet;

use img_crd::{DeliveryState, Phase, Source};
use serde_json::json;

use crate::env::spec;
use crate::{bridged, bridged_operator, bridged_site, metric, metrics, take};

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_reach_link_error_and_result_queues_once() {
    let Some((_broker, env, url, operator)) = bridged_site().await else {
        return;
    };

    let ok = env.create("default", "ok", spec("succeed")).await;
    let failed = env.create("default", "broken", spec("fail")).await;
    let mut invalid_spec = spec("succeed");
    invalid_spec.source = Source {
        kickstart: Some("bogus-command\n%packages\n%end\n".into()),
        ..Default::default()
    };
    let invalid = env.create("default", "invalid", invalid_spec).await;
    for name in ["ok", "broken", "invalid"] {
        env.wait_for("default", name, "notified", |j| {
            let s = j.status.as_ref();
            s.and_then(|s| s.phase).is_some_and(Phase::is_finished)
                && s.and_then(|s| s.notifications.as_ref())
                    .is_some_and(|n| n.amqp.iter().any(|d| d.target != "result_queue"))
        })
        .await;
    }

    let uid = |j: &img_crd::ImageJob| j.metadata.uid.clone().unwrap();
    let links = take(&url, "link_queue", 1, 10.0).await;
    assert_eq!(links.len(), 1, "{links:?}");
    let link = links[0].json();
    assert_eq!(keys(&link), ["id", "url"].map(String::from).into());
    assert_eq!(link["id"], json!(uid(&ok)));
    assert_eq!(link["url"], "http://img.test/images/default/ok/ok.raw");
    assert_eq!(links[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        links[0].message_id.as_deref(),
        Some(format!("{}/link_queue", uid(&ok)).as_str())
    );

    let errors = take(&url, "error_queue", 2, 10.0).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    let by_id = |id: String| {
        errors
            .iter()
            .map(|m| m.json())
            .find(|m| m["id"] == json!(id))
            .unwrap_or_else(|| panic!("no error_queue message for {id}"))
    };
    let build = by_id(uid(&failed));
    assert_eq!(
        keys(&build),
        ["error", "id", "url"].map(String::from).into()
    );
    assert!(
        build["error"]
            .as_str()
            .unwrap()
            .starts_with("BuildFailed: "),
        "{build}"
    );
    assert_eq!(
        build["url"],
        "http://img.test/images/default/broken/broken.log"
    );
    let refused = by_id(uid(&invalid));
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("InvalidKickstart: spec.source.kickstart:1:"),
        "{refused}"
    );
    assert_eq!(
        refused["url"], "http://img.test/job/default/invalid",
        "it never ran: no log"
    );

    let results = take(&url, "result_queue", 2, 10.0).await;
    let logs: BTreeSet<String> = results.iter().map(|m| m.json().to_string()).collect();
    assert_eq!(
        logs,
        [
            json!({"logfile": "default/broken/broken.log", "id": uid(&failed)}).to_string(),
            json!({"logfile": "default/ok/ok.log", "id": uid(&ok)}).to_string(),
        ]
        .into(),
        "the job that never ran has no log"
    );

    // Recorded as delivered; nothing more was sent, and a new operator (a restart, or a new
    // leader) sends nothing again.
    let job = env.jobs("default").get("ok").await.unwrap();
    let record = job.status.unwrap().notifications.unwrap();
    let targets: Vec<_> = record
        .amqp
        .iter()
        .map(|d| (d.target.as_str(), d.state))
        .collect();
    assert_eq!(
        targets,
        [
            ("result_queue", DeliveryState::Delivered),
            ("link_queue", DeliveryState::Delivered)
        ]
    );
    assert!(record.amqp.iter().all(|d| d.delivered_time.is_some()));
    let text = metrics(operator.admin_addr).await;
    assert_eq!(
        metric(&text, "img_amqp_published_total{queue=\"link_queue\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(metric(&text, "img_amqp_connected "), 1.0, "{text}");
    operator.shutdown().await.unwrap();
    let again = bridged_operator(&env, &url, &[]).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for queue in ["link_queue", "error_queue", "result_queue"] {
        let more = take(&url, queue, 10, 1.0).await;
        assert!(
            more.is_empty(),
            "{queue} got more after a restart: {more:?}"
        );
    }
    again.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_opt_out_or_predate_the_bridge_are_not_announced() {
    let Some((broker, env)) = bridged().await else {
        return;
    };
    let url = broker.url();
    // Jobs end while no bridge is configured...
    let plain = env.operator(&[]).await;
    env.create("default", "before", spec("succeed")).await;
    env.wait_phase("default", "before", Phase::Succeeded).await;
    plain.shutdown().await.unwrap();
    // ...and are older than the notification age when the bridge arrives.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let operator = bridged_operator(&env, &url, &["--notify-max-age-seconds", "1"]).await;
    let mut quiet = spec("succeed");
    quiet.notify.amqp = false;
    env.create("default", "quiet", quiet).await;
    env.wait_phase("default", "quiet", Phase::Succeeded).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for queue in ["link_queue", "result_queue"] {
        let got = take(&url, queue, 10, 1.0).await;
        assert!(got.is_empty(), "{queue}: {got:?}");
    }
    operator.shutdown().await.unwrap();
}
