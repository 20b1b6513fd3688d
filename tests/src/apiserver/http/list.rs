//! Lists: selectors, `limit`/`continue` paging over a consistent snapshot, and the list
//! document written by concatenating the stored objects' JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::route::ObjectRoute;
use super::{AppState, Params, json_response, object_json};
use crate::apiserver::cluster::type_key;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::query::TableMeta;
use crate::apiserver::query::{FieldRules, FieldSelector, LabelSelector};
use crate::apiserver::store::Stored;

/// The selectors of a request.
pub(crate) struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    /// Reads `labelSelector` and `fieldSelector` (400 when they do not parse).
    pub(crate) fn from_params(o: &ObjectRoute, params: &Params) -> ApiResult<Filter> {
        let labels = params
            .get("labelSelector")
            .filter(|s| !s.is_empty())
            .map(|s| LabelSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string())))
            .transpose()?;
        let rules = FieldRules::for_kind(&o.rt.group, &o.rt.kind);
        let fields = params
            .get("fieldSelector")
            .filter(|s| !s.is_empty())
            .map(|s| {
                FieldSelector::parse_for(s, &rules)
                    .map_err(|e| ApiError::bad_request(e.to_string()))
            })
            .transpose()?;
        Ok(Filter { labels, fields })
    }

    /// Whether an object passes the selectors.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let empty = serde_json::Map::new();
        let labels = obj["metadata"]["labels"].as_object().unwrap_or(&empty);
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self.fields.as_ref().is_none_or(|s| s.matches(obj))
    }
}

/// The objects a collection request selects (without paging).
pub(crate) fn select(
    state: &Arc<AppState>,
    o: &ObjectRoute,
    ns: Option<&str>,
    params: &Params,
) -> ApiResult<Vec<Arc<Stored>>> {
    let filter = Filter::from_params(o, params)?;
    let (_, items) = state.cluster.store.list(&type_key(&o.rt), ns);
    Ok(items
        .into_iter()
        .filter(|s| filter.matches(&s.value))
        .collect())
}

fn encode_continue(snapshot: u64, offset: usize) -> String {
    STANDARD.encode(format!("{snapshot}:{offset}"))
}

fn decode_continue(token: &str) -> ApiResult<(u64, usize)> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let raw = STANDARD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (snap, offset) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        snap.parse().map_err(|_| bad())?,
        offset.parse().map_err(|_| bad())?,
    ))
}

/// A list request.
pub(crate) fn list(
    state: &Arc<AppState>,
    o: &ObjectRoute,
    ns: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let limit: usize = match params.get("limit") {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?,
        None => 0,
    };
    let store = &state.cluster.store;
    let (rv, items, offset, snapshot) = match params.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (snap, offset) = decode_continue(token)?;
            let (rv, items) = store.snapshot(snap).ok_or_else(|| {
                ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                )
            })?;
            (rv, items, offset, Some(snap))
        }
        None => {
            let filter = Filter::from_params(o, params)?;
            let (rv, items) = store.list(&type_key(&o.rt), ns);
            let items: Vec<_> = items
                .into_iter()
                .filter(|s| filter.matches(&s.value))
                .collect();
            (rv, items, 0, None)
        }
    };
    let end = if limit > 0 {
        (offset + limit).min(items.len())
    } else {
        items.len()
    };
    let page = items.get(offset.min(items.len())..end).unwrap_or(&[]);
    let remaining = items.len() - end;
    let continue_token = (remaining > 0).then(|| {
        let snap = snapshot.unwrap_or_else(|| store.keep_snapshot(rv, items.clone()));
        encode_continue(snap, end)
    });
    if wants_table(headers) {
        let meta = TableMeta {
            resource_version: Some(rv.to_string()),
            continue_token: continue_token.clone(),
            remaining_item_count: (remaining > 0)
                .then(|| i64::try_from(remaining).unwrap_or(i64::MAX)),
        };
        let table = super::discovery::table(&state.cluster, &o.rt, page, &meta, params)?;
        return Ok(json_response(StatusCode::OK, table.to_string().into(), &[]));
    }
    let mut meta = serde_json::json!({"resourceVersion": rv.to_string()});
    if let Some(token) = continue_token {
        meta["continue"] = Value::String(token);
        meta["remainingItemCount"] = Value::from(remaining);
    }
    let mut body = Vec::with_capacity(page.iter().map(|s| s.json.len() + 1).sum::<usize>() + 256);
    body.extend_from_slice(
        format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            o.rt.list_kind(),
            o.rt.api_version(),
            meta
        )
        .as_bytes(),
    );
    for (i, stored) in page.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&object_json(&o.rt, stored));
    }
    body.extend_from_slice(b"]}");
    Ok(json_response(StatusCode::OK, Bytes::from(body), &[]))
}

/// Whether the client asked for a `meta.k8s.io` Table (what `kubectl get` does).
pub(crate) fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(crate::apiserver::query::wants_table)
}
