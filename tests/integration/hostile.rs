//! Hostile input, as a table: each row sets up one bad or faulty input in a fresh
//! copy of a real project (a git repository with a signed release tag), runs one
//! command, and asserts the exit code; that the first line names the file or value
//! at fault; no panic, Debug dump or forged `error:` line; no secret in any output;
//! and, unless the command is meant to write, that the work tree, refs and objects
//! are byte-identical afterwards.

use crate::common::*;
use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use std::path::Path;
use std::sync::OnceLock;
use tempfile::TempDir;

const PASSPHRASE: &str = "hostile horse battery staple";

/// The project every row starts from, made once.
struct Base {
    project: TempDir,
    keys: TempDir,
    secret_line: String,
    other_fpr: String,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let fx = Fixture::new(
            "hostile",
            &format!(
                "{HARDENED}\n[workspace]\n\n[workspace.metadata.secure-release.policy]\ncontact = \"security@hostile.example\"\n"
            ),
        );
        // An older release, tagged and signed by our own tool, for the verify rows.
        let toml = fx.read("Cargo.toml").replace("0.1.0", "0.0.9");
        fx.write("Cargo.toml", &toml);
        let fx = fx.lock();
        let d = fx.path();
        git_ok(d, &["init", "-q", "-b", "main"]);
        git_ok(d, &["config", "user.name", "Release Manager"]);
        git_ok(d, &["config", "user.email", "release@example.org"]);
        git_ok(d, &["add", "-A"]);
        git_ok(d, &["commit", "-qm", "0.0.9"]);

        let keys = TempDir::new().unwrap();
        let key = |name: &str| {
            let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{name}@example.org>")))
                .set_password(Some(PASSPHRASE.into()))
                .generate()
                .unwrap();
            std::fs::write(
                keys.path().join(format!("{name}.secret.asc")),
                cert.as_tsk().armored().to_vec().unwrap(),
            )
            .unwrap();
            std::fs::write(
                keys.path().join(format!("{name}.public.asc")),
                cert.armored().to_vec().unwrap(),
            )
            .unwrap();
            cert
        };
        key("alice");
        let other = key("mallory");
        let mut c = bin();
        c.current_dir(d)
            .args(["tag", "--no-audit", "--passphrase-env", "CSR_PASS", "--key"])
            .arg(keys.path().join("alice.secret.asc"))
            .env("CSR_PASS", PASSPHRASE);
        run(&mut c, 0);
        git_ok(d, &["tag", "light"]);
        git_ok(d, &["tag", "-a", "-m", "plain", "plain"]);

        let toml = fx.read("Cargo.toml").replace("0.0.9", "0.1.0");
        fx.write("Cargo.toml", &toml);
        let fx = fx.lock();
        git_ok(fx.path(), &["commit", "-qam", "0.1.0"]);
        let secret = std::fs::read_to_string(keys.path().join("alice.secret.asc")).unwrap();
        // A line from the middle of the armored secret key: must never be printed.
        let secret_line = secret.lines().nth(5).unwrap().to_string();
        Base {
            project: fx.dir,
            keys,
            secret_line,
            other_fpr: other.fingerprint().to_hex(),
        }
    })
}

type Setup = Box<dyn Fn(&Path, &Path)>;

enum Expect {
    /// The first line of stderr (or of stdout when stderr is empty) contains this.
    First(String),
    /// Some line of stdout or stderr contains this (a finding's location).
    Anywhere(String),
}

struct Case {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    setup: Option<Setup>,
    code: i32,
    expect: Expect,
    writes: bool,
}

fn case(name: impl Into<String>, args: &[&str], code: i32, first: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        setup: None,
        code,
        expect: Expect::First(first.into()),
        writes: false,
    }
}

impl Case {
    fn setup(mut self, f: impl Fn(&Path, &Path) + 'static) -> Case {
        self.setup = Some(Box::new(f));
        self
    }
    fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.into(), v.into()));
        self
    }
    fn anywhere(mut self) -> Case {
        if let Expect::First(s) = self.expect {
            self.expect = Expect::Anywhere(s);
        }
        self
    }
    fn writes(mut self) -> Case {
        self.writes = true;
        self
    }
}

fn write(d: &Path, rel: &str, text: &str) {
    let p = d.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn append(d: &Path, rel: &str, text: &str) {
    let old = std::fs::read_to_string(d.join(rel)).unwrap();
    write(d, rel, &format!("{old}\n{text}"));
}

fn symlink(d: &Path, rel: &str, target: &str) {
    let p = d.join(rel);
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, p).unwrap();
}

