//! `cargo secure-release sbom`: the SBOM engine (`bom`) run for the command line:
//! the workspace read while rustc describes the target, the document written
//! atomically or to stdout.

use crate::bom::{self, SbomOptions};
use crate::error::{escape, Failure};
use crate::report::sbom::SbomSummary;
use crate::shell::Shell;
use crate::workspace::Workspace;
use anyhow::Result;

pub fn run(opts: &SbomOptions, shell: &Shell) -> Result<SbomSummary> {
    let progress = shell.progress();
    progress.step(crate::workspace::READING);
    // rustc describes the target while cargo resolves: neither waits for the other.
    let wanted = opts.target.clone();
    let platform = std::thread::spawn(move || crate::platform::Build::here(wanted.as_deref()));
    let manifest = crate::workspace::resolve_manifest_path(opts.manifest.manifest_path.as_deref())?;
    let ws = Workspace::load_cached(&opts.manifest, manifest, true)?;
    progress.relabel(ws.read_label());
    // `--features dep/feat` on a dependency outside the workspace can pull in what
    // the all-features resolve does not hold: cargo resolves again with it, once
    // cargo's refusals have been said in our words.
    let wider = crate::unify::beyond_all_features(&ws.metadata, &opts.features)?;
    let ws = match wider.is_empty() {
        true => ws,
        false => {
            bom::check_features(&ws, opts)?;
            Workspace::load_with_features(&opts.manifest, ws.manifest_path.clone(), &wider)?
        }
    };
    let platform = platform
        .join()
        .map_err(|_| Failure::new("asking rustc for the target's cfg failed unexpectedly"))??;
    progress.step("Resolving the release build");
    let (text, bom) = bom::generate_for(&ws, opts, platform)?;
    progress.finish();
    let (count, noun) = match opts.format {
        bom::Format::OpenVex => (bom.vulnerabilities.len(), "statement"),
        _ => (bom.components.len() + bom.roots.len(), "component"),
    };
    if let Some(path) = &opts.output {
        crate::fsutil::write_atomic(path, &text)?;
    }
    // What cleaning the packages' metadata changed, then the advisories' source.
    let notes = ws
        .lockfile_note()
        .into_iter()
        .chain(bom::clean::notes(&bom, opts.format))
        .chain(bom.notes)
        .collect();
    ws.release();
    Ok(SbomSummary {
        document: text,
        written_to: opts
            .output
            .as_ref()
            .map(|p| escape(&p.display().to_string())),
        count,
        noun,
        notes,
    })
}
