//! Section headers: which `%name`s exist and which options they take.
//!
//! The list is pykickstart's registered sections plus mic's `%prepackages`
//! and `%attachment` and Sailfish mic's `%pack`. Every section ends at
//! `%end`; a known header before `%end` means the previous section was not
//! closed (an error since pykickstart's F8 syntax, which every real file
//! follows).

use super::diagnostic::Severity;
use super::lexer::Line;
use super::model::{ScriptKind, SectionOption};
use super::options::{Arity, OptSpec, opt, opt_alias, parse_options};

use Arity::{Flag, Int, Value};

/// What a section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKind {
    /// `%packages`.
    Packages,
    /// `%prepackages` (mic).
    Prepackages,
    /// `%attachment` (mic).
    Attachment,
    /// A script-like section, body kept verbatim.
    Script(ScriptKind),
}

impl SectionKind {
    /// The header word, e.g. `%packages`.
    pub(crate) fn header(self) -> &'static str {
        match self {
            SectionKind::Packages => "%packages",
            SectionKind::Prepackages => "%prepackages",
            SectionKind::Attachment => "%attachment",
            SectionKind::Script(kind) => kind.header(),
        }
    }
}

/// The section a header word opens, if it is one we know.
pub(crate) fn section_kind(word: &str) -> Option<SectionKind> {
    match word {
        "%packages" => Some(SectionKind::Packages),
        "%prepackages" => Some(SectionKind::Prepackages),
        "%attachment" => Some(SectionKind::Attachment),
        _ => ScriptKind::ALL
            .into_iter()
            .find(|k| k.header() == word)
            .map(SectionKind::Script),
    }
}

const PACKAGES: &[OptSpec] = &[
    opt("excludedocs", Flag),
    opt("ignoremissing", Flag),
    opt_alias("instLangs", &["inst-langs"], Value),
    opt("nobase", Flag),
    opt("nocore", Flag),
    opt("default", Flag),
    opt("resolvedeps", Flag),
    opt("ignoredeps", Flag),
    opt("multilib", Flag),
    opt_alias("excludeWeakdeps", &["exclude-weakdeps"], Flag),
    opt("timeout", Int),
    opt("retries", Int),
    opt("ignorebroken", Flag),
];

const SCRIPT: &[OptSpec] = &[
    opt("erroronfail", Flag),
    opt("interpreter", Value),
    opt_alias("log", &["logfile"], Value),
];

const POST: &[OptSpec] = &[
    opt("erroronfail", Flag),
    opt("interpreter", Value),
    opt_alias("log", &["logfile"], Value),
    opt("nochroot", Flag),
];

/// A parsed section header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Header {
    /// `%packages` options in order.
    pub(crate) package_options: Vec<SectionOption>,
    /// Script flags and values.
    pub(crate) nochroot: bool,
    pub(crate) erroronfail: bool,
    pub(crate) interpreter: Option<String>,
    pub(crate) log: Option<String>,
    /// Words kept as they are (`%addon` name and options).
    pub(crate) args: Vec<String>,
    /// Problems found in the header.
    pub(crate) problems: Vec<(Severity, String)>,
}

/// Parses the words after the header word.
pub(crate) fn parse_header(kind: SectionKind, args: &[String]) -> Header {
    let mut h = Header::default();
    let name = kind.header();
    let specs = match kind {
        SectionKind::Packages => PACKAGES,
        SectionKind::Script(ScriptKind::Post) => POST,
        SectionKind::Script(k) if k.is_program() => SCRIPT,
        SectionKind::Script(_) => {
            // %addon/%anaconda/%certificate belong to the installer; keep
            // their words for whoever consumes them.
            h.args = args.to_vec();
            return h;
        }
        SectionKind::Prepackages | SectionKind::Attachment => {
            if !args.is_empty() {
                h.problems.push((
                    Severity::Warning,
                    format!("{name} takes no options; mic ignores '{}'", args.join(" ")),
                ));
            }
            return h;
        }
    };
    let parsed = parse_options(args, specs, name, &mut h.problems);
    if !parsed.positionals.is_empty() {
        let extra: Vec<String> = parsed
            .positionals
            .iter()
            .map(|w| format!("'{w}'"))
            .collect();
        h.problems.push((
            Severity::Error,
            format!("unexpected argument {} for {name}", extra.join(" ")),
        ));
    }
    if kind == SectionKind::Packages {
        for (option, value) in parsed.options {
            // One entry per option; a later value replaces an earlier one.
            match h.package_options.iter_mut().find(|o| o.name == option) {
                Some(existing) => existing.value = value,
                None => h.package_options.push(SectionOption {
                    name: option.to_string(),
                    value,
                }),
            }
        }
        if parsed_has(&h.package_options, "default") && parsed_has(&h.package_options, "nobase") {
            h.problems.push((
                Severity::Error,
                "--default and --nobase cannot be used together".into(),
            ));
        }
        if parsed_has(&h.package_options, "default") && parsed_has(&h.package_options, "nocore") {
            h.problems.push((
                Severity::Error,
                "--default and --nocore cannot be used together".into(),
            ));
        }
        return h;
    }
    h.nochroot = parsed.has("nochroot");
    h.erroronfail = parsed.has("erroronfail");
    h.interpreter = parsed.value("interpreter").map(String::from);
    h.log = parsed.value("log").map(String::from);
    h
}

