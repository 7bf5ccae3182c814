//! Issue 25's oracle: the SBOM says exactly what cargo builds, checked against
//! cargo's own build.
//!
//! Every case is a real workspace written to a temp dir. The oracle is cargo:
//! `cargo build --release --message-format=json` with the case's arguments and
//! environment, every `compiler-artifact` message's `package_id` (build scripts and
//! proc-macros included) mapped to (name, version, source) through `cargo
//! metadata`. Where the target's standard library is not installed, cargo cannot
//! build, and the oracle is `cargo tree -e normal,build` for that target (without
//! the subtrees cargo would not build: dependencies without a library, and
//! build-dependencies of packages without a build script). The SBOM's packages
//! (`metadata.component` and `components`, as their purls say) must be the same
//! multiset; where the build names its target (so cargo puts what runs on the build
//! machine apart from what ships), each package's `cargo:dependency-kind` must
//! agree too. A case cargo refuses must be refused by `sbom` as well.
//!
//! Two parts: fixed shapes (one test each, the list in `shapes`) and random
//! workspaces of path crates (`random_workspaces_are_built_as_the_sbom_says`,
//! CSR_ORACLE_CASES cases, 200 by default).

use crate::common::{bin_std, git};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    CycloneDx,
    Spdx,
}

/// One workspace and one build of it. In files, args and env values `{ROOT}` is
/// the temp dir and `{HOST}` this machine's triple.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// (path under the temp dir, contents).
    files: Vec<(String, String)>,
    /// Directories (under the temp dir) made git repositories, all files committed.
    git_repos: Vec<String>,
    /// Where cargo and `sbom` run, under the temp dir.
    cwd: String,
    sbom_args: Vec<String>,
    build_args: Vec<String>,
    env: Vec<(String, String)>,
    /// The triple `.cargo/config.toml`'s `build.target` names, if it does.
    config_target: Option<String>,
    /// A negative case: cargo must refuse it (and so must `sbom`).
    must_fail: bool,
    format: Format,
}

const LIB: &str = "pub fn f() {}\n";

impl Case {
    fn new(name: &str) -> Case {
        Case {
            name: name.to_string(),
            files: Vec::new(),
            git_repos: Vec::new(),
            cwd: "ws".into(),
            sbom_args: Vec::new(),
            build_args: Vec::new(),
            env: Vec::new(),
            config_target: None,
            must_fail: false,
            format: Format::CycloneDx,
        }
    }

    fn file(mut self, path: &str, text: &str) -> Case {
        self.files.push((path.to_string(), text.to_string()));
        self
    }

    /// A library crate in `dir`; `rest` follows its `[package]` keys.
    fn krate(self, dir: &str, name: &str, version: &str, rest: &str) -> Case {
        self.file(
            &format!("{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{rest}"
            ),
        )
        .file(&format!("{dir}/src/lib.rs"), LIB)
    }

    /// A library crate `name` 0.1.0 with no dependencies, in the directory `name`.
    fn leaf(self, name: &str) -> Case {
        self.krate(name, name, "0.1.0", "")
    }

    /// A proc-macro crate in `dir` (its library exports nothing).
    fn proc_macro(self, dir: &str, name: &str, rest: &str) -> Case {
        self.file(
            &format!("{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n{rest}"
            ),
        )
        .file(&format!("{dir}/src/lib.rs"), "")
    }

    fn build_rs(self, dir: &str) -> Case {
        self.file(&format!("{dir}/build.rs"), "fn main() {}\n")
    }

    fn git_repo(mut self, dir: &str) -> Case {
        self.git_repos.push(dir.to_string());
        self
    }

    fn cwd(mut self, dir: &str) -> Case {
        self.cwd = dir.to_string();
        self
    }

    /// Arguments given to both `sbom` and the oracle's cargo.
    fn args(mut self, args: &[&str]) -> Case {
        self.sbom_args.extend(args.iter().map(|s| s.to_string()));
        self.build_args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    fn env(mut self, key: &str, value: &str) -> Case {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    fn config_target(mut self, triple: &str) -> Case {
        self.config_target = Some(triple.to_string());
        self
    }

    fn must_fail(mut self) -> Case {
        self.must_fail = true;
        self
    }

    fn spdx(mut self) -> Case {
        self.sbom_args
            .extend(["--format".to_string(), "spdx".to_string()]);
        self.format = Format::Spdx;
        self
    }
}

// ---------------------------------------------------------------------------
// The fixed shapes
// ---------------------------------------------------------------------------

/// `ws` depends on `opt` (optional); `opt`'s feature `x` pulls `xdep`.
fn opt_x(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
opt = { path = "../opt", optional = true }
"#,
        )
        .krate(
            "opt",
            "opt",
            "0.1.0",
            r#"
[dependencies]
xdep = { path = "../xdep", optional = true }

[features]
x = ["dep:xdep"]
"#,
        )
        .leaf("xdep")
}

/// Dependencies gated by `cfg(myflag)`, and one by `cfg(not(myflag))`.
fn flagged(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[target.'cfg(myflag)'.dependencies]
flagged = { path = "../flagged" }

[target.'cfg(not(myflag))'.dependencies]
unflagged = { path = "../unflagged" }
"#,
        )
        .leaf("flagged")
        .leaf("unflagged")
}

/// `cfg(myflag)` gating a normal, a build and a proc-macro's dependency: RUSTFLAGS
/// reach build scripts and proc-macros only when the build names no target.
fn host_flags(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
pm = { path = "../pm" }

[target.'cfg(myflag)'.dependencies]
flagged = { path = "../flagged" }

[target.'cfg(myflag)'.build-dependencies]
hostflagged = { path = "../hostflagged" }
"#,
        )
        .build_rs("ws")
        .proc_macro(
            "pm",
            "pm",
            r#"
[target.'cfg(myflag)'.dependencies]
pmflagged = { path = "../pmflagged" }
"#,
        )
        .leaf("flagged")
        .leaf("hostflagged")
        .leaf("pmflagged")
        .env("RUSTFLAGS", "--cfg myflag")
}

/// `common`'s feature `f` pulls `extra`; a normal dependency on `common` without
/// it, and `extra_dep` (a table: dev-dependencies, build-dependencies…) with it.
fn unify(name: &str, resolver: &str, with_f: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            &format!(
                r#"resolver = "{resolver}"

[dependencies]
common = {{ path = "../common" }}

[{with_f}]
common = {{ path = "../common", features = ["f"] }}
"#
            ),
        )
        .build_rs("ws")
        .krate(
            "common",
            "common",
            "0.1.0",
            r#"
[dependencies]
extra = { path = "../extra", optional = true }

[features]
f = ["dep:extra"]
"#,
        )
        .leaf("extra")
}

/// Dependencies for Linux, Windows and macOS, by `cfg` and by triple, normal and
/// build-time, and a feature of a shared dependency only Windows enables.
fn targets(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
common = { path = "../common" }

[target.'cfg(windows)'.dependencies]
win = { path = "../win" }
common = { path = "../common", features = ["w"] }

[target.'cfg(unix)'.dependencies]
unix = { path = "../unix" }

[target.'cfg(target_os = "linux")'.dependencies]
linux = { path = "../linux" }

[target.'cfg(target_os = "macos")'.dependencies]
mac = { path = "../mac" }

[target.'cfg(target_env = "msvc")'.dependencies]
msvc = { path = "../msvc" }

[target.x86_64-pc-windows-msvc.dependencies]
winexact = { path = "../winexact" }

[target.aarch64-apple-darwin.dependencies]
macexact = { path = "../macexact" }

[target.'cfg(all(target_arch = "aarch64", target_vendor = "apple"))'.dependencies]
armapple = { path = "../armapple" }

[target.'cfg(unix)'.build-dependencies]
hostunix = { path = "../hostunix" }

[target.'cfg(windows)'.build-dependencies]
hostwin = { path = "../hostwin" }
"#,
        )
        .build_rs("ws")
        .krate(
            "common",
            "common",
            "0.1.0",
            r#"
[dependencies]
wextra = { path = "../wextra", optional = true }

[features]
w = ["dep:wextra"]
"#,
        )
        .leaf("win")
        .leaf("unix")
        .leaf("linux")
        .leaf("mac")
        .leaf("msvc")
        .leaf("winexact")
        .leaf("macexact")
        .leaf("armapple")
        .leaf("hostunix")
        .leaf("hostwin")
        .leaf("wextra")
}

/// `ws` uses the proc-macro `pm`, which has normal, build and target-specific
/// dependencies, one shared with `ws` (with another feature).
fn proc_macro(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
pm = { path = "../pm" }
shared = { path = "../shared" }
"#,
        )
        .proc_macro(
            "pm",
            "pm",
            r#"
[dependencies]
shared = { path = "../shared", features = ["x"] }
pmdep = { path = "../pmdep" }

[build-dependencies]
pmbuild = { path = "../pmbuild" }

[target.'cfg(unix)'.dependencies]
pmunix = { path = "../pmunix" }

[target.'cfg(windows)'.dependencies]
pmwin = { path = "../pmwin" }
"#,
        )
        .build_rs("pm")
        .krate(
            "shared",
            "shared",
            "0.1.0",
            r#"
[dependencies]
sx = { path = "../sx", optional = true }

[features]
x = ["dep:sx"]
"#,
        )
        .leaf("pmdep")
        .leaf("pmbuild")
        .leaf("pmunix")
        .leaf("pmwin")
        .leaf("sx")
}

