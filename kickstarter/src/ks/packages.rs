//! Lines of `%packages`, `%prepackages` and `%attachment`.
//!
//! `%packages` follows pykickstart's `Packages.add`: text after the first
//! `#` is a comment (so `#~@group` lines are comments too), surrounding
//! whitespace including TABs is dropped, `@group [--nodefaults|--optional]`,
//! `@^environment`, `-pkg`, `-@group`, anything else is a package name or
//! glob. One deliberate difference: a line that *starts* with a mic token
//! such as `@ARCH@-foo` is a package, because Tizen/Sailfish mic replace
//! `@ARCH@`-style tokens before parsing; pykickstart would see a group
//! named `ARCH@-foo`. Tokens elsewhere (`kernel-@ARCH@`) need no rule.

use std::collections::{HashMap, HashSet};

use super::model::{Group, GroupMode, Packages};

/// Strips the comment and surrounding whitespace from a list-section line.
pub(crate) fn content(line: &str) -> &str {
    line.split('#').next().unwrap_or_default().trim()
}

/// True when `s` starts with a mic substitution token like `@ARCH@`.
fn starts_with_token(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('@') else {
        return false;
    };
    let Some(end) = rest.find('@') else {
        return false;
    };
    let token = &rest[..end];
    token.starts_with(|c: char| c.is_ascii_uppercase())
        && token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Checks that a package name is one word.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("empty package name".into())
    } else if name.contains(char::is_whitespace) {
        Err(format!(
            "'{name}' is not one package name; write one package per line"
        ))
    } else {
        Ok(())
    }
}

/// The package selection while it is being read.
///
/// Hash maps keep every line O(1), so a 50 000-line `%packages` cannot turn
/// into quadratic work; each entry remembers when it (last) joined its list
/// so [`Selection::finish`] can restore the order of appearance.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    seq: usize,
    /// Package name -> (when it joined its list, true = included).
    packages: HashMap<String, (usize, bool)>,
    /// Group name -> (when it was added, mode).
    groups: HashMap<String, (usize, GroupMode)>,
    /// Excluded group name -> when it was added.
    excluded_groups: HashMap<String, usize>,
    environment: Option<String>,
}

impl Selection {
    fn next(&mut self) -> usize {
        self.seq += 1;
        self.seq
    }

    /// Applies one `%packages` body line. Blank and comment lines are
    /// ignored; `Err` carries the message for a line that is not valid.
    pub(crate) fn apply_line(&mut self, line: &str) -> Result<(), String> {
        let line = content(line);
        if line.is_empty() {
            return Ok(());
        }
        if starts_with_token(line) {
            return self.set_package(line, true);
        }
        if let Some(env) = line.strip_prefix("@^") {
            let env = env.trim();
            if env.is_empty() {
                return Err("empty environment name after '@^'".into());
            }
            self.environment = Some(env.to_string());
            return Ok(());
        }
        if let Some(group) = line.strip_prefix('@') {
            return self.include_group(group);
        }
        let Some(excluded) = line.strip_prefix('-') else {
            return self.set_package(line, true);
        };
        if starts_with_token(excluded) {
            return self.set_package(excluded, false);
        }
        if let Some(env) = excluded.strip_prefix("@^") {
            // pykickstart only drops the environment when the names match.
            if self.environment.as_deref() == Some(env.trim()) {
                self.environment = None;
            }
            return Ok(());
        }
        if let Some(group) = excluded.strip_prefix('@') {
            let name = group.split_whitespace().collect::<Vec<_>>().join(" ");
            if name.is_empty() {
                return Err("empty group name after '-@'".into());
            }
            self.groups.remove(&name);
            if !self.excluded_groups.contains_key(&name) {
                let seq = self.next();
                self.excluded_groups.insert(name, seq);
            }
            return Ok(());
        }
        self.set_package(excluded.trim_start(), false)
    }

    /// Includes (`true`) or excludes a package; the last mention wins, as
    /// in pykickstart.
    fn set_package(&mut self, name: &str, include: bool) -> Result<(), String> {
        check_name(name)?;
        if self
            .packages
            .get(name)
            .is_none_or(|&(_, was)| was != include)
        {
            let seq = self.next();
            self.packages.insert(name.to_string(), (seq, include));
        }
        Ok(())
    }

    fn include_group(&mut self, text: &str) -> Result<(), String> {
        let mut mode = GroupMode::Default;
        let mut words = Vec::new();
        for word in text.split_whitespace() {
            match word {
                "--nodefaults" | "--optional" if mode != GroupMode::Default => {
                    return Err("a group cannot have both --nodefaults and --optional".into());
                }
                "--nodefaults" => mode = GroupMode::NoDefaults,
                "--optional" => mode = GroupMode::Optional,
                w if w.starts_with("--") => return Err(format!("unknown group option {w}")),
                w => words.push(w),
            }
        }
        if words.is_empty() {
            return Err("empty group name after '@'".into());
        }
        // pykickstart keeps the first mention of a group and ignores repeats.
        let name = words.join(" ");
        if !self.groups.contains_key(&name) {
            let seq = self.next();
            self.groups.insert(name, (seq, mode));
        }
        Ok(())
    }

