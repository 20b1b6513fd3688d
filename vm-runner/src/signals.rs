//! SIGTERM and SIGINT (a Pod's deletion, Ctrl-C) as a cancel flag that long-running work
//! watches, so every path out goes through its cleanup.

use tokio::sync::watch;

/// A flag that turns true on the first SIGTERM or SIGINT. Call inside a Tokio runtime.
pub fn cancel_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("asked to stop: cleaning up");
        let _ = tx.send(true);
        // Keep the sender, so receivers see `true` rather than a closed channel.
        std::future::pending::<()>().await;
    });
    rx
}
