//! `helm lint --strict`, and the values schema refusing what the chart does not know.

use serde_json::json;

use crate::helm::{Values, tool};

/// The value sets the chart is checked with: its defaults, the full example (every part on)
/// and one namespace only (Roles instead of ClusterRoles, existing claims, no web, no CRD).
pub(crate) fn value_sets() -> [(&'static str, Values); 3] {
    [
        ("defaults", Values::defaults()),
        ("full-values", Values::ci("full-values.yaml")),
        ("watch-namespace", Values::ci("watch-namespace-values.yaml")),
    ]
}

#[test]
fn helm_lint_strict_passes_with_default_full_and_one_namespace_values() {
    let Some(tool) = tool("helm_lint_strict_passes") else {
        return;
    };
    for (what, values) in value_sets() {
        let report = tool.lint(&values);
        assert_eq!(report["total_charts_linted"], 1, "{what}: {report}");
        assert_eq!(report["errors"], json!([]), "{what}: {report}");
        // Severity 2 is a warning, 3 an error; --strict fails on both. What may remain is
        // information ("icon is recommended").
        let serious: Vec<_> = report["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["severity"].as_i64().unwrap_or(3) >= 2)
            .collect();
        assert!(serious.is_empty(), "{what}: {serious:?}");
    }
}

#[test]
fn lint_and_render_refuse_values_the_chart_does_not_know() {
    let Some(tool) = tool("lint_and_render_refuse_values") else {
        return;
    };
    // A misspelt key is an error, not a silently ignored setting.
    let report = tool.lint(&Values::ci("full-values.yaml").with(json!({"web": {"ingres": {}}})));
    assert!(
        report["errors"]
            .to_string()
            .contains("'ingres' not allowed"),
        "{report}"
    );
    let refused = |set: serde_json::Value| {
        tool.try_render(&Values::defaults().with(set.clone()))
            .map(|_| ())
            .expect_err(&format!("{set} must be refused"))
    };
    let e = refused(json!({"operator": {"replicas": "two"}}));
    assert!(e.contains("/operator/replicas"), "{e}");
    let e = refused(json!({"notifications": {"smtp": {"tls": "ssl"}}}));
    assert!(e.contains("/notifications/smtp/tls"), "{e}");
    let e = refused(json!({"notifications": {"smtp": {"enabled": true}}}));
    assert!(e.contains("notifications.smtp.host is required"), "{e}");
    let e = refused(json!({"notifications": {"amqp": {"enabled": true}}}));
    assert!(
        e.contains("notifications.amqp.url or notifications.amqp.existingSecret is required"),
        "{e}"
    );
    let e = refused(json!({"runner": {"image": {"digest": "latest"}}}));
    assert!(e.contains("/runner/image/digest"), "{e}");
}

/// The dotted paths of `values`' settings: maps are walked into, except those passed to
/// Kubernetes as they are (resources, security contexts, affinity).
fn setting_paths(values: &serde_yaml::Value, prefix: &str, out: &mut Vec<String>) {
    const WHOLE: [&str; 4] = [
        "resources",
        "podSecurityContext",
        "securityContext",
        "affinity",
    ];
    match values {
        serde_yaml::Value::Mapping(map)
            if !map.is_empty() && !WHOLE.iter().any(|w| prefix.ends_with(w)) =>
        {
            for (key, value) in map {
                let key = key.as_str().unwrap();
                let path = if prefix.is_empty() {
                    key.to_owned()
                } else {
                    format!("{prefix}.{key}")
                };
                setting_paths(value, &path, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[test]
fn every_value_is_documented_in_the_readme() {
    let values: serde_yaml::Value =
        serde_yaml::from_str(&crate::helm::read("charts/img/values.yaml")).unwrap();
    let mut paths = Vec::new();
    setting_paths(&values, "", &mut paths);
    assert!(paths.len() > 80, "{paths:?}");
    let readme = crate::helm::read("charts/img/README.md");
    let undocumented: Vec<_> = paths
        .iter()
        .filter(|p| !readme.contains(&format!("| `{p}` |")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "charts/img/README.md's table lacks {undocumented:?}"
    );
    // Every `# --` comment in values.yaml documents a key (helm-docs' convention).
    let text = crate::helm::read("charts/img/values.yaml");
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("# --") {
            let next = lines[i + 1..]
                .iter()
                .find(|l| !l.trim_start().starts_with('#'))
                .unwrap();
            assert!(
                next.contains(':'),
                "values.yaml:{}: a comment without a key",
                i + 1
            );
        }
    }
}
