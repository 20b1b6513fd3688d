//! `GET .../pods/<name>/log`: the output of a container run by the kubelet mode, whole, as a
//! tail, or followed until the container ends.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::objects::is_true;
use super::{AppState, Params};
use crate::apiserver::cluster::Target;
use crate::apiserver::error::{ApiError, ApiResult};
use crate::apiserver::kubelet::log_path;

/// Whether the named container has ended (so a follow can stop at the end of its log).
fn terminated(state: &AppState, target: Target<'_>, container: &str) -> bool {
    let Ok(pod) = state.cluster.get(target) else {
        return true;
    };
    pod.value["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod.value["status"]["initContainerStatuses"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .any(|c| c["name"] == container && c["state"]["terminated"].is_object())
}

/// A log request.
pub(crate) async fn logs(
    state: &Arc<AppState>,
    target: Target<'_>,
    params: &Params,
) -> ApiResult<Response> {
    let pod = state.cluster.get(target)?;
    let names: Vec<String> = pod.value["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod.value["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect();
    let container = match params.get("container") {
        Some(c) if names.contains(c) => c.clone(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {}",
                target.name
            )));
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {}, choose one of: {names:?}",
                target.name
            )));
        }
    };
    let uid = pod.value["metadata"]["uid"].as_str().unwrap_or("");
    let path = state
        .kubelet_root
        .as_ref()
        .map(|root| log_path(root, uid, &container))
        .filter(|p| p.exists())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{}\" is waiting to start: ContainerCreating",
                target.name
            ))
        })?;
    let mut text = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(n) = params
        .get("tailLines")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
        text = lines[lines.len().saturating_sub(n)..].concat();
    }
    let plain = |body: Body| {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(body)
            .map_err(|e| ApiError::internal(e.to_string()))
    };
    if !is_true(params.get("follow")) {
        return plain(Body::from(text));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let state = state.clone();
    let (rt, ns, name) = (
        target.rt.clone(),
        target.namespace.to_owned(),
        target.name.to_owned(),
    );
    let offset = tokio::fs::metadata(&path)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let Ok(mut file) = tokio::fs::File::open(&path).await else {
            return;
        };
        if file.seek(std::io::SeekFrom::Start(offset)).await.is_err() {
            return;
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).await.unwrap_or(0);
            if n > 0 {
                if tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                    return;
                }
                continue;
            }
            let target = Target {
                rt: &rt,
                namespace: &ns,
                name: &name,
            };
            if terminated(&state, target, &container) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    plain(Body::from_stream(
        ReceiverStream::new(rx).map(Ok::<Bytes, std::io::Error>),
    ))
}
