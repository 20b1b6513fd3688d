//! One test's world (the operator's tests and the web frontend's): a loopback API server in kubelet mode (it runs the operator's
//! Pods as local processes), the ImageJob CRD, the images and base-disk claims, the fake
//! runner (`img-fake-runner`) as the runner command, and helpers to make and watch jobs.

#![allow(dead_code)] // each test crate uses part of it

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use img_crd::{ImageJob, ImageJobSpec, Phase, Source};
use img_operator::config::Config;
use img_operator::run::Operator;
use img_tests::apiserver::kubelet::KubeletConfig;
use img_tests::apiserver::{self, ApiServer};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::{Client, CustomResourceExt};

use crate::support;

/// The fake runner.
const FAKE_RUNNER: &str = env!("CARGO_BIN_EXE_img-fake-runner");

/// How long a test waits for a job to reach a state.
pub(crate) const WAIT: u64 = 60;

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: Config,
}

/// A server, a client and the fake runner's record.
pub(crate) struct Env {
    pub(crate) server: ApiServer,
    pub(crate) client: Client,
    pub(crate) dir: tempfile::TempDir,
}

impl Env {
    /// A fresh world with the `default` namespace ready for jobs.
    pub(crate) async fn start() -> Env {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("img_operator=debug,kube_runtime=warn")
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let server = ApiServer::start(apiserver::Config {
            kubelet: Some(KubeletConfig {
                selector: "app.kubernetes.io/managed-by=img-operator".into(),
                root: dir.path().join("kubelet"),
                node_name: "local".into(),
            }),
            ..apiserver::Config::default()
        })
        .await
        .unwrap();
        let client = support::client(&server).await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &ImageJob::crd())
            .await
            .unwrap();
        let env = Env {
            server,
            client,
            dir,
        };
        env.namespace("default").await;
        env
    }

    /// Makes namespace `ns` (unless it exists) with the images and base-disk claims.
    pub(crate) async fn namespace(&self, ns: &str) {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let mut n = Namespace::default();
        n.metadata.name = Some(ns.into());
        let _ = namespaces.create(&PostParams::default(), &n).await;
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
        for name in ["img-images", "img-base-disk"] {
            let mut c = PersistentVolumeClaim::default();
            c.metadata.name = Some(name.into());
            let _ = claims.create(&PostParams::default(), &c).await;
        }
    }

    /// The file the fake runner records starts, ends and cleans in.
    pub(crate) fn record_file(&self) -> PathBuf {
        self.dir.path().join("runs.log")
    }

    /// The recorded lines.
    pub(crate) fn records(&self) -> Vec<String> {
        std::fs::read_to_string(self.record_file())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// How many times the runner started for `ns/name`.
    pub(crate) fn starts(&self, ns: &str, name: &str) -> usize {
        let line = format!("start {ns}/{name}");
        self.records().iter().filter(|l| **l == line).count()
    }

    /// A file path in the test's directory (for `wait-for=`).
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The operator's settings for this world, with `extra` flags.
    pub(crate) fn config(&self, extra: &[&str]) -> Config {
        self.config_with_default("succeed", extra)
    }

    /// As [`Env::config`], the fake runner doing `words` for kickstarts that do not say (template
    /// jobs).
    pub(crate) fn config_with_default(&self, words: &str, extra: &[&str]) -> Config {
        let command = format!(
            "{FAKE_RUNNER},--record,{},--default,{words}",
            self.record_file().display()
        );
        let mut args = vec![
            "img-operator",
            "--runner-command",
            &command,
            "--admin-addr",
            "127.0.0.1:0",
            "--lease-namespace",
            "default",
            "--lease-duration-seconds",
            "2",
            "--public-url",
            "http://img.test",
            "--runner-deadline-grace-seconds",
            "1",
            "--source-recheck-seconds",
            "1",
            "--queue-debounce-ms",
            "50",
        ];
        args.extend_from_slice(extra);
        Flags::parse_from(args).config
    }

    /// Starts an operator with `extra` flags.
    pub(crate) async fn operator(&self, extra: &[&str]) -> Operator {
        Operator::start(self.client.clone(), self.config(extra))
            .await
            .unwrap()
    }

    /// ImageJobs in `ns`.
    pub(crate) fn jobs(&self, ns: &str) -> Api<ImageJob> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Creates job `name` in `ns`.
    pub(crate) async fn create(&self, ns: &str, name: &str, spec: ImageJobSpec) -> ImageJob {
        self.jobs(ns)
            .create(&PostParams::default(), &ImageJob::new(name, spec))
            .await
            .unwrap()
    }

    /// Waits until job `ns/name` satisfies `check`; returns it.
    pub(crate) async fn wait_for(
        &self,
        ns: &str,
        name: &str,
        what: &str,
        check: impl Fn(&ImageJob) -> bool,
    ) -> ImageJob {
        let jobs = self.jobs(ns);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(WAIT);
        loop {
            let job = jobs.get_opt(name).await.unwrap();
            if let Some(job) = job.filter(|j| check(j)) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{ns}/{name} did not become {what} within {WAIT}s: {:?}",
                jobs.get_opt(name).await.unwrap().and_then(|j| j.status)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until job `ns/name` is in `phase`.
    pub(crate) async fn wait_phase(&self, ns: &str, name: &str, phase: Phase) -> ImageJob {
        self.wait_for(ns, name, phase.as_str(), |j| phase_of(j) == Some(phase))
            .await
    }

    /// Waits until job `ns/name` is gone.
    pub(crate) async fn wait_gone(&self, ns: &str, name: &str) {
        let jobs = self.jobs(ns);
        support::eventually(WAIT, || {
            let jobs = jobs.clone();
            async move { jobs.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }

    /// Installs a stand-in for KubeVirt's VirtualMachineInstance API (its CRD, schema-less).
    pub(crate) async fn install_kubevirt_api(&self) {
        let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "virtualmachineinstances.kubevirt.io"},
            "spec": {
                "group": "kubevirt.io",
                "scope": "Namespaced",
                "names": {"plural": "virtualmachineinstances", "singular": "virtualmachineinstance",
                          "kind": "VirtualMachineInstance", "shortNames": ["vmi"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]
            }
        }))
        .unwrap();
        Api::<CustomResourceDefinition>::all(self.client.clone())
            .create(&PostParams::default(), &crd)
            .await
            .unwrap();
    }

    /// The images volume of `ns`, as the kubelet made it.
    pub(crate) fn images_dir(&self, ns: &str) -> PathBuf {
        self.server.pvc_dir(ns, "img-images").unwrap()
    }
}

/// KubeVirt's VirtualMachineInstances, for a dynamic API.
pub(crate) fn vmi_resource() -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("kubevirt.io", "v1", "VirtualMachineInstance"),
        "virtualmachineinstances",
    )
}

/// A job's phase.
pub(crate) fn phase_of(job: &ImageJob) -> Option<Phase> {
    job.status.as_ref().and_then(|s| s.phase)
}

/// A raw-image kickstart that tells the fake runner what to do.
pub(crate) fn kickstart(mode: &str) -> String {
    format!(
        "# -*-mic2-options-*- -f raw --arch=x86_64 -*-mic2-options-*-\n\
         # fake-runner: {mode}\n\
         lang en_US.UTF-8\n\
         part / --size 500 --ondisk sda --fstype=ext4\n\
         %packages\n@Core\n%end\n"
    )
}

/// A spec building the inline [`kickstart`] for `mode`.
pub(crate) fn spec(mode: &str) -> ImageJobSpec {
    ImageJobSpec {
        source: Source {
            kickstart: Some(kickstart(mode)),
            ..Default::default()
        },
        ..Default::default()
    }
}
