//! A `run:` script as the source shows it: its lines with their places in the file,
//! split into shell words and commands well enough to find a command and its flags
//! (not a shell parser: quotes are kept together, operators split commands).

use super::yaml::{Node, Style};

/// One physical line of a script, with where its first character is in the file.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub text: &'a str,
    pub line: usize,
    pub col: usize,
    pub offset: usize,
}

/// The lines of a scalar's text as written in the file (a block scalar without its
/// indentation; a flow scalar as it stands, quotes included).
pub fn lines<'a>(src: &'a str, node: &Node) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    if node.as_str().is_none() {
        return out;
    }
    if node.style() == Some(Style::Block) {
        // saphyr's span of a block scalar runs from its first content character to
        // the end of its last line (trailing newlines included).
        if node.end.offset <= node.start.offset {
            return out;
        }
        let mut offset = src[..node.start.offset].rfind('\n').map_or(0, |i| i + 1);
        let mut line = node.start.line;
        let mut indent: Option<usize> = None;
        let bound = node.end.offset.min(src.len());
        while offset < bound {
            let end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
            let raw = src[offset..end].trim_end_matches('\r');
            let lead = raw.len() - raw.trim_start_matches(' ').len();
            if !raw.trim().is_empty() {
                let ind = *indent.get_or_insert(lead);
                if lead < ind {
                    break;
                }
                out.push(Line {
                    text: &raw[ind..],
                    line,
                    col: ind + 1,
                    offset: offset + ind,
                });
            }
            offset = end + 1;
            line += 1;
        }
        return out;
    }
    let slice = &src[node.start.offset..node.end.offset.min(src.len())];
    let mut offset = node.start.offset;
    for (i, raw) in slice.split('\n').enumerate() {
        let lead = if i == 0 {
            0
        } else {
            raw.len() - raw.trim_start().len()
        };
        let col = if i == 0 {
            node.start.col
        } else {
            char_col(src, offset + lead)
        };
        out.push(Line {
            text: raw[lead..].trim_end_matches('\r'),
            line: node.start.line + i,
            col,
            offset: offset + lead,
        });
        offset += raw.len() + 1;
    }
    out
}

/// The 1-based column (in characters) of a byte offset.
pub fn char_col(src: &str, offset: usize) -> usize {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    src[start..offset].chars().count() + 1
}

/// A shell word with its place in the file.
#[derive(Debug, Clone)]
pub struct Word {
    /// The word without its quotes.
    pub text: String,
    pub line: usize,
    pub col: usize,
    pub offset: usize,
    pub end: usize,
}

/// A simple command: its words, and whether its output is piped into the next.
#[derive(Debug, Clone)]
pub struct Command {
    pub words: Vec<Word>,
    pub piped: bool,
}

impl Command {
    /// The command's words after `sudo`, `env` and `VAR=value` prefixes.
    pub fn program(&self) -> &[Word] {
        let mut w = &self.words[..];
        while let Some(first) = w.first() {
            let t = first.text.as_str();
            let assignment = t.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            if t == "sudo" || t == "env" || t == "exec" || t == "time" || assignment {
                w = &w[1..];
            } else {
                break;
            }
        }
        w
    }

    pub fn first(&self) -> Option<&str> {
        self.program().first().map(|w| w.text.as_str())
    }

    pub fn has(&self, flag: &str) -> bool {
        self.words
            .iter()
            .any(|w| w.text == flag || w.text.starts_with(&format!("{flag}=")))
    }
}

