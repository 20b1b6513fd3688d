//! A whole IMG site on loopback for the web frontend's tests (`imgctl`, the browser tests):
//! the test world ([`world::Env`]: the loopback API server in kubelet mode, the ImageJob CRD,
//! the `default` namespace with its claims, the fake runner as the runner), an operator, the
//! frontend's watch of the jobs, and the frontend itself served by axum on `127.0.0.1:PORT`.
//!
//! ```ignore
//! let site = Site::start("succeed", |_| {}).await;          // no authentication
//! let page = reqwest_or_browser.get(site.url("/queue/"));    // http://127.0.0.1:PORT/queue/
//! site.stop().await;                                        // or just drop it
//! ```
//!
//! Jobs whose kickstart has no `# fake-runner:` line (template jobs) do what `default_words`
//! says (see `img-fake-runner`). The frontend serves the images volume of namespace
//! `default` ([`Site::images`]). [`Site::stop`] stops the frontend and the operator cleanly;
//! dropping a `Site` aborts them, and the world's drop kills every runner process.

#![allow(dead_code)] // each test uses part of it (imgctl's, the browser's)

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use img_operator::run::Operator;
use img_web::app::{AppState, router};
use img_web::settings::Settings;
use tokio::task::JoinHandle;

use crate::world::Env;

/// A running site.
pub(crate) struct Site {
    /// The world: API server, client, the fake runner's record.
    pub(crate) env: Env,
    /// The operator (taken by [`Site::stop`]).
    pub(crate) operator: Option<Operator>,
    /// The frontend's base URL: `http://127.0.0.1:PORT`, no trailing slash.
    pub(crate) base: String,
    /// Where the frontend listens.
    pub(crate) addr: SocketAddr,
    /// The frontend's state (its settings, its store of jobs, its metrics).
    pub(crate) state: AppState,
    server: Option<JoinHandle<()>>,
    watch: JoinHandle<()>,
}

impl Site {
    /// Starts a site whose fake runner does `default_words` for template jobs, with the
    /// frontend's settings [`Settings::local`]`("default")` changed by `tweak` (e.g. to put it
    /// in authenticating-proxy mode: `|s| s.auth = AuthMode::Proxy { .. }`).
    pub(crate) async fn start(default_words: &str, tweak: impl FnOnce(&mut Settings)) -> Site {
        let env = Env::start().await;
        let operator = Operator::start(
            env.client.clone(),
            env.config_with_default(default_words, &[]),
        )
        .await
        .expect("the operator starts");
        let (reader, watch) = img_web::store::watch_jobs(env.client.clone());
        let watch = tokio::spawn(watch);
        let mut settings = Settings::local("default");
        tweak(&mut settings);
        let state = AppState::new(
            env.images_dir("default"),
            reader.clone(),
            env.client.clone(),
            settings,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let app = router(state.clone());
        let stopping = state.stopping.clone();
        let server = tokio::spawn(async move {
            let mut stopped = stopping.subscribe();
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "the test frontend stopped");
            }
        });
        // Serve once the store has its first list, so a first request sees what exists.
        tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready())
            .await
            .expect("the frontend's watch lists the jobs within 10 s")
            .expect("the watch runs");
        Site {
            env,
            operator: Some(operator),
            base: format!("http://{addr}"),
            addr,
            state,
            server: Some(server),
            watch,
        }
    }

    /// `base` + `path` (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The images volume the frontend serves (namespace `default`'s): a job's files are in
    /// `<images>/<namespace>/<name>/`.
    pub(crate) fn images(&self) -> PathBuf {
        self.state.images.clone()
    }

    /// Stops the frontend (log streams end, requests in flight finish) and the operator
    /// (its Lease released); the world goes with the `Site`.
    pub(crate) async fn stop(mut self) {
        self.state.stopping.send_replace(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        self.watch.abort();
        if let Some(operator) = self.operator.take() {
            operator
                .shutdown()
                .await
                .expect("the operator stops cleanly");
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.state.stopping.send_replace(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.watch.abort();
        if let Some(operator) = self.operator.take() {
            operator.crash();
        }
    }
}
