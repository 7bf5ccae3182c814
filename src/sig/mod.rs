//! Signatures: OpenPGP with sequoia (`openpgp`), SSH signatures and OpenSSH's
//! allowed-signers rules (`ssh`), the signer policy committed in the repository
//! (`policy`), the release key a tag is signed with (`sign`), and one check of a
//! signature against keys (`check`) whose `Verdict` every reader shares.

pub mod check;
pub mod openpgp;
pub mod passphrase;
pub mod policy;
pub mod sign;
pub mod ssh;

/// A signature format (defined with the options, which name it on the command line).
pub use crate::options::SignFormat as Format;