/// The commands of a script, `\` continuations joined, in order.
pub fn commands(lines: &[Line<'_>]) -> Vec<Command> {
    let mut out = Vec::new();
    let mut cur = Command {
        words: Vec::new(),
        piped: false,
    };
    let flush = |cur: &mut Command, piped: bool, out: &mut Vec<Command>| {
        if !cur.words.is_empty() {
            cur.piped = piped;
            out.push(std::mem::replace(
                cur,
                Command {
                    words: Vec::new(),
                    piped: false,
                },
            ));
        }
    };
    for l in lines {
        let text = l.text;
        let continued = text.trim_end().ends_with('\\');
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut col = l.col;
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
                break;
            }
            match c {
                b' ' | b'\t' => {
                    i += 1;
                    col += 1;
                }
                b'\\' if i + 1 == bytes.len() || text[i + 1..].trim().is_empty() => break,
                b'|' if bytes.get(i + 1) == Some(&b'|') => {
                    flush(&mut cur, false, &mut out);
                    i += 2;
                    col += 2;
                }
                b'|' => {
                    flush(&mut cur, true, &mut out);
                    i += 1;
                    col += 1;
                }
                b';' | b'&' | b'(' | b')' | b'`' | b'{' | b'}' => {
                    flush(&mut cur, false, &mut out);
                    i += 1;
                    col += 1;
                }
                b'$' if bytes.get(i + 1) == Some(&b'(') => {
                    flush(&mut cur, false, &mut out);
                    i += 2;
                    col += 2;
                }
                b'<' if bytes.get(i + 1) == Some(&b'(') => {
                    flush(&mut cur, false, &mut out);
                    i += 2;
                    col += 2;
                }
                _ => {
                    let start = i;
                    let start_col = col;
                    let mut word = String::new();
                    let mut quote: Option<u8> = None;
                    while i < bytes.len() {
                        let b = bytes[i];
                        match quote {
                            Some(q) if b == q => quote = None,
                            Some(_) => word.push(b as char),
                            None if b == b'\'' || b == b'"' => quote = Some(b),
                            None if b" \t|;&()`".contains(&b) => break,
                            None if b == b'$' && bytes.get(i + 1) == Some(&b'(') => break,
                            None => word.push(b as char),
                        }
                        i += 1;
                    }
                    let chars = text[start..i].chars().count();
                    col += chars;
                    // Non-ASCII bytes were pushed one by one; rebuild from the source.
                    let word = if text[start..i].is_ascii() {
                        word
                    } else {
                        text[start..i].replace(['\'', '"'], "")
                    };
                    cur.words.push(Word {
                        text: word,
                        line: l.line,
                        col: start_col,
                        offset: l.offset + start,
                        end: l.offset + i,
                    });
                }
            }
        }
        if !continued {
            flush(&mut cur, false, &mut out);
        }
    }
    flush(&mut cur, false, &mut out);
    out
}

/// Each `${{ … }}` in the lines: the expression's text and where it starts.
pub fn expressions<'a>(lines: &[Line<'a>]) -> Vec<(&'a str, usize, usize)> {
    let mut out = Vec::new();
    for l in lines {
        let mut from = 0;
        while let Some(i) = l.text[from..].find("${{") {
            let open = from + i;
            let inner_start = open + 3;
            let close = l.text[inner_start..]
                .find("}}")
                .map_or(l.text.len(), |j| inner_start + j);
            let expr = &l.text[inner_start..close];
            let lead = expr.len() - expr.trim_start().len();
            let col = l.col + l.text[..inner_start + lead].chars().count();
            out.push((expr.trim(), l.line, col));
            from = close.min(l.text.len());
            if from == open {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::yaml::parse;

    #[test]
    fn block_lines_keep_their_file_places() {
        let src = "run: |\n    cargo install \\\n      --locked x\n    echo ${{ github.head_ref }}\nnext: 1\n";
        let root = parse(src).unwrap().unwrap();
        let run = root.get("run").unwrap();
        let ls = lines(src, run);
        assert_eq!(ls.len(), 3);
        assert_eq!((ls[0].line, ls[0].col), (2, 5));
        let cmds = commands(&ls);
        assert_eq!(cmds[0].words.len(), 4, "{cmds:?}");
        assert!(cmds[0].has("--locked"));
        let ex = expressions(&ls);
        assert_eq!(ex, vec![("github.head_ref", 4, 14)]);
    }

    #[test]
    fn pipes_and_quotes() {
        let src = "run: curl -sSf 'https://x | y' | sudo sh -s -- -y\n";
        let root = parse(src).unwrap().unwrap();
        let cmds = commands(&lines(src, root.get("run").unwrap()));
        assert_eq!(cmds.len(), 2, "{cmds:?}");
        assert!(cmds[0].piped);
        assert_eq!(cmds[0].words[0].col, 6);
        assert_eq!(cmds[1].first(), Some("sh"));
    }
}
