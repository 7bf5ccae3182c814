//! The release tag as an object: its bytes as git writes them (`object`) and the
//! claims its trailer makes (`claims`). `tag` writes both, `verify` and `init` read
//! them; neither owns the format.

pub mod claims;
pub mod object;

pub use claims::Claims;
