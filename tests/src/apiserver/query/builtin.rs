//! Columns of kube-apiserver's built-in printers for the kinds the project
//! uses. The server always renders the `-o wide` (priority 1) columns too;
//! kubectl hides them unless asked.
//!
//! Where a printer reads a field the API server defaults on write (Secret
//! `type`, Service `type` and port `protocol`), the default is assumed when
//! the stored object lacks it, since the real printer only ever sees
//! defaulted objects.

use super::duration::{age, format_rfc3339_utc, is_go_zero_time, parse_rfc3339};
use super::pod;
use super::printers::{
    access_modes, event_count, event_first_seen, event_last_seen, event_source, format_labels,
    secret_keys, service_external_ip, service_ports, service_type, unset_if_absent,
};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// A cell computed by a built-in printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinCell {
    /// `metadata.name`.
    Name,
    /// Age of `metadata.creationTimestamp` (`<unknown>` when unset).
    Age,
    /// `metadata.creationTimestamp` as RFC 3339 (default table convertor).
    CreatedAt,
    /// Pod READY (`ready/total`).
    PodReady,
    /// Pod STATUS (phase or container reason).
    PodStatus,
    /// Pod RESTARTS (`n` or `n (age ago)`).
    PodRestarts,
    /// Pod IP.
    PodIp,
    /// Pod node.
    PodNode,
    /// Pod nominated node.
    PodNominatedNode,
    /// Pod readiness gates.
    PodReadinessGates,
    /// Number of ConfigMap `data` plus `binaryData` keys.
    ConfigMapData,
    /// Secret type.
    SecretType,
    /// Number of Secret data keys.
    SecretData,
    /// Service type.
    ServiceType,
    /// Service cluster IP.
    ServiceClusterIp,
    /// Service external IPs / load-balancer ingress.
    ServiceExternalIp,
    /// Service ports (`80/TCP`, `80:30080/TCP`).
    ServicePorts,
    /// Service selector (`k=v,...` or `<none>`).
    ServiceSelector,
    /// PVC phase (or `Terminating`).
    PvcStatus,
    /// PVC bound volume.
    PvcVolume,
    /// PVC capacity (once bound).
    PvcCapacity,
    /// PVC access modes (`RWO,ROX,...`, once bound).
    PvcAccessModes,
    /// PVC storage class.
    PvcStorageClass,
    /// PVC volume attributes class (`<unset>` when unset).
    PvcVolumeAttributesClass,
    /// PVC volume mode (`<unset>` when unset).
    PvcVolumeMode,
    /// Lease holder identity.
    LeaseHolder,
    /// Event LAST SEEN.
    EventLastSeen,
    /// Event type.
    EventType,
    /// Event reason.
    EventReason,
    /// Event OBJECT (`kind/name`, kind lower-cased).
    EventObject,
    /// Event involved-object field path.
    EventSubobject,
    /// Event source (`component, host`).
    EventSource,
    /// Event message (trimmed).
    EventMessage,
    /// Event FIRST SEEN.
    EventFirstSeen,
    /// Event count.
    EventCount,
    /// Namespace phase.
    NamespaceStatus,
}

pub(super) fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn list<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn object_len(value: &Value, pointer: &str) -> usize {
    value
        .pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, Map::len)
}

/// A set timestamp at `pointer` (absent, unparsable and Go's zero time all
/// count as unset).
pub(super) fn timestamp(value: &Value, pointer: &str) -> Option<Timestamp> {
    parse_rfc3339(text(value, pointer)).filter(|ts| !is_go_zero_time(*ts))
}

/// `translateTimestampSince`: the age, or `<unknown>` when unset.
pub(super) fn since(value: &Value, pointer: &str, now: Timestamp) -> String {
    timestamp(value, pointer).map_or_else(|| "<unknown>".to_owned(), |ts| age(ts, now))
}

fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

