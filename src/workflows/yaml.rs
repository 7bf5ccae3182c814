//! YAML with positions: saphyr-parser's events built into a small tree whose every
//! node knows where it starts and ends in the text, so a finding can name a line and
//! a column and `--fix` can edit the text itself. Bounded against hostile input:
//! aliases expand within a node budget (the billion laughs), nesting stops at a
//! depth, and a duplicate key is refused as GitHub refuses it.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// A place in the text: byte offset, 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub start: Pos,
    pub end: Pos,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar { value: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    /// `|` or `>`: the text sits on the lines after the indicator.
    Block,
}

/// Why a text is not a YAML document we read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Far above any real workflow (the largest of a dozen big projects' has ~5,000
/// nodes), far below what hurts.
pub const MAX_NODES: usize = 250_000;
/// Workflows nest ~8 levels deep.
pub const MAX_DEPTH: usize = 64;

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(i) => i,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    fn count(&self) -> usize {
        1 + match &self.kind {
            Kind::Scalar { .. } => 0,
            Kind::Seq(items) => items.iter().map(Node::count).sum(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| k.count() + v.count()).sum(),
        }
    }
}

enum Frame {
    Seq {
        start: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// saphyr's markers count characters; the tree keeps byte offsets too (for edits).
/// Events come in text order, so one forward cursor converts them all.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl Offsets<'_> {
    fn pos(&mut self, m: saphyr_parser::Marker) -> Pos {
        let target = m.index();
        let offset = if self.ascii {
            target.min(self.text.len())
        } else {
            if target < self.chars {
                self.chars = 0;
                self.bytes = 0;
            }
            let mut it = self.text[self.bytes..].char_indices();
            while self.chars < target {
                match it.next() {
                    Some((_, c)) => {
                        self.bytes += c.len_utf8();
                        self.chars += 1;
                    }
                    None => break,
                }
            }
            self.bytes
        };
        Pos {
            offset,
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// Parses one YAML document (None for an empty text).
pub fn parse(text: &str) -> Result<Option<Node>, ParseError> {
    let mut offsets = Offsets {
        text,
        ascii: text.is_ascii(),
        chars: 0,
        bytes: 0,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut total = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let err = |p: Pos, message: String| ParseError {
        line: p.line,
        col: p.col,
        message,
    };
    for next in Parser::new_from_str(text) {
        let (event, span): (Event, Span) = next.map_err(|e| ParseError {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: match e.info() {
                // saphyr counts flow nesting in a u8.
                "recursion limit exceeded" => "nested more than 255 brackets deep".into(),
                info => info.to_string(),
            },
        })?;
        let start = offsets.pos(span.start);
        let (done, anchor) = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        start,
                        "a second YAML document (`---`): a workflow is one document".into(),
                    ));
                }
                continue;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        start,
                        format!("nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                let frame = match event {
                    Event::SequenceStart(..) => Frame::Seq {
                        start,
                        anchor,
                        items: Vec::new(),
                    },
                    _ => Frame::Map {
                        start,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    },
                };
                stack.push(frame);
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end = offsets.pos(span.end);
                match stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) => (
                        Node {
                            start,
                            end,
                            kind: Kind::Seq(items),
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            start,
                            end,
                            kind: Kind::Map(entries),
                        },
                        anchor,
                    ),
                    None => continue,
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                let end = offsets.pos(span.end);
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                (
                    Node {
                        start,
                        end,
                        kind: Kind::Scalar {
                            value: value.into_owned(),
                            style,
                        },
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(err(start, "an alias to an unknown anchor".into()));
                };
                total += size;
                if total > MAX_NODES {
                    return Err(err(
                        start,
                        format!("aliases expand to more than {MAX_NODES} nodes (an alias bomb?)"),
                    ));
                }
                // The copy points at the alias, where the reader sees it.
                let mut node = node.clone();
                node.start = start;
                node.end = offsets.pos(span.end);
                (node, 0)
            }
        };
        total += 1;
        if total > MAX_NODES {
            return Err(err(start, format!("more than {MAX_NODES} YAML nodes")));
        }
        if anchor != 0 {
            let size = done.count();
            anchors.insert(anchor, (done.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(done),
            Some(Frame::Seq { items, .. }) => items.push(done),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(done),
                Some(k) => {
                    if let Some(name) = k.as_str() {
                        if let Some((first, _)) =
                            entries.iter().find(|(e, _)| e.as_str() == Some(name))
                        {
                            return Err(err(
                                k.start,
                                format!(
                                    "duplicate key `{}` (first at line {})",
                                    crate::error::escape(name),
                                    first.start.line
                                ),
                            ));
                        }
                    }
                    entries.push((k, done));
                }
            },
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns_with_byte_offsets() {
        let text = "on: push\njobs:\n  é:\n    runs-on: x\n";
        let root = parse(text).unwrap().unwrap();
        let (k, v) = root.get("jobs").unwrap().entries()[0].clone();
        assert_eq!((k.start.line, k.start.col), (3, 3));
        let ro = v.get("runs-on").unwrap();
        assert_eq!((ro.start.line, ro.start.col), (4, 14));
        assert_eq!(&text[ro.start.offset..ro.end.offset], "x");
    }

    #[test]
    fn duplicate_keys_are_refused_where_the_second_one_is() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 1));
        assert!(
            e.message.contains("duplicate key `a` (first at line 1)"),
            "{e:?}"
        );
    }

    #[test]
    fn an_alias_bomb_stops_at_the_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e:?}");
    }

    #[test]
    fn aliases_within_the_budget_are_expanded() {
        let root = parse("x: &s {a: 1}\ny: *s\n").unwrap().unwrap();
        assert_eq!(root.get("y").unwrap().get("a").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&text).unwrap_err().message.contains("levels deep"));
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(parse(&block).unwrap_err().message.contains("levels deep"));
    }
}
