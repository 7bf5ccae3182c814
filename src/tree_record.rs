//! A directory tree's digest (every file's path and content) that a repeated run
//! confirms with one `stat` per entry against a record of every entry's stamp
//! (device, inode, size, both times) instead of listing and reading the tree again:
//! the advisory database is a thousand directories, and listing them was the longest
//! part of a warm audit and of `tag`'s gate.
//!
//! As sound as the listing it stands for: adding, removing or renaming an entry
//! changes its directory's stamp, and editing a file its ctime (which no user-space
//! call can set back, unlike size and mtime). Links are followed, as cargo-deny's
//! loader follows them: a retargeted link resolves to entries with other inodes.
//! Anything that does not match is a miss, which lists the tree and records it
//! again. File times are coarse (the kernel stamps them from a clock that moves in
//! ticks), so a tree with an entry changed within the last seconds is not recorded:
//! its digest comes from the content every time until it settles.

use crate::fsutil::{Stamp, Tree};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bumped when the record's meaning changes.
const FORMAT: u32 = 2;
const NAMESPACE: &str = "tree-v2";

/// The digest of the tree under `root`, from its record when every entry still
/// matches (or with no trusted cache directory, from a listing).
pub fn digest(root: &Path) -> [u8; 32] {
    let store = crate::cache::store();
    let name = store.and_then(|_| slot(root));
    let slot = store.zip(name.as_deref());
    if let Some(d) =
        slot.and_then(|(s, n)| confirm(&s.read(NAMESPACE, n, crate::fsutil::LOCKFILE_LIMIT)?, root))
    {
        return d;
    }
    let (d, record) = listed(root);
    if let (Some((s, n)), Some(text)) = (slot, record) {
        s.write(NAMESPACE, n, text.as_bytes());
    }
    d
}

/// Whether cargo-deny's loader would read below `dir`: not into a database's own
/// git directory (objects, not advisories), but into any directory under `crates/`,
/// a `.git` there included, since the loader takes every `.md` it finds there.
fn reader_descends(root: &Path, dir: &Path) -> bool {
    let under_crates = dir
        .strip_prefix(root)
        .map(|rel| rel.components().any(|c| c.as_os_str() == "crates"))
        .unwrap_or(false);
    under_crates || dir.file_name().is_none_or(|n| n != ".git")
}

/// The digest from a listing, and the record to keep of it (None when an entry had
/// not settled, or a path cannot be written on one line).
fn listed(root: &Path) -> ([u8; 32], Option<String>) {
    listed_at(root, crate::fsutil::now_ns())
}

/// As `listed`, with entries judged fresh against `started`.
fn listed_at(root: &Path, started: u128) -> ([u8; 32], Option<String>) {
    let tree = crate::fsutil::tree_under(root, &|p| reader_descends(root, p));
    let d = digest_of(&tree);
    let record = record_of(root, &tree, &d, started);
    (d, record)
}

/// Every file's path and content, in path order. The content, not the stamps: a
/// listing happens only when the record cannot vouch for the tree (a miss, or a tree
/// too fresh to record), and then nothing short of the bytes tells a same-tick edit
/// apart; an identical copy (a CI cache restore) keeps its digest. Hashed on two
/// threads (the database is about 9 MB).
fn digest_of(tree: &Tree) -> [u8; 32] {
    let hash = |files: &[(std::path::PathBuf, std::fs::Metadata)]| -> Vec<[u8; 32]> {
        files
            .iter()
            .map(|(p, _)| {
                let bytes = crate::fsutil::read_bounded(p, crate::fsutil::LOCKFILE_LIMIT, "file")
                    .unwrap_or_default();
                Sha256::digest(&bytes).into()
            })
            .collect()
    };
    let (a, b) = tree.files.split_at(tree.files.len() / 2);
    let contents = std::thread::scope(|s| {
        let second = s.spawn(|| hash(b));
        let mut all = hash(a);
        all.extend(second.join().unwrap_or_default());
        all
    });
    let mut h = Sha256::new();
    for ((p, _), content) in tree.files.iter().zip(&contents) {
        h.update((p.as_os_str().len() as u64).to_le_bytes());
        h.update(p.as_os_str().as_encoded_bytes());
        h.update(content);
    }
    h.finalize().into()
}

