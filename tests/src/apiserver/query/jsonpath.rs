//! The JSONPath dialect of client-go's `util/jsonpath`, as used by CRD
//! `additionalPrinterColumns[].jsonPath` (the server wraps the path in
//! `{...}` and evaluates it with missing keys allowed).
//!
//! Supported: `.field` (a backslash escapes the next character, so
//! `.metadata.labels.app\.kubernetes\.io/name` names one key), `.*`,
//! `[n]`, `[-n]`, `[a:b]`, `[*]`, `['key']`, unions `[0,2]`, and filters
//! `[?(@.type=="Ready")]` with `== != < <= > >=` against strings, numbers,
//! booleans or another `@` path, plus the existence form `[?(@.field)]`.
//!
//! Two quirks of the real dialect are kept on purpose because the server
//! must not accept more than kube-apiserver does:
//! * `['key']` is re-read as `.key`, so dots inside the quotes still split
//!   the key (`['app.kubernetes.io/name']` means `.app.kubernetes.io/name`);
//!   escape them (`['app\.kubernetes\.io/name']`) to address such a key.
//! * Only single quotes form a key; `["key"]` is a syntax error.
//!
//! Not supported (rejected at parse time): recursive descent `..`, slice
//! steps `[a:b:c]` (client-go mis-implements them as a capacity), `range`
//! / `end` and other template identifiers, and text outside the path.

use super::jsonpath_eval;
use serde_json::Value;

/// A JSONPath that failed to parse, or whose evaluation failed the way the
/// real implementation fails (index out of range, filtering a non-list,
/// comparing incompatible types, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonPathError(pub String);

/// End bound of an index or slice step, as client-go records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SliceEnd {
    /// `[a:]`: up to the length.
    Open,
    /// `[a:b]`.
    At(i64),
    /// `[a]`: `a + 1`, wrapped around when it lands on 0 (for `[-1]`).
    Derived(i64),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// `.name` (map key; other values yield nothing).
    Field(String),
    /// `.*`: all values of a map (sorted by key) or items of a list.
    Wildcard,
    /// `[a]`, `[a:b]`, `[*]`.
    Slice { start: Option<i64>, end: SliceEnd },
    /// `[x,y]`: each branch evaluated from the same input, concatenated.
    Union(Vec<Vec<Step>>),
    /// `[?(...)]`.
    Filter(Box<Filter>),
}

/// A filter `[?(left op right)]` or `[?(left)]`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub(super) left: Operand,
    pub(super) op: FilterOp,
    pub(super) right: Operand,
}

/// Comparison in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FilterOp {
    Exists,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Parsed but rejected when evaluated (e.g. `=`), like client-go.
    Unrecognized(String),
}

/// One side of a filter comparison.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Path(Vec<Step>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A parsed JSONPath; parse once, evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses a printer-column path such as `.status.phase`.
    pub fn parse(text: &str) -> Result<Self, JsonPathError> {
        Ok(Self {
            source: text.to_owned(),
            steps: parse_steps(text)?,
        })
    }

    /// A plain chain of field lookups, built without parsing (for the
    /// server's own constant columns).
    pub(super) fn fields(source: &str, fields: &[&str]) -> Self {
        Self {
            source: source.to_owned(),
            steps: fields
                .iter()
                .map(|f| Step::Field((*f).to_owned()))
                .collect(),
        }
    }

    /// The text this path was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// All values the path selects in `root`, in document order (map
    /// wildcards in key order). Missing keys simply select nothing; the
    /// error cases are those where client-go's evaluation fails, which the
    /// server shows as an empty (`<none>`) cell.
    pub fn evaluate<'a>(&self, root: &'a Value) -> Result<Vec<&'a Value>, JsonPathError> {
        jsonpath_eval::eval_steps(vec![root], &self.steps)
    }
}

fn err(message: impl Into<String>) -> JsonPathError {
    JsonPathError(message.into())
}