/// A virtual workspace `ws` of members a, b, c; their other dependencies (x, y,
/// ay, cz) outside it, so they are not members.
fn virtual_ws(name: &str, default_members: bool) -> Case {
    let dm = if default_members {
        "default-members = [\"b\"]\n"
    } else {
        ""
    };
    Case::new(name)
        .file(
            "ws/Cargo.toml",
            &format!("[workspace]\nmembers = [\"a\", \"b\", \"c\"]\n{dm}resolver = \"2\"\n"),
        )
        .krate(
            "ws/a",
            "a",
            "0.1.0",
            r#"
[dependencies]
x = { path = "../../x" }
ay = { path = "../../ay", optional = true }

[features]
af = ["dep:ay"]
"#,
        )
        .krate(
            "ws/b",
            "b",
            "0.1.0",
            r#"
[dependencies]
c = { path = "../c" }
y = { path = "../../y" }
"#,
        )
        .krate(
            "ws/c",
            "c",
            "0.1.0",
            r#"
[dependencies]
cz = { path = "../../cz", optional = true }

[features]
cf = ["dep:cz"]
"#,
        )
        .leaf("x")
        .leaf("y")
        .leaf("ay")
        .leaf("cz")
}

/// A crate `gitdep` 0.3.0 (with a path crate `inner` inside its repository) in a
/// git repository at `{ROOT}/gitdep`.
fn with_git_dep(case: Case) -> Case {
    case.krate(
        "gitdep",
        "gitdep",
        "0.3.0",
        r#"
[dependencies]
inner = { path = "inner" }
"#,
    )
    .krate("gitdep/inner", "inner", "0.1.0", "")
    .git_repo("gitdep")
}

fn shapes() -> Vec<Case> {
    vec![
        // 1. A version-less path dependency on a pre-release, which depends on a
        // path crate and on crates.io.
        Case::new("pre_release_version_less_path_dependency")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
pre = { path = "../pre" }
"#,
            )
            .krate(
                "pre",
                "pre",
                "0.2.0-alpha.1",
                r#"
[dependencies]
deep = { path = "../deep" }
smallvec = "=1.4.1"
"#,
            )
            .leaf("deep"),
        // 2. Two dependencies on packages named smallvec: crates.io's 1.4.1 and a
        // path crate 1.0.0, both renamed.
        Case::new("two_dependencies_on_packages_named_smallvec")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
sv_reg = { package = "smallvec", version = "=1.4.1" }
sv_path = { package = "smallvec", path = "../smallvec" }
"#,
            )
            .krate("smallvec", "smallvec", "1.0.0", ""),
        // 3. `--features dep/feature` on an optional dependency.
        opt_x("feature_of_an_optional_dependency_from_the_command_line")
            .args(&["--features", "opt/x"]),
        opt_x("unknown_dependency_feature_fails_like_cargo")
            .args(&["--features", "nope/zz"])
            .must_fail(),
        opt_x("unknown_feature_fails_like_cargo")
            .args(&["--features", "zz"])
            .must_fail(),
        // 4. cfgs through RUSTFLAGS and .cargo/config.toml; the target from config
        // and from CARGO_BUILD_TARGET.
        flagged("cfg_from_rustflags_env").env("RUSTFLAGS", "--cfg myflag"),
        flagged("cfg_from_config_build_rustflags").file(
            "ws/.cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"myflag\"]\n",
        ),
        flagged("cfg_from_config_target_triple_rustflags").file(
            "ws/.cargo/config.toml",
            "[target.{HOST}]\nrustflags = [\"--cfg\", \"myflag\"]\n",
        ),
        flagged("cfg_from_config_target_cfg_rustflags").file(
            "ws/.cargo/config.toml",
            "[target.'cfg(unix)']\nrustflags = [\"--cfg\", \"myflag\"]\n",
        ),
        targets("target_from_config_build_target")
            .file(
                "ws/.cargo/config.toml",
                "[build]\ntarget = \"x86_64-pc-windows-msvc\"\n",
            )
            .config_target("x86_64-pc-windows-msvc"),
        targets("target_from_cargo_build_target_env")
            .env("CARGO_BUILD_TARGET", "aarch64-apple-darwin"),
        host_flags("rustflags_reach_build_scripts_without_a_target"),
        host_flags("rustflags_skip_build_scripts_when_config_names_the_target")
            .file("ws/.cargo/config.toml", "[build]\ntarget = \"{HOST}\"\n")
            .config_target("{HOST}"),
        host_flags("rustflags_skip_build_scripts_with_an_explicit_target")
            .args(&["--target", "{HOST}"]),
        host_flags("rustflags_skip_build_scripts_when_cargo_build_target_names_the_host")
            .env("CARGO_BUILD_TARGET", "{HOST}"),
        // 5. Resolvers 1, 2 and 3 where they differ.
        unify(
            "resolver_1_unifies_dev_dependency_features",
            "1",
            "dev-dependencies",
        ),
        unify(
            "resolver_2_keeps_dev_dependency_features_out",
            "2",
            "dev-dependencies",
        ),
        unify(
            "resolver_3_keeps_dev_dependency_features_out",
            "3",
            "dev-dependencies",
        ),
        unify(
            "resolver_1_unifies_build_dependency_features",
            "1",
            "build-dependencies",
        )
        .args(&["--target", "{HOST}"]),
        unify(
            "resolver_2_keeps_build_dependency_features_apart",
            "2",
            "build-dependencies",
        )
        .args(&["--target", "{HOST}"]),
        unify(
            "resolver_1_enables_features_of_inactive_target_dependencies",
            "1",
            "target.'cfg(windows)'.dependencies",
        ),
        unify(
            "resolver_2_ignores_features_of_inactive_target_dependencies",
            "2",
            "target.'cfg(windows)'.dependencies",
        ),
        Case::new("resolver_1_refuses_features_of_another_selected_package")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"resolver = "1"

[features]
wsf = []

[workspace]
members = ["b"]
"#,
            )
            .krate(
                "ws/b",
                "b",
                "0.1.0",
                r#"
[dependencies]
extra = { path = "../../extra", optional = true }

[features]
bf = ["dep:extra"]
"#,
            )
            .leaf("extra")
            .args(&["-p", "b", "--features", "bf"])
            .must_fail(),
        Case::new("resolver_1_refuses_features_qualified_by_the_package_itself")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"resolver = "1"

[dependencies]
opt = { path = "../opt", optional = true }

[features]
f = ["dep:opt"]
"#,
            )
            .leaf("opt")
            .args(&["--features", "ws/f"])
            .must_fail(),
        Case::new("resolver_2_takes_features_qualified_by_the_package_itself")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"resolver = "2"

[dependencies]
opt = { path = "../opt", optional = true }

[features]
f = ["dep:opt"]
"#,
            )
            .leaf("opt")
            .args(&["--features", "ws/f"]),
        // 6. Features, optional and renamed dependencies.
        Case::new("optional_dependency_through_a_default_feature")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
opt = { path = "../opt", optional = true }

[features]
default = ["fast"]
fast = ["opt"]
"#,
            )
            .leaf("opt"),
        Case::new("dep_colon_feature")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
opt = { path = "../opt", optional = true }
unused = { path = "../unused", optional = true }

[features]
fast = ["dep:opt"]
slow = ["dep:unused"]
"#,
            )
            .leaf("opt")
            .leaf("unused")
            .args(&["--features", "fast"]),
        weak("weak_feature_without_the_dependency").args(&["--features", "w"]),
        weak("weak_feature_with_the_dependency_enabled").args(&["--features", "w,opt"]),
        Case::new("weak_feature_with_the_dependency_enabled_through_dep_colon")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
opt = { path = "../opt", optional = true }

[features]
w = ["opt?/x"]
both = ["dep:opt"]
"#,
            )
            .krate(
                "opt",
                "opt",
                "0.1.0",
                r#"
[dependencies]
xdep = { path = "../xdep", optional = true }

[features]
x = ["dep:xdep"]
"#,
            )
            .leaf("xdep")
            .args(&["--features", "w both"]),
        Case::new("renamed_dependencies")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
foo2 = { package = "foo", path = "../foo" }
bar3 = { package = "bar", path = "../bar", optional = true }

[features]
default = ["foo2/x"]
b = ["dep:bar3"]
"#,
            )
            .krate(
                "foo",
                "foo",
                "0.1.0",
                r#"
[dependencies]
xdep = { path = "../xdep", optional = true }

[features]
x = ["dep:xdep"]
"#,
            )
            .leaf("bar")
            .leaf("xdep")
            .args(&["--features", "b"]),
        targets("target_specific_dependencies_on_the_host"),
        targets("target_specific_dependencies_on_the_host_named_as_target")
            .args(&["--target", "{HOST}"]),
        targets("target_specific_dependencies_for_x86_64_pc_windows_msvc")
            .args(&["--target", "x86_64-pc-windows-msvc"]),
        targets("target_specific_dependencies_for_aarch64_apple_darwin")
            .args(&["--target", "aarch64-apple-darwin"]),
        build_shared("build_dependency_shared_with_a_normal_one"),
        build_shared("build_dependency_shared_with_a_normal_one_named_target")
            .args(&["--target", "{HOST}"]),
        proc_macro("proc_macro_with_its_own_dependencies"),
        proc_macro("proc_macro_with_its_own_dependencies_named_target")
            .args(&["--target", "{HOST}"]),
        proc_macro("proc_macro_dependencies_follow_the_host_when_cross_compiling")
            .args(&["--target", "x86_64-pc-windows-msvc"]),
        // Workspaces.
        Case::new("members_depending_on_each_other_from_the_root_package")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
a = { path = "a" }

