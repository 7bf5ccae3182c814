//! All git access, through git2: reading HEAD, status, tracked files, config and
//! tags, and writing a tag without ever overwriting one. No other module calls git2.

use crate::error::Failure;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The lines git treats as the start of a signature appended to a tag or commit
/// message (git's gpg-interface.c: OpenPGP, X.509 and SSH formats).
pub const SIGNATURE_STARTS: [&str; 4] = [
    "-----BEGIN PGP SIGNATURE-----",
    "-----BEGIN PGP MESSAGE-----",
    "-----BEGIN SIGNED MESSAGE-----",
    "-----BEGIN SSH SIGNATURE-----",
];

pub struct Repo {
    repo: git2::Repository,
}

/// What a tag name points at.
pub enum Tag {
    /// A ref straight to a commit (or another non-tag object): nothing signed.
    Lightweight,
    /// An annotated tag object with no signature block.
    Unsigned,
    /// An annotated tag: the signed part and the signature, split as git splits them.
    Signed {
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
}

pub struct Commit {
    pub id: String,
    /// Seconds since the epoch, as recorded by the committer.
    pub time: i64,
}

impl Repo {
    /// The repository containing `dir`; an error that says how to make one.
    pub fn discover(dir: &Path) -> Result<Repo> {
        git2::Repository::discover(dir)
            .map(|repo| Repo { repo })
            .map_err(|e| {
                Failure::new(format!(
                    "{} is not inside a git repository: {}",
                    dir.display(),
                    e.message()
                ))
                .help("run inside the repository (or pass --repo DIR); `git init` and commit a new project first")
                .into()
            })
    }

    /// The repository containing `dir`, if any.
    pub fn find(dir: &Path) -> Option<Repo> {
        git2::Repository::discover(dir)
            .ok()
            .map(|repo| Repo { repo })
    }

    /// The repository whose top directory is exactly `dir` (no search upwards).
    pub fn open_exact(dir: &Path) -> Option<Repo> {
        git2::Repository::open(dir).ok().map(|repo| Repo { repo })
    }

    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo.config().ok()?.get_string(key).ok()
    }

