//! Property: over generated manifests, `--fix` is idempotent, leaves every
//! non-profile table byte-identical, and the result still parses with `cargo metadata`.

use crate::common::*;
use proptest::prelude::*;

fn section() -> impl Strategy<Value = String> {
    prop_oneof![
        (proptest::collection::vec(("[a-z]{1,8}", "[0-9]{1,2}"), 0..4), "[a-z ]{0,12}").prop_map(|(deps, c)| {
            let mut s = format!("[dependencies] # {c}\n");
            for (n, v) in deps {
                s.push_str(&format!("# dep {n}\n# {n} = \"{v}\"\n"));
            }
            s
        }),
        ("[a-z]{1,8}", any::<bool>()).prop_map(|(f, empty)| {
            if empty {
                format!("[features]\n{f} = []   # odd   spacing\n")
            } else {
                format!("[features]\ndefault = [\"{f}\"]\n{f} = []\n")
            }
        }),
        (prop_oneof![Just("\"thin\""), Just("false"), Just("true"), Just("\"off\"")], 1..32u32, any::<bool>()).prop_map(
            |(lto, cgu, strip)| format!("[profile.release]\n# tuned\nlto   = {lto}  # why\ncodegen-units={cgu}\nstrip = {strip}\n")
        ),
        "[a-z ]{0,20}".prop_map(|c| format!("[lints.rust]\n# {c}\nunsafe_code = \"forbid\"\n")),
        // The same profile in the other shapes Cargo accepts: an inline table, dotted
        // keys, and an inline per-package override.
        (prop_oneof![Just("\"thin\""), Just("false"), Just("\"fat\"")], 1..32u32).prop_map(
            |(lto, cgu)| format!("[profile]\nrelease = {{ lto = {lto}, codegen-units = {cgu} }}\n")
        ),
        (prop_oneof![Just("\"thin\""), Just("true")], any::<bool>()).prop_map(
            |(lto, strip)| format!("[profile]\nrelease.lto = {lto}\nrelease.strip = {strip}\n")
        ),
        (1..4u32).prop_map(|o| format!("[profile.release]\npackage = {{ \"*\" = {{ opt-level = {o} }} }}\n")),
    ]
}

/// Splits a manifest into its table sections (header line to next header).
fn sections(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('[') || out.is_empty() {
            out.push(String::new());
        }
        out.last_mut().unwrap().push_str(line);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn fix_is_idempotent_and_leaves_other_tables_alone(parts in proptest::collection::vec(section(), 0..4)) {
        let mut manifest = String::from("[package]\nname = \"prop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n");
        let mut seen = std::collections::HashSet::new();
        for p in &parts {
            // TOML forbids defining a table twice; `[profile]` and `[profile.release]`
            // both define the release profile.
            let header = p.lines().next().unwrap().split(']').next().unwrap().to_string();
            let header = if header.starts_with("[profile") { "[profile".to_string() } else { header };
            if seen.insert(header) {
                manifest.push('\n');
                manifest.push_str(p);
            }
        }
        let f = Fixture::new("prop", "");
        f.write("Cargo.toml", &manifest);
        let f = f.lock();
        run(f.audit().arg("--fix"), 0);
        let once = f.read("Cargo.toml");
        run(f.audit().arg("--fix"), 0);
        prop_assert_eq!(&once, &f.read("Cargo.toml"));
        for s in sections(&manifest) {
            if !s.trim_start().starts_with("[profile") {
                prop_assert!(once.contains(&s), "section changed: {:?}\n--- after\n{}", s, once);
            }
        }
        let out = std::process::Command::new("cargo")
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(f.path())
            .output()
            .unwrap();
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
