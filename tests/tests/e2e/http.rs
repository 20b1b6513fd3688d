//! Plain HTTP/1.1 GETs against the frontend and the operator's admin port (hyper's client
//! connection over a loopback socket), and downloads checked as they stream.

use std::path::Path;

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

async fn get(url: &str) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("URL {url}"))?;
    let host = uri.host().context("a host")?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = hyper::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .body(Empty::<Bytes>::new())?;
    Ok(sender.send_request(req).await?)
}

/// GET `url`: the status and the body as text.
pub(crate) async fn get_text(url: &str) -> anyhow::Result<(u16, String)> {
    let resp = get(url).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Downloads `url` into `to`: its size and SHA-256 (hex), computed from the bytes received.
pub(crate) async fn download(url: &str, to: &Path) -> anyhow::Result<(u64, String)> {
    let resp = get(url).await?;
    if resp.status() != hyper::StatusCode::OK {
        bail!("GET {url}: {}", resp.status());
    }
    let mut body = resp.into_body();
    let mut file = tokio::fs::File::create(to).await?;
    let mut sha = Sha256::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            sha.update(&data);
            size += data.len() as u64;
            file.write_all(&data).await?;
        }
    }
    file.flush().await?;
    Ok((size, hex::encode(sha.finalize())))
}
