//! Writing a [`Kickstart`] back out as normalised kickstart text, and
//! building one from typed parts.
//!
//! The output is what the web service shows as "the kickstart that will be
//! built": includes flattened, one command per line in the original order,
//! sections in a fixed order (`%packages`, `%prepackages`, `%attachment`,
//! then scripts in file order), comments dropped. Reading the output back
//! gives the same [`Kickstart`] apart from locations, as long as the values
//! are representable (no newlines in values, no `#` in package names, no
//! body line that is itself `%end` or a section header).

use std::fmt::Write as _;

use super::lexer::quote_word;
use super::model::{Command, GroupMode, Kickstart, Partition, Repo, Script};

fn option_word(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("--{name}={v}"),
        None => format!("--{name}"),
    }
}

impl Repo {
    /// The `repo` arguments that express this repo: `--name`, `--baseurl`
    /// or `--mirrorlist`, then the other options in name order.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![option_word("name", Some(&self.name))];
        args.extend(
            self.baseurl
                .as_deref()
                .map(|u| option_word("baseurl", Some(u))),
        );
        args.extend(
            self.mirrorlist
                .as_deref()
                .map(|u| option_word("mirrorlist", Some(u))),
        );
        args.extend(
            self.options
                .iter()
                .map(|(k, v)| option_word(k, v.as_deref())),
        );
        args
    }
}

impl Partition {
    /// The `part` arguments that express this partition.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![self.mountpoint.clone()];
        args.extend(self.size.map(|s| option_word("size", Some(&s.to_string()))));
        args.extend(
            self.ondisk
                .as_deref()
                .map(|v| option_word("ondisk", Some(v))),
        );
        args.extend(
            self.fstype
                .as_deref()
                .map(|v| option_word("fstype", Some(v))),
        );
        args.extend(self.label.as_deref().map(|v| option_word("label", Some(v))));
        args.extend(
            self.options
                .iter()
                .map(|(k, v)| option_word(k, v.as_deref())),
        );
        args
    }
}

impl Kickstart {
    /// Appends a command (not typed: use [`Kickstart::add_repo`] and
    /// [`Kickstart::add_partition`] for those, so `repos`/`partitions`
    /// stay in step with `commands`).
    pub fn add_command(&mut self, name: &str, args: Vec<String>) {
        self.commands.push(Command {
            name: name.to_string(),
            args,
            file: String::new(),
            line: 0,
        });
    }

    /// Appends a repo and the `repo` command that expresses it.
    pub fn add_repo(&mut self, repo: Repo) {
        self.commands.push(Command {
            name: "repo".into(),
            args: repo.to_args(),
            file: repo.file.clone(),
            line: repo.line,
        });
        self.repos.push(repo);
    }

    /// Appends a partition and the `part` command that expresses it.
    pub fn add_partition(&mut self, part: Partition) {
        self.commands.push(Command {
            name: "part".into(),
            args: part.to_args(),
            file: part.file.clone(),
            line: part.line,
        });
        self.partitions.push(part);
    }

    /// Writes the kickstart as normalised text (see the module docs).
    pub fn to_kickstart_text(&self) -> String {
        let mut out = String::new();
        if let Some(magic) = &self.magic {
            out.push_str(&magic.to_line());
            out.push('\n');
        }
        for (key, value) in &self.metadata {
            let _ = writeln!(out, "# {key}: {value}");
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for c in &self.commands {
            out.push_str(&c.name);
            for a in &c.args {
                out.push(' ');
                out.push_str(&quote_word(a));
            }
            out.push('\n');
        }
        self.write_packages(&mut out);
        for (header, list) in [
            ("%prepackages", &self.prepackages),
            ("%attachment", &self.attachments),
        ] {
            if !list.is_empty() {
                let _ = write!(out, "\n{header}\n");
                for item in list {
                    let _ = writeln!(out, "{item}");
                }
                out.push_str("%end\n");
            }
        }
        for s in &self.scripts {
            write_script(&mut out, s);
        }
        out
    }

    fn write_packages(&self, out: &mut String) {
        let p = &self.packages;
        if !p.present && p.is_empty() && p.options.is_empty() {
            return;
        }
        out.push_str("\n%packages");
        for o in &p.options {
            out.push(' ');
            out.push_str(&quote_word(&option_word(&o.name, o.value.as_deref())));
        }
        out.push('\n');
        if let Some(env) = &p.environment {
            let _ = writeln!(out, "@^{env}");
        }
        for g in &p.groups {
            let suffix = match g.mode {
                GroupMode::Default => "",
                GroupMode::NoDefaults => " --nodefaults",
                GroupMode::Optional => " --optional",
            };
            let _ = writeln!(out, "@{}{suffix}", g.name);
        }
        for pkg in &p.packages {
            let _ = writeln!(out, "{pkg}");
        }
        for g in &p.excluded_groups {
            let _ = writeln!(out, "-@{g}");
        }
        for pkg in &p.excluded_packages {
            let _ = writeln!(out, "-{pkg}");
        }
        out.push_str("%end\n");
    }
}

fn write_script(out: &mut String, s: &Script) {
    out.push('\n');
    out.push_str(s.kind.header());
    let mut words = Vec::new();
    if s.nochroot {
        words.push("--nochroot".to_string());
    }
    words.extend(
        s.interpreter
            .as_deref()
            .map(|i| option_word("interpreter", Some(i))),
    );
    if s.erroronfail {
        words.push("--erroronfail".to_string());
    }
    words.extend(s.log.as_deref().map(|l| option_word("log", Some(l))));
    words.extend(s.args.iter().cloned());
    for w in words {
        out.push(' ');
        out.push_str(&quote_word(&w));
    }
    out.push('\n');
    out.push_str(&s.body);
    if !s.body.is_empty() && !s.body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("%end\n");
}
