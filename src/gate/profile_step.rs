//! The audit's profile part: resolve, optionally fix, check.

use super::Step;
use crate::config::Config;
use crate::options::Fix;
use crate::profile::{self, effective::Source, value::Canon, value::Key};
use crate::report::Finding;
use anyhow::Result;

pub struct ProfileStep {
    pub findings: Vec<Finding>,
    /// The released profile and its effective `strip` ("none", "debuginfo", "symbols").
    pub name: String,
    pub strip: &'static str,
    /// The root manifest as `--fix` left it, when it rewrote it.
    pub rewritten: Option<Source>,
}

pub fn run(
    step: &Step<'_>,
    members: &[&cargo_metadata::Package],
    config: &Config,
    manifest: Source,
    fix: Fix,
) -> Result<ProfileStep> {
    let ws = step.ws;
    let root_manifest = ws.root_manifest();
    let policy = &config.profile;
    let name = step
        .opts
        .profile
        .clone()
        .unwrap_or_else(|| config.released_profile());
    if !profile::valid_name(&name) {
        return Err(crate::error::Failure::new(format!(
            "--profile `{}` is not a valid profile name",
            crate::error::escape(&name)
        ))
        .help("profile names have only letters, digits, `-` and `_`, e.g. --profile dist")
        .into());
    }
    let mut sources = profile::gather_sources(manifest)?;
    let mut eff = sources.resolve(&name)?;
    let mut rewritten = None;
    if fix != Fix::No {
        let changes = fixable(&eff, policy);
        let old = &sources.manifest.text;
        let new = profile::fix::apply(old, &root_manifest.display().to_string(), &name, &changes)?;
        // Every write says what it wrote: the file, the table and the keys.
        let keys: Vec<String> = changes
            .iter()
            .map(|(k, v)| format!("{} = {v}", k.name()))
            .collect();
        let what = format!("[profile.{}] {}", name, keys.join(", "));
        let path = root_manifest.clone();
        if step.fix_file(fix, &path, "Cargo.toml", old, &new, &what)? {
            let src = Source::parse(&root_manifest, new, true)?;
            sources = profile::gather_sources(src.clone())?;
            eff = sources.resolve(&name)?;
            rewritten = Some(src);
        }
    }
    let mut out = profile::check(&eff, policy, &ws.root, &sources.manifest.text);
    out.extend(profile::member_profiles(members, &root_manifest, &ws.root));
    let strip = match eff.values[&Key::Strip].value {
        Ok(Canon::Str(s)) => s,
        _ => "none",
    };
    Ok(ProfileStep {
        findings: out,
        name,
        strip,
        rewritten,
    })
}

/// The failing rules that an edit of Cargo.toml would actually fix: not those set by
/// a Cargo config file or an environment variable, and not those the policy accepts.
fn fixable(eff: &profile::effective::Effective, policy: &profile::Policy) -> Vec<(Key, Canon)> {
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
