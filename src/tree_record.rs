//! A directory tree's digest (every file's path, size and modification time) that a
//! repeated run confirms with one `stat` per entry instead of listing every directory
//! again: the advisory database is a thousand directories, and listing them was the
//! longest part of a warm audit and of `tag`'s gate.
//!
//! As sound as the listing it stands for: adding, removing or renaming an entry
//! changes its directory's modification time, and editing a file its size or time.
//! Anything that does not match is a miss, which lists the tree and records it again.
//! File times are coarse (the kernel stamps them from a clock that moves in
//! milliseconds), so a tree with an entry changed in the last seconds before the
//! listing is not recorded: a change made in the same tick could not be told apart.

use crate::fsutil::{mtime_ns, Tree};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Bumped when the record's meaning changes.
const FORMAT: u32 = 1;

/// Entries younger than this at listing time are too fresh to vouch for.
const SETTLED_NS: u128 = 2_000_000_000;

/// The digest of the tree under `root`, from its record when every entry still
/// matches (or with no cache directory, from a listing).
pub fn digest(root: &Path) -> [u8; 32] {
    digest_in(root, slot(root).as_deref())
}

fn digest_in(root: &Path, slot: Option<&Path>) -> [u8; 32] {
    if let Some(d) = slot.and_then(|s| confirm(s, root)) {
        return d;
    }
    let started = now_ns();
    let tree = crate::fsutil::tree_under(root);
    let d = digest_of(&tree);
    if let Some(slot) = slot {
        write(slot, root, &tree, &d, started);
    }
    d
}

/// Every file's path, size and time, in path order.
fn digest_of(tree: &Tree) -> [u8; 32] {
    let mut h = Sha256::new();
    for (p, meta) in &tree.files {
        h.update(p.as_os_str().as_encoded_bytes());
        h.update(meta.len().to_le_bytes());
        h.update(mtime_ns(meta).to_le_bytes());
    }
    h.finalize().into()
}

/// One record per tree, named by its canonical path: a relative `--advisory-db` names
/// another tree from another directory.
fn slot(root: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(root).ok()?;
    let name = crate::digest::sha256_hex(canonical.as_os_str().as_encoded_bytes());
    Some(
        crate::cache::dir()?
            .join(format!("tree-v{FORMAT}"))
            .join(format!("{name}.txt")),
    )
}

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The record, one line per entry: `d MTIME\tPATH` or `f SIZE MTIME\tPATH`, paths
/// relative to the root (the root itself is the empty path). Not written when a path
/// cannot be written on one line, or when an entry had not settled.
fn write(slot: &Path, root: &Path, tree: &Tree, digest: &[u8; 32], started: u128) {
    let mut text = format!("tree-record {FORMAT} {}\n", crate::digest::hex(digest));
    let entries = tree
        .dirs
        .iter()
        .map(|e| (true, e))
        .chain(tree.files.iter().map(|e| (false, e)));
    for (is_dir, (path, meta)) in entries {
        let t = mtime_ns(meta);
        if t == 0 || t + SETTLED_NS > started {
            return;
        }
        let Some(rel) = path.strip_prefix(root).ok().and_then(Path::to_str) else {
            return;
        };
        if rel.contains(['\n', '\t']) {
            return;
        }
        match is_dir {
            true => text.push_str(&format!("d {t}\t{rel}\n")),
            false => text.push_str(&format!("f {} {t}\t{rel}\n", meta.len())),
        }
    }
    if let Some(parent) = slot.parent() {
        if std::fs::create_dir_all(parent).is_ok() {
            let _ = crate::fsutil::write_atomic(slot, &text);
        }
    }
}

struct Entry<'a> {
    /// None for a directory.
    size: Option<u64>,
    mtime: u128,
    rel: &'a str,
}

/// The recorded digest, if every recorded entry is still there as recorded.
fn confirm(slot: &Path, root: &Path) -> Option<[u8; 32]> {
    let bytes =
        crate::fsutil::read_bounded(slot, crate::fsutil::LOCKFILE_LIMIT, "tree record").ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let mut lines = text.lines();
    let digest = lines
        .next()?
        .strip_prefix(&format!("tree-record {FORMAT} "))
        .and_then(crate::digest::from_hex)?;
    let entries = lines.map(parse).collect::<Option<Vec<Entry>>>()?;
    // The root's line comes first; a record without it proves nothing.
    if entries
        .first()
        .is_none_or(|e| e.size.is_some() || !e.rel.is_empty())
    {
        return None;
    }
    let changed = AtomicBool::new(false);
    let base = Base::open(root)?;
    let check = |chunk: &[Entry]| {
        for e in chunk {
            if changed.load(Ordering::Relaxed) {
                return;
            }
            let same = base.stat(e.rel).is_some_and(|(is_dir, size, mtime)| {
                mtime == e.mtime
                    && match e.size {
                        None => is_dir,
                        Some(s) => !is_dir && size == s,
                    }
            });
            if !same {
                changed.store(true, Ordering::Relaxed);
            }
        }
    };
    // Two halves on two cores: each stat is a system call that mostly waits.
    let (a, b) = entries.split_at(entries.len() / 2);
    std::thread::scope(|s| {
        s.spawn(|| check(b));
        check(a);
    });
    (!changed.into_inner()).then_some(digest)
}

/// Where entries are looked up. On Unix, relative to the root's open directory: the
/// kernel then walks three path components per entry instead of the whole path,
/// which halves the time of the thousands of lookups.
struct Base {
    #[cfg(not(unix))]
    root: PathBuf,
    #[cfg(unix)]
    dir: std::fs::File,
}

