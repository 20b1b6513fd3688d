//! Watches: a stream of `{"type": ..., "object": ...}` lines from a resourceVersion (or the
//! current state), filtered by namespace and selectors, with bookmarks, `timeoutSeconds`,
//! streaming initial events, and 410 Expired for a resourceVersion older than the history.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::list::{Filter, wants_table};
use super::objects::is_true;
use super::route::ObjectRoute;
use super::{AppState, Params, object_json};
use crate::apiserver::cluster::type_key;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::resource::ResourceType;
use crate::apiserver::store::{Event, EventType, Stored, TooOld};

/// The longest a watch stays open when the client gives no timeout.
const MAX_WATCH: Duration = Duration::from_secs(1800);

struct Watcher {
    cluster: Arc<crate::apiserver::cluster::Cluster>,
    params: Params,
    rt: Arc<ResourceType>,
    key: (String, String),
    namespace: Option<String>,
    filter: Filter,
    table: bool,
}

impl Watcher {
    fn in_scope(&self, obj: &Stored) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| obj.namespace() == ns)
    }

    fn selected(&self, obj: &Stored) -> bool {
        self.in_scope(obj) && self.filter.matches(&obj.value)
    }

    /// The event a change is to this watch (selection transitions become ADDED or DELETED).
    fn translate(&self, event: &Event) -> Option<EventType> {
        if event.key != self.key {
            return None;
        }
        let now = self.selected(&event.object);
        let before = event.prev.as_ref().is_some_and(|p| self.selected(p));
        match event.kind {
            EventType::Added => now.then_some(EventType::Added),
            EventType::Deleted => (before || now).then_some(EventType::Deleted),
            EventType::Modified => match (before, now) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            },
        }
    }

    fn line(&self, kind: &str, obj: &Arc<Stored>) -> Bytes {
        let object = if self.table {
            let meta = crate::apiserver::query::TableMeta {
                resource_version: Some(obj.rv.to_string()),
                ..Default::default()
            };
            match super::discovery::table(
                &self.cluster,
                &self.rt,
                std::slice::from_ref(obj),
                &meta,
                &self.params,
            ) {
                Ok(t) => Bytes::from(t.to_string()),
                Err(e) => Bytes::from(e.status().to_string()),
            }
        } else {
            object_json(&self.rt, obj)
        };
        let mut line = Vec::with_capacity(object.len() + 32);
        line.extend_from_slice(format!("{{\"type\":\"{kind}\",\"object\":").as_bytes());
        line.extend_from_slice(&object);
        line.extend_from_slice(b"}\n");
        Bytes::from(line)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta});
        Bytes::from(format!("{{\"type\":\"BOOKMARK\",\"object\":{obj}}}\n"))
    }
}

fn expired_line(e: TooOld, from: u64) -> Bytes {
    let status =
        ApiError::expired(format!("too old resource version: {from} ({})", e.oldest)).status();
    Bytes::from(format!("{{\"type\":\"ERROR\",\"object\":{status}}}\n"))
}

/// A watch request.
pub(crate) fn watch(
    state: &Arc<AppState>,
    o: &ObjectRoute,
    ns: Option<&str>,
    params: &Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let watcher = Watcher {
        cluster: state.cluster.clone(),
        params: params.clone(),
        rt: o.rt.clone(),
        key: type_key(&o.rt),
        namespace: ns.map(str::to_owned),
        filter: Filter::from_params(o, params)?,
        table: wants_table(headers),
    };
    let timeout = match params.get("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t}")))?,
        ),
        None => MAX_WATCH,
    }
    .min(MAX_WATCH);
    let bookmarks = is_true(params.get("allowWatchBookmarks"));
    let send_initial = is_true(params.get("sendInitialEvents"));
    let from = params
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))
        })
        .transpose()?;
    if send_initial
        && params.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan")
    {
        return Err(ApiError::invalid(
            crate::apiserver::error::Subject {
                plural: &o.rt.plural,
                group: &o.rt.group,
            },
            "",
            "resourceVersionMatch",
            "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    }
    let store = &state.cluster.store;
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut initial: Vec<Bytes> = Vec::new();
    let (mut last_rv, events) = match from.filter(|_| !send_initial) {
        None => {
            let (rv, items, events) = store.watch_now(&watcher.key, ns);
            for obj in items.iter().filter(|o| watcher.selected(o)) {
                initial.push(watcher.line("ADDED", obj));
            }
            if send_initial {
                initial.push(watcher.bookmark(rv, true));
            }
            (rv, Some(events))
        }
        Some(from) => match store.watch_from(from) {
            Ok((past, events)) => {
                let mut last = from;
                for e in &past {
                    if let Some(kind) = watcher.translate(e) {
                        initial.push(watcher.line(kind.as_str(), &e.object));
                    }
                    last = e.object.rv;
                }
                (last, Some(events))
            }
            Err(too_old) => {
                initial.push(expired_line(too_old, from));
                (from, None)
            }
        },
    };
    let bookmark_interval = state.bookmark_interval;
    let mut shutdown = state.shutdown.clone();
    let mut cut = state.cut_watches.clone();
    tokio::spawn(async move {
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let Some(mut events) = events else {
            return;
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(bookmark_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = cut.changed() => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(watcher.bookmark(last_rv, false)).await.is_err() {
                        return;
                    }
                }
                received = events.recv() => match received {
                    Ok(event) => {
                        if event.object.rv <= last_rv {
                            continue;
                        }
                        last_rv = event.object.rv;
                        if let Some(kind) = watcher.translate(&event)
                            && tx.send(watcher.line(kind.as_str(), &event.object)).await.is_err() {
                                return;
                            }
                    }
                    // Too slow to keep up, or the store is gone: end the watch; clients
                    // resume from the last resourceVersion they saw.
                    Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(Body::from_stream(
            ReceiverStream::new(rx).map(Ok::<Bytes, std::io::Error>),
        ))
        .map_err(|e| ApiError::internal(e.to_string()))
}