fn fifo(d: &Path, rel: &str) {
    let p = d.join(rel);
    let _ = std::fs::remove_file(&p);
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn expand(s: &str, dir: &Path, aux: &Path) -> String {
    let b = base();
    s.replace("{DIR}", dir.to_str().unwrap())
        .replace("{AUX}", aux.to_str().unwrap())
        .replace("{DB}", advisory_db().to_str().unwrap())
        .replace(
            "{KEY}",
            b.keys.path().join("alice.secret.asc").to_str().unwrap(),
        )
        .replace(
            "{PUB}",
            b.keys.path().join("alice.public.asc").to_str().unwrap(),
        )
        .replace("{OTHER}", &b.other_fpr)
}

/// Runs one row; returns what went wrong, if anything.
fn check(c: &Case) -> Result<(), String> {
    let b = base();
    let work = TempDir::new().unwrap();
    let dir = work.path().join("p");
    copy_dir(b.project.path(), &dir);
    let aux = work.path().join("aux");
    std::fs::create_dir_all(&aux).unwrap();
    if let Some(setup) = &c.setup {
        setup(&dir, &aux);
    }
    let before = repo_state(&dir);
    let mut cmd = bin();
    cmd.current_dir(&dir)
        .env("CSR_PASS", PASSPHRASE)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("CARGO_SECURE_RELEASE_TODAY", "2026-11-22");
    for a in &c.args {
        cmd.arg(expand(a, &dir, &aux));
    }
    for (k, v) in &c.env {
        cmd.env(k, expand(v, &dir, &aux));
    }
    let out = cmd
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{stdout}\n{stderr}");
    let show = || format!("\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    if out.status.code() != Some(c.code) {
        return Err(format!(
            "exit {:?}, expected {}{}",
            out.status.code(),
            c.code,
            show()
        ));
    }
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .or_else(|| stdout.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("");
    match &c.expect {
        Expect::First(want) if !first.contains(&expand(want, &dir, &aux)) => {
            return Err(format!("first line `{first}` lacks `{want}`{}", show()))
        }
        Expect::Anywhere(want) if !all.contains(&expand(want, &dir, &aux)) => {
            return Err(format!("no line has `{want}`{}", show()))
        }
        _ => {}
    }
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "internal error",
        "Span {",
        "Os {",
        "__toml_private",
    ] {
        if all.contains(bad) {
            return Err(format!("output has `{bad}`{}", show()));
        }
    }
    if stderr.lines().filter(|l| l.starts_with("error")).count() > 1 {
        return Err(format!("more than one error line (forged?){}", show()));
    }
    if all.contains(PASSPHRASE) || all.contains(&b.secret_line) {
        return Err(format!("a secret was printed{}", show()));
    }
    if !c.writes && repo_state(&dir) != before {
        return Err(format!("the tree, refs or objects changed{}", show()));
    }
    Ok(())
}

const AUDIT: &[&str] = &["audit", "--offline", "--no-cache", "--advisory-db", "{DB}"];
const TAG: &[&str] = &[
    "tag",
    "--no-audit",
    "--key",
    "{KEY}",
    "--passphrase-env",
    "CSR_PASS",
];
const INIT: &[&str] = &["init", "--dry-run"];
/// An ed25519 public key (ssh-key's documentation example).
const SSH_PUB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti example";

fn with(base: &[&str], extra: &[&str]) -> Vec<String> {
    base.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The rows for a path option given something other than a readable file: nothing,
/// a directory, a device (an endless read) and a FIFO (a blocking open would hang).
/// The missing file's line is `what`, the path, then the command's own wording.
fn not_a_file_rows(v: &mut Vec<Case>, base: &[String], option: &str, what: &str) {
    let base: Vec<&str> = args(base);
    let row = |p: &str| with(&base, &[option, p]);
    let missing = match option {
        "--config" => " does not exist",
        _ => ": No such file or directory",
    };
    v.push(case(
        format!("{option} missing"),
        &args(&row("{AUX}/none")),
        2,
        format!("{what} {{AUX}}/none{missing}"),
    ));
    v.push(case(
        format!("{option} a directory"),
        &args(&row("{AUX}")),
        2,
        format!("{what} {{AUX}} is a directory"),
    ));
    v.push(case(
        format!("{option} /dev/zero"),
        &args(&row("/dev/zero")),
        2,
        format!("{what} /dev/zero is a device"),
    ));
    v.push(
        case(
            format!("{option} a FIFO"),
            &args(&row("{AUX}/pipe")),
            2,
            format!("{what} {{AUX}}/pipe is a FIFO"),
        )
        .setup(|_, aux| fifo(aux, "pipe")),
    );
}

/// A row whose setup appends `toml` to Cargo.toml.
fn manifest_row(name: &str, cmd: &[&str], toml: &'static str, code: i32, first: &str) -> Case {
    case(name, cmd, code, first).setup(move |d, _| append(d, "Cargo.toml", toml))
}

fn config_rows() -> Vec<Case> {
    let mut v = Vec::new();
    // Misspelt keys, each with the key it was meant to be.
    let typos: &[(&str, &str, &str)] = &[
        ("", "ignores", "ignore"),
        ("", "polcy", "policy"),
        ("", "profiles", "profile"),
        ("", "tag_name", "tag-name"),
        (".policy", "contcat", "contact"),
        (".policy", "acknowledge-day", "acknowledge-days"),
        (".policy", "triage_days", "triage-days"),
        (".policy", "fix-critical-day", "fix-critical-days"),
        (".policy", "fix-other-day", "fix-other-days"),
        (".policy", "disclosure-day", "disclosure-days"),
        (".policy", "suported-lines", "supported-lines"),
        (".policy", "teams", "team"),
        (".policy", "scope_in", "scope-in"),
        (".policy", "scope-outs", "scope-out"),
        (".policy", "signing_key", "signing-key"),
        (".profile", "nme", "name"),
        (".profile", "hardenng", "hardening"),
        (".profile", "accepts", "accept"),
    ];
    for (table, typo, right) in typos {
        let toml: &'static str = Box::leak(
            format!("[package.metadata.secure-release{table}]\n{typo} = 1\n").into_boxed_str(),
        );
        let first = format!("unknown key `{typo}` (did you mean `{right}`?)");
        for (cmd, label) in [(AUDIT, "audit"), (INIT, "init")] {
            v.push(manifest_row(
                &format!("{label}: typo {table}.{typo}"),
                cmd,
                toml,
                2,
                &first,
            ));
        }
    }
    for (typo, right) in [("untill", "until"), ("reson", "reason"), ("ids", "id")] {
        let toml: &'static str = Box::leak(
            format!("[package.metadata.secure-release]\nignore = [{{ id = \"A\", reason = \"r\", {typo} = \"x\" }}]\n")
                .into_boxed_str(),
        );
        v.push(manifest_row(
            &format!("audit: ignore entry typo {typo}"),
            AUDIT,
            toml,
            2,
            &format!("unknown key `{typo}` (did you mean `{right}`?)"),
        ));
    }
    // Wrong types and bad values: each names Cargo.toml and the key.
    let bad: &[(&str, &str, &str)] = &[
        (
            "policy",
            "supported-lines = \"two\"",
            "`supported-lines = \"two\"`",
        ),
        ("policy", "supported-lines = 0", "`supported-lines = 0`"),
        ("policy", "supported-lines = -1", "`supported-lines = -1`"),
        (
            "policy",
            "acknowledge-days = 1.5",
            "`acknowledge-days = 1.5`",
        ),
        ("policy", "triage-days = true", "`triage-days = true`"),
        ("policy", "contact = 5", "`contact` must be a string"),
        (
            "policy",
            "contact = \"not-an-email\"",
            "is not an email address",
        ),
        ("policy", "team = \"x\"", "`team` must be a list of tables"),
        (
            "policy",
            "team = [{ github = \"x\" }]",
            "a `team` entry has no `name`",
        ),
        ("policy", "team = [1]", "`team` must be a list of tables"),
        (
            "policy",
            "scope-in = \"x\"",
            "`scope-in` must be a list of strings",
        ),
        (
            "policy",
            "scope-out = [1]",
            "`scope-out` must be a list of strings",
        ),
        (
            "policy",
            "signing-key = 1",
            "`signing-key` must be a string",
        ),
        ("profile", "name = 1", "`name` must be a string"),
        ("profile", "hardening = \"yes\"", "`hardening = \"yes\"`"),
        (
            "profile",
            "hardening = [\"bogus\"]",
            "`hardening` entry \"bogus\"",
        ),
        ("profile", "hardening = [1]", "`hardening` entry 1"),
        ("profile", "accept = 1", "must be a table"),
        (
            "profile",
            "accept = { lto = 1 }",
            "`accept.lto` must be a table",
        ),
        (
            "profile",
            "accept = { lto = { value = \"thin\" } }",
            "`accept.lto` needs a `reason`",
        ),
        (
            "profile",
            "accept = { lto = { reason = \"r\" } }",
            "`accept.lto` needs a `value`",
        ),
        (
            "profile",
            "accept = { bogus = { value = 1, reason = \"r\" } }",
            "`accept.bogus` is not a profile key",
        ),
        (
            "profile",
            "accept = { lto = { value = \"nonsense\", reason = \"r\" } }",
            "`accept.lto`",
        ),
    ];
    for (table, line, first) in bad {
        let toml: &'static str = Box::leak(
            format!("[package.metadata.secure-release.{table}]\n{line}\n").into_boxed_str(),
        );
        v.push(manifest_row(
            &format!("audit: {table} {line}"),
            AUDIT,
            toml,
            2,
            first,
        ));
    }
    let top: &[(&str, &str)] = &[
        ("ignore = \"x\"", "`ignore` must be a list of tables"),
        ("ignore = [1]", "`ignore` must be a list of tables"),
        (
            "ignore = [{ reason = \"r\" }]",
            "an `ignore` entry has no `id`",
        ),
        (
            "ignore = [{ id = \"A\" }]",
            "ignore entry `A` has no `reason`",
        ),
        (
            "ignore = [{ id = \"A\", reason = \" \" }]",
            "ignore entry `A` has no `reason`",
        ),
        (
            "ignore = [{ id = 1, reason = \"r\" }]",
            "`id` must be a string",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = \"2026-02-30\" }]",
            "`until = \"2026-02-30\"` is not a valid",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = \"2026-13-01\" }]",
            "`until = \"2026-13-01\"` is not a valid",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = \"yesterday\" }]",
            "`until = \"yesterday\"` is not a valid",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = \"\" }]",
            "`until = \"\"` is not a valid",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = 2026-01-01 }]",
            "TOML date literal",
        ),
        (
            "ignore = [{ id = \"A\", reason = \"r\", until = \"2026-1-1\" }]",
            "`until = \"2026-1-1\"` is not a valid",
        ),
        ("tag-name = 5", "`tag-name` must be a string"),
        ("tag-name = \"release\"", "has no `{version}`"),
        ("policy = 3", "must be a table"),
        ("profile = \"x\"", "must be a table"),
    ];
    for (line, first) in top {
        let toml: &'static str =
            Box::leak(format!("[package.metadata.secure-release]\n{line}\n").into_boxed_str());
        v.push(manifest_row(
            &format!("audit: {line}"),
            AUDIT,
            toml,
            2,
            first,
        ));
    }
    v
}

