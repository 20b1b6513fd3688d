//! IMG overlays (2010 design, section "Overlays"): a comma-separated list of packages and
//! `@groups` added to one platform section of a kickstarter template before rendering, e.g.
//! `gcc,@MeeGo Netbook Desktop,-google-chrome`.
//!
//! `@X` is appended to the platform's `Groups`; anything else, including `-pkg` removals (kept
//! with their minus, which kickstart reads as an exclusion), to its `ExtraPackages`. Items are
//! trimmed; empty items and repeats are dropped; order is kept. An overlay comes from a web
//! form or a message, so every item must look like a package or group name: nothing that a
//! shell, a kickstart parser or a YAML writer could read as anything else.

use std::collections::HashSet;
use std::fmt;

use crate::config::Template;
use crate::yaml::{HashKey, Map, Node, Value};

/// Longest package or group name accepted (RPM names in the corpus stay under 60).
pub const MAX_NAME_LEN: usize = 128;
/// Most items in one overlay.
pub const MAX_ITEMS: usize = 1000;
/// Longest overlay text accepted.
pub const MAX_OVERLAY_BYTES: usize = 64 * 1024;

/// A parsed overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    /// Group names (without the `@`), in order.
    pub groups: Vec<String>,
    /// Package names, removals with their leading `-`, in order.
    pub packages: Vec<String>,
}

/// Why an overlay was refused, naming the offending item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlayError {
    /// The overlay text is longer than [`MAX_OVERLAY_BYTES`].
    TooLong(usize),
    /// More than [`MAX_ITEMS`] items.
    TooManyItems(usize),
    /// One item cannot be a package or group name.
    BadItem {
        /// 1-based position in the comma-separated list.
        index: usize,
        /// The item as given (before trimming).
        item: String,
        /// Why it is refused.
        reason: String,
    },
    /// The platform section to apply to does not exist.
    UnknownPlatform {
        /// The platform asked for.
        platform: String,
        /// The platforms the template has.
        available: Vec<String>,
    },
    /// The platform's `Groups` or `ExtraPackages` exists but is not a list.
    NotAList {
        /// The platform section.
        platform: String,
        /// The key.
        key: String,
        /// Its type.
        found: &'static str,
    },
}

impl fmt::Display for OverlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverlayError::TooLong(n) => write!(
                f,
                "overlay is {n} bytes long, more than the limit of {MAX_OVERLAY_BYTES}"
            ),
            OverlayError::TooManyItems(n) => {
                write!(
                    f,
                    "overlay has {n} items, more than the limit of {MAX_ITEMS}"
                )
            }
            OverlayError::BadItem {
                index,
                item,
                reason,
            } => write!(f, "overlay item {index} {item:?}: {reason}"),
            OverlayError::UnknownPlatform {
                platform,
                available,
            } => write!(
                f,
                "platform {platform:?} is not a section of the template (available: {})",
                available.join(", ")
            ),
            OverlayError::NotAList {
                platform,
                key,
                found,
            } => write!(
                f,
                "platform {platform:?}: {key} is a {found}, so the overlay cannot be appended to it"
            ),
        }
    }
}

impl std::error::Error for OverlayError {}

/// Characters a shell, a kickstart line or YAML would treat specially.
const SHELL_META: &[char] = &[
    ';', '|', '&', '$', '`', '<', '>', '(', ')', '{', '}', '[', ']', '\'', '"', '\\', '!', '*',
    '?', '~', '#', '%', '=', '^',
];