fn parsed_has(options: &[SectionOption], name: &str) -> bool {
    options.iter().any(|o| o.name == name)
}

/// How a section body ended.
pub(crate) enum Closed {
    /// By `%end` (the `%end` line is the last line of the body range).
    End,
    /// By the header of another section: its line number and name.
    NewSection(u32, String),
    /// By the end of the file.
    Eof,
}

/// Finds the end of a section body starting at `lines[from]`. Returns the
/// index after the body (after `%end` when closed by it) and how it ended.
pub(crate) fn skip_body(lines: &[Line<'_>], from: usize) -> (usize, Closed) {
    for (i, line) in lines.iter().enumerate().skip(from) {
        let first = line.text.split_whitespace().next().unwrap_or_default();
        if first == "%end" {
            return (i + 1, Closed::End);
        }
        // Only known headers end a body: scripts may contain other `%` lines.
        if section_kind(first).is_some() {
            return (i, Closed::NewSection(line.no, first.to_string()));
        }
    }
    (lines.len(), Closed::Eof)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> (SectionKind, Header) {
        let words = crate::ks::lexer::split_words(line).unwrap().words;
        let kind = section_kind(&words[0]).unwrap();
        (kind, parse_header(kind, &words[1..]))
    }

    #[test]
    fn known_sections() {
        for s in [
            "%packages",
            "%prepackages",
            "%attachment",
            "%pre",
            "%pre-install",
            "%post",
            "%onerror",
            "%traceback",
            "%pack",
            "%addon",
            "%anaconda",
            "%certificate",
        ] {
            assert_eq!(section_kind(s).map(SectionKind::header), Some(s));
        }
        assert_eq!(section_kind("%end"), None);
        assert_eq!(section_kind("%include"), None);
        assert_eq!(section_kind("%postinstall"), None);
    }

    #[test]
    fn script_headers() {
        let (_, h) =
            header("%post --nochroot --interpreter=/bin/bash --erroronfail --log=/tmp/x.log");
        assert!(h.problems.is_empty(), "{:?}", h.problems);
        assert!(h.nochroot && h.erroronfail);
        assert_eq!(
            (h.interpreter.as_deref(), h.log.as_deref()),
            (Some("/bin/bash"), Some("/tmp/x.log"))
        );
        let (_, h) = header("%pre --nochroot");
        assert_eq!(
            h.problems,
            [(
                Severity::Error,
                "unknown option --nochroot for %pre".to_string()
            )]
        );
        let (_, h) = header("%pack --erroronfail");
        assert!(h.problems.is_empty() && h.erroronfail);
        let (_, h) = header("%addon com_redhat_kdump --enable --reserve-mb=auto");
        assert_eq!(
            h.args,
            ["com_redhat_kdump", "--enable", "--reserve-mb=auto"]
        );
    }

    #[test]
    fn packages_headers() {
        let (_, h) = header("%packages --excludedocs --ignoremissing --instLangs=en");
        assert!(h.problems.is_empty());
        let names: Vec<(&str, Option<&str>)> = h
            .package_options
            .iter()
            .map(|o| (o.name.as_str(), o.value.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("excludedocs", None),
                ("ignoremissing", None),
                ("instLangs", Some("en"))
            ]
        );
        assert!(
            header("%packages --").1.problems.is_empty(),
            "kickstarter writes `%packages --`"
        );
        assert_eq!(
            header("%packages --default --nobase").1.problems[0].1,
            "--default and --nobase cannot be used together"
        );
        assert_eq!(
            header("%packages --bogus").1.problems[0].1,
            "unknown option --bogus for %packages"
        );
        assert_eq!(
            header("%packages extra").1.problems[0].1,
            "unexpected argument 'extra' for %packages"
        );
        assert_eq!(
            header("%attachment --x").1.problems[0],
            (
                Severity::Warning,
                "%attachment takes no options; mic ignores '--x'".to_string()
            )
        );
    }
}
