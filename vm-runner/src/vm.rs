//! The VM: QEMU with the overlay disk, the base kernel booted directly, user-mode networking
//! with the guest's SSH port forwarded to a loopback port, the serial console on QEMU's
//! stdout (watched for the readiness marker and the host key), and the output share. QEMU is
//! killed when the [`Vm`] is dropped.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::basedisk::{BaseDisk, HOST_KEY_MARKER, READY_MARKER, SSH_KEY_PARAMETER};
use crate::share;

/// Serial and stderr lines kept for error messages.
const TAIL_LINES: usize = 40;

/// What the VM is made of.
#[derive(Debug, Clone, Copy)]
pub struct VmConfig<'a> {
    /// `kvm` or `tcg`.
    pub accel: &'a str,
    /// Guest memory.
    pub memory_mib: u32,
    /// Guest CPUs.
    pub cpus: u32,
    /// The base disk (for its kernel, initrd and command line).
    pub base: &'a BaseDisk,
    /// The job's overlay disk.
    pub disk: &'a Path,
    /// The loopback port forwarded to the guest's port 22.
    pub ssh_port: u16,
    /// The runner's public key, an OpenSSH line, given to the guest on the kernel command line.
    pub ssh_public_key: &'a str,
    /// virtiofsd's socket, when the output is shared.
    pub share_socket: Option<&'a Path>,
    /// The package cache's virtiofsd socket, when there is one (only with `share_socket`).
    pub cache_socket: Option<&'a Path>,
}

/// QEMU's arguments for `config` (pure, so it is tested without QEMU).
pub fn qemu_args(config: &VmConfig<'_>) -> Vec<OsString> {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode(config.ssh_public_key.trim());
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(a.into());
    push("-accel");
    push(config.accel);
    // Under KVM the guest gets the host's CPU. Under TCG QEMU's default model stays: `-cpu
    // max` made the creator's bootstrap 10 % slower here (emulated vector units).
    if config.accel == "kvm" {
        push("-cpu");
        push("host");
    }
    push("-nodefaults");
    push("-no-user-config");
    push("-display");
    push("none");
    push("-monitor");
    push("none");
    push("-serial");
    push("stdio");
    push("-smp");
    push(&config.cpus.to_string());
    push("-m");
    push(&format!("{}M", config.memory_mib));
    // sshd stalls for entropy without a random device.
    push("-device");
    push("virtio-rng-pci");
    push("-netdev");
    push(&format!(
        "user,id=net0,hostfwd=tcp:127.0.0.1:{}-:22",
        config.ssh_port
    ));
    push("-device");
    push("virtio-net-pci,netdev=net0");
    push("-append");
    push(&format!("{SSH_KEY_PARAMETER}={key} {}", config.base.append));
    if let Some(socket) = config.share_socket {
        // virtio-fs needs guest memory QEMU can share with virtiofsd.
        push("-object");
        push(&format!(
            "memory-backend-memfd,id=mem,size={}M,share=on",
            config.memory_mib
        ));
        push("-numa");
        push("node,memdev=mem");
        let shares = [(Some(socket), "vfs", share::TAG)].into_iter().chain([(
            config.cache_socket,
            "vfscache",
            share::CACHE_TAG,
        )]);
        for (socket, id, tag) in shares {
            let Some(socket) = socket else { continue };
            push("-chardev");
            push(&format!(
                "socket,id={id},path={}",
                share::socket_arg(socket, sockets_dir(config)).display()
            ));
            push("-device");
            // A longer queue keeps more writes in flight (measured: ~15 % faster for large
            // files).
            push(&format!(
                "vhost-user-fs-pci,chardev={id},tag={tag},queue-size=1024"
            ));
        }
    }
    // QEMU may run in the sockets' directory (see `Vm::start`): files by absolute path.
    let mut drive = OsString::from("file=");
    drive.push(absolute(config.disk));
    drive.push(",if=virtio,format=qcow2,cache=unsafe,discard=unmap");
    args.push("-drive".into());
    args.push(drive);
    args.push("-kernel".into());
    args.push(absolute(&config.base.kernel));
    args.push("-initrd".into());
    args.push(absolute(&config.base.initrd));
    args
}

/// `path` made absolute against the current directory (as it is, if that cannot be read).
fn absolute(path: &Path) -> OsString {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .into_os_string()
}

/// Why the guest did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// QEMU could not be started.
    #[error("starting {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// QEMU ended before the guest was ready.
    #[error("QEMU exited before the guest was ready ({status}): {detail}")]
    Exited {
        /// How it ended.
        status: String,
        /// Its last words.
        detail: String,
    },
    /// The guest did not announce SSH in time.
    #[error("the guest did not become ready within {timeout:?}; its console ended with: {console}")]
    Timeout {
        /// The limit.
        timeout: Duration,
        /// The console's last lines.
        console: String,
    },
}

/// A running VM.
#[derive(Debug)]
pub struct Vm {
    child: Child,
    serial: mpsc::UnboundedReceiver<String>,
    tail: Arc<Mutex<VecDeque<String>>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

fn remember(tail: &Mutex<VecDeque<String>>, line: String) {
    let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line);
}

fn joined(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
    tail.iter().cloned().collect::<Vec<_>>().join(" | ")
}

/// The directory QEMU runs in: the one with the output share's socket, which QEMU then
/// names relatively (see [`share::socket_arg`]).
fn sockets_dir<'a>(config: &VmConfig<'a>) -> Option<&'a Path> {
    config.share_socket.and_then(Path::parent)
}

