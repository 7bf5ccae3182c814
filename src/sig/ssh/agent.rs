//! Just enough of the ssh-agent protocol (draft-miller-ssh-agent) to list the
//! agent's keys and have it sign: the private key never enters this process.

use crate::error::{escape, Failure};
use anyhow::Result;
use ssh_key::{PublicKey, Signature};

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
/// Ask for rsa-sha2-512 rather than the SHA-1 `ssh-rsa` default.
const RSA_SHA2_512: u32 = 4;
/// An agent's answer is a few kilobytes; more means something else is listening.
const MAX_MESSAGE: usize = 256 * 1024;

/// Has the agent at `SSH_AUTH_SOCK` sign `data` with `key`.
pub fn sign(key: &PublicKey, fingerprint: &str, data: &[u8]) -> Result<Signature> {
    let mut conn = connect()?;
    let blob = key.to_bytes()?;
    let listed = identities(&mut conn)?;
    if !listed.contains(&blob) {
        return Err(Failure::new(format!(
            "the ssh-agent does not hold SSH key {fingerprint}"
        ))
        .help("add it with `ssh-add PRIVATE_KEY_FILE` (check with `ssh-add -l`), or pass --key with the private key file")
        .into());
    }
    let mut body = Vec::new();
    put_string(&mut body, &blob);
    put_string(&mut body, data);
    let flags = if key.key_data().is_rsa() {
        RSA_SHA2_512
    } else {
        0
    };
    body.extend_from_slice(&flags.to_be_bytes());
    let (kind, reply) = request(&mut conn, SIGN_REQUEST, &body)?;
    if kind != SIGN_RESPONSE {
        return Err(Failure::new(format!(
            "the ssh-agent refused to sign with SSH key {fingerprint}"
        ))
        .help("a confirmation-required key (`ssh-add -c`) needs the prompt answered; a locked agent needs `ssh-add -X`")
        .into());
    }
    let mut r = &reply[..];
    let sig = get_string(&mut r)?;
    Signature::try_from(sig).map_err(|e| {
        Failure::new(format!("the ssh-agent's signature could not be read: {e}")).into()
    })
}

#[cfg(unix)]
type Conn = std::os::unix::net::UnixStream;

#[cfg(unix)]
fn connect() -> Result<Conn> {
    let Some(path) = std::env::var_os("SSH_AUTH_SOCK").filter(|p| !p.is_empty()) else {
        return Err(Failure::new("no ssh-agent: SSH_AUTH_SOCK is not set, and only the public key is at hand")
            .help("start one (`eval $(ssh-agent)`) and `ssh-add` the key, or pass --key with the private key file")
            .into());
    };
    let conn = Conn::connect(&path).map_err(|e| {
        Failure::new(format!(
            "could not reach the ssh-agent at {}: {e}",
            escape(&std::path::Path::new(&path).display().to_string())
        ))
        .help("check SSH_AUTH_SOCK, or pass --key with the private key file")
    })?;
    let limit = Some(std::time::Duration::from_secs(60));
    conn.set_read_timeout(limit)?;
    conn.set_write_timeout(limit)?;
    Ok(conn)
}

#[cfg(not(unix))]
type Conn = std::fs::File;

#[cfg(not(unix))]
fn connect() -> Result<Conn> {
    Err(
        Failure::new("signing through ssh-agent is supported on Unix only")
            .help("pass --key with the private key file")
            .into(),
    )
}

fn identities(conn: &mut Conn) -> Result<Vec<Vec<u8>>> {
    let (kind, reply) = request(conn, REQUEST_IDENTITIES, &[])?;
    if kind != IDENTITIES_ANSWER {
        return Err(Failure::new("the ssh-agent did not list its keys").into());
    }
    let mut r = &reply[..];
    let n = get_u32(&mut r)?;
    let mut keys = Vec::new();
    for _ in 0..n {
        keys.push(get_string(&mut r)?.to_vec());
        get_string(&mut r)?; // comment
    }
    Ok(keys)
}

fn request(conn: &mut Conn, kind: u8, body: &[u8]) -> Result<(u8, Vec<u8>)> {
    use std::io::{Read, Write};
    let bad = |e: std::io::Error| Failure::new(format!("talking to the ssh-agent failed: {e}"));
    let mut msg = Vec::with_capacity(body.len() + 5);
    msg.extend_from_slice(&(body.len() as u32 + 1).to_be_bytes());
    msg.push(kind);
    msg.extend_from_slice(body);
    conn.write_all(&msg).map_err(bad)?;
    let mut len = [0u8; 4];
    conn.read_exact(&mut len).map_err(bad)?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_MESSAGE {
        return Err(Failure::new(format!(
            "the ssh-agent sent a {len}-byte message; SSH_AUTH_SOCK may not be an ssh-agent"
        ))
        .into());
    }
    let mut reply = vec![0u8; len];
    conn.read_exact(&mut reply).map_err(bad)?;
    let kind = reply.remove(0);
    Ok((kind, reply))
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn get_u32(r: &mut &[u8]) -> Result<u32> {
    if r.len() < 4 {
        return Err(truncated());
    }
    let (head, rest) = r.split_at(4);
    *r = rest;
    Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
}

fn get_string<'a>(r: &mut &'a [u8]) -> Result<&'a [u8]> {
    let n = get_u32(r)? as usize;
    if r.len() < n {
        return Err(truncated());
    }
    let (s, rest) = r.split_at(n);
    *r = rest;
    Ok(s)
}

fn truncated() -> anyhow::Error {
    Failure::new("the ssh-agent's answer is truncated").into()
}
