//! Everything one run holds that must not outlive it: the work directory, the overlay, the
//! share, QEMU and the SSH session. [`Session::teardown`] ends them in order (guest powered
//! off, QEMU stopped, virtiofsd stopped, files removed); if the run is dropped instead (a
//! panic), each part's own `Drop` still kills its process or removes its file.

use std::time::Duration;

use crate::overlay::Overlay;
use crate::share::VirtioFs;
use crate::ssh::Guest;
use crate::vm::Vm;

/// How long a powered-off guest gets to stop before QEMU is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long the power-off command may take.
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(5);

/// The live parts of a run.
#[derive(Default)]
pub(crate) struct Session {
    pub(crate) work: Option<tempfile::TempDir>,
    pub(crate) overlay: Option<Overlay>,
    pub(crate) share: Option<VirtioFs>,
    pub(crate) cache_share: Option<VirtioFs>,
    pub(crate) vm: Option<Vm>,
    pub(crate) guest: Option<Guest>,
}

impl Session {
    /// Ends everything; returns what happened to QEMU, for the log.
    pub(crate) async fn teardown(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(guest) = self.guest.take() {
            // Flush, then power off at once (sysrq: the image is already out).
            let mut ignore = |_: crate::ssh::Stream, _: &[u8]| {};
            let poweroff = guest.run("sync; echo o > /proc/sysrq-trigger", &[], &mut ignore);
            if tokio::time::timeout(POWEROFF_TIMEOUT, poweroff)
                .await
                .is_err()
            {
                notes.push("the guest did not answer the power-off request".to_owned());
            }
            let _ = tokio::time::timeout(POWEROFF_TIMEOUT, guest.close()).await;
        }
        if let Some(mut vm) = self.vm.take() {
            if let Some(status) = vm.exit_status() {
                notes.push(format!("QEMU had already ended ({status})"));
            }
            vm.stop(STOP_GRACE).await;
        }
        for share in [self.share.take(), self.cache_share.take()]
            .into_iter()
            .flatten()
        {
            share.stop().await;
        }
        self.overlay.take();
        if let Some(work) = self.work.take()
            && let Err(e) = work.close()
        {
            notes.push(format!("work directory not removed: {e}"));
        }
        notes
    }
}