impl Vm {
    /// Starts QEMU.
    pub fn start(qemu: &Path, config: &VmConfig<'_>) -> Result<Vm, BootError> {
        let mut command = Command::new(qemu);
        if let Some(dir) = sockets_dir(config) {
            command.current_dir(dir);
        }
        let mut child = command
            .args(qemu_args(config))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BootError::Spawn {
                program: qemu.display().to_string(),
                source,
            })?;
        let (tx, serial) = mpsc::unbounded_channel();
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            let tail = tail.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(out).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let line = line.trim_end_matches('\r').to_owned();
                    tracing::trace!(serial = %line);
                    remember(&tail, line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let tail = stderr_tail.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    remember(&tail, line);
                }
            });
        }
        Ok(Vm {
            child,
            serial,
            tail,
            stderr_tail,
        })
    }

    /// Waits for the guest's host key and readiness marker; returns the host key line.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<String, BootError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut host_key = None;
        loop {
            tokio::select! {
                line = self.serial.recv() => match line {
                    Some(line) => {
                        if let Some(key) = line.strip_prefix(HOST_KEY_MARKER) {
                            host_key = Some(key.trim().to_owned());
                        } else if line.trim() == READY_MARKER
                            && let Some(key) = host_key.take() {
                                return Ok(key);
                            }
                    }
                    None => return Err(self.exited().await),
                },
                () = tokio::time::sleep_until(deadline) => {
                    return Err(BootError::Timeout { timeout, console: joined(&self.tail) });
                }
            }
        }
    }

    async fn exited(&mut self) -> BootError {
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .map_or_else(|_| "still running".to_owned(), |s| describe(s.ok()));
        // Let the stderr reader catch up with QEMU's last words.
        tokio::time::sleep(Duration::from_millis(50)).await;
        BootError::Exited {
            status,
            detail: joined(&self.stderr_tail),
        }
    }

    /// How QEMU ended, if it has.
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe(Some(status))),
            _ => None,
        }
    }

    /// The console's last lines.
    pub fn console_tail(&self) -> String {
        joined(&self.tail)
    }

    /// Waits up to `grace` for QEMU to end (after the guest powered off), then kills it.
    pub async fn stop(mut self, grace: Duration) {
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn describe(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        None => "unknown status".to_owned(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => s.to_string(),
        },
    }
}

/// A free loopback port for the SSH forward (QEMU binds it a moment later).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn base() -> BaseDisk {
        BaseDisk {
            disk: PathBuf::from("/b/base.qcow2"),
            kernel: PathBuf::from("/b/base.vmlinuz"),
            initrd: PathBuf::from("/b/base.initrd"),
            append: "root=/dev/vda rw console=ttyS0".into(),
            description: String::new(),
        }
    }

    fn args(share: Option<&Path>) -> Vec<String> {
        args_with_cache(share, None)
    }

    fn args_with_cache(share: Option<&Path>, cache: Option<&Path>) -> Vec<String> {
        let base = base();
        let config = VmConfig {
            accel: "tcg",
            memory_mib: 1024,
            cpus: 2,
            base: &base,
            disk: Path::new("/w/job.qcow2"),
            ssh_port: 2222,
            ssh_public_key: "ssh-ed25519 AAAA test",
            share_socket: share,
            cache_socket: cache,
        };
        qemu_args(&config)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    fn after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn qemu_boots_the_base_kernel_on_the_overlay_with_ssh_forwarded() {
        let a = args(None);
        assert_eq!(after(&a, "-accel"), ["tcg"]);
        assert_eq!(after(&a, "-kernel"), ["/b/base.vmlinuz"]);
        assert_eq!(
            after(&a, "-drive"),
            ["file=/w/job.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap"]
        );
        assert_eq!(
            after(&a, "-netdev"),
            ["user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22"]
        );
        let append = after(&a, "-append")[0];
        // base64("ssh-ed25519 AAAA test")
        assert_eq!(
            append,
            "img.ssh_key=c3NoLWVkMjU1MTkgQUFBQSB0ZXN0 root=/dev/vda rw console=ttyS0"
        );
        assert!(after(&a, "-device").contains(&"virtio-rng-pci"));
        assert!(!a.iter().any(|x| x.contains("vhost-user-fs")));
    }

    #[test]
    fn the_share_adds_shared_memory_and_the_vhost_user_device() {
        let a = args(Some(Path::new("/w/virtiofs.sock")));
        assert_eq!(
            after(&a, "-object"),
            ["memory-backend-memfd,id=mem,size=1024M,share=on"]
        );
        assert_eq!(after(&a, "-chardev"), ["socket,id=vfs,path=virtiofs.sock"]);
        assert!(
            after(&a, "-device")
                .contains(&"vhost-user-fs-pci,chardev=vfs,tag=imgout,queue-size=1024")
        );
        assert!(!a.iter().any(|x| x.contains("imgcache")));
    }

    #[test]
    fn the_package_cache_is_a_second_device_on_the_same_memory() {
        let a = args_with_cache(
            Some(Path::new("/w/virtiofs.sock")),
            Some(Path::new("/w/virtiofs-cache.sock")),
        );
        assert_eq!(after(&a, "-object").len(), 1);
        assert_eq!(
            after(&a, "-chardev"),
            [
                "socket,id=vfs,path=virtiofs.sock",
                "socket,id=vfscache,path=virtiofs-cache.sock"
            ]
        );
        assert!(
            after(&a, "-device")
                .contains(&"vhost-user-fs-pci,chardev=vfscache,tag=imgcache,queue-size=1024")
        );
    }
}
