use super::*;
use crate::runner::fixtures::{config, description, job};
use serde_json::Value;

fn settings() -> KubevirtSettings {
    KubevirtSettings {
        base_disk_claim: "img-kubevirt-base".into(),
    }
}

fn objects_with(job: &ImageJob, keys: &SshKeys) -> KubevirtObjects {
    kubevirt_objects(job, &description(), &config(), &settings(), keys).unwrap()
}

fn keys() -> SshKeys {
    generate_ssh_keys().unwrap()
}

/// The VMI as the API server receives it.
fn vmi_json(objects: &KubevirtObjects) -> Value {
    serde_json::to_value(&objects.vmi).unwrap()
}

/// The element of the array at `pointer` whose `name` is `name`.
fn named<'a>(json: &'a Value, pointer: &str, name: &str) -> &'a Value {
    json.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{pointer} is not an array in {json:#}"))
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {pointer}"))
}

#[test]
fn the_vmi_has_kubevirts_field_paths_for_cpu_memory_and_devices() {
    let objects = objects_with(&job(), &keys());
    let vmi = vmi_json(&objects);
    assert_eq!(vmi["apiVersion"], "kubevirt.io/v1");
    assert_eq!(vmi["kind"], "VirtualMachineInstance");
    assert_eq!(vmi["metadata"]["name"], "nb-vm");
    assert_eq!(vmi["metadata"]["namespace"], "team");
    assert_eq!(vmi.pointer("/spec/domain/cpu/cores"), Some(&json!(4)));
    assert_eq!(
        vmi.pointer("/spec/domain/memory/guest"),
        Some(&json!("1024Mi"))
    );
    assert_eq!(
        vmi.pointer("/spec/domain/resources/requests/memory"),
        Some(&json!("1024Mi"))
    );
    let disks = vmi
        .pointer("/spec/domain/devices/disks")
        .and_then(Value::as_array)
        .unwrap();
    assert_eq!(disks.len(), 2);
    for disk in disks {
        assert_eq!(disk["disk"]["bus"], "virtio", "{disk}");
    }
    assert_eq!(
        named(&vmi, "/spec/domain/devices/disks", "base")["bootOrder"],
        1
    );
    assert_eq!(
        named(&vmi, "/spec/domain/devices/filesystems", "images")["virtiofs"],
        json!({})
    );
    assert_eq!(vmi.pointer("/spec/domain/devices/rng"), Some(&json!({})));
    assert_eq!(
        named(&vmi, "/spec/domain/devices/interfaces", "default")["masquerade"],
        json!({})
    );
    assert_eq!(named(&vmi, "/spec/networks", "default")["pod"], json!({}));
    assert_eq!(
        vmi.pointer("/spec/terminationGracePeriodSeconds"),
        Some(&json!(VM_TERMINATION_GRACE_SECONDS))
    );
    assert_eq!(vmi.pointer("/spec/evictionStrategy"), Some(&json!("None")));
    // Every disk and filesystem has its volume.
    for device in [
        "/spec/domain/devices/disks",
        "/spec/domain/devices/filesystems",
    ] {
        for d in vmi.pointer(device).and_then(Value::as_array).unwrap() {
            let name = d["name"].as_str().unwrap();
            named(&vmi, "/spec/volumes", name);
        }
    }
}

#[test]
fn the_vmi_boots_an_ephemeral_overlay_and_shares_the_images_claim() {
    let mut j = job();
    j.spec.output.claim_name = Some("team-images".into());
    let vmi = vmi_json(&objects_with(&j, &keys()));
    let base = named(&vmi, "/spec/volumes", "base");
    assert_eq!(
        base.pointer("/ephemeral/persistentVolumeClaim/claimName"),
        Some(&json!("img-kubevirt-base"))
    );
    assert_eq!(
        base.pointer("/ephemeral/persistentVolumeClaim/readOnly"),
        Some(&json!(true))
    );
    assert!(base.get("persistentVolumeClaim").is_none(), "{base}");
    let images = named(&vmi, "/spec/volumes", "images");
    assert_eq!(
        images.pointer("/persistentVolumeClaim/claimName"),
        Some(&json!("team-images"))
    );
}

