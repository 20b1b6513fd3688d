//! Turning bytes into lines and lines into words.
//!
//! Two rules here decide how every other part sees the input:
//!
//! * Lines: LF or CRLF endings, an optional UTF-8 byte order mark, and no
//!   other control characters than TAB. A bad line is reported once and then
//!   seen as empty, so the line numbers of everything after it stay right.
//! * Words: split like pykickstart does (`shlex.split(line, comments=True)`),
//!   because that is what mic runs. The quoting follows POSIX shell rules (we
//!   use the `shlex` crate for that part), but an unquoted `#` starts a
//!   comment *anywhere*, also in the middle of a word: Python's shlex cuts
//!   `keyboard us# Root password` to `keyboard us`, and a real corpus file
//!   relies on that. We warn when it happens inside a word.

use thiserror::Error;

use super::diagnostic::Sink;
use super::limits::Limits;

/// One line of input, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based line number in its file.
    pub(crate) no: u32,
    /// The text; empty when the line was rejected (already reported).
    pub(crate) text: &'a str,
}

/// Splits `bytes` into checked lines.
///
/// `lines_left` is the line budget shared by a file and its includes; it is
/// decreased by the number of lines read. Returns `None` (after reporting an
/// error for the whole file) when the file has more lines than the budget.
pub(crate) fn split_lines<'a>(
    bytes: &'a [u8],
    file: &str,
    limits: &Limits,
    lines_left: &mut usize,
    sink: &mut Sink,
) -> Option<Vec<Line<'a>>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Count first so a huge line count is refused before allocating for it.
    let count =
        bytecount_newlines(bytes) + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    if count > *lines_left {
        sink.error(
            file,
            0,
            format!(
                "too many lines: reading this file would exceed the limit of {} lines",
                limits.max_lines
            ),
        );
        return None;
    }
    *lines_left -= count;

    let mut lines = Vec::with_capacity(count);
    let mut rest = bytes;
    let mut no: u32 = 0;
    while !rest.is_empty() {
        no = no.saturating_add(1);
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = check_line(raw, limits).unwrap_or_else(|message| {
            sink.error(file, no, message);
            ""
        });
        lines.push(Line { no, text });
    }
    Some(lines)
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Checks one line (without its ending) and returns it as text.
fn check_line<'a>(raw: &'a [u8], limits: &Limits) -> Result<&'a str, String> {
    if raw.len() > limits.max_line_len {
        return Err(format!(
            "line is {} bytes long; the limit is {} bytes",
            raw.len(),
            limits.max_line_len
        ));
    }
    let text = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "invalid UTF-8 in column {}; kickstart files must be UTF-8 text",
            e.valid_up_to() + 1
        )
    })?;
    for (column, c) in text.chars().enumerate() {
        if (c.is_control() && c != '\t') || c == '\u{FEFF}' {
            let what = match c {
                '\0' => "NUL byte".to_string(),
                '\r' => "carriage return (CR) in the middle of a line".to_string(),
                '\u{FEFF}' => "byte order mark".to_string(),
                _ => format!("control character U+{:04X}", u32::from(c)),
            };
            return Err(format!(
                "{what} in column {}; kickstart files must be plain text",
                column + 1
            ));
        }
    }
    Ok(text)
}

/// The words of one line, split the way pykickstart splits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    /// The words, with quotes and escapes removed.
    pub(crate) words: Vec<String>,
    /// 1-based column of a `#` that started a comment in the middle of a
    /// word (Python shlex does that; a shell would not), for a warning.
    pub(crate) comment_in_word: Option<usize>,
}

/// Why a line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum SplitError {
    /// A quote was opened and never closed on the same line.
    #[error("unclosed {quote} quote (opened in column {column})")]
    UnclosedQuote {
        /// The quote character: `'` or `"`.
        quote: char,
        /// 1-based column of the opening quote.
        column: usize,
    },
    /// The line ends with a backslash that escapes nothing.
    #[error("the line ends with a lone backslash")]
    TrailingBackslash,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    Single,
    Double,
}

