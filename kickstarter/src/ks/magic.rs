//! The "magic" first line that tells `mic create auto` / mic2 how to build.
//!
//! mic matches the first line against
//! `^#\s*-\*-mic-options-\*-\s+(.*)\s+-\*-mic-options-\*-` (Tizen/Mer/Sailfish
//! mic: the first word is the image type) or the same with `mic2` (MeeGo
//! mic2: the image type is the value of `-f`/`--format`). The rest of the
//! line becomes extra command-line arguments, so we split it like a shell
//! would, but never run it.

use serde::Serialize;

use super::lexer::{quote_word, split_words};

/// Image types that mic2 or mic can build (`qcow` is mic's name for qcow2
/// output). `auto` is deliberately absent: it is the mic subcommand that
/// *reads* this line, not a type.
pub const IMAGE_TYPES: &[&str] = &[
    "livecd", "liveusb", "loop", "raw", "nand", "mrstnand", "vdi", "vmdk", "qcow2", "qcow", "fs",
];

const MIC2_MARKER: &str = "-*-mic2-options-*-";
const MIC_MARKER: &str = "-*-mic-options-*-";

/// Which tool's magic line this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MagicKind {
    /// `# -*-mic2-options-*- -f raw ... -*-mic2-options-*-` (MeeGo mic2).
    Mic2,
    /// `# -*-mic-options-*- livecd ... -*-mic-options-*-` (Tizen/Mer mic).
    Mic,
}

impl MagicKind {
    fn marker(self) -> &'static str {
        match self {
            MagicKind::Mic2 => MIC2_MARKER,
            MagicKind::Mic => MIC_MARKER,
        }
    }
}

/// A parsed magic line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MagicLine {
    /// mic2 or mic style.
    pub kind: MagicKind,
    /// The image type (`-f`/`--format` for mic2, the first word for mic);
    /// `None` when a mic2 line has no `-f` (Mer files only set `--arch`).
    pub image_type: Option<String>,
    /// The value of the last `--arch`/`-A` option (optparse keeps the last
    /// one; real files say `--arch=i586 ... --arch=ia32`).
    pub arch: Option<String>,
    /// Every word between the markers, in order, as a shell would split it.
    pub options: Vec<String>,
}

impl MagicLine {
    /// Builds a magic line from its option words, validating them like the
    /// parser does.
    pub fn from_options(kind: MagicKind, options: Vec<String>) -> Result<MagicLine, String> {
        interpret(kind, options)
    }

    /// The line as it would appear at the top of a kickstart.
    pub fn to_line(&self) -> String {
        let marker = self.kind.marker();
        let words: Vec<String> = self.options.iter().map(|w| quote_word(w)).collect();
        format!("# {marker} {} {marker}", words.join(" "))
    }
}

/// True when a comment line carries a magic marker (used to warn about
/// magic lines that are not on line 1, where mic never looks).
pub(crate) fn mentions_magic(line: &str) -> bool {
    line.contains(MIC2_MARKER) || line.contains(MIC_MARKER)
}

/// Parses a first line. `Ok(None)`: an ordinary line; `Err`: a line that
/// tries to be a magic line but that mic would reject.
pub(crate) fn parse_magic(line: &str) -> Result<Option<MagicLine>, String> {
    let Some(after_hash) = line.strip_prefix('#') else {
        return Ok(None);
    };
    let rest = after_hash.trim_start();
    let kind = if rest.starts_with(MIC2_MARKER) {
        MagicKind::Mic2
    } else if rest.starts_with(MIC_MARKER) {
        MagicKind::Mic
    } else {
        // Markers elsewhere make no magic line for mic's regex; the caller
        // warns about them.
        return Ok(None);
    };
    let marker = kind.marker();
    let after = &rest[marker.len()..];
    // Emulate `\s+(.*)\s+MARKER` with a greedy `.*`: the closing marker is
    // the last occurrence that is preceded by whitespace.
    let closing = after
        .rmatch_indices(marker)
        .map(|(i, _)| i)
        .find(|&i| after[..i].ends_with(char::is_whitespace));
    let Some(end) = closing else {
        return Err(format!(
            "malformed magic line: it opens with {marker} but has no closing {marker}"
        ));
    };
    let inner = &after[..end];
    if !inner.starts_with(char::is_whitespace) || inner.trim().is_empty() {
        return Err(format!(
            "malformed magic line: no options between the {marker} markers"
        ));
    }
    let words = split_words(inner).map_err(|e| format!("malformed magic line: {e}"))?;
    interpret(kind, words.words).map(Some)
}

