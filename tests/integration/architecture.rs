//! The house rules of docs/ARCHITECTURE.md, checked on the source: no command
//! module imports another, and the modules import each other without a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const COMMANDS: [&str; 6] = ["audit", "tag", "verify", "init", "sbom", "attest"];

/// The node a path belongs to: the top-level module, except the profile's value
/// vocabulary (`profile::value`), a leaf the report model names its codes with.
fn node(segments: &[&str]) -> String {
    match segments {
        ["profile", "value", ..] => "profile::value".into(),
        [first, ..] => first.trim_end_matches(".rs").to_string(),
        [] => String::new(),
    }
}

/// Module -> the modules it names with `crate::…`, outside its unit tests.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap().to_str().unwrap().to_string();
            let parts: Vec<&str> = rel.split('/').collect();
            let from = node(&parts);
            if from == "main" || from == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap();
            for (i, _) in text.match_indices("crate::") {
                let path: Vec<&str> = text[i + 7..]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap()
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                let to = node(&path);
                if !to.is_empty() && to != from {
                    out.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    out
}

#[test]
fn no_command_imports_another_command() {
    let imports = imports();
    let mut bad = Vec::new();
    for from in COMMANDS {
        for to in imports.get(from).into_iter().flatten() {
            if COMMANDS.contains(&to.as_str()) {
                bad.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(imports.len() > 20, "{imports:?}");
    assert!(bad.is_empty(), "commands importing commands: {bad:?}");
}

#[test]
fn modules_import_each_other_without_a_circle() {
    let imports = imports();
    // Depth-first search for a back edge; the path shows the circle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            return Some(path[i..].iter().cloned().chain([n.to_string()]).collect());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in imports.keys() {
        if let Some(circle) = visit(n, &imports, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}
