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