/// Characters that end a field name (client-go's `isTerminator`).
fn is_terminator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
    )
}

/// Parses a whole path (the inside of a `{...}` template action).
pub(super) fn parse_steps(text: &str) -> Result<Vec<Step>, JsonPathError> {
    let mut steps = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("[?(") {
            let (filter, after) = parse_filter(&rest[3..])?;
            steps.push(Step::Filter(Box::new(filter)));
            rest = after;
        } else if rest.starts_with("..") {
            return Err(err("recursive descent (..) is not supported"));
        } else if c == ' ' || c == '@' || c == '$' {
            // Spaces separate steps; `@` and `$` name the current object.
            rest = &rest[1..];
        } else if c == '.' {
            let (step, after) = parse_field(&rest[1..]);
            steps.push(step);
            rest = after;
        } else if c == '[' {
            let close = rest
                .find([']', '\n'])
                .filter(|&i| rest.as_bytes()[i] == b']')
                .ok_or_else(|| err("unterminated array"))?;
            steps.extend(parse_brackets(&rest[1..close])?);
            rest = &rest[close + 1..];
        } else {
            return Err(err(format!(
                "unrecognized character in action: U+{:04X} {c:?}",
                c as u32
            )));
        }
    }
    Ok(steps)
}

/// A field name up to the next unescaped terminator. Backslashes escape
/// the next character and are then removed, as in client-go.
fn parse_field(text: &str) -> (Step, &str) {
    let mut end = text.len();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if is_terminator(c) {
            end = i;
            break;
        }
    }
    let raw = &text[..end];
    let step = if raw == "*" {
        Step::Wildcard
    } else {
        Step::Field(raw.replace('\\', ""))
    };
    (step, &text[end..])
}

/// The inside of `[...]` (not a filter).
fn parse_brackets(inner: &str) -> Result<Vec<Step>, JsonPathError> {
    let inner = if inner == "*" { ":" } else { inner };
    if inner.contains(',') {
        let branches = inner
            .split(',')
            .map(|part| parse_steps(&format!("[{}]", part.trim_matches(' '))))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(vec![Step::Union(branches)]);
    }
    if let Some(key) = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .filter(|k| !k.contains('\''))
    {
        // client-go re-parses the key as `.key`.
        return parse_steps(&format!(".{key}"));
    }
    let parts: Vec<&str> = inner.split(':').collect();
    let number_like = |p: &str| {
        let digits = p.strip_prefix('-').unwrap_or(p);
        digits.chars().all(|c| c.is_ascii_digit())
    };
    if parts.len() > 3 || !parts.iter().all(|p| number_like(p)) {
        return Err(err(format!("invalid array index {inner}")));
    }
    let number = |p: &str| {
        p.parse::<i64>()
            .map_err(|_| err(format!("array index {p} is not a number")))
    };
    let start = match parts[0] {
        "" => None,
        p => Some(number(p)?),
    };
    let end = match parts.get(1) {
        None => SliceEnd::Derived(start.unwrap_or(0).saturating_add(1)),
        Some(&"") => SliceEnd::Open,
        Some(p) => SliceEnd::At(number(p)?),
    };
    if parts.get(2).is_some_and(|p| !p.is_empty()) {
        return Err(err(format!("slice steps are not supported: [{inner}]")));
    }
    Ok(vec![Step::Slice { start, end }])
}

