use super::*;
use img_crd::ImageType;
use img_crd::admission::builtin_template;

fn text(s: &str) -> LegacyId {
    LegacyId::Text(s.into())
}

#[test]
fn job_names_are_valid_stable_and_distinct() {
    let plain = job_name(&text("Netbook_42"));
    assert!(plain.starts_with("amqp-netbook-42-"), "{plain}");
    assert_eq!(plain, job_name(&text("Netbook_42")));
    // Ids a name cannot tell apart still get their own names.
    assert_ne!(job_name(&text("a/b")), job_name(&text("a_b")));
    assert_ne!(
        job_name(&LegacyId::Number(42.into())),
        job_name(&text("43"))
    );
    for id in ["../../etc", "é", "--", &"x".repeat(128), "A B\tC"] {
        let name = job_name(&text(id));
        assert!(name.len() <= labels::MAX_JOB_NAME, "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
        assert!(!name.ends_with('-') && !name.contains("--"), "{name}");
    }
    assert_eq!(job_name(&text("é")).len(), "amqp-".len() + 10);
}

fn message(source: IngressSource, id: LegacyId) -> Ingress {
    Ingress {
        id,
        email: Some("dev@example.org".into()),
        image_type: ImageType::Vmdk,
        source,
    }
}

#[test]
fn an_image_message_becomes_an_inline_kickstart_job() {
    let m = message(
        IngressSource::Kickstart("%packages\n%end\n".into()),
        LegacyId::Number(7.into()),
    );
    let job = image_job(&m, "img", None);
    assert_eq!(job.metadata.namespace.as_deref(), Some("img"));
    assert_eq!(job.spec.legacy_id.as_deref(), Some("7"));
    assert_eq!(job.spec.image_type, Some(ImageType::Vmdk));
    assert_eq!(
        job.spec.source.kickstart.as_deref(),
        Some("%packages\n%end\n")
    );
    assert_eq!(job.spec.notify.email, ["dev@example.org"]);
    let annotations = job.metadata.annotations.unwrap();
    assert_eq!(annotations[labels::AMQP_QUEUE], IMAGE_QUEUE);
    assert_eq!(annotations[labels::LEGACY_ID_NUMERIC], "true");
    assert_eq!(annotations[labels::SUBMITTER], "dev@example.org");
}

#[test]
fn a_kickstarter_message_builds_its_one_active_configuration() {
    let base = builtin_template();
    let id = text("k1");
    let two = kickstarter::example::CONFIGURATIONS;
    let refused = choose_configuration(two, &base, &id).unwrap_err();
    assert!(
        refused
            .reason
            .contains("2 active configurations (img-example-minimal, img-example-developer)"),
        "{}",
        refused.reason
    );
    assert_eq!(refused.id, Some(id.clone()));

    let one = two.replace(
        "        Platform: DEVELOPER",
        "        Platform: DEVELOPER\n        Active: False",
    );
    let chosen = choose_configuration(&one, &base, &id).unwrap();
    assert_eq!(
        chosen,
        Chosen {
            platform: "MINIMAL".into(),
            file_name: "img-example-minimal".into()
        }
    );
    let m = message(IngressSource::Config(one.clone()), id);
    let job = image_job(&m, "img", Some(&chosen));
    let template = job.spec.source.template.clone().unwrap();
    assert_eq!(template.platform, "MINIMAL");
    assert_eq!(
        template.configuration.as_deref(),
        Some("img-example-minimal")
    );
    let cm = template_config_map(&job, &one, &base);
    assert_eq!(cm.metadata.name, template.config_map);
    let data = cm.data.unwrap();
    assert_eq!(data[CONFIGURATIONS_KEY], one);
    assert_eq!(data[REPOSITORIES_KEY], kickstarter::example::REPOS);
    assert!(
        data.keys().any(|k| k.starts_with("custom__scripts__")),
        "{:?}",
        data.keys()
    );

    let broken = choose_configuration("Default: [unclosed", &base, &text("k2")).unwrap_err();
    assert!(
        broken
            .reason
            .starts_with("field \"config\": configurations.yaml:2:1: while parsing"),
        "{}",
        broken.reason
    );
}
