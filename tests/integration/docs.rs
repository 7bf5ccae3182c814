//! Every link the tool emits, and every link between our Markdown pages, points at a
//! file that exists and, where it names one, a heading that exists (as GitHub makes
//! anchors from headings). Renaming a heading fails here, not in a user's SARIF alert.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_`
/// dropped, spaces made `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (code blocks skipped).
fn anchors(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut fence = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
            continue;
        }
        if !fence && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

fn check(file: &Path, anchor: Option<&str>, from: &str) -> Result<(), String> {
    if !file.is_file() {
        return Err(format!("{from}: {} does not exist", file.display()));
    }
    match anchor {
        Some(a) if file.extension().is_some_and(|e| e == "md") && !anchors(file).contains(a) => {
            Err(format!(
                "{from}: {} has no heading with anchor #{a}",
                file.display()
            ))
        }
        _ => Ok(()),
    }
}

#[test]
fn every_emitted_link_names_a_docs_page_and_anchor_that_exist() {
    let prefix = format!("{}/blob/main/", cargo_secure_release::docs::HOME);
    // Every link the tool emits: each finding code's, and the configuration page.
    let mut links: Vec<String> = cargo_secure_release::report::Code::ours()
        .map(|c| c.help_url())
        .collect();
    links.push(cargo_secure_release::docs::configuration());
    // The provenance's build type and local builder id are documented anchors.
    links.push(cargo_secure_release::attestation::provenance::build_type());
    links.push(cargo_secure_release::attestation::provenance::local_builder());
    // One per code of ours, and the configuration page.
    assert!(links.len() > 20, "{links:?}");
    let mut bad = Vec::new();
    for link in &links {
        let Some(rest) = link.strip_prefix(&prefix) else {
            bad.push(format!("{link}: not a link into this repository"));
            continue;
        };
        let (path, anchor) = match rest.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (rest, None),
        };
        assert!(anchor.is_some(), "{link}: no anchor");
        if let Err(e) = check(&Path::new(ROOT).join(path), anchor, link) {
            bad.push(e);
        }
    }
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
}

#[test]
fn links_between_our_pages_resolve() {
    let mut pages: Vec<PathBuf> = vec![Path::new(ROOT).join("README.md")];
    for e in std::fs::read_dir(Path::new(ROOT).join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    assert!(pages.len() >= 12, "{pages:?}");
    let mut bad = Vec::new();
    let mut seen = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for target in markdown_links(&text) {
            if target.starts_with("http") || target.starts_with("mailto:") {
                continue;
            }
            seen += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = match path.is_empty() {
                true => page.clone(),
                false => page.parent().unwrap().join(path),
            };
            let from = format!("{} -> {target}", page.display());
            if let Err(e) = check(&file, anchor, &from) {
                bad.push(e);
            }
        }
    }
    assert!(seen > 20, "only {seen} relative links found");
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
}

/// The targets of `[text](target)` links outside code blocks.
fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug(" `no-high-entropy-va`"), "no-high-entropy-va");
    assert_eq!(
        slug(" Artifacts: the binary that ships"),
        "artifacts-the-binary-that-ships"
    );
    assert_eq!(
        slug(" Reports for CI: SARIF, GitHub annotations, `--output`"),
        "reports-for-ci-sarif-github-annotations---output"
    );
}

/// Every key the settings parser accepts is on the configuration page.
#[test]
fn every_config_key_is_documented() {
    let page = std::fs::read_to_string(Path::new(ROOT).join("docs/configuration.md")).unwrap();
    let mut missing = Vec::new();
    for (table, keys) in cargo_secure_release::config::KEY_TABLES {
        for key in *keys {
            // As the page writes a key: `key`, `key =`, `key.…`, in a `{ … }` list, or as a table.
            let shown = [
                format!("`{key}`"),
                format!("`{key} ="),
                format!("`{key}."),
                format!("{{ {key},"),
                format!(", {key},"),
                format!(", {key} }}"),
                format!("{{ {key} ="),
                format!(", {key} ="),
                format!(".{key}]"),
            ];
            if !shown.iter().any(|s| page.contains(s.as_str())) {
                missing.push(format!("{table}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented keys: {missing:?}");
}
