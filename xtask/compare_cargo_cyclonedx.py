"""Compares `cargo secure-release sbom` with cargo-cyclonedx on real projects and
explains every difference (the README's comparison table comes from this).

usage: python3 xtask/compare_cargo_cyclonedx.py OURS_BINARY CARGO_CYCLONEDX_BINARY DIR...

For each project DIR (a crate with its Cargo.lock): both tools on the host target
with default features; then every crate cargo-cyclonedx lists and we do not is
explained by re-running ours with all features, and for other operating systems,
and by `cargo metadata` (reachable only through dev-dependencies). A crate we list
that cargo-cyclonedx does not, or a difference nothing explains, is printed.
"""
import json
import subprocess
import sys
from pathlib import Path

ours_bin, cdx_bin, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]


def ours(d, *args):
    out = subprocess.run([ours_bin, "secure-release", "sbom", "-q", *args], cwd=d,
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    return {(c["name"], c["version"]) for c in doc.get("components", [])}


def theirs(d):
    subprocess.run([cdx_bin, "cyclonedx", "-q", "--format", "json", "--spec-version", "1.5",
                    "--override-filename", "theirs"], cwd=d, check=True, capture_output=True)
    doc = json.loads((Path(d) / "theirs.json").read_text())
    root = doc["metadata"]["component"]["name"]
    return {(c["name"], c["version"]) for c in doc.get("components", []) if c["name"] != root}


def cargo_tree(d, *args):
    """What cargo itself says the build compiles (its real feature resolver)."""
    out = subprocess.run(["cargo", "tree", "--locked", "--prefix", "none", "-f", "{p}", *args],
                         cwd=d, check=True, capture_output=True, text=True).stdout
    pkgs = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("v"):
            pkgs.add((parts[0], parts[1][1:]))
    return pkgs


def dev_only(d):
    """Packages reachable from the root only when dev-dependencies are followed."""
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"],
                                     cwd=d, check=True, capture_output=True, text=True).stdout)
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    pkgs = {p["id"]: (p["name"], p["version"]) for p in meta["packages"]}
    root = meta["resolve"]["root"]

    def reach(with_dev):
        seen, todo = set(), [root]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            for dep in nodes[n]["deps"]:
                kinds = {k["kind"] for k in dep["dep_kinds"]}
                if with_dev and n == root or kinds - {"dev"}:
                    todo.append(dep["pkg"])
        return {pkgs[i] for i in seen}

    return reach(True) - reach(False)


for d in dirs:
    name = Path(d).name
    mine, cdx = ours(d), theirs(d)
    all_features = ours(d, "--all-features")
    other_os = set()
    for t in ["x86_64-pc-windows-msvc", "aarch64-apple-darwin", "wasm32-unknown-unknown"]:
        other_os |= ours(d, "--all-features", "--target", t)
    dev = dev_only(d)
    compiled = cargo_tree(d, "-e", "normal,build")
    root = next(p for p in compiled if p not in mine and p not in cdx)
    compiled.discard(root)
    why = {"feature not enabled by default": [], "other target only": [], "dev-dependency only": [],
           "not compiled (cargo tree agrees): only in cargo metadata's union of features": [],
           "unexplained": []}
    for pkg in sorted(cdx - mine):
        if pkg in all_features:
            why["feature not enabled by default"].append(pkg)
        elif pkg in other_os:
            why["other target only"].append(pkg)
        elif pkg in dev:
            why["dev-dependency only"].append(pkg)
        elif pkg not in compiled:
            why["not compiled (cargo tree agrees): only in cargo metadata's union of features"].append(pkg)
        else:
            why["unexplained"].append(pkg)
    print(f"## {name}: ours {len(mine)}, cargo-cyclonedx {len(cdx)}, both {len(mine & cdx)}, "
          f"only ours {len(mine - cdx)}")
    for k, v in why.items():
        shown = ", ".join(f"{n} {ver}" for n, ver in v[:6]) + (" …" if len(v) > 6 else "")
        print(f"  {k}: {len(v)}  {shown}")
    for n, ver in sorted(mine - cdx):
        print(f"  only ours: {n} {ver}")
    print(f"  ours == cargo tree -e normal,build: {mine == compiled}"
          + ("" if mine == compiled else f" (ours-tree {sorted(mine - compiled)}, tree-ours {sorted(compiled - mine)})"))