#[test]
fn cloud_init_carries_the_public_key_only() {
    let keys = keys();
    let vmi = vmi_json(&objects_with(&job(), &keys));
    let user_data = named(&vmi, "/spec/volumes", "cloudinit")["cloudInitNoCloud"]["userData"]
        .as_str()
        .unwrap()
        .to_owned();
    let (first, rest) = user_data.split_once('\n').unwrap();
    assert_eq!(first, "#cloud-config");
    // The body is JSON, which cloud-init reads as YAML.
    let config: Value = serde_json::from_str(rest).unwrap();
    assert_eq!(config["ssh_authorized_keys"], json!([keys.public_openssh]));
    assert_eq!(config["disable_root"], json!(false));
    assert!(
        config["bootcmd"]
            .as_array()
            .unwrap()
            .contains(&json!(["mount", "-t", "virtiofs", "images", "/images"]))
    );
    assert!(!user_data.contains("PRIVATE KEY"));
    // No line of the private key's body either.
    for line in keys
        .private_openssh
        .lines()
        .filter(|l| !l.starts_with("---"))
    {
        assert!(!user_data.contains(line), "private key line {line} leaked");
    }
    // Nor anywhere else in the VMI.
    assert!(!vmi.to_string().contains("PRIVATE KEY"));
}

#[test]
fn everything_is_owned_by_the_job_and_labelled_with_its_component() {
    let objects = objects_with(&job(), &keys());
    let metas = [
        (&objects.secret.metadata, "driver"),
        (&objects.vmi.metadata, "vm"),
        (&objects.service.metadata, "vm"),
        (&objects.driver.metadata, "driver"),
    ];
    for (meta, component) in metas {
        assert_eq!(meta.namespace.as_deref(), Some("team"));
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.name.as_str(),
                owner.uid.as_str(),
                owner.controller
            ),
            ("ImageJob", "nb", "u-1", Some(true))
        );
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels["app.kubernetes.io/component"], component);
        assert_eq!(labels["img.meego.com/job"], "nb");
        assert_eq!(labels["img.meego.com/job-uid"], "u-1");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "img-operator");
    }
    // The owner reference also survives serialization of the dynamic object.
    let vmi = vmi_json(&objects);
    assert_eq!(
        vmi.pointer("/metadata/ownerReferences/0/apiVersion"),
        Some(&json!("img.meego.com/v1alpha1"))
    );
}

#[test]
fn the_service_selects_exactly_the_vms_labels_on_port_22() {
    let objects = objects_with(&job(), &keys());
    assert_eq!(objects.service.metadata.name.as_deref(), Some("nb-ssh"));
    let spec = objects.service.spec.as_ref().unwrap();
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    let selector = spec.selector.as_ref().unwrap();
    assert_eq!(Some(selector), objects.vmi.metadata.labels.as_ref());
    assert_eq!(selector["img.meego.com/job-uid"], "u-1");
    assert_eq!(selector["app.kubernetes.io/component"], "vm");
    // The driver Pod (same job) is not selected.
    let driver = objects.driver.metadata.labels.as_ref().unwrap();
    assert!(selector.iter().any(|(k, v)| driver.get(k) != Some(v)));
    let port = &spec.ports.as_ref().unwrap()[0];
    assert_eq!(port.port, 22);
    assert_eq!(port.target_port, Some(IntOrString::Int(22)));
    assert_eq!(port.protocol.as_deref(), Some("TCP"));
}

