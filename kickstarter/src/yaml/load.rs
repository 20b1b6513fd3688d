//! Builds a [`Node`] tree from yaml-rust2's event stream with PyYAML's semantics and hard limits
//! on size, nesting and alias expansion, so hostile input ends in an error, never in unbounded
//! memory or time.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag as YamlTag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::map::Map;
use super::resolve::{Tag, construct, core_tag, implicit_tag};
use super::value::{Mark, Node, Value};
use super::{Limits, YamlError};

/// Loads exactly one YAML document (as `yaml.load` does) from raw bytes.
pub(crate) fn load(bytes: &[u8], file: &str, limits: &Limits) -> Result<Node, YamlError> {
    let err = |mark: Mark, message: String| YamlError {
        file: file.to_owned(),
        mark,
        message,
    };
    if bytes.len() > limits.max_bytes {
        return Err(err(
            Mark::default(),
            format!(
                "file is {} bytes, more than the limit of {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let (line, col) = line_col(&bytes[..at]);
        err(
            Mark { line, col },
            format!("not valid UTF-8 (byte 0x{:02X})", bytes[at]),
        )
    })?;
    check_printable(text).map_err(|(mark, c)| {
        err(
            mark,
            format!(
                "unacceptable character U+{:04X}: special characters are not allowed",
                c as u32
            ),
        )
    })?;

    let mut builder = Builder {
        file,
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, marker) = parser
            .next_token()
            .map_err(|e| err(to_mark(*e.marker()), e.info().to_owned()))?;
        if event == Event::StreamEnd {
            break;
        }
        builder.event(event, to_mark(marker))?;
    }
    Ok(builder.root.unwrap_or_else(|| Node::synthetic(Value::Null)))
}

fn to_mark(m: Marker) -> Mark {
    Mark {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

fn line_col(prefix: &[u8]) -> (u32, u32) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// PyYAML's reader refuses control characters other than tab, LF and CR (and NEL).
fn check_printable(text: &str) -> Result<(), (Mark, char)> {
    let (mut line, mut col) = (1u32, 1u32);
    for c in text.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || (' '..='~').contains(&c)
            || ('\u{A0}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        if !ok {
            return Err((Mark { line, col }, c));
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Ok(())
}

enum Frame {
    Seq {
        anchor: usize,
        mark: Mark,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        mark: Mark,
        /// Entries in document order; the flag marks a plain `<<` merge key.
        entries: Vec<(Node, Node, bool)>,
        pending_key: Option<(Node, bool)>,
    },
}

struct Builder<'a> {
    file: &'a str,
    limits: &'a Limits,
    stack: Vec<Frame>,
    /// Anchored nodes with their expanded size, for alias accounting.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes materialised so far, counting every alias expansion.
    nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn err(&self, mark: Mark, message: impl Into<String>) -> YamlError {
        YamlError {
            file: self.file.to_owned(),
            mark,
            message: message.into(),
        }
    }

    fn count(&mut self, n: usize, mark: Mark) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(self.err(
                mark,
                format!(
                    "document expands to more than {} nodes (alias expansion bomb?)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event, mark: Mark) -> Result<(), YamlError> {
        match event {
            Event::StreamStart | Event::Nothing | Event::StreamEnd => Ok(()),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.err(
                        mark,
                        "expected a single document in the stream, but found another document",
                    ));
                }
                Ok(())
            }
            Event::DocumentEnd => Ok(()),
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, mark)?;
                let merge_key = tag.is_none()
                    && style == TScalarStyle::Plain
                    && implicit_tag(&text) == Tag::Merge;
                let value = self.scalar(&text, style, tag.as_ref(), mark)?;
                self.finish(Node { value, mark }, anchor, 1, merge_key)
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    return Err(self.err(mark, "found undefined alias"));
                };
                self.count(size, mark)?;
                self.finish(node, 0, size, false)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_ref(), "seq", mark)?;
                self.push(
                    Frame::Seq {
                        anchor,
                        mark,
                        items: Vec::new(),
                    },
                    mark,
                )
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_ref(), "map", mark)?;
                self.push(
                    Frame::Map {
                        anchor,
                        mark,
                        entries: Vec::new(),
                        pending_key: None,
                    },
                    mark,
                )
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    anchor,
                    mark,
                    items,
                }) => {
                    let size = 1 + items.iter().map(node_size).sum::<usize>();
                    self.finish(
                        Node {
                            value: Value::Seq(items),
                            mark,
                        },
                        anchor,
                        size,
                        false,
                    )
                }
                _ => Err(self.err(mark, "unbalanced sequence end")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    anchor,
                    mark,
                    entries,
                    ..
                }) => {
                    // A block mapping's start event carries the position of its first `:`;
                    // its first key is where a reader would look.
                    let mark = entries
                        .first()
                        .map(|(k, _, _)| k.mark)
                        .filter(|first| *first < mark)
                        .unwrap_or(mark);
                    let map = self.flatten_mapping(entries)?;
                    let size = 1 + map
                        .iter()
                        .map(|(k, v)| node_size(k) + node_size(v))
                        .sum::<usize>();
                    self.finish(
                        Node {
                            value: Value::Map(map),
                            mark,
                        },
                        anchor,
                        size,
                        false,
                    )
                }
                _ => Err(self.err(mark, "unbalanced mapping end")),
            },
        }
    }

    fn push(&mut self, frame: Frame, mark: Mark) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.err(
                mark,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.count(1, mark)?;
        self.stack.push(frame);
        Ok(())
    }

    fn check_collection_tag(
        &self,
        tag: Option<&YamlTag>,
        expected: &str,
        mark: Mark,
    ) -> Result<(), YamlError> {
        match tag {
            None => Ok(()),
            Some(t) if t.handle == "tag:yaml.org,2002:" && t.suffix == expected => Ok(()),
            Some(t) if t.handle.is_empty() && t.suffix == "!" => Ok(()),
            Some(t) => Err(self.err(
                mark,
                format!(
                    "could not determine a constructor for the tag '{}{}'",
                    t.handle, t.suffix
                ),
            )),
        }
    }

    fn scalar(
        &self,
        text: &str,
        style: TScalarStyle,
        tag: Option<&YamlTag>,
        mark: Mark,
    ) -> Result<Value, YamlError> {
        let tag = match tag {
            None if style == TScalarStyle::Plain => implicit_tag(text),
            None => Tag::Str,
            // The non-specific tag `!` forces a string.
            Some(t) if t.handle.is_empty() && t.suffix == "!" => Tag::Str,
            Some(t) if t.handle == "tag:yaml.org,2002:" => {
                core_tag(&t.suffix).ok_or_else(|| {
                    self.err(
                        mark,
                        format!(
                            "could not determine a constructor for the tag 'tag:yaml.org,2002:{}'",
                            t.suffix
                        ),
                    )
                })?
            }
            Some(t) => {
                return Err(self.err(
                    mark,
                    format!(
                        "could not determine a constructor for the tag '{}{}'",
                        t.handle, t.suffix
                    ),
                ));
            }
        };
        construct(tag, text).map_err(|m| self.err(mark, m))
    }

    /// Attaches a finished node to its parent (or makes it the document root) and records it
    /// under its anchor.
    fn finish(
        &mut self,
        node: Node,
        anchor: usize,
        size: usize,
        merge_key: bool,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => {
                match pending_key.take() {
                    None => {
                        if !node.value.is_scalar() {
                            let mark = node.mark;
                            return Err(self.err(
                                mark,
                                format!(
                                    "found unhashable key (a {} cannot be a mapping key)",
                                    node.value.type_name()
                                ),
                            ));
                        }
                        *pending_key = Some((node, merge_key));
                    }
                    Some((key, is_merge)) => entries.push((key, node, is_merge)),
                }
                Ok(())
            }
        }
    }

    /// PyYAML's `flatten_mapping`: `<<` merge keys pull in the entries of the mapping (or the
    /// list of mappings, earlier ones winning) they name; the mapping's own keys override them;
    /// among duplicate keys the last one wins.
    fn flatten_mapping(&self, entries: Vec<(Node, Node, bool)>) -> Result<Map, YamlError> {
        let mut merged = Map::new();
        let mut own = Map::new();
        let mut has_merge = false;
        for (key, value, is_merge) in entries {
            if !is_merge {
                own.insert(key, value);
                continue;
            }
            has_merge = true;
            let sources: Vec<&Map> = match &value.value {
                Value::Map(m) => vec![m],
                Value::Seq(items) => items
                    .iter()
                    .map(|i| {
                        i.as_map().ok_or_else(|| {
                            self.err(
                                i.mark,
                                "expected a mapping for merging, but found a non-mapping",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(self.err(
                        value.mark,
                        "expected a mapping or list of mappings for merging",
                    ));
                }
            };
            // Later sources first so that earlier ones overwrite them.
            for source in sources.into_iter().rev() {
                merged.update(source);
            }
        }
        if has_merge {
            merged.update(&own);
            Ok(merged)
        } else {
            Ok(own)
        }
    }
}

/// Number of nodes in a tree (for alias-expansion accounting).
fn node_size(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(node_size).sum::<usize>(),
        Value::Map(m) => {
            1 + m
                .iter()
                .map(|(k, v)| node_size(k) + node_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}
