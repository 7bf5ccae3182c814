//! A Sigstore bundle (v0.3, in the JSON form of sigstore/protobuf-specs) holding one
//! DSSE envelope signed with a known key: what Sigstore clients verify with a public
//! key (`cosign verify-blob-attestation --key`, `@sigstore/verify` with a key
//! finder). `verificationMaterial.publicKey.hint` names the key; there is no
//! certificate, log entry or timestamp: the release is made offline, with the
//! project's own key, whose validity the signer policy states.

use super::dsse::Envelope;
use serde::Serialize;

pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bundle<'a> {
    media_type: &'static str,
    verification_material: Material<'a>,
    dsse_envelope: &'a Envelope,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Material<'a> {
    public_key: Hint<'a>,
    /// Empty, but present: v0.3 readers expect the list.
    tlog_entries: [(); 0],
}

#[derive(Serialize)]
struct Hint<'a> {
    hint: &'a str,
}

/// The bundle's JSON (one line, with a newline), `hint` naming the key (its
/// SHA256 fingerprint, the envelope's keyid): a hint, never a trust decision.
pub fn render(envelope: &Envelope, hint: &str) -> String {
    let bundle = Bundle {
        media_type: MEDIA_TYPE,
        verification_material: Material {
            public_key: Hint { hint },
            tlog_entries: [],
        },
        dsse_envelope: envelope,
    };
    let mut text = serde_json::to_string(&bundle).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_the_envelope_and_the_hint() {
        let e = Envelope::new(super::super::dsse::IN_TOTO, b"{}", "SHA256:k", &[9]);
        let v: serde_json::Value = serde_json::from_str(&render(&e, "SHA256:k")).unwrap();
        assert_eq!(v["mediaType"], MEDIA_TYPE);
        assert_eq!(v["verificationMaterial"]["publicKey"]["hint"], "SHA256:k");
        assert_eq!(
            v["verificationMaterial"]["tlogEntries"],
            serde_json::json!([])
        );
        assert_eq!(v["dsseEnvelope"]["payload"], "e30=");
        assert_eq!(v["dsseEnvelope"]["signatures"][0]["sig"], "CQ==");
    }
}
