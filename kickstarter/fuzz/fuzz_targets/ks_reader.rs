//! Any bytes as a kickstart: the reader never panics, every diagnostic points at a line that
//! exists, and a kickstart it accepts without errors is accepted again after being written
//! out in normalised form.
#![no_main]

use kickstarter::ks::{Limits, NoIncludes, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let parsed = parse(data, "fuzz.ks", &NoIncludes, &limits);
    let lines = data.split(|&b| b == b'\n').count();
    for d in &parsed.diagnostics {
        assert!(
            (d.line as usize) <= lines,
            "{d} points past the end ({lines} lines)"
        );
    }
    if !parsed.has_errors() {
        let text = parsed.kickstart.to_kickstart_text();
        let again = parse(text.as_bytes(), "normalised.ks", &NoIncludes, &limits);
        assert!(
            !again.has_errors(),
            "accepted input became invalid when normalised:\n{text}\n{:?}",
            again.diagnostics
        );
    }
});
