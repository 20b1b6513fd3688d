//! OpenAPI v3 documents generated from the registry: the paths and operations of every served
//! type (kubectl reads the PATCH operation's parameters to learn that the server validates
//! fields itself) and, for custom resources, their schemas (what `kubectl explain` shows).

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::apiserver::registry::Registry;
use crate::apiserver::resource::ResourceType;

/// `/openapi/v3`: where each group/version's document is.
pub(crate) fn root(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(String, String)> = registry
        .all()
        .iter()
        .map(|t| (t.group.clone(), t.version.clone()))
        .collect();
    gvs.sort();
    gvs.dedup();
    for (group, version) in gvs {
        let key = gv_path(&group, &version);
        let doc = document(registry, &group, &version);
        let mut hasher = DefaultHasher::new();
        doc.to_string().hash(&mut hasher);
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={:016X}", hasher.finish())}),
        );
    }
    json!({"paths": paths})
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The schema name of a kind, as the real server names them (`com.example.img.v1.ImageJob`
/// for group `img.example.com`; `io.k8s.api.core.v1.Pod` for built-ins).
fn schema_name(t: &ResourceType) -> String {
    if t.is_builtin() {
        let group = if t.group.is_empty() {
            "core"
        } else {
            t.group.split('.').next().unwrap_or("")
        };
        return format!("io.k8s.api.{group}.{}.{}", t.version, t.kind);
    }
    let reversed: Vec<&str> = t.group.split('.').rev().collect();
    format!("{}.{}.{}", reversed.join("."), t.version, t.kind)
}

fn param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "When present, indicates that modifications should not be persisted.",
        ),
        param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.",
        ),
    ]
}

fn operation(t: &ResourceType, action: &str, params: Vec<Value>) -> Value {
    json!({
        "description": format!("{action} {}", t.kind),
        "operationId": format!("{action}{}", t.kind),
        "parameters": params,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
    })
}

/// `/openapi/v3/<gv>`: the document of one group/version.
pub(crate) fn document(registry: &Registry, group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".to_owned(),
        json!({
            "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Name must be unique within a namespace."},
                "namespace": {"type": "string", "description": "Namespace defines the space within which each name must be unique."},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Map of string keys and values that can be used to organize and categorize objects."},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Annotations is an unstructured key value map stored with a resource."},
            },
        }),
    );
    for t in registry
        .all()
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let prefix = t.gv_prefix();
        let collection = if t.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{prefix}/{}", t.plural)
        };
        paths.insert(
            collection.clone(),
            json!({
                "get": operation(t, "list", vec![]),
                "post": operation(t, "post", write_params()),
            }),
        );
        let mut patch_params = write_params();
        patch_params.push(param(
            "force",
            "Force is going to \"force\" Apply requests.",
        ));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "get": operation(t, "get", vec![]),
                "put": operation(t, "put", write_params()),
                "patch": operation(t, "patch", patch_params.clone()),
                "delete": operation(t, "delete", vec![param("dryRun", "")]),
            }),
        );
        if t.status_subresource {
            paths.insert(
                format!("{collection}/{{name}}/status"),
                json!({
                    "get": operation(t, "get", vec![]),
                    "put": operation(t, "put", write_params()),
                    "patch": operation(t, "patch", patch_params),
                }),
            );
        }
        if let Some(schema) = &t.schema {
            let mut s = schema.clone();
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert(
                    "metadata".to_owned(),
                    json!({"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
                           "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
                );
                props.entry("apiVersion").or_insert_with(|| json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
                props.entry("kind").or_insert_with(|| json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
            }
            s["x-kubernetes-group-version-kind"] =
                json!([{"group": t.group, "version": t.version, "kind": t.kind}]);
            schemas.insert(schema_name(t), s);
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0-img-loopback"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}
