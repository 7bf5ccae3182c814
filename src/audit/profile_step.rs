//! The audit's profile part: resolve, optionally fix, check.

use super::Fix;
use crate::cli::CheckArgs;
use crate::findings::Finding;
use crate::profile::{self, effective::Sources, value::Canon, value::Key, Policy};
use crate::workspace::Workspace;
use anyhow::{Context, Result};

pub struct ProfileStep {
    pub findings: Vec<Finding>,
    /// The root manifest as it is now (after --fix), for the rest of the audit.
    pub manifest_text: String,
}

pub fn run(
    ws: &Workspace,
    members: &[&cargo_metadata::Package],
    args: &CheckArgs,
    fix: Fix,
) -> Result<ProfileStep> {
    let root_manifest = ws.root_manifest();
    let policy = Policy::from_metadata(&ws.metadata, &root_manifest)?;
    let name = args
        .profile
        .clone()
        .or_else(|| policy.profile.clone())
        .unwrap_or_else(|| "release".into());
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    let home = crate::workspace::cargo_home();
    let gather = || Sources::gather(&root_manifest, &cwd, home.as_deref(), std::env::vars());

    let mut sources = gather()?;
    let mut eff = sources.resolve(&name)?;
    if fix != Fix::No {
        let changes = fixable(&eff, &policy);
        let old = &sources.manifest.text;
        let new = profile::fix::apply(old, &root_manifest.display().to_string(), &name, &changes)?;
        if let Fix::DryRun { diff_to_stdout } = fix {
            let d = profile::fix::diff(old, &new, "Cargo.toml");
            if diff_to_stdout {
                print!("{d}");
            } else {
                eprint!("{d}");
            }
        } else if new != *old {
            crate::fsutil::write_atomic(&root_manifest, &new)?;
            sources = gather()?;
            eff = sources.resolve(&name)?;
        }
    }
    let mut out = profile::check(&eff, &policy, &ws.root, &sources.manifest.text);
    out.extend(profile::member_profiles(members, &root_manifest, &ws.root));
    Ok(ProfileStep {
        findings: out,
        manifest_text: sources.manifest.text,
    })
}

/// The failing rules that an edit of Cargo.toml would actually fix: not those set by
/// a Cargo config file or an environment variable, and not those the policy accepts.
fn fixable(eff: &profile::effective::Effective, policy: &Policy) -> Vec<(Key, Canon)> {
    use profile::effective::Origin;
    policy
        .rules()
        .into_iter()
        .filter_map(|(key, want, _)| {
            let r = &eff.values[&key];
            if r.value.as_ref() == Ok(&want) {
                return None;
            }
            if matches!(r.origin, Origin::Config { .. } | Origin::Env { .. }) {
                return None;
            }
            if let (Some((accepted, _)), Ok(got)) = (policy.accept.get(&key), &r.value) {
                if accepted == got {
                    return None;
                }
            }
            Some((key, want))
        })
        .collect()
}
