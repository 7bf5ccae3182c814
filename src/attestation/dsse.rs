//! DSSE envelopes (github.com/secure-systems-lab/dsse, v1.0): the payload, its
//! type, and signatures over the pre-authentication encoding (PAE) of both, never
//! over the JSON. One envelope per line in `*.intoto.jsonl`.

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

/// The payload type of in-toto statements.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN the
/// byte length in ASCII decimal: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 (standard, padded) of the payload bytes.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Sig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sig {
    /// A hint only (the key's SHA256 fingerprint when we write it): never used to
    /// decide whom to trust.
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the signature bytes.
    pub sig: String,
}

impl Envelope {
    /// An envelope over `payload` with one signature (`sig`, over its PAE).
    pub fn new(payload_type: &str, payload: &[u8], keyid: &str, sig: &[u8]) -> Envelope {
        Envelope {
            payload: Base64::encode_string(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![Sig {
                keyid: keyid.to_string(),
                sig: Base64::encode_string(sig),
            }],
        }
    }

    /// One line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An envelope from one line; a sentence saying why not.
    pub fn parse(line: &str) -> Result<Envelope, String> {
        serde_json::from_str(line).map_err(|e| format!("it is not a DSSE envelope ({e})"))
    }

    pub fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        Base64::decode_vec(&self.payload).map_err(|_| "its payload is not base64".to_string())
    }

    /// The signatures' bytes (those that decode).
    pub fn signature_bytes(&self) -> Vec<Vec<u8>> {
        self.signatures
            .iter()
            .filter_map(|s| Base64::decode_vec(&s.sig).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DSSE's published test vector (protocol.md, "Test Vectors").
    #[test]
    fn pae_matches_the_published_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn envelopes_round_trip() {
        let e = Envelope::new(IN_TOTO, b"{}", "SHA256:x", &[1, 2, 3]);
        let line = e.to_line();
        assert_eq!(
            line,
            r#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"SHA256:x","sig":"AQID"}]}"#
        );
        let back = Envelope::parse(&line).unwrap();
        assert_eq!(back.payload_bytes().unwrap(), b"{}");
        assert_eq!(back.signature_bytes(), vec![vec![1, 2, 3]]);
    }
}
