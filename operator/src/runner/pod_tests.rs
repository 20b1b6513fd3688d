use super::*;
use crate::runner::fixtures::{config, description, job};

#[test]
fn the_runner_pod_runs_vm_runner_with_its_volumes_and_limits() {
    let pod = runner_pod(&job(), &description(), &config());
    assert_eq!(pod.metadata.name.as_deref(), Some("nb-runner"));
    let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("ImageJob", Some(true))
    );
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["app.kubernetes.io/component"], "runner");
    assert_eq!(labels["img.meego.com/job-uid"], "u-1");
    let spec = pod.spec.unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.active_deadline_seconds, Some(600 + 120));
    assert_eq!(spec.automount_service_account_token, Some(false));
    let c = &spec.containers[0];
    assert_eq!(
        c.command.as_deref().unwrap(),
        [
            "vm-runner",
            "run",
            "--job",
            "/etc/img/job/job.json",
            "--images",
            "/images",
            "--base",
            "/base",
            "--termination-log",
            "/dev/termination-log"
        ]
    );
    let res = c.resources.as_ref().unwrap();
    assert_eq!(res.requests.as_ref().unwrap()["cpu"].0, "4");
    assert_eq!(res.limits.as_ref().unwrap()["memory"].0, "1536Mi");
    assert_eq!(
        res.limits.as_ref().unwrap()["devices.kubevirt.io/kvm"].0,
        "1"
    );
    let volumes = spec.volumes.unwrap();
    let claim = |n: &str| {
        volumes
            .iter()
            .find(|v| v.name == n)
            .and_then(|v| v.persistent_volume_claim.clone())
            .unwrap()
    };
    assert_eq!(claim("images").claim_name, "img-images");
    assert_eq!(claim("base").read_only, Some(true));
    let mounts = c.volume_mounts.as_ref().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m.mount_path == "/base" && m.read_only == Some(true))
    );
    // A read-only root; scratch space (the VM's overlay, sockets) is an emptyDir.
    let security = c.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    let scratch = mounts.iter().find(|m| m.name == "scratch").unwrap();
    assert_eq!(scratch.read_only, Some(false));
    assert!(
        volumes
            .iter()
            .any(|v| v.name == "scratch" && v.empty_dir.is_some())
    );
    let tmpdir = c
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.name == "TMPDIR")
        .unwrap();
    assert_eq!(tmpdir.value.as_deref(), Some(scratch.mount_path.as_str()));
    let pod_security = spec.security_context.unwrap();
    assert_eq!(
        pod_security.supplemental_groups,
        Some(vec![36]),
        "the kvm group"
    );
    assert_eq!(pod_security.run_as_non_root, Some(true));
}

#[test]
fn with_a_package_cache_claim_runners_mount_it_and_say_where() {
    let plain = runner_pod(&job(), &description(), &config());
    assert!(
        !plain
            .spec
            .unwrap()
            .volumes
            .unwrap()
            .iter()
            .any(|v| v.name == "packages"),
        "no cache unless configured"
    );
    let mut cfg = config();
    cfg.package_cache_claim = Some("img-packages".into());
    let spec = runner_pod(&job(), &description(), &cfg).spec.unwrap();
    let volume = spec
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "packages")
        .unwrap();
    let claim = volume.persistent_volume_claim.unwrap();
    assert_eq!(claim.claim_name, "img-packages");
    assert_eq!(claim.read_only, Some(false));
    let c = &spec.containers[0];
    let mount = c
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.name == "packages")
        .unwrap();
    assert_eq!(mount.mount_path, "/var/cache/img/packages");
    let command = c.command.as_ref().unwrap();
    assert_eq!(
        command[command.len() - 2..],
        ["--package-cache", "/var/cache/img/packages"]
    );
}

#[test]
fn a_job_may_name_its_own_claim_and_node_selector() {
    let mut j = job();
    j.spec.output.claim_name = Some("team-images".into());
    j.spec
        .runner
        .node_selector
        .insert("kvm".into(), "yes".into());
    let pod = runner_pod(&j, &description(), &config());
    let spec = pod.spec.unwrap();
    assert_eq!(spec.node_selector.unwrap()["kvm"], "yes");
    assert!(spec.volumes.unwrap().iter().any(|v| {
        v.persistent_volume_claim
            .as_ref()
            .is_some_and(|c| c.claim_name == "team-images")
    }));
}

#[test]
fn the_secret_holds_the_description_and_cleanup_removes_the_job_directory() {
    let secret = job_secret(&job(), &description()).unwrap();
    assert_eq!(secret.metadata.name.as_deref(), Some("nb-job"));
    let json = &secret.data.unwrap()["job.json"].0;
    let back: JobDescription = serde_json::from_slice(json).unwrap();
    assert_eq!(back, description());

    let pod = cleanup_pod(&job(), &config());
    assert_eq!(pod.metadata.name.as_deref(), Some("nb-cleanup"));
    let spec = pod.spec.unwrap();
    assert_eq!(
        spec.containers[0].command.as_deref().unwrap(),
        ["vm-runner", "clean", "--dir", "/images/team/nb"]
    );
}
