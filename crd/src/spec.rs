//! What a user asks for: `ImageJob.spec`.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ImageType;
use crate::status::ImageJobStatus;

/// An OS image to build: a kickstart (or a kickstarter template, a platform and an overlay),
/// the image type, and who to tell when it is done.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "img.meego.com",
    version = "v1alpha1",
    kind = "ImageJob",
    namespaced,
    status = "ImageJobStatus",
    derive = "PartialEq",
    shortname = "ij",
    category = "img",
    doc = "An OS image build: IMG renders or reads the kickstart, runs the image creator in a throw-away VM and reports the image's download URL.",
    validation = Rule::new("size(self.metadata.name) <= 52").message("ImageJob names are at most 52 characters (the runner Pod and its labels are named after them)"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase", description = "Where the job is in its life"),
    printcolumn(name = "Type", type_ = "string", json_path = ".status.imageType", description = "The image type being built"),
    printcolumn(name = "Queue", type_ = "integer", json_path = ".status.queuePosition", description = "Position in the queue while Queued (1 runs next)"),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.artifacts[0].url", description = "Where to download the image"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.reason", priority = 1, description = "Why the job failed"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct ImageJobSpec {
    /// The image to build: livecd, liveusb, loop, raw, nand, mrstnand, vdi, vmdk, qcow2 or fs.
    /// When absent, the type named by the kickstart's `-*-mic2-options-*-` (or
    /// `-*-mic-options-*-`) first line is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_type: Option<ImageType>,

    /// Where the kickstart comes from: exactly one of `kickstart`, `kickstartFrom` and
    /// `template`.
    pub source: Source,

    /// Who hears about the result, and how.
    #[serde(default)]
    pub notify: Notify,

    /// How the build runs: in a QEMU runner Pod (the default) or a KubeVirt VM.
    #[serde(default)]
    pub runner: RunnerSpec,

    /// Where the image, its log and the kickstart are written.
    #[serde(default)]
    pub output: OutputSpec,

    /// Jobs with a higher priority leave the queue first; equal priorities go first come,
    /// first served, taking turns between namespaces. Default 0.
    #[serde(default)]
    pub priority: i32,

    /// Delete the job (and its files) this many seconds after it finished. Absent: keep it
    /// until it is deleted. Pinned jobs are never deleted this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ttl_seconds_after_finished: Option<i64>,

    /// Set to true to cancel: a queued job leaves the queue, a running build is stopped.
    /// The job ends as Cancelled.
    #[serde(default)]
    pub cancel: bool,

    /// Keep this job and its image: neither `ttlSecondsAfterFinished` nor the web page's
    /// "clear" removes a pinned job.
    #[serde(default)]
    pub pinned: bool,

    /// The job id of the 2010 protocol (the `id` of a kickstarter_queue or image_queue
    /// message), used in the AMQP result messages and the web page's URLs. Absent: the
    /// object's uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub legacy_id: Option<String>,
}

/// Where the kickstart comes from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(
    validation = Rule::new("[has(self.kickstart), has(self.kickstartFrom), has(self.template)].filter(x, x).size() == 1").message("exactly one of kickstart, kickstartFrom and template must be set")
)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The kickstart file itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<String>,

    /// A kickstart kept in a ConfigMap or Secret of the job's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart_from: Option<KickstartFrom>,

    /// A kickstarter YAML template, a platform of it and an overlay: the kickstart is
    /// rendered from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSource>,
}

/// A key of a ConfigMap or a Secret.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(
    validation = Rule::new("has(self.configMapKeyRef) != has(self.secretKeyRef)").message("exactly one of configMapKeyRef and secretKeyRef must be set")
)]
#[serde(rename_all = "camelCase")]
pub struct KickstartFrom {
    /// A key of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
    /// A key of a Secret (kickstarts can carry passwords).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
}

/// A key of a named object in the job's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct KeyRef {
    /// The object's name.
    pub name: String,
    /// The key holding the kickstart.
    pub key: String,
}

/// A kickstarter template and what to do with it.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSource {
    /// The ConfigMap holding the template: `configurations.yaml`, `repos.yaml`, and the
    /// companion files it refers to, each under its path with `/` written as `__`
    /// (`custom__scripts__cleanup.post` is `custom/scripts/cleanup.post`). Absent: the example
    /// template built into IMG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,

    /// The platform section to build (a top-level key of configurations.yaml, like `NETBOOK`).
    pub platform: String,

    /// The 2010 overlay: comma-separated packages to add, `@groups` to add and `-packages` to
    /// remove, appended to the platform's Groups and ExtraPackages
    /// (`gcc,@MeeGo Netbook Desktop,-google-chrome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,

    /// Which configuration of that platform to render, by its `FileName` or `Name`, when the
    /// platform has more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,

    /// The kickstarter version whose output to reproduce: meego-0.7, meego-0.8, meego-0.12
    /// (default), tizen-0.15, sages-2011, sages-2012 or mer-0.20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
}

/// Notification settings.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Notify {
    /// Addresses to e-mail when the job ends (with the download or log link).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    /// Publish the 2010 result messages (link_queue, error_queue, result_queue) for this job.
    /// Default true.
    #[serde(default = "yes")]
    pub amqp: bool,
}

impl Notify {
    /// Whether `a` is one plain `local@domain` address: no display name, no spaces or control
    /// characters, nothing a mail header could be split at. Enough to refuse mistakes; the
    /// mail server has the last word.
    pub fn is_address(a: &str) -> bool {
        let Some((local, domain)) = a.rsplit_once('@') else {
            return false;
        };
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && a.len() <= 254
            && !a.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '<' | '>' | ',' | ';' | '"' | '\\')
            })
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            email: Vec::new(),
            amqp: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Which machinery runs the build.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[schemars(transform = crate::schema::without_description)]
pub enum RunnerKind {
    /// A runner Pod that boots QEMU itself (KVM when the node offers it, TCG otherwise).
    #[default]
    Qemu,
    /// A KubeVirt VirtualMachineInstance, driven over SSH by a small driver Pod.
    Kubevirt,
}

/// How the build runs.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunnerSpec {
    /// qemu (default) or kubevirt.
    #[serde(default)]
    pub kind: RunnerKind,
    /// The base VM disk to copy, by file name on the base-disk volume. Absent: the
    /// operator's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_disk: Option<String>,
    /// Virtual CPUs of the build VM. Absent: the operator's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub cpus: Option<u32>,
    /// Memory of the build VM in MiB. Absent: the operator's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 256, max = 262144))]
    pub memory_mib: Option<u32>,
    /// Give up on the build after this many seconds of running (queueing does not count).
    /// Absent: the operator's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeout_seconds: Option<u32>,
    /// Extra node selector labels for the runner Pod.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
}

/// Where results go.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutputSpec {
    /// The PersistentVolumeClaim (in the job's namespace) that holds images. Files go to
    /// `<namespace>/<name>/` on it. Absent: the operator's default claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_name: Option<String>,
}
