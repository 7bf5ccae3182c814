//! The signature checks sigstore-verify asks for, done by the RustCrypto crates the
//! tree already has (through ssh-key and sequoia): its default backend, aws-lc-rs,
//! is a C and assembly build of minutes on two cores, and a second copy of every
//! algorithm in the binary. Verification only: this tool never signs a bundle.

use sha2::Digest;
use sigstore_verify::crypto::{CryptoProvider, Error, HashContext, SigningScheme};
use sigstore_verify::types::HashAlgorithm;

#[derive(Debug)]
struct RustCrypto;

static PROVIDER: RustCrypto = RustCrypto;

/// Makes ours the process's provider; later calls (a second verification) keep it.
pub fn install() {
    // Err means a provider is installed already, and only this module installs one.
    let _ = sigstore_verify::crypto::install_default_provider(&PROVIDER);
}

struct Hasher<D: Digest + Send>(D);

impl<D: Digest + Send> HashContext for Hasher<D> {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data)
    }

    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn invalid(scheme: SigningScheme) -> Error {
    Error::Verification(format!("{} signature invalid", scheme.name()))
}

fn digest_of(algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match algorithm {
        HashAlgorithm::Sha2256 => sha2::Sha256::digest(data).to_vec(),
        HashAlgorithm::Sha2384 => sha2::Sha384::digest(data).to_vec(),
        HashAlgorithm::Sha2512 => sha2::Sha512::digest(data).to_vec(),
        other => return Err(Error::UnsupportedAlgorithm(format!("{other}"))),
    })
}

/// `key` is the SPKI's subjectPublicKey: a SEC1 point for ECDSA, PKCS#1 for RSA.
/// ECDSA signatures are DER, as X.509 and Sigstore write them.
fn verify_digest(
    scheme: SigningScheme,
    key: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use SigningScheme as S;
    let good = match scheme {
        S::EcdsaP256Sha256 | S::EcdsaP256Sha384 => {
            let key =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| invalid(scheme))?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| invalid(scheme))?;
            key.verify_prehash(digest, &sig).is_ok()
        }
        S::EcdsaP384Sha256 | S::EcdsaP384Sha384 => {
            let key =
                p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|_| invalid(scheme))?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| invalid(scheme))?;
            key.verify_prehash(digest, &sig).is_ok()
        }
        S::RsaPkcs1Sha256
        | S::RsaPkcs1Sha384
        | S::RsaPkcs1Sha512
        | S::RsaPssSha256
        | S::RsaPssSha384
        | S::RsaPssSha512 => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|_| invalid(scheme))?;
            // The sizes aws-lc-rs and webpki accept.
            if !(2048..=8192).contains(&(key.size() * 8)) {
                return Err(invalid(scheme));
            }
            let checked = match scheme {
                S::RsaPkcs1Sha256 => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest, signature)
                }
                S::RsaPkcs1Sha384 => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), digest, signature)
                }
                S::RsaPkcs1Sha512 => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), digest, signature)
                }
                S::RsaPssSha256 => key.verify(rsa::Pss::new::<sha2::Sha256>(), digest, signature),
                S::RsaPssSha384 => key.verify(rsa::Pss::new::<sha2::Sha384>(), digest, signature),
                _ => key.verify(rsa::Pss::new::<sha2::Sha512>(), digest, signature),
            };
            checked.is_ok()
        }
        other => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "{} signatures are not supported by this build",
                other.name()
            )))
        }
    };
    match good {
        true => Ok(()),
        false => Err(invalid(scheme)),
    }
}

impl CryptoProvider for RustCrypto {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>, Error> {
        Ok(match algorithm {
            HashAlgorithm::Sha2256 => Box::new(Hasher(sha2::Sha256::new())),
            HashAlgorithm::Sha2384 => Box::new(Hasher(sha2::Sha384::new())),
            HashAlgorithm::Sha2512 => Box::new(Hasher(sha2::Sha512::new())),
            other => return Err(Error::UnsupportedAlgorithm(format!("{other}"))),
        })
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        if scheme == SigningScheme::Ed25519 {
            let key: [u8; 32] = key.try_into().map_err(|_| invalid(scheme))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| invalid(scheme))?;
            let sig =
                ed25519_dalek::Signature::from_slice(signature).map_err(|_| invalid(scheme))?;
            // Strict: no small-order keys, no malleable signatures.
            return key.verify_strict(data, &sig).map_err(|_| invalid(scheme));
        }
        let algorithm = scheme.hash_algorithm().ok_or_else(|| {
            Error::UnsupportedAlgorithm(format!(
                "{} signatures are not supported by this build",
                scheme.name()
            ))
        })?;
        verify_digest(scheme, key, &digest_of(algorithm, data)?, signature)
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        verify_digest(scheme, key, digest, signature)
    }
}
