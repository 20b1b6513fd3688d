//! Resource bounds for reading untrusted kickstarts.

use serde::Serialize;

/// Upper bounds that keep parsing cheap on hostile input.
///
/// The defaults are far above anything in the real corpus (the largest real
/// kickstart is ~870 lines and ~30 KB, the longest line ~250 bytes, includes
/// nest one level deep) while keeping the worst case for one request small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest accepted file, checked before any other work (also per include).
    pub max_bytes: usize,
    /// Largest accepted sum of the sizes of the main file and all includes.
    pub max_total_bytes: usize,
    /// Most lines read over the main file and all includes together.
    pub max_lines: usize,
    /// Longest accepted line in bytes (without the line ending).
    pub max_line_len: usize,
    /// Deepest accepted `%include` nesting (the main file is depth 0).
    pub max_include_depth: usize,
    /// Most `%include` directives followed in one parse.
    pub max_includes: usize,
    /// Most diagnostics reported before the parser gives up.
    pub max_diagnostics: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024 * 1024,
            max_total_bytes: 4 * 1024 * 1024,
            max_lines: 50_000,
            max_line_len: 8 * 1024,
            max_include_depth: 8,
            max_includes: 64,
            max_diagnostics: 100,
        }
    }
}
