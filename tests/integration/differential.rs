//! Differential tests of the warm path: a warm audit (findings cache, `cargo metadata`
//! fingerprint, advisory-tree record) must answer exactly what a cold one
//! (`--no-cache`) answers, whatever changed in between.
//!
//! Each catalogue entry is a real fixture project (real cargo, crates.io crates, a copy
//! of the real advisory database) and one mutation a user or an attacker could make.
//! It runs: cold run (fills the caches) → warm run (must equal it) → mutate → warm run,
//! compared with `--no-cache` on the mutated tree (identical `findings` and exit code),
//! then `tag --dry-run --allow-dirty` (from a copy of the pre-mutation caches) whose
//! gate verdict must agree with the `--no-cache` audit, then a warm run again. Each entry
//! also says whether the mutation changes the cold verdict, and that is checked too, so
//! an entry that tests nothing is caught. All failing entries are reported together.
//!
//! Every fixture file and database entry is dated an hour back and left to settle
//! before the first run: the records then vouch by size and time (what a real
//! project's old files get), so an edit that restores both is only seen by a product
//! that also looks at what cannot be restored (ctime, content).

#![cfg(unix)]

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestError, TestRunner};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tempfile::TempDir;

/// Yanked checks off: results then do not depend on the crates.io index cache, which
/// other tests refresh while these run.
const DENY: &str =
    "[advisories]\ndisable-yank-checking = true\n\n[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n";

/// cargo-deny's executable scan of workspace crates that run at build time.
const BANS_BUILD: &str = "\n[bans.build]\ninclude-workspace = true\nexecutables = \"deny\"\n";

const MAIN: &str = "fn main() {}\n";
const BUILD_RS: &str = "fn main() {}\n";

/// The MIT license text (what cargo-deny's license-text scan recognises).
const MIT_TEXT: &str = "MIT License

Copyright (c) 2024 Example Author

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the \"Software\"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
";

/// Not a license at all: cargo-deny finds no license in it.
const NOT_A_LICENSE: &str = "Copyright (c) 2024 Example Author. All rights reserved.\nNo permission is granted to anyone for anything.\n";

/// How far back fixture files are dated, and how long the (c)times get to settle.
const AGE: Duration = Duration::from_secs(3600);
const SETTLE: Duration = Duration::from_millis(2600);

// ---------------------------------------------------------------------------------
// Fixture layouts and their templates (locked once, copied per case)
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Layout {
    /// `ws/`: root package `app` (smallvec "1.4.1", locked at 1.6.1) with a workspace
    /// `members = ["crates/*"]` holding `crates/helper`, and a path dependency
    /// `pathdep/` outside the workspace.
    Ws,
    /// `Ws` plus `[patch.crates-io] smallvec` pointing at `patches/smallvec` 1.0.0,
    /// which matches nothing (unused), and depends on `time = "=0.1.43"`.
    WsPatchUnused,
    /// `Ws` plus a `[patch.crates-io] smallvec` at `patches/smallvec` 1.7.0, applied.
    WsPatchApplied,
    /// `Ws` plus `[replace] "smallvec:1.6.1"` = `replace/smallvec`.
    WsReplace,
    /// `ws/m/`: a package of its own (smallvec locked at 1.6.1), no `ws/Cargo.toml`.
    Nested,
    /// `Nested` inside a workspace `ws/Cargo.toml` (`members = ["m"]`) whose lock pins
    /// smallvec 1.4.1; `ws/m/Cargo.lock` (1.6.1) is left over.
    NestedInParent,
    /// `Nested` plus `ws/root/` (`members = ["../m"]`, lock pinning smallvec 1.4.1),
    /// which `m` does not (yet) point at with `package.workspace`.
    NestedKeyed,
}

impl Layout {
    /// Where the audit runs, relative to the repository.
    fn cwd(self) -> &'static str {
        match self {
            Layout::Nested | Layout::NestedInParent | Layout::NestedKeyed => "ws/m",
            _ => "ws",
        }
    }
}

fn package(name: &str, license: Option<&str>, rest: &str) -> String {
    let license = license
        .map(|l| format!("license = \"{l}\"\n"))
        .unwrap_or_default();
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{license}publish = false\n\n{rest}"
    )
}

fn write_file(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

fn parent_workspace() -> String {
    format!("[workspace]\nmembers = [\"m\"]\nresolver = \"2\"\n\n{HARDENED}")
}

fn write_layout(layout: Layout, repo: &Path) {
    let w = |rel: &str, text: &str| write_file(&repo.join(rel), text);
    match layout {
        Layout::Ws | Layout::WsPatchUnused | Layout::WsPatchApplied | Layout::WsReplace => {
            let mut root = package(
                "app",
                Some("MIT"),
                &format!("[dependencies]\nsmallvec = \"1.4.1\"\nhelper = {{ path = \"crates/helper\" }}\npathdep = {{ path = \"../pathdep\" }}\n\n[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n{HARDENED}"),
            );
            let patch = |version: &str, deps: &str| {
                w(
                    "patches/smallvec/Cargo.toml",
                    &format!("[package]\nname = \"smallvec\"\nversion = \"{version}\"\nedition = \"2018\"\nlicense = \"MIT\"\n{deps}"),
                );
                w("patches/smallvec/src/lib.rs", "");
            };
            match layout {
                Layout::WsPatchUnused => {
                    root.push_str(
                        "\n[patch.crates-io]\nsmallvec = { path = \"../patches/smallvec\" }\n",
                    );
                    patch("1.0.0", "\n[dependencies]\ntime = \"=0.1.43\"\n");
                }
                Layout::WsPatchApplied => {
                    root.push_str(
                        "\n[patch.crates-io]\nsmallvec = { path = \"../patches/smallvec\" }\n",
                    );
                    patch("1.7.0", "");
                }
                Layout::WsReplace => {
                    w(
                        "replace/smallvec/Cargo.toml",
                        "[package]\nname = \"smallvec\"\nversion = \"1.6.1\"\nedition = \"2018\"\nlicense = \"MIT\"\n",
                    );
                    w("replace/smallvec/src/lib.rs", "");
                }
                _ => {}
            }
            w("ws/Cargo.toml", &root);
            w("ws/src/main.rs", MAIN);
            w("ws/deny.toml", DENY);
            w(
                "ws/crates/helper/Cargo.toml",
                &package("helper", Some("MIT"), ""),
            );
            w("ws/crates/helper/src/lib.rs", "");
            w("pathdep/Cargo.toml", &package("pathdep", Some("MIT"), ""));
            w("pathdep/src/lib.rs", "");
        }
        Layout::Nested | Layout::NestedInParent | Layout::NestedKeyed => {
            w(
                "ws/m/Cargo.toml",
                &package(
                    "m",
                    Some("MIT"),
                    &format!("[dependencies]\nsmallvec = \"1.4.1\"\n\n{HARDENED}"),
                ),
            );
            w("ws/m/src/main.rs", MAIN);
            w("ws/m/deny.toml", DENY);
        }
    }
}

/// Real cargo in `dir`, which must succeed (online: crates.io is reachable).
fn cargo(dir: &Path, args: &[&str], env: &[(String, String)]) {
    let mut c = std::process::Command::new("cargo");
    c.args(args)
        .arg("-q")
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Locks `dir` with smallvec at `version` and downloads everything, so that the
/// `--offline` audits find every crate.
fn lock_at(dir: &Path, version: &str) {
    cargo(dir, &["generate-lockfile"], &[]);
    cargo(
        dir,
        &["update", "-p", "smallvec", "--precise", version],
        &[],
    );
    cargo(dir, &["fetch"], &[]);
}

/// A template: `repo/` locked (smallvec 1.6.1 where it is a registry crate), plus
/// `vuln.lock` (the same lock with smallvec 1.4.1) and `parent.lock` where they apply.
fn build_template(layout: Layout) -> TempDir {
    let t = TempDir::new().unwrap();
    let repo = t.path().join("repo");
    write_layout(layout, &repo);
    let ws = repo.join("ws");
    match layout {
        Layout::Ws | Layout::WsPatchUnused => {
            lock_at(&ws, "1.4.1");
            std::fs::copy(ws.join("Cargo.lock"), t.path().join("vuln.lock")).unwrap();
            cargo(
                &ws,
                &["update", "-p", "smallvec", "--precise", "1.6.1"],
                &[],
            );
            cargo(&ws, &["fetch"], &[]);
        }
        Layout::WsPatchApplied => {
            cargo(&ws, &["generate-lockfile"], &[]);
            cargo(&ws, &["fetch"], &[]);
        }
        Layout::WsReplace => {
            lock_at(&ws, "1.6.1");
            let m = std::fs::read_to_string(ws.join("Cargo.toml")).unwrap();
            write_file(
                &ws.join("Cargo.toml"),
                &format!(
                    "{m}\n[replace]\n\"smallvec:1.6.1\" = {{ path = \"../replace/smallvec\" }}\n"
                ),
            );
            cargo(&ws, &["fetch"], &[]);
        }
        Layout::Nested | Layout::NestedInParent => {
            write_file(&ws.join("Cargo.toml"), &parent_workspace());
            lock_at(&ws, "1.4.1");
            std::fs::rename(ws.join("Cargo.lock"), t.path().join("parent.lock")).unwrap();
            std::fs::remove_file(ws.join("Cargo.toml")).unwrap();
            lock_at(&ws.join("m"), "1.6.1");
            if layout == Layout::NestedInParent {
                write_file(&ws.join("Cargo.toml"), &parent_workspace());
                std::fs::copy(t.path().join("parent.lock"), ws.join("Cargo.lock")).unwrap();
            }
        }
        Layout::NestedKeyed => {
            let m = ws.join("m/Cargo.toml");
            let plain = std::fs::read_to_string(&m).unwrap();
            let keyed = plain.replacen(
                "publish = false\n",
                "publish = false\nworkspace = \"../root\"\n",
                1,
            );
            write_file(&m, &keyed);
            write_file(
                &ws.join("root/Cargo.toml"),
                &format!("[workspace]\nmembers = [\"../m\"]\nresolver = \"2\"\n\n{HARDENED}"),
            );
            lock_at(&ws.join("root"), "1.4.1");
            write_file(&m, &plain);
            lock_at(&ws.join("m"), "1.6.1");
        }
    }
    t
}

/// Templates built on first use, shared by the cases of one test.
#[derive(Default)]
struct Templates(Mutex<HashMap<Layout, std::sync::Arc<TempDir>>>);

impl Templates {
    fn get(&self, layout: Layout) -> std::sync::Arc<TempDir> {
        // Built under the lock: two cases of one layout must not lock it twice.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(layout)
            .or_insert_with(|| std::sync::Arc::new(build_template(layout)))
            .clone()
    }
}

/// A private copy of the real advisory snapshot (never `../shared` itself, and not the
/// process-wide copy other tests add advisories to).
fn db_copy(to: &Path) {
    copy_dir(&shared_dir().join("advisory-db"), to);
}

/// Dates every file and directory under `root` `AGE` back (links are left alone).
fn settle(root: &Path) {
    let old = SystemTime::now() - AGE;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                dirs.push(e.path());
            } else if ft.is_file() {
                std::fs::File::open(e.path())
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
        }
        std::fs::File::open(&d).unwrap().set_modified(old).unwrap();
    }
}

