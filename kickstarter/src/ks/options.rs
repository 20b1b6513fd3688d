//! Option parsing for commands and section headers.
//!
//! pykickstart parses options with optparse (the versions mic bundles) or
//! argparse (current ones). We follow them where they agree: `--opt=value`
//! and `--opt value`, `--` ends the options, a repeated option keeps its last
//! value. Where they differ we pick the stricter reading that still accepts
//! the real corpus: a value never starts with `--` (argparse), and an
//! unambiguous abbreviation such as `--menu` for `--menus` is accepted, as
//! optparse did, but with a warning.

use super::diagnostic::Severity;

/// What an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    /// No value (`--save`).
    Flag,
    /// A string value (`--name=oss`).
    Value,
    /// An integer value (`--size=500`); mic's optparse rejects anything else.
    Int,
    /// A value from a fixed list.
    Choice(&'static [&'static str]),
}

/// One accepted option.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptSpec {
    /// Canonical name without dashes.
    pub(crate) name: &'static str,
    /// Other spellings without dashes (`ondrive` for `ondisk`).
    pub(crate) aliases: &'static [&'static str],
    /// What the option takes.
    pub(crate) arity: Arity,
}

/// Shorthand for table entries.
pub(crate) const fn opt(name: &'static str, arity: Arity) -> OptSpec {
    OptSpec {
        name,
        aliases: &[],
        arity,
    }
}

/// Shorthand for table entries with aliases.
pub(crate) const fn opt_alias(
    name: &'static str,
    aliases: &'static [&'static str],
    arity: Arity,
) -> OptSpec {
    OptSpec {
        name,
        aliases,
        arity,
    }
}

/// The result of parsing a word list against a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedArgs {
    /// Options in the order given, by canonical name; `None` for flags.
    pub(crate) options: Vec<(&'static str, Option<String>)>,
    /// Words that are not options.
    pub(crate) positionals: Vec<String>,
}

impl ParsedArgs {
    /// The value of the last occurrence of `name` (`Some(None)` for a flag).
    pub(crate) fn get(&self, name: &str) -> Option<&Option<String>> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The string value of the last occurrence of `name`.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.as_deref())
    }

    /// True when `name` was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Parses `args` against `specs`. `what` names the command or section in
/// messages. Problems are appended to `problems`; parsing always finishes.
pub(crate) fn parse_options(
    args: &[String],
    specs: &[OptSpec],
    what: &str,
    problems: &mut Vec<(Severity, String)>,
) -> ParsedArgs {
    let mut out = ParsedArgs::default();
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        i += 1;
        if word == "--" {
            // optparse (mic) stops option parsing here; `%packages --` is
            // what kickstarter writes for an empty PackageArgs.
            out.positionals.extend(args[i..].iter().cloned());
            break;
        }
        let Some(body) = word.strip_prefix("--") else {
            if word.len() > 1 && word.starts_with('-') {
                problems.push((Severity::Error, format!("unknown option {word} for {what}")));
            } else {
                out.positionals.push(word.clone());
            }
            continue;
        };
        let (written, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(spec) = lookup(written, specs, what, problems) else {
            continue;
        };
        let value = match spec.arity {
            Arity::Flag => {
                if inline.is_some() {
                    problems.push((
                        Severity::Error,
                        format!("option --{} of {what} takes no value", spec.name),
                    ));
                    continue;
                }
                None
            }
            Arity::Value | Arity::Int | Arity::Choice(_) => {
                let value = match inline {
                    Some(v) => v,
                    None => match args.get(i) {
                        Some(next) if !next.starts_with("--") => {
                            i += 1;
                            next.clone()
                        }
                        _ => {
                            problems.push((
                                Severity::Error,
                                format!("option --{} of {what} needs a value", spec.name),
                            ));
                            continue;
                        }
                    },
                };
                if let Some(problem) = check_value(spec, &value, what) {
                    problems.push((Severity::Error, problem));
                    continue;
                }
                Some(value)
            }
        };
        if let Some(previous) = out.get(spec.name).cloned()
            && value.is_some()
            && previous != value
        {
            problems.push((
                Severity::Warning,
                format!(
                    "option --{} of {what} is given more than once; the last value ({}) wins",
                    spec.name,
                    value.as_deref().unwrap_or_default()
                ),
            ));
        }
        out.options.push((spec.name, value));
    }
    out
}

