//! Jobs that cannot be built as they stand: each fails (or waits) with a reason naming the
//! line, item or field, is not run, and is looked at again when its spec changes.

use std::collections::BTreeMap;

use img_crd::conditions::reasons;
use img_crd::{ImageJobSpec, KeyRef, KickstartFrom, Phase, Source, TemplateSource};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::json;

use crate::env::{Env, kickstart, spec};

fn template(platform: &str, overlay: &str) -> ImageJobSpec {
    ImageJobSpec {
        source: Source {
            template: Some(TemplateSource {
                platform: platform.into(),
                overlay: Some(overlay.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn reason_and_message(job: &img_crd::ImageJob) -> (String, String) {
    let s = job.status.clone().unwrap();
    (s.reason.unwrap_or_default(), s.message.unwrap_or_default())
}

#[tokio::test]
async fn an_invalid_kickstart_fails_until_its_spec_is_fixed() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    let bad = ImageJobSpec {
        source: Source {
            kickstart: Some("lang en_US.UTF-8\nkeyboard us\npart / --size=big\n".into()),
            ..Default::default()
        },
        ..spec("succeed")
    };
    env.create("default", "typo", bad).await;
    let job = env.wait_phase("default", "typo", Phase::Failed).await;
    let (reason, message) = reason_and_message(&job);
    assert_eq!(reason, reasons::INVALID_KICKSTART);
    assert!(
        message.starts_with("spec.source.kickstart:3: error:"),
        "{message}"
    );

    // Nothing more happens until the spec changes.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(env.starts("default", "typo"), 0);

    let fixed = Patch::Merge(json!({"spec": {"source": {"kickstart": kickstart("succeed")}}}));
    env.jobs("default")
        .patch("typo", &PatchParams::default(), &fixed)
        .await
        .unwrap();
    let job = env.wait_phase("default", "typo", Phase::Succeeded).await;
    let status = job.status.unwrap();
    assert_eq!(status.reason, None);
    assert_eq!(env.starts("default", "typo"), 1);
}

#[tokio::test]
async fn template_jobs_render_or_say_what_is_wrong() {
    let env = Env::start().await;
    let _operator = env
        .operator(&["--max-running", "3", "--overlay-repo", "internal"])
        .await;
    env.create(
        "default",
        "good",
        template("MINIMAL", "gcc,@Development Tools,-vim-minimal"),
    )
    .await;
    env.create("default", "no-such-platform", template("NETBOOK", "gcc"))
        .await;
    env.create(
        "default",
        "hostile",
        template("MINIMAL", "gcc,`reboot`,vim"),
    )
    .await;

    let job = env
        .wait_phase("default", "no-such-platform", Phase::Failed)
        .await;
    let (reason, message) = reason_and_message(&job);
    assert_eq!(reason, reasons::UNKNOWN_PLATFORM);
    assert!(
        message.contains("\"NETBOOK\"") && message.contains("MINIMAL, DEVELOPER"),
        "{message}"
    );

    let job = env.wait_phase("default", "hostile", Phase::Failed).await;
    let (reason, message) = reason_and_message(&job);
    assert_eq!(reason, reasons::INVALID_OVERLAY);
    assert!(message.contains("overlay item 2 \"`reboot`\""), "{message}");

    let job = env.wait_phase("default", "good", Phase::Succeeded).await;
    let status = job.status.unwrap();
    let ks = status.kickstart.unwrap();
    assert_eq!(ks.configuration.as_deref(), Some("img-example-minimal"));
    let text = ks.text.unwrap();
    assert!(
        text.contains("\ngcc\n") && text.contains("@Development Tools"),
        "{text}"
    );
    // The rendered kickstart reached the runner, with the template for kickstarter.
    let written =
        std::fs::read_to_string(env.images_dir("default").join("default/good/good.ks")).unwrap();
    assert_eq!(written, text);
    assert_eq!(
        env.starts("default", "no-such-platform") + env.starts("default", "hostile"),
        0
    );
}

#[tokio::test]
async fn a_job_waits_for_its_configmap_and_then_builds_what_it_read() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    let from_cm = ImageJobSpec {
        source: Source {
            kickstart_from: Some(KickstartFrom {
                config_map_key_ref: Some(KeyRef {
                    name: "kickstarts".into(),
                    key: "netbook.ks".into(),
                }),
                secret_key_ref: None,
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    env.create("default", "later", from_cm).await;
    let job = env
        .wait_for("default", "later", "waiting for its source", |j| {
            j.status.as_ref().is_some_and(|s| {
                s.phase == Some(Phase::Pending)
                    && s.conditions
                        .iter()
                        .any(|c| c.reason == reasons::SOURCE_NOT_FOUND)
            })
        })
        .await;
    let message = &job.status.unwrap().conditions[0].message;
    assert!(
        message.contains("ConfigMap \"kickstarts\" not found"),
        "{message}"
    );

    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("kickstarts".into());
    cm.data = Some(BTreeMap::from([(
        "netbook.ks".into(),
        kickstart("succeed"),
    )]));
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let job = env.wait_phase("default", "later", Phase::Succeeded).await;
    let ks = job.status.unwrap().kickstart.unwrap();
    assert_eq!(ks.text.as_deref(), Some(kickstart("succeed").as_str()));
}

#[tokio::test]
async fn an_unreadable_imagejob_fails_alone_and_can_be_deleted() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    // A real API server's schema would refuse this; the controller must survive it anyway.
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("img.meego.com", "v1alpha1", "ImageJob"),
        "imagejobs",
    );
    let raw: Api<DynamicObject> = Api::namespaced_with(env.client.clone(), "default", &resource);
    let mut object = DynamicObject::new("garbled", &resource);
    object.data =
        json!({"spec": {"priority": "high", "source": {"kickstart": kickstart("succeed")}}});
    raw.create(&PostParams::default(), &object).await.unwrap();
    env.create("default", "fine", spec("succeed")).await;

    env.wait_phase("default", "fine", Phase::Succeeded).await;
    let status = crate::support::eventually(30, || {
        let raw = raw.clone();
        async move {
            let o = raw.get("garbled").await.unwrap();
            let status = o.data.get("status").cloned()?;
            (status["phase"] == "Failed").then_some(status)
        }
    })
    .await;
    assert_eq!(status["reason"], reasons::INVALID_SPEC);
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("the ImageJob cannot be read:") && message.contains("\"high\""),
        "{message}"
    );

    raw.delete("garbled", &DeleteParams::default())
        .await
        .unwrap();
    crate::support::eventually(30, || {
        let raw = raw.clone();
        async move {
            raw.get_opt("garbled")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    assert_eq!(env.starts("default", "garbled"), 0);
}
