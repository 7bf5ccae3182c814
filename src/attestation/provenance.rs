//! The in-toto Statement v1 with a SLSA Provenance v1 predicate that `attest`
//! writes: every release file as a subject with its `sha256`; the build as our
//! build type describes it (docs/attest.md, "Build type v1"); the tagged commit and
//! the Cargo.lock it locks as resolved dependencies. Written with sorted keys and no
//! timestamps but `SOURCE_DATE_EPOCH`'s, so the same inputs give the same bytes.

use super::sums::Entry;
use crate::error::escape;
use serde_json::{json, Value};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// Our build type: what `externalParameters` and `internalParameters` hold.
pub fn build_type() -> String {
    crate::docs::link("attest.md", "build-type-v1")
}

/// The builder id when the build ran on no CI we recognise.
pub fn local_builder() -> String {
    crate::docs::link("attest.md", "local-builder")
}

/// What the statement says.
pub struct Build {
    pub subjects: Vec<Entry>,
    /// The repository's URL (origin), when it has one.
    pub repository: Option<String>,
    pub tag: String,
    pub commit: String,
    /// `NAME VERSION` of the released package, from the tag's claims.
    pub package: Option<(String, String)>,
    pub target: String,
    pub profile: String,
    pub features: Vec<String>,
    pub rustc: Option<String>,
    pub cargo: Option<String>,
    pub rustflags: Option<String>,
    pub source_date_epoch: Option<i64>,
    /// The tagged Cargo.lock's SHA-256.
    pub cargo_lock: Option<String>,
    pub builder_id: String,
    pub invocation_id: Option<String>,
}

/// The statement as JSON (keys sorted: serde_json's map is ordered).
pub fn statement(b: &Build) -> Value {
    let subjects: Vec<Value> = b
        .subjects
        .iter()
        .map(|e| json!({"name": e.name, "digest": {"sha256": e.sha256}}))
        .collect();
    let mut external = json!({
        "tag": b.tag,
        "target": b.target,
        "profile": b.profile,
        "features": b.features,
    });
    if let Some(r) = &b.repository {
        external["repository"] = json!(r);
    }
    if let Some((name, version)) = &b.package {
        external["package"] = json!({"name": name, "version": version});
    }
    let mut internal = json!({});
    if let Some(r) = &b.rustc {
        internal["rustc"] = json!(r);
    }
    if let Some(c) = &b.cargo {
        internal["cargo"] = json!(c);
    }
    if let Some(f) = &b.rustflags {
        internal["rustflags"] = json!(f);
    }
    if let Some(e) = b.source_date_epoch {
        internal["sourceDateEpoch"] = json!(e);
    }
    let source_uri = match &b.repository {
        Some(r) => format!("git+{r}@refs/tags/{}", b.tag),
        None => format!("git+refs/tags/{}", b.tag),
    };
    let mut deps = vec![json!({"uri": source_uri, "digest": {"gitCommit": b.commit}})];
    if let Some(lock) = &b.cargo_lock {
        deps.push(json!({"name": "Cargo.lock", "digest": {"sha256": lock}}));
    }
    let mut run = json!({"builder": {"id": b.builder_id}});
    if let Some(id) = &b.invocation_id {
        run["metadata"] = json!({"invocationId": id});
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {
            "buildDefinition": {
                "buildType": build_type(),
                "externalParameters": external,
                "internalParameters": internal,
                "resolvedDependencies": deps,
            },
            "runDetails": run,
        },
    })
}

/// What `verify --artifact` holds a provenance statement to.
#[derive(Debug)]
pub struct Read {
    pub subjects: Vec<Entry>,
    pub tag: String,
    pub commit: String,
}

/// Reads our provenance statement; a sentence saying what is missing.
pub fn read(payload: &[u8]) -> Result<Read, String> {
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| format!("its payload is not JSON ({e})"))?;
    if v["_type"] != STATEMENT_TYPE {
        return Err("its payload is not an in-toto Statement v1".into());
    }
    if v["predicateType"] != SLSA_PROVENANCE_V1 {
        return Err(format!(
            "its predicate is `{}`, not SLSA Provenance v1",
            escape(v["predicateType"].as_str().unwrap_or("(none)"))
        ));
    }
    let def = &v["predicate"]["buildDefinition"];
    if def["buildType"] != build_type().as_str() {
        return Err(format!(
            "its build type is `{}`, not this tool's",
            escape(def["buildType"].as_str().unwrap_or("(none)"))
        ));
    }
    let tag = def["externalParameters"]["tag"]
        .as_str()
        .ok_or("it names no tag (externalParameters.tag)")?
        .to_string();
    let commit = def["resolvedDependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["digest"]["gitCommit"].as_str())
        .ok_or("it names no commit (resolvedDependencies[].digest.gitCommit)")?
        .to_string();
    let mut subjects = Vec::new();
    for s in v["subject"].as_array().into_iter().flatten() {
        if let (Some(name), Some(sha256)) = (s["name"].as_str(), s["digest"]["sha256"].as_str()) {
            subjects.push(Entry {
                name: name.to_string(),
                sha256: sha256.to_ascii_lowercase(),
            });
        }
    }
    Ok(Read {
        subjects,
        tag,
        commit,
    })
}
