//! `audit --fix` for workflows: the edits (top-level permissions, persist-credentials;
//! `--locked` is one insertion the cargo rule makes itself), built from the parsed
//! spans and made on the text by byte offsets, so every comment, blank line and
//! quote stays as written.

use super::yaml::Node;

/// A text edit `--fix` can make: `remove` bytes at `offset` replaced by `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub offset: usize,
    pub remove: usize,
    pub insert: String,
}

/// `text` with `edits` made (the same edit twice is made once).
pub fn apply(text: &str, edits: &[&Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.to_vec();
    edits.sort_by(|a, b| b.offset.cmp(&a.offset).then(b.insert.cmp(&a.insert)));
    edits.dedup();
    let mut out = text.to_string();
    let mut floor = usize::MAX;
    for e in edits {
        // Overlapping edits would garble each other: the later one waits for a rerun.
        if e.offset + e.remove > floor || e.offset + e.remove > out.len() {
            continue;
        }
        out.replace_range(e.offset..e.offset + e.remove, &e.insert);
        floor = e.offset;
    }
    out
}

/// `permissions:\n  contents: read\n` before `jobs:` (above the comments that lead
/// into it), indented as the file indents.
pub(super) fn permissions_edit(src: &str, root: &Node) -> Option<Edit> {
    let (jobs_key, jobs) = root.entry("jobs")?;
    if jobs_key.start.col != 1 {
        return None;
    }
    let step = jobs
        .entries()
        .first()
        .map_or(2, |(k, _)| k.start.col.saturating_sub(1))
        .max(1);
    let mut at = line_start(src, jobs_key.start.offset);
    // Comment lines right above `jobs:` describe the jobs: stay above them.
    while at > 0 {
        let prev = line_start(src, at - 1);
        if src[prev..at].trim_start().starts_with('#') {
            at = prev;
        } else {
            break;
        }
    }
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    Some(Edit {
        offset: at,
        remove: 0,
        insert: format!("permissions:{nl}{}contents: read{nl}{nl}", " ".repeat(step)),
    })
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(src: &str, offset: usize) -> usize {
    src[offset..].find('\n').map_or(src.len(), |i| offset + i)
}

/// `persist-credentials: false` in the checkout step: replaced where it is `true`,
/// added as the first key of a block `with:`, or a `with:` block added after `uses:`.
pub(super) fn persist_edit(src: &str, step: &Node) -> Option<Edit> {
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    if let Some(with) = step.get("with") {
        if let Some(v) = with.get("persist-credentials") {
            return Some(Edit {
                offset: v.start.offset,
                remove: v.end.offset - v.start.offset,
                insert: "false".into(),
            });
        }
        let (first, _) = with.entries().first()?;
        // Only a block mapping: its first key starts its own line.
        let ls = line_start(src, first.start.offset);
        if !src[ls..first.start.offset].trim().is_empty() {
            return None;
        }
        let indent = &src[ls..first.start.offset];
        return Some(Edit {
            offset: ls,
            remove: 0,
            insert: format!("{indent}persist-credentials: false{nl}"),
        });
    }
    let (uses_key, uses) = step.entry("uses")?;
    // The step's keys are in a block mapping: `uses:` starts a line (or follows `- `).
    let ls = line_start(src, uses_key.start.offset);
    let before = &src[ls..uses_key.start.offset];
    if !before
        .trim_start_matches(' ')
        .trim_start_matches("- ")
        .trim()
        .is_empty()
    {
        return None;
    }
    let indent = " ".repeat(uses_key.start.col - 1);
    let end = line_end(src, uses.end.offset.max(uses_key.start.offset));
    let end = if src[..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    Some(Edit {
        offset: end,
        remove: 0,
        insert: format!("{nl}{indent}with:{nl}{indent}  persist-credentials: false"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(offset: usize, remove: usize, insert: &str) -> Edit {
        Edit {
            offset,
            remove,
            insert: insert.into(),
        }
    }

    #[test]
    fn edits_apply_back_to_front_once_each() {
        let a = e(6, 0, "X");
        let b = e(0, 5, "HELLO");
        let twice = e(6, 0, "X");
        assert_eq!(apply("hello world", &[&a, &b, &twice]), "HELLO Xworld");
    }

    #[test]
    fn an_overlapping_edit_waits_for_the_next_run() {
        let a = e(2, 4, "--");
        let b = e(4, 3, "++");
        // b (later in the text) applies; a would cut into it and is left out.
        assert_eq!(apply("0123456789", &[&a, &b]), "0123++789");
    }
}