// ---------------------------------------------------------------------------------
// One prepared fixture and the commands run on it
// ---------------------------------------------------------------------------------

struct Ctx {
    tmp: TempDir,
    /// The template this fixture was copied from (its alternative lockfiles).
    tpl: std::sync::Arc<TempDir>,
    /// The git work tree: `tmp/repo`.
    repo: PathBuf,
    /// Where the commands run.
    cwd: PathBuf,
    /// The `--advisory-db` directory.
    db: PathBuf,
    /// Extra environment of every command from here on.
    env: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
struct Outcome {
    code: Option<i32>,
    findings: Option<Value>,
    /// `-vv`: cargo was not run (fingerprint hit).
    spared: bool,
    /// `-vv`: the advisory database was not loaded (findings-cache hit).
    hit: bool,
    stderr: String,
}

impl Outcome {
    fn verdict(&self) -> (Option<i32>, Option<&Value>) {
        (self.code, self.findings.as_ref())
    }

    fn has_errors(&self) -> bool {
        self.findings
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|f| f["severity"] == "error"))
    }

    fn path(&self) -> &'static str {
        match (self.spared, self.findings.is_some(), self.hit) {
            (true, false, _) => "no cargo, no report",
            (false, false, _) => "cargo ran, no report",
            (true, true, true) => "no cargo, findings-cache hit",
            (true, true, false) => "no cargo, findings-cache miss",
            (false, true, true) => "cargo ran, findings-cache hit",
            (false, true, false) => "cargo ran, findings-cache miss",
        }
    }

    /// The first line of stderr that says what went wrong, if any.
    fn error_line(&self) -> String {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .map(|l| format!(" ({})", l.trim()))
            .unwrap_or_default()
    }
}

/// What differs between a reference (`cold`) and another run; None when they agree.
fn difference(cold: &Outcome, other: &Outcome) -> Option<String> {
    if cold.verdict() == other.verdict() {
        return None;
    }
    let mut out = String::new();
    if cold.code != other.code {
        out.push_str(&format!(
            "exit code {:?}{} vs {:?}{}; ",
            cold.code,
            cold.error_line(),
            other.code,
            other.error_line()
        ));
    }
    let empty = Vec::new();
    let a = cold
        .findings
        .as_ref()
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let b = other
        .findings
        .as_ref()
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    match (cold.findings.is_some(), other.findings.is_some()) {
        (true, false) => out.push_str(&format!("no report instead of {} findings", a.len())),
        (false, true) => out.push_str(&format!("{} findings instead of no report", b.len())),
        _ => {
            let show = |f: Option<&Value>| {
                f.map(|f| {
                    format!(
                        "{} {} {} {} {}",
                        f["severity"].as_str().unwrap_or("-"),
                        f["code"].as_str().unwrap_or("-"),
                        f["package"].as_str().unwrap_or("-"),
                        f["version"].as_str().unwrap_or("-"),
                        f["id"]
                            .as_str()
                            .unwrap_or(f["message"].as_str().unwrap_or("-")),
                    ) + &f
                        .get("reach")
                        .and_then(Value::as_str)
                        .map(|r| format!(" (reach: {r})"))
                        .unwrap_or_default()
                })
                .unwrap_or_else(|| "(none)".into())
            };
            if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
                out.push_str(&format!(
                    "{} vs {} findings; first difference at #{i}: cold `{}` / other `{}`",
                    a.len(),
                    b.len(),
                    show(a.get(i)),
                    show(b.get(i))
                ));
            }
        }
    }
    Some(out.trim_end_matches("; ").to_string())
}

impl Ctx {
    fn p(&self, rel: &str) -> PathBuf {
        self.repo.join(rel)
    }

    fn t(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn tpl(&self, rel: &str) -> PathBuf {
        self.tpl.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        write_file(&self.p(rel), text);
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.p(rel)).unwrap()
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        edit_path(&self.p(rel), from, to);
    }

    fn append(&self, rel: &str, text: &str) {
        let old = self.read(rel);
        self.write(rel, &format!("{old}{text}"));
    }

    fn remove(&self, rel: &str) {
        let p = self.p(rel);
        match p.is_dir() {
            true => std::fs::remove_dir_all(&p).unwrap(),
            false => std::fs::remove_file(&p).unwrap(),
        }
    }

