//! `audit --fix`: sets the failing profile keys in the workspace root manifest with
//! toml_edit, leaving every other byte of the file as it was.

use super::value::{Canon, Key};
use crate::error::Failure;
use anyhow::Result;
use toml_edit::{DocumentMut, Item, Table};

/// Returns `text` with `changes` applied to `[profile.NAME]` (created after the last
/// table when absent). Existing keys keep their position, spacing and comments.
pub fn apply(
    text: &str,
    path_for_errors: &str,
    profile: &str,
    changes: &[(Key, Canon)],
) -> Result<String> {
    if changes.is_empty() {
        return Ok(text.to_string());
    }
    edit_preserving(text, path_for_errors, |doc| {
        apply_doc(doc, path_for_errors, profile, changes)
    })
}

/// Parses `text` with toml_edit, lets `edit` change the document and prints it again.
/// toml_edit writes LF and drops a BOM: the LF text is edited, then both restored.
pub fn edit_preserving(
    text: &str,
    path_for_errors: &str,
    edit: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<String> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let crlf = body.contains("\r\n") && !body.replace("\r\n", "").contains('\n');
    let lf = if crlf {
        body.replace("\r\n", "\n")
    } else {
        body.to_string()
    };
    let mut doc: DocumentMut = lf.parse().map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map(|s| super::effective::line_of(&lf, s.start))
            .unwrap_or(1);
        Failure::new(format!(
            "{path_for_errors}:{line}: invalid TOML: {}",
            e.message().lines().next().unwrap_or("")
        ))
    })?;
    edit(&mut doc)?;
    let edited = doc.to_string();
    let edited = if crlf {
        edited.replace('\n', "\r\n")
    } else {
        edited
    };
    Ok(format!("{bom}{edited}"))
}

/// Comments after the last table belong to it in toml_edit's model: a table appended
/// at the end must carry them before its header, or it would land above them. Takes
/// them off the document and returns them as that prefix.
pub fn take_trailing(doc: &mut DocumentMut) -> Option<String> {
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    if trailing.trim().is_empty() {
        return None;
    }
    doc.set_trailing("");
    Some(format!("{trailing}\n"))
}

fn apply_doc(
    doc: &mut DocumentMut,
    path_for_errors: &str,
    profile: &str,
    changes: &[(Key, Canon)],
) -> Result<()> {
    // Comments after the last table belong to it; a table we append must come after them.
    let creating = doc
        .get("profile")
        .and_then(|p| p.as_table_like())
        .is_none_or(|p| p.get(profile).is_none());
    let prefix = if creating { take_trailing(doc) } else { None };
    let profiles = doc.entry("profile").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let Some(profiles) = profiles.as_table_like_mut() else {
        return Err(
            Failure::new(format!("{path_for_errors}: `profile` is not a table"))
                .help("write profiles as [profile.NAME] tables")
                .into(),
        );
    };
    if profiles.get(profile).is_none() {
        let mut t = Table::new();
        if let Some(p) = prefix {
            t.decor_mut().set_prefix(p);
        }
        profiles.insert(profile, Item::Table(t));
    }
    let Some(table) = profiles
        .get_mut(profile)
        .and_then(|i| i.as_table_like_mut())
    else {
        return Err(Failure::new(format!(
            "{path_for_errors}: `profile.{profile}` is not a table"
        ))
        .help(format!("write it as a [profile.{profile}] table"))
        .into());
    };
    for (key, want) in changes {
        let new = want.to_toml();
        match table.get_mut(key.name()) {
            Some(Item::Value(v)) => {
                let decor = v.decor().clone();
                *v = new;
                *v.decor_mut() = decor;
            }
            Some(other) => *other = Item::Value(new),
            None => {
                table.insert(key.name(), Item::Value(new));
            }
        }
    }
    Ok(())
}

/// A unified diff of the change, for `--dry-run`.
pub fn diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXES: [(Key, Canon); 3] = [
        (Key::Lto, Canon::Str("fat")),
        (Key::CodegenUnits, Canon::Int(1)),
        (Key::Strip, Canon::Str("symbols")),
    ];

    #[test]
    fn keeps_comments_and_order_and_replaces_in_place() {
        let before = "[package]\nname = \"x\" # the name\n\n[profile.release]\n# tuned for CI\nlto   =   \"thin\"   # fast links\ndebug = 1\n\n[features]\ndefault = []\n";
        let after = apply(before, "Cargo.toml", "release", &FIXES).unwrap();
        assert_eq!(
            after,
            "[package]\nname = \"x\" # the name\n\n[profile.release]\n# tuned for CI\nlto   =   \"fat\"   # fast links\ndebug = 1\ncodegen-units = 1\nstrip = \"symbols\"\n\n[features]\ndefault = []\n"
        );
    }

    #[test]
    fn creates_the_table_after_the_last_one() {
        let before = "[package]\nname = \"x\"\n\n[dependencies]\nitoa = \"1\"\n";
        let after = apply(before, "Cargo.toml", "dist", &FIXES).unwrap();
        assert_eq!(
            after,
            "[package]\nname = \"x\"\n\n[dependencies]\nitoa = \"1\"\n\n[profile.dist]\nlto = \"fat\"\ncodegen-units = 1\nstrip = \"symbols\"\n"
        );
    }

    #[test]
    fn trailing_comments_stay_with_the_table_they_follow() {
        let before = "[package]\nname = \"x\"\n\n[dependencies]\n# serde = \"1\"\n";
        let after = apply(before, "Cargo.toml", "release", &FIXES).unwrap();
        assert!(after.starts_with(before), "{after}");
        assert!(
            after.ends_with(
                "[profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = \"symbols\"\n"
            ),
            "{after}"
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let before = "[package]\nname = \"x\"\n";
        let once = apply(before, "Cargo.toml", "release", &FIXES).unwrap();
        let twice = apply(&once, "Cargo.toml", "release", &FIXES).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn keeps_crlf_line_endings_and_the_bom() {
        let before = "\u{feff}[package]\r\nname = \"x\"\r\n\r\n[profile.release]\r\nlto = \"thin\" # fast\r\n";
        let after = apply(before, "Cargo.toml", "release", &FIXES).unwrap();
        assert_eq!(
            after,
            "\u{feff}[package]\r\nname = \"x\"\r\n\r\n[profile.release]\r\nlto = \"fat\" # fast\r\ncodegen-units = 1\r\nstrip = \"symbols\"\r\n"
        );
        assert_eq!(
            apply(&after, "Cargo.toml", "release", &FIXES).unwrap(),
            after
        );
    }

    #[test]
    fn edits_inline_tables_in_place() {
        let before =
            "[package]\nname = \"x\"\n\n[profile]\nrelease = { lto = \"thin\", debug = 1 }\n";
        let after = apply(before, "Cargo.toml", "release", &FIXES).unwrap();
        assert_eq!(
            after,
            "[package]\nname = \"x\"\n\n[profile]\nrelease = { lto = \"fat\", debug = 1 , codegen-units = 1, strip = \"symbols\" }\n"
        );
    }

    #[test]
    fn diff_is_unified() {
        let d = diff("a\nb\n", "a\nc\n", "Cargo.toml");
        assert!(d.starts_with("--- a/Cargo.toml\n+++ b/Cargo.toml\n"), "{d}");
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
