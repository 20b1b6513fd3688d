//! The `-i` index file (`image-configs.xml`) that mic2 reads as repodata type "image-config",
//! written byte for byte as lxml's pretty printer wrote it.

use crate::yaml::{Map, Value};

/// One `<config>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// `FileName` (the `.ks` is added).
    pub file_name: String,
    /// `Name`.
    pub description: String,
    /// `Architecture`, only when the section it was read from sets it.
    pub arch: Option<String>,
    /// `Schedule`; `None` gives an empty `<schedule/>`.
    pub schedule: Option<String>,
}

impl IndexEntry {
    /// The entry for a configuration's keys.
    pub fn from_map(map: &Map) -> Self {
        let text = |key: &str| {
            map.get(key)
                .filter(|n| !matches!(n.value, Value::Null))
                .and_then(|n| n.value.template_str())
        };
        IndexEntry {
            file_name: text("FileName").unwrap_or_default(),
            description: text("Name").unwrap_or_default(),
            arch: map.get("Architecture").and_then(|n| n.value.template_str()),
            schedule: text("Schedule"),
        }
    }
}

/// Escapes text content as lxml serialises it with its default ASCII encoding: `&`, `<`, `>`
/// as entities and everything outside ASCII as a decimal character reference.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#{};", u32::from(c))),
        }
    }
    out
}

fn element(out: &mut String, tag: &str, text: Option<&str>) {
    match text {
        // lxml writes an element whose text is None as `<tag/>`, and "" as `<tag></tag>`.
        None => out.push_str(&format!("    <{tag}/>\n")),
        Some(t) => out.push_str(&format!("    <{tag}>{}</{tag}>\n", escape(t))),
    }
}

/// The whole index document.
pub fn render_index(entries: &[IndexEntry]) -> String {
    if entries.is_empty() {
        return "<image-configs/>\n".to_owned();
    }
    let mut out = String::from("<image-configs>\n");
    for e in entries {
        out.push_str("  <config>\n");
        element(&mut out, "name", Some(&format!("{}.ks", e.file_name)));
        element(
            &mut out,
            "path",
            Some(&format!("image-configs/{}.ks", e.file_name)),
        );
        element(&mut out, "description", Some(&e.description));
        if let Some(arch) = &e.arch {
            element(&mut out, "arch", Some(arch));
        }
        element(&mut out, "md5", Some(""));
        element(&mut out, "schedule", e.schedule.as_deref());
        out.push_str("  </config>\n");
    }
    out.push_str("</image-configs>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_lxml() {
        assert_eq!(escape("a&b <c> \"d\" é"), "a&amp;b &lt;c&gt; \"d\" &#233;");
        assert_eq!(render_index(&[]), "<image-configs/>\n");
    }
}
