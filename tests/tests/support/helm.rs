//! The Helm chart as the tests see it: linted and rendered by Helm itself and validated with
//! kubernetes-validate, through `tests/python/img_chart.py` run by `$IMG_TEST_PYTHON` (the
//! virtualenv `scripts/test` makes). Without that variable a test skips with a message,
//! except under CI (`CI` set), where a missing tool is a failure.

#![allow(dead_code)] // the chart and rbac tests each use part of it

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The Kubernetes version objects are validated against (kubernetes-validate's newest
/// schemas, and the kubectl and API server version the tests use).
pub(crate) const KUBE_VERSION: &str = "1.37";

/// The release name and namespace charts are rendered with.
pub(crate) const RELEASE: &str = "img";
/// See [`RELEASE`].
pub(crate) const NAMESPACE: &str = "img-system";

/// The workspace root.
pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The chart's directory.
pub(crate) fn chart_dir() -> PathBuf {
    workspace().join("charts/img")
}

/// Runs the Python helper: `Some(helper)`, or `None` (after saying why) when the test
/// virtualenv is not there outside CI.
pub(crate) fn tool(test: &str) -> Option<Tool> {
    let Some(python) = std::env::var_os("IMG_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        assert!(
            !ci,
            "{test}: IMG_TEST_PYTHON is not set; CI must run the chart tests (scripts/test sets it)"
        );
        eprintln!(
            "skipping {test}: IMG_TEST_PYTHON is not set (run scripts/test, or \
             `source scripts/lib.sh && python_venv` first)"
        );
        return None;
    };
    Some(Tool {
        python: PathBuf::from(python),
    })
}

/// Values to render or lint with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    /// Values files relative to the chart (`ci/full-values.yaml`), merged in order.
    pub(crate) files: Vec<String>,
    /// Values merged over the files (`--set-json`).
    pub(crate) set: Option<Value>,
}

impl Values {
    /// The chart's defaults.
    pub(crate) fn defaults() -> Values {
        Values::default()
    }

    /// The values file `ci/<name>` of the chart.
    pub(crate) fn ci(name: &str) -> Values {
        Values {
            files: vec![format!("ci/{name}")],
            set: None,
        }
    }

    /// These values with `set` merged over them.
    pub(crate) fn with(mut self, set: Value) -> Values {
        self.set = Some(set);
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for f in &self.files {
            args.push("-f".to_owned());
            args.push(chart_dir().join(f).display().to_string());
        }
        if let Some(set) = &self.set {
            args.push("--set-json".to_owned());
            args.push(set.to_string());
        }
        args
    }
}

/// The Python helper.
pub(crate) struct Tool {
    python: PathBuf,
}

/// One rendered object and the template it came from.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    /// `img/templates/operator-deployment.yaml`.
    pub(crate) template: String,
    /// The object.
    pub(crate) object: Value,
}

/// What `helm template` made.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// NOTES.txt, rendered.
    pub(crate) notes: String,
    /// The objects, by template in name order.
    pub(crate) objects: Vec<Object>,
}

impl Rendered {
    /// The objects of `kind`.
    pub(crate) fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects
            .iter()
            .map(|o| &o.object)
            .filter(|o| o["kind"] == kind)
            .collect()
    }

    /// The object of `kind` named `name`; panics when there is none.
    pub(crate) fn get(&self, kind: &str, name: &str) -> &Value {
        self.of_kind(kind)
            .into_iter()
            .find(|o| o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("the chart renders no {kind} {name}"))
    }

    /// Every object.
    pub(crate) fn values(&self) -> Vec<Value> {
        self.objects.iter().map(|o| o.object.clone()).collect()
    }

    /// `kind/name` of every object, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.objects.iter().map(|o| key(&o.object)).collect();
        names.sort();
        names
    }

    /// The objects as one multi-document YAML stream (for kubectl).
    pub(crate) fn yaml(&self) -> String {
        yaml_stream(&self.values())
    }
}

