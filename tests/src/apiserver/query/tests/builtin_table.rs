use super::super::{IncludeObject, TableMeta, builtin_columns, table};
use jiff::Timestamp;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2024-05-01T12:00:00Z".parse().expect("valid")
}

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": "2024-04-30T12:00:00Z"})
}

/// (name, type, priority) of each column.
fn headers(kind: &str) -> Vec<(String, String, i32)> {
    builtin_columns(kind)
        .expect(kind)
        .into_iter()
        .map(|c| (c.name, c.type_, c.priority))
        .collect()
}

fn cells(kind: &str, object: &Value) -> Value {
    let columns = builtin_columns(kind).expect(kind);
    Value::Array(columns.iter().map(|c| c.cell(object, now())).collect())
}

fn h(list: &[(&str, &str, i32)]) -> Vec<(String, String, i32)> {
    list.iter()
        .map(|(n, t, p)| ((*n).to_owned(), (*t).to_owned(), *p))
        .collect()
}

#[test]
fn column_sets() {
    let s = "string";
    assert_eq!(
        headers("Pod"),
        h(&[
            ("Name", s, 0),
            ("Ready", s, 0),
            ("Status", s, 0),
            ("Restarts", s, 0),
            ("Age", s, 0),
            ("IP", s, 1),
            ("Node", s, 1),
            ("Nominated Node", s, 1),
            ("Readiness Gates", s, 1)
        ])
    );
    assert_eq!(
        headers("ConfigMap"),
        h(&[("Name", s, 0), ("Data", s, 0), ("Age", s, 0)])
    );
    assert_eq!(
        headers("Secret"),
        h(&[
            ("Name", s, 0),
            ("Type", s, 0),
            ("Data", s, 0),
            ("Age", s, 0)
        ])
    );
    assert_eq!(
        headers("Service"),
        h(&[
            ("Name", s, 0),
            ("Type", s, 0),
            ("Cluster-IP", s, 0),
            ("External-IP", s, 0),
            ("Port(s)", s, 0),
            ("Age", s, 0),
            ("Selector", s, 1)
        ])
    );
    assert_eq!(
        headers("PersistentVolumeClaim"),
        h(&[
            ("Name", s, 0),
            ("Status", s, 0),
            ("Volume", s, 0),
            ("Capacity", s, 0),
            ("Access Modes", s, 0),
            ("StorageClass", s, 0),
            ("VolumeAttributesClass", s, 0),
            ("Age", s, 0),
            ("VolumeMode", s, 1)
        ])
    );
    assert_eq!(
        headers("Lease"),
        h(&[("Name", s, 0), ("Holder", s, 0), ("Age", s, 0)])
    );
    assert_eq!(
        headers("Event"),
        h(&[
            ("Last Seen", s, 0),
            ("Type", s, 0),
            ("Reason", s, 0),
            ("Object", s, 0),
            ("Subobject", s, 1),
            ("Source", s, 1),
            ("Message", s, 0),
            ("First Seen", s, 1),
            ("Count", s, 1),
            ("Name", s, 1)
        ])
    );
    assert_eq!(
        headers("Namespace"),
        h(&[("Name", s, 0), ("Status", s, 0), ("Age", s, 0)])
    );
    assert_eq!(
        headers("CustomResourceDefinition"),
        h(&[("Name", s, 0), ("Created At", "date", 0)])
    );
    assert!(builtin_columns("Deployment").is_none());
    // Only name columns carry a format.
    let formats: Vec<String> = builtin_columns("Event")
        .expect("event")
        .into_iter()
        .map(|c| c.format)
        .collect();
    assert_eq!(formats, vec!["", "", "", "", "", "", "", "", "", "name"]);
}

