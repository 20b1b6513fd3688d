//! The reading state machine: top-level lines, sections, includes.

use std::collections::BTreeMap;

use super::commands;
use super::diagnostic::{Diagnostic, Severity, Sink};
use super::include::IncludeResolver;
use super::lexer::{Line, split_lines, split_words};
use super::limits::Limits;
use super::magic::{mentions_magic, metadata_comment, parse_magic};
use super::model::{Command, Kickstart, Script, SectionOption};
use super::packages::{PlainList, Selection, content};
use super::sections::{Closed, SectionKind, parse_header, section_kind, skip_body};

/// The result of [`parse`]: the kickstart (always, best effort) and every
/// problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Parsed {
    /// What could be read, even when there were errors.
    pub kickstart: Kickstart,
    /// Errors and warnings in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Reads a kickstart.
///
/// `file` is the display name used in diagnostics and passed to
/// `includes` for relative `%include` targets. Input larger than
/// `limits.max_bytes` is refused before any other work.
pub fn parse(text: &[u8], file: &str, includes: &dyn IncludeResolver, limits: &Limits) -> Parsed {
    let mut p = Parser {
        includes,
        limits,
        sink: Sink::new(limits.max_diagnostics),
        ks: Kickstart::default(),
        stack: vec![file.to_string()],
        lines_left: limits.max_lines,
        bytes_total: text.len(),
        includes_followed: 0,
        repo_lines: BTreeMap::new(),
        packages_header: None,
        selection: Selection::default(),
        prepackages: PlainList::default(),
        attachments: PlainList::default(),
    };
    if text.len() > limits.max_bytes || text.len() > limits.max_total_bytes {
        p.sink.error(
            file,
            0,
            format!(
                "input is {} bytes; the limit is {} bytes",
                text.len(),
                limits.max_bytes.min(limits.max_total_bytes)
            ),
        );
    } else {
        p.read_file(file, text, 0);
    }
    let mut ks = p.ks;
    p.selection.finish(&mut ks.packages);
    ks.prepackages = p.prepackages.finish();
    ks.attachments = p.attachments.finish();
    Parsed {
        kickstart: ks,
        diagnostics: p.sink.into_vec(),
    }
}

/// The state of one [`parse`] call.
struct Parser<'r> {
    includes: &'r dyn IncludeResolver,
    limits: &'r Limits,
    sink: Sink,
    ks: Kickstart,
    /// Display names of the files being read, outermost first.
    stack: Vec<String>,
    lines_left: usize,
    bytes_total: usize,
    includes_followed: usize,
    /// Where each repo name was first defined, for duplicate detection.
    repo_lines: BTreeMap<String, (String, u32)>,
    /// Location and options of the first `%packages` header.
    packages_header: Option<(String, u32, Vec<SectionOption>)>,
    /// The `%packages` lines read so far.
    selection: Selection,
    prepackages: PlainList,
    attachments: PlainList,
}

