//! Shared test helpers: real fixture workspaces in temp dirs, a private copy of the
//! real RustSec snapshot, and the built binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

pub fn bin() -> Command {
    Command::from_std(bin_std())
}

/// The binary as a plain `std::process::Command`, for a test that sets its streams
/// itself (a full device, a closed pipe).
pub fn bin_std() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-secure-release"));
    c.env_remove("CARGO_TARGET_DIR")
        .env("NO_COLOR", "1")
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache_dir())
        .env("CARGO_SECURE_RELEASE_STATE_DIR", state_dir())
        // Today is an input of the audit (the database's age, ignores' `until`): one
        // date for the whole suite, so two runs a test compares on either side of
        // midnight differ by nothing. A test may set its own.
        .env("CARGO_SECURE_RELEASE_TODAY", suite_today());
    c
}

/// The date the suite started, by the binary's own clock rule.
pub fn suite_today() -> &'static str {
    static TODAY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TODAY.get_or_init(|| cargo_secure_release::report::today().unwrap().to_string())
}

/// A findings cache private to this test process.
pub fn cache_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().unwrap()).path()
}

/// Where this test process's cache key lives (outside every cache directory).
pub fn state_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().unwrap()).path()
}

/// `../shared` beside the checkout (override with CSR_SHARED_DIR).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CSR_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A copy of the real advisory snapshot, made once per test process; tests never
/// touch `../shared` itself.
pub fn advisory_db() -> &'static Path {
    static DB: OnceLock<TempDir> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        copy_dir(&shared_dir().join("advisory-db"), dir.path());
        dir
    })
    .path()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    /// A binary crate `name` whose Cargo.toml ends with `rest` (dependencies, features…).
    pub fn new(name: &str, rest: &str) -> Self {
        let f = Fixture {
            dir: TempDir::new().unwrap(),
        };
        f.write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\npublish = false\n\n{rest}"
            ),
        );
        f.write("src/main.rs", "fn main() {}\n");
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }

    /// Resolves Cargo.lock with real cargo (crates.io is reachable).
    pub fn lock(self) -> Self {
        self.relock();
        self
    }

    /// Resolves Cargo.lock again, after a manifest change, and downloads what it
    /// locks: the audits run `--offline`, and on a fresh machine no other test may
    /// have fetched these crates yet.
    pub fn relock(&self) {
        for args in [["generate-lockfile", "-q"], ["fetch", "-q"]] {
            let out = std::process::Command::new("cargo")
                .args(args)
                .current_dir(self.path())
                .env_remove("CARGO_TARGET_DIR")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "cargo {}: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    pub fn audit(&self) -> Command {
        self.audit_with_db(advisory_db())
    }

    /// `audit` on this fixture against another advisory database directory.
    pub fn audit_with_db(&self, db: &Path) -> Command {
        let mut c = bin();
        c.current_dir(self.path())
            .arg("audit")
            .arg("--advisory-db")
            .arg(db);
        c
    }
}

/// Runs a command expecting `code`, returning stdout and stderr.
pub fn run(cmd: &mut Command, code: i32) -> (String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit code\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

/// Parses a command's JSON output; an audit report is also validated against
/// `schema/report.schema.json`, a verify report against `schema/verify.schema.json`
/// (and the audit inside it against the report's), so every report the tests see
/// keeps the contract.
pub fn json(stdout: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{stdout}"));
    if v.get("schema") == Some(&serde_json::json!(1)) && v.get("payload").is_some() {
        assert_valid(tag_schema(), &v);
    } else if v.get("schema") == Some(&serde_json::json!(1)) && v.get("signature").is_some() {
        assert_valid(verify_schema(), &v);
        if let Some(report) = v["audit"].get("report") {
            assert_valid(report_schema(), report);
        }
    } else if v.get("schema") == Some(&serde_json::json!(1)) {
        let errors: Vec<String> = report_schema()
            .iter_errors(&v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "report violates the schema: {errors:#?}\n{stdout}"
        );
    }
    v
}

pub fn report_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| schema("report"))
}

/// `schema/verify.schema.json`, for `verify --format json`.
pub fn verify_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| schema("verify"))
}

/// `schema/tag.schema.json`, for `tag --report-format json`.
pub fn tag_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| schema("tag"))
}

/// Runs a tool that must succeed and returns its output; otherwise panics with the
/// command and its stderr.
pub fn output_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `schema/attest.schema.json`, for `attest --report-format json`.
pub fn attest_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| schema("attest"))
}

/// A real `ssh-agent` listening on a socket in `dir`, killed when dropped.
pub struct SshAgent {
    child: std::process::Child,
    pub sock: PathBuf,
}

impl SshAgent {
    pub fn start(dir: &Path) -> SshAgent {
        let sock = dir.join("agent.sock");
        let child = std::process::Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if sock.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        SshAgent { child, sock }
    }

    /// `ssh-add KEY` into this agent.
    pub fn add(&self, key: &Path) {
        let added = std::process::Command::new("ssh-add")
            .arg("-q")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.sock)
            .output()
            .unwrap();
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("schema/{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Panics with every error when `value` does not follow `schema`.
pub fn assert_valid(schema: &jsonschema::Validator, value: &serde_json::Value) {
    let errors: Vec<String> = schema.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

pub fn findings<'a>(report: &'a serde_json::Value, check: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

/// Every file under `dir` with its contents, to prove a command wrote nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "target" || n == ".git") {
                    continue;
                }
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The release profile every audit requires.
pub const HARDENED: &str = "[profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\n";

/// git, ignoring the machine's system config; the raw output.
pub fn git_raw(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

/// As `git_raw`, which must succeed; its stdout.
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git_raw(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// git with a fixed author and committer, which must succeed; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `object` as a tag object with git itself (`hash-object --literally`, so a
/// tampered object is stored as given) and points `refs/tags/NAME` at it.
pub fn write_tag_object(dir: &Path, name: &str, object: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["hash-object", "-t", "tag", "-w", "--stdin", "--literally"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(object.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git hash-object failed");
    let oid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    git_ok(dir, &["update-ref", &format!("refs/tags/{name}"), &oid]);
}

/// What must not change: the work tree, and git's refs and objects.
pub fn repo_state(d: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(d).unwrap().to_path_buf();
            let ft = e.file_type().unwrap();
            let is_git = rel.starts_with(".git");
            let kept = !is_git
                || rel == Path::new(".git")
                || rel.starts_with(".git/refs")
                || rel.starts_with(".git/objects")
                || rel == Path::new(".git/packed-refs")
                || rel == Path::new(".git/HEAD");
            if !kept {
                continue;
            }
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.push((rel, std::fs::read(&p).unwrap()));
            } else {
                let target = std::fs::read_link(&p)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "special".into());
                out.push((rel, target.into_bytes()));
            }
        }
    }
    out.sort();
    out
}

/// SHA-256 as lower-case hex, as the tag trailer and the caches write it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
