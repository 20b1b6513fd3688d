//! `cargo bench -p kickstarter --bench corpus`: the speed targets of the kickstart domain,
//! measured side by side in one run and printed (not asserted; this is not a timed test).
//!
//! 1. Parsing every kickstart of the reference corpus (the real kickstart files and every
//!    kickstarter output, from memory) with our reader and with pykickstart, in-process after
//!    import; the ratio is ours against pykickstart's. Target: at least 50x.
//! 2. Rendering every configuration of the kickstarter corpus (all pairs and generated sets,
//!    from memory). Target: under 10 ms in total.
//!
//! pykickstart is run by `$IMG_TEST_PYTHON` (default `python3`); without it, part 1 prints
//! only our figure. The corpus comes from `../shared` (or `$IMG_SHARED_DIR`).

#[path = "support/render_sets.rs"]
mod render_sets;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kickstarter::ks::{Limits, NoIncludes, parse};

/// Runs `f` repeatedly for at least `min` (and 10 times), returning the mean time per run.
fn measure(min: Duration, mut f: impl FnMut()) -> (Duration, u32) {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while runs < 10 || start.elapsed() < min {
        f();
        runs += 1;
    }
    (start.elapsed() / runs, runs)
}

fn kickstarts(reference: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, only_ks: bool) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out, only_ks);
            } else if !only_ks || p.extension().is_some_and(|x| x == "ks") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&reference.join("kickstart-files"), &mut files, false);
    let corpus = reference.join("kickstarter-corpus");
    for set in ["pairs", "generated"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(set)) else {
            continue;
        };
        for e in entries.flatten() {
            for sub in ["expected", "output"] {
                walk(&e.path().join(sub), &mut files, true);
            }
        }
    }
    files.sort();
    files
}

fn pykickstart(files: &[PathBuf]) -> Result<(f64, u64), String> {
    let python = std::env::var("IMG_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pykickstart_parse.py");
    let out = Command::new(&python)
        .arg(script)
        .arg("3")
        .args(files)
        // pykickstart prints every error it skips; that output is not what is measured.
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{python} could not run pykickstart (is it installed?)"
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("bad output: {e}"))?;
    Ok((
        v["seconds_per_pass"].as_f64().unwrap_or(f64::NAN),
        v["passes"].as_u64().unwrap_or(0),
    ))
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let shared = std::env::var_os("IMG_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let reference = shared.join("reference");
    if !reference.is_dir() {
        eprintln!(
            "no reference corpus at {}; nothing to measure",
            reference.display()
        );
        return;
    }

    let files = kickstarts(&reference);
    let texts: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(p).unwrap_or_default(),
            )
        })
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let limits = Limits::default();
    let mut diagnostics = 0;
    let (ours, runs) = measure(Duration::from_secs(2), || {
        diagnostics = 0;
        for (name, text) in &texts {
            let parsed = parse(text, name, &NoIncludes, &limits);
            diagnostics += std::hint::black_box(parsed).diagnostics.len();
        }
    });
    println!(
        "parse: {} kickstarts, {} KiB ({diagnostics} diagnostics, includes not followed)",
        texts.len(),
        bytes / 1024
    );
    println!(
        "  ours          {:>10.3} ms per pass ({runs} passes)",
        ours.as_secs_f64() * 1e3
    );
    match pykickstart(&files) {
        Ok((seconds, passes)) => {
            println!(
                "  pykickstart   {:>10.3} ms per pass ({passes} passes, in-process)",
                seconds * 1e3
            );
            println!(
                "  ratio         {:>10.1}x faster than pykickstart (target: 50x)",
                seconds / ours.as_secs_f64()
            );
        }
        Err(e) => println!("  pykickstart   not measured: {e}"),
    }

    let jobs = render_sets::render_jobs(&reference);
    let mut kickstarts = 0;
    let (render, runs) = measure(Duration::from_secs(2), || {
        kickstarts = jobs.iter().map(render_sets::RenderJob::run).sum();
    });
    println!(
        "render: {} runs over the kickstarter corpus, {kickstarts} kickstarts, from memory",
        jobs.len()
    );
    println!(
        "  ours          {:>10.3} ms per pass ({runs} passes; target: under 10 ms)",
        render.as_secs_f64() * 1e3
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak memory: {} MiB", kib / 1024);
    }
}