/// Reads image type and arch out of the option words.
fn interpret(kind: MagicKind, options: Vec<String>) -> Result<MagicLine, String> {
    let mut image_type = None;
    let mut arch = None;
    let mut i = 0;
    if kind == MagicKind::Mic {
        match options.first() {
            Some(first) if !first.starts_with('-') => {
                image_type = Some(first.clone());
                i = 1;
            }
            _ => {
                return Err(
                    "malformed magic line: a -*-mic-options-*- line must start with the image type"
                        .into(),
                );
            }
        }
    }
    while i < options.len() {
        let word = &options[i];
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (word.as_str(), None),
        };
        // Short options may carry their value attached (`-fraw`), as optparse allows.
        let (name, inline) = match name {
            n if n.len() > 2
                && !n.starts_with("--")
                && (n.starts_with("-f") || n.starts_with("-A")) =>
            {
                (&n[..2], Some(&word[2..]))
            }
            n => (n, inline),
        };
        let target = match (kind, name) {
            (MagicKind::Mic2, "-f" | "--format") => Some(&mut image_type),
            (_, "-A" | "--arch") => Some(&mut arch),
            _ => None,
        };
        if let Some(slot) = target {
            let value = match inline {
                Some(v) => v.to_string(),
                None => {
                    i += 1;
                    match options.get(i) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(format!(
                                "malformed magic line: option {name} needs a value"
                            ));
                        }
                    }
                }
            };
            if value.is_empty() {
                return Err(format!("malformed magic line: option {name} needs a value"));
            }
            *slot = Some(value);
        }
        i += 1;
    }
    if let Some(t) = &image_type {
        if t == "auto" {
            return Err(
                "malformed magic line: 'auto' is not an image type (`mic create auto` reads this line to find one)"
                    .into(),
            );
        }
        if !IMAGE_TYPES.contains(&t.as_str()) {
            return Err(format!(
                "malformed magic line: unknown image type '{t}' (known: {})",
                IMAGE_TYPES.join(", ")
            ));
        }
    }
    Ok(MagicLine {
        kind,
        image_type,
        arch,
        options,
    })
}