fn audit_rows() -> Vec<Case> {
    let mut v = Vec::new();
    let a = |extra: &[&str]| with(AUDIT, extra);
    // The manifest and the lockfile.
    v.push(
        case("manifest: invalid TOML", AUDIT, 2, "Cargo.toml")
            .setup(|d, _| append(d, "Cargo.toml", "[package\n")),
    );
    v.push(
        case("manifest: not UTF-8", AUDIT, 2, "Cargo.toml").setup(|d, _| {
            std::fs::write(d.join("Cargo.toml"), b"[package]\nname = \"\xff\"\n").unwrap()
        }),
    );
    v.push(case(
        "manifest path missing",
        &args(&a(&["--manifest-path", "nope/Cargo.toml"])),
        2,
        "nope/Cargo.toml` does not exist",
    ));
    v.push(case(
        "manifest path a directory",
        &args(&a(&["--manifest-path", "src"])),
        2,
        "manifest path `src` is not a file",
    ));
    v.push(case(
        "manifest path /dev/null",
        &args(&a(&["--manifest-path", "/dev/null"])),
        2,
        "`/dev/null` is not a file",
    ));
    v.push(case(
        "manifest path /dev/zero",
        &args(&a(&["--manifest-path", "/dev/zero"])),
        2,
        "`/dev/zero` is not a file",
    ));
    v.push(case(
        "manifest path with a newline",
        &args(&a(&["--manifest-path", "x\nerror: forged"])),
        2,
        "x\\nerror: forged",
    ));
    v.push(
        case(
            "manifest path a FIFO",
            &args(&a(&["--manifest-path", "pipe"])),
            2,
            "`pipe` is not a file",
        )
        .setup(|d, _| fifo(d, "pipe")),
    );
    v.push(
        case(
            "manifest is a symlink (kept as given)",
            AUDIT,
            0,
            "advisory database",
        )
        .anywhere()
        .setup(|d, _| {
            std::fs::rename(d.join("Cargo.toml"), d.join("real.toml")).unwrap();
            symlink(d, "Cargo.toml", "real.toml");
        }),
    );
    v.push(
        case(
            "Cargo.lock -> /dev/zero",
            AUDIT,
            2,
            "Cargo.lock is not a regular file",
        )
        .setup(|d, _| symlink(d, "Cargo.lock", "/dev/zero")),
    );
    v.push(
        case(
            "Cargo.lock a directory",
            AUDIT,
            2,
            "Cargo.lock is not a regular file",
        )
        .setup(|d, _| {
            std::fs::remove_file(d.join("Cargo.lock")).unwrap();
            std::fs::create_dir(d.join("Cargo.lock")).unwrap();
        }),
    );
    v.push(
        case(
            "Cargo.lock a FIFO",
            AUDIT,
            2,
            "Cargo.lock is not a regular file",
        )
        .setup(|d, _| fifo(d, "Cargo.lock")),
    );
    v.push(
        case(
            "Cargo.lock dangling symlink",
            AUDIT,
            2,
            "Cargo.lock cannot be read",
        )
        .setup(|d, _| symlink(d, "Cargo.lock", "gone.lock")),
    );
    v.push(
        case(
            "Cargo.lock missing, --locked",
            &[AUDIT, &["--locked"]].concat(),
            2,
            "no Cargo.lock",
        )
        .setup(|d, _| std::fs::remove_file(d.join("Cargo.lock")).unwrap()),
    );
    v.push(
        case("Cargo.lock garbage", AUDIT, 2, "Cargo.lock")
            .setup(|d, _| write(d, "Cargo.lock", "this is not toml [[[")),
    );
    // deny.toml.
    let deny: &[(&str, &str, &str)] = &[
        ("unknown key", "[advisories]\nbogus-key = 1\n", "deny.toml:2: invalid cargo-deny configuration: unknown key `bogus-key`"),
        ("unknown section", "[advisory]\nyanked = \"deny\"\n", "unknown key `advisory` (did you mean `advisories`?)"),
        ("misspelt key", "[advisories]\nyanked = \"deny\"\nignores = []\n", "unknown key `ignores` (did you mean `ignore`?)"),
        ("wrong type", "[licenses]\nallow = \"MIT\"\n", "deny.toml:2"),
        ("invalid TOML", "[bans\n", "deny.toml:1: invalid TOML"),
        ("bad license id", "[licenses]\nallow = [\"NOT-A-LICENSE\"]\n", "deny.toml:2"),
        ("bad enum value", "[advisories]\nyanked = \"sometimes\"\n", "deny.toml:2"),
        ("duplicate key", "[bans]\nwildcards = \"deny\"\nwildcards = \"deny\"\n", "duplicate key `wildcards`"),
        ("date literal", "[advisories]\nignore = [{ id = \"RUSTSEC-2020-0071\", reason = \"r\" }]\nmaximum-db-staleness = 2020-01-01\n", "deny.toml:3"),
    ];
    for (name, text, first) in deny {
        v.push(
            case(format!("deny.toml: {name}"), AUDIT, 2, *first)
                .setup(move |d, _| write(d, "deny.toml", text)),
        );
    }
    v.push(
        case("deny.toml -> /dev/zero", AUDIT, 2, "deny.toml is a device")
            .setup(|d, _| symlink(d, "deny.toml", "/dev/zero")),
    );
    v.push(
        case(
            "deny.toml a directory",
            AUDIT,
            2,
            "deny.toml is a directory",
        )
        .setup(|d, _| std::fs::create_dir(d.join("deny.toml")).unwrap()),
    );
    v.push(
        case("deny.toml a FIFO", AUDIT, 2, "deny.toml is a FIFO")
            .setup(|d, _| fifo(d, "deny.toml")),
    );
    v.push(
        case("deny.toml not UTF-8", AUDIT, 2, "deny.toml is not UTF-8").setup(|d, _| {
            std::fs::write(d.join("deny.toml"), b"[licenses]\n# \xff\xfe\n").unwrap()
        }),
    );
    not_a_file_rows(&mut v, &a(&[]), "--config", "cargo-deny config");
    // Cargo config and environment.
    v.push(
        case(
            ".cargo/config.toml invalid TOML",
            AUDIT,
            2,
            ".cargo/config.toml",
        )
        .setup(|d, _| write(d, ".cargo/config.toml", "[profile.release\n")),
    );
    v.push(
        case(
            ".cargo/config.toml lto = 5",
            AUDIT,
            1,
            ".cargo/config.toml:2",
        )
        .anywhere()
        .setup(|d, _| write(d, ".cargo/config.toml", "[profile.release]\nlto = 5\n")),
    );
    v.push(
        case(
            "CARGO_SECURE_RELEASE_TODAY=bad",
            AUDIT,
            2,
            "CARGO_SECURE_RELEASE_TODAY=`bad`",
        )
        .env("CARGO_SECURE_RELEASE_TODAY", "bad"),
    );
    v.push(
        case(
            "CARGO_SECURE_RELEASE_TODAY=2026-02-30",
            AUDIT,
            2,
            "CARGO_SECURE_RELEASE_TODAY=`2026-02-30`",
        )
        .env("CARGO_SECURE_RELEASE_TODAY", "2026-02-30"),
    );
    v.push(
        case(
            "empty cache dir variable writes nothing into the project",
            &["audit", "--offline", "--advisory-db", "{DB}"],
            0,
            "advisory database",
        )
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", "")
        .env("XDG_CACHE_HOME", "{AUX}"),
    );
    v.push(
        case(
            "CARGO_PROFILE_RELEASE_LTO=off",
            AUDIT,
            1,
            "environment variable CARGO_PROFILE_RELEASE_LTO",
        )
        .anywhere()
        .env("CARGO_PROFILE_RELEASE_LTO", "off"),
    );
    // Where the report goes.
    v.push(case(
        "--output /dev/full",
        &args(&a(&["--output", "/dev/full"])),
        2,
        "/dev/full is a device",
    ));
    v.push(case(
        "--output a directory",
        &args(&a(&["--output", "src"])),
        2,
        "src is a directory",
    ));
    v.push(
        case(
            "--output a FIFO",
            &args(&a(&["--output", "pipe"])),
            2,
            "pipe is a FIFO",
        )
        .setup(|d, _| fifo(d, "pipe")),
    );
    v.push(case(
        "--output in a missing directory",
        &args(&a(&["--output", "nope/out.json"])),
        2,
        "could not write nope/out.json",
    ));
    v.push(
        case(
            "--output read-only file",
            &args(&a(&["--output", "{AUX}/ro.json"])),
            2,
            "ro.json is read-only",
        )
        .setup(|_, aux| {
            write(aux, "ro.json", "{}");
            let mut p = std::fs::metadata(aux.join("ro.json"))
                .unwrap()
                .permissions();
            p.set_readonly(true);
            std::fs::set_permissions(aux.join("ro.json"), p).unwrap();
        }),
    );
    v.push(
        case(
            "--output to a new file writes it",
            &args(&a(&["--format", "json", "--output", "{AUX}/new.json"])),
            0,
            "advisory database",
        )
        .writes(),
    );
    // Command-line misuse.
    v.push(case(
        "--format xml",
        &args(&a(&["--format", "xml"])),
        2,
        "'xml'",
    ));
    v.push(case(
        "--color sometimes",
        &args(&a(&["--color", "sometimes"])),
        2,
        "'sometimes'",
    ));
    v.push(case(
        "unknown flag",
        &args(&a(&["--bogus"])),
        2,
        "'--bogus'",
    ));
    v.push(
        case(
            "--dry-run without --fix",
            &args(&a(&["--dry-run"])),
            2,
            "--fix",
        )
        .anywhere(),
    );
    v.push(case("stray argument", &args(&a(&["extra"])), 2, "'extra'"));
    v.push(case(
        "-p not a member",
        &args(&a(&["-p", "nope"])),
        2,
        "package `nope` is not a member",
    ));
    v.push(case(
        "--profile undefined",
        &args(&a(&["--profile", "dist"])),
        2,
        "profile `dist` is not defined",
    ));
    v.push(case(
        "--profile with a newline",
        &args(&a(&["--profile", "x\nerror: forged"])),
        2,
        "x\\nerror: forged",
    ));
    v.push(case(
        "--profile not a profile name",
        &args(&a(&["--profile", "a b]"])),
        2,
        "--profile `a b]` is not a valid profile name",
    ));
    v.push(manifest_row(
        "policy profile name invalid",
        AUDIT,
        "[package.metadata.secure-release.profile]\nname = \"rel ease\"\n",
        2,
        "`name = \"rel ease\"` is not a valid profile name",
    ));
    v.push(
        case(
            "deny.toml ignores an advisory not in the graph",
            AUDIT,
            0,
            "advisory was not encountered: `RUSTSEC-2021-0001`",
        )
        .anywhere()
        .setup(|d, _| {
            write(
                d,
                "deny.toml",
                "[advisories]\nignore = [\"RUSTSEC-2021-0001\"]\n[licenses]\nallow = [\"MIT\"]\n",
            )
        }),
    );
    // The advisory database.
    v.push(case(
        "advisory db missing",
        &with(
            &["audit", "--offline", "--no-cache", "--advisory-db"],
            &["nope-db"],
        )
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        2,
        "advisory database nope-db has no `crates` directory",
    ));
    v.push(case(
        "advisory db a file",
        &[
            "audit",
            "--offline",
            "--no-cache",
            "--advisory-db",
            "Cargo.toml",
        ],
        2,
        "advisory database Cargo.toml has no `crates` directory",
    ));
    v.push(
        case(
            "advisory db empty",
            &[
                "audit",
                "--offline",
                "--no-cache",
                "--advisory-db",
                "{AUX}/db",
            ],
            2,
            "{AUX}/db",
        )
        .setup(|_, aux| std::fs::create_dir_all(aux.join("db/crates")).unwrap()),
    );
    v.push(case("advisory without package", &["audit", "--offline", "--no-cache", "--advisory-db", "{AUX}/db"], 2, "RUSTSEC-2099-0001.md has no `package` key").setup(|_, aux| {
        write(aux, "db/crates/x/RUSTSEC-2099-0001.md", "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\ndate = \"2099-01-01\"\n[versions]\npatched = []\n```\n\n# T\n\nD\n");
    }));
    v.push(
        case(
            "advisory garbage",
            &[
                "audit",
                "--offline",
                "--no-cache",
                "--advisory-db",
                "{AUX}/db",
            ],
            2,
            "{AUX}/db",
        )
        .setup(|_, aux| {
            write(
                aux,
                "db/crates/x/RUSTSEC-2099-0002.md",
                "not an advisory at all\n",
            );
        }),
    );
    v.push(
        case(
            "advisory file too large",
            &["audit", "--offline", "--no-cache", "--advisory-db", "{AUX}/db"],
            2,
            "advisory file {AUX}/db/crates/x/RUSTSEC-2099-0003.md is 1048577 bytes, more than the 1048576 bytes",
        )
        .setup(|_, aux| write(aux, "db/crates/x/RUSTSEC-2099-0003.md", &"x".repeat((1 << 20) + 1))),
    );
    v
}

