//! The rules on the commands of `run:` scripts: downloads piped into a shell
//! (`pipe-to-shell`, `rustup-pipe`), `cargo install` (`--locked`, a version),
//! `cargo publish` with a secret token, a release built without `--locked`, and
//! which release gates a script runs.

use super::fix::Edit;
use super::rule::Rule;
use super::rules::{Ctx, Seen};
use super::script::{Command, Line};

pub(super) fn gates(cmd: &Command, seen: &mut Seen) {
    let w = &cmd.words;
    for (i, word) in w.iter().enumerate() {
        let names_us =
            word.text.ends_with("secure-release") || word.text.contains("cargo-secure-release");
        if !names_us {
            continue;
        }
        match w.get(i + 1).map(|n| n.text.as_str()) {
            Some("audit") => seen.audit = true,
            Some("verify") => seen.verify = true,
            Some("attest") => seen.attest = true,
            _ => {}
        }
    }
}

const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "iwr",
    "Invoke-WebRequest",
    "irm",
    "Invoke-RestMethod",
];
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "pwsh",
    "iex",
    "Invoke-Expression",
];

fn is_shell(word: &str) -> bool {
    SHELLS.contains(&word.rsplit('/').next().unwrap_or(word))
}

pub(super) fn pipes(cx: &mut Ctx<'_>, commands: &[Command], i: usize, lines: &[Line<'_>]) {
    let cmd = &commands[i];
    let Some(first) = cmd.program().first() else {
        return;
    };
    if !DOWNLOADERS.contains(&first.text.as_str()) {
        return;
    }
    // `curl … | sh`, through any filters in between.
    let mut j = i;
    let mut into_shell = false;
    while commands[j].piped && j + 1 < commands.len() {
        j += 1;
        if commands[j].first().is_some_and(is_shell) {
            into_shell = true;
            break;
        }
    }
    // `sh -c "$(curl …)"` and `bash <(curl …)`: the command before is a shell on
    // the same line, and the download is inside its substitution.
    if !into_shell && i > 0 {
        let prev = &commands[i - 1];
        let same_line = prev.words.last().is_some_and(|w| w.line == first.line);
        let line_text = lines
            .iter()
            .find(|l| l.line == first.line)
            .map_or("", |l| l.text);
        let substituted = line_text.contains("$(curl")
            || line_text.contains("<(curl")
            || line_text.contains("$(wget")
            || line_text.contains("<(wget");
        into_shell = same_line && substituted && prev.first().is_some_and(is_shell);
    }
    if !into_shell {
        return;
    }
    let url = cmd
        .words
        .iter()
        .find(|w| w.text.contains("://"))
        .map(|w| w.text.as_str())
        .unwrap_or("");
    let rustup = cmd.words.iter().any(|w| {
        w.text.contains("sh.rustup.rs")
            || w.text.contains("rustup-init")
            || w.text.contains("static.rust-lang.org/rustup")
    });
    if rustup {
        cx.hit_at(
            Rule::RustupPipe,
            first.line,
            first.col,
            "rustup is installed by piping a download into a shell: the script is whatever the server sends today".into(),
            "use the runner's rustup (`rustup toolchain install 1.xx --profile minimal`) or dtolnay/rust-toolchain pinned by SHA with `toolchain:`",
        );
    } else {
        cx.hit_at(
            Rule::PipeToShell,
            first.line,
            first.col,
            format!("a download{} is piped into a shell: it runs whatever the server sends, unchecked", if url.is_empty() { String::new() } else { format!(" ({})", crate::error::escape(url)) }),
            "download to a file, check its SHA-256 against a pinned value, then run it (or install from a package registry with a lockfile)",
        );
    }
}

/// Flags of `cargo install` that take a value (their value is not a crate name).
const INSTALL_VALUED: &[&str] = &[
    "--version",
    "--vers",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--path",
    "--root",
    "--target",
    "--features",
    "-F",
    "--profile",
    "--registry",
    "--index",
    "-j",
    "--jobs",
    "--bin",
    "--example",
    "--config",
    "-Z",
    "--target-dir",
    "--color",
];