/// Parses what follows `[?(` up to and including the closing `)]`.
/// Returns the filter and the remaining text.
fn parse_filter(text: &str) -> Result<(Filter, &str), JsonPathError> {
    // Find the `)` that closes the filter: one outside a quoted string.
    let mut quote: Option<char> = None;
    let mut closed_quote = false;
    let mut prev = '\0';
    let mut close = None;
    for (i, c) in text.char_indices() {
        match c {
            '\n' => return Err(err("unterminated filter")),
            '"' | '\'' if quote.is_none() => quote = Some(c),
            '"' | '\'' if Some(c) == quote && prev != '\\' => closed_quote = true,
            ')' if quote.is_none() || closed_quote => {
                close = Some(i);
                break;
            }
            _ => {}
        }
        prev = c;
    }
    let close = close.ok_or_else(|| err("unterminated filter"))?;
    let body = &text[..close];
    let after = text[close + 1..]
        .strip_prefix(']')
        .ok_or_else(|| err("unclosed array expect ]"))?;
    let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=');
    let filter = match body.find(is_op) {
        Some(i) if i > 0 => {
            let op_len = body[i..].find(|c| !is_op(c)).unwrap_or(body.len() - i);
            let right = &body[i + op_len..];
            if right.is_empty() {
                exists_filter(body)?
            } else {
                let op = match &body[i..i + op_len] {
                    "==" => FilterOp::Eq,
                    "!=" => FilterOp::Ne,
                    "<" => FilterOp::Lt,
                    "<=" => FilterOp::Le,
                    ">" => FilterOp::Gt,
                    ">=" => FilterOp::Ge,
                    other => FilterOp::Unrecognized(other.to_owned()),
                };
                Filter {
                    left: parse_operand(&body[..i])?,
                    op,
                    right: parse_operand(right)?,
                }
            }
        }
        _ => exists_filter(body)?,
    };
    Ok((filter, after))
}

fn exists_filter(body: &str) -> Result<Filter, JsonPathError> {
    Ok(Filter {
        left: parse_operand(body)?,
        op: FilterOp::Exists,
        right: Operand::Bool(true),
    })
}

/// A filter operand: a quoted string, a number, `true`/`false`, or a path.
fn parse_operand(text: &str) -> Result<Operand, JsonPathError> {
    let text = text.trim_matches(' ');
    let first = text
        .chars()
        .next()
        .ok_or_else(|| err("empty filter operand"))?;
    match first {
        '"' | '\'' => {
            let body = text
                .strip_prefix(first)
                .and_then(|s| s.strip_suffix(first))
                .filter(|_| text.len() >= 2)
                .ok_or_else(|| err(format!("unterminated quoted string {text}")))?;
            Ok(Operand::Str(unquote(body, first)?))
        }
        '+' | '-' | '0'..='9' => {
            let body = text.strip_prefix(['+', '-']).unwrap_or(text);
            if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(err(format!("cannot parse number {text}")));
            }
            if let Ok(i) = text.parse::<i64>() {
                Ok(Operand::Int(i))
            } else {
                text.parse::<f64>()
                    .map(Operand::Float)
                    .map_err(|_| err(format!("cannot parse number {text}")))
            }
        }
        _ if text == "true" => Ok(Operand::Bool(true)),
        _ if text == "false" => Ok(Operand::Bool(false)),
        '@' | '$' | '.' | '[' => Ok(Operand::Path(parse_steps(text)?)),
        _ => Err(err(format!("unrecognized identifier {text}"))),
    }
}

/// Go-style unquoting of a string literal's body (`\n`, `\t`, `\\`,
/// `\uXXXX`, ...). The other quote character may not be escaped, and the
/// delimiting one may not appear unescaped.
fn unquote(body: &str, quote: char) -> Result<String, JsonPathError> {
    let bad = || {
        err(format!(
            "unquote string {quote}{body}{quote} error invalid syntax"
        ))
    };
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return Err(bad());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = chars.next().ok_or_else(bad)?;
        let mut hex = |n: usize| -> Result<char, JsonPathError> {
            let digits: String = chars.by_ref().take(n).collect();
            if digits.len() != n {
                return Err(bad());
            }
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(bad)
        };
        let decoded = match escaped {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' => '\\',
            q @ ('\'' | '"') if q == quote => q,
            'x' => hex(2).and_then(|c| if c.is_ascii() { Ok(c) } else { Err(bad()) })?,
            'u' => hex(4)?,
            'U' => hex(8)?,
            _ => return Err(bad()),
        };
        out.push(decoded);
    }
    Ok(out)
}