[workspace]
members = ["a", "b", "c"]
"#,
            )
            .krate(
                "ws/a",
                "a",
                "0.1.0",
                r#"
[dependencies]
b = { path = "../b" }
"#,
            )
            .krate("ws/b", "b", "0.1.0", "")
            .krate("ws/c", "c", "0.1.0", ""),
        virtual_ws("virtual_workspace_builds_every_member", false),
        virtual_ws("default_members_from_the_root", true),
        virtual_ws("default_members_from_a_member_directory", true).cwd("ws/a"),
        virtual_ws("package_flag_selects_one_member", false).args(&["-p", "c"]),
        virtual_ws("several_packages_selected", true).args(&[
            "-p",
            "a",
            "-p",
            "c",
            "--features",
            "c/cf",
        ]),
        virtual_ws("all_features_of_a_member", false).args(&["-p", "a", "--all-features"]),
        virtual_ws("member_feature_from_the_virtual_root", false).args(&["--features", "a/af"]),
        virtual_ws("manifest_path_to_a_member", false)
            .cwd(".")
            .args(&["--manifest-path", "{ROOT}/ws/a/Cargo.toml"]),
        Case::new("no_default_features")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
dd = { path = "../dd", optional = true }
oo = { path = "../oo", optional = true }

[features]
default = ["d"]
d = ["dep:dd"]
other = ["dep:oo"]
"#,
            )
            .leaf("dd")
            .leaf("oo")
            .args(&["--no-default-features", "--features", "other"]),
        with_git_dep(Case::new("git_dependency").krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
gitdep = { git = "file://{ROOT}/gitdep", branch = "main" }
"#,
        )),
        Case::new("dependency_without_a_library")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
binonly = { path = "../binonly" }
"#,
            )
            .file(
                "binonly/Cargo.toml",
                r#"[package]
name = "binonly"
version = "0.1.0"
edition = "2021"

[dependencies]
bindep = { path = "../bindep" }
"#,
            )
            .file("binonly/src/main.rs", "fn main() {}\n")
            .leaf("bindep"),
        Case::new("patch_crates_io_with_a_path_crate")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
smallvec = "1.4"

[patch.crates-io]
smallvec = { path = "../smallvec" }
"#,
            )
            .krate(
                "smallvec",
                "smallvec",
                "1.4.99",
                r#"
[dependencies]
patchdep = { path = "../patchdep" }
"#,
            )
            .leaf("patchdep"),
        with_git_dep(Case::new("patch_git_with_a_path_crate").krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
gitdep = { git = "file://{ROOT}/gitdep" }

[patch."file://{ROOT}/gitdep"]
gitdep = { path = "../gitlocal" }
"#,
        ))
        .krate(
            "gitlocal",
            "gitdep",
            "0.3.0",
            r#"
[dependencies]
localonly = { path = "../localonly" }
"#,
        )
        .leaf("localonly"),
        Case::new("dev_only_dependency_is_not_built")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
normal = { path = "../normal" }

[dev-dependencies]
devonly = { path = "../devonly" }
"#,
            )
            .krate(
                "devonly",
                "devonly",
                "0.1.0",
                r#"
[dependencies]
devdeep = { path = "../devdeep" }
"#,
            )
            .leaf("normal")
            .leaf("devdeep"),
        Case::new("feature_enabling_another_members_feature")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
a = { path = "a" }

[features]
f = ["a/feat"]

[workspace]
members = ["a", "b"]
"#,
            )
            .krate(
                "ws/a",
                "a",
                "0.1.0",
                r#"
[dependencies]
b = { path = "../b" }

[features]
feat = ["b/feat"]
"#,
            )
            .krate(
                "ws/b",
                "b",
                "0.1.0",
                r#"
[dependencies]
bx = { path = "../../bx", optional = true }

[features]
feat = ["dep:bx"]
"#,
            )
            .leaf("bx")
            .args(&["--features", "f"]),
        Case::new("build_dependency_without_a_build_script")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[build-dependencies]
bd = { path = "../bd" }
"#,
            )
            .leaf("bd"),
        Case::new("cfg_debug_assertions_and_test_in_a_release_build")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[target.'cfg(debug_assertions)'.dependencies]
dbg = { path = "../dbg" }

[target.'cfg(not(debug_assertions))'.dependencies]
ndbg = { path = "../ndbg" }

[target.'cfg(test)'.dependencies]
tst = { path = "../tst" }
"#,
            )
            .leaf("dbg")
            .leaf("ndbg")
            .leaf("tst"),
        Case::new("optional_build_dependency_through_a_feature")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[build-dependencies]
bopt = { path = "../bopt", optional = true }
bunused = { path = "../bunused", optional = true }

[features]
gen = ["dep:bopt"]
"#,
            )
            .build_rs("ws")
            .leaf("bopt")
            .leaf("bunused")
            .args(&["--features", "gen"]),
        Case::new("default_features_off_unified_with_on")
            .krate(
                "ws",
                "ws",
                "0.1.0",
                r#"
[dependencies]
a = { path = "../a", default-features = false }
b = { path = "../b" }
"#,
            )
            .krate(
                "a",
                "a",
                "0.1.0",
                r#"
[dependencies]
ad = { path = "../ad", optional = true }

[features]
default = ["d"]
d = ["dep:ad"]
"#,
            )
            .krate(
                "b",
                "b",
                "0.1.0",
                r#"
[dependencies]
a = { path = "../a" }
"#,
            )
            .leaf("ad"),
        with_git_dep(Case::new("spdx_lists_the_same_packages").krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
gitdep = { git = "file://{ROOT}/gitdep" }
smallvec = "=1.4.1"
local = { path = "../local" }
"#,
        ))
        .leaf("local")
        .spdx(),
    ]
}

/// `w = ["opt?/x"]`, `opt` optional with its implicit feature.
fn weak(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
opt = { path = "../opt", optional = true }

[features]
w = ["opt?/x"]
"#,
        )
        .krate(
            "opt",
            "opt",
            "0.1.0",
            r#"
[dependencies]
xdep = { path = "../xdep", optional = true }

[features]
x = ["dep:xdep"]
"#,
        )
        .leaf("xdep")
}

/// `common` a normal dependency without its default features and a
/// build-dependency with them and `f`.
fn build_shared(name: &str) -> Case {
    Case::new(name)
        .krate(
            "ws",
            "ws",
            "0.1.0",
            r#"
[dependencies]
common = { path = "../common", default-features = false }

[build-dependencies]
common = { path = "../common", features = ["f"] }
"#,
        )
        .build_rs("ws")
        .krate(
            "common",
            "common",
            "0.1.0",
            r#"
[dependencies]
dd = { path = "../dd", optional = true }
ff = { path = "../ff", optional = true }

[features]
default = ["d"]
d = ["dep:dd"]
f = ["dep:ff"]
"#,
        )
        .leaf("dd")
        .leaf("ff")
}

macro_rules! shape_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_shape(stringify!($name));
            }
        )*
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

shape_tests!(
    pre_release_version_less_path_dependency,
    two_dependencies_on_packages_named_smallvec,
    feature_of_an_optional_dependency_from_the_command_line,
    unknown_dependency_feature_fails_like_cargo,
    unknown_feature_fails_like_cargo,
    cfg_from_rustflags_env,
    cfg_from_config_build_rustflags,
    cfg_from_config_target_triple_rustflags,
    cfg_from_config_target_cfg_rustflags,
    target_from_config_build_target,
    target_from_cargo_build_target_env,
    rustflags_reach_build_scripts_without_a_target,
    rustflags_skip_build_scripts_when_config_names_the_target,
    rustflags_skip_build_scripts_with_an_explicit_target,
    rustflags_skip_build_scripts_when_cargo_build_target_names_the_host,
    resolver_1_unifies_dev_dependency_features,
    resolver_2_keeps_dev_dependency_features_out,
    resolver_3_keeps_dev_dependency_features_out,
    resolver_1_unifies_build_dependency_features,
    resolver_2_keeps_build_dependency_features_apart,
    resolver_1_enables_features_of_inactive_target_dependencies,
    resolver_2_ignores_features_of_inactive_target_dependencies,
    resolver_1_refuses_features_of_another_selected_package,
    resolver_1_refuses_features_qualified_by_the_package_itself,
    resolver_2_takes_features_qualified_by_the_package_itself,
    optional_dependency_through_a_default_feature,
    dep_colon_feature,
    weak_feature_without_the_dependency,
    weak_feature_with_the_dependency_enabled,
    weak_feature_with_the_dependency_enabled_through_dep_colon,
    renamed_dependencies,
    target_specific_dependencies_on_the_host,
    target_specific_dependencies_on_the_host_named_as_target,
    target_specific_dependencies_for_x86_64_pc_windows_msvc,
    target_specific_dependencies_for_aarch64_apple_darwin,
    build_dependency_shared_with_a_normal_one,
    build_dependency_shared_with_a_normal_one_named_target,
    proc_macro_with_its_own_dependencies,
    proc_macro_with_its_own_dependencies_named_target,
    proc_macro_dependencies_follow_the_host_when_cross_compiling,
    members_depending_on_each_other_from_the_root_package,
    virtual_workspace_builds_every_member,
    default_members_from_the_root,
    default_members_from_a_member_directory,
    package_flag_selects_one_member,
    several_packages_selected,
    all_features_of_a_member,
    member_feature_from_the_virtual_root,
    manifest_path_to_a_member,
    no_default_features,
    git_dependency,
    dependency_without_a_library,
    patch_crates_io_with_a_path_crate,
    patch_git_with_a_path_crate,
    dev_only_dependency_is_not_built,
    feature_enabling_another_members_feature,
    build_dependency_without_a_build_script,
    cfg_debug_assertions_and_test_in_a_release_build,
    optional_build_dependency_through_a_feature,
    default_features_off_unified_with_on,
    spdx_lists_the_same_packages,
);

#[test]
fn every_shape_has_a_test_of_its_own() {
    let listed: BTreeSet<String> = shapes().into_iter().map(|c| c.name).collect();
    let tested: BTreeSet<String> = TESTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(listed, tested);
    assert!(listed.len() >= 30, "{} shapes", listed.len());
}