/// Splits a line into words; see the module docs for the rules.
pub(crate) fn split_words(line: &str) -> Result<Words, SplitError> {
    // First pass: find where an unquoted, unescaped `#` starts a comment and
    // check that every quote is closed. The `shlex` crate only knows the
    // POSIX rule (comment at the start of a word), so we cut the comment off
    // ourselves before handing the rest over.
    let mut state = State::Plain;
    let mut in_word = false;
    let mut opened_at = 0;
    let mut cut = line.len();
    let mut comment_in_word = None;
    let mut chars = line.char_indices().enumerate();
    while let Some((column, (offset, c))) = chars.next() {
        match state {
            State::Plain => match c {
                '\\' => {
                    if chars.next().is_none() {
                        return Err(SplitError::TrailingBackslash);
                    }
                    in_word = true;
                }
                '\'' | '"' => {
                    state = if c == '\'' {
                        State::Single
                    } else {
                        State::Double
                    };
                    opened_at = column + 1;
                    in_word = true;
                }
                '#' => {
                    if in_word {
                        comment_in_word = Some(column + 1);
                    }
                    cut = offset;
                    break;
                }
                ' ' | '\t' => in_word = false,
                _ => in_word = true,
            },
            State::Single => {
                if c == '\'' {
                    state = State::Plain;
                }
            }
            State::Double => match c {
                // Inside double quotes a backslash can hide a `"`; whatever
                // it escapes, the next character cannot close the quote.
                '\\' => {
                    chars.next();
                }
                '"' => state = State::Plain,
                _ => {}
            },
        }
    }
    match state {
        State::Plain => {}
        State::Single => {
            return Err(SplitError::UnclosedQuote {
                quote: '\'',
                column: opened_at,
            });
        }
        State::Double => {
            return Err(SplitError::UnclosedQuote {
                quote: '"',
                column: opened_at,
            });
        }
    }
    // The first pass already proved the quoting balanced, so `split` cannot
    // fail here; map a failure to the backslash error rather than panic.
    let words = shlex::split(&line[..cut]).ok_or(SplitError::TrailingBackslash)?;
    Ok(Words {
        words,
        comment_in_word,
    })
}

