//! `cargo secure-release man`: the man pages the release archives ship, from the
//! command-line definition itself, so they cannot drift from `--help`.

use crate::cli::ManArgs;
use crate::error::{escape, Failure};
use crate::shell::Shell;
use anyhow::Result;
use std::path::PathBuf;

pub fn run(args: &ManArgs, shell: &Shell) -> Result<u8> {
    let pages = crate::cli::man_pages()
        .map_err(|e| Failure::new(format!("could not render the man pages: {e}")))?;
    let Some(dir) = &args.output else {
        let top = pages
            .iter()
            .find(|(name, _)| name == "cargo-secure-release.1")
            .map(|(_, roff)| roff.as_slice())
            .unwrap_or_default();
        shell.out_bytes(top);
        return Ok(0);
    };
    let shown = escape(&dir.display().to_string());
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(
            Failure::new(format!("{shown} is not a directory; nothing was written"))
                .help("pass --output with a directory")
                .into(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::new(format!("could not create {shown}: {e}"))
            .help("check that the parent directory is writable")
    })?;
    let files: Vec<(PathBuf, String)> = pages
        .into_iter()
        .map(|(name, roff)| (dir.join(name), String::from_utf8_lossy(&roff).into_owned()))
        .collect();
    if !args.force {
        if let Some((p, _)) = files
            .iter()
            .find(|(p, _)| std::fs::symlink_metadata(p).is_ok())
        {
            return Err(Failure::new(format!(
                "{} already exists; nothing was written",
                escape(&p.display().to_string())
            ))
            .help("pass --force to replace the pages, or another --output directory")
            .into());
        }
    }
    crate::fsutil::write_all_or_none(&files)?;
    shell.status(&format!(
        "wrote {} man page{} to {shown}",
        files.len(),
        crate::output::plural(files.len())
    ));
    Ok(0)
}
