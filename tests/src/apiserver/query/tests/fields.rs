use super::super::{FieldOperator, FieldRules, FieldSelector};
use serde_json::json;

const CORE: &str = "";

/// (group, kind, accepted labels, rejected labels with their messages).
type KindCase<'a> = (&'a str, &'a str, Vec<&'a str>, Vec<(&'a str, String)>);

#[test]
fn forms_and_escapes() {
    let supported = ["metadata.name", "metadata.namespace", "a"];
    let cases = [
        ("metadata.name=foo", FieldOperator::Equals, "foo"),
        ("metadata.name==foo", FieldOperator::Equals, "foo"),
        ("metadata.name!=foo", FieldOperator::NotEquals, "foo"),
        ("metadata.name=", FieldOperator::Equals, ""),
        ("metadata.name=a\\,b", FieldOperator::Equals, "a,b"),
        ("metadata.name=a\\=b", FieldOperator::Equals, "a=b"),
        ("metadata.name=a\\\\b", FieldOperator::Equals, "a\\b"),
        (
            "metadata.name=caf\u{e9}",
            FieldOperator::Equals,
            "caf\u{e9}",
        ),
    ];
    for (text, op, value) in cases {
        let s = FieldSelector::parse(text, &supported).expect(text);
        assert_eq!(s.terms().len(), 1, "{text}");
        assert_eq!(s.terms()[0].field, "metadata.name");
        assert_eq!(s.terms()[0].operator, op, "{text}");
        assert_eq!(s.terms()[0].value, value, "{text}");
    }
    let s = FieldSelector::parse("metadata.namespace=b,,metadata.name=a,", &supported).expect("ok");
    // Terms are kept sorted, like the real server processes them.
    assert_eq!(s.to_string(), "metadata.name=a,metadata.namespace=b");
    assert_eq!(
        FieldSelector::parse("a==x\\,y", &supported)
            .expect("ok")
            .to_string(),
        "a=x\\,y"
    );
    assert!(
        FieldSelector::parse("", &supported)
            .expect("ok")
            .is_everything()
    );
    assert!(
        FieldSelector::parse(",", &supported)
            .expect("ok")
            .is_everything()
    );
}

#[test]
fn syntax_errors() {
    let supported = ["metadata.name"];
    let cases = [
        (
            "metadata.name",
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
        ),
        (
            "metadata.name=a,b",
            "invalid selector: 'metadata.name=a,b'; can't understand 'b'",
        ),
        (
            "metadata.name=a=b",
            "invalid field selector: unescaped character in value: 61",
        ),
        (
            "metadata.name!==x",
            "invalid field selector: unescaped character in value: 61",
        ),
        (
            "metadata.name=a\\x",
            "invalid field selector: invalid escape sequence: \\x",
        ),
        (
            "metadata.name=a\\",
            "invalid field selector: invalid escape sequence: \\",
        ),
        // Syntax errors win over unsupported labels.
        (
            "aaa=1,zzz",
            "invalid selector: 'aaa=1,zzz'; can't understand 'zzz'",
        ),
    ];
    for (text, expected) in cases {
        let err = FieldSelector::parse(text, &supported).expect_err(text);
        assert_eq!(err.to_string(), expected, "{text}");
    }
}

/// For every kind in scope: each accepted label parses, and a few others
/// are rejected with that kind's wording.
#[test]
fn per_kind_labels_and_rejections() {
    let registered = |label: &str| format!("field label not supported: {label}");
    let generic = |label: &str| {
        format!(
            "\"{label}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        )
    };
    let cases: Vec<KindCase<'_>> = vec![
        (
            CORE,
            "Pod",
            vec![
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
                "spec.host",
            ],
            vec![
                ("spec.foo", registered("spec.foo")),
                ("metadata.labels", registered("metadata.labels")),
                ("status.hostIP", registered("status.hostIP")),
                ("metadata.name ", registered("metadata.name ")),
                ("", registered("")),
            ],
        ),
        (
            CORE,
            "Event",
            vec![
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            ],
            vec![
                ("message", registered("message")),
                ("involvedObject", registered("involvedObject")),
                ("count", registered("count")),
            ],
        ),
        (
            CORE,
            "Secret",
            vec!["type", "metadata.namespace", "metadata.name"],
            vec![
                ("data.x", registered("data.x")),
                ("status.phase", registered("status.phase")),
            ],
        ),
        (
            CORE,
            "Namespace",
            vec!["status.phase", "metadata.name"],
            vec![
                ("metadata.namespace", registered("metadata.namespace")),
                ("spec.finalizers", registered("spec.finalizers")),
            ],
        ),
        (
            CORE,
            "Service",
            vec![
                "metadata.namespace",
                "metadata.name",
                "spec.clusterIP",
                "spec.type",
            ],
            vec![("spec.selector", registered("spec.selector"))],
        ),
        (
            CORE,
            "ConfigMap",
            vec!["metadata.name", "metadata.namespace"],
            vec![("data.key", generic("data.key")), ("type", generic("type"))],
        ),
        (
            CORE,
            "PersistentVolumeClaim",
            vec!["metadata.name", "metadata.namespace"],
            vec![("status.phase", generic("status.phase"))],
        ),
        (
            "coordination.k8s.io",
            "Lease",
            vec!["metadata.name", "metadata.namespace"],
            vec![("spec.holderIdentity", generic("spec.holderIdentity"))],
        ),
        (
            "example.com",
            "Widget",
            vec!["metadata.name", "metadata.namespace"],
            vec![("spec.color", generic("spec.color"))],
        ),
        (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            vec!["metadata.name"],
            vec![("spec.group", generic("spec.group"))],
        ),
    ];
    for (group, kind, accepted, rejected) in cases {
        let rules = FieldRules::for_kind(group, kind);
        for label in accepted {
            let text = format!("{label}=x");
            FieldSelector::parse_for(&text, &rules)
                .unwrap_or_else(|e| panic!("{kind} should accept {label}: {e}"));
        }
        for (label, expected) in rejected {
            let text = format!("{label}=x");
            let err = FieldSelector::parse_for(&text, &rules).expect_err(&text);
            assert_eq!(err.to_string(), expected, "{kind} {text:?}");
        }
    }
    // The alphabetically first bad term is reported.
    let err = FieldSelector::parse_for("zzz=1,aaa=2", &FieldRules::for_kind(CORE, "Pod"))
        .expect_err("unsupported");
    assert_eq!(err.to_string(), "field label not supported: aaa");
    // The plain-list API uses the registered wording.
    let err = FieldSelector::parse("spec.x=1", &["metadata.name"]).expect_err("unsupported");
    assert_eq!(err.to_string(), "field label not supported: spec.x");
}

#[test]
fn matching() {
    let pod = json!({
        "metadata": {"name": "web-0", "namespace": "apps"},
        "spec": {"nodeName": "node-1", "restartPolicy": "Always"},
        "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}]},
    });
    let rules = FieldRules::for_kind(CORE, "Pod");
    let check = |text: &str, object: &serde_json::Value, expected: bool| {
        let s = FieldSelector::parse_for(text, &rules).expect(text);
        assert_eq!(s.matches(object), expected, "{text} on {object}");
    };
    check("", &pod, true);
    check("metadata.name=web-0", &pod, true);
    check("metadata.name==web-0", &pod, true);
    check("metadata.name!=web-0", &pod, false);
    check("metadata.name=web-0,metadata.namespace=apps", &pod, true);
    check("metadata.name=web-0,metadata.namespace=other", &pod, false);
    check("spec.nodeName=node-1", &pod, true);
    check("spec.host=node-1", &pod, true);
    check("status.phase!=Pending", &pod, true);
    check("status.podIP=10.0.0.9", &pod, true);
    check("status.podIPs=10.0.0.9", &pod, false);
    check("spec.schedulerName=", &pod, true);
    check("spec.hostNetwork=false", &pod, true);
    check("status.nominatedNodeName!=", &pod, false);
    let legacy = json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true}, "status": {"podIP": "10.1.1.1"}});
    check("status.podIP=10.1.1.1", &legacy, true);
    check("spec.hostNetwork=true", &legacy, true);

    let event = json!({
        "metadata": {"name": "e1", "namespace": "apps"},
        "involvedObject": {"kind": "Pod", "name": "web-0", "uid": "u1"},
        "reason": "BackOff", "type": "Warning", "reportingComponent": "kubelet",
    });
    let rules = FieldRules::for_kind(CORE, "Event");
    for (text, expected) in [
        ("involvedObject.kind=Pod,involvedObject.name=web-0", true),
        ("involvedObject.uid=u1", true),
        ("source=kubelet", true),
        ("reportingComponent=kubelet", true),
        ("type=Normal", false),
        ("involvedObject.fieldPath=", true),
    ] {
        let s = FieldSelector::parse_for(text, &rules).expect(text);
        assert_eq!(s.matches(&event), expected, "{text}");
    }

    let secret = json!({"metadata": {"name": "s"}, "data": {}});
    let rules = FieldRules::for_kind(CORE, "Secret");
    let s = FieldSelector::parse_for("type=Opaque", &rules).expect("ok");
    assert!(s.matches(&secret));
    assert!(!s.matches(&json!({"metadata": {"name": "t"}, "type": "kubernetes.io/tls"})));

    let ns = json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}});
    let s = FieldSelector::parse_for(
        "status.phase=Active",
        &FieldRules::for_kind(CORE, "Namespace"),
    )
    .expect("ok");
    assert!(s.matches(&ns));

    // Generic extraction: numbers and booleans compare as text.
    let s = FieldSelector::parse(
        "spec.replicas=3,spec.paused=true",
        &["spec.replicas", "spec.paused"],
    )
    .expect("ok");
    assert!(s.matches(&json!({"spec": {"replicas": 3, "paused": true}})));
}