fn tag_rows() -> Vec<Case> {
    let mut v = Vec::new();
    let t = |extra: &[&str]| with(TAG, extra);
    let long = "v".repeat(5000);
    let names: Vec<&str> = vec![
        "v10.1.0",
        "x0.1.0",
        "0.1.0",
        "V0.1.0",
        "v0.1.0 ",
        " v0.1.0",
        "v0.1.00",
        "v0.1.0\n",
        "v0.1",
        &long,
        "v0.1.0.lock",
        "refs/tags/v0.1.0",
        "../v0.1.0",
        "v0.1.0~1",
        "v0.1.0^",
        "v0.1.0:x",
        "v0.1.0?",
        "v0.1.0*",
        "v0.1.0[",
        "v0.1.0\\",
        "v0.1.0@{1}",
        "v0.0.9",
    ];
    for n in names {
        let shown: String = n.chars().take(20).collect();
        v.push(case(
            format!("tag name {shown:?}"),
            &args(&t(&[n])),
            1,
            "does not match version 0.1.0",
        ));
    }
    v.push(case(
        "tag name -v0.1.0 (a flag to clap)",
        &args(&t(&["-v0.1.0"])),
        2,
        "unexpected argument",
    ));
    v.push(case(
        "tag name -- -v0.1.0",
        &args(&t(&["--", "-v0.1.0"])),
        1,
        "does not match version 0.1.0",
    ));
    for prefix in ["-", "a b", "x..y", "~", "v\n"] {
        v.push(case(
            format!("--tag-prefix {prefix:?}"),
            &args(&t(&["--tag-prefix", prefix])),
            2,
            "is not a valid git tag name",
        ));
    }
    v.push(manifest_row(
        "tag-name pattern, other explicit name",
        &t(&["v0.1.0"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "[package.metadata.secure-release]\ntag-name = \"{name}-v{version}\"\n",
        1,
        "its release tag is `hostile-v0.1.0`",
    ));
    v.push(manifest_row(
        "tag-name pattern invalid ref",
        TAG,
        "[package.metadata.secure-release]\ntag-name = \"bad name {version}\"\n",
        2,
        "is not a valid git tag name",
    ));
    v.push(manifest_row(
        "tag-name pattern without version",
        TAG,
        "[package.metadata.secure-release]\ntag-name = \"release\"\n",
        2,
        "has no `{version}`",
    ));
    for (name, msg, line) in [
        ("PGP signature first", "-----BEGIN PGP SIGNATURE-----\nx", 1),
        (
            "PGP signature later",
            "Release\n\n-----BEGIN PGP SIGNATURE-----",
            3,
        ),
        ("SSH signature", "a\n-----BEGIN SSH SIGNATURE-----", 2),
        ("PGP message", "-----BEGIN PGP MESSAGE-----", 1),
        ("signed message", "x\n-----BEGIN SIGNED MESSAGE-----", 2),
    ] {
        let flag = format!("--message={msg}");
        v.push(case(
            format!("message with {name}"),
            &args(&t(&[&flag])),
            1,
            format!("line {line} starts a signature block"),
        ));
    }
    v.push(
        case(
            "tagger name only crud",
            TAG,
            2,
            "tagger name or email is empty",
        )
        .env("GIT_COMMITTER_NAME", "<>"),
    );
    v.push(
        case(
            "tagger email a newline",
            TAG,
            2,
            "tagger name or email is empty",
        )
        .env("GIT_COMMITTER_EMAIL", "\n"),
    );
    v.push(
        case(
            "tagger with a newline and brackets is cleaned",
            TAG,
            0,
            "Created signed tag v0.1.0",
        )
        .env("GIT_COMMITTER_NAME", "Eve\ntagger Mallory <m@x>")
        .env("GIT_COMMITTER_EMAIL", "<eve@example.org>\n")
        .writes(),
    );
    v.push(
        case(
            "GIT_COMMITTER_DATE nonsense",
            TAG,
            2,
            "GIT_COMMITTER_DATE=`yesterday`",
        )
        .env("GIT_COMMITTER_DATE", "yesterday"),
    );
    // Key files (outside the project: a file inside would make the tree dirty).
    let key = |extra: &[&str]| {
        with(
            &["tag", "--no-audit", "--passphrase-env", "CSR_PASS"],
            extra,
        )
    };
    not_a_file_rows(&mut v, &key(&[]), "--key", "key file");
    v.push(
        case(
            "--key garbage",
            &args(&key(&["--key", "{AUX}/k.asc"])),
            2,
            "k.asc is not an OpenPGP key file",
        )
        .setup(|_, aux| write(aux, "k.asc", "hello\n")),
    );
    v.push(
        case(
            "--key empty",
            &args(&key(&["--key", "{AUX}/k.asc"])),
            2,
            "k.asc is not an OpenPGP key file",
        )
        .setup(|_, aux| write(aux, "k.asc", "")),
    );
    v.push(
        case(
            "--key too large",
            &args(&key(&["--key", "{AUX}/k.asc"])),
            2,
            "more than",
        )
        .setup(|_, aux| write(aux, "k.asc", &"x".repeat(2 << 20))),
    );
    v.push(
        case(
            "--key binary junk",
            &args(&key(&["--key", "{AUX}/k.gpg"])),
            2,
            "k.gpg is not an OpenPGP key file",
        )
        .setup(|_, aux| {
            std::fs::write(aux.join("k.gpg"), [0x99u8, 0xff, 0x00, 0x13, 0x37]).unwrap()
        }),
    );
    v.push(case(
        "--key a public certificate",
        &args(&key(&["--key", "{PUB}"])),
        2,
        "holds only the public certificate",
    ));
    v.push(case(
        "no --key",
        &["tag", "--no-audit"],
        2,
        "no signing key",
    ));
    v.push(case(
        "--signing-key matches nothing",
        &args(&t(&["--signing-key", "nobody@example.org"])),
        2,
        "nobody@example.org",
    ));
    v.push(case(
        "--signing-key with a newline",
        &args(&t(&["--signing-key", "x\nerror: forged"])),
        2,
        "x\\nerror: forged",
    ));
    // Passphrases.
    let pw = |extra: &[&str]| with(&["tag", "--no-audit", "--key", "{KEY}"], extra);
    not_a_file_rows(&mut v, &pw(&[]), "--passphrase-file", "passphrase file");
    v.push(
        case(
            "--passphrase-file wrong",
            &args(&pw(&["--passphrase-file", "{AUX}/pw"])),
            2,
            "wrong passphrase",
        )
        .setup(|_, aux| write(aux, "pw", "not it\n")),
    );
    v.push(case(
        "--passphrase-env unset",
        &args(&pw(&["--passphrase-env", "CSR_NOPE"])),
        2,
        "CSR_NOPE",
    ));
    v.push(case(
        "--passphrase-env name with a newline",
        &args(&pw(&["--passphrase-env", "A\nerror: forged"])),
        2,
        "A\\nerror: forged",
    ));
    v.push(case(
        "no passphrase and no terminal",
        &args(&pw(&[])),
        2,
        "no terminal",
    ));
    // Git states.
    v.push(
        case("dirty tree", TAG, 1, "uncommitted changes (NOTES.txt)")
            .setup(|d, _| write(d, "NOTES.txt", "x")),
    );
    v.push(
        case(
            "dirty file name with a newline",
            TAG,
            1,
            "uncommitted changes",
        )
        .setup(|d, _| write(d, "a\nerror: forged", "x")),
    );
    v.push(
        case("tag exists", TAG, 1, "tag `v0.1.0` already exists").setup(|d, _| {
            git_ok(d, &["tag", "v0.1.0"]);
        }),
    );
    v.push(
        case(
            "ref locked by another process",
            TAG,
            1,
            "could not lock refs/tags/v0.1.0",
        )
        .setup(|d, _| write(d, ".git/refs/tags/v0.1.0.lock", "")),
    );
    v.push(
        case(
            "gpg.format ssh with an OpenPGP key file",
            TAG,
            2,
            "is an OpenPGP key, but the tag is being signed with SSH",
        )
        .setup(|d, _| {
            git_ok(d, &["config", "gpg.format", "ssh"]);
        }),
    );
    v.push(
        case("gpg.format x509", TAG, 2, "gpg.format is `x509`").setup(|d, _| {
            git_ok(d, &["config", "gpg.format", "x509"]);
        }),
    );
    const SSH_TAG: &[&str] = &["tag", "--no-audit", "--format", "ssh", "--key", "{AUX}/k"];
    for (name, text, first) in [
        ("ssh key: junk", "junk\nerror: forged", "k: `junk` is not an SSH public key"),
        ("ssh key: PEM", "-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n", "k is a PEM private key"),
        ("ssh key: broken OpenSSH", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "k is not a readable OpenSSH private key"),
        ("ssh key: DSA public", "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoAAACBAPaGRG5/k5g4ZsxsNJlPt6hHNAiPCrFPGTpHtSgo+SkkXUY3L5I2fUo3qP0/3tmFU/eZd8GHAnBf10S4Tcn5mJCgxtOyMrbBKsqPEoHGNfavxyc4l8lDE8HlHHAYw0HI/MH0jONsAggVLJYGJBNd9hkhmb/kwPnSEdUxhLxQKLGX", "DSA keys are obsolete"),
    ] {
        let text = text.to_string();
        v.push(case(name, SSH_TAG, 2, first).setup(move |_, aux| write(aux, "k", &text)));
    }
    v.push(
        case(
            "ssh: user.signingkey literal is junk",
            &["tag", "--no-audit", "--format", "ssh"],
            2,
            "user.signingkey: `ssh-ed25519 !!!\\nerror: x` is not an SSH public key",
        )
        .setup(|d, _| {
            git_ok(
                d,
                &[
                    "config",
                    "user.signingkey",
                    "key::ssh-ed25519 !!!\nerror: x",
                ],
            );
        }),
    );
    v.push(
        case(
            "ssh: agent socket missing",
            SSH_TAG,
            2,
            "could not reach the ssh-agent at",
        )
        .env("SSH_AUTH_SOCK", "{AUX}/no-agent")
        .setup(|_, aux| write(aux, "k", SSH_PUB)),
    );
    v.push(
        case(
            "ssh: agent socket is a file",
            SSH_TAG,
            2,
            "could not reach the ssh-agent at",
        )
        .env("SSH_AUTH_SOCK", "{AUX}/k")
        .setup(|_, aux| write(aux, "k", SSH_PUB)),
    );
    v.push(
        case(
            "ssh: no agent",
            SSH_TAG,
            2,
            "no ssh-agent: SSH_AUTH_SOCK is not set",
        )
        .env("SSH_AUTH_SOCK", "")
        .setup(|_, aux| write(aux, "k", SSH_PUB)),
    );
    v.push(manifest_row(
        "signers: path outside the repository",
        TAG,
        "\n[package.metadata.secure-release.signers]\nssh = \"../outside\"\n",
        2,
        "must be a path inside the repository",
    ));
    v.push(manifest_row(
        "signers: unknown key",
        TAG,
        "\n[package.metadata.secure-release.signers]\ngpg = \"keys.asc\"\n",
        2,
        "unknown key `gpg`",
    ));
    v.push(manifest_row(
        "signers: not a string",
        TAG,
        "\n[package.metadata.secure-release.signers]\nopenpgp = 1\n",
        2,
        "`openpgp` must be a string",
    ));
    v.push(
        case(
            "signers: file not committed",
            TAG,
            2,
            "names `keys.asc`, which is not committed at HEAD",
        )
        .setup(|d, _| {
            append(
                d,
                "Cargo.toml",
                "\n[package.metadata.secure-release.signers]\nopenpgp = \"keys.asc\"\n",
            );
            git(d, &["commit", "-qam", "policy"]);
        }),
    );
    v.push(
        case(
            "signers: committed file is junk",
            TAG,
            2,
            "HEAD:keys.asc is not an OpenPGP key file",
        )
        .setup(|d, _| {
            append(
                d,
                "Cargo.toml",
                "\n[package.metadata.secure-release.signers]\nopenpgp = \"keys.asc\"\n",
            );
            write(d, "keys.asc", "junk");
            git(d, &["add", "-A"]);
            git(d, &["commit", "-qm", "policy"]);
        }),
    );
    v.push(
        case(
            "signers: committed allowed_signers is junk",
            TAG,
            2,
            "HEAD:as:1: no public key after the principals",
        )
        .setup(|d, _| {
            append(
                d,
                "Cargo.toml",
                "\n[package.metadata.secure-release.signers]\nssh = \"as\"\n",
            );
            write(d, "as", "junk\n");
            git(d, &["add", "-A"]);
            git(d, &["commit", "-qm", "policy"]);
        }),
    );
    v.push(
        case(
            "not a git repository",
            TAG,
            2,
            "is not inside a git repository",
        )
        .setup(|d, _| std::fs::remove_dir_all(d.join(".git")).unwrap()),
    );
    v.push(
        case(
            "no commit yet: all untracked",
            TAG,
            1,
            "uncommitted changes",
        )
        .setup(|d, _| {
            std::fs::remove_dir_all(d.join(".git")).unwrap();
            git_ok(d, &["init", "-q"]);
        }),
    );
    v.push(
        case(
            "no commit yet",
            &args(&t(&["--allow-dirty"])),
            2,
            "no commit to tag",
        )
        .setup(|d, _| {
            std::fs::remove_dir_all(d.join(".git")).unwrap();
            git_ok(d, &["init", "-q"]);
        }),
    );
    v.push(
        case(
            "explicit name and dirty tree",
            &args(&t(&["v0.1.0"])),
            1,
            "uncommitted changes",
        )
        .setup(|d, _| write(d, "x", "x")),
    );
    v
}

fn verify_rows() -> Vec<Case> {
    let mut v = Vec::new();
    let vf = |extra: &[&str]| with(&["verify", "v0.0.9", "--cert", "{PUB}"], extra);
    for s in [
        "abc",
        "0x1234",
        "DEADBEEF",
        &"A".repeat(39),
        &"A".repeat(41),
        &"Z".repeat(40),
        "",
    ] {
        v.push(case(
            format!("--signer {s:?}"),
            &args(&vf(&["--signer", s])),
            2,
            "--signer",
        ));
    }
    let cert = |c: &str| with(&["verify", "v0.0.9", "--cert"], &[c]);
    not_a_file_rows(
        &mut v,
        &with(&["verify", "v0.0.9"], &[]),
        "--cert",
        "certificate file",
    );
    v.push(
        case(
            "--cert garbage says public",
            &args(&cert("{AUX}/c.asc")),
            2,
            "c.asc is not an OpenPGP key file",
        )
        .setup(|_, aux| write(aux, "c.asc", "junk")),
    );
    v.push(
        case(
            "--cert empty",
            &args(&cert("{AUX}/c.asc")),
            2,
            "c.asc is not an OpenPGP key file",
        )
        .setup(|_, aux| write(aux, "c.asc", "")),
    );
    v.push(
        case(
            "--cert too large",
            &args(&cert("{AUX}/c.asc")),
            2,
            "more than",
        )
        .setup(|_, aux| write(aux, "c.asc", &"x".repeat(2 << 20))),
    );
    v.push(case(
        "no certificate",
        &["verify", "v0.0.9"],
        2,
        "no keys to verify against",
    ));
    // SSH verification inputs: read (and refused) before any signature is looked at.
    const AS: &[&str] = &["verify", "v0.0.9", "--allowed-signers", "{AUX}/as"];
    for (name, text, first) in [
        (
            "allowed signers: no key",
            "a@b\n",
            "as:1: no public key after the principals",
        ),
        (
            "allowed signers: unknown option",
            &format!("# c\na@b bogus=1 {SSH_PUB}\n") as &str,
            "as:2: unknown option `bogus=1`",
        ),
        (
            "allowed signers: bad time",
            &format!("a@b valid-before=\"soon\" {SSH_PUB}\n"),
            "`soon` is not a time",
        ),
        (
            "allowed signers: open quote",
            &format!("a@b namespaces=\"git {SSH_PUB}\n"),
            "as:1: a quote is not closed",
        ),
        (
            "allowed signers: bad key",
            "a@b ssh-ed25519 AAAA\nerror: forged\n",
            "as:1: the `ssh-ed25519` key does not parse",
        ),
    ] {
        let text = text.to_string();
        v.push(case(name, AS, 2, first).setup(move |_, aux| write(aux, "as", &text)));
    }
    v.push(
        case("allowed signers: too large", AS, 2, "more than")
            .setup(|_, aux| write(aux, "as", &"#".repeat(2 << 20))),
    );
    const REVOKED: &[&str] = &[
        "verify",
        "v0.0.9",
        "--allowed-signers",
        "{AUX}/as",
        "--revoked",
        "{AUX}/krl",
    ];
    v.push(
        case(
            "revoked: binary KRL",
            REVOKED,
            2,
            "krl is a binary key revocation list",
        )
        .setup(|_, aux| {
            write(aux, "as", &format!("a@b {SSH_PUB}\n"));
            write(aux, "krl", "SSHKRL\n\u{1}\u{2}");
        }),
    );
    v.push(
        case(
            "revoked: not a key",
            REVOKED,
            2,
            "krl:2: `junk\\nerror: forged` is not an SSH public key",
        )
        .setup(|_, aux| {
            write(aux, "as", &format!("a@b {SSH_PUB}\n"));
            write(aux, "krl", "# revoked\njunk\\nerror: forged\n");
        }),
    );
    v.push(case(
        "openvex with no advisory to state",
        &[
            "sbom",
            "--format",
            "openvex",
            "--offline",
            "--advisory-db",
            "{DB}",
        ],
        2,
        "no advisory affects the packages of this build",
    ));
    v.push(case(
        "openvex: advisory db missing",
        &[
            "sbom",
            "--format",
            "openvex",
            "--offline",
            "--advisory-db",
            "{AUX}/nodb",
        ],
        2,
        "has no `crates` directory",
    ));
    v.push(case(
        "trust root missing",
        &["verify", "v0.0.9", "--trust-root", "no-such-ref"],
        2,
        "--trust-root `no-such-ref` is not a commit",
    ));
    v.push(case(
        "trust root without a policy",
        &["verify", "v0.0.9", "--trust-root", "v0.0.9"],
        2,
        "the trust root `v0.0.9` has no signer policy",
    ));
    v.push(case(
        "trust root with --cert",
        &[
            "verify",
            "v0.0.9",
            "--trust-root",
            "v0.0.9",
            "--cert",
            "{PUB}",
        ],
        2,
        "cannot be used with",
    ));
    v.push(case(
        "tag missing",
        &["verify", "nope", "--cert", "{PUB}"],
        2,
        "tag `nope` does not exist",
    ));
    v.push(case(
        "tag name with a newline",
        &["verify", "x\nerror: forged", "--cert", "{PUB}"],
        2,
        "x\\nerror: forged",
    ));
    v.push(case(
        "lightweight tag",
        &["verify", "light", "--cert", "{PUB}"],
        1,
        "BAD: `light` is a lightweight tag",
    ));
    v.push(case(
        "unsigned tag",
        &["verify", "plain", "--cert", "{PUB}"],
        1,
        "BAD: tag `plain` is not signed",
    ));
    v.push(case(
        "other signer required",
        &args(&vf(&["--signer", "{OTHER}"])),
        1,
        "not one of the --signer",
    ));
    v.push(
        case(
            "wrong certificate",
            &["verify", "v0.0.9", "--cert", "{AUX}/m.asc"],
            1,
            "BAD: tag `v0.0.9`",
        )
        .setup(|_, aux| {
            std::fs::copy(
                base().keys.path().join("mallory.public.asc"),
                aux.join("m.asc"),
            )
            .unwrap();
        }),
    );
    v.push(case(
        "--repo not a repository",
        &["verify", "v0.0.9", "--cert", "{PUB}", "--repo", "{AUX}"],
        2,
        "is not inside a git repository",
    ));
    v.push(case(
        "good signature",
        &["verify", "v0.0.9", "--cert", "{PUB}"],
        0,
        "Good signature on tag `v0.0.9`",
    ));
    v.push(
        case(
            "tampered tag",
            &["verify", "forged", "--cert", "{PUB}"],
            1,
            "BAD: tag `forged`",
        )
        .setup(|d, _| {
            let raw = git_ok(d, &["cat-file", "tag", "v0.0.9"]).replace("Release", "Rel3ase");
            write_tag_object(d, "forged", &raw);
        }),
    );
    v
}

fn init_rows() -> Vec<Case> {
    let mut v = Vec::new();
    let i = |extra: &[&str]| with(INIT, extra);
    for n in ["0", "-1", "abc", "99999999999", ""] {
        let flag = format!("--supported-lines={n}");
        v.push(case(
            format!("--supported-lines {n:?}"),
            &args(&i(&[&flag])),
            2,
            "--supported-lines",
        ));
    }
    for c in ["bad", "a@b", "<x>@y.org", "", "a\nerror: forged@x.org"] {
        let first = if c.contains('\n') {
            "a\\nerror: forged@x.org".to_string()
        } else {
            format!("--contact `{c}`")
        };
        v.push(case(
            format!("--contact {c:?}"),
            &args(&i(&["--contact", c])),
            2,
            first,
        ));
    }
    let tpl = |p: &str| with(INIT, &["--template", p]);
    not_a_file_rows(&mut v, &with(INIT, &[]), "--template", "template");
    v.push(
        case(
            "--template not UTF-8",
            &args(&tpl("{AUX}/t.md")),
            2,
            "t.md is not UTF-8",
        )
        .setup(|_, aux| std::fs::write(aux.join("t.md"), b"# \xff\n").unwrap()),
    );
    v.push(
        case(
            "--template syntax error",
            &args(&tpl("{AUX}/t.md")),
            2,
            "t.md:1: template error",
        )
        .setup(|_, aux| write(aux, "t.md", "{% for %}\n")),
    );
    v.push(case("--template runaway loop", &args(&tpl("{AUX}/t.md")), 2, "does too much work").setup(|_, aux| {
        write(aux, "t.md", "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n")
    }));
    v.push(
        case(
            "--template unknown filter",
            &args(&tpl("{AUX}/t.md")),
            2,
            "t.md",
        )
        .setup(|_, aux| write(aux, "t.md", "{{ name|nope }}\n")),
    );
    v.push(
        case(
            "--template deep recursion",
            &args(&tpl("{AUX}/t.md")),
            2,
            "t.md",
        )
        .setup(|_, aux| {
            write(
                aux,
                "t.md",
                "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}\n",
            )
        }),
    );
    v.push(
        case(
            "--template too large",
            &args(&tpl("{AUX}/t.md")),
            2,
            "more than",
        )
        .setup(|_, aux| write(aux, "t.md", &"x".repeat(17 << 20))),
    );
    let out = |p: &str| {
        vec![
            "init".to_string(),
            "--force".into(),
            "--output".into(),
            p.to_string(),
        ]
    };
    v.push(case(
        "--output /dev/full",
        &args(&out("/dev/full")),
        2,
        "/dev/full is a device",
    ));
    v.push(case(
        "--output a directory",
        &args(&out("src")),
        2,
        "src is a directory",
    ));
    v.push(
        case(
            "--output a FIFO",
            &args(&out("{AUX}/pipe")),
            2,
            "pipe is a FIFO",
        )
        .setup(|_, aux| fifo(aux, "pipe")),
    );
    v.push(
        case(
            "SECURITY.md exists",
            &["init"],
            2,
            "SECURITY.md already exists",
        )
        .setup(|d, _| write(d, "SECURITY.md", "mine\n")),
    );
    v.push(case(
        "--preset bogus",
        &["init", "--preset", "bogus"],
        2,
        "'bogus'",
    ));
    v.push(case(
        "--check with no SECURITY.md",
        &["init", "--check"],
        1,
        "SECURITY.md does not exist",
    ));
    v.push(
        case(
            "--check with SECURITY.md a directory",
            &["init", "--check"],
            2,
            "SECURITY.md is a directory",
        )
        .setup(|d, _| std::fs::create_dir(d.join("SECURITY.md")).unwrap()),
    );
    v.push(
        case(
            "--check with SECURITY.md -> /dev/zero",
            &["init", "--check"],
            2,
            "SECURITY.md is a device",
        )
        .setup(|d, _| symlink(d, "SECURITY.md", "/dev/zero")),
    );
    v.push(case(
        "--check and --force",
        &["init", "--check", "--force"],
        2,
        "--force",
    ));
    v.push(manifest_row(
        "signing-key file missing",
        INIT,
        "signing-key = \"keys/none.asc\"\n",
        2,
        "policy `signing-key = \"keys/none.asc\"`",
    ));
    v.push(
        case(
            "signing-key -> /dev/zero",
            INIT,
            2,
            "policy `signing-key = \"k.asc\"`",
        )
        .setup(|d, _| {
            append(d, "Cargo.toml", "signing-key = \"k.asc\"\n");
            symlink(d, "k.asc", "/dev/zero");
        }),
    );
    v.push(
        case(
            "no contact and a hostile repository URL",
            INIT,
            2,
            "needs a private way to report",
        )
        .setup(|d, _| {
            let t = std::fs::read_to_string(d.join("Cargo.toml")).unwrap();
            let t = t.replace("contact = \"security@hostile.example\"\n", "");
            let t = t.replace(
                "publish = false",
                "publish = false\nrepository = \"https://github.com/../../x\"",
            );
            write(d, "Cargo.toml", &t);
        }),
    );
    v.push(manifest_row(
        "policy contact not an email",
        INIT,
        "[package.metadata.secure-release.policy]\ncontact = \"x\"\n",
        2,
        "`contact = \"x\"` is not an email address",
    ));
    v.push(manifest_row(
        "workspace policy: a second contact key",
        INIT,
        "contact = \"x@y.example\"\n",
        2,
        "Cargo.toml",
    ));
    v.push(manifest_row(
        "policy supported-lines 0",
        INIT,
        "[package.metadata.secure-release.policy]\nsupported-lines = 0\n",
        2,
        "`supported-lines = 0`",
    ));
    v.push(
        case(
            "--deny with deny.toml present",
            &["init", "--deny"],
            2,
            "deny.toml already exists",
        )
        .setup(|d, _| write(d, "deny.toml", "")),
    );
    v.push(
        case(
            "--harden with a read-only manifest",
            &["init", "--harden", "--force"],
            2,
            "is read-only",
        )
        .setup(|d, _| {
            let t = std::fs::read_to_string(d.join("Cargo.toml"))
                .unwrap()
                .replace("lto = \"fat\"", "lto = \"thin\"");
            write(d, "Cargo.toml", &t);
            let mut p = std::fs::metadata(d.join("Cargo.toml"))
                .unwrap()
                .permissions();
            p.set_readonly(true);
            std::fs::set_permissions(d.join("Cargo.toml"), p).unwrap();
        }),
    );
    v
}

/// Round 3 (issue 26): artifacts that lie, tags that borrow another's signature or
/// claim twice, templates that write without end, messages that read as claims.
fn round3_rows() -> Vec<Case> {
    let mut v = Vec::new();
    let art = |p: &str| with(AUDIT, &["--artifact", p]);
    v.push(
        case(
            "artifact: a Java class file (the fat Mach-O magic)",
            &args(&art("{AUX}/A.class")),
            2,
            "A.class is not an ELF, PE or Mach-O executable",
        )
        .setup(|_, aux| {
            let mut class = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34, 0, 0x1d];
            class.resize(400, 7);
            std::fs::write(aux.join("A.class"), class).unwrap()
        }),
    );
    v.push(
        case(
            "artifact: 32 bytes claiming 2^32-1 Mach-O load commands",
            &args(&art("{AUX}/lying")),
            2,
            "lying is truncated or corrupt",
        )
        .setup(|_, aux| {
            let mut m = Vec::new();
            for w in [
                0xfeed_facfu32,
                0x0100_000c,
                0,
                2,
                u32::MAX,
                0,
                0x0020_0000,
                0,
            ] {
                m.extend_from_slice(&w.to_le_bytes());
            }
            std::fs::write(aux.join("lying"), m).unwrap()
        }),
    );
    v.push(
        case(
            "artifact: 16 GiB sparse file with an ELF header",
            &args(&art("{AUX}/huge")),
            2,
            "over the 2147483648-byte (2 GiB) limit",
        )
        .setup(|_, aux| {
            let path = aux.join("huge");
            std::fs::copy("/bin/true", &path).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(16 << 30)
                .unwrap();
        }),
    );
    v.push(
        case(
            "verify: a ref re-pointed at another release's signed tag object",
            &["verify", "rel-0.0.9", "--cert", "{PUB}"],
            1,
            "the signed tag object names itself `v0.0.9`, not `rel-0.0.9`",
        )
        .anywhere()
        .setup(|d, _| {
            let oid = git_ok(d, &["rev-parse", "refs/tags/v0.0.9"]);
            git_ok(d, &["update-ref", "refs/tags/rel-0.0.9", oid.trim()]);
        }),
    );
    v.push(
        case(
            "init: a template that writes 10 MB within its fuel",
            &args(&with(INIT, &["--template", "{AUX}/t.md"])),
            2,
            "renders more than 1048576 bytes",
        )
        .setup(|_, aux| {
            write(
                aux,
                "t.md",
                "{% for i in range(1000) %}{{ 'x' * 10000 }}{% endfor %}\n",
            )
        }),
    );
    for (name, msg) in [
        ("a claim line", "Release\n\nAudit: 0 errors"),
        (
            "a claim in another case",
            "release\n\npackage : x 1 Cargo.toml",
        ),
    ] {
        let flag = format!("--message={msg}");
        v.push(case(
            format!("tag: message with {name}"),
            &args(&with(TAG, &[&flag])),
            1,
            "reads as one of the tag's claims",
        ));
    }
    v
}

fn all_rows() -> Vec<Case> {
    let mut v = config_rows();
    v.extend(round3_rows());
    v.extend(audit_rows());
    v.extend(tag_rows());
    v.extend(verify_rows());
    v.extend(init_rows());
    v
}

#[test]
fn hostile_inputs_table() {
    let rows = all_rows();
    assert!(rows.len() >= 200, "the table has {} rows", rows.len());
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|c| check(c).err().map(|e| format!("[{}] {e}", c.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases failed:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

/// `--output` through a symlink writes the file it points at and keeps the link.
#[test]
fn output_through_a_symlink_writes_the_target() {
    let b = base();
    let work = TempDir::new().unwrap();
    let dir = work.path().join("p");
    copy_dir(b.project.path(), &dir);
    let real = work.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = work.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut c = bin();
    c.current_dir(&dir)
        .args([
            "audit",
            "--offline",
            "--no-cache",
            "--format",
            "json",
            "--advisory-db",
        ])
        .arg(advisory_db())
        .arg("--output")
        .arg(&link);
    run(&mut c, 0);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let written = std::fs::read_to_string(&real).unwrap();
    assert!(written.starts_with("{\n  \"advisory_db\""), "{written}");
}

/// A verifier is told to ask for a *public* certificate, never to export a secret key.
#[test]
fn verify_help_asks_for_a_public_certificate() {
    let b = base();
    let junk = TempDir::new().unwrap();
    let cert = junk.path().join("c.asc");
    std::fs::write(&cert, "junk").unwrap();
    let mut c = bin();
    c.current_dir(b.project.path())
        .args(["verify", "v0.0.9", "--cert"])
        .arg(&cert);
    let (_, err) = run(&mut c, 2);
    assert!(err.contains("public certificate"), "{err}");
    assert!(!err.contains("export-secret-keys"), "{err}");
}

/// A result that cannot be written is no success: each command whose stdout is a
/// full device exits 2 with one line naming stdout; a closed pipe exits non-zero
/// without a word; a full stderr never aborts the process (no panic, no SIGABRT).
#[test]
fn failed_writes_to_stdout_or_stderr_are_exit_2_never_a_success() {
    let b = base();
    let work = TempDir::new().unwrap();
    let dir = work.path().join("p");
    copy_dir(b.project.path(), &dir);
    let aux = work.path().join("aux");
    std::fs::create_dir_all(&aux).unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let command = |args: &[&str]| {
        let mut c = bin_std();
        c.current_dir(&dir)
            .env("CARGO_SECURE_RELEASE_TODAY", "2026-11-22");
        for a in args {
            c.arg(expand(a, &dir, &aux));
        }
        c
    };
    let rows: &[&[&str]] = &[
        &["sbom", "--offline"],
        &["completions", "bash"],
        &["init", "--dry-run"],
        &["verify", "v0.0.9", "--cert", "{PUB}"],
        &["verify", "v0.0.9", "--cert", "{PUB}", "--format", "json"],
        &[
            "audit",
            "--offline",
            "--no-cache",
            "--advisory-db",
            "{DB}",
            "--format",
            "json",
        ],
        &["audit", "--offline", "--no-cache", "--advisory-db", "{DB}"],
        &["--help"],
    ];
    for args in rows {
        let out = command(args)
            .stdout(full())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(error_lines.len(), 1, "{args:?}: {stderr}");
        assert!(
            error_lines[0].starts_with("error: could not write to stdout: "),
            "{args:?}: first line `{first}`; {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");

        // stderr a full device too: no abort, still exit 2.
        let out = command(args)
            .stdout(full())
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} with a full stderr");
    }

    // A closed pipe: non-zero, and nothing said about it.
    let mut child = command(&["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A status line on a full stderr, with stdout fine: the exit code says so.
    let out = command(&["init", "--dry-run"])
        .stdout(std::process::Stdio::piped())
        .stderr(full())
        .output()
        .unwrap();
    assert!(!out.stdout.is_empty());
    assert_ne!(out.status.code(), Some(134), "aborted");
}
