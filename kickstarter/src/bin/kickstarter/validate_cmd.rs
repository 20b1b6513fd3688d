//! Validation mode: `--validate FILE...` prints `FILE:LINE: error: message` for each problem
//! (or, with `--json`, a JSON array with one report per file) and fails on any error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use kickstarter::ks::{Diagnostic, DirIncludes, Limits, Summary, parse};
use serde::Serialize;

/// What `--json` prints for one file.
#[derive(Serialize)]
struct Report<'a> {
    file: String,
    valid: bool,
    diagnostics: &'a [Diagnostic],
    #[serde(flatten)]
    summary: Option<Summary>,
}

/// Validates `files`; returns failure when any has an error.
pub(crate) fn run(files: &[PathBuf], json: bool) -> Result<ExitCode> {
    let limits = Limits::default();
    let includes = DirIncludes::new(&limits);
    let mut any_error = false;
    let mut reports = Vec::new();
    let mut parsed_all = Vec::new();
    for path in files {
        let name = path.display().to_string();
        // Refuse oversized files before reading them into memory.
        let too_big = std::fs::metadata(path)
            .map(|m| m.len() > limits.max_bytes as u64)
            .unwrap_or(false);
        let bytes = if too_big {
            Err(format!("file is larger than {} bytes", limits.max_bytes))
        } else {
            std::fs::read(path).map_err(|e| e.to_string())
        };
        match bytes {
            Ok(bytes) => {
                let parsed = parse(&bytes, &name, &includes, &limits);
                parsed_all.push((name, Some(parsed), None));
            }
            Err(e) => parsed_all.push((name, None, Some(e))),
        }
    }
    for (name, parsed, read_error) in &parsed_all {
        let diagnostics: &[Diagnostic] = parsed.as_ref().map_or(&[], |p| &p.diagnostics);
        let valid = read_error.is_none() && !parsed.as_ref().is_some_and(|p| p.has_errors());
        any_error |= !valid;
        if json {
            reports.push(Report {
                file: name.clone(),
                valid,
                diagnostics,
                summary: parsed.as_ref().map(|p| p.kickstart.summary()),
            });
            continue;
        }
        if let Some(e) = read_error {
            println!("{name}: error: {e}");
        }
        for d in diagnostics {
            println!("{d}");
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if any_error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