#[test]
fn the_driver_runs_drive_against_the_service_with_the_key_and_images() {
    let objects = objects_with(&job(), &keys());
    let pod = &objects.driver;
    assert_eq!(pod.metadata.name.as_deref(), Some("nb-runner"));
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.active_deadline_seconds, Some(600 + 120));
    assert_eq!(spec.automount_service_account_token, Some(false));
    assert_eq!(
        spec.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    let c = &spec.containers[0];
    assert_eq!(
        c.command.as_deref().unwrap(),
        [
            "vm-runner",
            "drive",
            "--job",
            "/etc/img/job/job.json",
            "--ssh-host",
            "nb-ssh.team.svc",
            "--ssh-key",
            "/etc/img/job/id_ed25519",
            "--images",
            "/images",
            "--termination-log",
            "/dev/termination-log"
        ]
    );
    assert_eq!(
        c.termination_message_policy.as_deref(),
        Some("FallbackToLogsOnError")
    );
    assert_eq!(
        c.security_context
            .as_ref()
            .unwrap()
            .allow_privilege_escalation,
        Some(false)
    );
    let res = c.resources.as_ref().unwrap();
    let limits = res.limits.as_ref().unwrap();
    assert!(
        !limits.contains_key("devices.kubevirt.io/kvm"),
        "{limits:?}"
    );
    assert!(
        !res.requests
            .as_ref()
            .unwrap()
            .contains_key("devices.kubevirt.io/kvm")
    );

    let mounts = c.volume_mounts.as_ref().unwrap();
    let mount_of = |path: &str| mounts.iter().find(|m| m.mount_path == path).unwrap();
    assert_eq!(mount_of("/etc/img/job").read_only, Some(true));
    assert_eq!(mount_of("/images").read_only, Some(false));
    assert!(
        !mounts.iter().any(|m| m.mount_path == "/base"),
        "no base disk: {mounts:?}"
    );
    assert_eq!(mounts.len(), 3, "job, images and scratch: {mounts:?}");

    let volumes = spec.volumes.as_ref().unwrap();
    let volume = |name: &str| volumes.iter().find(|v| v.name == name).unwrap();
    let secret = volume(&mount_of("/etc/img/job").name)
        .secret
        .as_ref()
        .unwrap();
    assert_eq!(secret.secret_name.as_deref(), Some("nb-job"));
    assert_eq!(secret.default_mode, Some(0o400));
    let images = volume(&mount_of("/images").name)
        .persistent_volume_claim
        .as_ref()
        .unwrap();
    assert_eq!(images.claim_name, "img-images");
    assert_eq!(volumes.len(), 3, "job, images and scratch");
}

#[test]
fn the_secret_holds_the_description_and_a_private_key_matching_the_vms() {
    let keys = keys();
    let objects = objects_with(&job(), &keys);
    let secret = &objects.secret;
    assert_eq!(secret.metadata.name.as_deref(), Some("nb-job"));
    assert_eq!(secret.immutable, Some(true));
    let data = secret.data.as_ref().unwrap();
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["id_ed25519", "job.json"]
    );
    let back: JobDescription = serde_json::from_slice(&data["job.json"].0).unwrap();
    assert_eq!(back, description());

    let private = PrivateKey::from_openssh(&data["id_ed25519"].0).unwrap();
    assert_eq!(private.algorithm(), Algorithm::Ed25519);
    assert!(!private.is_encrypted());
    let public = private.public_key().to_openssh().unwrap();
    assert_eq!(public, keys.public_openssh);
    // And it is the key the VM authorizes.
    let vmi = vmi_json(&objects);
    let user_data = named(&vmi, "/spec/volumes", "cloudinit")["cloudInitNoCloud"]["userData"]
        .as_str()
        .unwrap();
    assert!(user_data.contains(&public));
}

#[test]
fn every_job_gets_its_own_key_pair() {
    let a = keys();
    let b = keys();
    assert_ne!(a.private_openssh, b.private_openssh);
    assert_ne!(a.public_openssh, b.public_openssh);
    assert!(a.public_openssh.starts_with("ssh-ed25519 "));
    assert!(
        a.private_openssh
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    );
    // Debug output never shows the private key.
    assert!(!format!("{a:?}").contains("PRIVATE KEY"));
}

#[test]
fn the_jobs_node_selector_places_the_vm() {
    let mut j = job();
    j.spec
        .runner
        .node_selector
        .insert("kvm".into(), "yes".into());
    let objects = objects_with(&j, &keys());
    assert_eq!(
        vmi_json(&objects).pointer("/spec/nodeSelector"),
        Some(&json!({ "kvm": "yes" }))
    );
    let without = vmi_json(&objects_with(&job(), &keys()));
    assert!(without.pointer("/spec/nodeSelector").is_none());
}
