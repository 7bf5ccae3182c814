//! The in-toto Statement v1 `attest` writes for each binary of a release: the
//! binary as the one subject (a member of an archive named `ARCHIVE!PATH`), the
//! CycloneDX document of its build as the predicate. `verify --artifact` reads
//! the packages back and holds the binary's embedded list to them.

use super::provenance::STATEMENT_TYPE;
use super::sums::Entry;
use serde_json::{json, Value};

/// CycloneDX's predicate type (in-toto-attestation's predicate list).
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";

/// The statement over `subject` with the CycloneDX document `bom`.
pub fn statement(subject: &Entry, bom: Value) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject.name, "digest": {"sha256": subject.sha256}}],
        "predicateType": CYCLONEDX_BOM,
        "predicate": bom,
    })
}

/// What `verify --artifact` holds a binary to.
#[derive(Debug)]
pub struct Read {
    pub subject: Entry,
    /// `(name, version)` of every component, the document's own included; sorted.
    pub packages: Vec<(String, String)>,
}

/// Reads an SBOM statement; None for a statement of another predicate type, a
/// sentence for one that claims to be ours and is not well formed.
pub fn read(payload: &[u8]) -> Option<Result<Read, String>> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    if v["_type"] != STATEMENT_TYPE || v["predicateType"] != CYCLONEDX_BOM {
        return None;
    }
    Some(read_statement(&v))
}

fn read_statement(v: &Value) -> Result<Read, String> {
    let subjects = v["subject"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let [s] = subjects else {
        return Err(format!(
            "an SBOM statement has {} subjects, not one binary",
            subjects.len()
        ));
    };
    let (Some(name), Some(sha256)) = (s["name"].as_str(), s["digest"]["sha256"].as_str()) else {
        return Err("an SBOM statement's subject has no name or sha256 digest".into());
    };
    let bom = &v["predicate"];
    if bom["bomFormat"] != "CycloneDX" {
        return Err(format!(
            "the SBOM statement of `{}` holds no CycloneDX document",
            crate::error::escape(name)
        ));
    }
    let component = |c: &Value| -> Option<(String, String)> {
        Some((
            c["name"].as_str()?.to_string(),
            c["version"].as_str()?.to_string(),
        ))
    };
    let mut packages: Vec<(String, String)> = bom["metadata"]
        .get("component")
        .into_iter()
        .chain(bom["components"].as_array().into_iter().flatten())
        .filter_map(component)
        .collect();
    packages.sort();
    Ok(Read {
        subject: Entry {
            name: name.to_string(),
            sha256: sha256.to_ascii_lowercase(),
        },
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_round_trip() {
        let subject = Entry {
            name: "app.tar.gz!app/bin".into(),
            sha256: "ab".repeat(32),
        };
        let bom = json!({"bomFormat": "CycloneDX", "metadata": {"component": {"name": "app", "version": "1.0.0"}},
            "components": [{"name": "smallvec", "version": "1.4.1"}]});
        let st = statement(&subject, bom);
        let back = read(&serde_json::to_vec(&st).unwrap()).unwrap().unwrap();
        assert_eq!(back.subject.name, "app.tar.gz!app/bin");
        assert_eq!(
            back.packages,
            [
                ("app".into(), "1.0.0".into()),
                ("smallvec".into(), "1.4.1".into())
            ]
        );
        let slsa =
            json!({"_type": STATEMENT_TYPE, "predicateType": "https://slsa.dev/provenance/v1"});
        assert!(read(&serde_json::to_vec(&slsa).unwrap()).is_none());
    }
}
