//! Ingress: the documented messages on `kickstarter_queue` and `image_queue`, published by
//! pika, become ImageJobs that answer on `link_queue`; malformed ones go to the dead-letter
//! queue with the reason; a message sent again makes no second job.

use img_crd::{ImageJob, Phase, labels};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde_json::json;

use crate::env::kickstart;
use crate::{bridged_site, metric, metrics, publish, take};

/// The example template with one active configuration (the minimal one).
fn one_configuration() -> String {
    kickstarter::example::CONFIGURATIONS.replace(
        "        Platform: DEVELOPER",
        "        Platform: DEVELOPER\n        Active: False",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_clients_submit_on_both_queues_and_hear_back() {
    let Some((_broker, env, url, operator)) = bridged_site().await else {
        return;
    };

    let image = json!({"email": "dev@example.org", "id": "nb-2010", "imagetype": "raw", "ksfile": kickstart("succeed")});
    publish(
        &url,
        "image_exchange",
        "image_queue",
        vec![image.to_string()],
    )
    .await;
    let config = json!({"config": one_configuration(), "email": "", "imagetype": "vmdk", "id": 77});
    publish(
        &url,
        "image_exchange",
        "kickstarter_queue",
        vec![config.to_string()],
    )
    .await;

    let links = take(&url, "link_queue", 2, 60.0).await;
    assert_eq!(links.len(), 2, "{links:?}");
    let mut ids: Vec<_> = links.iter().map(|m| m.json()["id"].clone()).collect();
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(
        ids,
        [json!("nb-2010"), json!(77)],
        "ids come back in the form they came in"
    );
    for m in &links {
        let url = m.json()["url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with("http://img.test/images/default/amqp-"),
            "{url}"
        );
    }

    let jobs: Api<ImageJob> = env.jobs("default");
    let made = jobs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(made.len(), 2);
    let ks_job = made
        .iter()
        .find(|j| j.spec.legacy_id.as_deref() == Some("nb-2010"))
        .unwrap();
    assert_eq!(ks_job.spec.notify.email, ["dev@example.org"]);
    assert_eq!(
        ks_job.spec.source.kickstart.as_deref(),
        Some(kickstart("succeed").as_str())
    );
    assert_eq!(ks_job.labels()[labels::ORIGIN], labels::ORIGIN_AMQP);
    let template_job = made
        .iter()
        .find(|j| j.spec.legacy_id.as_deref() == Some("77"))
        .unwrap();
    let template = template_job.spec.source.template.clone().unwrap();
    assert_eq!(template.platform, "MINIMAL");
    assert_eq!(
        template_job.status.as_ref().unwrap().phase,
        Some(Phase::Succeeded)
    );
    assert_eq!(
        template_job
            .status
            .as_ref()
            .unwrap()
            .kickstart
            .as_ref()
            .unwrap()
            .configuration
            .as_deref(),
        Some("img-example-minimal")
    );
    let config_maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let cm = config_maps
        .get(&template.config_map.unwrap())
        .await
        .unwrap();
    let owner = &cm.metadata.owner_references.unwrap()[0];
    assert_eq!(
        owner.uid,
        template_job.metadata.uid.clone().unwrap(),
        "the ConfigMap goes with its job"
    );
    assert_eq!(cm.data.unwrap()["configurations.yaml"], one_configuration());

    let text = metrics(operator.admin_addr).await;
    for queue in ["image_queue", "kickstarter_queue"] {
        let line =
            format!("img_amqp_ingress_messages_total{{queue=\"{queue}\",outcome=\"created\"}}");
        assert_eq!(metric(&text, &line), 1.0, "{text}");
    }
    operator.shutdown().await.unwrap();
}

use kube::ResourceExt as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_again_makes_no_second_job() {
    let Some((_broker, env, url, operator)) = bridged_site().await else {
        return;
    };
    let message =
        json!({"email": "", "id": "twice", "imagetype": "raw", "ksfile": kickstart("succeed")})
            .to_string();
    publish(
        &url,
        "image_exchange",
        "image_queue",
        vec![message.clone(), message.clone(), message],
    )
    .await;
    let mut links = take(&url, "link_queue", 1, 30.0).await;
    links.extend(take(&url, "link_queue", 3, 2.0).await);
    assert_eq!(links.len(), 1, "one job, one link: {links:?}");
    let made = env
        .jobs("default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(made.len(), 1);
    assert_eq!(env.starts("default", &made[0].name_any()), 1);
    let text = metrics(operator.admin_addr).await;
    assert_eq!(
        metric(
            &text,
            "img_amqp_ingress_messages_total{queue=\"image_queue\",outcome=\"duplicate\"}"
        ),
        2.0,
        "{text}"
    );
    operator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_go_to_the_dead_letter_queue_with_their_reason() {
    let Some((_broker, env, url, operator)) = bridged_site().await else {
        return;
    };

    let huge = env.path("huge.json");
    let big_ks = "# padding\n".repeat(200_000);
    std::fs::write(
        &huge,
        json!({"email": "", "id": "big", "imagetype": "raw", "ksfile": big_ks}).to_string(),
    )
    .unwrap();
    let image_cases: Vec<(String, &str)> = vec![
        ("this is not json".into(), "the message is not JSON"),
        ("[1, 2]".into(), "must be a JSON object"),
        (json!({"id": {"x": 1}, "email": "", "imagetype": "raw", "ksfile": "k"}).to_string(), "field \"id\": expected a string or an integer, found an object"),
        (json!({"id": "m1", "email": 5, "imagetype": "raw", "ksfile": "k"}).to_string(), "field \"email\": expected a string, found a number"),
        (json!({"id": "m2", "email": "", "imagetype": "floppy", "ksfile": "k"}).to_string(), "field \"imagetype\": unknown image type 'floppy'"),
        (json!({"id": "m3", "email": "x@y.org\r\nBcc: z@w.org", "imagetype": "raw", "ksfile": "k"}).to_string(), "is not one plain address"),
        (format!("@{}", huge.display()), "over the limit of 1048576"),
    ];
    let two = json!({"config": kickstarter::example::CONFIGURATIONS, "email": "", "imagetype": "raw", "id": "m4"});
    let broken = json!({"config": "Default: [", "email": "", "imagetype": "raw", "id": "m5"});
    publish(
        &url,
        "image_exchange",
        "image_queue",
        image_cases.iter().map(|(b, _)| b.clone()).collect(),
    )
    .await;
    publish(
        &url,
        "image_exchange",
        "kickstarter_queue",
        vec![two.to_string(), broken.to_string()],
    )
    .await;

    let dead = take(&url, "img_dead_letter_queue", 9, 60.0).await;
    assert_eq!(dead.len(), 9, "{dead:?}");
    let reason_of = |needle: &str| {
        dead.iter()
            .find(|m| m.headers["x-img-reason"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no dead letter for {needle:?}: {dead:?}"))
    };
    for (body, reason) in &image_cases {
        let letter = reason_of(reason);
        assert_eq!(letter.headers["x-img-queue"], "image_queue");
        if !body.starts_with('@') {
            assert_eq!(&letter.body, body, "the message is kept as it came");
        }
    }
    let letter = reason_of("2 active configurations (img-example-minimal, img-example-developer)");
    assert_eq!(letter.headers["x-img-queue"], "kickstarter_queue");
    assert_eq!(letter.headers["x-img-id"], "m4");
    reason_of("field \"config\": configurations.yaml:");

    // Senders with a usable id hear why on error_queue.
    let mut errors = take(&url, "error_queue", 5, 30.0).await;
    errors.extend(take(&url, "error_queue", 5, 1.0).await);
    let mut ids: Vec<String> = errors
        .iter()
        .map(|m| m.json()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["m1", "m2", "m3", "m4", "m5"],
        "an oversized message is not read, so it has no id"
    );
    assert!(errors.iter().all(|m| {
        m.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("IMG refused the message: ")
    }));

    // Nothing became a job, nothing is retried.
    let made = env
        .jobs("default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert!(made.is_empty(), "{made:?}");
    for queue in ["image_queue", "kickstarter_queue"] {
        assert!(
            take(&url, queue, 1, 0.5).await.is_empty(),
            "{queue} still holds messages"
        );
    }
    let text = metrics(operator.admin_addr).await;
    assert_eq!(
        metric(
            &text,
            "img_amqp_ingress_messages_total{queue=\"image_queue\",outcome=\"dead_lettered\"}"
        ),
        7.0,
        "{text}"
    );
    operator.shutdown().await.unwrap();
}
