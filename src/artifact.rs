//! The built artifact itself: hardening flags read from ELF, PE and Mach-O headers
//! (program headers, the dynamic table, the section table; never debug info), the
//! build machine's paths left in the binary, and the dependency list that
//! `cargo auditable` embeds. The file is memory-mapped, never copied.
//!
//! Rust-aware on purpose: no stack-canary or FORTIFY checks. Stable Rust cannot
//! enable a stack protector, and safe Rust is bounds-checked where C relies on them.

use crate::error::{escape, Failure};
use crate::report::{Check, Code, Finding, Severity};
use anyhow::Result;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{elf, Endianness};
use std::path::{Path, PathBuf};

/// What an artifact is checked against.
pub struct Expect<'a> {
    /// The released profile's effective `strip` ("none", "debuginfo", "symbols").
    pub strip: &'a str,
    /// Absolute paths of the build machine that must not end up in the binary.
    pub leaks: Vec<String>,
}

/// One inspected file.
pub struct Inspected {
    /// As shown in findings: relative to the workspace root where possible.
    pub shown: String,
    pub findings: Vec<Finding>,
    /// The embedded dependency list, when `cargo auditable` wrote one.
    pub packages: Option<Vec<EmbeddedPackage>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedPackage {
    pub name: String,
    pub version: String,
    /// crates.io or another registry (not a path, git or local crate).
    pub from_registry: bool,
    pub build_only: bool,
    /// The package the binary is built from.
    pub root: bool,
    /// The packages it depends on, as indices into the list.
    pub dependencies: Vec<usize>,
}

/// Most a `.dep-v0` section may inflate to (auditable-info's own default is 8 MiB).
const AUDIT_JSON_LIMIT: usize = 8 << 20;

/// The largest artifact inspected (2 GiB): far above any shipped binary, even one
/// that keeps its debug info, and a bound on the work a hostile file can ask for.
pub const ARTIFACT_LIMIT: u64 = 2 << 30;

/// The path-leak scan reads the file in windows of this size, so its memory stays
/// bounded whatever the file's size.
const SCAN_WINDOW: usize = 16 << 20;

/// How much of a file's start `looks_executable` needs.
pub const HEAD_LEN: usize = 4096;

/// Whether a file starting with `head` is one of the executables `inspect` reads:
/// The first `HEAD_LEN` bytes `reader` yields (fewer if it ends): what
/// `looks_executable` reads. The rest is left unread.
pub fn read_head(reader: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(HEAD_LEN);
    reader.take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// ELF, Mach-O (thin or universal), or PE (`MZ` and its `PE\0\0` signature where
/// the DOS header points). Java's class files share the universal magic; theirs
/// is followed by a class-file version, far above any count of architectures.
pub fn looks_executable(head: &[u8]) -> bool {
    let word = |at: usize| -> Option<[u8; 4]> { head.get(at..at + 4)?.try_into().ok() };
    match word(0) {
        Some([0x7f, b'E', b'L', b'F']) => true,
        Some([0xfe, 0xed, 0xfa, 0xce | 0xcf]) | Some([0xce | 0xcf, 0xfa, 0xed, 0xfe]) => true,
        Some([0xca, 0xfe, 0xba, 0xbe | 0xbf]) => {
            word(4).is_some_and(|n| (1..45).contains(&u32::from_be_bytes(n)))
        }
        Some([b'M', b'Z', ..]) => word(0x3c)
            .map(|o| u32::from_le_bytes(o) as usize)
            .and_then(word)
            .is_some_and(|sig| sig == *b"PE\0\0"),
        _ => false,
    }
}

/// The embedded dependency list of the executable at `path` alone, without the
/// other checks (`verify --artifact` compares it with the SBOM statement).
pub fn embedded_list(path: &Path, shown: &str) -> Result<Option<Vec<EmbeddedPackage>>> {
    let shown_esc = escape(shown);
    let file = crate::fsutil::open_regular(path)
        .map_err(|e| Failure::new(format!("artifact {shown_esc} cannot be opened: {e}")))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > ARTIFACT_LIMIT {
        return Err(Failure::new(format!(
            "artifact {shown_esc} is {len} bytes, over the {ARTIFACT_LIMIT}-byte (2 GiB) limit for an artifact"
        ))
        .into());
    }
    // SAFETY: as in `inspect`: read-only, for this call only.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|e| Failure::new(format!("artifact {shown_esc} cannot be mapped: {e}")))?;
    embedded_packages(&map, &shown_esc)
}

/// Reads `path` and returns its findings; a file that is not an executable we can
/// read is an error naming it (exit 2).
pub fn inspect(path: &Path, shown: &str, expect: &Expect<'_>) -> Result<Inspected> {
    let shown_esc = escape(shown);
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::new(format!("artifact {shown_esc} cannot be read: {e}"))
            .help("build it first (`cargo build --release`), or pass the path of the built binary")
    })?;
    if !meta.is_file() {
        return Err(
            Failure::new(format!("artifact {shown_esc} is not a regular file"))
                .help("pass the path of the built binary itself")
                .into(),
        );
    }
    if meta.len() > ARTIFACT_LIMIT {
        return Err(Failure::new(format!(
            "artifact {shown_esc} is {} bytes, over the {ARTIFACT_LIMIT}-byte (2 GiB) limit for an artifact",
            meta.len()
        ))
        .help("pass the release binary itself; split its debug info out (`split-debuginfo = \"packed\"`) if that is what makes it this large")
        .into());
    }
    if meta.len() == 0 {
        return Err(
            Failure::new(format!("artifact {shown_esc} is empty (0 bytes)"))
                .help("rebuild it; an interrupted build leaves empty files")
                .into(),
        );
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::new(format!("artifact {shown_esc} cannot be opened: {e}")))?;
    // SAFETY: the map is read-only and lives only for this call; a file truncated
    // under us would fault, as it would for any reader.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|e| Failure::new(format!("artifact {shown_esc} cannot be mapped: {e}")))?;
    let data: &[u8] = &map;
    let corrupt = |e: object::Error| -> anyhow::Error {
        Failure::new(format!("artifact {shown_esc} is truncated or corrupt: {e}"))
            .help("rebuild it, or check that the download was complete")
            .into()
    };
    let kind = object::FileKind::parse(data).map_err(|_| {
        Failure::new(format!(
            "artifact {shown_esc} is not an ELF, PE or Mach-O executable"
        ))
        .help("pass the built binary (target/release/NAME), not a script or an archive")
    })?;
    let mut out = Vec::new();
    let finding = |code: Code, severity: Severity, msg: String, help: &str| {
        Finding::new(Check::Artifact, code, severity, format!("{shown}: {msg}"))
            .with_help(help)
            .with_location(shown.to_string(), None)
    };
    // Only an ELF can describe one thing twice (see `elf_checks`).
    let mut inconsistent = None;
    match kind {
        object::FileKind::Elf64 => {
            inconsistent =
                elf_checks::<elf::FileHeader64<Endianness>>(data, expect, &mut out, &finding)
                    .map_err(corrupt)?;
        }
        object::FileKind::Elf32 => {
            inconsistent =
                elf_checks::<elf::FileHeader32<Endianness>>(data, expect, &mut out, &finding)
                    .map_err(corrupt)?;
        }
        object::FileKind::Pe64 => {
            let pe = object::read::pe::PeFile64::parse(data).map_err(corrupt)?;
            pe_checks(&pe, true, &mut out, &finding);
        }
        object::FileKind::Pe32 => {
            let pe = object::read::pe::PeFile32::parse(data).map_err(corrupt)?;
            pe_checks(&pe, false, &mut out, &finding);
        }
        object::FileKind::MachO64 => {
            let m = object::read::macho::MachOFile64::<Endianness>::parse(data).map_err(corrupt)?;
            macho_checks(&m, expect, &mut out, &finding).map_err(corrupt)?;
        }
        object::FileKind::MachO32 => {
            let m = object::read::macho::MachOFile32::<Endianness>::parse(data).map_err(corrupt)?;
            macho_checks(&m, expect, &mut out, &finding).map_err(corrupt)?;
        }
        object::FileKind::MachOFat32 | object::FileKind::MachOFat64 if !fat_macho(data) => {
            // The fat magic is Java's class-file magic too: without a valid table of
            // Mach-O images it is neither.
            return Err(Failure::new(format!(
                "artifact {shown_esc} is not an ELF, PE or Mach-O executable (its magic is a universal Mach-O's, but it holds no valid Mach-O image)"
            ))
            .help("pass the built binary (target/release/NAME), not a class file, script or archive")
            .into())
        }
        object::FileKind::MachOFat32 | object::FileKind::MachOFat64 => {
            return Err(Failure::new(format!(
                "artifact {shown_esc} is a universal (fat) Mach-O binary"
            ))
            .help("check each architecture's binary: `lipo -thin arm64 -output NAME-arm64 NAME`, or pass the per-target files from target/<triple>/release")
            .into())
        }
        _ => {
            return Err(Failure::new(format!(
                "artifact {shown_esc} is an object file or archive, not an executable"
            ))
            .help("pass the linked binary from target/release")
            .into())
        }
    };
    if let Some(why) = inconsistent {
        return Err(
            Failure::new(format!("artifact {shown_esc} is inconsistent: {why}"))
                .help("rebuild it; a linker writes one table that both describe")
                .into(),
        );
    }
    out.extend(
        path_leaks(&file, meta.len(), expect, &finding)
            .map_err(|e| Failure::new(format!("artifact {shown_esc} cannot be read: {e}")))?,
    );
    let packages = embedded_packages(data, &shown_esc)?;
    Ok(Inspected {
        shown: shown.to_string(),
        findings: out,
        packages,
    })
}