/// Quotes a word so that [`split_words`] (and pykickstart) read it back
/// unchanged. Only whitespace, quotes, backslashes and `#` are special to
/// either splitter (no shell ever sees these words), so every other word is
/// written as it is; the rest go in single quotes, which mean the same to
/// POSIX shells and to Python's shlex.
pub(crate) fn quote_word(word: &str) -> String {
    let special =
        |c: char| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '\\' | '#');
    if !word.is_empty() && !word.contains(special) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r#"'"'"'"#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        match split_words(line) {
            Ok(w) => w.words,
            Err(e) => panic!("{line:?} did not split: {e}"),
        }
    }

    #[test]
    fn shlex_quoting_rules() {
        assert_eq!(
            words(r#"desktop --session="/usr/bin/mcompositor""#),
            ["desktop", "--session=/usr/bin/mcompositor"]
        );
        assert_eq!(
            words("user --name root --password 'tizen'"),
            ["user", "--name", "root", "--password", "tizen"]
        );
        assert_eq!(
            words(r#"a "b c"d 'e "f' g\ h"#),
            ["a", "b cd", "e \"f", "g h"]
        );
        assert_eq!(
            words("tab\tseparated\t\twords"),
            ["tab", "separated", "words"]
        );
        assert_eq!(words("empty '' \"\""), ["empty", "", ""]);
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn hash_starts_a_comment_anywhere_unless_quoted_or_escaped() {
        let w = split_words("keyboard us# Root password").unwrap();
        assert_eq!(w.words, ["keyboard", "us"]);
        assert_eq!(w.comment_in_word, Some(12));
        let w = split_words("part / --size 100 # comment").unwrap();
        assert_eq!(w.words, ["part", "/", "--size", "100"]);
        assert_eq!(w.comment_in_word, None);
        assert_eq!(
            words(r#"repo --baseurl="http://h/a#b" x\#y '#'"#),
            ["repo", "--baseurl=http://h/a#b", "x#y", "#"]
        );
        assert_eq!(words("# whole line"), Vec::<String>::new());
    }

    #[test]
    fn unclosed_quotes_and_lone_backslash_are_errors() {
        assert_eq!(
            split_words(r#"repo --name="oss --baseurl=x"#),
            Err(SplitError::UnclosedQuote {
                quote: '"',
                column: 13
            })
        );
        assert_eq!(
            split_words("rootpw 'abc"),
            Err(SplitError::UnclosedQuote {
                quote: '\'',
                column: 8
            })
        );
        assert_eq!(
            split_words(r#"a "b\""#),
            Err(SplitError::UnclosedQuote {
                quote: '"',
                column: 3
            })
        );
        assert_eq!(split_words("a b\\"), Err(SplitError::TrailingBackslash));
        // A quote inside a comment does not count.
        assert_eq!(words("lang C # it's fine"), ["lang", "C"]);
    }

    #[test]
    fn crlf_bom_and_line_numbers() {
        let mut sink = Sink::new(10);
        let mut left = 100;
        let text = b"\xEF\xBB\xBFlang C\r\n\r\nkeyboard us\r\nlast";
        let lines = split_lines(text, "f.ks", &Limits::default(), &mut left, &mut sink).unwrap();
        let got: Vec<(u32, &str)> = lines.iter().map(|l| (l.no, l.text)).collect();
        assert_eq!(
            got,
            [(1, "lang C"), (2, ""), (3, "keyboard us"), (4, "last")]
        );
        assert_eq!(left, 96);
        assert!(sink.into_vec().is_empty());
    }

    #[test]
    fn bad_lines_are_reported_and_blanked() {
        let mut sink = Sink::new(10);
        let mut left = 100;
        let limits = Limits {
            max_line_len: 20,
            ..Limits::default()
        };
        let text = b"ok\nnul\0here\n\xff\xfe\nfine\rcr\n123456789012345678901\n";
        let lines = split_lines(text, "f.ks", &limits, &mut left, &mut sink).unwrap();
        let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
        assert_eq!(texts, ["ok", "", "", "", ""]);
        let messages: Vec<String> = sink.into_vec().iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "f.ks:2: error: NUL byte in column 4; kickstart files must be plain text",
                "f.ks:3: error: invalid UTF-8 in column 1; kickstart files must be UTF-8 text",
                "f.ks:4: error: carriage return (CR) in the middle of a line in column 5; kickstart files must be plain text",
                "f.ks:5: error: line is 21 bytes long; the limit is 20 bytes",
            ]
        );
    }

    #[test]
    fn line_budget_is_checked_before_reading() {
        let mut sink = Sink::new(10);
        let mut left = 2;
        assert!(
            split_lines(
                b"a\nb\nc\n",
                "f.ks",
                &Limits::default(),
                &mut left,
                &mut sink
            )
            .is_none()
        );
        assert_eq!(left, 2);
        assert_eq!(sink.into_vec().len(), 1);
    }

    #[test]
    fn quote_word_round_trips() {
        for w in [
            "plain",
            "--name=x",
            "",
            "two words",
            "it's",
            "a#b",
            "%x",
            "$HOME",
            r"back\slash",
            "\"q\"",
        ] {
            let quoted = quote_word(w);
            assert_eq!(words(&quoted), [w], "{w:?} quoted as {quoted:?}");
        }
        assert_eq!(
            quote_word("--baseurl=http://x/@ARCH@/"),
            "--baseurl=http://x/@ARCH@/"
        );
    }
}
