//! The browser harness (`img_tests::browser`) works here: headless Chromium loads a page,
//! takes typed input, runs its script, is waited for and photographed, and no chromedriver or
//! Chromium process outlives a test, whether it closes the browser, drops it or panics.
//! Skipped with a message without chromium and chromium-driver, unless
//! `IMG_REQUIRE_BROWSER=1` (set by `scripts/test`), which turns the skip into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use img_tests::browser::{Browser, processes_naming};
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A form with a text input, and a script that appends a line to `<pre id=log>` after 300 ms.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>IMG browser smoke</title></head>
<body>
<h1>IMG browser smoke</h1>
<form id="form" onsubmit="return false">
  <label for="name">Image name</label> <input id="name" name="name" type="text">
</form>
<pre id="log">page loaded
</pre>
<script>
setTimeout(function () {
  document.getElementById("log").appendChild(document.createTextNode("ready after 300 ms\n"));
}, 300);
</script>
</body></html>
"#;

/// `PAGE` as a `data:` URL (everything but unreserved characters percent-encoded).
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Waits until no process is left in the browser's process group `pgid` (zombies included)
/// and none names its directory `dir` (the crash handlers, which leave the group).
async fn assert_nothing_left(pgid: u32, dir: &Path) {
    let pgid = Pid::from_raw(i32::try_from(pgid).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let group = killpg(pgid, None::<Signal>);
        let strays = processes_naming(dir);
        if group == Err(Errno::ESRCH) && strays.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "10 s after the browser went: process group {pgid}: {group:?}, processes naming {}: {strays:?}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn chromium_fills_a_form_waits_for_a_script_and_takes_a_screenshot() {
    if !Browser::available() {
        return;
    }
    let browser = Browser::start().await.expect("the browser starts");
    let (pgid, dir) = (browser.process_group(), browser.dir().to_path_buf());
    assert!(
        !processes_naming(&dir).is_empty(),
        "Chromium runs with its profile in {}",
        dir.display()
    );
    browser.goto(&data_url(PAGE)).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "IMG browser smoke");

    let input = browser.find(Locator::Id("name")).await.unwrap();
    input.send_keys("netbook-ia32 überbuild").await.unwrap();
    let value = input.prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("netbook-ia32 überbuild"));

    let log = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//pre[@id='log'][contains(., 'ready after 300 ms')]",
        ))
        .await
        .expect("the script appends its line");
    assert_eq!(log.text().await.unwrap(), "page loaded\nready after 300 ms");

    let png = browser.screenshot("smoke form").await.unwrap();
    assert!(png.ends_with("smoke_form.png"), "{}", png.display());
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    assert!(bytes.len() > 1000, "a 1280x1024 page is more than a header");
    eprintln!("screenshot: {}", png.display());

    browser.close().await;
    assert_nothing_left(pgid, &dir).await;
}

#[tokio::test]
async fn dropping_or_panicking_with_the_browser_leaves_no_process() {
    if !Browser::available() {
        return;
    }
    let browser = Browser::start().await.expect("the browser starts");
    let (pgid, dir) = (browser.process_group(), browser.dir().to_path_buf());
    browser.goto("data:text/html,dropped").await.unwrap();
    drop(browser);
    assert_nothing_left(pgid, &dir).await;

    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let browser = Browser::start().await.expect("the browser starts");
        tx.send((browser.process_group(), browser.dir().to_path_buf()))
            .unwrap();
        browser.goto("data:text/html,panicked").await.unwrap();
        panic!("deliberate panic: a browser test failing while it holds the browser");
    });
    let (pgid, dir) = rx.await.unwrap();
    assert!(task.await.unwrap_err().is_panic());
    assert_nothing_left(pgid, &dir).await;
}
