//! Every parser we own, on arbitrary input: it answers (a value or an error), it never
//! panics. And a profile written in any TOML shape Cargo accepts resolves the same.

use cargo_secure_release::config::Config;
use cargo_secure_release::git::split_signed;
use cargo_secure_release::init::license_ids;
use cargo_secure_release::profile::effective::{Source, Sources};
use cargo_secure_release::release::object::{parse_git_date, without_crud};
use proptest::prelude::*;
use std::path::Path;

/// TOML-ish text: mostly the keys and punctuation our parsers look at.
fn tomlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("[package]\nname = \"x\"\nversion = \"0.1.0\"\n".to_string()),
        Just("[workspace.metadata.secure-release]\n".to_string()),
        Just("[package.metadata.secure-release]\n".to_string()),
        Just("[package.metadata.secure-release.policy]\n".to_string()),
        Just("[workspace.metadata.secure-release.profile]\n".to_string()),
        Just("[[package.metadata.secure-release.ignore]]\n".to_string()),
        Just("[profile.release]\n".to_string()),
        Just("[profile]\n".to_string()),
        Just("ignore = [{ id = \"A\", reason = \"r\", until = \"2026-01-01\" }]\n".to_string()),
        Just("until = 2026-01-01\n".to_string()),
        Just("accept = { lto = { value = \"thin\", reason = \"r\" } }\n".to_string()),
        Just("hardening = [\"panic\", 3]\n".to_string()),
        Just("release = { lto = \"fat\", inherits = \"dev\" }\n".to_string()),
        Just("inherits = \"release\"\n".to_string()),
        Just("package = { \"*\" = { codegen-units = \"x\" } }\n".to_string()),
        Just("supported-lines = -9223372036854775808\n".to_string()),
        Just("team = [{ name = 1 }]\n".to_string()),
        "[a-z-]{1,12} = [0-9\"\\[\\]{}a-z]{0,12}\n",
        "[\\PC\n]{0,20}",
    ];
    proptest::collection::vec(token, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn tag_object_split_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..400), armor in any::<bool>()) {
        let mut raw = raw;
        if armor {
            raw.extend_from_slice(b"\n-----BEGIN PGP SIGNATURE-----\nx\n");
        }
        if let Some((payload, sig)) = split_signed(&raw) {
            prop_assert_eq!(payload.len() + sig.len(), raw.len());
            prop_assert!(sig.starts_with(b"-----BEGIN "));
        }
    }

    /// The trailer parser on arbitrary text, and on text built from its own keys: an
    /// answer every time; what it reads back from what it wrote is what was written.
    #[test]
    fn claims_parse_never_panics(text in "(Released-with|Package|Cargo-lock-sha256|Sbom-sha256|Advisory-db|Audit|object|tag|\\PC{0,8}|:| |\n){0,40}") {
        use cargo_secure_release::release::claims::Claims;
        if let Ok(c) = Claims::parse(&text) {
            let again = Claims::parse(&format!("Release\n\n{}", c.render())).unwrap();
            prop_assert_eq!(again.package, c.package);
            prop_assert_eq!(again.cargo_lock_sha256, c.cargo_lock_sha256);
            prop_assert_eq!(again.sbom, c.sbom);
            prop_assert_eq!(again.audit, c.audit);
        }
    }

    /// OpenSSH's pattern lists on arbitrary patterns: -1, 0 or 1, and a list that
    /// holds `!s` literally (no wildcards in s) never admits s.
    #[test]
    fn pattern_lists_never_panic(s in "[a-z*?!,]{0,12}", list in "[a-z*?!,]{0,24}") {
        use cargo_secure_release::sig::ssh::allowed::match_pattern_list;
        let r = match_pattern_list(&s, &list);
        prop_assert!((-1..=1).contains(&r));
        if !s.contains(['*', '?', '!', ',']) {
            prop_assert_eq!(match_pattern_list(&s, &format!("{list},!{s}")), -1);
        }
    }

    #[test]
    fn spdx_expressions_never_panic(expr in "[A-Za-z0-9.+()/ -]{0,60}|((MIT|Apache-2.0|GPL-3.0|\\(|\\)| OR | AND | WITH |LLVM-exception)){0,12}") {
        let ids = license_ids(&expr);
        for id in ids {
            prop_assert!(!id.is_empty());
        }
    }

    #[test]
    fn config_never_panics(text in tomlish()) {
        if let Ok(src) = Source::parse(Path::new("Cargo.toml"), text, true) {
            // Ok or a Failure naming the file: both are answers.
            if let Err(e) = Config::from_manifest(&src) {
                prop_assert!(e.to_string().starts_with("Cargo.toml"), "{}", e);
            }
        }
    }

    #[test]
    fn profile_resolution_never_panics(text in tomlish(), name in prop_oneof![Just("release".to_string()), Just("dev".to_string()), Just("dist".to_string()), "[a-z]{1,6}"]) {
        if let Ok(src) = Source::parse(Path::new("Cargo.toml"), text, true) {
            let sources = Sources::gather(src, Path::new("/nonexistent"), None, Vec::new()).unwrap();
            let _ = sources.resolve(&name);
        }
    }

    #[test]
    fn identities_and_dates_never_panic(s in "\\PC{0,40}") {
        let clean = without_crud(&s);
        prop_assert!(!clean.contains('\n') && !clean.contains('<') && !clean.contains('>'));
        let _ = parse_git_date(&s);
    }

    #[test]
    fn templates_never_panic(t in "(\\{\\{ ?[a-z.|()0-9 ]{0,12} ?\\}\\}|\\{% ?(for x in range\\(9\\)|endfor|if x|endif|set a = 1) ?%\\}|[a-z #\n]{0,8}){0,8}") {
        let ctx = minijinja::context! { name => "x" };
        let _ = cargo_secure_release::init::render::render("standard", Some((Path::new("t.md"), t)), &ctx);
    }

    /// The same three settings in each shape Cargo accepts resolve to the same values.
    #[test]
    fn every_profile_shape_resolves_alike(
        lto in prop_oneof![Just("\"thin\""), Just("\"fat\""), Just("true"), Just("false"), Just("\"off\"")],
        cgu in 1..64u32,
        strip in prop_oneof![Just("true"), Just("false"), Just("\"debuginfo\""), Just("\"symbols\"")],
    ) {
        let head = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n";
        let shapes = [
            format!("{head}[profile.release]\nlto = {lto}\ncodegen-units = {cgu}\nstrip = {strip}\n"),
            format!("{head}[profile]\nrelease = {{ lto = {lto}, codegen-units = {cgu}, strip = {strip} }}\n"),
            format!("profile = {{ release = {{ lto = {lto}, codegen-units = {cgu}, strip = {strip} }} }}\n{head}"),
            format!("profile.release.lto = {lto}\nprofile.release.codegen-units = {cgu}\nprofile.release.strip = {strip}\n{head}"),
            format!("{head}[profile]\nrelease.lto = {lto}\nrelease.codegen-units = {cgu}\nrelease.strip = {strip}\n"),
        ];
        let values: Vec<Vec<String>> = shapes
            .iter()
            .map(|text| {
                let src = Source::parse(Path::new("Cargo.toml"), text.clone(), true).unwrap();
                let sources = Sources::gather(src, Path::new("/nonexistent"), None, Vec::new()).unwrap();
                let eff = sources.resolve("release").unwrap();
                eff.values.values().map(|r| format!("{:?}", r.value)).collect()
            })
            .collect();
        for v in &values[1..] {
            prop_assert_eq!(v, &values[0]);
        }
    }
}

