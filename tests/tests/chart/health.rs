//! The health checks charts/img/README.md gives for ImageJobs, run on jobs in every phase: the
//! Argo CD Lua snippet in Lua 5.1 (Argo CD's gopher-lua), the Flux `healthCheckExprs` with a CEL
//! interpreter. A finished job must stay healthy: Succeeded and Cancelled are Healthy
//! (current), Failed is Degraded (failed), everything else Progressing (in progress).

use kube::core::cel::cel::{Context, Program, Value as CelValue};
use mlua::{Lua, LuaSerdeExt, SerializeOptions};
use serde_json::{Value, json};

use crate::helm::read;

/// The first fenced block of `lang` after `heading` in the chart's README.
fn snippet(heading: &str, lang: &str) -> String {
    let readme = read("charts/img/README.md");
    let after = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}"))..];
    let fence = format!("```{lang}\n");
    let start = after.find(&fence).expect("a fenced block") + fence.len();
    let len = after[start..].find("```").expect("its end");
    after[start..start + len].to_owned()
}

/// An ImageJob with `status` (none when null).
fn job(status: Value) -> Value {
    let mut job = json!({
        "apiVersion": "img.meego.com/v1alpha1",
        "kind": "ImageJob",
        "metadata": {"name": "nb", "namespace": "default", "generation": 1},
        "spec": {"source": {"kickstart": "%packages\n%end\n"}},
    });
    if !status.is_null() {
        job["status"] = status;
    }
    job
}

/// A job in each phase, with what the checks must say about it: (Argo CD status, the start of
/// its message, Flux's verdict).
fn cases() -> Vec<(Value, &'static str, &'static str, &'static str)> {
    vec![
        (
            job(Value::Null),
            "Progressing",
            "Waiting for the IMG operator",
            "error",
        ),
        (
            job(json!({"phase": "Pending", "reason": "SourceNotFound",
            "message": "ConfigMap \"ks\" not found"})),
            "Progressing",
            "Pending: ConfigMap",
            "inProgress",
        ),
        (
            job(json!({"phase": "Queued", "queuePosition": 3})),
            "Progressing",
            "Queued, position 3",
            "inProgress",
        ),
        (
            job(json!({"phase": "Running", "runnerPod": "nb-runner"})),
            "Progressing",
            "Running",
            "inProgress",
        ),
        (
            job(json!({"phase": "Succeeded", "artifacts": [
            {"name": "nb.raw", "size": 1, "sha256": "00"}, {"name": "nb.packages", "size": 1, "sha256": "00"}]})),
            "Healthy",
            "Image built (2 files)",
            "current",
        ),
        (
            job(json!({"phase": "Succeeded"})),
            "Healthy",
            "Image built (0 files)",
            "current",
        ),
        (
            job(json!({"phase": "Cancelled", "reason": "Cancelled"})),
            "Healthy",
            "Cancelled",
            "current",
        ),
        (
            job(json!({"phase": "Failed", "reason": "InvalidKickstart",
            "message": "kickstart:3: unknown command 'frobnicate'"})),
            "Degraded",
            "InvalidKickstart: kickstart:3: unknown command",
            "failed",
        ),
        (
            job(json!({"phase": "Failed"})),
            "Degraded",
            "Failed: ",
            "failed",
        ),
    ]
}

#[test]
fn the_argo_cd_health_check_keeps_finished_jobs_healthy() {
    let script = snippet("### Argo CD", "lua");
    for (object, status, message, _) in cases() {
        let lua = Lua::new();
        // As Argo CD passes it: JSON nulls and absent fields are both nil.
        let options = SerializeOptions::new()
            .serialize_none_to_null(false)
            .serialize_unit_to_null(false);
        let obj = lua.to_value_with(&object, options).unwrap();
        lua.globals().set("obj", obj).unwrap();
        let hs: mlua::Table = lua.load(&script).set_name("health.lua").eval().unwrap();
        let got_status: String = hs.get("status").unwrap();
        let got_message: String = hs.get("message").unwrap();
        assert_eq!(got_status, status, "{object}");
        assert!(
            got_message.starts_with(message),
            "{object}: {got_message:?}"
        );
    }
}

/// The expression `expr` evaluated on `object` as Flux evaluates it: the object's top-level
/// fields are the variables. `None` when it cannot be evaluated (a field that is not there).
fn evaluate(expr: &str, object: &Value) -> Option<bool> {
    let program = Program::compile(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut context = Context::default();
    for (field, value) in object.as_object().unwrap() {
        context.add_variable(field.as_str(), value.clone()).unwrap();
    }
    match program.execute(&context) {
        Ok(CelValue::Bool(b)) => Some(b),
        Ok(other) => panic!("{expr} gave {other:?}"),
        Err(_) => None,
    }
}

#[test]
fn the_flux_health_expressions_keep_finished_jobs_current() {
    let block = snippet("### Flux", "yaml");
    let checks: Value = serde_yaml::from_str(&block).unwrap();
    let check = &checks["healthCheckExprs"][0];
    assert_eq!(check["kind"], "ImageJob");
    assert_eq!(check["apiVersion"], "img.meego.com/v1alpha1");
    for (object, _, _, verdict) in cases() {
        let outcomes: Vec<(&str, Option<bool>)> = ["inProgress", "failed", "current"]
            .into_iter()
            .map(|name| (name, evaluate(check[name].as_str().unwrap(), &object)))
            .collect();
        if verdict == "error" {
            // No status yet: nothing to evaluate, so Flux keeps waiting.
            assert!(
                outcomes.iter().all(|(_, o)| o.is_none()),
                "{object}: {outcomes:?}"
            );
            continue;
        }
        for (name, outcome) in outcomes {
            assert_eq!(outcome, Some(name == verdict), "{name} on {object}");
        }
    }
}
