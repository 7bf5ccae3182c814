//! Renderers: every format reads the same `AuditReport`.

pub mod human;
pub mod json;

use crate::audit::AuditReport;
use crate::cli::{ColorChoice, Format, GlobalArgs};
use anyhow::Result;
use std::io::{IsTerminal, Write};

pub fn emit(report: &AuditReport, format: Format, global: &GlobalArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Human => {
            let color = use_color(global.color, std::io::stdout().is_terminal());
            human::render(report, &mut out, color, global.verbose)?;
        }
        Format::Json => {
            json::render(report, &mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}
