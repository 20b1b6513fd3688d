//! `imgctl` against a whole site ([`Site`]: API server, operator with the fake runner, the
//! frontend on loopback), run in-process through `img_web::imgctl::run_args` with its output
//! captured: a build followed from submission to a checked (and resumed) download, template
//! jobs, failures and cancellation with their exit codes, refused submissions by line, and
//! the authenticating-proxy mode.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use axum::http::HeaderName;
use img_web::auth::AuthMode;
use sha2::{Digest, Sha256};

use crate::site::Site;
use crate::world::kickstart;

/// What one `imgctl` run left.
#[derive(Debug)]
struct Ran {
    code: i32,
    out: String,
    err: String,
}

impl Ran {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.out).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// `imgctl --server <server> ARGS...`.
async fn imgctl_at(server: &str, args: &[&str]) -> Ran {
    let mut argv = vec!["imgctl", "--server", server];
    argv.extend_from_slice(args);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = img_web::imgctl::run_args(argv, &mut out, &mut err).await;
    Ran {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// `imgctl` against `site`.
async fn imgctl(site: &Site, args: &[&str]) -> Ran {
    imgctl_at(&site.base, args).await
}

/// Runs `imgctl` and expects exit code `code`.
async fn expect(site: &Site, code: i32, args: &[&str]) -> Ran {
    let ran = imgctl(site, args).await;
    assert_eq!(ran.code, code, "imgctl {}: {ran:?}", args.join(" "));
    ran
}

/// A kickstart file for the fake runner's `mode` in `dir`.
fn ks_file(dir: &Path, name: &str, mode: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, kickstart(mode)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Waits until `id` (`ns/name`) is Running, as `imgctl status --output json` says.
async fn until_running(site: &Site, id: &str, user: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut args = vec!["--output", "json", "status", id];
        args.extend_from_slice(user);
        let ran = imgctl(site, &args).await;
        if ran.code == 0 && ran.json()["summary"]["phase"] == "Running" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} never ran: {ran:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_kickstart_is_followed_from_submission_to_a_checked_download() {
    let site = Site::start("succeed", |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let ks = ks_file(dir.path(), "nb.ks", "succeed 0.3 0.3");

    let ran = expect(&site, 0, &["submit", &ks, "--email", "me@example.org"]).await;
    let id = ran.out.trim().to_owned();
    let name = id
        .strip_prefix("default/job-")
        .map(|n| format!("job-{n}"))
        .unwrap_or_else(|| panic!("{ran:?}"));

    // The log as it grows, until the job has ended; then the same bytes without -f.
    let followed = expect(&site, 0, &["logs", "-f", &id]).await.out;
    assert!(
        followed.starts_with(&format!("building {id}\n")),
        "{followed}"
    );
    assert_eq!(followed.matches("done: 0.3\n").count(), 2, "{followed}");
    assert_eq!(expect(&site, 0, &["logs", &name]).await.out, followed);
    let chunks: Vec<serde_json::Value> = expect(&site, 0, &["logs", &id, "--output", "json"])
        .await
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(chunks.last().unwrap()["finished"], true, "{chunks:?}");

    let ran = expect(&site, 0, &["wait", &id]).await;
    assert_eq!(ran.out, format!("{id}: Succeeded: the image was built\n"));

    let image = site
        .images()
        .join("default")
        .join(&name)
        .join(format!("{name}.raw"));
    let bytes = std::fs::read(&image).unwrap();
    let sum = sha256(&bytes);
    let status = expect(&site, 0, &["status", &id]).await.out;
    assert!(status.contains("Phase:     Succeeded\n"), "{status}");
    assert!(
        status.contains(&format!(
            "  {name}.raw  {} bytes  sha256 {sum}\n",
            bytes.len()
        )),
        "{status}"
    );
    assert!(
        status.contains(&format!("{}/images/{id}/{name}.raw", site.base)),
        "{status}"
    );
    let detail = expect(&site, 0, &["status", &id, "--output", "json"])
        .await
        .json();
    assert_eq!(detail["summary"]["phase"], "Succeeded");
    assert_eq!(detail["links"]["artifacts"][0]["sha256"], sum.as_str());
    assert_eq!(detail["spec"]["notify"]["email"][0], "me@example.org");

    let table = expect(&site, 0, &["list"]).await.out;
    assert!(table.starts_with("ID "), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains(" Succeeded ") && row.contains(" raw ") && row.contains(" anonymous "),
        "{row}"
    );
    let page = expect(
        &site,
        0,
        &["list", "--phase", "succeeded", "--output", "json"],
    )
    .await
    .json();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["name"], name.as_str());
    let page = expect(&site, 0, &["list", "--phase", "Failed", "--output", "json"])
        .await
        .json();
    assert_eq!(page["total"], 0, "{page}");

    // Download, checked against the status.
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let ran = expect(&site, 0, &["download", &id, "-o", out_s]).await;
    let target = out.join(format!("{name}.raw"));
    assert_eq!(sha256(&std::fs::read(&target).unwrap()), sum, "{ran:?}");
    assert!(ran.out.contains(&format!("sha256 {sum} OK")), "{ran:?}");
    let again = expect(
        &site,
        0,
        &["download", &name, "-o", out_s, "--output", "json"],
    )
    .await
    .json();
    assert_eq!(again["files"][0]["upToDate"], true, "{again}");

    // An interrupted download resumes from its .part, with a Range request.
    let part = out.join(format!("{name}.raw.part"));
    let half = bytes.len() / 2;
    std::fs::remove_file(&target).unwrap();
    std::fs::write(&part, &bytes[..half]).unwrap();
    let resumed = expect(
        &site,
        0,
        &["download", &id, "-o", out_s, "--output", "json"],
    )
    .await
    .json();
    assert_eq!(resumed["files"][0]["resumedFrom"], half as u64, "{resumed}");
    assert_eq!(resumed["files"][0]["sha256"], sum.as_str());
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    assert!(!part.exists());

    // A corrupt .part is caught by the checksum, and removed.
    std::fs::remove_file(&target).unwrap();
    std::fs::write(&part, vec![b'x'; half]).unwrap();
    let ran = expect(&site, 8, &["download", &id, "-o", out_s]).await;
    assert!(ran.err.contains("does not match"), "{ran:?}");
    assert!(!part.exists() && !target.exists());

    // Names that are not the job's artifacts, or not file names.
    expect(
        &site,
        4,
        &["download", &id, "--file", "other.raw", "-o", out_s],
    )
    .await;
    expect(&site, 2, &["download", &id, "--file", "../x", "-o", out_s]).await;

    // Retry: a new job with the same inputs, which builds too.
    let retried = expect(&site, 0, &["retry", &id])
        .await
        .out
        .trim()
        .to_owned();
    assert!(
        retried.starts_with("default/job-") && retried != id,
        "{retried}"
    );
    expect(&site, 0, &["wait", &retried, "--timeout", "30"]).await;
    site.stop().await;
}

#[tokio::test]
async fn a_template_platform_with_an_overlay_builds() {
    let site = Site::start("succeed", |_| {}).await;
    let template = [
        "--platform",
        "MINIMAL",
        "--overlay",
        "less,-nano",
        "--type",
        "raw",
    ];

    let mut args = vec!["submit"];
    args.extend_from_slice(&template);
    args.push("--preview");
    let preview = expect(&site, 0, &args).await.out;
    let packages = preview
        .split("%packages")
        .nth(1)
        .unwrap_or_else(|| panic!("{preview}"));
    assert!(
        packages.contains("\nless\n") && packages.contains("\n-nano\n"),
        "{preview}"
    );

    let choices = expect(&site, 0, &["choices", "--output", "json"])
        .await
        .json();
    assert!(
        choices["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "MINIMAL"),
        "{choices}"
    );

    args.pop();
    args.extend_from_slice(&["--wait", "--timeout", "30"]);
    let ran = expect(&site, 0, &args).await;
    let lines: Vec<&str> = ran.out.lines().collect();
    assert_eq!(lines.len(), 2, "{ran:?}");
    assert!(lines[0].starts_with("default/job-"), "{ran:?}");
    assert_eq!(
        lines[1],
        format!("{}: Succeeded: the image was built", lines[0])
    );
    let detail = expect(&site, 0, &["status", lines[0], "--output", "json"])
        .await
        .json();
    assert_eq!(
        detail["spec"]["source"]["template"]["overlay"], "less,-nano",
        "{detail}"
    );
    assert_eq!(detail["summary"]["imageType"], "raw");

    args.retain(|a| !matches!(*a, "--wait" | "--timeout" | "30"));
    args.push("--output");
    args.push("json");
    let created = expect(&site, 0, &args).await.json();
    assert_eq!(created["summary"]["namespace"], "default", "{created}");
    site.stop().await;
}

#[tokio::test]
async fn failures_cancellation_and_refusals_have_their_exit_codes() {
    let site = Site::start("succeed", |_| {}).await;
    let dir = tempfile::tempdir().unwrap();

    let failing = ks_file(dir.path(), "fail.ks", "fail");
    let failed = expect(&site, 0, &["submit", &failing])
        .await
        .out
        .trim()
        .to_owned();
    let hanging = ks_file(dir.path(), "hang.ks", "hang");
    let hung = expect(&site, 0, &["submit", &hanging])
        .await
        .out
        .trim()
        .to_owned();

    let ran = expect(&site, 1, &["wait", &failed]).await;
    assert_eq!(
        ran.out,
        format!(
            "{failed}: Failed (BuildFailed): mic2 exited with status 1: no package 'nonexistent'\n"
        )
    );
    let ran = expect(&site, 1, &["wait", &failed, "--output", "json"]).await;
    assert_eq!(ran.json()["summary"]["phase"], "Failed");

    let ran = expect(&site, 7, &["wait", &hung, "--timeout", "1"]).await;
    assert!(ran.err.contains("after 1 s"), "{ran:?}");
    until_running(&site, &hung, &[]).await;
    let ran = expect(&site, 0, &["cancel", &hung]).await;
    assert_eq!(ran.out, format!("{hung}: cancel requested\n"));
    let ran = expect(&site, 3, &["wait", &hung]).await;
    assert!(
        ran.out.starts_with(&format!("{hung}: Cancelled")),
        "{ran:?}"
    );
    // A job that has ended cannot be cancelled (409).
    expect(&site, 2, &["cancel", &hung]).await;

    // A kickstart with problems: each printed at its line, nothing created.
    let broken = dir.path().join("broken.ks");
    std::fs::write(
        &broken,
        "# -*-mic2-options-*- -f raw -*-mic2-options-*-\nlang C\nfrobnicate --now\n\
         %packages\n@Core\n%end\n%post\necho\n",
    )
    .unwrap();
    let broken = broken.to_str().unwrap();
    let ran = expect(&site, 2, &["submit", broken]).await;
    assert!(ran.out.is_empty(), "{ran:?}");
    assert!(
        ran.err
            .starts_with("imgctl: the submission has 2 problem(s)\n"),
        "{ran:?}"
    );
    assert!(
        ran.err
            .contains("\nkickstart:3: unknown command 'frobnicate'\n"),
        "{ran:?}"
    );
    assert!(ran.err.contains("\nkickstart:7: "), "{ran:?}");
    let ran = expect(
        &site,
        2,
        &["submit", broken, "--output", "json", "--type", "floppy"],
    )
    .await;
    let error: serde_json::Value = serde_json::from_str(&ran.err).unwrap();
    let errors = error["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == "kickstart" && e["line"] == 3),
        "{error}"
    );
    assert!(errors.iter().any(|e| e["field"] == "imageType"), "{error}");

    // Ids that do not exist, or are not ids; a server that is not there.
    let ran = expect(&site, 4, &["status", "default/nope"]).await;
    assert_eq!(ran.err, "imgctl: no job default/nope\n");
    expect(&site, 4, &["logs", "nope"]).await;
    expect(&site, 2, &["status", "../x"]).await;
    expect(&site, 2, &["status", "Default/x"]).await;
    let unused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let ran = imgctl_at(&format!("http://{unused}"), &["status", &failed]).await;
    assert_eq!(ran.code, 5, "{ran:?}");
    let ran = imgctl_at(&format!("http://{unused}"), &["--output", "json", "list"]).await;
    assert_eq!(ran.code, 5, "{ran:?}");
    let error: serde_json::Value = serde_json::from_str(&ran.err).unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("cannot connect"),
        "{error}"
    );

    // Delete one, clear the rest.
    expect(&site, 0, &["delete", &failed]).await;
    site.env
        .wait_gone("default", failed.trim_start_matches("default/"))
        .await;
    let ran = expect(&site, 0, &["clear", "--output", "json"])
        .await
        .json();
    assert_eq!(ran["removed"], serde_json::json!([hung]), "{ran}");
    site.stop().await;
}

#[tokio::test]
async fn behind_the_proxy_only_the_submitter_may_change_a_job() {
    let site = Site::start("succeed", |s| {
        s.auth = AuthMode::Proxy {
            header: HeaderName::from_static("x-forwarded-user"),
            admins: BTreeSet::new(),
        };
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let hanging = ks_file(dir.path(), "hang.ks", "hang");

    // Without a user, nothing that needs one.
    let ran = expect(&site, 6, &["submit", &hanging]).await;
    assert!(ran.err.contains("x-forwarded-user"), "{ran:?}");
    let id = expect(&site, 0, &["submit", &hanging, "--user", "ann"])
        .await
        .out
        .trim()
        .to_owned();
    until_running(&site, &id, &["--user", "ann"]).await;

    let ran = expect(&site, 6, &["cancel", &id, "--user", "bob"]).await;
    assert!(ran.err.contains("submitted by ann"), "{ran:?}");
    expect(&site, 6, &["cancel", &id]).await;
    expect(&site, 6, &["retry", &id, "--user", "bob"]).await;
    let mine = expect(
        &site,
        0,
        &["list", "--mine", "--user", "bob", "--output", "json"],
    )
    .await
    .json();
    assert_eq!(mine["total"], 0, "{mine}");
    let mine = expect(
        &site,
        0,
        &["list", "--mine", "--user", "ann", "--output", "json"],
    )
    .await
    .json();
    assert_eq!(mine["total"], 1, "{mine}");

    expect(&site, 0, &["cancel", &id, "--user", "ann"]).await;
    expect(&site, 3, &["wait", &id, "--user", "ann"]).await;
    site.stop().await;
}