/// Finds the spec for an option name as written (without dashes).
fn lookup<'s>(
    written: &str,
    specs: &'s [OptSpec],
    what: &str,
    problems: &mut Vec<(Severity, String)>,
) -> Option<&'s OptSpec> {
    let exact = specs
        .iter()
        .find(|s| s.name == written || s.aliases.contains(&written));
    if exact.is_some() {
        return exact;
    }
    let mut candidates: Vec<&OptSpec> = specs
        .iter()
        .filter(|s| {
            !written.is_empty()
                && (s.name.starts_with(written) || s.aliases.iter().any(|a| a.starts_with(written)))
        })
        .collect();
    candidates.dedup_by_key(|s| s.name);
    match candidates.as_slice() {
        [one] => {
            problems.push((
                Severity::Warning,
                format!("option --{written} of {what} is read as --{} (an abbreviation, as optparse allows); write it in full", one.name),
            ));
            Some(one)
        }
        [] => {
            problems.push((
                Severity::Error,
                format!("unknown option --{written} for {what}"),
            ));
            None
        }
        many => {
            let names: Vec<String> = many.iter().map(|s| format!("--{}", s.name)).collect();
            problems.push((
                Severity::Error,
                format!(
                    "option --{written} of {what} is ambiguous ({})",
                    names.join(", ")
                ),
            ));
            None
        }
    }
}

/// Checks a value against the option's arity; `Some(message)` when invalid.
fn check_value(spec: &OptSpec, value: &str, what: &str) -> Option<String> {
    match spec.arity {
        Arity::Int if value.parse::<i64>().is_err() => Some(format!(
            "option --{} of {what} needs an integer, not '{value}'",
            spec.name
        )),
        Arity::Choice(choices) if !choices.contains(&value) => Some(format!(
            "option --{} of {what} must be one of {}, not '{value}'",
            spec.name,
            choices.join(", ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[OptSpec] = &[
        opt("name", Arity::Value),
        opt("save", Arity::Flag),
        opt("size", Arity::Int),
        opt("menus", Arity::Value),
        opt("location", Arity::Choice(&["mbr", "none"])),
        opt_alias("ondisk", &["ondrive"], Arity::Value),
        opt("nocache", Arity::Flag),
        opt("noformat", Arity::Flag),
    ];

    fn run(line: &str) -> (ParsedArgs, Vec<(Severity, String)>) {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let mut problems = Vec::new();
        let parsed = parse_options(&args, SPECS, "test", &mut problems);
        (parsed, problems)
    }

    #[test]
    fn forms_of_values() {
        let (p, problems) = run("--name=a --size 5 --save / --ondrive=sda -- --x");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(p.value("name"), Some("a"));
        assert_eq!(p.value("size"), Some("5"));
        assert!(p.has("save"));
        assert_eq!(p.value("ondisk"), Some("sda"));
        assert_eq!(p.positionals, ["/", "--x"]);
        // An explicitly empty value is a value (`bootloader --menus=`).
        let (p, problems) = run("--menus=");
        assert!(problems.is_empty());
        assert_eq!(p.value("menus"), Some(""));
    }

    #[test]
    fn problems_are_reported() {
        let msgs = |line: &str| run(line).1.into_iter().map(|(_, m)| m).collect::<Vec<_>>();
        assert_eq!(msgs("--bogus"), ["unknown option --bogus for test"]);
        assert_eq!(msgs("-x"), ["unknown option -x for test"]);
        assert_eq!(msgs("--save=yes"), ["option --save of test takes no value"]);
        assert_eq!(msgs("--name"), ["option --name of test needs a value"]);
        assert_eq!(
            msgs("--name --save"),
            ["option --name of test needs a value"]
        );
        assert_eq!(
            msgs("--size="),
            ["option --size of test needs an integer, not ''"]
        );
        assert_eq!(
            msgs("--location=disk"),
            ["option --location of test must be one of mbr, none, not 'disk'"]
        );
        assert_eq!(
            msgs("--no"),
            ["option --no of test is ambiguous (--nocache, --noformat)"]
        );
    }

    #[test]
    fn abbreviations_and_repeats_warn() {
        let (p, problems) = run("--menu=x --name=a --name=b");
        assert_eq!(p.value("menus"), Some("x"));
        assert_eq!(p.value("name"), Some("b"));
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|(s, _)| *s == Severity::Warning));
        assert_eq!(
            problems[1].1,
            "option --name of test is given more than once; the last value (b) wins"
        );
    }
}
