//! Helpers of the built-in printers for Services, PersistentVolumeClaims,
//! Secrets and Events: the derived strings `kubectl get` shows.

use super::builtin::{list, since, text, timestamp};
use jiff::Timestamp;
use serde_json::{Map, Value};

pub(super) fn unset_if_absent(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        _ => "<unset>".to_owned(),
    }
}

/// Data keys of a Secret; `stringData` is merged into `data` on write by
/// the real server, so keys from both count once.
pub(super) fn secret_keys(secret: &Value) -> usize {
    let mut keys: Vec<&String> = ["/data", "/stringData"]
        .iter()
        .filter_map(|p| secret.pointer(p).and_then(Value::as_object))
        .flat_map(Map::keys)
        .collect();
    keys.sort();
    keys.dedup();
    keys.len()
}

pub(super) fn service_type(service: &Value) -> &str {
    match text(service, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    }
}

pub(super) fn service_external_ip(service: &Value) -> String {
    let external: Vec<&str> = list(service, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match service_type(service) {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".to_owned(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let mut ingress: Vec<&str> = list(service, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| match text(i, "/ip") {
                    "" => text(i, "/hostname"),
                    ip => ip,
                })
                .filter(|s| !s.is_empty())
                .collect();
            ingress.sort_unstable();
            ingress.dedup();
            ingress.extend(external);
            if ingress.is_empty() {
                "<pending>".to_owned()
            } else {
                ingress.join(",")
            }
        }
        "ExternalName" => text(service, "/spec/externalName").to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

pub(super) fn service_ports(service: &Value) -> String {
    let ports: Vec<String> = list(service, "/spec/ports")
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = match text(p, "/protocol") {
                "" => "TCP",
                proto => proto,
            };
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(node_port) if node_port > 0 => format!("{port}:{node_port}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    if ports.is_empty() {
        "<none>".to_owned()
    } else {
        ports.join(",")
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, or `<none>`.
pub(super) fn format_labels(labels: Option<&Value>) -> String {
    let Some(map) = labels.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".to_owned();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// Access modes in the printer's fixed order and abbreviations.
pub(super) fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

pub(super) fn event_first_seen(event: &Value, now: Timestamp) -> String {
    if timestamp(event, "/firstTimestamp").is_some() {
        since(event, "/firstTimestamp", now)
    } else {
        since(event, "/eventTime", now)
    }
}

pub(super) fn event_last_seen(event: &Value, now: Timestamp) -> String {
    if event.pointer("/series").is_some_and(|s| !s.is_null()) {
        since(event, "/series/lastObservedTime", now)
    } else if timestamp(event, "/lastTimestamp").is_some() {
        since(event, "/lastTimestamp", now)
    } else {
        event_first_seen(event, now)
    }
}

pub(super) fn event_count(event: &Value) -> i64 {
    if event.pointer("/series").is_some_and(|s| !s.is_null()) {
        return event
            .pointer("/series/count")
            .and_then(Value::as_i64)
            .unwrap_or(0);
    }
    match event.get("count").and_then(Value::as_i64).unwrap_or(0) {
        // Singleton events of the newer API carry no count.
        0 => 1,
        n => n,
    }
}

pub(super) fn event_source(event: &Value) -> String {
    let first = |a: &'static str, b: &'static str| match text(event, a) {
        "" => text(event, b),
        s => s,
    };
    let component = first("/source/component", "/reportingComponent");
    let host = first("/source/host", "/reportingInstance");
    match (component, host) {
        ("", _) => "<unknown>".to_owned(),
        (c, "") => c.to_owned(),
        (c, h) => format!("{c}, {h}"),
    }
}
