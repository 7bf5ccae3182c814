//! Writing files so that nothing is lost: temp file in the same directory, then rename.

use crate::error::Failure;
use anyhow::Result;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Size limits for what we read: far above any real file of the kind, far below what
/// would hurt (a path to `/dev/zero` must not allocate until the OS kills us).
pub const TEXT_LIMIT: u64 = 16 << 20;
pub const KEY_LIMIT: u64 = 1 << 20;
pub const LOCKFILE_LIMIT: u64 = 64 << 20;

/// Reads a regular file of at most `limit` bytes; anything else is an error that
/// names the file and what it is.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let shown = crate::error::escape(&path.display().to_string());
    let cannot = |e: std::io::Error| Failure::new(format!("could not read {what} {shown}: {e}"));
    // The checks are made on the handle that is read, not on the path before opening
    // it: a file swapped for a FIFO in between would otherwise block the open forever.
    let not_regular = |meta: &std::fs::Metadata| {
        Failure::new(format!(
            "{what} {shown} is {}, not a regular file",
            describe(meta)
        ))
        .help(format!("pass the path of the {what} itself"))
    };
    let file = open_nonblocking(path).map_err(|e| match std::fs::metadata(path) {
        // A socket cannot be opened at all; say what it is rather than ENXIO.
        Ok(m) if !m.is_file() => not_regular(&m),
        _ => cannot(e),
    })?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(not_regular(&meta).into());
    }
    if meta.len() > limit {
        return Err(Failure::new(format!(
            "{what} {shown} is {} bytes, more than the {} bytes this tool reads",
            meta.len(),
            limit
        ))
        .help(format!("check that {shown} is really the {what}"))
        .into());
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut buf).map_err(cannot)?;
    if buf.len() as u64 > limit {
        return Err(Failure::new(format!(
            "{what} {shown} grew past {limit} bytes while being read"
        ))
        .into());
    }
    Ok(buf)
}

/// The SHA-256 of a regular file of any size, streamed (a release archive can be
/// larger than anything read whole), as lowercase hex, with the file's length.
pub fn sha256_file(path: &Path, what: &str) -> Result<(String, u64)> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let len = read_in_pieces(path, what, |piece| hasher.update(piece))?;
    Ok((crate::digest::hex(&hasher.finalize()), len))
}

/// Reads a regular file (of any size: a release archive) a megabyte at a time,
/// each piece given to `each`; returns its length.
pub fn read_in_pieces(path: &Path, what: &str, mut each: impl FnMut(&[u8])) -> Result<u64> {
    let shown = crate::error::escape(&path.display().to_string());
    let cannot = |e: std::io::Error| Failure::new(format!("could not read {what} {shown}: {e}"));
    let mut file = open_nonblocking(path).map_err(|e| match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Failure::new(format!(
            "{what} {shown} is {}, not a regular file",
            describe(&m)
        )),
        _ => cannot(e),
    })?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(Failure::new(format!(
            "{what} {shown} is {}, not a regular file",
            describe(&meta)
        ))
        .help(format!("pass the path of the {what} itself"))
        .into());
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cannot(e).into()),
        };
        each(&buf[..n]);
        len += n as u64;
    }
    Ok(len)
}

/// The directory as an absolute path with symbolic links resolved, for the part
/// that exists (it is created when the files are written).
pub fn resolved_dir(dir: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(dir).map_err(|e| {
        Failure::new(format!(
            "could not resolve the output directory {}: {e}",
            crate::error::escape(&dir.display().to_string())
        ))
    })?;
    let mut missing = Vec::new();
    let mut existing = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut p = real;
            for part in missing.iter().rev() {
                p.push(part);
            }
            return Ok(p);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// `path` relative to `base` (both absolute, resolved), `/`-separated, with `..`
/// where `path` is outside `base`; None when a part is not UTF-8.
pub fn relative_path(path: &Path, base: &Path) -> Option<String> {
    let p: Vec<std::path::Component> = path.components().collect();
    let b: Vec<std::path::Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    for c in &p[common..] {
        parts.push(c.as_os_str().to_str()?.to_string());
    }
    Some(parts.join("/"))
}

/// Opens for reading without blocking on a FIFO (whose open waits for a writer) or
/// taking a terminal as the controlling one; on a regular file the flags change nothing.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    o.open(path)
}

/// Opens a regular file for a streamed read (an artifact of any size, read in
/// constant memory); anything else is an error that says what it is.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "it is {}, not a regular file",
            describe(&meta)
        )));
    }
    Ok(file)
}