pub(super) fn cargo(cx: &mut Ctx<'_>, cmd: &Command, token_from_secret: bool, release: bool) {
    let prog = cmd.program();
    let Some(first) = prog.first() else { return };
    let name = first.text.rsplit('/').next().unwrap_or("");
    let is_cargo = name == "cargo" || name == "cargo.exe";
    let is_cross = name == "cross";
    if !is_cargo && !is_cross {
        return;
    }
    let mut rest = &prog[1..];
    while rest.first().is_some_and(|w| w.text.starts_with('+')) {
        rest = &rest[1..];
    }
    let sub = rest.first().map(|w| w.text.as_str()).unwrap_or("");
    let locked = cmd.has("--locked") || cmd.has("--frozen");
    let dynamic = cmd.words.iter().any(|w| w.text.contains('$'));
    match sub {
        "install" if is_cargo && !cmd.has("--list") => {
            if !locked {
                cx.hit_at(
                    Rule::CargoInstallUnlocked,
                    first.line,
                    first.col,
                    "`cargo install` without --locked ignores the tool's Cargo.lock and resolves its dependencies anew, so a new (or hijacked) release of any of them runs here".into(),
                    "add --locked (`--fix` adds it)",
                );
                let at = &rest[0];
                cx.with_edit(Some(Edit {
                    offset: at.end,
                    remove: 0,
                    insert: " --locked".into(),
                }));
            }
            let local = cmd.has("--path");
            let git = cmd.has("--git");
            let mut names = Vec::new();
            let mut k = 1;
            while k < rest.len() {
                let t = rest[k].text.as_str();
                if INSTALL_VALUED.contains(&t) {
                    k += 2;
                    continue;
                }
                if !t.starts_with('-') {
                    names.push(t);
                }
                k += 1;
            }
            let versioned = cmd.has("--version")
                || cmd.has("--vers")
                || (!names.is_empty() && names.iter().all(|n| n.contains('@')));
            let pinned = local || dynamic || if git { cmd.has("--rev") } else { versioned };
            if !pinned {
                cx.hit_at(
                    Rule::CargoInstallUnpinned,
                    first.line,
                    first.col,
                    if git {
                        "`cargo install --git` without --rev builds whatever the branch or tag points at today".into()
                    } else {
                        "`cargo install` without a version installs whatever was published last".into()
                    },
                    if git {
                        "add --rev COMMIT"
                    } else {
                        "pin it: `cargo install --locked NAME@X.Y.Z` (or --version X.Y.Z)"
                    },
                );
            }
        }
        "publish" if is_cargo && !cmd.has("--dry-run") && !cmd.has("-n") => {
            let token_arg = cmd.words.iter().any(|w| w.text.contains("secrets."));
            if token_from_secret || token_arg {
                cx.hit_at(
                    Rule::RegistryToken,
                    first.line,
                    first.col,
                    "`cargo publish` uses a long-lived crates.io token from the repository's secrets".into(),
                    "use crates.io trusted publishing: a step `uses: rust-lang/crates-io-auth-action@<sha>` (id: auth) and CARGO_REGISTRY_TOKEN: ${{ steps.auth.outputs.token }}, with `permissions: id-token: write` in that job only; then delete the secret",
                );
            }
        }
        _ => {}
    }
    if release {
        let builds = match sub {
            "build" | "zigbuild" => true,
            "auditable" | "dist" => rest.get(1).is_some_and(|w| w.text == "build"),
            _ => false,
        };
        if builds && !locked && !dynamic {
            cx.hit_at(
                Rule::ReleaseUnlockedBuild,
                first.line,
                first.col,
                format!("the release is built without --locked: `{name} {sub}` may resolve other versions than Cargo.lock, the file the audit judged"),
                "add --locked",
            );
        }
    }
}
