//! Running one Pod: volumes, init containers in order, containers together, restart policy,
//! `activeDeadlineSeconds`, termination messages, and the status written after every change.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use super::paths::PathMap;
use super::status::{CState, PodState, containers, publish};
use super::{KubeletConfig, env, finish_deletion, message, volumes};
use crate::apiserver::cluster::Cluster;
use crate::apiserver::meta;
use crate::apiserver::store::Stored;

/// The log file of a container.
pub(crate) fn log_path(root: &Path, uid: &str, container: &str) -> PathBuf {
    root.join("pods")
        .join(uid)
        .join("containers")
        .join(container)
        .join("log")
}

/// What a container needs to start.
struct Prepared {
    index: usize,
    init: bool,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    workdir: Option<PathBuf>,
    log: PathBuf,
    termination_log: PathBuf,
    fallback_to_logs: bool,
}

fn prepare(
    cluster: &Cluster,
    pod: &Value,
    container: &Value,
    dir: &Path,
    vols: &std::collections::BTreeMap<String, PathBuf>,
    index: usize,
    init: bool,
) -> Result<Prepared, String> {
    let name = container["name"].as_str().unwrap_or("");
    let cdir = dir.join("containers").join(name);
    std::fs::create_dir_all(&cdir).map_err(|e| format!("{}: {e}", cdir.display()))?;
    let termination_log = cdir.join("termination-log");
    std::fs::write(&termination_log, b"").map_err(|e| e.to_string())?;
    let container_path = container["terminationMessagePath"]
        .as_str()
        .unwrap_or("/dev/termination-log");
    let raw_env = env::environment(cluster, pod, container)?;
    let paths = PathMap::for_container(
        container,
        vols,
        (container_path, &termination_log),
        &raw_env,
    )?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str())
            .map(|s| paths.rewrite(s))
            .collect()
    };
    let mut argv = strings(&container["command"]);
    if argv.is_empty() {
        return Err(format!(
            "container {name}: kubelet mode runs no images; give the container a command"
        ));
    }
    argv.extend(strings(&container["args"]));
    let env = raw_env
        .into_iter()
        .map(|(k, v)| (k, paths.rewrite(&v)))
        .collect();
    let workdir = container["workingDir"]
        .as_str()
        .map(|w| PathBuf::from(paths.rewrite(w)));
    Ok(Prepared {
        index,
        init,
        argv,
        env,
        workdir,
        log: cdir.join("log"),
        termination_log,
        fallback_to_logs: container["terminationMessagePolicy"] == "FallbackToLogsOnError",
    })
}

/// Runs one container once: its exit code, or `None` if it could not start (with the reason).
async fn run_once(
    p: &Prepared,
    state: &Mutex<PodState>,
    kill: &mut watch::Receiver<Option<u64>>,
    report: &(dyn Fn() + Send + Sync),
) -> Result<i32, String> {
    // Every run starts with an empty termination message file, and only its own part of the
    // log can stand in for one: on a real node each run is a new container with new files.
    std::fs::write(&p.termination_log, b"").map_err(|e| e.to_string())?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p.log)
        .map_err(|e| e.to_string())?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let err_log = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = tokio::process::Command::new(&p.argv[0]);
    cmd.args(&p.argv[1..])
        .env_clear()
        .envs(p.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err_log))
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &p.workdir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", p.argv[0]))?;
    let pid = child.id().unwrap_or(0);
    let started = meta::now();
    set(
        state,
        p,
        CState::Running {
            started: started.clone(),
            pid,
        },
    );
    report();
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(|e| e.to_string())?,
            changed = kill.changed() => {
                if changed.is_err() { continue; }
                let Some(grace) = *kill.borrow() else { continue };
                let pgid = Pid::from_raw(i32::try_from(pid).unwrap_or(0));
                let _ = killpg(pgid, Signal::SIGTERM);
                let exited = tokio::time::timeout(Duration::from_secs(grace), child.wait()).await;
                let status = match exited {
                    Ok(s) => s.map_err(|e| e.to_string())?,
                    Err(_) => {
                        let _ = killpg(pgid, Signal::SIGKILL);
                        child.wait().await.map_err(|e| e.to_string())?
                    }
                };
                // Whatever the container left running in its group goes too.
                let _ = killpg(pgid, Signal::SIGKILL);
                break status;
            }
        }
    };
    use std::os::unix::process::ExitStatusExt;
    let exit = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(9));
    let reason = if exit == 0 { "Completed" } else { "Error" };
    set(
        state,
        p,
        CState::Terminated {
            exit,
            reason: reason.to_owned(),
            message: message::read(
                &p.termination_log,
                &p.log,
                log_start,
                p.fallback_to_logs,
                exit,
            ),
            started,
            finished: meta::now(),
            pid,
        },
    );
    report();
    Ok(exit)
}

fn set(state: &Mutex<PodState>, p: &Prepared, s: CState) {
    let mut st = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let list = if p.init { &mut st.init } else { &mut st.main };
    if let Some(c) = list.get_mut(p.index) {
        c.state = s;
    }
}