/// As `read_bounded`, for UTF-8 text.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String> {
    let bytes = read_bounded(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| {
        Failure::new(format!(
            "{what} {} is not UTF-8 text (invalid byte at offset {})",
            crate::error::escape(&path.display().to_string()),
            e.utf8_error().valid_up_to()
        ))
        .help("save it as UTF-8")
        .into()
    })
}

fn describe(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Replaces (or creates) `path` atomically: a temp file in the same directory, then
/// rename. Only regular files are replaced (devices, FIFOs, sockets and directories
/// are refused); a symlink is written through to its target, which stays a file
/// behind the same link. An existing file keeps its permissions, a new one gets the
/// umask's (as git and cargo do). A read-only file is refused: the user made it so
/// on purpose.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    write_atomic_bytes(path, contents.as_bytes())
}

/// Creates `path`, which must not exist (nothing is followed or replaced), with
/// `contents`; executable for its owner and others' read when `executable`, as git
/// checks out a `100755` blob. For trees extracted into a fresh directory of ours.
pub fn write_new(path: &Path, contents: &[u8], executable: bool) -> Result<()> {
    use anyhow::Context;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    let _ = executable;
    let mut file = options.open(path).with_context(|| {
        format!(
            "could not create {}",
            crate::error::escape(&path.display().to_string())
        )
    })?;
    file.write_all(contents).with_context(|| {
        format!(
            "could not write {}",
            crate::error::escape(&path.display().to_string())
        )
    })
}

/// Creates the directory `path` and its missing parents.
pub fn create_dirs(path: &Path) -> Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(path).with_context(|| {
        format!(
            "could not create {}",
            crate::error::escape(&path.display().to_string())
        )
    })
}