fn check_name(name: &str, allow_spaces: bool) -> Result<(), String> {
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "name is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    if let Some(c) = name.chars().find(|c| SHELL_META.contains(c)) {
        return Err(format!("contains the shell metacharacter '{c}'"));
    }
    if let Some(c) = name.chars().find(|c| !c.is_ascii()) {
        return Err(format!("contains the non-ASCII character '{c}'"));
    }
    if !allow_spaces && name.contains(char::is_whitespace) {
        return Err("a package name cannot contain spaces".to_owned());
    }
    if allow_spaces && name.contains("  ") {
        return Err("a group name cannot contain consecutive spaces".to_owned());
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "._+-:/@ ".contains(c);
    if let Some(c) = name.chars().find(|&c| !ok(c)) {
        return Err(format!("contains '{c}', which is not allowed in a name"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a name must start with a letter, a digit or '_'".to_owned());
    }
    Ok(())
}

impl Overlay {
    /// Parses overlay text.
    pub fn parse(text: &str) -> Result<Overlay, OverlayError> {
        if text.len() > MAX_OVERLAY_BYTES {
            return Err(OverlayError::TooLong(text.len()));
        }
        let raw: Vec<&str> = text.split(',').collect();
        if raw.len() > MAX_ITEMS {
            return Err(OverlayError::TooManyItems(raw.len()));
        }
        let mut overlay = Overlay::default();
        for (i, item) in raw.iter().enumerate() {
            let bad = |reason: String| OverlayError::BadItem {
                index: i + 1,
                item: (*item).to_owned(),
                reason,
            };
            // Newlines inside an item are refused, not trimmed away: an item spanning lines is
            // not a name.
            let trimmed = item.trim_matches([' ', '\t']);
            if trimmed.is_empty() {
                continue;
            }
            if let Some(group) = trimmed.strip_prefix('@') {
                let group = group.trim_matches([' ', '\t']);
                if group.is_empty() {
                    return Err(bad("a bare '@' names no group".to_owned()));
                }
                check_name(group, true).map_err(bad)?;
                if !overlay.groups.iter().any(|g| g == group) {
                    overlay.groups.push(group.to_owned());
                }
            } else {
                let name = trimmed.strip_prefix('-').unwrap_or(trimmed);
                if name.is_empty() {
                    return Err(bad("a bare '-' names no package to remove".to_owned()));
                }
                check_name(name, false).map_err(bad)?;
                if name.contains('@') {
                    return Err(bad("'@' only starts a group name".to_owned()));
                }
                if !overlay.packages.iter().any(|p| p == trimmed) {
                    overlay.packages.push(trimmed.to_owned());
                }
            }
        }
        Ok(overlay)
    }

    /// Whether the overlay adds nothing.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.packages.is_empty()
    }

    /// Appends the overlay to `platform`'s `Groups` and `ExtraPackages`, and `extra_repos`
    /// (a deployment's own repositories, like the `internal` repository in the 2010 design's
    /// example) to its `Repos`. Entries the section already lists are not repeated.
    pub fn apply(
        &self,
        template: &mut Template,
        platform: &str,
        extra_repos: &[String],
    ) -> Result<(), OverlayError> {
        let available = template.platforms();
        if !available.iter().any(|p| p == platform) {
            return Err(OverlayError::UnknownPlatform {
                platform: platform.to_owned(),
                available,
            });
        }
        let Some(section) = template.section_mut(platform) else {
            return Err(OverlayError::UnknownPlatform {
                platform: platform.to_owned(),
                available,
            });
        };
        append(section, platform, "Groups", &self.groups)?;
        append(section, platform, "Repos", extra_repos)?;
        append(section, platform, "ExtraPackages", &self.packages)
    }
}

fn append(
    section: &mut Map,
    platform: &str,
    key: &str,
    items: &[String],
) -> Result<(), OverlayError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut list = match section.get(key).map(|n| &n.value) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Seq(items)) => items.clone(),
        Some(other) => {
            return Err(OverlayError::NotAList {
                platform: platform.to_owned(),
                key: key.to_owned(),
                found: other.type_name(),
            });
        }
    };
    let mut seen: HashSet<HashKey<'static>> = list
        .iter()
        .filter_map(|n| n.value.hash_key().map(HashKey::into_owned))
        .collect();
    for item in items {
        if seen.insert(HashKey::str(item).into_owned()) {
            list.push(Node::string(item.clone()));
        }
    }
    let mark = section.get(key).map(|n| n.mark).unwrap_or_default();
    section.insert(
        Node::string(key),
        Node {
            value: Value::Seq(list),
            mark,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        let o = Overlay::parse("gcc,@MeeGo Netbook Desktop,-google-chrome").unwrap();
        assert_eq!(o.groups, ["MeeGo Netbook Desktop"]);
        assert_eq!(o.packages, ["gcc", "-google-chrome"]);
    }

    #[test]
    fn trims_drops_empties_and_repeats_keeping_order() {
        let o = Overlay::parse(" b , a,,b, @ G ,@G, -a ,").unwrap();
        assert_eq!(o.packages, ["b", "a", "-a"]);
        assert_eq!(o.groups, ["G"]);
        assert!(Overlay::parse("").unwrap().is_empty());
        assert!(Overlay::parse(" , ,").unwrap().is_empty());
    }

    #[test]
    fn refuses_items_that_are_not_names_and_says_which() {
        let cases = [
            ("gcc,rm -rf /", 2, "cannot contain spaces"),
            ("gcc,vim;reboot", 2, "shell metacharacter ';'"),
            ("a,b,$(reboot)", 3, "shell metacharacter '$'"),
            ("gcc\nreboot", 1, "control character '\\n'"),
            ("@", 1, "bare '@'"),
            ("gcc, - ", 2, "bare '-'"),
            ("--force", 1, "must start with"),
            ("@Group`id`", 1, "shell metacharacter '`'"),
            ("caf\u{e9}", 1, "non-ASCII"),
            ("a@b", 1, "'@' only starts"),
        ];
        for (text, index, reason) in cases {
            match Overlay::parse(text) {
                Err(OverlayError::BadItem {
                    index: i,
                    reason: r,
                    ..
                }) => {
                    assert_eq!(i, index, "{text:?}");
                    assert!(r.contains(reason), "{text:?}: {r}");
                }
                other => panic!("{text:?}: expected a bad item, got {other:?}"),
            }
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let e = Overlay::parse(&long).unwrap_err();
        assert!(e.to_string().starts_with("overlay item 1 \"xxx"), "{e}");
        assert!(matches!(
            Overlay::parse(&"a,".repeat(MAX_ITEMS + 1)),
            Err(OverlayError::TooManyItems(_))
        ));
    }
}
