//! What every write shares: type and metadata checks, pruning of custom resources, and the
//! managedFields record.

use serde_json::Value;

use super::{Cluster, FieldValidation, WriteOptions};
use crate::apiserver::crd;
use crate::apiserver::error::{ApiError, ApiResult, Subject};
use crate::apiserver::meta;
use crate::apiserver::resource::ResourceType;

/// How many times a write without a client precondition is retried on a concurrent change.
pub(crate) const RETRIES: usize = 8;

pub(crate) fn subject(rt: &ResourceType) -> Subject<'_> {
    Subject {
        plural: &rt.plural,
        group: &rt.group,
    }
}

/// Checks `apiVersion` and `kind` of a request body against the type the URL names.
pub(crate) fn check_type(rt: &ResourceType, obj: &Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not a JSON object",
        ));
    }
    match obj["kind"].as_str() {
        None | Some("") => {
            return Err(ApiError::bad_request(format!(
                "Object 'Kind' is missing in '{}'",
                truncate(&obj.to_string())
            )));
        }
        Some(kind) if kind != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind of the object ({kind}) does not match the kind on the URL ({})",
                rt.kind
            )));
        }
        Some(_) => {}
    }
    match obj["apiVersion"].as_str() {
        Some(v) if v == rt.api_version() => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            rt.api_version()
        ))),
        None => Err(ApiError::bad_request(format!(
            "Object 'apiVersion' is missing in '{}'",
            truncate(&obj.to_string())
        ))),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Validates the parts of metadata every write must respect.
pub(crate) fn check_metadata(rt: &ResourceType, name: &str, obj: &Value) -> ApiResult<()> {
    meta::validate_name(rt, name)
        .map_err(|m| ApiError::invalid(subject(rt), name, "metadata.name", &m))?;
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        meta::validate_labels(labels)
            .map_err(|(field, m)| ApiError::invalid(subject(rt), name, &field, &m))?;
    }
    Ok(())
}

/// Folds a Secret's write-only `stringData` into `data` (base64, overriding keys already
/// there) and drops it, as the real server does before it stores a Secret: readers only ever
/// see `data`.
pub(crate) fn fold_string_data(rt: &ResourceType, obj: &mut Value) {
    use base64::Engine as _;
    if !(rt.is_builtin() && rt.group.is_empty() && rt.kind == "Secret") {
        return;
    }
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(strings)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(data) = data.as_object_mut() {
        for (key, value) in strings {
            let text = value.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            data.insert(key, Value::String(encoded));
        }
    }
}

impl Cluster {
    /// Drops the fields of a custom resource its schema does not declare, as the real server
    /// prunes structural schemas, reporting them as `fieldValidation` asks.
    pub(crate) fn prune(
        &self,
        rt: &ResourceType,
        obj: &mut Value,
        validation: FieldValidation,
        warnings: &mut Vec<String>,
    ) -> ApiResult<()> {
        let Some(schema) = &rt.schema else {
            return Ok(());
        };
        let unknown = crd::prune(obj, schema);
        if unknown.is_empty() {
            return Ok(());
        }
        match validation {
            FieldValidation::Ignore => Ok(()),
            FieldValidation::Warn => {
                warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")));
                Ok(())
            }
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rt.kind,
                rt.api_version(),
                rt.kind,
                unknown
                    .iter()
                    .map(|f| format!("unknown field \"{f}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Records the write in `metadata.managedFields` (operation `Update`).
    pub(crate) fn record_update(
        &self,
        rt: &ResourceType,
        old: Option<&Value>,
        new: &mut Value,
        opts: &WriteOptions,
        subresource: Option<&str>,
    ) {
        if opts.applied {
            return;
        }
        let Some(manager) = opts.manager() else {
            return;
        };
        let schema = super::schema_for(rt);
        *new = crate::apiserver::patch::record_update(
            old,
            new,
            manager,
            subresource,
            &rt.api_version(),
            &meta::now(),
            schema.as_ref(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::resource::builtins;

    #[test]
    fn secrets_keep_string_data_as_data() {
        let types = builtins();
        let secrets = types.iter().find(|t| t.kind == "Secret").unwrap();
        let mut secret = serde_json::json!({"kind": "Secret", "data": {"a": "eA==", "b": "eA=="},
            "stringData": {"b": "pw", "c": "ks"}});
        fold_string_data(secrets, &mut secret);
        assert_eq!(
            secret,
            serde_json::json!({"kind": "Secret", "data": {"a": "eA==", "b": "cHc=", "c": "a3M="}})
        );
        let config_maps = types.iter().find(|t| t.kind == "ConfigMap").unwrap();
        let mut cm = serde_json::json!({"stringData": {"b": "pw"}});
        fold_string_data(config_maps, &mut cm);
        assert_eq!(cm, serde_json::json!({"stringData": {"b": "pw"}}));
    }
}