    fn set_env(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    /// Re-resolves Cargo.lock as a user would after a manifest change (minimally, like
    /// `cargo build`), and downloads what is new for the offline audits.
    fn relock(&self) {
        cargo(&self.cwd, &["fetch"], &self.env);
    }

    /// What cargo tells a user whose new `[patch]` is not used yet: `cargo update -p`.
    fn update(&self, package: &str) {
        cargo(&self.cwd, &["update", "-p", package], &self.env);
        self.relock();
    }

    fn command(&self, cache: &Path) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(&self.cwd)
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
            // The cache key's own directory, private to the case as well.
            .env("CARGO_SECURE_RELEASE_STATE_DIR", self.t("state"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// The audit: with the cache at `cache`, or `--no-cache` (the cache dir is still
    /// this case's own, so nothing it might write could reach another case).
    fn audit(&self, cache: &Path, no_cache: bool) -> Outcome {
        let mut c = self.command(cache);
        c.args([
            "audit",
            "-vv",
            "--offline",
            "--format",
            "json",
            "--advisory-db",
        ])
        .arg(&self.db);
        if no_cache {
            c.arg("--no-cache");
        }
        outcome(c.output().unwrap())
    }

    fn tag(&self, cache: &Path) -> Outcome {
        let mut c = self.command(cache);
        c.args([
            "tag",
            "-vv",
            "--dry-run",
            "--allow-dirty",
            "--offline",
            "--advisory-db",
        ])
        .arg(&self.db);
        let out = c.output().unwrap();
        Outcome {
            code: out.status.code(),
            findings: None,
            spared: false,
            hit: false,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    // --- mutations shared by several entries -------------------------------------

    /// The `[[package]]` lines of registry smallvec in a lockfile (name to checksum).
    fn smallvec_entry(lock: &str) -> String {
        let start = lock
            .find("name = \"smallvec\"\nversion")
            .expect("a smallvec entry");
        let end = lock[start..]
            .find("\n\n")
            .map(|e| start + e)
            .unwrap_or(lock.len());
        lock[start..end].to_string()
    }

    /// The Cargo.lock at `rel` (a copy of the template's), with smallvec 1.6.1 and
    /// 1.4.1 swapped in place: the same size; the old mtime is put back.
    fn toggle_lock_in_place(&self, rel: &str) {
        let fixed =
            Self::smallvec_entry(&std::fs::read_to_string(self.tpl("repo/ws/Cargo.lock")).unwrap());
        let vuln = Self::smallvec_entry(&std::fs::read_to_string(self.tpl("vuln.lock")).unwrap());
        let text = self.read(rel);
        if text.contains(&fixed) {
            edit_keep_mtime(&self.p(rel), &fixed, &vuln);
        } else {
            edit_keep_mtime(&self.p(rel), &vuln, &fixed);
        }
    }

    /// A new advisory for smallvec in `dir`: a copy of RUSTSEC-2021-0003 under another
    /// id that every 1.x release before 1.99 is affected by.
    fn publish_advisory(&self, dir: &Path, id: &str) {
        let original =
            std::fs::read_to_string(self.db.join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
        write_file(&dir.join(format!("{id}.md")), &new_advisory(&original, id));
    }
}

fn outcome(out: std::process::Output) -> Outcome {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = match stdout.trim().is_empty() {
        true => None,
        false => Some(json(&stdout)["findings"].clone()),
    };
    Outcome {
        code: out.status.code(),
        findings,
        spared: stderr.contains("timing: Reading the workspace (inputs unchanged: no cargo)"),
        hit: !stderr.contains("timing: Loading the advisory database"),
        stderr,
    }
}

fn edit_path(p: &Path, from: &str, to: &str) {
    let old = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    assert!(
        old.contains(from),
        "{} has no {from:?}:\n{old}",
        p.display()
    );
    write_file(p, &old.replacen(from, to, 1));
}

/// Edits `p` in place to the same size and puts its modification time back: only
/// the change time (and the content) still says that it changed.
fn edit_keep_mtime(p: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len(), "a same-size edit");
    let before = std::fs::metadata(p).unwrap();
    let old = std::fs::read_to_string(p).unwrap();
    assert!(
        old.contains(from),
        "{} has no {from:?}:\n{old}",
        p.display()
    );
    let new = old.replacen(from, to, 1);
    let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
    f.write_all(new.as_bytes()).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    let after = std::fs::metadata(p).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());
}

/// Replaces `p` with `text` the way `cp -p` of a file with the same date would: a new
/// file (renamed over it) of the same size with the old modification time.
fn replace_keep_mtime(p: &Path, text: &[u8]) {
    let before = std::fs::metadata(p).unwrap();
    assert_eq!(before.len(), text.len() as u64, "a same-size replacement");
    let tmp = p.with_extension("replacement");
    std::fs::write(&tmp, text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    std::fs::rename(&tmp, p).unwrap();
    assert_eq!(
        std::fs::metadata(p).unwrap().modified().unwrap(),
        before.modified().unwrap()
    );
}

/// `cp -pR`: a copy with every file's and directory's modification time kept.
fn copy_preserving(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_preserving(&e.path(), &dest);
        } else if ft.is_file() {
            std::fs::copy(e.path(), &dest).unwrap();
            keep_mtime_of(&e.path(), &dest);
        }
    }
    keep_mtime_of(from, to);
}

fn keep_mtime_of(original: &Path, copy: &Path) {
    let t = std::fs::metadata(original).unwrap().modified().unwrap();
    std::fs::File::open(copy).unwrap().set_modified(t).unwrap();
}

/// Replaces directory `dir` by a `cp -pR` copy that `edit` changes (keeping times),
/// and puts the parent directory's modification time back: only inode numbers and
/// change times say that anything happened.
fn swap_dir_for_edited_copy(dir: &Path, graveyard: &Path, edit: impl FnOnce(&Path)) {
    let parent = dir.parent().unwrap();
    let parent_mtime = std::fs::metadata(parent).unwrap().modified().unwrap();
    let copy = parent.join(".swap-in");
    copy_preserving(dir, &copy);
    edit(&copy);
    keep_mtime_of(dir, &copy);
    std::fs::rename(dir, graveyard).unwrap();
    std::fs::rename(&copy, dir).unwrap();
    std::fs::File::open(parent)
        .unwrap()
        .set_modified(parent_mtime)
        .unwrap();
}

/// A copy of RUSTSEC-2021-0003 under another id that every smallvec release before
/// 1.99 is affected by, whatever another mutation did to the original's ranges.
fn new_advisory(original: &str, id: &str) -> String {
    assert!(original.contains("id = \"RUSTSEC-2021-0003\"") && original.contains("\npatched = ["));
    original
        .replacen("id = \"RUSTSEC-2021-0003\"", &format!("id = \"{id}\""), 1)
        .lines()
        .filter(|l| !l.starts_with("aliases"))
        .map(|l| match l.starts_with("patched = [") {
            true => "patched = [\">= 1.99.0\"]\n".to_string(),
            false => format!("{l}\n"),
        })
        .collect()
}

/// XXH32 with seed 0: the hash cargo-deny's `[[licenses.clarify]] license-files` uses
/// (of the file with line endings normalised to `\n`).
fn xxh32(data: &[u8]) -> u32 {
    const P1: u32 = 0x9E37_79B1;
    const P2: u32 = 0x85EB_CA77;
    const P3: u32 = 0xC2B2_AE3D;
    const P4: u32 = 0x27D4_EB2F;
    const P5: u32 = 0x1656_67B1;
    let word = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap());
    let round = |acc: u32, w: u32| {
        acc.wrapping_add(w.wrapping_mul(P2))
            .rotate_left(13)
            .wrapping_mul(P1)
    };
    let mut i = 0;
    let mut h = if data.len() >= 16 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u32.wrapping_sub(P1)];
        while i + 16 <= data.len() {
            for (k, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, word(i + 4 * k));
            }
            i += 16;
        }
        v[0].rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18))
    } else {
        P5
    };
    h = h.wrapping_add(data.len() as u32);
    while i + 4 <= data.len() {
        h = h
            .wrapping_add(word(i).wrapping_mul(P3))
            .rotate_left(17)
            .wrapping_mul(P4);
        i += 4;
    }
    while i < data.len() {
        h = h
            .wrapping_add(u32::from(data[i]).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^= h >> 16;
    h
}

#[test]
fn xxh32_matches_the_reference_vectors() {
    assert_eq!(xxh32(b""), 0x02CC_5D05);
    assert_eq!(xxh32(b"abc"), 0x32D1_53FF);
}

/// The ELF executable cargo-deny's build check is to find.
fn elf() -> Vec<u8> {
    std::fs::read("/bin/true").unwrap()
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

// ---------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------

type Mutation = fn(&mut Ctx);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Db {
    /// One settled copy shared by every case that leaves the database alone.
    Common,
    /// The case's own copy.
    Private,
}

#[derive(Clone)]
struct Case {
    name: &'static str,
    /// The input class of the brief (1 workspace discovery … 11 replaced lockfile).
    class: u8,
    layout: Layout,
    /// Start from `vuln.lock` (smallvec 1.4.1, RUSTSEC-2021-0003).
    vulnerable: bool,
    db: Db,
    /// Shapes the fixture before it is committed and settled.
    setup: Option<Mutation>,
    mutate: Mutation,
    /// Whether the mutation changes what a cold audit answers (exit code or findings).
    changes_verdict: bool,
}

fn case(name: &'static str, class: u8, changes_verdict: bool, mutate: Mutation) -> Case {
    Case {
        name,
        class,
        layout: Layout::Ws,
        vulnerable: false,
        db: Db::Common,
        setup: None,
        mutate,
        changes_verdict,
    }
}

impl Case {
    fn on(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }
    fn vulnerable(mut self) -> Self {
        self.vulnerable = true;
        self
    }
    fn private_db(mut self) -> Self {
        self.db = Db::Private;
        self
    }
    fn setup(mut self, f: Mutation) -> Self {
        self.setup = Some(f);
        self
    }
}

const VULN_DEP: &str = "\n[dependencies]\ntime = \"=0.1.43\"\n";
const IGNORE_SMALLVEC: &str = "ignore = [{ id = \"RUSTSEC-2021-0003\", reason = \"r\" }]\n";

fn helper_build_script(c: &mut Ctx) {
    c.write("ws/crates/helper/build.rs", BUILD_RS);
}

fn with_executable_check(c: &mut Ctx) {
    c.append("ws/deny.toml", BANS_BUILD);
    helper_build_script(c);
}

fn restrict_build_scripts(c: &mut Ctx) {
    c.append(
        "ws/deny.toml",
        "\n[bans.build]\ninclude-workspace = true\nallow-build-scripts = []\n",
    );
}

fn add_executable(c: &mut Ctx) {
    let p = c.p("ws/crates/helper/tool");
    std::fs::write(&p, elf()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `pathdep` licensed GPL-3.0-only in its manifest, which deny.toml's clarification
/// overrides to MIT as long as its LICENSE file hashes as recorded.
fn clarified_pathdep(c: &mut Ctx) {
    c.edit(
        "pathdep/Cargo.toml",
        "license = \"MIT\"",
        "license = \"GPL-3.0-only\"",
    );
    c.write("pathdep/LICENSE", MIT_TEXT);
    c.append(
        "ws/deny.toml",
        &format!(
            "\n[[licenses.clarify]]\ncrate = \"pathdep\"\nexpression = \"MIT\"\nlicense-files = [{{ path = \"LICENSE\", hash = 0x{:08x} }}]\n",
            xxh32(MIT_TEXT.as_bytes())
        ),
    );
}

/// `pathdep` with no `license` field: cargo-deny reads its LICENSE file instead.
fn unlicensed_pathdep(c: &mut Ctx) {
    c.edit("pathdep/Cargo.toml", "license = \"MIT\"\n", "");
    c.edit("pathdep/Cargo.toml", "publish = false\n", "");
    c.write("pathdep/LICENSE", MIT_TEXT);
}

fn unlicensed_private_pathdep(c: &mut Ctx) {
    c.edit("pathdep/Cargo.toml", "license = \"MIT\"\n", "");
    c.write("pathdep/LICENSE", MIT_TEXT);
}

/// A directory `patches/cfg-smallvec`: smallvec 1.7.0 depending on time 0.1.43.
/// crates.io replaced by `cargo vendor`'s copy in ws/vendor (`[source] directory`).
fn vendor_crates_io(c: &mut Ctx) {
    cargo(&c.cwd, &["vendor", "--offline", "vendor"], &c.env);
    c.write(
        "ws/.cargo/config.toml",
        "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n",
    );
}

/// The vendored smallvec's manifest (after `vendor_crates_io`).
fn vendored_smallvec_manifest(c: &Ctx) -> PathBuf {
    std::fs::read_dir(c.p("ws/vendor"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("smallvec"))
        })
        .unwrap()
        .join("Cargo.toml")
}

fn config_patch_crate(c: &Ctx) -> PathBuf {
    c.write(
        "patches/cfg-smallvec/Cargo.toml",
        "[package]\nname = \"smallvec\"\nversion = \"1.7.0\"\nedition = \"2018\"\nlicense = \"MIT\"\n\n[dependencies]\ntime = \"=0.1.43\"\n",
    );
    c.write("patches/cfg-smallvec/src/lib.rs", "");
    c.p("patches/cfg-smallvec")
}

fn config_patch(c: &Ctx) -> String {
    format!(
        "[patch.crates-io]\nsmallvec = {{ path = \"{}\" }}\n",
        config_patch_crate(c).display()
    )
}

/// Its own CARGO_HOME, so its config.toml can change. The shared registry's crate
/// files and sources are linked in; its index is copied. Cargo serialises writers
/// with a lock file in CARGO_HOME, and a second home has its own: with the index
/// linked, this case's cargo read index files that other tests' cargo rewrote in
/// place at that moment ("no matching package named `libc` found", seen in CI).
fn own_cargo_home(c: &mut Ctx) {
    let home = c.t("home");
    let registry = home.join("registry");
    std::fs::create_dir_all(&registry).unwrap();
    let shared = cargo_home().join("registry");
    for e in std::fs::read_dir(&shared).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "index" {
            std::os::unix::fs::symlink(e.path(), registry.join(e.file_name())).unwrap();
        }
    }
    // The copy is made under the shared home's own lock, so no cargo is mid-write.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(cargo_home().join(".package-cache"))
        .unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function owns; released when `lock` drops.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if shared.join("index").is_dir() {
        copy_dir(&shared.join("index"), &registry.join("index"));
    }
    drop(lock);
    let home = home.to_str().unwrap().to_string();
    c.set_env("CARGO_HOME", &home);
}

fn member(name: &str, deps: &str) -> String {
    package(name, Some("MIT"), deps)
}

fn catalogue() -> Vec<Case> {
    vec![
        // 1. Workspace discovery.
        case("parent workspace appears above the package, its lock pinning smallvec 1.4.1", 1, true, |c| {
            c.write("ws/Cargo.toml", &parent_workspace());
            std::fs::copy(c.tpl("parent.lock"), c.p("ws/Cargo.lock")).unwrap();
        })
        .on(Layout::Nested),
        case("parent workspace appears that does not list the package", 1, true, |c| {
            c.write("ws/Cargo.toml", "[workspace]\nmembers = []\nresolver = \"2\"\n");
        })
        .on(Layout::Nested),
        case("parent workspace appears that excludes the package", 1, false, |c| {
            c.write("ws/Cargo.toml", "[workspace]\nmembers = []\nexclude = [\"m\"]\nresolver = \"2\"\n");
        })
        .on(Layout::Nested),
        case("parent workspace Cargo.toml removed (the package's own lock has 1.6.1)", 1, true, |c| {
            c.remove("ws/Cargo.toml");
        })
        .on(Layout::NestedInParent),
        case("package.workspace key points the package at ../root (lock with 1.4.1)", 1, true, |c| {
            c.edit("ws/m/Cargo.toml", "publish = false\n", "publish = false\nworkspace = \"../root\"\n");
        })
        .on(Layout::NestedKeyed),
        case("path dependency's inherited license changed in its own workspace root above it, same size, mtime kept", 1, true, |c| {
            edit_keep_mtime(&c.p("Cargo.toml"), "\"MIT\"", "\"ISC\"");
        })
        .setup(|c| {
            c.write("Cargo.toml", "[workspace]\nmembers = [\"pathdep\"]\nresolver = \"2\"\n\n[workspace.package]\nlicense = \"MIT\"\n");
            c.edit("pathdep/Cargo.toml", "license = \"MIT\"", "license.workspace = true");
        }),
        // 2. Auto-discovered targets.
        case("src/bin/x.rs added", 2, false, |c| c.write("ws/src/bin/x.rs", MAIN)),
        case("src/bin/y/main.rs added", 2, false, |c| c.write("ws/src/bin/y/main.rs", MAIN)),
        case("src/bin/app.rs added: a second bin named like the package's", 2, true, |c| {
            c.write("ws/src/bin/app.rs", MAIN)
        }),
        case("src/bin/y/main.rs added beside src/bin/y.rs", 2, true, |c| {
            c.write("ws/src/bin/y/main.rs", MAIN)
        })
        .setup(|c| c.write("ws/src/bin/y.rs", MAIN)),
        case("examples/e.rs added", 2, false, |c| c.write("ws/examples/e.rs", MAIN)),
        case("tests/t.rs added", 2, false, |c| c.write("ws/tests/t.rs", "")),
        case("benches/b.rs added", 2, false, |c| c.write("ws/benches/b.rs", MAIN)),
        case("src/lib.rs added to the root package", 2, false, |c| c.write("ws/src/lib.rs", "")),
        case("src/main.rs removed: the root package has no target left", 2, true, |c| {
            c.remove("ws/src/main.rs")
        }),
        case("src/main.rs is a link; its target removed: the root package has no target left", 2, true, |c| {
            c.remove("elsewhere/main.rs")
        })
        .setup(|c| {
            c.write("elsewhere/main.rs", MAIN);
            c.remove("ws/src/main.rs");
            std::os::unix::fs::symlink("../../elsewhere/main.rs", c.p("ws/src/main.rs")).unwrap();
        }),
        case("src/lib.rs removed from the path dependency: no target left", 2, true, |c| {
            c.remove("pathdep/src/lib.rs")
        }),
        case("build.rs added to a member (no build-script policy)", 2, false, helper_build_script),
        case("build.rs added to a member while deny.toml allows no build scripts", 2, true, helper_build_script)
            .setup(restrict_build_scripts),
        case("build.rs removed from a member while deny.toml allows no build scripts", 2, true, |c| {
            c.remove("ws/crates/helper/build.rs")
        })
        .setup(|c| {
            restrict_build_scripts(c);
            helper_build_script(c);
        }),
        case("build.rs added to a member that ships an executable (bans.build)", 2, true, helper_build_script)
            .setup(|c| {
                c.append("ws/deny.toml", BANS_BUILD);
                add_executable(c);
            }),
        // 3. [patch] and [replace].
        case("unused [patch] crate's version edited so that it matches (not re-locked)", 3, true, |c| {
            c.edit("patches/smallvec/Cargo.toml", "version = \"1.0.0\"", "version = \"1.7.0\"");
        })
        .on(Layout::WsPatchUnused),
        case("unused [patch] crate's version edited in place to match, mtime kept", 3, true, |c| {
            edit_keep_mtime(&c.p("patches/smallvec/Cargo.toml"), "version = \"1.0.0\"", "version = \"1.7.0\"");
        })
        .on(Layout::WsPatchUnused),
        case("unused [patch] crate starts matching and brings time 0.1.43 (re-locked)", 3, true, |c| {
            c.edit("patches/smallvec/Cargo.toml", "version = \"1.0.0\"", "version = \"1.7.0\"");
            c.relock();
        })
        .on(Layout::WsPatchUnused),
        case("applied [patch] crate gains time 0.1.43 (re-locked)", 3, true, |c| {
            c.append("patches/smallvec/Cargo.toml", VULN_DEP);
            c.relock();
        })
        .on(Layout::WsPatchApplied),
        case("[replace] crate gains time 0.1.43 (re-locked)", 3, true, |c| {
            c.append("replace/smallvec/Cargo.toml", VULN_DEP);
            c.relock();
        })
        .on(Layout::WsReplace),
        case("[replace] crate gains a dependency (not re-locked)", 3, true, |c| {
            c.append("replace/smallvec/Cargo.toml", VULN_DEP);
        })
        .on(Layout::WsReplace),
        // 4. Path dependencies' manifests.
        case("path dependency outside the workspace gains time 0.1.43 (re-locked)", 4, true, |c| {
            c.append("pathdep/Cargo.toml", VULN_DEP);
            c.relock();
        }),
        case("path dependency gains a dependency (not re-locked)", 4, true, |c| {
            c.append("pathdep/Cargo.toml", VULN_DEP);
        }),
        case("member pins smallvec =1.4.1 (re-locked)", 4, true, |c| {
            c.append("ws/crates/helper/Cargo.toml", "[dependencies]\nsmallvec = \"=1.4.1\"\n");
            c.relock();
        }),
        case("path dependency's manifest is a link; its target edited", 4, true, |c| {
            c.edit("manifests/pathdep.toml", "license = \"MIT\"", "license = \"GPL-3.0-only\"");
        })
        .setup(|c| {
            std::fs::create_dir_all(c.p("manifests")).unwrap();
            std::fs::rename(c.p("pathdep/Cargo.toml"), c.p("manifests/pathdep.toml")).unwrap();
            std::os::unix::fs::symlink("../manifests/pathdep.toml", c.p("pathdep/Cargo.toml")).unwrap();
        }),
        case("member's default features now enable its optional time 0.1.43", 4, true, |c| {
            c.edit("ws/crates/helper/Cargo.toml", "[features]\n", "[features]\ndefault = [\"t\"]\n");
        })
        .setup(|c| {
            c.append(
                "ws/crates/helper/Cargo.toml",
                "[dependencies]\ntime = { version = \"=0.1.43\", optional = true }\n\n[features]\nt = [\"dep:time\"]\n",
            );
            c.relock();
        }),
        case("path dependency's license changed to GPL-3.0-only", 4, true, |c| {
            c.edit("pathdep/Cargo.toml", "license = \"MIT\"", "license = \"GPL-3.0-only\"");
        }),
        // 5. Files deny.toml's checks read.
        case("executable added to a member with a build script (bans.build)", 5, true, add_executable)
            .setup(with_executable_check),
        case("executable removed from a member with a build script (bans.build)", 5, true, |c| {
            c.remove("ws/crates/helper/tool")
        })
        .setup(|c| {
            with_executable_check(c);
            add_executable(c);
        }),
        case("bypassed build script edited in place, mtime kept: its checksum no longer matches", 5, true, |c| {
            edit_keep_mtime(&c.p("ws/crates/helper/build.rs"), "fn main() {}", "fn main(){ }");
        })
        .setup(|c| {
            c.append(
                "ws/deny.toml",
                &format!(
                    "{BANS_BUILD}bypass = [{{ crate = \"helper\", build-script = \"{}\" }}]\n",
                    sha256_hex(BUILD_RS.as_bytes())
                ),
            );
            helper_build_script(c);
            add_executable(c);
        }),
        case("allowed executable (by checksum) replaced by another build", 5, true, |c| {
            let mut other = elf();
            other.push(0);
            std::fs::write(c.p("ws/crates/helper/tool"), other).unwrap();
        })
        .setup(|c| {
            c.append(
                "ws/deny.toml",
                &format!(
                    "{BANS_BUILD}bypass = [{{ crate = \"helper\", allow = [{{ path = \"tool\", checksum = \"{}\" }}] }}]\n",
                    sha256_hex(&elf())
                ),
            );
            helper_build_script(c);
            add_executable(c);
        }),
        case("clarified license file edited in place, mtime kept: the clarification no longer applies", 5, true, |c| {
            edit_keep_mtime(&c.p("pathdep/LICENSE"), "2024", "2025");
        })
        .setup(clarified_pathdep),
        case("clarified license file appended to", 5, true, |c| {
            c.append("pathdep/LICENSE", "\nAlso: be nice.\n");
        })
        .setup(clarified_pathdep),
        case("license file of a path package without `license` replaced by a non-license", 5, true, |c| {
            c.write("pathdep/LICENSE", NOT_A_LICENSE);
        })
        .setup(unlicensed_pathdep),
        case("license file of an unpublished path package without `license` replaced by a non-license", 5, true, |c| {
            c.write("pathdep/LICENSE", NOT_A_LICENSE);
        })
        .setup(unlicensed_private_pathdep),
        case("license file of a path package without `license`: copyright year edited", 5, false, |c| {
            c.edit("pathdep/LICENSE", "2024", "2025");
        })
        .setup(unlicensed_pathdep),
        case("license file of a path package without `license` is a link; its target replaced by a non-license", 5, true, |c| {
            c.write("elsewhere/LICENSE", NOT_A_LICENSE);
        })
        .setup(|c| {
            unlicensed_pathdep(c);
            std::fs::create_dir_all(c.p("elsewhere")).unwrap();
            std::fs::rename(c.p("pathdep/LICENSE"), c.p("elsewhere/LICENSE")).unwrap();
            std::os::unix::fs::symlink("../elsewhere/LICENSE", c.p("pathdep/LICENSE")).unwrap();
        }),
        case("license file of a path package without `license` renamed to COPYING-OLD beside a new non-license LICENSE", 5, true, |c| {
            std::fs::rename(c.p("pathdep/LICENSE"), c.p("pathdep/COPYING-OLD")).unwrap();
            c.write("pathdep/LICENSE", NOT_A_LICENSE);
        })
        .setup(unlicensed_pathdep),
        case("license file added to a path package without `license`", 5, true, |c| {
            c.write("pathdep/LICENSE", MIT_TEXT);
        })
        .setup(|c| c.edit("pathdep/Cargo.toml", "license = \"MIT\"\n", "")),
        case("deny.toml removed: a parent directory's deny.toml (ISC only) applies", 5, true, |c| {
            c.remove("ws/deny.toml")
        })
        .setup(|c| c.write("deny.toml", &DENY.replace("[\"MIT\", \"Apache-2.0\"]", "[\"ISC\"]"))),
        // 6. The advisory database as cargo-deny's loader reads it.
        case("advisory added (RUSTSEC-2099-0001 for smallvec)", 6, true, |c| {
            c.publish_advisory(&c.db.join("crates/smallvec"), "RUSTSEC-2099-0001");
        })
        .private_db(),
        case("advisory removed (RUSTSEC-2021-0003 on a locked smallvec 1.4.1)", 6, true, |c| {
            std::fs::remove_file(c.db.join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
        })
        .vulnerable()
        .private_db(),
        case("advisory published into the directory the DB's crates/ links to", 6, true, |c| {
            c.publish_advisory(&c.t("dbcrates/smallvec"), "RUSTSEC-2099-0001");
        })
        .private_db()
        .setup(|c| {
            std::fs::rename(c.db.join("crates"), c.t("dbcrates")).unwrap();
            std::os::unix::fs::symlink(c.t("dbcrates"), c.db.join("crates")).unwrap();
        }),
        case("advisory added inside crates/smallvec/.git/ (the loader reads every .md under crates/)", 6, true, |c| {
            c.publish_advisory(&c.db.join("crates/smallvec/.git"), "RUSTSEC-2099-0005");
        })
        .private_db(),
        case("advisory added inside a dot-directory of crates/", 6, true, |c| {
            c.publish_advisory(&c.db.join("crates/.pending"), "RUSTSEC-2099-0002");
        })
        .private_db(),
        case("advisory edited in place to the same size, mtime kept (1.6.1 now affected)", 6, true, |c| {
            edit_keep_mtime(&c.db.join("crates/smallvec/RUSTSEC-2021-0003.md"), "\">= 1.6.1\"]", "\">= 1.6.2\"]");
        })
        .private_db(),
        case("advisory directory swapped for a cp -p copy with one advisory edited, all times kept", 6, true, |c| {
            let dir = c.db.join("crates/smallvec");
            swap_dir_for_edited_copy(&dir, &c.t("old-smallvec"), |copy| {
                edit_keep_mtime(&copy.join("RUSTSEC-2021-0003.md"), "\">= 1.6.1\"]", "\">= 1.6.2\"]");
            });
        })
        .private_db(),
        case("advisory withdrawn", 6, true, |c| {
            edit_path(
                &c.db.join("crates/smallvec/RUSTSEC-2021-0003.md"),
                "date = \"2021-01-08\"\n",
                "date = \"2021-01-08\"\nwithdrawn = \"2021-02-01\"\n",
            );
        })
        .vulnerable()
        .private_db(),
        case("advisory added outside crates/ (rust/), which the loader does not read", 6, false, |c| {
            c.publish_advisory(&c.db.join("rust/smallvec"), "RUSTSEC-2099-0003");
        })
        .private_db(),
        case("advisory added as a symbolic link, which the loader skips", 6, false, |c| {
            let target = c.t("elsewhere/RUSTSEC-2099-0004.md");
            c.publish_advisory(&c.t("elsewhere"), "RUSTSEC-2099-0004");
            std::os::unix::fs::symlink(&target, c.db.join("crates/smallvec/RUSTSEC-2099-0004.md")).unwrap();
        })
        .private_db(),
        case("advisory file renamed (same id, same content)", 6, false, |c| {
            std::fs::rename(
                c.db.join("crates/smallvec/RUSTSEC-2021-0003.md"),
                c.db.join("crates/smallvec/renamed.md"),
            )
            .unwrap();
        })
        .vulnerable()
        .private_db(),
        case("--advisory-db is a link retargeted to a copy without RUSTSEC-2021-0003", 6, true, |c| {
            std::fs::remove_file(c.t("db-link")).unwrap();
            std::os::unix::fs::symlink(c.t("db-b"), c.t("db-link")).unwrap();
        })
        .vulnerable()
        .private_db()
        .setup(|c| {
            copy_dir(&c.db, &c.t("db-b"));
            std::fs::remove_file(c.t("db-b/crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
            std::os::unix::fs::symlink(&c.db, c.t("db-link")).unwrap();
            c.db = c.t("db-link");
        }),
        // 7. Same size, mtime put back.
        case("Cargo.lock edited in place (smallvec 1.6.1 -> 1.4.1), mtime kept", 7, true, |c| {
            c.toggle_lock_in_place("ws/Cargo.lock");
        }),
        case("member manifest's license MIT -> ISC in place, mtime kept", 7, true, |c| {
            edit_keep_mtime(&c.p("ws/crates/helper/Cargo.toml"), "\"MIT\"", "\"ISC\"");
        }),
        case("path dependency's license MIT -> ISC in place, mtime kept", 7, true, |c| {
            edit_keep_mtime(&c.p("pathdep/Cargo.toml"), "\"MIT\"", "\"ISC\"");
        }),
        case("root manifest's requirement 1.4.1 -> 1.6.1 in place, mtime kept (lock has 1.4.1)", 7, true, |c| {
            edit_keep_mtime(&c.p("ws/Cargo.toml"), "smallvec = \"1.4.1\"", "smallvec = \"1.6.1\"");
        })
        .vulnerable(),
        case("path dependency's directory swapped for a cp -p copy with its license edited, all times kept", 7, true, |c| {
            swap_dir_for_edited_copy(&c.p("pathdep"), &c.t("old-pathdep"), |copy| {
                edit_keep_mtime(&copy.join("Cargo.toml"), "\"MIT\"", "\"ISC\"");
            });
        }),
        case("Cargo.lock checksum digit changed in place, mtime kept", 7, true, |c| {
            let lock = c.read("ws/Cargo.lock");
            let entry = Ctx::smallvec_entry(&lock);
            let at = entry.find("checksum = \"").unwrap() + "checksum = \"".len();
            let digit = &entry[at..at + 1];
            let other = if digit == "0" { "1" } else { "0" };
            let edited = format!("{}{other}{}", &entry[..at], &entry[at + 1..]);
            edit_keep_mtime(&c.p("ws/Cargo.lock"), &entry, &edited);
        }),
        case("deny.toml's allow-list MIT -> ISC in place, mtime kept", 7, true, |c| {
            edit_keep_mtime(&c.p("ws/deny.toml"), "[\"MIT\"", "[\"ISC\"");
        }),
        // 8. Cargo configuration.
        case("a file the project config includes (`include`) now holds a [patch] (cargo update -p smallvec)", 8, true, |c| {
            let patch = config_patch(c);
            c.write("ws/.cargo/extra.toml", &patch);
            c.update("smallvec");
        })
        .setup(|c| {
            c.write("ws/.cargo/config.toml", "include = [\"extra.toml\"]\n");
            c.write("ws/.cargo/extra.toml", "# nothing yet\n");
        }),
        case("a vendored crate's manifest (`[source] directory`) changes its license", 8, true, |c| {
            let m = vendored_smallvec_manifest(c);
            let text = std::fs::read_to_string(&m).unwrap();
            let edited: String = text
                .lines()
                .map(|l| match l.starts_with("license = ") {
                    true => "license = \"GPL-3.0-only\"\n".to_string(),
                    false => format!("{l}\n"),
                })
                .collect();
            assert_ne!(text, edited, "{}", m.display());
            std::fs::write(&m, edited).unwrap();
        })
        .setup(vendor_crates_io),
        // Files of packages from a source are judged by their stamps alone: the
        // change time still says that this one changed.
        case("a vendored crate's manifest changes its license in place, same size, mtime kept", 8, true, |c| {
            let m = vendored_smallvec_manifest(c);
            edit_keep_mtime(&m, "license = \"MIT/Apache-2.0\"", "license =  \"AGPL-3.0-only\"");
        })
        .setup(vendor_crates_io),
        case("project .cargo/config.toml [patch] brings time 0.1.43 (cargo update -p smallvec)", 8, true, |c| {
            let patch = config_patch(c);
            c.write("ws/.cargo/config.toml", &patch);
            c.update("smallvec");
        }),
        case("parent directory's .cargo/config.toml [patch] (not re-locked)", 8, true, |c| {
            let patch = config_patch(c);
            c.write(".cargo/config.toml", &patch);
        }),
        case("project .cargo/config.toml [build] target-dir", 8, false, |c| {
            c.write("ws/.cargo/config.toml", "[build]\ntarget-dir = \"elsewhere\"\n");
        }),
        case("parent directory's .cargo/config.toml sets the release profile's lto", 8, true, |c| {
            c.write(".cargo/config.toml", "[profile.release]\nlto = \"thin\"\n");
        }),
        case("CARGO_HOME/config.toml sets the release profile's codegen-units", 8, true, |c| {
            let home = c.t("home/config.toml");
            write_file(&home, "[profile.release]\ncodegen-units = 16\n");
        })
        .setup(own_cargo_home),
        case("CARGO_HOME/config.toml [patch] brings time 0.1.43 (cargo update -p smallvec)", 8, true, |c| {
            let patch = config_patch(c);
            write_file(&c.t("home/config.toml"), &patch);
            c.update("smallvec");
        })
        .setup(own_cargo_home),
        case("CARGO_PROFILE_RELEASE_LTO=false", 8, true, |c| c.set_env("CARGO_PROFILE_RELEASE_LTO", "false")),
        case("CARGO_BUILD_TARGET set", 8, false, |c| c.set_env("CARGO_BUILD_TARGET", "x86_64-unknown-linux-gnu")),
        case("CARGO_TARGET_DIR set", 8, false, |c| {
            let dir = c.t("target-elsewhere").display().to_string();
            c.set_env("CARGO_TARGET_DIR", &dir);
        }),
        // 9. Ignores.
        case("[workspace.metadata.secure-release] ignore added", 9, true, |c| {
            c.append("ws/Cargo.toml", &format!("\n[workspace.metadata.secure-release]\n{IGNORE_SMALLVEC}"));
        })
        .vulnerable(),
        case("[package.metadata.secure-release] ignore removed", 9, true, |c| {
            let m = c.read("ws/Cargo.toml");
            let cut = m.find("\n[package.metadata.secure-release]").unwrap();
            c.write("ws/Cargo.toml", &m[..cut]);
        })
        .vulnerable()
        .setup(|c| c.append("ws/Cargo.toml", &format!("\n[package.metadata.secure-release]\n{IGNORE_SMALLVEC}"))),
        case("deny.toml [advisories] ignore added", 9, true, |c| {
            c.edit("ws/deny.toml", "disable-yank-checking = true\n", &format!("disable-yank-checking = true\n{IGNORE_SMALLVEC}"));
        })
        .vulnerable(),
        case(".cargo/audit.toml ignore added", 9, true, |c| {
            c.write("ws/.cargo/audit.toml", "[advisories]\nignore = [\"RUSTSEC-2021-0003\"]\n");
        })
        .vulnerable(),
        case(".cargo/audit.toml ignore removed", 9, true, |c| c.remove("ws/.cargo/audit.toml"))
            .vulnerable()
            .setup(|c| c.write("ws/.cargo/audit.toml", "[advisories]\nignore = [\"RUSTSEC-2021-0003\"]\n")),
        case("ignore's `until` date passes (CARGO_SECURE_RELEASE_TODAY)", 9, true, |c| {
            c.set_env("CARGO_SECURE_RELEASE_TODAY", "2030-01-02")
        })
        .vulnerable()
        .setup(|c| {
            c.append(
                "ws/Cargo.toml",
                "\n[workspace.metadata.secure-release]\nignore = [{ id = \"RUSTSEC-2021-0003\", reason = \"r\", until = \"2030-01-01\" }]\n",
            );
            c.set_env("CARGO_SECURE_RELEASE_TODAY", "2029-12-31");
        }),
        // 10. Member globs.
        case("members glob `more/*/x`: a new more/b/x member inside an old more/b (not re-locked)", 10, true, |c| {
            c.write("ws/more/b/x/Cargo.toml", &member("bx", ""));
            c.write("ws/more/b/x/src/lib.rs", "");
        })
        .setup(|c| {
            c.edit("ws/Cargo.toml", "members = [\"crates/*\"]", "members = [\"crates/*\", \"more/*/x\"]");
            // Cargo takes a glob that matches nothing for a path: one member to match.
            c.write("ws/more/a/x/Cargo.toml", &member("ax", ""));
            c.write("ws/more/a/x/src/lib.rs", "");
            c.write("ws/more/b/README", "not a member yet\n");
            c.relock();
        }),
        case("new member under crates/* pinning smallvec =1.4.1 (re-locked)", 10, true, |c| {
            c.write("ws/crates/extra/Cargo.toml", &member("extra", "[dependencies]\nsmallvec = \"=1.4.1\"\n"));
            c.write("ws/crates/extra/src/lib.rs", "");
            c.relock();
        }),
        case("new member under crates/* (not re-locked)", 10, true, |c| {
            c.write("ws/crates/extra/Cargo.toml", &member("extra", VULN_DEP));
            c.write("ws/crates/extra/src/lib.rs", "");
        }),
        case("member linked in under crates/* from elsewhere (not re-locked)", 10, true, |c| {
            c.write("elsewhere/extra/Cargo.toml", &member("extra", ""));
            c.write("elsewhere/extra/src/lib.rs", "");
            std::os::unix::fs::symlink("../../elsewhere/extra", c.p("ws/crates/extra")).unwrap();
        }),
        case("directory without a manifest under crates/*", 10, true, |c| {
            c.write("ws/crates/notes/README.md", "notes\n");
        }),
        // 11. Cargo.lock replaced.
        case("Cargo.lock replaced by one with smallvec 1.4.1, same size and mtime (cp -p)", 11, true, |c| {
            let vuln = std::fs::read(c.tpl("vuln.lock")).unwrap();
            replace_keep_mtime(&c.p("ws/Cargo.lock"), &vuln);
        }),
        case("Cargo.lock replaced by one with smallvec 1.4.1", 11, true, |c| {
            std::fs::copy(c.tpl("vuln.lock"), c.p("ws/Cargo.lock")).unwrap();
        }),
        case("Cargo.lock is a link; its target edited in place (smallvec 1.4.1), mtime kept", 11, true, |c| {
            c.toggle_lock_in_place("locks/Cargo.lock");
        })
        .setup(|c| {
            std::fs::create_dir_all(c.p("locks")).unwrap();
            std::fs::rename(c.p("ws/Cargo.lock"), c.p("locks/Cargo.lock")).unwrap();
            std::os::unix::fs::symlink("../locks/Cargo.lock", c.p("ws/Cargo.lock")).unwrap();
        }),
        case("Cargo.lock format version 4 -> 3 in place, mtime kept", 11, false, |c| {
            edit_keep_mtime(&c.p("ws/Cargo.lock"), "version = 4", "version = 3");
        }),
        // The audit makes it again, as `cargo build` would: the same pins here.
        case("Cargo.lock removed", 11, false, |c| c.remove("ws/Cargo.lock")),
    ]
}

// ---------------------------------------------------------------------------------
// Running the catalogue
// ---------------------------------------------------------------------------------

/// Copies the template, shapes and commits the fixture, and dates it back.
fn prepare(
    layout: Layout,
    vulnerable: bool,
    db: Option<&Path>,
    setup: Option<Mutation>,
    templates: &Templates,
) -> Ctx {
    let tpl = templates.get(layout);
    let tmp = TempDir::new().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&tpl.path().join("repo"), &repo);
    let db = match db {
        Some(common) => common.to_path_buf(),
        None => {
            let d = tmp.path().join("db");
            db_copy(&d);
            d
        }
    };
    let mut ctx = Ctx {
        cwd: repo.join(layout.cwd()),
        repo,
        db,
        tpl,
        tmp,
        // Today is an input of the audit (the database's age, ignores' `until`): one
        // date for every run of the harness, so a run on each side of midnight is
        // not a difference between warm and cold. A case may set its own.
        env: vec![(
            "CARGO_SECURE_RELEASE_TODAY".to_string(),
            suite_today().to_string(),
        )],
    };
    if vulnerable {
        std::fs::copy(ctx.tpl("vuln.lock"), ctx.p("ws/Cargo.lock")).unwrap();
    }
    if let Some(f) = setup {
        f(&mut ctx);
    }
    let r = &ctx.repo;
    git_ok(r, &["init", "-q", "-b", "main"]);
    git_ok(r, &["config", "user.name", "Release Manager"]);
    git_ok(r, &["config", "user.email", "release@example.org"]);
    git_ok(r, &["add", "-A"]);
    git_ok(r, &["commit", "-qm", "fixture"]);
    settle(ctx.tmp.path());
    ctx
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

fn catching<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(panic_text)
}

/// `f` over `items` on two threads (the machine has two cores), results in order.
fn parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = items.len();
    let queue = Mutex::new(items.into_iter().enumerate());
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().next();
                let Some((i, item)) = next else { break };
                let r = f(item);
                out.lock().unwrap()[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Copies a cache directory (the records and entries are plain files).
fn copy_cache(from: &Path, to: &Path) {
    if from.is_dir() {
        copy_dir(from, to);
    }
}

/// The gate's verdict must be the `--no-cache` audit's: 0 (would tag) when the audit
/// exits 0, 1 (refused) when it exits 1 with error findings, 2 when it cannot audit.
fn tag_disagreement(cold: &Outcome, tag: &Outcome) -> Option<String> {
    let expected = match (cold.code, cold.has_errors()) {
        (Some(0), false) => 0,
        (Some(1), true) => 1,
        (Some(2), _) => 2,
        (code, errors) => {
            return Some(format!(
                "the --no-cache audit itself is inconsistent: exit {code:?} with error findings: {errors}"
            ))
        }
    };
    (tag.code != Some(expected)).then(|| {
        format!(
            "tag --dry-run exited {:?}{}, the --no-cache audit says it should exit {expected}",
            tag.code,
            tag.error_line()
        )
    })
}

/// Runs one entry: its failures (empty when it passed) and which path each warm run
/// took.
fn run_case(case: &Case, ctx: &mut Ctx) -> (Vec<String>, String) {
    let mut fails = Vec::new();
    let cache = ctx.t("cache");
    let tag_cache = ctx.t("cache-tag");

    let cold = ctx.audit(&cache, false);
    if !matches!(cold.code, Some(0 | 1)) {
        fails.push(format!(
            "fixture: the first audit exited {:?}{}",
            cold.code,
            cold.error_line()
        ));
        return (fails, String::new());
    }
    let warm = ctx.audit(&cache, false);
    if let Some(d) = difference(&cold, &warm) {
        fails.push(format!(
            "warm run before the mutation [{}]: {d}",
            warm.path()
        ));
    }
    copy_cache(&cache, &tag_cache);

    (case.mutate)(ctx);

    let warm_after = ctx.audit(&cache, false);
    let cold_after = ctx.audit(&cache, true);
    if let Some(d) = difference(&cold_after, &warm_after) {
        fails.push(format!(
            "warm run after the mutation [{}] vs --no-cache: {d}",
            warm_after.path()
        ));
    }
    let tag = ctx.tag(&tag_cache);
    if let Some(d) = tag_disagreement(&cold_after, &tag) {
        fails.push(d);
    }
    let warm_again = ctx.audit(&cache, false);
    if let Some(d) = difference(&cold_after, &warm_again) {
        fails.push(format!(
            "second warm run after the mutation [{}] vs --no-cache: {d}",
            warm_again.path()
        ));
    }
    let changed = cold.verdict() != cold_after.verdict();
    if changed != case.changes_verdict {
        fails.push(match changed {
            true => format!(
                "the mutation changed the cold verdict, which the entry says it does not: {}",
                difference(&cold, &cold_after).unwrap_or_default()
            ),
            false => format!(
                "the mutation did not change the cold verdict (exit {:?}), which the entry says it does",
                cold_after.code
            ),
        });
    }
    let paths = format!(
        "warm before: {}; after: {}; again: {}",
        warm.path(),
        warm_after.path(),
        warm_again.path()
    );
    (fails, paths)
}

/// Every catalogue entry, each on its own fixture, cache and (where it changes it)
/// advisory database; all failures in one report.
#[test]
fn warm_audits_answer_what_cold_ones_do_after_each_mutation() {
    let cases = catalogue();
    assert!(cases.len() >= 40, "{} entries", cases.len());
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate entry name {:?}", c.name);
    }
    for class in 1..=11 {
        assert!(
            cases.iter().any(|c| c.class == class),
            "no entry for input class {class}"
        );
    }

    let templates = Templates::default();
    let common_db = TempDir::new().unwrap();
    db_copy(common_db.path());
    settle(common_db.path());

    // Every fixture first, then one wait so that every change time has settled too.
    let prepared = parallel(cases.clone(), |c| {
        let db = (c.db == Db::Common).then_some(common_db.path());
        catching(|| prepare(c.layout, c.vulnerable, db, c.setup, &templates))
    });
    std::thread::sleep(SETTLE);

    let results = parallel(
        cases.iter().zip(prepared).collect::<Vec<_>>(),
        |(case, ctx)| match ctx {
            Err(e) => (
                vec![format!("fixture could not be built: {e}")],
                String::new(),
            ),
            Ok(mut ctx) => catching(|| run_case(case, &mut ctx))
                .unwrap_or_else(|e| (vec![format!("panicked: {e}")], String::new())),
        },
    );

    let mut report = String::new();
    let mut failed = 0;
    for (case, (fails, paths)) in cases.iter().zip(&results) {
        let verdict = if fails.is_empty() { "ok  " } else { "FAIL" };
        eprintln!(
            "{verdict} [class {:>2}] {} -- {paths}",
            case.class, case.name
        );
        if !fails.is_empty() {
            failed += 1;
            report.push_str(&format!("\n[class {}] {}\n", case.class, case.name));
            for f in fails {
                report.push_str(&format!("    - {f}\n"));
            }
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} catalogue entries failed:\n{report}",
        cases.len()
    );
}

// ---------------------------------------------------------------------------------
// Property: sequences of composable mutations on one fixture
// ---------------------------------------------------------------------------------

/// Mutations that apply in any order on the proptest fixture (`Ws`, its own database,
/// a member with a build script under deny.toml's executable check).
fn composable() -> Vec<(&'static str, Mutation)> {
    vec![
        ("path dependency gains time 0.1.43 (re-locked)", |c| {
            c.append("pathdep/Cargo.toml", VULN_DEP);
            c.relock();
        }),
        ("new member pinning smallvec =1.4.1 (re-locked)", |c| {
            c.write(
                "ws/crates/extra/Cargo.toml",
                &member("extra", "[dependencies]\nsmallvec = \"=1.4.1\"\n"),
            );
            c.write("ws/crates/extra/src/lib.rs", "");
            c.relock();
        }),
        ("Cargo.lock smallvec toggled in place, mtime kept", |c| {
            c.toggle_lock_in_place("ws/Cargo.lock")
        }),
        ("advisory added", |c| {
            c.publish_advisory(&c.db.join("crates/smallvec"), "RUSTSEC-2099-0001")
        }),
        ("advisory edited in place, mtime kept", |c| {
            edit_keep_mtime(
                &c.db.join("crates/smallvec/RUSTSEC-2021-0003.md"),
                "\">= 1.6.1\"]",
                "\">= 1.6.2\"]",
            )
        }),
        (
            "deny.toml allow-list MIT -> ISC in place, mtime kept",
            |c| edit_keep_mtime(&c.p("ws/deny.toml"), "[\"MIT\"", "[\"ISC\""),
        ),
        (
            "path dependency license MIT -> ISC in place, mtime kept",
            |c| edit_keep_mtime(&c.p("pathdep/Cargo.toml"), "\"MIT\"", "\"ISC\""),
        ),
        ("CARGO_PROFILE_RELEASE_LTO=false", |c| {
            c.set_env("CARGO_PROFILE_RELEASE_LTO", "false")
        }),
        ("src/bin/x.rs added", |c| c.write("ws/src/bin/x.rs", MAIN)),
        (
            "executable added to the member with a build script",
            add_executable,
        ),
        (".cargo/audit.toml ignores RUSTSEC-2021-0003", |c| {
            c.write(
                "ws/.cargo/audit.toml",
                "[advisories]\nignore = [\"RUSTSEC-2021-0003\"]\n",
            )
        }),
        ("parent directory's .cargo/config.toml sets lto", |c| {
            c.write(".cargo/config.toml", "[profile.release]\nlto = \"thin\"\n")
        }),
    ]
}

fn prop_fixture(templates: &Templates) -> Ctx {
    prepare(
        Layout::Ws,
        false,
        None,
        Some(with_executable_check),
        templates,
    )
}

#[test]
fn sequences_of_mutations_keep_warm_equal_to_cold() {
    const CASES: u32 = 6;
    let mutations = composable();
    let templates = Templates::default();
    // Fixtures for every case up front, so that one wait lets them all settle; a
    // shrinking step past the pool builds (and waits for) its own.
    let pool = Mutex::new(parallel((0..CASES).collect(), |_| prop_fixture(&templates)));
    std::thread::sleep(SETTLE);

    let mut runner = TestRunner::new(PropConfig {
        cases: CASES,
        max_shrink_iters: 4,
        // The sequences are short and named in the failure; no regression file is
        // written into the source tree.
        failure_persistence: None,
        ..PropConfig::default()
    });
    let strategy = proptest::sample::subsequence((0..mutations.len()).collect::<Vec<_>>(), 2..=3)
        .prop_shuffle();
    let result = runner.run(&strategy, |seq| {
        let pooled = pool.lock().unwrap().pop();
        let mut ctx = pooled.unwrap_or_else(|| {
            let c = prop_fixture(&templates);
            std::thread::sleep(SETTLE);
            c
        });
        let cache = ctx.t("cache");
        let names: Vec<&str> = seq.iter().map(|&i| mutations[i].0).collect();
        let first = ctx.audit(&cache, false);
        prop_assert!(
            matches!(first.code, Some(0 | 1)),
            "fixture: the first audit exited {:?}{}",
            first.code,
            first.error_line()
        );
        let warm = ctx.audit(&cache, false);
        if let Some(d) = difference(&first, &warm) {
            return Err(TestCaseError::fail(format!(
                "warm run before any mutation [{}]: {d}",
                warm.path()
            )));
        }
        for (step, &i) in seq.iter().enumerate() {
            (mutations[i].1)(&mut ctx);
            let warm = ctx.audit(&cache, false);
            let cold = ctx.audit(&cache, true);
            if let Some(d) = difference(&cold, &warm) {
                return Err(TestCaseError::fail(format!(
                    "after step {} of {names:?} ({}), warm [{}] vs --no-cache: {d}",
                    step + 1,
                    mutations[i].0,
                    warm.path()
                )));
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, seq)) => {
            let names: Vec<&str> = seq.iter().map(|&i| mutations[i].0).collect();
            panic!("sequence {names:?} fails: {reason}");
        }
        Err(e) => panic!("{e}"),
    }
}