/// One record per tree, named by its canonical path: a relative `--advisory-db` names
/// another tree from another directory.
fn slot(root: &Path) -> Option<String> {
    let canonical = std::fs::canonicalize(root).ok()?;
    let name = crate::digest::sha256_hex(canonical.as_os_str().as_encoded_bytes());
    Some(format!("{name}.txt"))
}

/// The record, one line per entry: `d DEV INO MTIME CTIME\tPATH` or
/// `f DEV INO SIZE MTIME CTIME\tPATH`, paths relative to the root (the root itself
/// is the empty path).
fn record_of(root: &Path, tree: &Tree, digest: &[u8; 32], started: u128) -> Option<String> {
    let mut text = format!("tree-record {FORMAT} {}\n", crate::digest::hex(digest));
    let entries = tree
        .dirs
        .iter()
        .map(|e| (true, e))
        .chain(tree.files.iter().map(|e| (false, e)));
    for (is_dir, (path, meta)) in entries {
        let st = Stamp::of(meta);
        if st.fresh(started) {
            return None;
        }
        let rel = path.strip_prefix(root).ok().and_then(Path::to_str)?;
        if rel.contains(['\n', '\t']) {
            return None;
        }
        let Stamp {
            dev,
            ino,
            size,
            mtime_ns: m,
            ctime_ns: c,
        } = st;
        match is_dir {
            true => text.push_str(&format!("d {dev} {ino} {m} {c}\t{rel}\n")),
            false => text.push_str(&format!("f {dev} {ino} {size} {m} {c}\t{rel}\n")),
        }
    }
    Some(text)
}

struct Entry<'a> {
    is_dir: bool,
    stamp: Stamp,
    rel: &'a str,
}

