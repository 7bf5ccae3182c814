//! Links into the documentation (`docs/`). Every link the tool emits (SARIF
//! `helpUri`s, `help:` lines) is made here, so `tests/integration/docs.rs` can check
//! each one against the files and headings in `docs/`: renaming a heading fails a
//! test instead of breaking a link in someone's code-scanning alert.

/// The project's home; SARIF's `informationUri`.
pub const HOME: &str = "https://github.com/cargo-secure-release/cargo-secure-release";

/// `PAGE#ANCHOR` in `docs/`, as a URL on the project's home.
pub fn link(page: &str, anchor: &str) -> String {
    format!("{HOME}/blob/main/docs/{page}#{anchor}")
}

/// A finding code's entry in `docs/codes.md`.
pub fn code(code: &str) -> String {
    link("codes.md", code)
}

/// The page of the `[*.metadata.secure-release]` keys.
pub fn configuration() -> String {
    link("configuration.md", "configuration-keys")
}