/// Runs a container under its restart policy until it is done or killed.
async fn run_container(
    p: Prepared,
    policy: String,
    state: Arc<Mutex<PodState>>,
    mut kill: watch::Receiver<Option<u64>>,
    report: Arc<dyn Fn() + Send + Sync>,
) -> i32 {
    let mut backoff = Duration::from_millis(100);
    loop {
        let exit = match run_once(&p, &state, &mut kill, report.as_ref()).await {
            Ok(exit) => exit,
            Err(message) => {
                set(
                    &state,
                    &p,
                    CState::Terminated {
                        exit: 128,
                        reason: "StartError".to_owned(),
                        message,
                        started: meta::now(),
                        finished: meta::now(),
                        pid: 0,
                    },
                );
                report();
                128
            }
        };
        let killed = kill.borrow().is_some();
        let again = !killed
            && !p.init
            && match policy.as_str() {
                "Always" => true,
                "OnFailure" => exit != 0,
                _ => false,
            }
            || (!killed && p.init && policy != "Never" && exit != 0);
        if !again {
            return exit;
        }
        {
            let mut st = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let list = if p.init { &mut st.init } else { &mut st.main };
            if let Some(c) = list.get_mut(p.index) {
                c.restarts += 1;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = kill.changed() => return exit,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Runs a Pod to completion (or until it is killed), then finishes its deletion if asked.
pub(crate) async fn run_pod(
    cluster: Arc<Cluster>,
    config: Arc<KubeletConfig>,
    pod: Arc<Stored>,
    killed: oneshot::Receiver<u64>,
) {
    let value = pod.value.clone();
    let spec = &value["spec"];
    let uid = value["metadata"]["uid"].as_str().unwrap_or("").to_owned();
    let dir = config.root.join("pods").join(&uid);
    let policy = spec["restartPolicy"]
        .as_str()
        .unwrap_or("Always")
        .to_owned();
    let restart_never = policy == "Never";
    let state = Arc::new(Mutex::new(PodState {
        init: containers(spec, "initContainers"),
        main: containers(spec, "containers"),
        start_time: meta::now(),
        deadline_exceeded: false,
        message_limit: message::per_container_limit(spec),
    }));
    let report: Arc<dyn Fn() + Send + Sync> = {
        let (cluster, pod, state) = (cluster.clone(), pod.clone(), state.clone());
        Arc::new(move || {
            let status = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .status(restart_never);
            publish(&cluster, &pod, status);
        })
    };
    report();
    // Kill requests (deletion, shutdown, deadline) reach every container through this.
    let (kill_tx, kill_rx) = watch::channel::<Option<u64>>(None);
    let deleted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (kill_tx, deleted) = (kill_tx.clone(), deleted.clone());
        tokio::spawn(async move {
            if let Ok(grace) = killed.await {
                deleted.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = kill_tx.send(Some(grace));
            }
        });
    }
    if let Some(deadline) = spec["activeDeadlineSeconds"].as_u64() {
        let (kill_tx, state, report) = (kill_tx.clone(), state.clone(), report.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(deadline)).await;
            if kill_tx.borrow().is_none() {
                state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .deadline_exceeded = true;
                let _ = kill_tx.send(Some(0));
                report();
            }
        });
    }
    // Volumes, retried until they can be made (a ConfigMap may appear later), as a kubelet does.
    let vols = loop {
        match volumes::materialize(&cluster, &value, &dir.join("volumes"), &config.root) {
            Ok(v) => break v,
            Err(message) => {
                {
                    let mut guard = state
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let st = &mut *guard;
                    for c in st.init.iter_mut().chain(st.main.iter_mut()) {
                        c.state = CState::Waiting {
                            reason: "CreateContainerConfigError".into(),
                            message: message.clone(),
                        };
                    }
                }
                report();
                let mut k = kill_rx.clone();
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = k.changed() => {
                        if deleted.load(std::sync::atomic::Ordering::SeqCst) {
                            finish_deletion(&cluster, &pod);
                        }
                        return;
                    }
                }
            }
        }
    };
    let mut prepared_init = Vec::new();
    let mut prepared_main = Vec::new();
    let mut setup_error = None;
    for (key, init, out) in [
        ("initContainers", true, &mut prepared_init),
        ("containers", false, &mut prepared_main),
    ] {
        for (i, c) in spec[key].as_array().into_iter().flatten().enumerate() {
            match prepare(&cluster, &value, c, &dir, &vols, i, init) {
                Ok(p) => out.push(p),
                Err(e) => setup_error = Some(e),
            }
        }
    }
    if let Some(message) = setup_error {
        {
            let mut guard = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let st = &mut *guard;
            for c in st.init.iter_mut().chain(st.main.iter_mut()) {
                c.state = CState::Terminated {
                    exit: 128,
                    reason: "StartError".into(),
                    message: message.clone(),
                    started: meta::now(),
                    finished: meta::now(),
                    pid: 0,
                };
            }
        }
        report();
        return;
    }
    let mut init_ok = true;
    for p in prepared_init {
        if run_container(
            p,
            policy.clone(),
            state.clone(),
            kill_rx.clone(),
            report.clone(),
        )
        .await
            != 0
        {
            init_ok = false;
            break;
        }
    }
    if init_ok && kill_rx.borrow().is_none() {
        let runs = prepared_main.into_iter().map(|p| {
            run_container(
                p,
                policy.clone(),
                state.clone(),
                kill_rx.clone(),
                report.clone(),
            )
        });
        futures::future::join_all(runs).await;
    }
    report();
    if deleted.load(std::sync::atomic::Ordering::SeqCst) {
        finish_deletion(&cluster, &pod);
    }
}