/// Regression: per-package overrides written inline were invisible.
#[test]
fn inline_package_overrides_are_seen() {
    for text in [
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[profile.release]\nlto = \"fat\"\npackage = { \"*\" = { codegen-units = 16 } }\n",
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[profile]\nrelease = { lto = \"fat\", package = { \"*\" = { codegen-units = 16 } } }\n",
    ] {
        let src = Source::parse(Path::new("Cargo.toml"), text.to_string(), true).unwrap();
        let sources = Sources::gather(src, Path::new("/nonexistent"), None, Vec::new()).unwrap();
        let eff = sources.resolve("release").unwrap();
        assert_eq!(eff.package_overrides.len(), 1, "{text}");
        assert_eq!(eff.package_overrides[0].spec, "*");
        assert_eq!(eff.package_overrides[0].key.name(), "codegen-units");
    }
}

/// Workflow-ish YAML: the keys, values and shell text the workflow rules look at,
/// with indentation, quotes, anchors and non-ASCII mixed in.
fn workflowish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("on:\n  push:\n    tags: [\"v*\"]\n".to_string()),
        Just("on: pull_request_target\n".to_string()),
        Just("permissions:\n  contents: write\n".to_string()),
        Just("permissions: write-all\n".to_string()),
        Just("jobs:\n  a:\n    permissions:\n      id-token: write\n    steps:\n".to_string()),
        Just("      - uses: actions/checkout@v4\n".to_string()),
        Just("      - uses: actions/upload-artifact@v4\n".to_string()),
        Just("        with:\n          persist-credentials: true\n          ref: ${{ github.head_ref }}\n".to_string()),
        Just("      - run: |\n          curl -sSf https://sh.rustup.rs | sh\n          cargo install x \\\n".to_string()),
        Just("      - run: echo \"${{ github.event.issue.title }}\" é ${{\n".to_string()),
        Just("      - run: >-\n          cargo +nightly build $(curl x|bash) `sh`\n".to_string()),
        Just("      - &a {uses: \"Swatinem/rust-cache@v2\"}\n      - *a\n".to_string()),
        Just("runs:\n  using: composite\n  image: docker://x\n  steps:\n".to_string()),
        Just("\t".to_string()),
        "[ a-z:\\-|>&*!\"'{}\\[\\]$#\\\\\n]{0,24}",
        "[\\PC\n]{0,16}",
    ];
    proptest::collection::vec(token, 0..14).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// The workflow engine answers on any text, as a workflow and as an action, and
    /// the edits `--fix` proposes apply and leave text that parses again.
    #[test]
    fn workflow_check_never_panics(text in workflowish()) {
        use cargo_secure_release::workflows::{check_text, fix, rules::FileKind};
        for kind in [FileKind::Workflow, FileKind::Action] {
            if let Ok(hits) = check_text(&text, "w.yml", kind) {
                let edits: Vec<_> = hits.iter().filter_map(|h| h.edit.as_ref()).collect();
                let fixed = fix::apply(&text, &edits);
                prop_assert!(fixed.len() >= text.len());
                let _ = check_text(&fixed, "w.yml", kind);
            }
        }
    }
}
