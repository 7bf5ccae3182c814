//! minisign's signature format (jedisct1/minisign; read by `minisign -V`, rsign2
//! and cargo-binstall), made with the release's Ed25519 key. The file's BLAKE2b-512
//! hash is signed (algorithm `ED`, "prehashed": minisign 0.11's default), then the
//! signature followed by the trusted comment is signed again (the global signature),
//! so the comment cannot be swapped. Pure: the signing is the caller's.

use base64ct::{Base64, Encoding};
use blake2::{Blake2b512, Digest};

/// Beside each file, `FILE.sig`: where cargo-binstall looks by default
/// (`{ url }.sig`). minisign itself defaults to `.minisig`: `-x` names ours.
pub const SUFFIX: &str = ".sig";

/// The key number naming the key in the public key and in each signature. minisign
/// draws it at random when it makes a key; ours is derived from the public key
/// (the first 8 bytes of its SHA-256), so the same key always has the same number.
pub fn key_id(public: &[u8; 32]) -> [u8; 8] {
    let h = sha2::Sha256::digest(public);
    let mut id = [0; 8];
    id.copy_from_slice(&h[..8]);
    id
}

/// The public key as minisign prints it (`RW…`): base64 of `Ed`, the key number
/// and the key. The value of `minisign -P` and of binstall's `pubkey`.
pub fn public_key(public: &[u8; 32]) -> String {
    let mut bytes = b"Ed".to_vec();
    bytes.extend_from_slice(&key_id(public));
    bytes.extend_from_slice(public);
    Base64::encode_string(&bytes)
}

/// The `Cargo.toml` lines that make cargo-binstall check these signatures.
pub fn binstall_lines(public_key: &str) -> String {
    format!("[package.metadata.binstall.signing]\nalgorithm = \"minisign\"\npubkey = \"{public_key}\"\n")
}

/// The BLAKE2b-512 hash of a file's bytes, read in pieces: what `ED` signs.
pub struct Prehash(Blake2b512);

impl Prehash {
    pub fn new() -> Prehash {
        Prehash(Blake2b512::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

impl Default for Prehash {
    fn default() -> Self {
        Prehash::new()
    }
}

/// The trusted comment, as minisign 0.11 writes it. `name` is a listable name
/// (`sums::unlistable`): no tab, no newline.
pub fn trusted_comment(name: &str, timestamp: i64) -> String {
    format!("timestamp:{timestamp}\tfile:{name}\thashed")
}

/// What the global signature signs: the file's signature, then the trusted comment.
pub fn global_message(signature: &[u8; 64], trusted_comment: &str) -> Vec<u8> {
    let mut m = signature.to_vec();
    m.extend_from_slice(trusted_comment.as_bytes());
    m
}

/// The signature file's text.
pub fn render(
    public: &[u8; 32],
    signature: &[u8; 64],
    trusted_comment: &str,
    global: &[u8; 64],
) -> String {
    let mut line = b"ED".to_vec();
    line.extend_from_slice(&key_id(public));
    line.extend_from_slice(signature);
    format!(
        "untrusted comment: signature from cargo-secure-release, key {}\n{}\ntrusted comment: {trusted_comment}\n{}\n",
        hex_id(public),
        Base64::encode_string(&line),
        Base64::encode_string(global)
    )
}

/// The key number as minisign shows it: uppercase hex of the little-endian number.
fn hex_id(public: &[u8; 32]) -> String {
    key_id(public)
        .iter()
        .rev()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_start_like_minisigns() {
        let pk = [7u8; 32];
        let text = public_key(&pk);
        // "Ed" in base64 begins "RW", as every minisign public key does.
        assert!(text.starts_with("RW"), "{text}");
        let raw = Base64::decode_vec(&text).unwrap();
        assert_eq!(raw.len(), 42);
        assert_eq!(&raw[2..10], &key_id(&pk));
        assert_eq!(&raw[10..], &pk);
    }

    #[test]
    fn signature_files_hold_the_four_lines() {
        let text = render(
            &[1; 32],
            &[2; 64],
            &trusted_comment("a.tar.gz", 5),
            &[3; 64],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("untrusted comment: "));
        let sig = Base64::decode_vec(lines[1]).unwrap();
        assert_eq!(&sig[..2], b"ED");
        assert_eq!(&sig[2..10], &key_id(&[1; 32]));
        assert_eq!(&sig[10..], &[2; 64]);
        assert_eq!(
            lines[2],
            "trusted comment: timestamp:5\tfile:a.tar.gz\thashed"
        );
        assert_eq!(Base64::decode_vec(lines[3]).unwrap(), vec![3; 64]);
    }
}