    /// Writes the lists, in order of appearance, into `out`.
    pub(crate) fn finish(self, out: &mut Packages) {
        let mut packages: Vec<(usize, bool, String)> = self
            .packages
            .into_iter()
            .map(|(name, (seq, inc))| (seq, inc, name))
            .collect();
        packages.sort_unstable();
        for (_, include, name) in packages {
            if include {
                out.packages.push(name)
            } else {
                out.excluded_packages.push(name)
            }
        }
        let mut groups: Vec<(usize, String, GroupMode)> = self
            .groups
            .into_iter()
            .map(|(name, (seq, mode))| (seq, name, mode))
            .collect();
        groups.sort_unstable_by_key(|g| g.0);
        out.groups = groups
            .into_iter()
            .map(|(_, name, mode)| Group { name, mode })
            .collect();
        let mut excluded: Vec<(usize, String)> = self
            .excluded_groups
            .into_iter()
            .map(|(n, s)| (s, n))
            .collect();
        excluded.sort_unstable();
        out.excluded_groups = excluded.into_iter().map(|(_, n)| n).collect();
        out.environment = self.environment;
    }
}

/// A `%prepackages` or `%attachment` list while it is being read.
#[derive(Debug, Default)]
pub(crate) struct PlainList {
    seen: HashSet<String>,
    items: Vec<String>,
}

impl PlainList {
    /// Applies one line.
    ///
    /// mic feeds these through the same `Packages.add` but only ever uses
    /// the plain names, so groups and exclusions would be silently dropped:
    /// `Err((true, msg))` reports that as a warning, `Err((false, msg))` is
    /// an error.
    pub(crate) fn apply_line(&mut self, line: &str, section: &str) -> Result<(), (bool, String)> {
        let line = content(line);
        if line.is_empty() {
            return Ok(());
        }
        if line.starts_with(['@', '-']) && !starts_with_token(line) {
            return Err((
                true,
                format!(
                    "'{line}' is ignored: {section} only takes plain names, not groups or exclusions"
                ),
            ));
        }
        if line.contains(char::is_whitespace) {
            return Err((
                false,
                format!("'{line}' is not one name; write one entry per line in {section}"),
            ));
        }
        if self.seen.insert(line.to_string()) {
            self.items.push(line.to_string());
        }
        Ok(())
    }

    /// The names in order of appearance.
    pub(crate) fn finish(self) -> Vec<String> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(lines: &[&str]) -> Packages {
        let mut s = Selection::default();
        for l in lines {
            s.apply_line(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        }
        let mut p = Packages::default();
        s.finish(&mut p);
        p
    }

    #[test]
    fn the_line_forms() {
        let p = apply(&[
            "@MeeGo Core",
            "@  Spaced   Group  ",
            "@^cloud-server-environment",
            "\tlibbluetooth-share",
            "kernel-@ARCH@",
            "@ARCH@-firmware",
            "-aspell-*",
            "-@ Printing",
            "#~@Commented",
            "vim # trailing comment",
            "@Jolla Configuration @PATTERN@",
            "@ opt --optional",
        ]);
        assert_eq!(
            p.packages,
            [
                "libbluetooth-share",
                "kernel-@ARCH@",
                "@ARCH@-firmware",
                "vim"
            ]
        );
        let groups: Vec<(&str, GroupMode)> =
            p.groups.iter().map(|g| (g.name.as_str(), g.mode)).collect();
        assert_eq!(
            groups,
            [
                ("MeeGo Core", GroupMode::Default),
                ("Spaced Group", GroupMode::Default),
                ("Jolla Configuration @PATTERN@", GroupMode::Default),
                ("opt", GroupMode::Optional),
            ]
        );
        assert_eq!(p.environment.as_deref(), Some("cloud-server-environment"));
        assert_eq!(p.excluded_packages, ["aspell-*"]);
        assert_eq!(p.excluded_groups, ["Printing"]);
    }

    #[test]
    fn last_mention_wins_like_pykickstart() {
        let p = apply(&[
            "a", "b", "-a", "-c", "c", "@g", "-@g", "@^e", "-@^other", "b",
        ]);
        assert_eq!(p.packages, ["b", "c"]);
        assert_eq!(p.excluded_packages, ["a"]);
        assert!(p.groups.is_empty());
        assert_eq!(p.excluded_groups, ["g"]);
        assert_eq!(p.environment.as_deref(), Some("e"));
    }

    #[test]
    fn bad_lines() {
        let err = |l: &str| Selection::default().apply_line(l).unwrap_err();
        assert_eq!(
            err("foo bar"),
            "'foo bar' is not one package name; write one package per line"
        );
        assert_eq!(err("@"), "empty group name after '@'");
        assert_eq!(err("-"), "empty package name");
        assert_eq!(
            err("@g --nodefaults --optional"),
            "a group cannot have both --nodefaults and --optional"
        );
        assert_eq!(err("@g --bogus"), "unknown group option --bogus");
    }

    #[test]
    fn plain_lists() {
        let mut list = PlainList::default();
        assert_eq!(list.apply_line("/boot/vmlinuz-*", "%attachment"), Ok(()));
        assert_eq!(list.apply_line("  # comment", "%attachment"), Ok(()));
        assert_eq!(list.apply_line("/boot/vmlinuz-*", "%attachment"), Ok(()));
        assert!(matches!(
            list.apply_line("@grp", "%prepackages"),
            Err((true, _))
        ));
        assert!(matches!(
            list.apply_line("a b", "%prepackages"),
            Err((false, _))
        ));
        assert_eq!(list.finish(), ["/boot/vmlinuz-*"]);
    }
}
