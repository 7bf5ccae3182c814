//! A generated workspace of many path crates for the scale rows of `cargo xtask bench`:
//! layers of crates (deep), each depending on three crates of the next layer (wide),
//! one of them behind a feature, with features that enable features downstream; the
//! last layer reaches the benchmark workspace's real registry graph through one member,
//! partly behind features, so the advisories found there are reached in every way.

use std::fmt::Write as _;
use std::path::Path;

/// Writes a workspace of `crates` path crates (plus the member holding the registry
/// dependencies) into `dir`, with a Cargo.lock made offline from `registry_lock`.
pub fn generate(
    dir: &Path,
    crates: usize,
    registry_deps: &str,
    registry_lock: &Path,
) -> Result<(), String> {
    let layers = (crates / 100).clamp(4, 30);
    let width = crates.div_ceil(layers);
    let name = |layer: usize, i: usize| format!("g{layer:02}-{i:04}");
    let write = |rel: &str, text: &str| -> Result<(), String> {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\npublish = false\n",
    )?;
    write(
        "crates/registry-deps/Cargo.toml",
        &format!(
            "[package]\nname = \"registry-deps\"\nversion.workspace = true\nedition.workspace = true\n\
             license.workspace = true\npublish.workspace = true\n\n{registry_deps}"
        ),
    )?;
    write("crates/registry-deps/src/lib.rs", "")?;
    let mut made = 0;
    'layers: for layer in 0..layers {
        for i in 0..width {
            if made == crates {
                break 'layers;
            }
            made += 1;
            let mut m = format!(
                "[package]\nname = \"{}\"\nversion.workspace = true\nedition.workspace = true\n\
                 license.workspace = true\npublish.workspace = true\n\n[dependencies]\n",
                name(layer, i)
            );
            let mut features = String::from("[features]\ndefault = [\"a\"]\na = []\nb = [\"a\"]\n");
            // The crates of the next layer (the last layers may be partly filled or empty).
            let next = width.min(crates.saturating_sub((layer + 1) * width));
            if layer + 1 < layers && next > 0 {
                let (j1, j2, j3) = (
                    (i * 7 + 1) % next,
                    (i * 13 + 5) % next,
                    (i * 31 + 11) % next,
                );
                let (d1, d2, d3) = (
                    name(layer + 1, j1),
                    name(layer + 1, j2),
                    name(layer + 1, j3),
                );
                let _ = writeln!(
                    m,
                    "{d1} = {{ path = \"../{d1}\", default-features = false }}"
                );
                if d2 != d1 {
                    let _ = writeln!(m, "{d2} = {{ path = \"../{d2}\", optional = true }}");
                    let _ = writeln!(features, "extra = [\"dep:{d2}\", \"{d1}/b\"]");
                } else {
                    let _ = writeln!(features, "extra = [\"{d1}/b\"]");
                }
                if d3 != d1 && d3 != d2 {
                    let _ = write!(m, "\n[dev-dependencies]\n{d3} = {{ path = \"../{d3}\" }}\n");
                }
            } else {
                leaf(&mut m, &mut features, i);
            }
            write(
                &format!("crates/{}/Cargo.toml", name(layer, i)),
                &format!("{m}\n{features}"),
            )?;
            write(&format!("crates/{}/src/lib.rs", name(layer, i)), "")?;
        }
    }
    std::fs::copy(registry_lock, dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    // Resolve once without --locked so the lockfile gains the path crates (offline:
    // the registry part is the benchmark workspace's, already fetched).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    crate::check(
        std::process::Command::new(cargo)
            .args(["metadata", "--offline", "--format-version", "1"])
            .current_dir(dir),
    )
}

/// A last-layer crate: the registry graph, by default for some and behind a feature
/// for the others.
fn leaf(m: &mut String, features: &mut String, i: usize) {
    if i.is_multiple_of(2) {
        let _ = writeln!(m, "registry-deps = {{ path = \"../registry-deps\" }}");
        let _ = writeln!(features, "extra = []");
    } else {
        let _ = writeln!(
            m,
            "registry-deps = {{ path = \"../registry-deps\", optional = true }}"
        );
        let _ = writeln!(features, "extra = [\"dep:registry-deps\"]");
    }
}
