//! `imgctl download`: a job's artifacts into a directory, each streamed into `NAME.part`,
//! checked against the size and SHA-256 the job's status gives, then renamed to `NAME`. A
//! `NAME.part` left by an interrupted download is resumed with a Range request (and its bytes
//! are part of the checksum, so a corrupt part is caught). Names come from the server, so
//! they are checked before they touch the file system: nothing is written outside the
//! directory.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header::CONTENT_RANGE;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::imgctl::client::{ArtifactView, Client, failure_of};
use crate::imgctl::exit::{Exit, Failure};
use crate::imgctl::id::JobId;

/// File name endings of what a build leaves beside its images (log, kickstart, checksums):
/// not downloaded unless asked for by `--file`.
const NOT_IMAGES: [&str; 5] = [".log", ".ks", ".sha256", ".md5sum", ".packages"];

/// Why a file name is refused.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty file name".into());
    }
    if name.contains('/') || name.contains('\\') {
        return Err(format!("{name:?} contains a path separator"));
    }
    if name.starts_with('.') {
        return Err(format!("{name:?} starts with a dot"));
    }
    if name.len() > 255 || name.chars().any(|c| c.is_control()) {
        return Err(format!("{name:?} is not a plain file name"));
    }
    Ok(())
}

/// Whether `name` is an image (not the log, the kickstart or a checksum file).
pub fn is_image(name: &str) -> bool {
    !NOT_IMAGES.iter().any(|end| name.ends_with(end))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The artifacts to fetch: `file` (which must be one of them), or every image.
pub fn choose<'a>(
    id: &JobId,
    phase: &str,
    artifacts: &'a [ArtifactView],
    file: Option<&str>,
) -> Result<Vec<&'a ArtifactView>, Failure> {
    for a in artifacts {
        check_name(&a.name).map_err(|why| {
            Failure::server(format!(
                "the server named an artifact of {id} that is unsafe: {why}"
            ))
        })?;
        if !is_sha256(&a.sha256) {
            return Err(Failure::server(format!(
                "the server gave artifact {:?} of {id} a sha256 that is not 64 hex digits",
                a.name
            )));
        }
    }
    let chosen: Vec<&ArtifactView> = match file {
        Some(file) => artifacts.iter().filter(|a| a.name == file).collect(),
        None => artifacts.iter().filter(|a| is_image(&a.name)).collect(),
    };
    if chosen.is_empty() {
        let names: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
        let what = match file {
            Some(file) => format!("{id} has no artifact {file:?}"),
            None => format!("{id} has no image to download"),
        };
        let has = if names.is_empty() {
            format!("it has no artifacts (phase {phase})")
        } else {
            format!("its artifacts: {}", names.join(", "))
        };
        return Err(Failure::new(Exit::NotFound, format!("{what}; {has}")));
    }
    Ok(chosen)
}

/// One file fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fetched {
    /// The artifact's name.
    pub name: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256, as checked.
    pub sha256: String,
    /// Bytes of an earlier `.part` that were kept (0: downloaded from the start).
    pub resumed_from: u64,
    /// The file was already there, complete and correct: nothing was downloaded.
    pub up_to_date: bool,
}

fn local(what: &str, path: &Path, e: &std::io::Error) -> Failure {
    Failure::usage(format!("{what} {}: {e}", path.display()))
}

/// SHA-256 state and length of the file at `path` (read off the async runtime).
async fn hash_file(path: &Path) -> Result<(Sha256, u64), Failure> {
    let owned = path.to_owned();
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<(Sha256, u64)> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok((hasher, len));
            }
            hasher.update(&buf[..n]);
            len += n as u64;
        }
    })
    .await
    .map_err(|e| Failure::server(format!("hashing {}: {e}", path.display())))?;
    result.map_err(|e| local("cannot read", path, &e))
}

