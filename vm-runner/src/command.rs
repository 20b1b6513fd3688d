//! The image creator's command line, from the configurable template: every word is expanded
//! and then quoted for the guest's shell, so nothing in it (not even a job name) can be read
//! as shell syntax. The values are the runner's own (fixed paths, validated names), never
//! the user's kickstart text.

use std::fmt;

/// The placeholders a creator template may use.
pub const PLACEHOLDERS: &[&str] = &["format", "ks", "outdir", "name", "arch", "cachedir"];

/// The values for one build.
#[derive(Debug, Clone, Copy)]
pub struct CreatorArgs<'a> {
    /// The image format name (`raw`, `livecd`, …).
    pub format: &'a str,
    /// The kickstart's path in the guest.
    pub ks: &'a str,
    /// The output directory in the guest.
    pub outdir: &'a str,
    /// The image name (the kickstart's base name).
    pub name: &'a str,
    /// The architecture (`x86_64` unless the kickstart says otherwise).
    pub arch: &'a str,
    /// The package cache's path in the guest, if there is one.
    pub cachedir: Option<&'a str>,
}

/// A template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// Checks a template: words, known placeholders, and a `{ks}` somewhere.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    let words: Vec<&str> = template.split_whitespace().collect();
    if words.is_empty() {
        return Err(TemplateError("the creator command is empty".into()));
    }
    for word in &words {
        let mut rest = *word;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                return Err(TemplateError(format!(
                    "creator command word {word:?}: unclosed '{{'"
                )));
            };
            let name = &rest[start + 1..start + end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError(format!(
                    "creator command word {word:?}: unknown placeholder {{{name}}} (known: {})",
                    PLACEHOLDERS.join(", ")
                )));
            }
            rest = &rest[start + end + 1..];
        }
    }
    if !template.contains("{ks}") {
        return Err(TemplateError(
            "the creator command must pass the kickstart ({ks})".into(),
        ));
    }
    Ok(())
}

/// The template's words with the placeholders replaced; words naming `{cachedir}` are left
/// out when there is no cache.
pub fn expand(template: &str, args: CreatorArgs<'_>) -> Vec<String> {
    template
        .split_whitespace()
        .filter(|word| args.cachedir.is_some() || !word.contains("{cachedir}"))
        .map(|word| {
            word.replace("{format}", args.format)
                .replace("{ks}", args.ks)
                .replace("{outdir}", args.outdir)
                .replace("{name}", args.name)
                .replace("{arch}", args.arch)
                .replace("{cachedir}", args.cachedir.unwrap_or_default())
        })
        .collect()
}

/// Words joined into a command line for the guest's shell, each quoted.
pub fn shell_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shlex::try_quote(w).map_or_else(|_| "''".to_owned(), |q| q.into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: CreatorArgs<'static> = CreatorArgs {
        format: "raw",
        ks: "/var/tmp/img/nb.ks",
        outdir: "/mnt/img-out",
        name: "nb",
        arch: "x86_64",
        cachedir: None,
    };

    #[test]
    fn templates_expand_for_mic_and_mic2() {
        assert_eq!(
            expand("mic create {format} {ks} -o {outdir}", ARGS),
            [
                "mic",
                "create",
                "raw",
                "/var/tmp/img/nb.ks",
                "-o",
                "/mnt/img-out"
            ]
        );
        assert_eq!(
            expand(
                "mic-image-creator --config={ks} --format={format} --outdir={outdir} --arch={arch}",
                ARGS
            ),
            [
                "mic-image-creator",
                "--config=/var/tmp/img/nb.ks",
                "--format=raw",
                "--outdir=/mnt/img-out",
                "--arch=x86_64"
            ]
        );
    }

    #[test]
    fn the_cache_word_goes_in_only_with_a_cache() {
        let template = "mic create {format} {ks} -o {outdir} --cachedir={cachedir}";
        assert_eq!(expand(template, ARGS).last().unwrap(), "/mnt/img-out");
        let cached = CreatorArgs {
            cachedir: Some("/var/cache/img-packages"),
            ..ARGS
        };
        assert_eq!(
            expand(template, cached).last().unwrap(),
            "--cachedir=/var/cache/img-packages"
        );
        assert!(check_template(template).is_ok());
    }

    #[test]
    fn bad_templates_are_refused_with_the_word() {
        assert!(check_template("mic create {format} {ks} -o {outdir}").is_ok());
        let e = check_template("mic create {fmt} {ks}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown placeholder {fmt}"), "{e}");
        assert!(check_template("mic create {format").is_err());
        assert!(
            check_template("mic create raw")
                .unwrap_err()
                .to_string()
                .contains("{ks}")
        );
        assert!(check_template("  ").is_err());
    }

    #[test]
    fn the_shell_line_quotes_every_word() {
        let words = vec!["mic".to_owned(), "a b".to_owned(), "$(x)".to_owned()];
        assert_eq!(shell_line(&words), "mic 'a b' '$(x)'");
    }
}