impl Base {
    fn open(root: &Path) -> Option<Base> {
        Some(Base {
            #[cfg(not(unix))]
            root: root.to_path_buf(),
            #[cfg(unix)]
            dir: std::fs::File::open(root).ok()?,
        })
    }

    /// Whether `rel` is a directory, its size and its modification time (ns), without
    /// following a symbolic link.
    #[cfg(unix)]
    fn stat(&self, rel: &str) -> Option<(bool, u64, u128)> {
        use std::os::fd::AsRawFd;
        let rel = if rel.is_empty() { "." } else { rel };
        let c = std::ffi::CString::new(rel).ok()?;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `c` is a NUL-terminated path, `dir` an open descriptor for the
        // call's duration, and `st` is written by fstatat before it is read (only on
        // success).
        let st = unsafe {
            if libc::fstatat(
                self.dir.as_raw_fd(),
                c.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            ) != 0
            {
                return None;
            }
            st.assume_init()
        };
        // Times before the epoch count as unknown (0), as in `fsutil::mtime_ns`.
        let mtime = match (
            u128::try_from(st.st_mtime),
            u128::try_from(st.st_mtime_nsec),
        ) {
            (Ok(s), Ok(ns)) => s * 1_000_000_000 + ns,
            _ => 0,
        };
        let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        Some((is_dir, u64::try_from(st.st_size).ok()?, mtime))
    }

    #[cfg(not(unix))]
    fn stat(&self, rel: &str) -> Option<(bool, u64, u128)> {
        let m = std::fs::symlink_metadata(self.root.join(rel)).ok()?;
        Some((m.is_dir(), m.len(), mtime_ns(&m)))
    }
}

fn parse(line: &str) -> Option<Entry<'_>> {
    let (head, rel) = line.split_once('\t')?;
    let mut f = head.split(' ');
    let (size, mtime) = match f.next()? {
        "d" => (None, f.next()?.parse().ok()?),
        "f" => (Some(f.next()?.parse().ok()?), f.next()?.parse().ok()?),
        _ => return None,
    };
    f.next().is_none().then_some(Entry { size, mtime, rel })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// Sets every entry's time an hour back, so that the tree counts as settled.
    fn settle(root: &Path) {
        let old = SystemTime::now() - Duration::from_secs(3600);
        let tree = crate::fsutil::tree_under(root);
        for (p, _) in tree.files.iter().chain(tree.dirs.iter().rev()) {
            std::fs::File::open(p).unwrap().set_modified(old).unwrap();
        }
    }

    fn listed(root: &Path) -> [u8; 32] {
        digest_of(&crate::fsutil::tree_under(root))
    }

    #[test]
    fn a_record_is_confirmed_until_any_entry_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, slot) = (tmp.path().join("db"), tmp.path().join("record.txt"));
        std::fs::create_dir_all(root.join("crates/a")).unwrap();
        std::fs::create_dir_all(root.join("crates/b")).unwrap();
        std::fs::write(root.join("crates/a/RUSTSEC-1.md"), "one").unwrap();
        std::fs::write(root.join("crates/b/RUSTSEC-2.md"), "two").unwrap();
        type Change<'a> = (&'a str, &'a dyn Fn(&Path));
        let changes: [Change; 6] = [
            ("a file rewritten with another size", &|r| {
                std::fs::write(r.join("crates/a/RUSTSEC-1.md"), "one more").unwrap()
            }),
            ("a file with the same size and a new time", &|r| {
                let f = std::fs::File::options()
                    .write(true)
                    .open(r.join("crates/a/RUSTSEC-1.md"))
                    .unwrap();
                f.set_modified(SystemTime::now()).unwrap();
            }),
            ("a file added two directories down", &|r| {
                std::fs::write(r.join("crates/b/RUSTSEC-3.md"), "three").unwrap()
            }),
            ("a file removed", &|r| {
                std::fs::remove_file(r.join("crates/b/RUSTSEC-3.md")).unwrap()
            }),
            ("a file renamed", &|r| {
                std::fs::rename(
                    r.join("crates/b/RUSTSEC-2.md"),
                    r.join("crates/b/RUSTSEC-4.md"),
                )
                .unwrap()
            }),
            ("a directory added", &|r| {
                std::fs::create_dir(r.join("crates/c")).unwrap()
            }),
        ];
        for (what, change) in changes {
            settle(&root);
            let recorded = digest_in(&root, Some(&slot));
            assert_eq!(recorded, listed(&root));
            assert_eq!(confirm(&slot, &root), Some(recorded), "before: {what}");
            change(&root);
            assert_eq!(confirm(&slot, &root), None, "{what} is noticed");
            assert_eq!(digest_in(&root, Some(&slot)), listed(&root), "{what}");
        }
    }

    #[test]
    fn a_fresh_tree_is_not_recorded() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, slot) = (tmp.path().join("db"), tmp.path().join("record.txt"));
        std::fs::create_dir_all(root.join("crates/a")).unwrap();
        std::fs::write(root.join("crates/a/RUSTSEC-1.md"), "one").unwrap();
        assert_eq!(digest_in(&root, Some(&slot)), listed(&root));
        assert!(
            !slot.exists(),
            "entries changed within the last seconds are not vouched for"
        );
        settle(&root);
        digest_in(&root, Some(&slot));
        assert!(slot.exists());
        // A damaged record is a miss, not an error.
        std::fs::write(&slot, "tree-record 1 00\nf x\tcrates\n").unwrap();
        assert_eq!(confirm(&slot, &root), None);
        assert_eq!(digest_in(&root, Some(&slot)), listed(&root));
    }
}
