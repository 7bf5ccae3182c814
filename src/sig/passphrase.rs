//! Passphrases for secret keys: from a file, a named environment variable or a
//! no-echo prompt; held in wiped memory and never printed.

use crate::error::Failure;
use anyhow::Result;
use std::path::Path;
use zeroize::Zeroizing;

/// Where the passphrase comes from. Never stored by us beyond the decryption.
pub enum PassphraseSource<'a> {
    File(&'a Path),
    Env(&'a str),
    Prompt,
}

/// The passphrase for `key` (how the prompt names it, e.g. "key SHA256:…").
pub fn read(src: PassphraseSource<'_>, key: &str) -> Result<Zeroizing<String>> {
    let text: Zeroizing<String> = match src {
        PassphraseSource::File(p) => {
            let bytes = Zeroizing::new(crate::fsutil::read_bounded(
                p,
                crate::fsutil::KEY_LIMIT,
                "passphrase file",
            )?);
            Zeroizing::new(
                std::str::from_utf8(&bytes)
                    .map(str::to_string)
                    .map_err(|_| {
                        Failure::new(format!(
                            "passphrase file {} is not UTF-8 text",
                            crate::error::escape(&p.display().to_string())
                        ))
                    })?,
            )
        }
        PassphraseSource::Env(var) => Zeroizing::new(std::env::var(var).map_err(|_| {
            Failure::new(format!(
                "environment variable {} (named by --passphrase-env) is not set",
                crate::error::escape(var)
            ))
            .help(format!(
                "export {}=… or use --passphrase-file",
                crate::error::escape(var)
            ))
        })?),
        PassphraseSource::Prompt => {
            match crate::shell::prompt_secret(&format!("Passphrase for {key}: ")) {
                Some(read) => Zeroizing::new(
                    read.map_err(|e| Failure::new(format!("could not read the passphrase: {e}")))?,
                ),
                None => {
                    return Err(Failure::new(format!(
                        "{key} is protected by a passphrase and there is no terminal to ask for it"
                    ))
                    .help("pass --passphrase-file FILE or --passphrase-env VAR")
                    .into())
                }
            }
        }
    };
    // A passphrase file usually ends with a newline that is not part of the secret.
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(Zeroizing::new(trimmed.to_string()))
}