/// The recorded digest, if every recorded entry is still there as recorded.
fn confirm(bytes: &[u8], root: &Path) -> Option<[u8; 32]> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    let digest = lines
        .next()?
        .strip_prefix(&format!("tree-record {FORMAT} "))
        .and_then(crate::digest::from_hex)?;
    let entries = lines.map(parse).collect::<Option<Vec<Entry>>>()?;
    // The root's line comes first; a record without it proves nothing.
    if entries
        .first()
        .is_none_or(|e| !e.is_dir || !e.rel.is_empty())
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
            // A directory's size (its entry blocks) is not recorded: its times move
            // with every entry added, removed or renamed.
            let same = base.stat(e.rel).is_some_and(|(is_dir, st)| match is_dir {
                true => e.is_dir && Stamp { size: 0, ..st } == e.stamp,
                false => !e.is_dir && st == e.stamp,
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

    /// Whether `rel` is a directory, and its stamp, following links as the tree's
    /// readers do.
    #[cfg(unix)]
    fn stat(&self, rel: &str) -> Option<(bool, Stamp)> {
        use std::os::fd::AsRawFd;
        let rel = if rel.is_empty() { "." } else { rel };
        let c = std::ffi::CString::new(rel).ok()?;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `c` is a NUL-terminated path, `dir` an open descriptor for the
        // call's duration, and `st` is written by fstatat before it is read (only on
        // success).
        let st = unsafe {
            if libc::fstatat(self.dir.as_raw_fd(), c.as_ptr(), st.as_mut_ptr(), 0) != 0 {
                return None;
            }
            st.assume_init()
        };
        // Times before the epoch count as unknown (0), as in `fsutil::mtime_ns`.
        let ns = |s: i64, n: i64| match (u128::try_from(s), u128::try_from(n)) {
            (Ok(s), Ok(n)) => s * 1_000_000_000 + n,
            _ => 0,
        };
        let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        let stamp = Stamp {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            size: u64::try_from(st.st_size).ok()?,
            mtime_ns: ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime_ns: ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
        };
        Some((is_dir, stamp))
    }

    #[cfg(not(unix))]
    fn stat(&self, rel: &str) -> Option<(bool, Stamp)> {
        let m = std::fs::metadata(self.root.join(rel)).ok()?;
        Some((m.is_dir(), Stamp::of(&m)))
    }
}

fn parse(line: &str) -> Option<Entry<'_>> {
    let (head, rel) = line.split_once('\t')?;
    let mut f = head.split(' ');
    let kind = f.next()?;
    let mut num = || f.next()?.parse::<u128>().ok();
    let (dev, ino) = (u64::try_from(num()?).ok()?, u64::try_from(num()?).ok()?);
    let (is_dir, size) = match kind {
        "d" => (true, 0),
        "f" => (false, u64::try_from(num()?).ok()?),
        _ => return None,
    };
    let (mtime_ns, ctime_ns) = (num()?, num()?);
    if num().is_some() {
        return None;
    }
    Some(Entry {
        is_dir,
        stamp: Stamp {
            dev,
            ino,
            size,
            mtime_ns,
            ctime_ns,
        },
        rel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// Ten seconds from now: every entry counts as settled.
    fn later() -> u128 {
        crate::fsutil::now_ns() + 10_000_000_000
    }

    /// The digest a listing gives now (fresh files hashed, as a real run does).
    fn now_digest(root: &Path) -> [u8; 32] {
        listed(root).0
    }

    fn write_same_size_keep_mtime(p: &Path, text: &str) {
        let old = std::fs::metadata(p).unwrap().modified().unwrap();
        assert_eq!(std::fs::metadata(p).unwrap().len(), text.len() as u64);
        std::fs::write(p, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn a_record_is_confirmed_until_any_entry_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("db");
        std::fs::create_dir_all(root.join("crates/a")).unwrap();
        std::fs::create_dir_all(root.join("crates/b")).unwrap();
        std::fs::write(root.join("crates/a/RUSTSEC-1.md"), "one").unwrap();
        std::fs::write(root.join("crates/b/RUSTSEC-2.md"), "two").unwrap();
        // `crates2` is the same tree behind a link that will be retargeted.
        std::fs::create_dir_all(tmp.path().join("x/a")).unwrap();
        std::fs::create_dir_all(tmp.path().join("y/a")).unwrap();
        std::fs::write(tmp.path().join("x/a/RUSTSEC-9.md"), "nine").unwrap();
        std::fs::write(tmp.path().join("y/a/RUSTSEC-9.md"), "nine").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("x"), root.join("crates2")).unwrap();
        type Change<'a> = (&'a str, &'a dyn Fn(&Path));
        let changes: [Change; 9] = [
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
            (
                "a file edited to the same size with its mtime restored",
                &|r| write_same_size_keep_mtime(&r.join("crates/a/RUSTSEC-1.md"), "ONE MORE"),
            ),
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
            ("a file added behind a link", &|r| {
                std::fs::write(r.join("crates2/a/RUSTSEC-10.md"), "ten").unwrap()
            }),
            ("a link retargeted at an identical copy", &|r| {
                let l = r.join("crates2");
                std::fs::remove_file(&l).unwrap();
                std::os::unix::fs::symlink(r.parent().unwrap().join("y"), &l).unwrap();
            }),
        ];
        for (what, change) in changes {
            let (recorded, text) = listed_at(&root, later());
            let text = text.expect("a settled tree is recorded");
            assert_eq!(
                confirm(text.as_bytes(), &root),
                Some(recorded),
                "before: {what}"
            );
            // File times are coarse: the change must land in a later tick than the
            // recording (a real run never records a tree this young).
            std::thread::sleep(Duration::from_millis(30));
            change(&root);
            assert_eq!(confirm(text.as_bytes(), &root), None, "{what} is noticed");
            // Same bytes, same digest: a miss all the same, which lists and reads.
            let same_content = [
                "a directory added",
                "a file with the same size and a new time",
                "a link retargeted at an identical copy",
            ];
            if !same_content.contains(&what) {
                assert_ne!(
                    listed_at(&root, later()).0,
                    recorded,
                    "{what} changes the digest"
                );
            }
        }
    }

    #[test]
    fn a_fresh_tree_is_not_recorded_and_its_digest_holds_the_content() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("db");
        std::fs::create_dir_all(root.join("crates/a")).unwrap();
        let file = root.join("crates/a/RUSTSEC-1.md");
        std::fs::write(&file, "one").unwrap();
        let (d, record) = listed(&root);
        assert!(
            record.is_none(),
            "entries changed within the last seconds are not vouched for"
        );
        // An edit in the same clock tick keeps every part of the stamp but the content.
        write_same_size_keep_mtime(&file, "two");
        assert_ne!(
            now_digest(&root),
            d,
            "a fresh file's content is in the digest"
        );
        // A damaged record is a miss, not an error.
        assert_eq!(confirm(b"tree-record 2 00\nf x\tcrates\n", &root), None);
        let (_, record) = listed_at(&root, later());
        let mut bad = record.unwrap();
        bad.push_str("f 1 2 3\tcrates/a/RUSTSEC-1.md\n");
        assert_eq!(confirm(bad.as_bytes(), &root), None);
    }
}