/// `Kind/name` of an object.
pub(crate) fn key(object: &Value) -> String {
    format!(
        "{}/{}",
        object["kind"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// `objects` as a multi-document YAML stream.
pub(crate) fn yaml_stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).expect("an object serializes"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The documents of a YAML stream (empty ones dropped).
pub(crate) fn parse_stream(text: &str) -> Vec<Value> {
    use serde::Deserialize as _;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// `value` with every number as a float. YAML writes `minimum: 0.0` where JSON has `0`, and
/// Helm's `fromYaml | toYaml` turns `64.0` into `64`; to Kubernetes they are the same number.
pub(crate) fn numbers_as_floats(value: &Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_floats).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), numbers_as_floats(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// kubernetes-validate's verdict on one object.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Verdict {
    /// Its kind.
    pub(crate) kind: String,
    /// Its name.
    pub(crate) name: String,
    /// `kubernetes` (the Kubernetes schemas), `crd` (its CRD's schema) or `none`.
    pub(crate) how: String,
    /// What is wrong; empty when it is valid.
    pub(crate) errors: Vec<String>,
}

impl Verdict {
    /// Fails the test, naming `what` was validated, unless the object is valid.
    pub(crate) fn assert_valid(&self, what: &str) {
        assert!(
            self.errors.is_empty(),
            "{what}: {} {}: {:?}",
            self.kind,
            self.name,
            self.errors
        );
    }
}

impl Tool {
    fn run(&self, args: &[String], input: Option<&str>) -> Value {
        let script = workspace().join("tests/python/img_chart.py");
        let mut child = Command::new(&self.python)
            .arg(&script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", self.python.display()));
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.unwrap_or_default().to_owned();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("the helper finishes");
        let _ = writer.join();
        assert!(
            out.status.success(),
            "img_chart.py {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the helper prints JSON")
    }

    /// `helm lint --strict` with `values`: Helm's report.
    pub(crate) fn lint(&self, values: &Values) -> Value {
        let mut args = vec!["lint".to_owned(), chart_dir().display().to_string()];
        args.extend(values.args());
        self.run(&args, None)
    }

    /// Renders the chart as release `img` in `img-system`, or returns Helm's error.
    pub(crate) fn try_render(&self, values: &Values) -> Result<Rendered, String> {
        self.try_render_in(values, NAMESPACE)
    }

    /// Renders the chart as release `img` in `namespace`; panics with Helm's error.
    pub(crate) fn render_in(&self, values: &Values, namespace: &str) -> Rendered {
        self.try_render_in(values, namespace)
            .unwrap_or_else(|e| panic!("helm template {values:?}: {e}"))
    }

    fn try_render_in(&self, values: &Values, namespace: &str) -> Result<Rendered, String> {
        let mut args = vec!["render".to_owned(), chart_dir().display().to_string()];
        args.extend(values.args());
        args.extend(["--name", RELEASE, "--namespace", namespace].map(str::to_owned));
        let out = self.run(&args, None);
        if let Some(error) = out["error"].as_str() {
            return Err(error.to_owned());
        }
        let objects = out["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| Object {
                template: o["template"].as_str().unwrap_or_default().to_owned(),
                object: o["object"].clone(),
            })
            .collect();
        Ok(Rendered {
            notes: out["notes"].as_str().unwrap_or_default().to_owned(),
            objects,
        })
    }

    /// Renders the chart; panics with Helm's error.
    pub(crate) fn render(&self, values: &Values) -> Rendered {
        self.try_render(values)
            .unwrap_or_else(|e| panic!("helm template {values:?}: {e}"))
    }

    /// Validates `objects` against the Kubernetes [`KUBE_VERSION`] schemas (and custom
    /// resources against CRDs among them).
    pub(crate) fn validate(&self, objects: &[Value]) -> Vec<Verdict> {
        let input = serde_json::to_string(objects).expect("objects serialize");
        let out = self.run(
            &["validate".to_owned(), KUBE_VERSION.to_owned()],
            Some(&input),
        );
        serde_json::from_value(out).expect("verdicts")
    }

    /// The files of manifests/base that differ from the chart's render (`scripts/gen-manifests`
    /// writes them).
    pub(crate) fn stale_manifests(&self) -> Vec<String> {
        let out = self.run(
            &[
                "manifests".to_owned(),
                workspace().display().to_string(),
                "--report".to_owned(),
            ],
            None,
        );
        serde_json::from_value(out["stale"].clone()).expect("stale files")
    }
}

/// Reads `path` (relative to the workspace).
pub(crate) fn read(path: impl AsRef<Path>) -> String {
    let path = workspace().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
