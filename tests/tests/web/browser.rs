//! The web frontend in headless Chromium, against the loopback API server with the operator
//! and the fake runner: a job submitted through the form with an overlay (previewed first),
//! seen in the queue, its page opened, log lines arriving live and surviving a reload, and its
//! image downloaded and checked against the size and SHA-256 the page shows. Screenshots of
//! each page go to the test artifacts (see web/README.md). Skipped with a message without
//! chromium and chromium-driver, unless `IMG_REQUIRE_BROWSER=1` (set by `scripts/test`).

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use img_tests::browser::Browser;
use serde_json::json;

use crate::site::Site;

/// How long the browser waits for a page or a line.
const WAIT: Duration = Duration::from_secs(60);

/// The text of `#log`.
async fn log_text(c: &Client) -> String {
    c.find(Locator::Css("#log"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until `#log` contains `line`; its text.
async fn wait_for_line(c: &Client, line: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(el) = c.find(Locator::Css("#log")).await
            && let Ok(text) = el.text().await
            && text.contains(line)
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{line:?} never appeared in the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_through_the_browser() {
    if !Browser::available() {
        assert!(
            std::env::var("IMG_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "chromium and chromium-driver are required here (IMG_REQUIRE_BROWSER=1)"
        );
        eprintln!("skipped: no chromium and chromedriver (scripts/test installs them)");
        return;
    }
    let gate = tempfile::tempdir().unwrap();
    let go = gate.path().join("go");
    // Template jobs have no fake-runner line: they wait for `go`, log a line, take 2 s more
    // and log another, so lines arrive while the page is open.
    let site = Site::start(&format!("succeed wait-for={} 2", go.display()), |_| {}).await;
    let browser = Browser::start().await.unwrap();
    let c = browser.client();

    // The form: e-mail, platform, overlay, type; preview first.
    c.goto(&site.url("/submit/")).await.unwrap();
    browser.screenshot("web-1-submit").await.unwrap();
    c.find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys("builder@example.org")
        .await
        .unwrap();
    click(c, "#platform option[value=MINIMAL]").await;
    c.find(Locator::Css("#overlay"))
        .await
        .unwrap()
        .send_keys("less,-nano")
        .await
        .unwrap();
    click(c, "#imagetype option[value=raw]").await;
    click(c, "#preview-button").await;
    let preview = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#preview"))
        .await
        .unwrap();
    let shown = preview.text().await.unwrap();
    assert!(shown.lines().any(|l| l.trim() == "less"), "{shown}");
    assert!(!shown.lines().any(|l| l.trim() == "nano"), "{shown}");
    browser.screenshot("web-2-preview").await.unwrap();

    // Submit: the job's page.
    click(c, "#submit-button").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#log"))
        .await
        .unwrap();
    let url = c.current_url().await.unwrap();
    let id = url.path().trim_start_matches("/job/").to_owned();
    assert!(id.starts_with("default/job-"), "{url}");

    // The queue lists it, with its submitter.
    c.goto(&site.url("/queue/")).await.unwrap();
    let row = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&format!("tr[data-job=\"{id}\"]")))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("anonymous"));
    browser.screenshot("web-3-queue").await.unwrap();

    // The job page: release the runner and watch its line arrive without a reload.
    c.goto(&site.url(&format!("/job/{id}"))).await.unwrap();
    wait_for_line(c, &format!("building {id}")).await;
    c.execute("window.imgMarker = 42;", vec![]).await.unwrap();
    std::fs::write(&go, b"").unwrap();
    wait_for_line(c, "done: wait-for=").await;
    let marker = c.execute("return window.imgMarker;", vec![]).await.unwrap();
    assert_eq!(marker, json!(42), "the line came by reloading, not live");
    browser.screenshot("web-4-job-live").await.unwrap();

    // A reload shows what was there once, and the tail goes on from there.
    c.refresh().await.unwrap();
    wait_for_line(c, "done: 2").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#downloads"))
        .await
        .unwrap();
    let log = log_text(c).await;
    assert_eq!(log.matches("done: wait-for=").count(), 1, "{log}");
    assert_eq!(log.matches("done: 2").count(), 1, "{log}");
    let phase = c
        .find(Locator::Css("#phase"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(phase, "Succeeded");
    browser.screenshot("web-5-job-done").await.unwrap();

    // Download the image in the page and check it against what the page says.
    let link = c
        .find(Locator::Css("#downloads a[download]"))
        .await
        .unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    let row_text = c
        .find(Locator::Css("#downloads tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fetched = c
        .execute(
            "return (async (href) => {
                const r = await fetch(href);
                const body = await r.arrayBuffer();
                const digest = await crypto.subtle.digest('SHA-256', body);
                const hex = Array.from(new Uint8Array(digest))
                    .map((b) => b.toString(16).padStart(2, '0')).join('');
                const part = await fetch(href, { headers: { Range: 'bytes=0-9' } });
                return [r.status, body.byteLength, hex, part.status,
                        (await part.arrayBuffer()).byteLength];
            })(arguments[0]);",
            vec![json!(href)],
        )
        .await
        .unwrap();
    let [status, size, sha, part_status, part_size] = fetched.as_array().unwrap().as_slice() else {
        panic!("{fetched}");
    };
    assert_eq!(
        (status, part_status, part_size),
        (&json!(200), &json!(206), &json!(10))
    );
    let sha = sha.as_str().unwrap();
    assert!(row_text.contains(sha), "{row_text} lacks {sha}");
    let on_disk = std::fs::metadata(
        site.images()
            .join(&id)
            .join(href.rsplit('/').next().unwrap()),
    )
    .unwrap()
    .len();
    assert_eq!(size.as_u64(), Some(on_disk));

    browser.close().await;
    site.stop().await;
}