    pub fn head_commit(&self) -> Result<Commit> {
        let c = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| {
                Failure::new(format!(
                    "the repository has no commit to tag: {}",
                    e.message()
                ))
                .help("commit first")
            })?;
        Ok(Commit {
            id: c.id().to_string(),
            time: c.time().seconds(),
        })
    }

    /// Paths with uncommitted changes, untracked files included, ignored ones not.
    pub fn dirty_paths(&self) -> Result<Vec<String>> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .include_ignored(false)
            .recurse_untracked_dirs(false);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .context("could not read git status")?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT)
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect())
    }

    /// Whether `path` (absolute, inside the work tree) is in HEAD's tree.
    pub fn tracked_in_head(&self, path: &Path) -> bool {
        let Some(workdir) = self.repo.workdir() else {
            return false;
        };
        let workdir = workdir.canonicalize().unwrap_or(workdir.to_path_buf());
        let Ok(rel) = path.strip_prefix(&workdir) else {
            return false;
        };
        self.repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .is_ok_and(|t| t.get_path(rel).is_ok())
    }

    /// The tags that name a commit (peeled through annotated tags): a tag that
    /// points at a blob or a tree releases nothing.
    pub fn tag_names(&self) -> Vec<String> {
        self.repo
            .tag_names(None)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.ok().flatten().map(str::to_string))
                    .filter(|n| {
                        self.repo
                            .revparse_single(&format!("refs/tags/{n}"))
                            .and_then(|o| o.peel_to_commit())
                            .is_ok()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn tag_exists(&self, name: &str) -> bool {
        self.repo
            .find_reference(&format!("refs/tags/{name}"))
            .is_ok()
    }

    /// Reads tag `name`; None when there is no such tag.
    pub fn read_tag(&self, name: &str) -> Result<Option<Tag>> {
        let refname = format!("refs/tags/{name}");
        let Ok(reference) = self.repo.find_reference(&refname) else {
            return Ok(None);
        };
        let oid = reference
            .target()
            .ok_or_else(|| Failure::new(format!("{refname} is a symbolic reference")))?;
        let odb = self.repo.odb()?;
        let obj = odb.read(oid)?;
        if obj.kind() != git2::ObjectType::Tag {
            return Ok(Some(Tag::Lightweight));
        }
        Ok(Some(match split_signed(obj.data()) {
            Some((payload, signature)) => Tag::Signed {
                payload: payload.to_vec(),
                signature: signature.to_vec(),
            },
            None => Tag::Unsigned,
        }))
    }

    /// A file of the tree tag `name` points at (peeled to its commit), read from git's
    /// objects, never the work tree; None when the tag or the file is missing.
    pub fn file_at_tag(&self, name: &str, path: &str) -> Result<Option<Vec<u8>>> {
        self.file_at(
            &format!("refs/tags/{name}"),
            path,
            crate::fsutil::LOCKFILE_LIMIT,
        )
    }

    /// A file of the tree `rev` (any revision git understands) points at, of at most
    /// `limit` bytes; None when the revision or the file is missing.
    pub fn file_at(&self, rev: &str, path: &str, limit: u64) -> Result<Option<Vec<u8>>> {
        let Ok(tree) = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
        else {
            return Ok(None);
        };
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        let (size, kind) = self.repo.odb()?.read_header(entry.id())?;
        if kind != git2::ObjectType::Blob {
            return Ok(None);
        }
        if size as u64 > limit {
            return Err(Failure::new(format!(
                "{}:{} is {size} bytes, over the {limit}-byte limit for this file",
                crate::error::escape(rev),
                crate::error::escape(path)
            ))
            .into());
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .context("could not read a file of the tagged tree")?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The top of the work tree; None for a bare repository.
    pub fn workdir(&self) -> Option<PathBuf> {
        self.repo.workdir().map(Path::to_path_buf)
    }

    /// `dir` relative to the top of the work tree, `/`-separated (`""` for the top);
    /// None when it is outside the work tree.
    pub fn path_in_repo(&self, dir: &Path) -> Option<String> {
        let top = self.repo.workdir()?.canonicalize().ok()?;
        let dir = dir.canonicalize().ok()?;
        let rel = dir.strip_prefix(&top).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }

    /// Writes the tree `rev` points at into the empty directory `dest`, for a
    /// command that must look at a release as it was tagged. Only directories and
    /// regular files are written (symlinks and submodules are skipped), a name that
    /// could leave `dest` (`..`, a separator, `.git`) is refused, and the whole is
    /// bounded by `limit` bytes.
    pub fn extract_tree(&self, rev: &str, dest: &Path, limit: u64) -> Result<()> {
        let tree = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| {
                Failure::new(format!(
                    "could not read the tree of {}: {}",
                    crate::error::escape(rev),
                    e.message()
                ))
            })?;
        let mut total = 0u64;
        let mut failure: Option<anyhow::Error> = None;
        let walked = tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            let name = entry.name().unwrap_or("");
            if name.is_empty()
                || name == "."
                || name == ".."
                || name.eq_ignore_ascii_case(".git")
                || name.contains(['/', '\\', '\0'])
            {
                failure = Some(
                    Failure::new(format!(
                        "the tree of {} has an entry named `{}`, which cannot be written safely",
                        crate::error::escape(rev),
                        crate::error::escape(&format!("{root}{name}"))
                    ))
                    .into(),
                );
                return git2::TreeWalkResult::Abort;
            }
            let path = dest.join(root).join(name);
            let result: Result<()> = match entry.kind() {
                Some(git2::ObjectType::Tree) => crate::fsutil::create_dirs(&path),
                Some(git2::ObjectType::Blob) if entry.filemode() != 0o120000 => (|| {
                    // The declared size, read from the object's header: a blob over
                    // the limit is refused before it is inflated into memory.
                    let (size, _) = self.repo.odb()?.read_header(entry.id())?;
                    total += size as u64;
                    if total > limit {
                        return Err(Failure::new(format!(
                            "the tree of {} is over {limit} bytes; it was not extracted",
                            crate::error::escape(rev)
                        ))
                        .into());
                    }
                    if std::fs::symlink_metadata(&path).is_ok() {
                        return Err(Failure::new(format!(
                            "the tree of {} has two entries named `{}`; it was not extracted",
                            crate::error::escape(rev),
                            crate::error::escape(&format!("{root}{name}"))
                        ))
                        .into());
                    }
                    let blob = self.repo.find_blob(entry.id())?;
                    crate::fsutil::write_new(&path, blob.content(), entry.filemode() == 0o100755)
                })(
                ),
                _ => Ok(()),
            };
            match result {
                Ok(()) => git2::TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    git2::TreeWalkResult::Abort
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        walked.context("could not walk the tagged tree")?;
        Ok(())
    }

    /// The committer time (unix seconds) of the commit `rev` names.
    pub fn commit_time(&self, rev: &str) -> Option<i64> {
        let commit = self.repo.revparse_single(rev).ok()?.peel_to_commit().ok()?;
        Some(commit.time().seconds())
    }

    /// Is `ancestor` (a commit id) an ancestor of `descendant`, and not the same commit?
    pub fn is_strict_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        let (Ok(a), Ok(d)) = (
            git2::Oid::from_str(ancestor),
            git2::Oid::from_str(descendant),
        ) else {
            return false;
        };
        a != d && self.repo.graph_descendant_of(d, a).unwrap_or(false)
    }

    /// The commits reachable from `to` and not from `from` (ids), oldest first.
    pub fn commits_between(&self, from: &str, to: &str) -> Result<Vec<String>> {
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
        walk.push(git2::Oid::from_str(to)?)?;
        walk.hide(git2::Oid::from_str(from)?)?;
        Ok(walk.filter_map(|o| o.ok().map(|o| o.to_string())).collect())
    }

    /// A signed commit's signature and the bytes it covers (git's `gpgsig` header
    /// split off); None when the commit is not signed.
    pub fn commit_signature(&self, id: &str) -> Option<(Vec<u8>, Vec<u8>)> {
        let oid = git2::Oid::from_str(id).ok()?;
        let (sig, data) = self.repo.extract_signature(&oid, None).ok()?;
        Some((sig.to_vec(), data.to_vec()))
    }

    /// The commit `rev` names, as a full id; None when git cannot resolve it.
    pub fn resolve_commit(&self, rev: &str) -> Option<String> {
        let commit = self.repo.revparse_single(rev).ok()?.peel_to_commit().ok()?;
        Some(commit.id().to_string())
    }

    /// Writes a tag object and `refs/tags/NAME` pointing at it, holding the ref's lock
    /// from before the object is written until the ref is in place. A tag that exists,
    /// or that another process is creating, is refused before anything is written,
    /// so a refusal leaves no object behind.
    pub fn create_tag(&self, name: &str, object: &[u8]) -> Result<String> {
        let refname = format!("refs/tags/{name}");
        let mut tx = self
            .repo
            .transaction()
            .context("could not start a ref transaction")?;
        if let Err(e) = tx.lock_ref(&refname) {
            return Err(Failure::new(format!(
                "could not lock {refname}: {}; nothing was written",
                e.message()
            ))
            .help("another process may be creating the same tag: check `git tag -l` and try again")
            .refusal()
            .into());
        }
        if self.tag_exists(name) {
            return Err(already_exists(name).into());
        }
        let oid = self
            .repo
            .odb()
            .and_then(|odb| odb.write(git2::ObjectType::Tag, object))
            .context("could not write the tag object")?;
        tx.set_target(&refname, oid, None, "cargo secure-release tag")
            .and_then(|_| tx.commit())
            .map_err(|e| {
                Failure::new(format!("could not create {refname}: {}", e.message()))
                    .help("nothing was overwritten")
            })?;
        Ok(oid.to_string())
    }
}

pub fn already_exists(name: &str) -> Failure {
    Failure::new(format!("tag `{name}` already exists; nothing was changed"))
        .help("tags are never overwritten: bump the version, or delete the tag yourself if it was never published")
        .refusal()
}

/// The commit and commit time of the repository at exactly `dir` (for an advisory
/// database checkout).
pub fn head_of(dir: &Path) -> Option<(String, i64)> {
    let repo = Repo::open_exact(dir)?;
    let c = repo.head_commit().ok()?;
    Some((c.id, c.time))
}

/// Whether `refs/tags/NAME` is a name `git tag` would accept.
pub fn valid_tag_name(name: &str) -> bool {
    !name.starts_with('-') && git2::Reference::is_valid_name(&format!("refs/tags/{name}"))
}

/// Splits a tag object where git does: at the *last* line that starts a signature
/// (git's parse_signed_buffer), so a message that quotes an armor line still
/// verifies. Returns (payload, signature), or None for an unsigned tag.
pub fn split_signed(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut start = 0;
    let mut found = None;
    while start < raw.len() {
        let rest = &raw[start..];
        if SIGNATURE_STARTS
            .iter()
            .any(|m| rest.starts_with(m.as_bytes()))
        {
            found = Some(start);
        }
        match rest.iter().position(|b| *b == b'\n') {
            Some(nl) => start += nl + 1,
            None => break,
        }
    }
    found.map(|at| (&raw[..at], &raw[at..]))
}

/// The first line of `text` that git would take for the start of a signature.
pub fn signature_line(text: &str) -> Option<(usize, &str)> {
    text.lines()
        .enumerate()
        .find(|(_, l)| SIGNATURE_STARTS.iter().any(|m| l.starts_with(m)))
        .map(|(i, l)| (i + 1, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_the_last_signature_line_as_git_does() {
        let raw = b"object x\n\nmsg quotes\n-----BEGIN PGP SIGNATURE-----\ninside the message\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        let (p, s) = split_signed(raw).unwrap();
        assert!(p.ends_with(b"inside the message\n"));
        assert!(s.starts_with(b"-----BEGIN PGP SIGNATURE-----\nabc"));
        assert!(split_signed(b"object x\n\nunsigned\n").is_none());
        let inline = b"object x\n\nmentions -----BEGIN PGP SIGNATURE----- inline\n";
        assert!(split_signed(inline).is_none());
    }

    #[test]
    fn tag_names_follow_git() {
        assert!(valid_tag_name("v1.2.3"));
        assert!(valid_tag_name("my-crate-v1.2.3"));
        assert!(!valid_tag_name("-v0.1.0"));
        assert!(!valid_tag_name("v1..2"));
        assert!(!valid_tag_name("v1.2.3.lock"));
        assert!(!valid_tag_name("v1 2"));
        assert!(!valid_tag_name(""));
    }
}
