//! OpenSSH private keys that ssh-key 0.6 rejects although ssh-keygen made them.
//!
//! OpenSSH writes an ECDSA private scalar as an SSH `mpint` (`sshbuf_put_bignum2`):
//! big-endian with no leading zero bytes, plus one zero byte when the top bit is
//! set. ssh-key reads exactly the field's size (32 bytes for P-256, 48 for P-384),
//! or that plus a zero byte, so a scalar whose top byte is zero (1 key in 256) fails
//! with `length invalid` (RustCrypto/SSH#350). This module re-encodes the key's
//! private section with the scalar left-padded to the field size, the form ssh-key
//! reads, and hands ssh-key an unencrypted key blob in memory (zeroized on drop).
//! Nothing else of the key changes: the same checkints, public key and comment.

use ssh_key::PrivateKey;
use zeroize::Zeroizing;

const MAGIC: &[u8] = b"openssh-key-v1\0";

/// The key in `pem` (an `OPENSSH PRIVATE KEY`), with an ECDSA scalar shorter than
/// its field padded; `passphrase` decrypts an encrypted key. None when the key is
/// not one this repairs (not ECDSA, not short, malformed, a wrong passphrase).
pub fn load_padded(pem: &str, passphrase: Option<&[u8]>) -> Option<PrivateKey> {
    let blob = Zeroizing::new(pem_body(pem)?);
    let mut r = Reader(&blob);
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let cipher = std::str::from_utf8(r.string()?).ok()?.to_string();
    let kdf_name = std::str::from_utf8(r.string()?).ok()?.to_string();
    let kdf_options = r.string()?.to_vec();
    if r.u32()? != 1 {
        return None;
    }
    let public = r.string()?.to_vec();
    let mut private = Zeroizing::new(r.string()?.to_vec());
    let rest = r.0;
    if cipher != "none" {
        let cipher = ssh_key::Cipher::new(&cipher).ok()?;
        if kdf_name != "bcrypt" {
            return None;
        }
        let mut o = Reader(&kdf_options);
        let kdf = ssh_key::Kdf::Bcrypt {
            salt: o.string()?.to_vec(),
            rounds: o.u32()?,
        };
        let (key, iv) = kdf.derive_key_and_iv(cipher, passphrase?).ok()?;
        let tag = match rest.len() {
            16 => Some(<[u8; 16]>::try_from(rest).ok()?),
            _ => None,
        };
        cipher.decrypt(&key, &iv, &mut private, tag).ok()?;
    }
    let fixed = pad_scalar(&private)?;
    let mut out = Zeroizing::new(Vec::with_capacity(blob.len() + 64));
    out.extend_from_slice(MAGIC);
    for s in [&b"none"[..], b"none", b""] {
        put_string(&mut out, s);
    }
    out.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut out, &public);
    put_string(&mut out, &fixed);
    PrivateKey::from_bytes(&out).ok()
}

/// The private section with an ECDSA scalar padded to its field size, its padding
/// recomputed for the unencrypted form (blocks of 8); None when nothing needs it.
fn pad_scalar(section: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut r = Reader(section);
    let checkints = r.take(8)?;
    let kind = r.string()?;
    let size = match kind {
        b"ecdsa-sha2-nistp256" => 32,
        b"ecdsa-sha2-nistp384" => 48,
        _ => return None,
    };
    let curve = r.string()?;
    let point = r.string()?;
    let scalar = r.string()?;
    let comment = r.string()?;
    if scalar.len() >= size {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(section.len() + size));
    out.extend_from_slice(checkints);
    put_string(&mut out, kind);
    put_string(&mut out, curve);
    put_string(&mut out, point);
    let mut padded = Zeroizing::new(vec![0u8; size]);
    padded[size - scalar.len()..].copy_from_slice(scalar);
    put_string(&mut out, &padded);
    put_string(&mut out, comment);
    let mut pad = 1u8;
    while out.len() % 8 != 0 {
        out.push(pad);
        pad += 1;
    }
    Some(out)
}

/// The base64 body of an `OPENSSH PRIVATE KEY` PEM block, decoded.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
    let end = "-----END OPENSSH PRIVATE KEY-----";
    let start = pem.find(begin)? + begin.len();
    let stop = start + pem[start..].find(end)?;
    let b64: String = pem[start..stop].split_whitespace().collect();
    use base64ct::Encoding;
    base64ct::Base64::decode_vec(&b64).ok()
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// A cursor over SSH wire encoding: every read checked against what is left.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_scalars_are_padded_and_others_left_alone() {
        let section = |scalar: &[u8]| {
            let mut s = vec![1, 2, 3, 4, 1, 2, 3, 4];
            put_string(&mut s, b"ecdsa-sha2-nistp256");
            put_string(&mut s, b"nistp256");
            put_string(&mut s, &[4; 65]);
            put_string(&mut s, scalar);
            put_string(&mut s, b"comment");
            s
        };
        let fixed = pad_scalar(&section(&[7; 31])).unwrap();
        assert_eq!(fixed.len() % 8, 0);
        let mut r = Reader(&fixed);
        r.take(8).unwrap();
        for _ in 0..3 {
            r.string().unwrap();
        }
        let scalar = r.string().unwrap();
        assert_eq!(scalar.len(), 32);
        assert_eq!((scalar[0], scalar[1]), (0, 7));
        assert_eq!(r.string().unwrap(), b"comment");
        assert!(pad_scalar(&section(&[7; 32])).is_none());
        assert!(pad_scalar(&section(&[0x80; 33])).is_none());
        assert!(pad_scalar(b"short").is_none());
        assert!(load_padded("not a key", None).is_none());
    }
}