fn check_shape(name: &str) {
    let case = shapes()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"));
    let tmp = TempDir::new().unwrap();
    let started = Instant::now();
    let outcome = run_case(&case, tmp.path(), None);
    eprintln!("oracle shape {name}: {:.2?} in all", started.elapsed());
    match outcome {
        Ok(o) => {
            eprintln!("  {}", o.summary());
            assert!(
                !case.must_fail || o.oracle_failed,
                "shape {name}: cargo accepted a case meant to be refused"
            );
            assert!(
                case.must_fail || !o.oracle_failed,
                "shape {name}: cargo itself refused the fixture:\n{}",
                o.oracle_error
            );
        }
        Err(e) => panic!("shape {name}: {e}\n{}", describe(&case, tmp.path())),
    }
}

// ---------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------

/// A package as the SBOM can tell it: name, version and the purl qualifier naming
/// its source (empty for path crates and crates.io).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pkg {
    name: String,
    version: String,
    source: String,
}

impl std::fmt::Display for Pkg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)?;
        if !self.source.is_empty() {
            write!(f, " [{}]", self.source)?;
        }
        Ok(())
    }
}

const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The purl qualifier for a `cargo metadata` source.
fn source_key(source: Option<&str>) -> String {
    match source {
        None => String::new(),
        Some(s) if CRATES_IO.contains(&s) => String::new(),
        Some(s) => match s.strip_prefix("git+") {
            Some(rest) => {
                let (url, commit) = rest.split_once('#').unwrap_or((rest, ""));
                let url = url.split('?').next().unwrap_or(url);
                if commit.is_empty() {
                    format!("vcs_url=git+{url}")
                } else {
                    format!("vcs_url=git+{url}@{commit}")
                }
            }
            None => {
                let url = s
                    .strip_prefix("registry+")
                    .or_else(|| s.strip_prefix("sparse+"))
                    .unwrap_or(s);
                format!("repository_url={url}")
            }
        },
    }
}

/// One package of `cargo metadata`.
#[derive(Debug, Clone)]
struct Meta {
    pkg: Pkg,
    /// For messages: the path crate's directory, crates.io, or the source.
    origin: String,
    dir: PathBuf,
    source: Option<String>,
    has_lib: bool,
    has_build_script: bool,
    member: bool,
}

#[derive(Debug)]
struct Outcome {
    oracle_failed: bool,
    oracle_error: String,
    sbom_error: String,
    oracle: &'static str,
    packages: usize,
    kinds_checked: bool,
    cargo_time: Duration,
    sbom_time: Duration,
}

impl Outcome {
    fn summary(&self) -> String {
        if self.oracle_failed {
            let first = |s: &str| {
                s.lines()
                    .find(|l| l.contains("error"))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            format!(
                "cargo and sbom both refused it (cargo {:.2?}, sbom {:.2?})\n  cargo: {}\n  sbom:  {}",
                self.cargo_time,
                self.sbom_time,
                first(&self.oracle_error),
                first(&self.sbom_error)
            )
        } else {
            format!(
                "{} packages agree with {}{} (cargo {:.2?}, sbom {:.2?})",
                self.packages,
                self.oracle,
                if self.kinds_checked {
                    ", build/runtime kinds too"
                } else {
                    ""
                },
                self.cargo_time,
                self.sbom_time
            )
        }
    }
}

fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let out = Command::new("rustc").arg("-vV").output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .expect("rustc -vV names the host")
            .to_string()
    })
}

/// Whether the standard library for `triple` is installed (cargo can build for it).
fn std_installed(triple: &str) -> bool {
    static SYSROOT: OnceLock<PathBuf> = OnceLock::new();
    let sysroot = SYSROOT.get_or_init(|| {
        let out = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .unwrap();
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    });
    sysroot
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
}

fn subst(s: &str, root: &Path) -> String {
    s.replace("{ROOT}", &root.display().to_string())
        .replace("{HOST}", host())
}

/// The environment every child gets: nothing of the test's own cargo run that
/// changes a build, then the case's variables.
fn hygiene(c: &mut Command, case: &Case, root: &Path) {
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        c.env_remove(var);
    }
    for (k, v) in &case.env {
        c.env(k, subst(v, root));
    }
}

/// `common::bin_std()`, but a copy of the binary taken once per test process: the
/// target dir is shared, and a build running beside the tests relinks the binary
/// (for a moment it is not there), so every case of a run sees the same engine.
fn sbom_command() -> Command {
    static COPY: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let original = bin_std();
    let (_, copy) = COPY.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        let to = dir.path().join("cargo-secure-release");
        let from = PathBuf::from(original.get_program());
        let mut tries = 0;
        while let Err(e) = std::fs::copy(&from, &to) {
            tries += 1;
            assert!(tries < 60, "copying {}: {e}", from.display());
            std::thread::sleep(Duration::from_secs(1));
        }
        (dir, to)
    });
    let mut c = Command::new(copy);
    for (k, v) in original.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

fn cargo(case: &Case, root: &Path, cwd: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(cwd);
    hygiene(&mut c, case, root);
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The triple the build is for when it names one: `--target`, CARGO_BUILD_TARGET
/// or `build.target`.
fn named_target(case: &Case, root: &Path) -> Option<String> {
    let args: Vec<String> = case.build_args.iter().map(|a| subst(a, root)).collect();
    for (i, a) in args.iter().enumerate() {
        if a == "--target" {
            return args.get(i + 1).cloned();
        }
        if let Some(t) = a.strip_prefix("--target=") {
            return Some(t.to_string());
        }
    }
    case.env
        .iter()
        .find(|(k, _)| k == "CARGO_BUILD_TARGET")
        .map(|(_, v)| subst(v, root))
        .or_else(|| case.config_target.as_deref().map(|t| subst(t, root)))
}

fn write_case(case: &Case, root: &Path) {
    for (path, text) in &case.files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, subst(text, root)).unwrap();
    }
    for repo in &case.git_repos {
        let d = root.join(repo);
        git(&d, &["init", "-q", "-b", "main"]);
        git(&d, &["add", "-A"]);
        git(&d, &["commit", "-qm", "fixture"]);
    }
}