/// A `# Key: value` comment (Key = one capitalised word), as written by
/// Sailfish's ssu-kickstarter.
pub(crate) fn metadata_comment(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim_start().strip_prefix('#')?.trim_start();
    let (key, value) = rest.split_once(':')?;
    let value = value.trim();
    let valid_key = key.starts_with(|c: char| c.is_ascii_uppercase())
        && key.chars().all(|c| c.is_ascii_alphanumeric());
    (valid_key && !value.is_empty()).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> MagicLine {
        match parse_magic(line) {
            Ok(Some(m)) => m,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn mic2_lines() {
        let m = ok("# -*-mic2-options-*- -f raw --save-kernel --arch=armv7l -*-mic2-options-*-");
        assert_eq!(m.kind, MagicKind::Mic2);
        assert_eq!(m.image_type.as_deref(), Some("raw"));
        assert_eq!(m.arch.as_deref(), Some("armv7l"));
        assert_eq!(m.options, ["-f", "raw", "--save-kernel", "--arch=armv7l"]);

        let m = ok(
            "# -*-mic2-options-*- -f livecd --arch=i586 --record-pkgs=name --pkgmgr=yum --arch=ia32 -*-mic2-options-*-",
        );
        assert_eq!(
            m.arch.as_deref(),
            Some("ia32"),
            "the last --arch wins, as in optparse"
        );

        let m = ok("# -*-mic2-options-*- --arch=armv6l -*-mic2-options-*-");
        assert_eq!(m.image_type, None);
        assert_eq!(
            ok("#-*-mic2-options-*- --format loop -A i586 -*-mic2-options-*-")
                .arch
                .as_deref(),
            Some("i586")
        );
        assert_eq!(
            ok("# -*-mic2-options-*- -ffs -Aarmv7hl -*-mic2-options-*-")
                .image_type
                .as_deref(),
            Some("fs")
        );
        // Text after the closing marker is ignored, as mic's regex ignores it.
        assert_eq!(
            ok("# -*-mic2-options-*- -f nand -*-mic2-options-*- trailing")
                .image_type
                .as_deref(),
            Some("nand")
        );
        // Quoted values are split like a shell would split them.
        assert_eq!(
            ok(r#"# -*-mic2-options-*- -f loop --pack-to="@NAME@ x.tar.gz" -*-mic2-options-*-"#)
                .options[2],
            "--pack-to=@NAME@ x.tar.gz"
        );
    }

    #[test]
    fn mic_lines() {
        let m = ok("# -*-mic-options-*- livecd --arch=i586 -*-mic-options-*-");
        assert_eq!(
            (m.kind, m.image_type.as_deref(), m.arch.as_deref()),
            (MagicKind::Mic, Some("livecd"), Some("i586"))
        );
        assert_eq!(
            ok("# -*-mic-options-*- qcow -A x86_64 -*-mic-options-*-")
                .arch
                .as_deref(),
            Some("x86_64")
        );
    }

    #[test]
    fn ordinary_comments_are_not_magic() {
        assert_eq!(parse_magic("# fedora-live-base.ks"), Ok(None));
        assert_eq!(parse_magic("lang C"), Ok(None));
        assert_eq!(parse_magic("# DisplayName: Jolla"), Ok(None));
    }

    #[test]
    fn malformed_lines() {
        let err = |l: &str| parse_magic(l).unwrap_err();
        assert_eq!(
            err("# -*-mic2-options-*- -f raw"),
            "malformed magic line: it opens with -*-mic2-options-*- but has no closing -*-mic2-options-*-"
        );
        assert_eq!(
            err("# -*-mic2-options-*- -f raw -*-mic-options-*-"),
            "malformed magic line: it opens with -*-mic2-options-*- but has no closing -*-mic2-options-*-"
        );
        assert_eq!(
            err("# -*-mic2-options-*- -f -*-mic2-options-*-"),
            "malformed magic line: option -f needs a value"
        );
        assert!(
            err("# -*-mic2-options-*- -f floppy -*-mic2-options-*-")
                .starts_with("malformed magic line: unknown image type 'floppy'")
        );
        assert!(
            err("# -*-mic-options-*- auto -*-mic-options-*-")
                .contains("'auto' is not an image type")
        );
        assert!(
            err("# -*-mic-options-*- --arch=x -*-mic-options-*-")
                .contains("must start with the image type")
        );
        assert!(err("# -*-mic2-options-*- -*-mic2-options-*-").contains("no options"));
        // Not a magic line for mic's regex (the parser warns about it).
        assert_eq!(
            parse_magic("# see -*-mic2-options-*- -f raw -*-mic2-options-*-"),
            Ok(None)
        );
        assert!(
            err("# -*-mic2-options-*- -f 'raw -*-mic2-options-*-").contains("unclosed ' quote")
        );
    }

    #[test]
    fn to_line_round_trips() {
        for line in [
            "# -*-mic2-options-*- -f raw --save-kernel --arch=armv7l -*-mic2-options-*-",
            "# -*-mic-options-*- livecd --arch=i586 -*-mic-options-*-",
        ] {
            let m = ok(line);
            assert_eq!(m.to_line(), line);
            assert_eq!(ok(&m.to_line()), m);
        }
    }
}