type MakeFinding<'f> = dyn Fn(Code, Severity, String, &str) -> Finding + 'f;

/// The ELF checks, into `out`; returns why the file contradicts itself, if it does
/// (what the loader reads and what section-reading tools read differ).
fn elf_checks<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    expect: &Expect<'_>,
    out: &mut Vec<Finding>,
    finding: &MakeFinding<'_>,
) -> object::Result<Option<&'static str>> {
    let header = Elf::parse(data)?;
    let e = header.endian()?;
    let mut interp = false;
    let mut stack_exec: Option<bool> = None;
    let mut relro = false;
    let mut dynamic = false;
    let mut bind_now = false;
    let mut pie_flag = false;
    let mut rpath: Vec<&'static str> = Vec::new();
    let mut dynamic_range: Option<(u64, u64)> = None;
    for ph in header.program_headers(e, data)? {
        match ph.p_type(e) {
            elf::PT_INTERP => interp = true,
            elf::PT_GNU_STACK => stack_exec = Some(ph.p_flags(e) & elf::PF_X != 0),
            elf::PT_GNU_RELRO => relro = true,
            elf::PT_DYNAMIC => {
                dynamic = true;
                dynamic_range = Some((ph.p_offset(e).into(), ph.p_filesz(e).into()));
                for d in ph.dynamic(e, data)?.unwrap_or(&[]) {
                    let tag: u64 = d.d_tag(e).into();
                    let val: u64 = d.d_val(e).into();
                    // The loader reads the table up to DT_NULL; entries after it
                    // (a BIND_NOW written past the end) do nothing.
                    if tag == u64::from(elf::DT_NULL) {
                        break;
                    }
                    match tag as u32 {
                        elf::DT_BIND_NOW => bind_now = true,
                        elf::DT_FLAGS if val & u64::from(elf::DF_BIND_NOW) != 0 => bind_now = true,
                        elf::DT_FLAGS_1 => {
                            bind_now |= val & u64::from(elf::DF_1_NOW) != 0;
                            pie_flag |= val & u64::from(elf::DF_1_PIE) != 0;
                        }
                        elf::DT_RPATH => rpath.push("DT_RPATH"),
                        elf::DT_RUNPATH => rpath.push("DT_RUNPATH"),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let e_type = header.e_type(e);
    // ET_DYN is a PIE when it says so (DF_1_PIE, which static-pie sets too) or has an
    // interpreter (older linkers set no flag); otherwise it is a shared library.
    let pie = e_type == elf::ET_DYN && (pie_flag || interp);
    if !pie {
        let what = if e_type == elf::ET_EXEC {
            "a fixed-address executable (ET_EXEC)".to_string()
        } else {
            format!("not a position-independent executable (ELF type {e_type})")
        };
        out.push(finding(
            Code::NotPie,
            Severity::Error,
            format!("{what}: ASLR cannot move it"),
            "build without `-C relocation-model=static`; Rust's default for Linux targets is PIE",
        ));
    }
    match stack_exec {
        Some(false) => {}
        Some(true) => out.push(finding(
            Code::ExecStack,
            Severity::Error,
            "the stack is executable (PT_GNU_STACK has PF_X)".into(),
            "remove `-z execstack` from the link arguments, and find the object that asks for an executable stack (`readelf -lW`)",
        )),
        None => out.push(finding(
            Code::ExecStack,
            Severity::Error,
            "no PT_GNU_STACK header: the loader makes the stack executable".into(),
            "link with `-C link-arg=-Wl,-z,noexecstack`",
        )),
    }
    if !relro {
        out.push(finding(
            Code::NoRelro,
            Severity::Error,
            "no RELRO (PT_GNU_RELRO): relocations stay writable".into(),
            "remove `-z norelro` from the link arguments",
        ));
    } else if dynamic && !bind_now {
        out.push(finding(
            Code::LazyBinding,
            Severity::Error,
            "partial RELRO: symbols are bound lazily, so the GOT stays writable".into(),
            "link with `-C link-arg=-Wl,-z,now` (and remove `-z lazy`)",
        ));
    }
    if !rpath.is_empty() {
        out.push(finding(
            Code::Rpath,
            Severity::Error,
            format!(
                "{} is set: libraries are searched in build-time paths",
                rpath.join(" and ")
            ),
            "remove `-Wl,-rpath` from RUSTFLAGS or build scripts; ship libraries in system paths",
        ));
    }
    let sections = header.sections(e, data)?;
    let mut symtab = false;
    let mut debug = false;
    let mut dep_lists = 0;
    let mut inconsistent = None;
    for s in sections.iter() {
        use object::read::elf::SectionHeader;
        let name = sections.section_name(e, s).unwrap_or_default();
        let (kind, flags) = (s.sh_type(e), s.sh_flags(e).into());
        // By type, not by name: a renamed `.symtab` is still the symbol table.
        symtab |= kind == elf::SHT_SYMTAB;
        debug |= debug_section(name, kind, flags, s.sh_size(e).into());
        dep_lists += usize::from(name == b".dep-v0");
        // The loader reads the dynamic table where PT_DYNAMIC says; tools that read
        // section headers read `.dynamic`. Two different tables are a doctored file.
        if kind == elf::SHT_DYNAMIC {
            let range: (u64, u64) = (s.sh_offset(e).into(), s.sh_size(e).into());
            if dynamic_range.is_some_and(|d| d != range) {
                inconsistent = Some(
                    "its dynamic section and its PT_DYNAMIC program header describe different tables",
                );
            }
        }
    }
    // cargo auditable writes one list; a reader takes the first. A second one is a
    // list nobody can tell is the true one.
    if dep_lists > 1 {
        out.push(finding(
            Code::AmbiguousAuditData,
            Severity::Error,
            format!("{dep_lists} `.dep-v0` sections: the embedded dependency list is ambiguous (the first is audited, the others are not read)"),
            "rebuild with `cargo auditable build --release`; a binary it builds has one list",
        ));
    }
    not_stripped(expect.strip, symtab, debug, out, finding);
    Ok(inconsistent)
}

fn not_stripped(
    strip: &str,
    symbols: bool,
    debug: bool,
    out: &mut Vec<Finding>,
    finding: &MakeFinding<'_>,
) {
    let kept = match strip {
        "symbols" if symbols || debug => Some("symbols"),
        "symbols" | "debuginfo" if debug => Some("debug info"),
        _ => None,
    };
    if let Some(kept) = kept {
        out.push(finding(
            Code::NotStripped,
            Severity::Error,
            format!(
                "the binary keeps its {kept}, but the released profile strips {strip}: it was not built with that profile"
            ),
            "build with the released profile (`cargo build --release`), or set `strip` to what you ship",
        ));
    }
}

fn pe_checks<Pe: object::read::pe::ImageNtHeaders>(
    pe: &object::read::pe::PeFile<'_, Pe>,
    is_64: bool,
    out: &mut Vec<Finding>,
    finding: &MakeFinding<'_>,
) {
    use object::pe::*;
    use object::read::pe::ImageOptionalHeader;
    use object::Object;
    let dll = pe.nt_headers().optional_header().dll_characteristics();
    let has = |flag: u16| dll & flag != 0;
    if !has(IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE) {
        out.push(finding(
            Code::NoAslr,
            Severity::Error,
            "no ASLR (DYNAMIC_BASE is not set)".into(),
            "link with `/DYNAMICBASE` (the default for Rust's MSVC targets)",
        ));
    }
    if is_64 && !has(IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA) {
        out.push(finding(
            Code::NoHighEntropyVa,
            Severity::Error,
            "no high-entropy ASLR (HIGH_ENTROPY_VA is not set)".into(),
            "link with `/HIGHENTROPYVA`",
        ));
    }
    if !has(IMAGE_DLLCHARACTERISTICS_NX_COMPAT) {
        out.push(finding(
            Code::NoDep,
            Severity::Error,
            "no DEP (NX_COMPAT is not set): data pages may execute".into(),
            "link with `/NXCOMPAT`",
        ));
    }
    if !has(IMAGE_DLLCHARACTERISTICS_GUARD_CF) {
        out.push(finding(
            Code::NoCfg,
            Severity::Warning,
            "no Control Flow Guard (GUARD_CF is not set)".into(),
            "build with `RUSTFLAGS=\"-C control-flow-guard\"`",
        ));
    }
    if let Ok(Some(cv)) = pe.pdb_info() {
        out.push(finding(
            Code::NotStripped,
            Severity::Error,
            format!(
                "the debug directory names a PDB (`{}`)",
                escape(&String::from_utf8_lossy(cv.path()))
            ),
            "ship without debug info: `strip = \"symbols\"` in the released profile, or `-C link-arg=/PDBALTPATH:%_PDB%`",
        ));
    }
}

/// Debug info, whatever the section is called: `.debug_*` and compressed `.zdebug_*`
/// by name; by type and flags, data the loader never maps (non-allocated PROGBITS)
/// or compressed, other than the sections a stripped binary keeps.
fn debug_section(name: &[u8], kind: u32, flags: u64, size: u64) -> bool {
    /// Non-allocated data that stripping leaves in place, and is no debug info.
    const KEPT: [&[u8]; 8] = [
        b".comment",
        b".gnu_debuglink",
        b".gnu_debugaltlink",
        b".dep-v0",
        b".rustc",
        b".GCC.command.line",
        b".gnu.build.attributes",
        b".llvm_addrsig",
    ];
    if name.starts_with(b".debug") || name.starts_with(b".zdebug") {
        return true;
    }
    let allocated = flags & u64::from(elf::SHF_ALLOC) != 0;
    if allocated || size == 0 || name.starts_with(b".note") || KEPT.contains(&name) {
        return false;
    }
    kind == elf::SHT_PROGBITS || flags & u64::from(elf::SHF_COMPRESSED) != 0
}

fn macho_checks<Mach: object::read::macho::MachHeader<Endian = Endianness>>(
    m: &object::read::macho::MachOFile<'_, Mach>,
    expect: &Expect<'_>,
    out: &mut Vec<Finding>,
    finding: &MakeFinding<'_>,
) -> object::Result<()> {
    use object::macho::*;
    use object::{Object, ObjectSymbol};
    // Every load command the header counts must be there and well formed: a header
    // that claims 2^32-1 commands in 32 bytes is a corrupt file, not a clean one.
    let mut commands = m.macho_load_commands()?;
    while commands.next()?.is_some() {}
    let flags = match m.flags() {
        object::FileFlags::MachO { flags } => flags,
        _ => 0,
    };
    if flags & MH_PIE == 0 {
        out.push(finding(
            Code::NotPie,
            Severity::Error,
            "not a position-independent executable (MH_PIE is not set)".into(),
            "build without `-C relocation-model=static`",
        ));
    }
    if flags & MH_ALLOW_STACK_EXECUTION != 0 {
        out.push(finding(
            Code::ExecStack,
            Severity::Error,
            "the stack is executable (MH_ALLOW_STACK_EXECUTION)".into(),
            "remove `-allow_stack_execute` from the link arguments",
        ));
    }
    let local = m.symbols().any(|s| {
        s.is_local() && s.is_definition() && !s.name_bytes().unwrap_or_default().is_empty()
    });
    not_stripped(expect.strip, local, false, out, finding);
    Ok(())
}

/// A universal Mach-O: a table of architectures whose every entry lies inside the
/// file and holds a Mach-O image.
fn fat_macho(data: &[u8]) -> bool {
    use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
    fn images<A: FatArch>(arches: &[A], data: &[u8]) -> bool {
        !arches.is_empty()
            && arches.iter().all(|a| {
                a.data(data).is_ok_and(|image| {
                    matches!(
                        object::FileKind::parse(image),
                        Ok(object::FileKind::MachO32 | object::FileKind::MachO64)
                    )
                })
            })
    }
    match object::FileKind::parse(data) {
        Ok(object::FileKind::MachOFat32) => {
            MachOFatFile32::parse(data).is_ok_and(|f| images(f.arches(), data))
        }
        Ok(object::FileKind::MachOFat64) => {
            MachOFatFile64::parse(data).is_ok_and(|f| images(f.arches(), data))
        }
        _ => false,
    }
}

/// The build machine's absolute paths inside the binary (panic locations, file!()).
fn path_leaks(
    file: &std::fs::File,
    len: u64,
    expect: &Expect<'_>,
    finding: &MakeFinding<'_>,
) -> std::io::Result<Vec<Finding>> {
    use std::os::unix::fs::FileExt;
    // Windows overlap by more than any needle, and by a `/home/USER/` match with its
    // 64-byte tail, so every match lies whole inside some window.
    let longest = expect.leaks.iter().map(String::len).max().unwrap_or(0);
    let overlap = longest.max(6 + 64 + 1);
    let mut buf = vec![0u8; SCAN_WINDOW.max(overlap * 2)];
    let step = (buf.len() - overlap) as u64;
    let mut seen: Vec<String> = Vec::new();
    let mut home_found = false;
    let mut start = 0u64;
    while start < len {
        let want = (len - start).min(buf.len() as u64) as usize;
        let window = &mut buf[..want];
        file.read_exact_at(window, start)?;
        let last = start + want as u64 >= len;
        for needle in &expect.leaks {
            if needle.len() > 1
                && !seen.contains(needle)
                && memchr::memmem::find(window, needle.as_bytes()).is_some()
            {
                seen.push(needle.clone());
            }
        }
        // Each position is judged in one window: [1, step] here (0 only at the
        // start of the file), the rest in the next one.
        let end = if last { want } else { step as usize + 1 };
        if !home_found {
            home_found = home_dirs(window, start == 0, end, &mut seen);
        }
        if last {
            break;
        }
        start += step;
    }
    if seen.is_empty() {
        return Ok(Vec::new());
    }
    let shown: Vec<String> = seen.iter().map(|s| format!("`{}`", escape(s))).collect();
    Ok(vec![finding(
        Code::PathLeak,
        Severity::Warning,
        format!(
            "the build machine's paths are in the binary ({}): they leak user names and make builds unreproducible",
            shown.join(", ")
        ),
        "build with `RUSTFLAGS=\"--remap-path-prefix=$HOME=~ --remap-path-prefix=$PWD=.\"`, or `trim-paths = true` in the profile once stable",
    )])
}

/// The first home directory (`/home/<user>/`) that starts a path in `data[..end]`,
/// added to `seen` unless a path there already covers it; true once found.
/// `at_file_start`: `data` begins the file (a match at 0 starts a path).
fn home_dirs(data: &[u8], at_file_start: bool, end: usize, seen: &mut Vec<String>) -> bool {
    for at in memchr::memmem::find_iter(data, b"/home/") {
        if at >= end {
            break;
        }
        // Only where a path starts: `/tmp/x/home/` is not a home directory.
        let starts_a_path = match at {
            0 => at_file_start,
            _ => {
                !(data[at - 1].is_ascii_alphanumeric()
                    || matches!(data[at - 1], b'.' | b'_' | b'-' | b'/'))
            }
        };
        if !starts_a_path {
            continue;
        }
        let rest = &data[at + 6..data.len().min(at + 6 + 64)];
        let user_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            .count();
        if user_len > 0 && rest.get(user_len) == Some(&b'/') {
            let home = format!("/home/{}/", String::from_utf8_lossy(&rest[..user_len]));
            if !seen
                .iter()
                .any(|s| s.starts_with(&home) || home.starts_with(s.as_str()))
            {
                seen.push(home);
            }
            return true;
        }
    }
    false
}

/// The `.dep-v0` list `cargo auditable` embeds; None when the binary has none.
fn embedded_packages(data: &[u8], shown: &str) -> Result<Option<Vec<EmbeddedPackage>>> {
    match auditable_info::audit_info_from_slice(data, AUDIT_JSON_LIMIT) {
        Ok(info) => Ok(Some(
            info.packages
                .into_iter()
                .map(|p| EmbeddedPackage {
                    from_registry: matches!(
                        p.source,
                        auditable_serde::Source::CratesIo | auditable_serde::Source::Registry
                    ),
                    build_only: matches!(p.kind, auditable_serde::DependencyKind::Build),
                    root: p.root,
                    dependencies: p.dependencies,
                    name: p.name,
                    version: p.version.to_string(),
                })
                .collect(),
        )),
        Err(auditable_info::Error::NoAuditData) => Ok(None),
        Err(e) => Err(Failure::new(format!(
            "the embedded dependency list (cargo auditable's .dep-v0) of {shown} is unreadable: {}",
            escape(&e.to_string())
        ))
        .help(
            "rebuild with `cargo auditable build --release`; this list is limited to 8 MiB of JSON",
        )
        .into()),
    }
}

/// The bin targets of `packages`, where cargo puts them for `profile` (and `target`).
pub fn built_binaries(
    target_dir: &Path,
    packages: &[&cargo_metadata::Package],
    profile: &str,
    target: Option<&str>,
) -> Vec<(String, PathBuf)> {
    let profile_dir = match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    };
    let mut dir = target_dir.to_path_buf();
    if let Some(t) = target {
        dir.push(t);
    }
    dir.push(profile_dir);
    let windows = target.map_or(cfg!(windows), |t| t.contains("windows"));
    let mut out = Vec::new();
    for p in packages {
        for t in &p.targets {
            if t.kind
                .iter()
                .any(|k| matches!(k, cargo_metadata::TargetKind::Bin))
            {
                let file = if windows {
                    format!("{}.exe", t.name)
                } else {
                    t.name.clone()
                };
                out.push((t.name.clone(), dir.join(file)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect() -> Expect<'static> {
        Expect {
            strip: "symbols",
            leaks: vec!["/build/secret-project".into()],
        }
    }

    fn f(code: Code, severity: Severity, msg: String, help: &str) -> Finding {
        Finding::new(Check::Artifact, code, severity, msg).with_help(help)
    }

    /// `path_leaks` over `bytes`, as a file.
    fn leaks_in(bytes: &[u8]) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        path_leaks(&file, bytes.len() as u64, &expect(), &f).unwrap()
    }

    #[test]
    fn leaks_are_found_and_homes_named() {
        let data = b"xx\0/build/secret-project/src/main.rs\0/home/alice/.cargo/registry/x.rs\0";
        let found = leaks_in(data);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`/build/secret-project`"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("`/home/alice/`"),
            "{}",
            found[0].message
        );
        assert!(leaks_in(b"/homeless/ and /home/").is_empty());
        assert!(leaks_in(b"\0/tmp/ci/home/.cargo/x").is_empty());
    }

    /// A minimal PE32+ image: DOS header, PE signature, COFF header, optional header
    /// with 16 empty data directories, no sections.
    fn pe64(dll_characteristics: u16) -> Vec<u8> {
        let mut b = vec![0u8; 0x40];
        b[0..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
        b.extend_from_slice(b"PE\0\0");
        let mut coff = [0u8; 20];
        coff[0..2].copy_from_slice(&0x8664u16.to_le_bytes()); // AMD64
        coff[2..4].copy_from_slice(&1u16.to_le_bytes()); // one section
        coff[16..18].copy_from_slice(&240u16.to_le_bytes()); // optional header size
        coff[18..20].copy_from_slice(&0x0022u16.to_le_bytes()); // executable, large address aware
        b.extend_from_slice(&coff);
        let mut opt = vec![0u8; 240];
        opt[0..2].copy_from_slice(&0x20bu16.to_le_bytes()); // PE32+
        opt[24..32].copy_from_slice(&0x1_4000_0000u64.to_le_bytes()); // image base
        opt[32..36].copy_from_slice(&0x1000u32.to_le_bytes()); // section alignment
        opt[36..40].copy_from_slice(&0x200u32.to_le_bytes()); // file alignment
        opt[40..42].copy_from_slice(&6u16.to_le_bytes()); // OS version
        opt[48..50].copy_from_slice(&6u16.to_le_bytes()); // subsystem version
        opt[56..60].copy_from_slice(&0x1000u32.to_le_bytes()); // size of image
        opt[60..64].copy_from_slice(&0x200u32.to_le_bytes()); // size of headers
        opt[68..70].copy_from_slice(&3u16.to_le_bytes()); // console subsystem
        opt[70..72].copy_from_slice(&dll_characteristics.to_le_bytes());
        opt[108..112].copy_from_slice(&16u32.to_le_bytes()); // data directories
        b.extend_from_slice(&opt);
        let mut text = [0u8; 40];
        text[..5].copy_from_slice(b".text");
        text[12..16].copy_from_slice(&0x1000u32.to_le_bytes()); // virtual address
        text[36..40].copy_from_slice(&0x6000_0020u32.to_le_bytes()); // code, execute, read
        b.extend_from_slice(&text);
        b.resize(0x200, 0);
        b
    }

    /// A minimal 64-bit Mach-O executable header with no load commands.
    const MACHO_PIE: u32 = 0x0020_0000;

    fn macho64(flags: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xfeed_facfu32.to_le_bytes());
        b.extend_from_slice(&0x0100_000cu32.to_le_bytes()); // arm64
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes()); // MH_EXECUTE
        b.extend_from_slice(&0u32.to_le_bytes()); // ncmds
        b.extend_from_slice(&0u32.to_le_bytes()); // sizeofcmds
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b
    }

    fn codes_of(bytes: &[u8]) -> Result<Vec<&'static str>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bin");
        std::fs::write(&p, bytes).unwrap();
        let e = Expect {
            strip: "symbols",
            leaks: Vec::new(),
        };
        Ok(inspect(&p, "bin", &e)?
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect())
    }

    #[test]
    fn pe_flags_each_on_and_off() {
        use object::pe::*;
        let all = IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE
            | IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA
            | IMAGE_DLLCHARACTERISTICS_NX_COMPAT
            | IMAGE_DLLCHARACTERISTICS_GUARD_CF;
        assert_eq!(codes_of(&pe64(all)).unwrap(), Vec::<&str>::new());
        for (flag, code) in [
            (IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE, "no-aslr"),
            (
                IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA,
                "no-high-entropy-va",
            ),
            (IMAGE_DLLCHARACTERISTICS_NX_COMPAT, "no-dep"),
            (IMAGE_DLLCHARACTERISTICS_GUARD_CF, "no-cfg"),
        ] {
            assert_eq!(codes_of(&pe64(all & !flag)).unwrap(), vec![code]);
        }
    }

    #[test]
    fn macho_flags_each_on_and_off() {
        use object::macho::*;
        assert_eq!(codes_of(&macho64(MH_PIE)).unwrap(), Vec::<&str>::new());
        assert_eq!(codes_of(&macho64(0)).unwrap(), vec!["not-pie"]);
        assert_eq!(
            codes_of(&macho64(MH_PIE | MH_ALLOW_STACK_EXECUTION)).unwrap(),
            vec!["exec-stack"]
        );
    }

    #[test]
    fn bad_files_are_errors_that_name_them() {
        let msg = |bytes: &[u8]| codes_of(bytes).unwrap_err().to_string();
        assert!(msg(b"").contains("bin is empty"));
        assert!(msg(b"#!/bin/sh\necho hi\n").contains("bin is not an ELF, PE or Mach-O executable"));
        assert!(msg(&pe64(0)[..0x100]).contains("bin is truncated or corrupt"));
        assert!(msg(&macho64(0)[..20]).contains("bin"));
        // A universal binary: one arm64 image at 0x1000, inside the file.
        let image = macho64(MACHO_PIE);
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1, 1, 0, 0, 12, 0, 0, 0, 0];
        fat.extend_from_slice(&0x1000u32.to_be_bytes());
        fat.extend_from_slice(&(image.len() as u32).to_be_bytes());
        fat.extend_from_slice(&12u32.to_be_bytes());
        fat.resize(0x1000, 0);
        fat.extend_from_slice(&image);
        assert!(
            msg(&fat).contains("universal (fat) Mach-O"),
            "{}",
            msg(&fat)
        );
        // Java's class-file magic is the fat magic: no valid image, no Mach-O.
        let class = [
            0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34, 0, 0x1d, 0x0a, 0, 6, 0, 0x0f, 9, 0, 0x10, 0,
            0x11, 8, 0, 0x12, 0x0a, 0, 0x13, 0, 0x14, 7, 0, 0x15,
        ];
        assert!(
            msg(&class).contains("bin is not an ELF, PE or Mach-O executable"),
            "{}",
            msg(&class)
        );
        // 32 bytes that claim 2^32-1 load commands: corrupt, never clean.
        let mut lying = macho64(MACHO_PIE);
        lying[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            msg(&lying).contains("bin is truncated or corrupt"),
            "{}",
            msg(&lying)
        );
        let dir = tempfile::tempdir().unwrap();
        let e = Expect {
            strip: "symbols",
            leaks: Vec::new(),
        };
        let err = inspect(dir.path(), "a-dir", &e).err().unwrap().to_string();
        assert!(err.contains("a-dir is not a regular file"), "{err}");
        let err = inspect(&dir.path().join("nope"), "nope", &e)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("artifact nope cannot be read"), "{err}");
    }

    /// A file over the limit is refused from its size alone (a sparse file: nothing
    /// is written to disk, nothing is read).
    #[test]
    fn artifacts_over_the_limit_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge");
        let mut head = macho64(MACHO_PIE);
        head.resize(4096, 0);
        std::fs::write(&path, &head).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(ARTIFACT_LIMIT + 1)
            .unwrap();
        let e = Expect {
            strip: "symbols",
            leaks: Vec::new(),
        };
        let err = inspect(&path, "huge", &e).err().unwrap().to_string();
        assert!(
            err.contains(
                "artifact huge is 2147483649 bytes, over the 2147483648-byte (2 GiB) limit"
            ),
            "{err}"
        );
    }

    /// The path-leak scan reads windows: a leak across a window's edge is found once.
    #[test]
    fn leaks_across_window_edges_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let needle = "/work/secret-project/";
        for at in [0, SCAN_WINDOW - 5, SCAN_WINDOW - 71, SCAN_WINDOW + 3] {
            let mut data = vec![0u8; SCAN_WINDOW * 2 + 100];
            data[at..at + needle.len()].copy_from_slice(needle.as_bytes());
            let home = b"/home/ann/x";
            let h = at + 40;
            data[h..h + home.len()].copy_from_slice(home);
            let path = dir.path().join("bin");
            std::fs::write(&path, &data).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            let e = Expect {
                strip: "none",
                leaks: vec![needle.to_string()],
            };
            let found = path_leaks(&file, data.len() as u64, &e, &f).unwrap();
            assert_eq!(found.len(), 1, "at {at}");
            assert!(
                found[0].message.contains(needle),
                "at {at}: {}",
                found[0].message
            );
            assert!(
                found[0].message.contains("/home/ann/"),
                "at {at}: {}",
                found[0].message
            );
        }
    }

    #[test]
    fn executables_are_told_from_their_first_bytes() {
        assert!(looks_executable(b"\x7fELF\x02\x01\x01"));
        assert!(looks_executable(&macho64(MACHO_PIE)));
        assert!(looks_executable(&pe64(0)));
        // MZ alone (a DOS stub, a text file) is not a PE image.
        let mut dos = pe64(0);
        dos[0x40..0x44].copy_from_slice(b"XXXX");
        assert!(!looks_executable(&dos));
        // Java's class file shares the universal Mach-O magic; its version is no count.
        assert!(!looks_executable(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34]));
        assert!(looks_executable(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]));
        assert!(!looks_executable(b"#!/bin/sh\n"));
        assert!(!looks_executable(b"\x1f\x8b\x08\x00"));
        assert!(!looks_executable(b""));
    }

    #[test]
    fn stripping_is_judged_against_the_profile() {
        let mut out = Vec::new();
        not_stripped("symbols", true, false, &mut out, &f);
        not_stripped("debuginfo", true, false, &mut out, &f);
        assert_eq!(
            out.len(),
            1,
            "symbols are allowed when only debuginfo is stripped"
        );
        not_stripped("debuginfo", false, true, &mut out, &f);
        not_stripped("none", true, true, &mut out, &f);
        assert_eq!(out.len(), 2);
    }
}