impl Parser<'_> {
    /// Reads one file (the main one at depth 0, or an include).
    fn read_file(&mut self, file: &str, bytes: &[u8], depth: usize) {
        let Some(lines) = split_lines(
            bytes,
            file,
            self.limits,
            &mut self.lines_left,
            &mut self.sink,
        ) else {
            return;
        };
        let top = depth == 0;
        // Sailfish metadata comments only count before the first command.
        let mut leading_comments = top;
        let mut i = 0;
        while i < lines.len() && !self.sink.is_full() {
            let Line { no, text } = lines[i];
            let trimmed = text.trim_start();
            i += 1;
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('#') {
                self.comment(file, no, text, top, leading_comments);
                continue;
            }
            leading_comments = false;
            let words = match split_words(text) {
                Ok(w) => w,
                Err(e) => {
                    self.sink.error(file, no, e.to_string());
                    // A broken section header still opens its section, so
                    // the body is not misread as commands.
                    let first = trimmed.split_whitespace().next().unwrap_or_default();
                    if let Some(kind) = section_kind(first) {
                        i = self.section(file, &lines, i - 1, kind, &[]);
                    }
                    continue;
                }
            };
            if let Some(column) = words.comment_in_word {
                self.sink.warning(
                    file,
                    no,
                    format!(
                        "'#' in column {column} starts a comment (as in pykickstart); the rest of the line is ignored"
                    ),
                );
            }
            let Some(head) = words.words.first() else {
                continue;
            };
            if !head.starts_with('%') {
                self.command(file, no, &words.words);
                continue;
            }
            match head.as_str() {
                "%include" => self.include(file, no, &words.words, depth),
                "%ksappend" => self.sink.error(
                    file,
                    no,
                    "%ksappend is not supported (it fetches a URL when the installer starts); use %include",
                ),
                "%end" => self.sink.error(file, no, "%end without an open section"),
                _ => match section_kind(head) {
                    Some(kind) => i = self.section(file, &lines, i - 1, kind, &words.words[1..]),
                    None => {
                        self.sink.error(file, no, format!("unknown section {head}"));
                        // Skip its body so its lines are not read as commands.
                        i = skip_body(&lines, i).0;
                    }
                },
            }
        }
    }

    /// A comment line: the magic line, Sailfish metadata, or nothing.
    fn comment(&mut self, file: &str, no: u32, text: &str, top: bool, leading: bool) {
        let first_line = top && no == 1;
        if first_line {
            match parse_magic(text) {
                Ok(Some(magic)) => {
                    self.ks.magic = Some(magic);
                    return;
                }
                Ok(None) => {}
                Err(message) => {
                    self.sink.error(file, no, message);
                    return;
                }
            }
        }
        if mentions_magic(text) {
            let message = if first_line {
                "not a magic line: the -*-mic2-options-*- or -*-mic-options-*- marker must come right after the leading '#'"
            } else {
                "magic line ignored: mic only reads the -*-mic2-options-*- line on line 1 of the kickstart"
            };
            self.sink.warning(file, no, message);
        }
        if leading && let Some((key, value)) = metadata_comment(text) {
            self.ks.metadata.insert(key.to_string(), value.to_string());
        }
    }

    /// A command line: checked, typed (repo, part) and recorded.
    fn command(&mut self, file: &str, no: u32, words: &[String]) {
        let name = &words[0];
        if !commands::is_known(name) {
            self.sink
                .error(file, no, format!("unknown command '{name}'"));
            return;
        }
        let args = &words[1..];
        let checked = commands::check(name, args, file, no);
        for (severity, message) in checked.problems {
            self.report(severity, file, no, message);
        }
        if let Some(repo) = checked.repo {
            match self.repo_lines.get(&repo.name) {
                Some((f, l)) => {
                    self.sink.error(
                        file,
                        no,
                        format!("repo name '{}' is already used at {f}:{l}", repo.name),
                    );
                }
                None => {
                    self.repo_lines
                        .insert(repo.name.clone(), (file.to_string(), no));
                    self.ks.repos.push(repo);
                }
            }
        }
        self.ks.partitions.extend(checked.partition);
        self.ks.commands.push(Command {
            name: name.clone(),
            args: args.to_vec(),
            file: file.to_string(),
            line: no,
        });
    }

    fn report(&mut self, severity: Severity, file: &str, no: u32, message: String) {
        match severity {
            Severity::Error => self.sink.error(file, no, message),
            Severity::Warning => self.sink.warning(file, no, message),
        }
    }

    /// Follows a top-level `%include`, within the depth, count, size and
    /// cycle bounds.
    fn include(&mut self, file: &str, no: u32, words: &[String], depth: usize) {
        let Some(target) = words.get(1).filter(|t| !t.is_empty()) else {
            self.sink.error(file, no, "%include needs a file name");
            return;
        };
        if words.len() > 2 {
            self.sink.warning(
                file,
                no,
                "extra words after the %include file name are ignored",
            );
        }
        if depth + 1 > self.limits.max_include_depth {
            let max = self.limits.max_include_depth;
            self.sink.error(
                file,
                no,
                format!("%include {target}: includes are nested deeper than {max} levels"),
            );
            return;
        }
        if self.includes_followed >= self.limits.max_includes {
            let max = self.limits.max_includes;
            self.sink.error(
                file,
                no,
                format!("%include {target}: more than {max} includes"),
            );
            return;
        }
        self.includes_followed += 1;
        let included = match self.includes.read(file, target) {
            Ok(f) => f,
            Err(e) => {
                self.sink.error(file, no, format!("%include {target}: {e}"));
                return;
            }
        };
        if self.stack.contains(&included.name) {
            let chain = format!("{} -> {}", self.stack.join(" -> "), included.name);
            self.sink.error(
                file,
                no,
                format!("%include {target}: include cycle: {chain}"),
            );
            return;
        }
        self.bytes_total += included.bytes.len();
        if included.bytes.len() > self.limits.max_bytes
            || self.bytes_total > self.limits.max_total_bytes
        {
            self.sink.error(
                file,
                no,
                format!("%include {target}: the included text is too large"),
            );
            return;
        }
        self.stack.push(included.name.clone());
        self.read_file(&included.name, &included.bytes, depth + 1);
        self.stack.pop();
    }

    /// Reads the section whose header is `lines[start]`; returns the index
    /// of the first line after it.
    fn section(
        &mut self,
        file: &str,
        lines: &[Line<'_>],
        start: usize,
        kind: SectionKind,
        args: &[String],
    ) -> usize {
        let header_no = lines[start].no;
        let name = kind.header();
        let (end, closed) = skip_body(lines, start + 1);
        match closed {
            Closed::End => {}
            Closed::NewSection(no, ref next) => self.sink.error(
                file,
                header_no,
                format!("section {name} is not closed by %end before {next} on line {no}"),
            ),
            Closed::Eof => self.sink.error(
                file,
                header_no,
                format!("section {name} is not closed by %end"),
            ),
        }
        let mut header = parse_header(kind, args);
        for (severity, message) in std::mem::take(&mut header.problems) {
            self.report(severity, file, header_no, message);
        }
        let body = &lines[start + 1..end.min(lines.len())];
        let body = match closed {
            Closed::End => &body[..body.len().saturating_sub(1)],
            _ => body,
        };
        match kind {
            SectionKind::Script(script_kind) => {
                let mut text = String::new();
                for line in body {
                    if is_directive(line.text, "%include") || is_directive(line.text, "%ksappend") {
                        self.sink.error(
                            file,
                            line.no,
                            format!(
                                "%include and %ksappend are not supported inside {name}; put them at the top level"
                            ),
                        );
                        continue;
                    }
                    text.push_str(line.text);
                    text.push('\n');
                }
                self.ks.scripts.push(Script {
                    kind: script_kind,
                    nochroot: header.nochroot,
                    interpreter: header.interpreter,
                    erroronfail: header.erroronfail,
                    log: header.log,
                    args: header.args,
                    body: text,
                    file: file.to_string(),
                    line: header_no,
                });
            }
            SectionKind::Packages => self.packages(file, header_no, header.package_options, body),
            SectionKind::Prepackages | SectionKind::Attachment => {
                for line in body {
                    if line.text.trim_start().starts_with('%') {
                        self.sink.error(
                            file,
                            line.no,
                            format!("'{}' is not allowed inside {name}", content(line.text)),
                        );
                        continue;
                    }
                    let list = if kind == SectionKind::Prepackages {
                        &mut self.prepackages
                    } else {
                        &mut self.attachments
                    };
                    match list.apply_line(line.text, name) {
                        Ok(()) => {}
                        Err((true, message)) => self.sink.warning(file, line.no, message),
                        Err((false, message)) => self.sink.error(file, line.no, message),
                    }
                }
            }
        }
        end
    }

    /// Merges one `%packages` section into the selection.
    fn packages(&mut self, file: &str, no: u32, options: Vec<SectionOption>, body: &[Line<'_>]) {
        match &self.packages_header {
            None => self.packages_header = Some((file.to_string(), no, options.clone())),
            Some((f, l, first)) if *first != options => {
                let message = format!(
                    "%packages options differ from the %packages at {f}:{l}; pykickstart and mic only use the last header's options"
                );
                self.sink.warning(file, no, message);
            }
            Some(_) => {}
        }
        let p = &mut self.ks.packages;
        p.present = true;
        for option in options {
            match p.options.iter_mut().find(|o| o.name == option.name) {
                Some(existing) => existing.value = option.value,
                None => p.options.push(option),
            }
        }
        for line in body {
            if line.text.trim_start().starts_with('%') {
                self.sink.error(
                    file,
                    line.no,
                    format!(
                        "'{}' is not a package name (unknown directive inside %packages)",
                        content(line.text)
                    ),
                );
                continue;
            }
            if let Err(message) = self.selection.apply_line(line.text) {
                self.sink.error(file, line.no, message);
            }
        }
    }
}

/// True when the first word of `text` is `word`.
fn is_directive(text: &str, word: &str) -> bool {
    text.split_whitespace().next() == Some(word)
}
