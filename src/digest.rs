//! SHA-256 digests as lowercase hex: the form every hash this tool writes or compares
//! takes (tag trailers, cache keys, fingerprint records).

use sha2::{Digest, Sha256};

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