/// Several files written as one change: each atomically, in order; when one cannot
/// be written, those already written are put back byte for byte (or removed, where
/// they are new), so the change lands whole or not at all.
pub fn write_all_or_none(files: &[(PathBuf, String)]) -> Result<()> {
    let mut done: Vec<(&Path, Option<Vec<u8>>)> = Vec::new();
    // Directories made for the files, so a failure removes them too.
    let mut made: Vec<PathBuf> = Vec::new();
    for (path, text) in files {
        let wrote = make_parents(path, &mut made).and_then(|()| {
            let before = match std::fs::symlink_metadata(path) {
                Ok(_) => Some(read_bounded(path, TEXT_LIMIT, "file")?),
                Err(_) => None,
            };
            write_atomic(path, text).map(|()| before)
        });
        match wrote {
            Ok(before) => done.push((path, before)),
            Err(e) => {
                for (p, old) in done.iter().rev() {
                    let _ = match old {
                        Some(bytes) => write_atomic_bytes(p, bytes),
                        None => std::fs::remove_file(p).map_err(Into::into),
                    };
                }
                for d in made.iter().rev() {
                    let _ = std::fs::remove_dir(d);
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Creates the missing directories above `path`, outermost first, noting each.
fn make_parents(path: &Path, made: &mut Vec<PathBuf>) -> Result<()> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let missing: Vec<&Path> = parent
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
        .collect();
    for d in missing.into_iter().rev() {
        std::fs::create_dir(d).map_err(|e| {
            Failure::new(format!(
                "could not create {}: {e}; nothing was written",
                crate::error::escape(&d.display().to_string())
            ))
        })?;
        made.push(d.to_path_buf());
    }
    Ok(())
}

fn write_atomic_bytes(path: &Path, contents: &[u8]) -> Result<()> {
    let shown = crate::error::escape(&path.display().to_string());
    let existing = std::fs::metadata(path).ok();
    let target =
        match &existing {
            Some(meta) if !meta.is_file() => {
                return Err(Failure::new(format!(
                    "{shown} is {}; nothing was written",
                    describe(meta)
                ))
                .help("write to a regular file or a new path")
                .into())
            }
            Some(meta) if meta.permissions().readonly() => {
                return Err(Failure::new(format!("{shown} is read-only; nothing was changed"))
                .help("make it writable (chmod u+w) and run again, or apply the change by hand")
                .into());
            }
            // Through a symlink: replace the file it points at, keep the link.
            Some(_) => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            None => path.to_path_buf(),
        };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| -> anyhow::Error {
        let help = match e.kind() {
            std::io::ErrorKind::PermissionDenied => "check that the directory is writable",
            std::io::ErrorKind::StorageFull => "free some space on that file system and run again",
            std::io::ErrorKind::NotFound => "create the directory first",
            _ => "fix the cause above and run again",
        };
        Failure::new(format!("could not write {shown}: {e}; nothing was changed"))
            .help(help)
            .into()
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    let perms = match existing {
        Some(meta) => meta.permissions(),
        None => new_file_permissions(tmp.as_file()).map_err(fail)?,
    };
    std::fs::set_permissions(tmp.path(), perms).map_err(fail)?;
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// 0666 less the process umask, the mode `open(2)` would give a new file.
#[cfg(unix)]
fn new_file_permissions(f: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only swaps the process's file mode mask; it is restored at once.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    let mut p = f.metadata()?.permissions();
    p.set_mode(0o666 & !(mask as u32));
    Ok(p)
}

#[cfg(not(unix))]
fn new_file_permissions(f: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    Ok(f.metadata()?.permissions())
}

/// Every file under `dir` with its metadata, sorted by path, `.git` directories
/// included (cargo-deny's advisory loader reads every `.md` under `crates/`, in them
/// too); unreadable entries are ignored.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    tree_under(dir, &|_| true).files
}

/// The directories (`dir` itself first) and the files under `dir`.
pub struct Tree {
    pub dirs: Vec<(PathBuf, std::fs::Metadata)>,
    pub files: Vec<(PathBuf, std::fs::Metadata)>,
}

/// `dir`'s tree, each kind sorted by path, descending only into the directories
/// `descend` accepts; unreadable entries are ignored. Symbolic links are followed,
/// as the readers of these trees (cargo-deny's advisory loader) follow them, and
/// each entry carries its target's metadata; a directory reached twice (a link cycle) is listed once. A
/// directory's metadata is taken before it is listed, so an entry added meanwhile
/// leaves a recorded time that no longer matches.
pub fn tree_under(dir: &Path, descend: &(dyn Fn(&Path) -> bool + Sync)) -> Tree {
    // The advisory database is a thousand small directories: listing them is mostly
    // waiting on system calls, which a few threads overlap.
    let pending = std::sync::Mutex::new(vec![dir.to_path_buf()]);
    let busy = std::sync::atomic::AtomicUsize::new(0);
    let root = std::fs::metadata(dir).ok();
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    if let Some(m) = &root {
        let st = Stamp::of(m);
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((st.dev, st.ino));
    }
    // A directory not yet listed; false for one reached again through a link.
    let first_visit = |m: &std::fs::Metadata| {
        let st = Stamp::of(m);
        // Without inode numbers (not Unix) every directory counts as new.
        st.ino == 0
            || seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((st.dev, st.ino))
    };
    let walk = || {
        let (mut dirs_seen, mut out) = (Vec::new(), Vec::new());
        loop {
            let next = {
                let mut stack = pending.lock().unwrap_or_else(|e| e.into_inner());
                let d = stack.pop();
                if d.is_some() {
                    busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                d
            };
            let Some(d) = next else {
                // Done only when no other thread may still push more directories.
                if busy.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    return (dirs_seen, out);
                }
                std::thread::yield_now();
                continue;
            };
            let mut dirs = Vec::new();
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    let meta = match e.file_type() {
                        Ok(t) if t.is_symlink() => std::fs::metadata(e.path()),
                        _ => e.metadata(),
                    };
                    let Ok(meta) = meta else { continue };
                    if meta.is_dir() {
                        if descend(&e.path()) && first_visit(&meta) {
                            dirs.push(e.path());
                            dirs_seen.push((e.path(), meta));
                        }
                    } else {
                        out.push((e.path(), meta));
                    }
                }
            }
            pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(dirs);
            busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let (mut dirs, mut files) = std::thread::scope(|s| {
        let others: Vec<_> = (0..3).map(|_| s.spawn(walk)).collect();
        let mut all = walk();
        for h in others {
            let (d, f) = h.join().unwrap_or_default();
            all.0.extend(d);
            all.1.extend(f);
        }
        all
    });
    dirs.sort_by(|a, b| a.0.cmp(&b.0));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(m) = root.filter(std::fs::Metadata::is_dir) {
        dirs.insert(0, (dir.to_path_buf(), m));
    }
    Tree { dirs, files }
}

/// How long a file time is too young to vouch for: the kernel stamps times from a
/// clock that moves in ticks, so an edit in the same tick as a recording keeps every
/// time; only the content tells such files apart.
pub const SETTLED_NS: u128 = 2_000_000_000;

/// What git's index records of a file to notice a change without reading it: device,
/// inode, size, modification and status-change time. Tools restore size and mtime
/// (`touch -d`, `cp -p`, `tar x`, a CI cache restore), but no user-space call sets
/// ctime, and a new file (a rename over, a copy) has a new inode.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: u128,
    pub ctime_ns: u128,
}

impl Stamp {
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let (dev, ino, ctime_ns) = {
            use std::os::unix::fs::MetadataExt;
            let ctime = match (u128::try_from(m.ctime()), u128::try_from(m.ctime_nsec())) {
                (Ok(s), Ok(ns)) => s * 1_000_000_000 + ns,
                _ => 0,
            };
            (m.dev(), m.ino(), ctime)
        };
        #[cfg(not(unix))]
        let (dev, ino, ctime_ns) = (0, 0, 0);
        Stamp {
            dev,
            ino,
            size: m.len(),
            mtime_ns: mtime_ns(m),
            ctime_ns,
        }
    }

    /// Changed too recently (or with times unknown) for the stamp alone to prove that
    /// a later equal stamp means equal content.
    pub fn fresh(&self, now_ns: u128) -> bool {
        let newest = self.mtime_ns.max(self.ctime_ns);
        self.mtime_ns == 0 || newest + SETTLED_NS > now_ns
    }
}

/// Now, in nanoseconds since the epoch, as file times count.
pub fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A file's modification time in nanoseconds since the epoch (0 when unknown): with
/// its size, what cache keys and fingerprint records compare before any content.
pub fn mtime_ns(m: &std::fs::Metadata) -> u128 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn relative_paths_name_files_from_a_directory() {
        let r = |p: &str, b: &str| relative_path(Path::new(p), Path::new(b));
        assert_eq!(
            r("/r/dist/app.tar.gz", "/r/dist").as_deref(),
            Some("app.tar.gz")
        );
        assert_eq!(r("/r/dist/x/app", "/r/dist").as_deref(), Some("x/app"));
        assert_eq!(r("/r/bin/app", "/r/dist").as_deref(), Some("../bin/app"));
    }

    use super::*;

    fn first_line(r: Result<Vec<u8>>) -> String {
        format!("{}", r.unwrap_err())
    }

    /// A failure on the last file puts back the first, removes the second (new) and
    /// the directories made for it: the tree is as before.
    #[test]
    fn write_all_or_none_leaves_nothing_when_one_write_fails() {
        let d = tempfile::tempdir().unwrap();
        let kept = d.path().join("kept.txt");
        std::fs::write(&kept, "old\r\n").unwrap();
        let blocker = d.path().join("plain-file");
        std::fs::write(&blocker, "x").unwrap();
        let files = [
            (kept.clone(), "new".to_string()),
            (d.path().join("a/b/new.md"), "made".to_string()),
            (blocker.join("under-a-file"), "cannot".to_string()),
        ];
        assert!(write_all_or_none(&files).is_err());
        assert_eq!(std::fs::read(&kept).unwrap(), b"old\r\n");
        assert!(
            !d.path().join("a").exists(),
            "the directories made were removed"
        );
        let mut names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["kept.txt", "plain-file"]);
        // And when every write can land, the directories are made.
        write_all_or_none(&files[..2]).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("a/b/new.md")).unwrap(),
            "made"
        );
    }

    #[test]
    fn read_bounded_names_what_is_not_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // No writer: a blocking open would hang here.
        assert_eq!(
            first_line(read_bounded(&fifo, 10, "key file")),
            format!("key file {} is a FIFO, not a regular file", fifo.display())
        );
        let sock = d.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(
            first_line(read_bounded(&sock, 10, "key file")),
            format!(
                "key file {} is a socket, not a regular file",
                sock.display()
            )
        );
        assert_eq!(
            first_line(read_bounded(d.path(), 10, "key file")),
            format!(
                "key file {} is a directory, not a regular file",
                d.path().display()
            )
        );
        assert_eq!(
            first_line(read_bounded(Path::new("/dev/zero"), 10, "key file")),
            "key file /dev/zero is a device, not a regular file"
        );
        assert!(
            first_line(read_bounded(&d.path().join("none"), 10, "key file")).starts_with(&format!(
                "could not read key file {}",
                d.path().join("none").display()
            ))
        );
    }

    #[test]
    fn read_bounded_reads_up_to_the_limit_and_no_further() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"0123456789").unwrap();
        assert_eq!(read_bounded(&p, 10, "file").unwrap(), b"0123456789");
        assert_eq!(
            first_line(read_bounded(&p, 9, "file")),
            format!(
                "file {} is 10 bytes, more than the 9 bytes this tool reads",
                p.display()
            )
        );
    }
}