#[test]
fn config_map_and_secret() {
    let cm = json!({"metadata": meta("settings"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(cells("ConfigMap", &cm), json!(["settings", 3, "24h"]));
    assert_eq!(
        cells("ConfigMap", &json!({"metadata": meta("empty")})),
        json!(["empty", 0, "24h"])
    );
    let tls = json!({"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        cells("Secret", &tls),
        json!(["tls", "kubernetes.io/tls", 2, "24h"])
    );
    let untyped =
        json!({"metadata": meta("s"), "data": {"a": ""}, "stringData": {"a": "x", "b": "y"}});
    assert_eq!(cells("Secret", &untyped), json!(["s", "Opaque", 2, "24h"]));
}

#[test]
fn services() {
    let cluster_ip = json!({"metadata": meta("web"), "spec": {
        "type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"name": "https", "port": 443}],
        "selector": {"tier": "fe", "app": "web"}}});
    assert_eq!(
        cells("Service", &cluster_ip),
        json!([
            "web",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "80/TCP,443/TCP",
            "24h",
            "app=web,tier=fe"
        ])
    );
    let node_port = json!({"metadata": meta("np"), "spec": {"type": "NodePort", "clusterIP": "10.96.0.11",
        "externalIPs": ["1.2.3.4", "5.6.7.8"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "UDP"}]}});
    assert_eq!(
        cells("Service", &node_port),
        json!([
            "np",
            "NodePort",
            "10.96.0.11",
            "1.2.3.4,5.6.7.8",
            "80:30080/UDP",
            "24h",
            "<none>"
        ])
    );
    let pending_lb = json!({"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"], "ports": []}});
    assert_eq!(cells("Service", &pending_lb)[3], json!("<pending>"));
    assert_eq!(cells("Service", &pending_lb)[4], json!("<none>"));
    let lb = json!({"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.7"}]}}});
    assert_eq!(
        cells("Service", &lb)[3],
        json!("203.0.113.7,lb.example.com,9.9.9.9")
    );
    let external_name = json!({"metadata": meta("ext"), "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
    assert_eq!(
        cells("Service", &external_name),
        json!([
            "ext",
            "ExternalName",
            "<none>",
            "db.example.com",
            "<none>",
            "24h",
            "<none>"
        ])
    );
    let headless = json!({"metadata": meta("hl"), "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432}]}});
    assert_eq!(
        cells("Service", &headless),
        json!([
            "hl",
            "ClusterIP",
            "None",
            "<none>",
            "5432/TCP",
            "24h",
            "<none>"
        ])
    );
}

#[test]
fn persistent_volume_claims() {
    let bound = json!({"metadata": meta("data"), "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "standard", "volumeName": "pvc-123", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "capacity": {"storage": "2Gi"}}});
    assert_eq!(
        cells("PersistentVolumeClaim", &bound),
        json!([
            "data",
            "Bound",
            "pvc-123",
            "2Gi",
            "RWO,RWX",
            "standard",
            "<unset>",
            "24h",
            "Filesystem"
        ])
    );
    let pending = json!({"metadata": meta("data2"), "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "standard", "volumeAttributesClassName": "gold"},
        "status": {"phase": "Pending"}});
    assert_eq!(
        cells("PersistentVolumeClaim", &pending),
        json!([
            "data2", "Pending", "", "", "", "standard", "gold", "24h", "<unset>"
        ])
    );
    let mut deleting = json!({"metadata": meta("old"), "spec": {"volumeName": "pv-1"}, "status": {"phase": "Bound"}});
    deleting["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:00:00Z");
    deleting["metadata"]["annotations"] =
        json!({"volume.beta.kubernetes.io/storage-class": "legacy"});
    assert_eq!(
        cells("PersistentVolumeClaim", &deleting),
        json!([
            "old",
            "Terminating",
            "pv-1",
            "0",
            "",
            "legacy",
            "<unset>",
            "24h",
            "<unset>"
        ])
    );
}

#[test]
fn lease_namespace_and_crd() {
    let lease = json!({"metadata": meta("leader"), "spec": {"holderIdentity": "node-a_1234", "leaseDurationSeconds": 15}});
    assert_eq!(
        cells("Lease", &lease),
        json!(["leader", "node-a_1234", "24h"])
    );
    assert_eq!(
        cells("Lease", &json!({"metadata": meta("free"), "spec": {}})),
        json!(["free", "", "24h"])
    );
    let ns = json!({"metadata": {"name": "default", "creationTimestamp": "2024-01-01T00:00:00Z"}, "status": {"phase": "Active"}});
    assert_eq!(
        cells("Namespace", &ns),
        json!(["default", "Active", "121d"])
    );
    let crd = json!({"metadata": {"name": "widgets.example.com", "creationTimestamp": "2024-01-01T02:03:04Z"}});
    assert_eq!(
        cells("CustomResourceDefinition", &crd),
        json!(["widgets.example.com", "2024-01-01T02:03:04Z"])
    );
    assert_eq!(
        cells(
            "CustomResourceDefinition",
            &json!({"metadata": {"name": "x"}})
        ),
        json!(["x", "0001-01-01T00:00:00Z"])
    );
    // The default convertor leaves `rows` null for an empty list; printers send [].
    let crd_columns = builtin_columns("CustomResourceDefinition").expect("crd");
    let empty = table(
        &crd_columns,
        &[],
        &TableMeta::default(),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(empty["rows"], Value::Null);
    let ns_columns = builtin_columns("Namespace").expect("ns");
    let empty = table(
        &ns_columns,
        &[],
        &TableMeta::default(),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(empty["rows"], json!([]));
}

#[test]
fn events() {
    let event = json!({
        "metadata": {"name": "web-0.17a", "namespace": "default", "creationTimestamp": "2024-05-01T11:50:00Z"},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default", "fieldPath": "spec.containers{web}"},
        "reason": "BackOff", "type": "Warning", "message": "  Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T11:50:00Z", "lastTimestamp": "2024-05-01T11:59:30Z", "count": 5,
    });
    assert_eq!(
        cells("Event", &event),
        json!([
            "30s",
            "Warning",
            "BackOff",
            "pod/web-0",
            "spec.containers{web}",
            "kubelet, node-1",
            "Back-off restarting failed container",
            "10m",
            5,
            "web-0.17a"
        ])
    );
    // events.k8s.io-style event seen through core/v1: eventTime, series, reporting fields.
    let series = json!({
        "metadata": {"name": "e2", "namespace": "default"},
        "involvedObject": {"kind": "Node"},
        "reason": "Rebooted", "type": "Normal", "message": "ok",
        "eventTime": "2024-05-01T11:00:00.000000Z",
        "series": {"count": 7, "lastObservedTime": "2024-05-01T11:58:00.000000Z"},
        "reportingComponent": "kubelet", "reportingInstance": "node-9",
    });
    assert_eq!(
        cells("Event", &series),
        json!([
            "2m",
            "Normal",
            "Rebooted",
            "node",
            "",
            "kubelet, node-9",
            "ok",
            "60m",
            7,
            "e2"
        ])
    );
    let bare = json!({"metadata": {"name": "e3"}, "involvedObject": {}});
    assert_eq!(
        cells("Event", &bare),
        json!([
            "<unknown>",
            "",
            "",
            "",
            "",
            "<unknown>",
            "",
            "<unknown>",
            1,
            "e3"
        ])
    );
}