/// Runs cargo and `sbom` on `case`, written into `root`, and compares them. Err:
/// why the SBOM is not what cargo builds.
fn run_case(case: &Case, root: &Path, target_dir: Option<&Path>) -> Result<Outcome, String> {
    write_case(case, root);
    let cwd = root.join(&case.cwd);
    let build_args: Vec<String> = case.build_args.iter().map(|a| subst(a, root)).collect();
    let sbom_args: Vec<String> = case.sbom_args.iter().map(|a| subst(a, root)).collect();
    let target_dir = target_dir.map_or_else(|| root.join("target"), Path::to_path_buf);
    let named = named_target(case, root);
    let cross_without_std = named.as_deref().is_some_and(|t| !std_installed(t));

    let cargo_started = Instant::now();
    // The package ids, first: `cargo metadata` also writes Cargo.lock.
    let mut meta_cmd = cargo(case, root, &cwd);
    meta_cmd.args(["metadata", "--format-version", "1", "--all-features"]);
    if let Some(i) = build_args.iter().position(|a| a == "--manifest-path") {
        meta_cmd.args(&build_args[i..i + 2]);
    }
    let out = meta_cmd.output().unwrap();
    let (stdout, stderr) = text(&out);
    let meta = if out.status.success() {
        let (mut meta, ws_root) = parse_metadata(&stdout, root);
        if cross_without_std {
            // `--all-features` enables the members' features only: a dependency's
            // feature from the command line (`--features dep/feat`) may reach
            // further, so the packages of the case's own features are added.
            let mut c = cargo(case, root, &cwd);
            c.args(["metadata", "--format-version", "1"])
                .args(feature_args(&build_args));
            let out = c.output().unwrap();
            if out.status.success() {
                meta.extend(parse_metadata(&text(&out).0, root).0);
            }
        }
        Ok((meta, read_lock(&ws_root.join("Cargo.lock"))))
    } else {
        Err(format!("cargo metadata failed:\n{stderr}"))
    };
    type Found = (Vec<String>, Option<BTreeSet<String>>);
    let (oracle_name, oracle): (&str, Result<Found, String>) = match &meta {
        Err(e) => ("cargo metadata", Err(e.clone())),
        Ok((meta, _)) if cross_without_std => (
            "cargo tree",
            tree_oracle(case, root, &cwd, &build_args, meta).map(|ids| (ids, None)),
        ),
        Ok(_) => (
            "cargo build",
            build_oracle(case, root, &cwd, &build_args, &target_dir, named.as_deref())
                .map(|(ids, rt)| (ids, Some(rt))),
        ),
    };
    let cargo_time = cargo_started.elapsed();

    let sbom_started = Instant::now();
    let mut sbom = sbom_command();
    sbom.current_dir(&cwd)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("sbom")
        .args(&sbom_args);
    hygiene(&mut sbom, case, root);
    let out = sbom
        .output()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", sbom.get_program()));
    let sbom_time = sbom_started.elapsed();
    let (sbom_out, sbom_err) = text(&out);

    let (ids, runtime_ids) = match oracle {
        Err(why) => {
            // Cargo refuses: so must the SBOM, with an error rather than a panic.
            return match out.status.code() {
                Some(0) => Err(format!(
                    "cargo refuses this build but sbom exits 0.\n--- cargo ({oracle_name}):\n{why}\n--- sbom stdout (start):\n{}",
                    sbom_out.chars().take(1500).collect::<String>()
                )),
                Some(101) | None => Err(format!(
                    "cargo refuses this build and sbom crashes ({:?}).\n--- cargo:\n{why}\n--- sbom stderr:\n{sbom_err}",
                    out.status
                )),
                Some(_) => Ok(Outcome {
                    oracle_failed: true,
                    oracle_error: why,
                    sbom_error: sbom_err,
                    oracle: oracle_name,
                    packages: 0,
                    kinds_checked: false,
                    cargo_time,
                    sbom_time,
                }),
            };
        }
        Ok(x) => x,
    };
    let (meta, lock) = meta.unwrap();
    let resolve = |id: &str| -> Result<(Pkg, String), String> {
        match meta.get(id) {
            Some(m) => Ok((m.pkg.clone(), m.origin.clone())),
            None => pkg_of_id(id, &lock, root),
        }
    };
    if !out.status.success() {
        return Err(format!(
            "cargo builds this ({oracle_name}) but sbom fails ({:?}):\n{sbom_err}",
            out.status
        ));
    }
    let doc: Value = serde_json::from_str(&sbom_out)
        .map_err(|e| format!("sbom printed invalid JSON ({e}):\n{sbom_out}"))?;
    let Listed {
        all: listed,
        runtime: kinds,
        roots,
    } = sbom_packages(&doc, case.format)?;

    let mut expected: BTreeMap<Pkg, usize> = BTreeMap::new();
    let mut origin: BTreeMap<Pkg, BTreeSet<String>> = BTreeMap::new();
    for id in &ids {
        let (pkg, from) = resolve(id)?;
        *expected.entry(pkg.clone()).or_default() += 1;
        origin.entry(pkg).or_default().insert(from);
    }

    let mut report = String::new();
    let show = |p: &Pkg, n: usize| -> String {
        let from = origin
            .get(p)
            .map(|o| o.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let times = if n > 1 {
            format!(" ×{n}")
        } else {
            String::new()
        };
        if from.is_empty() {
            format!("{p}{times}")
        } else {
            format!("{p}{times} ({from})")
        }
    };
    let missing: Vec<String> = expected
        .iter()
        .filter_map(|(p, &n)| {
            let have = listed.get(p).copied().unwrap_or(0);
            (have < n).then(|| show(p, n - have))
        })
        .collect();
    let extra: Vec<String> = listed
        .iter()
        .filter_map(|(p, &n)| {
            let want = expected.get(p).copied().unwrap_or(0);
            (n > want).then(|| show(p, n - want))
        })
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            report,
            "  cargo builds, the SBOM lacks:   {}",
            missing.join("; ")
        );
    }
    if !extra.is_empty() {
        let _ = writeln!(
            report,
            "  the SBOM lists, cargo never builds: {}",
            extra.join("; ")
        );
    }

    // The described packages are the workspace's.
    let members: BTreeSet<&Pkg> = meta.values().filter(|m| m.member).map(|m| &m.pkg).collect();
    let strangers: Vec<String> = roots
        .iter()
        .filter(|r| !members.contains(r))
        .map(Pkg::to_string)
        .collect();
    if !strangers.is_empty() {
        let _ = writeln!(
            report,
            "  the SBOM describes packages outside the workspace: {}",
            strangers.join("; ")
        );
    }

    // What runs on the build machine apart from what ships: cargo tells them apart
    // only when the build names its target. The described packages are what is
    // released, whatever they are (a selected proc-macro is built for the host).
    let mut kinds_checked = false;
    if let (Some(rt), Some(_)) = (&runtime_ids, &named) {
        kinds_checked = true;
        let runtime: BTreeSet<Pkg> = rt
            .iter()
            .map(|id| resolve(id).map(|(p, _)| p))
            .collect::<Result<_, _>>()?;
        let mut wrong = Vec::new();
        for p in expected.keys().filter(|p| !roots.contains(p)) {
            let (Some(&sbom_runtime), true) = (kinds.get(p), listed.contains_key(p)) else {
                continue;
            };
            let cargo_runtime = runtime.contains(p);
            if sbom_runtime != cargo_runtime {
                let word = |r: bool| if r { "runtime" } else { "build" };
                wrong.push(format!(
                    "{p}: cargo {}, SBOM {}",
                    word(cargo_runtime),
                    word(sbom_runtime)
                ));
            }
        }
        if !wrong.is_empty() {
            let _ = writeln!(
                report,
                "  cargo:dependency-kind disagrees: {}",
                wrong.join("; ")
            );
        }
    }

    if !report.is_empty() {
        let list = |m: &BTreeMap<Pkg, usize>| {
            m.iter()
                .map(|(p, n)| {
                    if *n > 1 {
                        format!("{p} ×{n}")
                    } else {
                        p.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "the SBOM is not what cargo builds ({oracle_name}, args {build_args:?}, env {:?}):\n{report}  cargo: {}\n  sbom:  {}",
            case.env,
            list(&expected),
            list(&listed)
        ));
    }
    Ok(Outcome {
        oracle_failed: false,
        oracle_error: String::new(),
        sbom_error: String::new(),
        oracle: oracle_name,
        packages: ids.len(),
        kinds_checked,
        cargo_time,
        sbom_time,
    })
}

/// The feature flags among a build's arguments.
fn feature_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--features" | "-F" => {
                out.push(a.clone());
                out.extend(it.next().cloned());
            }
            "--all-features" | "--no-default-features" => out.push(a.clone()),
            _ if a.starts_with("--features=") => out.push(a.clone()),
            _ => {}
        }
    }
    out
}

/// Cargo.lock's packages: (name, version, source).
fn read_lock(path: &Path) -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let value = |block: &str, key: &str| {
        block.lines().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|r| r.trim().strip_prefix('='))
                .map(|r| r.trim().trim_matches('"').to_string())
        })
    };
    text.split("[[package]]")
        .skip(1)
        .filter_map(|b| {
            Some((
                value(b, "name ")?,
                value(b, "version ")?,
                value(b, "source "),
            ))
        })
        .collect()
}

/// A package id cargo metadata does not list (a dependency's feature enabled from
/// the command line reaches past `--all-features`) from the id itself, the commit
/// of a git source from Cargo.lock.
fn pkg_of_id(
    id: &str,
    lock: &[(String, String, Option<String>)],
    root: &Path,
) -> Result<(Pkg, String), String> {
    let bad = || format!("cannot read the package id `{id}`");
    let (url, frag) = id.rsplit_once('#').ok_or_else(bad)?;
    let bare = url.split('?').next().unwrap_or(url);
    let (name, version) = match frag.split_once('@') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => (
            bare.rsplit('/').next().ok_or_else(bad)?.to_string(),
            frag.to_string(),
        ),
    };
    let root_text = root.display().to_string();
    let (source, origin) = if let Some(path) = url.strip_prefix("path+file://") {
        (
            String::new(),
            format!("path {}", path.replacen(&root_text, "{ROOT}", 1)),
        )
    } else if url.starts_with("git+") {
        let full = lock
            .iter()
            .find(|(n, v, s)| {
                *n == name && *v == version && s.as_deref().is_some_and(|s| s.starts_with(bare))
            })
            .and_then(|(_, _, s)| s.clone())
            .ok_or_else(|| format!("{}: not in Cargo.lock", bad()))?;
        (
            source_key(Some(&full)),
            full.replacen(&root_text, "{ROOT}", 1),
        )
    } else if CRATES_IO.contains(&url) {
        (String::new(), "crates.io".into())
    } else {
        (source_key(Some(url)), url.to_string())
    };
    Ok((
        Pkg {
            name,
            version,
            source,
        },
        origin,
    ))
}

