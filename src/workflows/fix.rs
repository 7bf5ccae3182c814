//! `audit --fix` for workflows: the edits the rules proposed, made on the text by
//! their byte spans, so every comment, blank line and quote stays as written.

use super::rules::Edit;

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