impl BuiltinCell {
    /// The cell for `object`.
    pub fn cell(self, object: &Value, now: Timestamp) -> Value {
        use BuiltinCell as B;
        match self {
            B::Name => string(text(object, "/metadata/name")),
            B::Age => string(since(object, "/metadata/creationTimestamp", now)),
            B::CreatedAt => string(
                timestamp(object, "/metadata/creationTimestamp")
                    .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), format_rfc3339_utc),
            ),
            B::PodReady => {
                let s = pod::summarize(object, now);
                string(format!("{}/{}", s.ready, s.total))
            }
            B::PodStatus => string(pod::summarize(object, now).status),
            B::PodRestarts => string(pod::summarize(object, now).restarts),
            B::PodIp => string(pod::ip(object)),
            B::PodNode => string(pod::or_none(text(object, "/spec/nodeName"))),
            B::PodNominatedNode => string(pod::or_none(text(object, "/status/nominatedNodeName"))),
            B::PodReadinessGates => string(pod::readiness_gates(object)),
            B::ConfigMapData => {
                Value::from(object_len(object, "/data") + object_len(object, "/binaryData"))
            }
            B::SecretType => string(match text(object, "/type") {
                "" => "Opaque",
                t => t,
            }),
            B::SecretData => Value::from(secret_keys(object)),
            B::ServiceType => string(service_type(object)),
            B::ServiceClusterIp => string(match text(object, "/spec/clusterIPs/0") {
                "" => pod::or_none(text(object, "/spec/clusterIP")),
                ip => ip.to_owned(),
            }),
            B::ServiceExternalIp => string(service_external_ip(object)),
            B::ServicePorts => string(service_ports(object)),
            B::ServiceSelector => string(format_labels(object.pointer("/spec/selector"))),
            B::PvcStatus => string(if object.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                text(object, "/status/phase")
            }),
            B::PvcVolume => string(text(object, "/spec/volumeName")),
            B::PvcCapacity => string(if text(object, "/spec/volumeName").is_empty() {
                ""
            } else {
                // An absent quantity prints as Go's zero Quantity, "0".
                match text(object, "/status/capacity/storage") {
                    "" => "0",
                    q => q,
                }
            }),
            B::PvcAccessModes => string(if text(object, "/spec/volumeName").is_empty() {
                String::new()
            } else {
                access_modes(list(object, "/status/accessModes"))
            }),
            B::PvcStorageClass => string(
                object
                    .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| text(object, "/spec/storageClassName")),
            ),
            B::PvcVolumeAttributesClass => string(unset_if_absent(
                object.pointer("/spec/volumeAttributesClassName"),
            )),
            B::PvcVolumeMode => string(unset_if_absent(object.pointer("/spec/volumeMode"))),
            B::LeaseHolder => string(text(object, "/spec/holderIdentity")),
            B::EventLastSeen => string(event_last_seen(object, now)),
            B::EventType => string(text(object, "/type")),
            B::EventReason => string(text(object, "/reason")),
            B::EventObject => {
                let kind = text(object, "/involvedObject/kind").to_lowercase();
                string(match text(object, "/involvedObject/name") {
                    "" => kind,
                    name => format!("{kind}/{name}"),
                })
            }
            B::EventSubobject => string(text(object, "/involvedObject/fieldPath")),
            B::EventSource => string(event_source(object)),
            B::EventMessage => string(text(object, "/message").trim()),
            B::EventFirstSeen => string(event_first_seen(object, now)),
            B::EventCount => Value::from(event_count(object)),
            B::NamespaceStatus => string(text(object, "/status/phase")),
        }
    }

    /// Row conditions contributed by this cell's printer: the Pod printer
    /// marks succeeded and failed pods as `Completed`.
    pub(super) fn row_conditions(self, object: &Value) -> Option<Vec<Value>> {
        match self {
            BuiltinCell::PodStatus => pod::row_conditions(object),
            _ => None,
        }
    }
}
