//! Lexer and recursive-descent parser for the `labelSelector=` syntax.
//!
//! Grammar (apimachinery's documented selector syntax):
//!
//! ```text
//! selector    := requirement ("," requirement)*
//! requirement := ["!"] KEY [ ("in" | "notin") "(" values ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//! values      := VALUE ("," VALUE)*      (empty entries are the empty value)
//! ```
//!
//! Tokens are separated by whitespace (space, tab, CR, LF) or by the
//! special characters `= ! ( ) , > <`; everything else forms identifiers.
//! `in`/`notin` are keywords only where an operator is expected, so they
//! remain usable as keys and values. Error messages mirror the real
//! server's (`found 'x', expected: ...`).

use super::labels::{Operator, Requirement};
use super::validation::{invalid_str, label_key_errors};

/// A lexical token; the literal text is kept for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    OpenParen,
    CloseParen,
    Comma,
    End,
}

impl Token<'_> {
    /// The text the real server quotes in `found '...'` messages (the end of
    /// input is the empty string).
    fn literal(&self) -> &str {
        match self {
            Token::Ident(s) => s,
            Token::Bang => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::OpenParen => "(",
            Token::CloseParen => ")",
            Token::Comma => ",",
            Token::End => "",
        }
    }
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits `text` into tokens. A NUL byte ends the input, as it does for the
/// real lexer (which uses 0 as its end marker).
fn lex(text: &str) -> Vec<Token<'_>> {
    let end = text.find('\0').unwrap_or(text.len());
    let text = &text[..end];
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_space(b) {
            i += 1;
            continue;
        }
        if is_special(b) {
            // Longest match: only `!=` and `==` are two characters long.
            let two = bytes.get(i + 1).copied();
            let (token, len) = match (b, two) {
                (b'!', Some(b'=')) => (Token::NotEquals, 2),
                (b'=', Some(b'=')) => (Token::DoubleEquals, 2),
                (b'!', _) => (Token::Bang, 1),
                (b'=', _) => (Token::Equals, 1),
                (b'>', _) => (Token::Greater, 1),
                (b'<', _) => (Token::Less, 1),
                (b'(', _) => (Token::OpenParen, 1),
                (b')', _) => (Token::CloseParen, 1),
                _ => (Token::Comma, 1),
            };
            tokens.push(token);
            i += len;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_special(bytes[i]) && !is_space(bytes[i]) {
            i += 1;
        }
        // Specials and whitespace are ASCII, so `start..i` is on char
        // boundaries.
        tokens.push(Token::Ident(&text[start..i]));
    }
    tokens.push(Token::End);
    tokens
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token<'a> {
        self.tokens.get(self.pos).unwrap_or(&Token::End)
    }

    fn next(&mut self) -> Token<'a> {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn selector(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            match self.peek() {
                Token::Ident(_) | Token::Bang => {
                    let r = self
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    match self.next() {
                        Token::End => return Ok(requirements),
                        Token::Comma => {
                            let after = self.peek();
                            if !matches!(after, Token::Ident(_) | Token::Bang) {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    after.literal()
                                ));
                            }
                        }
                        other => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.literal()
                            ));
                        }
                    }
                }
                Token::End => return Ok(requirements),
                other => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut token = self.next();
        let negated = token == Token::Bang;
        if negated {
            token = self.next();
        }
        let Token::Ident(key) = token else {
            return Err(format!("found '{}', expected: identifier", token.literal()));
        };
        let key_errs = label_key_errors(key);
        if !key_errs.is_empty() {
            // The selector parser has no field path, which Go prints as <nil>.
            return Err(invalid_str("<nil>", key, &key_errs.join("; ")));
        }
        if negated {
            // `!key` is complete on its own; anything after it is reported
            // by the caller as a missing ',' (like the real parser).
            return Requirement::new(key, Operator::DoesNotExist, Vec::new()).map_err(|e| e.0);
        }
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Requirement::new(key, Operator::Exists, Vec::new()).map_err(|e| e.0);
        }
        let operator = match self.next() {
            Token::Ident("in") => Operator::In,
            Token::Ident("notin") => Operator::NotIn,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            other => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    other.literal()
                ));
            }
        };
        let values = match operator {
            Operator::In | Operator::NotIn => self.value_set()?,
            _ => vec![self.exact_value()?],
        };
        Requirement::new(key, operator, values).map_err(|e| e.0)
    }

    /// `( v1, v2, ... )`; returns the values sorted and de-duplicated.
    /// Empty entries (`(,a)`, `(a,)`, `()`) stand for the empty value.
    fn value_set(&mut self) -> Result<Vec<String>, String> {
        let open = self.next();
        if open != Token::OpenParen {
            return Err(format!("found '{}' expected: '('", open.literal()));
        }
        let mut values: Vec<String> = Vec::new();
        match self.peek() {
            Token::CloseParen => {
                self.next();
                values.push(String::new());
            }
            Token::Ident(_) | Token::Comma => loop {
                match self.next() {
                    Token::Ident(v) => {
                        values.push(v.to_owned());
                        match self.peek() {
                            Token::Comma => {}
                            Token::CloseParen => {
                                self.next();
                                break;
                            }
                            other => {
                                return Err(format!(
                                    "found '{}', expected: ',' or ')'",
                                    other.literal()
                                ));
                            }
                        }
                    }
                    Token::Comma => {
                        if values.is_empty() {
                            values.push(String::new());
                        }
                        match self.peek() {
                            Token::CloseParen => {
                                self.next();
                                values.push(String::new());
                                break;
                            }
                            Token::Comma => {
                                self.next();
                                values.push(String::new());
                            }
                            _ => {}
                        }
                    }
                    other => {
                        return Err(format!(
                            "found '{}', expected: ',', or identifier",
                            other.literal()
                        ));
                    }
                }
            },
            other => {
                return Err(format!(
                    "found '{}', expected: ',', ')' or identifier",
                    other.literal()
                ));
            }
        }
        values.sort();
        values.dedup();
        Ok(values)
    }

    /// The single value after `=`, `==`, `!=`, `>` or `<`; nothing before
    /// a `,` or the end means the empty value.
    fn exact_value(&mut self) -> Result<String, String> {
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(String::new());
        }
        match self.next() {
            Token::Ident(v) => Ok(v.to_owned()),
            other => Err(format!("found '{}', expected: identifier", other.literal())),
        }
    }
}

/// Parses `text` into requirements in source order.
pub(super) fn parse(text: &str) -> Result<Vec<Requirement>, String> {
    Parser {
        tokens: lex(text),
        pos: 0,
    }
    .selector()
}