fn parse_metadata(stdout: &str, root: &Path) -> (BTreeMap<String, Meta>, PathBuf) {
    let v: Value = serde_json::from_str(stdout).expect("cargo metadata prints JSON");
    let ws_root = PathBuf::from(v["workspace_root"].as_str().unwrap());
    let root_text = root.display().to_string();
    let members: BTreeSet<&str> = v["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut out = BTreeMap::new();
    for p in v["packages"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap().to_string();
        let source = p["source"].as_str().map(str::to_string);
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
        let dir = manifest.parent().unwrap().to_path_buf();
        let kinds: Vec<&str> = p["targets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["kind"].as_array().unwrap().iter())
            .filter_map(Value::as_str)
            .collect();
        let origin = match &source {
            None => format!(
                "path {}",
                dir.display().to_string().replacen(&root_text, "{ROOT}", 1)
            ),
            Some(s) if CRATES_IO.contains(&s.as_str()) => "crates.io".into(),
            Some(s) => s.replacen(&root_text, "{ROOT}", 1),
        };
        out.insert(
            id,
            Meta {
                pkg: Pkg {
                    name: p["name"].as_str().unwrap().to_string(),
                    version: p["version"].as_str().unwrap().to_string(),
                    source: source_key(source.as_deref()),
                },
                origin,
                dir,
                source,
                has_lib: kinds
                    .iter()
                    .any(|k| matches!(*k, "lib" | "rlib" | "dylib" | "proc-macro")),
                has_build_script: kinds.contains(&"custom-build"),
                member: members.contains(p["id"].as_str().unwrap()),
            },
        );
    }
    (out, ws_root)
}

/// `cargo build --release --message-format=json`: the package id of every
/// compiled unit, and those compiled for the named target (not build scripts, not
/// proc-macros): what ships.
fn build_oracle(
    case: &Case,
    root: &Path,
    cwd: &Path,
    args: &[String],
    target_dir: &Path,
    named: Option<&str>,
) -> Result<(Vec<String>, BTreeSet<String>), String> {
    let out = cargo(case, root, cwd)
        .args(["build", "--release", "--message-format=json"])
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    if !out.status.success() {
        assert!(
            !stderr.contains("may not be installed"),
            "the oracle chose cargo build for a target without its std:\n{stderr}"
        );
        return Err(format!("cargo build failed:\n{stderr}"));
    }
    let target_root = named.map(|t| target_dir.join(t));
    let mut ids = BTreeSet::new();
    let mut runtime = BTreeSet::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let id = msg["package_id"].as_str().unwrap().to_string();
        let kinds: Vec<&str> = msg["target"]["kind"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let host_only = kinds.contains(&"custom-build") || kinds.contains(&"proc-macro");
        let for_target = target_root.as_ref().is_some_and(|t| {
            msg["filenames"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .any(|f| Path::new(f).starts_with(t))
        });
        if for_target && !host_only {
            runtime.insert(id.clone());
        }
        ids.insert(id);
    }
    Ok((ids.into_iter().collect(), runtime))
}

/// `cargo tree -e normal,build` for a target cargo cannot build here: every
/// package of the tree, less the subtrees cargo would not build (a dependency
/// without a library; the build-dependencies of a package without a build script).
fn tree_oracle(
    case: &Case,
    root: &Path,
    cwd: &Path,
    args: &[String],
    meta: &BTreeMap<String, Meta>,
) -> Result<Vec<String>, String> {
    let out = cargo(case, root, cwd)
        .args([
            "tree",
            "-e",
            "normal,build",
            "--no-dedupe",
            "--charset",
            "ascii",
            "--format",
            "{p}",
        ])
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    if !out.status.success() {
        return Err(format!("cargo tree failed:\n{stderr}"));
    }
    parse_tree(&stdout, meta)
}

fn parse_tree(stdout: &str, meta: &BTreeMap<String, Meta>) -> Result<Vec<String>, String> {
    let mut ids = BTreeSet::new();
    // Per depth: the node there (is it built, has it a build script) and whether
    // its children listed now are its build-dependencies.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut in_build: Vec<bool> = Vec::new();
    for line in stdout.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let col = line
            .find(|c: char| !matches!(c, '|' | '`' | '-' | ' '))
            .unwrap_or(line.len());
        let rest = &line[col..];
        let depth = col / 4;
        if rest.starts_with('[') {
            // A heading of the node at `depth`: its next children are of this kind.
            in_build.truncate(depth + 1);
            if in_build.len() == depth + 1 {
                in_build[depth] = rest.starts_with("[build-dependencies]");
            }
            continue;
        }
        let id = tree_line_id(rest, meta)?;
        let m = &meta[&id];
        stack.truncate(depth);
        in_build.truncate(depth);
        let built = match depth {
            0 => true,
            d => {
                let (parent_built, parent_script) = stack[d - 1];
                // A build-dependency is built only for a build script.
                let wanted = !in_build[d - 1] || parent_script;
                parent_built && m.has_lib && wanted
            }
        };
        if built {
            ids.insert(id);
        }
        stack.push((built, m.has_build_script));
        in_build.push(false);
    }
    Ok(ids.into_iter().collect())
}

/// `name vVERSION [(proc-macro)] [(SOURCE)] [(*)]` to its package id.
fn tree_line_id(line: &str, meta: &BTreeMap<String, Meta>) -> Result<String, String> {
    let bad = || format!("cannot read the cargo tree line `{line}`");
    let (name, rest) = line.split_once(' ').ok_or_else(bad)?;
    let rest = rest.strip_prefix('v').ok_or_else(bad)?;
    let (version, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let rest = rest
        .trim()
        .trim_end_matches("(*)")
        .trim()
        .trim_start_matches("(proc-macro)")
        .trim();
    let source = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
    let candidates: Vec<(&String, &Meta)> = meta
        .iter()
        .filter(|(_, m)| m.pkg.name == name && m.pkg.version == version)
        .collect();
    if candidates.len() == 1 {
        return Ok(candidates[0].0.clone());
    }
    let fits = |m: &Meta| match source {
        None => m.source.as_deref().is_some_and(|s| CRATES_IO.contains(&s)),
        Some(s) if s.starts_with('/') => m.source.is_none() && m.dir == Path::new(s),
        Some(s) => {
            let (url, short) = s.split_once('#').unwrap_or((s, ""));
            m.source.as_deref().is_some_and(|src| {
                src.contains(url) && src.rsplit('#').next().is_some_and(|c| c.starts_with(short))
            })
        }
    };
    let fitting: Vec<&String> = candidates
        .iter()
        .filter(|(_, m)| fits(m))
        .map(|(id, _)| *id)
        .collect();
    match fitting.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(format!("{}: {} candidates", bad(), fitting.len())),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `pkg:cargo/NAME@VERSION?QUALIFIERS` as a package; only `vcs_url` and
/// `repository_url` name a source.
fn parse_purl(purl: &str) -> Result<Pkg, String> {
    let rest = purl
        .strip_prefix("pkg:cargo/")
        .ok_or_else(|| format!("`{purl}` is not a cargo purl"))?;
    let (nv, quals) = rest.split_once('?').unwrap_or((rest, ""));
    let (name, version) = nv
        .rsplit_once('@')
        .ok_or_else(|| format!("`{purl}` has no version"))?;
    let mut source: Vec<String> = quals
        .split('&')
        .filter(|q| !q.is_empty())
        .filter_map(|q| q.split_once('='))
        .filter(|(k, _)| matches!(*k, "vcs_url" | "repository_url"))
        .map(|(k, v)| format!("{k}={}", percent_decode(v)))
        .collect();
    source.sort();
    Ok(Pkg {
        name: percent_decode(name),
        version: percent_decode(version),
        source: source.join("&"),
    })
}

struct Listed {
    /// Every package, how many times.
    all: BTreeMap<Pkg, usize>,
    /// Per package: runtime (`cargo:dependency-kind`), CycloneDX only.
    runtime: BTreeMap<Pkg, bool>,
    /// The described packages (the selected ones).
    roots: BTreeSet<Pkg>,
}

/// The SBOM's packages: CycloneDX's `metadata.component` and `components` (the
/// other selected packages among them as `application`s), SPDX's `packages` (the
/// selected ones `APPLICATION`s).
fn sbom_packages(doc: &Value, format: Format) -> Result<Listed, String> {
    let mut listed: BTreeMap<Pkg, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<Pkg, bool> = BTreeMap::new();
    let mut roots: BTreeSet<Pkg> = BTreeSet::new();
    let items: Vec<(&Value, &str, &str, &str)> = match format {
        Format::CycloneDx => {
            let mut all: Vec<&Value> = Vec::new();
            if doc["metadata"]["component"].is_object() {
                all.push(&doc["metadata"]["component"]);
            }
            all.extend(
                doc["components"]
                    .as_array()
                    .ok_or("the CycloneDX document has no components array")?,
            );
            all.into_iter()
                .map(|c| {
                    (
                        c,
                        c["purl"].as_str().unwrap_or(""),
                        c["name"].as_str().unwrap_or(""),
                        c["version"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        }
        Format::Spdx => doc["packages"]
            .as_array()
            .ok_or("the SPDX document has no packages array")?
            .iter()
            .map(|p| {
                let purl = p["externalRefs"]
                    .as_array()
                    .and_then(|refs| refs.iter().find(|r| r["referenceType"] == "purl"))
                    .and_then(|r| r["referenceLocator"].as_str())
                    .unwrap_or("");
                (
                    p,
                    purl,
                    p["name"].as_str().unwrap_or(""),
                    p["versionInfo"].as_str().unwrap_or(""),
                )
            })
            .collect(),
    };
    for (item, purl, name, version) in items {
        let pkg = parse_purl(purl)?;
        if pkg.name != name || pkg.version != version {
            return Err(format!(
                "a package's name/version ({name} {version}) disagree with its purl {purl}"
            ));
        }
        *listed.entry(pkg.clone()).or_default() += 1;
        if item["type"] == "application" || item["primaryPackagePurpose"] == "APPLICATION" {
            roots.insert(pkg.clone());
        }
        if format == Format::CycloneDx {
            let runtime = item["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "cargo:dependency-kind")
                .map(|p| p["value"] != "build")
                .unwrap_or(true);
            *kinds.entry(pkg).or_default() |= runtime;
        }
    }
    Ok(Listed {
        all: listed,
        runtime: kinds,
        roots,
    })
}

/// The case as files and commands, to reproduce it by hand.
fn describe(case: &Case, root: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "--- workspace (in {}):", root.display());
    for (path, text) in &case.files {
        let _ = writeln!(s, "=== {path}\n{}", text.trim_end());
    }
    if !case.git_repos.is_empty() {
        let _ = writeln!(s, "git repositories: {:?}", case.git_repos);
    }
    let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        s,
        "--- in {}: {} cargo build --release {}\n--- sbom {}",
        case.cwd,
        env.join(" "),
        case.build_args.join(" "),
        case.sbom_args.join(" ")
    );
    s
}

// ---------------------------------------------------------------------------
// Random workspaces
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GDep {
    to: usize,
    /// 0 normal, 1 build, 2 dev.
    kind: u8,
    optional: bool,
    rename: bool,
    /// 0 none, 1 cfg(windows), 2 cfg(unix).
    cfg: u8,
    features: Vec<usize>,
    default_features: bool,
    /// Enabled by features as `dep:NAME` (else by its implicit feature).
    dep_syntax: bool,
}

#[derive(Debug, Clone)]
struct GCrate {
    nfeat: usize,
    /// Per feature: (kind, a, b) raw, made valid by `render`.
    feats: Vec<Vec<(u8, usize, usize)>>,
    default: Vec<usize>,
    deps: Vec<GDep>,
    member: bool,
    proc_macro: bool,
}

#[derive(Debug, Clone)]
struct GWs {
    crates: Vec<GCrate>,
    virtual_ws: bool,
    resolver: u8,
    select: Vec<usize>,
    /// (crate, feature, qualified as `crate/feature`).
    /// (crate, feature, how: 0 `feature`, 1 `crate/feature`, 2 `dependency/feature`
    /// of one of the crate's dependencies).
    features: Vec<(usize, usize, u8)>,
    all_features: bool,
    no_default: bool,
    /// 0 the host, implicitly; 1 `--target HOST`; 2 `--target x86_64-pc-windows-msvc`.
    target: u8,
}

fn arb_dep() -> impl Strategy<Value = GDep> {
    (
        0usize..8,
        prop_oneof![6 => Just(0u8), 2 => Just(1u8), 2 => Just(2u8)],
        prop::bool::weighted(0.4),
        prop::bool::weighted(0.25),
        prop_oneof![6 => Just(0u8), 2 => Just(1u8), 2 => Just(2u8)],
        prop::collection::vec(0usize..4, 0..3),
        prop::bool::weighted(0.8),
        any::<bool>(),
    )
        .prop_map(
            |(to, kind, optional, rename, cfg, features, default_features, dep_syntax)| GDep {
                to,
                kind,
                optional,
                rename,
                cfg,
                features,
                default_features,
                dep_syntax,
            },
        )
}

fn arb_crate() -> impl Strategy<Value = GCrate> {
    (
        0usize..4,
        prop::collection::vec(
            prop::collection::vec((0u8..4, 0usize..8, 0usize..4), 0..3),
            3,
        ),
        prop::collection::vec(0usize..4, 0..2),
        prop::collection::vec(arb_dep(), 0..4),
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(nfeat, feats, default, deps, member, proc_macro)| GCrate {
            nfeat,
            feats,
            default,
            deps,
            member,
            proc_macro,
        })
}

fn arb_ws() -> impl Strategy<Value = GWs> {
    (
        prop::collection::vec(arb_crate(), 2..=6),
        any::<bool>(),
        prop_oneof![2 => Just(1u8), 3 => Just(2u8), 1 => Just(3u8)],
        prop::collection::vec(0usize..6, 0..3),
        prop::collection::vec((0usize..6, 0usize..4, 0u8..3), 0..3),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
        prop_oneof![6 => Just(0u8), 2 => Just(1u8), 2 => Just(2u8)],
    )
        .prop_map(
            |(crates, virtual_ws, resolver, select, features, all_features, no_default, target)| {
                GWs {
                    crates,
                    virtual_ws,
                    resolver,
                    select,
                    features,
                    all_features,
                    no_default,
                    target,
                }
            },
        )
}

/// One dependency edge after normalising: at most one per (from, to, kind).
struct Edge {
    to: usize,
    kind: u8,
    optional: bool,
    cfg: u8,
    features: Vec<usize>,
    default_features: bool,
}

/// The generated workspace as files and arguments: crates `c0`…, path crates,
/// members in `ws/` (c0 the root package unless the workspace is virtual), the
/// others in `ext/`; the edges only from a crate to a later one (a DAG).
fn render(g: &GWs) -> Case {
    let n = g.crates.len();
    let member = |i: usize| i == 0 || g.crates[i].member;
    let dir = |i: usize| -> String {
        if i == 0 && !g.virtual_ws {
            "ws".into()
        } else if member(i) {
            format!("ws/c{i}")
        } else {
            format!("ext/c{i}")
        }
    };
    let nfeat = |i: usize| {
        if g.crates[i].proc_macro {
            0
        } else {
            g.crates[i].nfeat
        }
    };
    let mut case = Case::new("random");
    let mut members: Vec<usize> = Vec::new();
    // Per crate: its dependencies whose features it can name, (key, crate).
    let mut dep_features: Vec<Vec<(String, usize)>> = Vec::new();
    for (i, c) in g.crates.iter().enumerate() {
        if member(i) {
            members.push(i);
        }
        // Normalise the edges.
        let mut edges: Vec<Edge> = Vec::new();
        let mut renamed: BTreeMap<usize, bool> = BTreeMap::new();
        let mut dep_syntax: BTreeMap<usize, bool> = BTreeMap::new();
        {
            for d in &c.deps {
                // Dev-dependencies on any other crate (a cycle is allowed through
                // them), the others on a later one.
                let to = if d.kind == 2 {
                    (i + 1 + d.to % (n - 1)) % n
                } else if i + 1 < n {
                    i + 1 + d.to % (n - i - 1)
                } else {
                    continue;
                };
                if edges.iter().any(|e| e.to == to && e.kind == d.kind) {
                    continue;
                }
                renamed.entry(to).or_insert(d.rename);
                let optional = d.optional && d.kind != 2;
                if optional {
                    dep_syntax.entry(to).or_insert(d.dep_syntax);
                }
                let features = if nfeat(to) == 0 {
                    Vec::new()
                } else {
                    let mut f: Vec<usize> = d.features.iter().map(|x| x % nfeat(to)).collect();
                    f.sort();
                    f.dedup();
                    f
                };
                edges.push(Edge {
                    to,
                    kind: d.kind,
                    optional,
                    cfg: d.cfg,
                    features,
                    default_features: d.default_features,
                });
            }
        }
        let key = |to: usize| {
            if renamed[&to] {
                format!("r{to}")
            } else {
                format!("c{to}")
            }
        };
        // Features: earlier features, optional dependencies, dependencies'
        // features (weak ones on optional dependencies).
        let k = nfeat(i);
        let optional: Vec<usize> = {
            let mut o: Vec<usize> = edges.iter().filter(|e| e.optional).map(|e| e.to).collect();
            o.sort();
            o.dedup();
            o
        };
        let mut with_features: Vec<usize> = edges
            .iter()
            .filter(|e| e.kind != 2 && nfeat(e.to) > 0)
            .map(|e| e.to)
            .collect();
        with_features.sort();
        with_features.dedup();
        // A dependency that is dev-only cannot have its features enabled.
        with_features.retain(|to| edges.iter().any(|e| e.to == *to && e.kind != 2));
        let optional_with_features: Vec<usize> = optional
            .iter()
            .copied()
            .filter(|to| nfeat(*to) > 0)
            .collect();
        let mut features_toml = String::new();
        if k > 0 {
            features_toml.push_str("\n[features]\n");
            let mut default: Vec<usize> = c.default.iter().map(|d| d % k).collect();
            default.sort();
            default.dedup();
            if !default.is_empty() {
                let _ = writeln!(
                    features_toml,
                    "default = [{}]",
                    default
                        .iter()
                        .map(|d| format!("\"f{d}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for (fi, items) in c.feats.iter().take(k).enumerate() {
                let mut out: Vec<String> = Vec::new();
                for &(t, a, b) in items {
                    let item = match t {
                        0 if fi > 0 => Some(format!("f{}", a % fi)),
                        1 if !optional.is_empty() => {
                            let to = optional[a % optional.len()];
                            Some(if dep_syntax[&to] {
                                format!("dep:{}", key(to))
                            } else {
                                key(to)
                            })
                        }
                        2 if !with_features.is_empty() => {
                            let to = with_features[a % with_features.len()];
                            Some(format!("{}/f{}", key(to), b % nfeat(to)))
                        }
                        3 if !optional_with_features.is_empty() => {
                            let to = optional_with_features[a % optional_with_features.len()];
                            Some(format!("{}?/f{}", key(to), b % nfeat(to)))
                        }
                        _ => None,
                    };
                    if let Some(item) = item {
                        if !out.contains(&item) {
                            out.push(item);
                        }
                    }
                }
                let _ = writeln!(
                    features_toml,
                    "f{fi} = [{}]",
                    out.iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        // Dependency tables, grouped by (cfg, kind).
        let mut tables: BTreeMap<(u8, u8), Vec<String>> = BTreeMap::new();
        for e in &edges {
            let mut spec = format!("path = \"{{ROOT}}/{}\"", dir(e.to));
            if renamed[&e.to] {
                spec = format!("package = \"c{}\", {spec}", e.to);
            }
            if e.optional {
                spec.push_str(", optional = true");
            }
            if !e.default_features {
                spec.push_str(", default-features = false");
            }
            if !e.features.is_empty() {
                let _ = write!(
                    spec,
                    ", features = [{}]",
                    e.features
                        .iter()
                        .map(|f| format!("\"f{f}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            tables
                .entry((e.cfg, e.kind))
                .or_default()
                .push(format!("{} = {{ {spec} }}", key(e.to)));
        }
        let mut manifest =
            format!("[package]\nname = \"c{i}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        if c.proc_macro && i > 0 {
            manifest.push_str("\n[lib]\nproc-macro = true\n");
        }
        for ((cfg, kind), lines) in &tables {
            let kind = ["dependencies", "build-dependencies", "dev-dependencies"][*kind as usize];
            let table = match cfg {
                1 => format!("target.'cfg(windows)'.{kind}"),
                2 => format!("target.'cfg(unix)'.{kind}"),
                _ => kind.to_string(),
            };
            let _ = writeln!(manifest, "\n[{table}]\n{}", lines.join("\n"));
        }
        manifest.push_str(&features_toml);
        let d = dir(i);
        case = case.file(&format!("{d}/Cargo.toml"), &manifest);
        let proc_macro = c.proc_macro && i > 0;
        case = case.file(
            &format!("{d}/src/lib.rs"),
            if proc_macro { "" } else { LIB },
        );
        // A build script wherever there are build-dependencies, or cargo builds
        // none of them (`build_dependency_without_a_build_script` has that case).
        if edges.iter().any(|e| e.kind == 1) {
            case = case.build_rs(&d);
        }
        dep_features.push(with_features.iter().map(|&to| (key(to), to)).collect());
    }
    let member_dirs: Vec<String> = members
        .iter()
        .filter(|&&i| i != 0 || g.virtual_ws)
        .map(|&i| format!("\"c{i}\""))
        .collect();
    let workspace = format!(
        "\n[workspace]\nmembers = [{}]\nresolver = \"{}\"\n",
        member_dirs.join(", "),
        g.resolver
    );
    if g.virtual_ws {
        case = case.file("ws/Cargo.toml", workspace.trim_start());
    } else {
        let m = case
            .files
            .iter_mut()
            .find(|(p, _)| p == "ws/Cargo.toml")
            .unwrap();
        m.1.push_str(&workspace);
    }

    // The command line.
    let mut args: Vec<String> = Vec::new();
    let mut selected: Vec<usize> = g
        .select
        .iter()
        .map(|s| members[s % members.len()])
        .collect();
    selected.sort();
    selected.dedup();
    for s in &selected {
        args.extend(["-p".to_string(), format!("c{s}")]);
    }
    let feature_crates: Vec<usize> = if !selected.is_empty() {
        selected.clone()
    } else if g.virtual_ws {
        members.clone()
    } else {
        vec![0]
    };
    let mut features: Vec<String> = Vec::new();
    for &(c, f, how) in &g.features {
        let c = feature_crates[c % feature_crates.len()];
        let item = match how {
            2 if !dep_features[c].is_empty() => {
                let (key, to) = &dep_features[c][f % dep_features[c].len()];
                format!("{key}/f{}", f % nfeat(*to))
            }
            _ if nfeat(c) == 0 => continue,
            1 => format!("c{c}/f{}", f % nfeat(c)),
            _ => format!("f{}", f % nfeat(c)),
        };
        if !features.contains(&item) {
            features.push(item);
        }
    }
    if !features.is_empty() {
        args.extend(["--features".to_string(), features.join(",")]);
    }
    if g.all_features {
        args.push("--all-features".into());
    }
    if g.no_default {
        args.push("--no-default-features".into());
    }
    match g.target {
        1 => args.extend(["--target".to_string(), "{HOST}".to_string()]),
        2 => args.extend(["--target".to_string(), "x86_64-pc-windows-msvc".to_string()]),
        _ => {}
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    case.args(&refs)
}

fn env_number(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Random workspaces of path crates: features, optional, renamed, target-specific,
/// build- and dev-dependencies, proc-macros, resolvers 1–3, member selection,
/// `--target`. CSR_ORACLE_CASES cases (200), CSR_ORACLE_SHRINK_ITERS shrink steps
/// (64), CSR_ORACLE_SEED to replay a run; CSR_ORACLE_TARGET_DIR=per-case gives
/// every case a fresh target dir instead of one shared by all.
#[test]
fn random_workspaces_are_built_as_the_sbom_says() {
    let cases = env_number("CSR_ORACLE_CASES", 200);
    let shrink = env_number("CSR_ORACLE_SHRINK_ITERS", 64);
    let seed: u64 = std::env::var("CSR_ORACLE_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let per_case = std::env::var("CSR_ORACLE_TARGET_DIR").is_ok_and(|v| v == "per-case");
    let shared = TempDir::new().unwrap();
    let mut seed_bytes = [0u8; 32];
    for (i, b) in seed_bytes.iter_mut().enumerate() {
        *b = (seed >> ((i % 8) * 8)) as u8;
    }
    let config = Config {
        cases,
        max_shrink_iters: shrink,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let started = Instant::now();
    let runs = Cell::new(0u32);
    let refused = Cell::new(0u32);
    let cross = Cell::new(0u32);
    let packages = Cell::new(0usize);
    let most = Cell::new(0usize);
    let cargo_time = Cell::new(Duration::ZERO);
    let sbom_time = Cell::new(Duration::ZERO);
    let result = runner.run(&arb_ws(), |g| {
        let case = render(&g);
        let tmp = TempDir::new().unwrap();
        let target = (!per_case).then(|| shared.path());
        runs.set(runs.get() + 1);
        match run_case(&case, tmp.path(), target) {
            Ok(o) => {
                if o.oracle_failed {
                    refused.set(refused.get() + 1);
                }
                if o.oracle == "cargo tree" {
                    cross.set(cross.get() + 1);
                }
                packages.set(packages.get() + o.packages);
                most.set(most.get().max(o.packages));
                cargo_time.set(cargo_time.get() + o.cargo_time);
                sbom_time.set(sbom_time.get() + o.sbom_time);
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(format!(
                "{e}\n{}",
                describe(&case, tmp.path())
            ))),
        }
    });
    eprintln!(
        "oracle proptest: seed {seed}, {} workspaces run (of {cases} cases asked; shrinking counts too), {} refused by cargo and sbom alike, {} checked with cargo tree, {} packages compared (at most {} in one); {:.1?} in all (passing runs: cargo {:.1?}, sbom {:.1?}); target dir {}",
        runs.get(),
        refused.get(),
        cross.get(),
        packages.get(),
        most.get(),
        started.elapsed(),
        cargo_time.get(),
        sbom_time.get(),
        if per_case { "per case" } else { "shared" }
    );
    match result {
        Ok(()) => {
            assert!(
                refused.get() * 2 <= cases,
                "the generator makes mostly workspaces cargo refuses: {} of {cases}",
                refused.get()
            );
        }
        Err(TestError::Fail(why, g)) => panic!(
            "seed {seed} (CSR_ORACLE_SEED={seed} replays it): the minimal failing workspace after {} runs: {why}\n{g:?}",
            runs.get()
        ),
        Err(TestError::Abort(why)) => panic!("seed {seed}: aborted: {why}"),
    }
}

// ---------------------------------------------------------------------------
// The second oracle: what `cargo auditable` embeds
// ---------------------------------------------------------------------------

/// Every host shape whose current directory is a package, made a binary and built
/// with `cargo auditable build --release` (cargo-auditable's own resolution, read
/// back with auditable-info): the SBOM of that build lists the same packages, name
/// and version, as the list embedded in the binary.
#[test]
fn auditable_builds_embed_what_the_sbom_lists() {
    let mut compared = 0;
    let mut differ: Vec<String> = Vec::new();
    for case in shapes() {
        let host_build = !case.must_fail
            && case.config_target.is_none()
            && case.format == Format::CycloneDx
            && !case
                .build_args
                .iter()
                .chain(&case.sbom_args)
                .any(|a| a.starts_with("--target") || a == "-p" || a == "--package")
            && !case.env.iter().any(|(k, _)| k.contains("TARGET"));
        let manifest = format!("{}/Cargo.toml", case.cwd);
        let Some(name) = case
            .files
            .iter()
            .find(|(p, _)| *p == manifest)
            .and_then(|(_, t)| {
                let package = t.split("[package]").nth(1)?;
                let line = package
                    .lines()
                    .find(|l| l.trim_start().starts_with("name"))?;
                Some(line.split('"').nth(1)?.to_string())
            })
        else {
            continue;
        };
        if !host_build {
            continue;
        }
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        let main = format!("{}/src/main.rs", case.cwd);
        let case = case.file(&main, "fn main() {}\n");
        write_case(&case, root);
        let cwd = root.join(&case.cwd);
        let target = root.join("target");
        let mut build = Command::new("cargo");
        hygiene(&mut build, &case, root);
        build
            .args(["auditable", "build", "--release", "--quiet"])
            .args(case.build_args.iter().map(|a| subst(a, root)))
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(&cwd);
        let out = build
            .output()
            .expect("cargo auditable (`cargo xtask test` installs it)");
        assert!(
            out.status.success(),
            "{}: cargo auditable build: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let info = auditable_info::audit_info_from_file(
            &target.join("release").join(&name),
            Default::default(),
        )
        .unwrap_or_else(|e| panic!("{}: reading the embedded list: {e}", case.name));
        let embedded: BTreeSet<(String, String)> = info
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.to_string()))
            .collect();
        let mut sbom = sbom_command();
        hygiene(&mut sbom, &case, root);
        sbom.arg("sbom")
            .args(case.sbom_args.iter().map(|a| subst(a, root)))
            .current_dir(&cwd);
        let out = sbom.output().unwrap();
        assert!(
            out.status.success(),
            "{}: sbom: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let listed: BTreeSet<(String, String)> = std::iter::once(&doc["metadata"]["component"])
            .chain(doc["components"].as_array().unwrap())
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["version"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if listed != embedded {
            differ.push(format!(
                "{}: the SBOM alone: {:?}; cargo auditable alone: {:?}",
                case.name,
                listed.difference(&embedded).collect::<Vec<_>>(),
                embedded.difference(&listed).collect::<Vec<_>>()
            ));
        }
        compared += 1;
    }
    // cargo-auditable resolves from `cargo metadata`'s dependency-resolver features
    // (resolver 1's unification whatever the workspace says, every platform, build-
    // dependencies without a build script) and misses a `--features dep/feat`: in
    // these shapes its list is not what cargo builds, and each shape's own test
    // shows the SBOM is (cargo build --message-format=json agrees with it). Any other
    // difference fails.
    let known = [
        "feature_of_an_optional_dependency_from_the_command_line",
        "resolver_2_keeps_dev_dependency_features_out",
        "resolver_3_keeps_dev_dependency_features_out",
        "resolver_2_ignores_features_of_inactive_target_dependencies",
        "weak_feature_without_the_dependency",
        "target_specific_dependencies_on_the_host",
        "build_dependency_without_a_build_script",
    ];
    let unexplained: Vec<&String> = differ
        .iter()
        .filter(|d| !known.iter().any(|k| d.starts_with(&format!("{k}:"))))
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:#?}");
    assert_eq!(
        differ.len(),
        known.len(),
        "a known difference is gone: {differ:#?}"
    );
    // The filter must leave most shapes in, or this proves little.
    eprintln!("{compared} shapes built with cargo auditable");
    assert!(compared >= 20, "only {compared} shapes compared");
}
