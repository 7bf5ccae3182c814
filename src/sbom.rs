//! `cargo secure-release sbom`: the SBOM engine (`bom`) run for the command line:
//! the workspace read while rustc describes the target, the document written
//! atomically or to stdout.

use crate::bom::{self, SbomOptions};
use crate::error::{escape, Failure};
use crate::shell::Shell;
use crate::workspace::Workspace;
use anyhow::Result;

pub fn run(opts: &SbomOptions, shell: &Shell) -> Result<u8> {
    let progress = shell.progress();
    progress.step(crate::workspace::READING);
    // rustc describes the target while cargo resolves: neither waits for the other.
    let wanted = opts.target.clone();
    let platform = std::thread::spawn(move || bom::graph::Platform::of(wanted.as_deref()));
    let manifest = crate::workspace::resolve_manifest_path(opts.manifest.manifest_path.as_deref())?;
    let ws = Workspace::load_cached(&opts.manifest, manifest, true)?;
    progress.relabel(ws.read_label());
    let platform = platform
        .join()
        .map_err(|_| Failure::new("asking rustc for the target's cfg failed unexpectedly"))??;
    progress.step("Resolving the release build");
    let (text, bom) = bom::generate_for(&ws, opts, platform)?;
    progress.finish();
    for note in ws.lockfile_note().iter().chain(&bom.notes) {
        shell.status(&format!("note: {note}"));
    }
    match &opts.output {
        Some(path) => {
            crate::fsutil::write_atomic(path, &text)?;
            let count = match opts.format {
                bom::Format::OpenVex => {
                    let n = bom.vulnerabilities.len();
                    format!("{n} statement{}", crate::output::plural(n))
                }
                _ => {
                    let n = bom.components.len() + bom.roots.len();
                    format!("{n} component{}", crate::output::plural(n))
                }
            };
            shell.status(&format!(
                "wrote {} ({count})",
                escape(&path.display().to_string())
            ));
        }
        None => shell.out(&text),
    }
    Ok(0)
}