/// Fetches `artifact` of `id` into `dir` (see the module docs).
pub async fn fetch(
    client: &Client,
    id: &JobId,
    artifact: &ArtifactView,
    dir: &Path,
) -> Result<Fetched, Failure> {
    check_name(&artifact.name).map_err(Failure::usage)?;
    let target = dir.join(&artifact.name);
    let part = dir.join(format!("{}.part", artifact.name));
    let want = artifact.sha256.to_ascii_lowercase();
    let done = |resumed_from: u64, up_to_date: bool| Fetched {
        name: artifact.name.clone(),
        path: target.clone(),
        size: artifact.size,
        sha256: want.clone(),
        resumed_from,
        up_to_date,
    };

    // Already there and correct: nothing to do.
    if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file() && m.len() == artifact.size) {
        let (hasher, _) = hash_file(&target).await?;
        if hex::encode(hasher.finalize()) == want {
            return Ok(done(0, true));
        }
    }

    let mut have = match std::fs::symlink_metadata(&part) {
        Ok(m) if m.is_file() && m.len() <= artifact.size => m.len(),
        Ok(m) if m.is_file() => {
            // Longer than the file can be: not a part of it.
            std::fs::remove_file(&part).map_err(|e| local("cannot remove", &part, &e))?;
            0
        }
        Ok(_) => {
            return Err(Failure::usage(format!(
                "{} is in the way (not a regular file)",
                part.display()
            )));
        }
        Err(_) => 0,
    };
    let mut hasher = if have > 0 {
        let (hasher, len) = hash_file(&part).await?;
        have = len;
        hasher
    } else {
        Sha256::new()
    };
    let mut resumed_from = have;

    if have < artifact.size {
        let mut response = client.download(id, &artifact.name, have).await?;
        let resumed = have > 0
            && response.status() == StatusCode::PARTIAL_CONTENT
            && response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(&format!("bytes {have}-")));
        if have > 0 && !resumed {
            // The server would not resume (the file changed, or no Range support): start over.
            have = 0;
            resumed_from = 0;
            hasher = Sha256::new();
            if response.status() == StatusCode::RANGE_NOT_SATISFIABLE
                || response.status() == StatusCode::PARTIAL_CONTENT
            {
                response = client.download(id, &artifact.name, 0).await?;
            }
        }
        if !response.status().is_success()
            || (response.status() == StatusCode::PARTIAL_CONTENT && have == 0)
        {
            return Err(failure_of(response).await);
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(have > 0)
            .truncate(have == 0)
            .open(&part)
            .await
            .map_err(|e| local("cannot write", &part, &e))?;
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            let mut f = client.network(&e);
            f.error.push_str("; run the same command again to resume");
            f
        })? {
            have += chunk.len() as u64;
            if have > artifact.size {
                drop(file);
                let _ = std::fs::remove_file(&part);
                return Err(Failure::new(
                    Exit::Checksum,
                    format!(
                        "{} of {id} is longer than the {} bytes its status gives",
                        artifact.name, artifact.size
                    ),
                ));
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| local("cannot write", &part, &e))?;
        }
        file.flush()
            .await
            .map_err(|e| local("cannot write", &part, &e))?;
        file.sync_all()
            .await
            .map_err(|e| local("cannot write", &part, &e))?;
        if have < artifact.size {
            return Err(Failure::server(format!(
                "the download of {} of {id} stopped at {have} of {} bytes; run the same \
                 command again to resume",
                artifact.name, artifact.size
            )));
        }
    }

    let got = hex::encode(hasher.finalize());
    if got != want {
        let _ = std::fs::remove_file(&part);
        return Err(Failure::new(
            Exit::Checksum,
            format!(
                "{} of {id}: sha256 {got} does not match {want} from its status (the \
                 download was removed)",
                artifact.name
            ),
        ));
    }
    std::fs::rename(&part, &target).map_err(|e| local("cannot rename to", &target, &e))?;
    Ok(done(resumed_from, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str) -> ArtifactView {
        ArtifactView {
            name: name.into(),
            size: 3,
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            url: String::new(),
        }
    }

    #[test]
    fn names_never_leave_the_directory() {
        for ok in ["nb.raw", "job-x.raw.xz", "a+b_c-1.qcow2", "x..raw"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b",
            "a\\b",
            ".hidden",
            "/abs",
            "a\nb",
            "a\0b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn images_are_chosen_and_hostile_names_refused() {
        let id = JobId::parse("default/nb", "default").expect("id");
        let all = [artifact("nb.raw"), artifact("nb.log"), artifact("nb.ks")];
        let names = |v: Vec<&ArtifactView>| v.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(choose(&id, "Succeeded", &all, None).expect("images")),
            ["nb.raw"]
        );
        assert_eq!(
            names(choose(&id, "Succeeded", &all, Some("nb.log")).expect("asked")),
            ["nb.log"]
        );
        let e = choose(&id, "Succeeded", &all, Some("other")).expect_err("absent");
        assert_eq!(e.exit, Exit::NotFound);
        assert!(e.error.contains("nb.raw, nb.log, nb.ks"), "{}", e.error);
        let e = choose(&id, "Failed", &[], None).expect_err("none");
        assert_eq!(e.exit, Exit::NotFound);
        assert!(e.error.contains("phase Failed"), "{}", e.error);
        for bad in ["../x.raw", ".x.raw", "a/b.raw", "a\\b.raw"] {
            let e = choose(&id, "Succeeded", &[artifact(bad)], None).expect_err(bad);
            assert_eq!(e.exit, Exit::Server, "{bad}");
        }
        let mut weird = artifact("nb.raw");
        weird.sha256 = "../../".into();
        assert!(choose(&id, "Succeeded", &[weird], None).is_err());
    }

    /// A frontend stand-in: `ranged.raw` served with Range support, `plain.raw` always whole
    /// (Range ignored), `long.raw` longer than announced.
    async fn server(dir: &Path, body: &'static [u8]) -> String {
        use axum::routing::get;
        use tower::ServiceExt as _;
        let file = dir.join("served");
        std::fs::write(&file, body).expect("write");
        let app = axum::Router::new()
            .route(
                "/images/default/j/ranged.raw",
                get(move |req: axum::extract::Request| async move {
                    tower_http::services::ServeFile::new(&file)
                        .oneshot(req)
                        .await
                        .map(|r| r.map(axum::body::Body::new))
                }),
            )
            .route(
                "/images/default/j/plain.raw",
                get(move || async move { body }),
            )
            .route(
                "/images/default/j/long.raw",
                get(move || async move { [body, b"more"].concat() }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn downloads_resume_restart_and_check() {
        const BODY: &[u8] = b"0123456789abcdefghij";
        let dir = tempfile::tempdir().expect("tempdir");
        let client = Client::new(&server(dir.path(), BODY).await, None).expect("client");
        let id = JobId::parse("default/j", "default").expect("id");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        let file = |name: &str| ArtifactView {
            name: name.into(),
            size: BODY.len() as u64,
            sha256: hex::encode(Sha256::digest(BODY)),
            url: String::new(),
        };

        // Resumed with a Range request.
        std::fs::write(out.join("ranged.raw.part"), &BODY[..7]).expect("part");
        let got = fetch(&client, &id, &file("ranged.raw"), &out)
            .await
            .expect("resumed");
        assert_eq!((got.resumed_from, got.up_to_date), (7, false));
        assert_eq!(std::fs::read(out.join("ranged.raw")).expect("read"), BODY);
        let got = fetch(&client, &id, &file("ranged.raw"), &out)
            .await
            .expect("again");
        assert!(got.up_to_date);

        // A server that ignores Range: started over, still right.
        std::fs::write(out.join("plain.raw.part"), &BODY[..7]).expect("part");
        let got = fetch(&client, &id, &file("plain.raw"), &out)
            .await
            .expect("restarted");
        assert_eq!(got.resumed_from, 0);
        assert_eq!(std::fs::read(out.join("plain.raw")).expect("read"), BODY);

        // A part longer than the file is dropped; a complete one only checked.
        std::fs::remove_file(out.join("ranged.raw")).expect("rm");
        std::fs::write(out.join("ranged.raw.part"), [BODY, b"junk"].concat()).expect("part");
        let got = fetch(&client, &id, &file("ranged.raw"), &out)
            .await
            .expect("too long part");
        assert_eq!(got.resumed_from, 0);
        std::fs::remove_file(out.join("ranged.raw")).expect("rm");
        std::fs::write(out.join("ranged.raw.part"), BODY).expect("part");
        let got = fetch(&client, &id, &file("ranged.raw"), &out)
            .await
            .expect("whole part");
        assert_eq!(got.resumed_from, BODY.len() as u64);

        // Too many bytes, or the wrong ones: exit 8, nothing left behind.
        let e = fetch(&client, &id, &file("long.raw"), &out)
            .await
            .expect_err("long");
        assert_eq!(e.exit, Exit::Checksum, "{e:?}");
        assert!(!out.join("long.raw.part").exists() && !out.join("long.raw").exists());
        let mut wrong = file("plain.raw");
        wrong.sha256 = hex::encode(Sha256::digest(b"something else"));
        std::fs::remove_file(out.join("plain.raw")).expect("rm");
        let e = fetch(&client, &id, &wrong, &out)
            .await
            .expect_err("wrong sum");
        assert_eq!(e.exit, Exit::Checksum, "{e:?}");
        assert!(!out.join("plain.raw.part").exists() && !out.join("plain.raw").exists());

        // Not there: 404 is exit 4.
        let e = fetch(&client, &id, &file("absent.raw"), &out)
            .await
            .expect_err("absent");
        assert_eq!(e.exit, Exit::NotFound, "{e:?}");
    }
}
