//! Which columns kube-apiserver's built-in printers use per kind.

use super::builtin::BuiltinCell;
use super::columns::{CellSource, Column};
use super::descriptions as d;

fn column(name: &str, type_: &str, description: &str, priority: i32, cell: BuiltinCell) -> Column {
    Column {
        name: name.to_owned(),
        type_: type_.to_owned(),
        format: if cell == BuiltinCell::Name {
            "name"
        } else {
            ""
        }
        .to_owned(),
        description: description.to_owned(),
        priority,
        source: CellSource::Builtin(cell),
    }
}

/// Columns kube-apiserver's built-in printer uses for `kind`, for the
/// kinds the project serves: `Pod`, `ConfigMap`, `Secret`, `Service`,
/// `PersistentVolumeClaim`, `Lease`, `Event` (core v1), `Namespace` and
/// `CustomResourceDefinition` (which uses the default `Name, Created At`
/// convertor). `None` for other kinds.
pub fn builtin_columns(kind: &str) -> Option<Vec<Column>> {
    use BuiltinCell as B;
    let name = || column("Name", "string", d::OBJECT_META_NAME, 0, B::Name);
    let age = || {
        column(
            "Age",
            "string",
            d::OBJECT_META_CREATION_TIMESTAMP,
            0,
            B::Age,
        )
    };
    let s = "string";
    Some(match kind {
        "Pod" => vec![
            name(),
            column("Ready", s, d::POD_READY, 0, B::PodReady),
            column("Status", s, d::POD_STATUS, 0, B::PodStatus),
            column("Restarts", s, d::POD_RESTARTS, 0, B::PodRestarts),
            age(),
            column("IP", s, d::POD_STATUS_POD_IP, 1, B::PodIp),
            column("Node", s, d::POD_SPEC_NODE_NAME, 1, B::PodNode),
            column(
                "Nominated Node",
                s,
                d::POD_STATUS_NOMINATED_NODE_NAME,
                1,
                B::PodNominatedNode,
            ),
            column(
                "Readiness Gates",
                s,
                d::POD_SPEC_READINESS_GATES,
                1,
                B::PodReadinessGates,
            ),
        ],
        "ConfigMap" => vec![
            name(),
            column("Data", s, d::CONFIG_MAP_DATA, 0, B::ConfigMapData),
            age(),
        ],
        "Secret" => vec![
            name(),
            column("Type", s, d::SECRET_TYPE, 0, B::SecretType),
            column("Data", s, d::SECRET_DATA, 0, B::SecretData),
            age(),
        ],
        "Service" => vec![
            name(),
            column("Type", s, d::SERVICE_SPEC_TYPE, 0, B::ServiceType),
            column(
                "Cluster-IP",
                s,
                d::SERVICE_SPEC_CLUSTER_IP,
                0,
                B::ServiceClusterIp,
            ),
            column(
                "External-IP",
                s,
                d::SERVICE_SPEC_EXTERNAL_IPS,
                0,
                B::ServiceExternalIp,
            ),
            column("Port(s)", s, d::SERVICE_SPEC_PORTS, 0, B::ServicePorts),
            age(),
            column(
                "Selector",
                s,
                d::SERVICE_SPEC_SELECTOR,
                1,
                B::ServiceSelector,
            ),
        ],
        "PersistentVolumeClaim" => vec![
            name(),
            column("Status", s, d::PVC_STATUS_PHASE, 0, B::PvcStatus),
            column("Volume", s, d::PVC_SPEC_VOLUME_NAME, 0, B::PvcVolume),
            column("Capacity", s, d::PVC_STATUS_CAPACITY, 0, B::PvcCapacity),
            column(
                "Access Modes",
                s,
                d::PVC_STATUS_ACCESS_MODES,
                0,
                B::PvcAccessModes,
            ),
            column(
                "StorageClass",
                s,
                d::PVC_STORAGE_CLASS,
                0,
                B::PvcStorageClass,
            ),
            column(
                "VolumeAttributesClass",
                s,
                d::PVC_VOLUME_ATTRIBUTES_CLASS,
                0,
                B::PvcVolumeAttributesClass,
            ),
            age(),
            column(
                "VolumeMode",
                s,
                d::PVC_SPEC_VOLUME_MODE,
                1,
                B::PvcVolumeMode,
            ),
        ],
        "Lease" => vec![
            name(),
            column(
                "Holder",
                s,
                d::LEASE_SPEC_HOLDER_IDENTITY,
                0,
                B::LeaseHolder,
            ),
            age(),
        ],
        "Event" => vec![
            column("Last Seen", s, d::EVENT_LAST_TIMESTAMP, 0, B::EventLastSeen),
            column("Type", s, d::EVENT_TYPE, 0, B::EventType),
            column("Reason", s, d::EVENT_REASON, 0, B::EventReason),
            column("Object", s, d::EVENT_INVOLVED_OBJECT, 0, B::EventObject),
            column(
                "Subobject",
                s,
                d::OBJECT_REFERENCE_FIELD_PATH,
                1,
                B::EventSubobject,
            ),
            column("Source", s, d::EVENT_SOURCE, 1, B::EventSource),
            column("Message", s, d::EVENT_MESSAGE, 0, B::EventMessage),
            column(
                "First Seen",
                s,
                d::EVENT_FIRST_TIMESTAMP,
                1,
                B::EventFirstSeen,
            ),
            column("Count", s, d::EVENT_COUNT, 1, B::EventCount),
            column("Name", s, d::OBJECT_META_NAME, 1, B::Name),
        ],
        "Namespace" => vec![
            name(),
            column("Status", s, d::NAMESPACE_STATUS, 0, B::NamespaceStatus),
            age(),
        ],
        "CustomResourceDefinition" => vec![
            name(),
            column(
                "Created At",
                "date",
                d::OBJECT_META_CREATION_TIMESTAMP,
                0,
                B::CreatedAt,
            ),
        ],
        _ => return None,
    })
}
