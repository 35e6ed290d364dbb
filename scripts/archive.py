"""Archive a version of the paper that rebuilds to the same bytes, and check such an archive.

    python -m scripts.archive pack --out build/archive/NAME.tar.gz    (the `archive` rule; `make archive`)
    python -m scripts.archive verify ARCHIVE                          (`make verify-archive ARCHIVE=...`)

The archive is one deterministic .tar.gz (sorted entries, fixed owner, mode and time) holding the
project's sources and raw data, the committed figures, and under outputs/ the PDF and the lint and
verification reports; plus an environment lock, CITATION.cff, an RO-Crate (ro-crate-metadata.json)
and SHA256SUMS over every other file. `verify` unpacks it into a temporary folder, checks SHA256SUMS,
rebuilds the paper there (nothing is downloaded) and compares the PDF with the archived one byte for byte.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.common import ROOT, UserError, atomic_write_bytes, project_files, run_main, sha256_file, venv_environment

# Build outputs that go into the archive, and where they go in it.
ARCHIVED_OUTPUTS = {
    "build/paper.pdf": "outputs/paper.pdf",
    "build/lint/report.json": "outputs/lint/report.json",
    "build/lint/report.md": "outputs/lint/report.md",
    "build/verify/report.html": "outputs/verify/report.html",
    "build/verify/report.json": "outputs/verify/report.json",
}
SUMS = "SHA256SUMS"
LOCK = "environment-lock.json"
DEBIAN_PACKAGES = (
    "texlive-base",
    "texlive-latex-base",
    "texlive-latex-recommended",
    "texlive-latex-extra",
    "texlive-fonts-recommended",
    "texlive-bibtex-extra",
    "biber",
    "latexmk",
    "poppler-utils",
)
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".tex": "application/x-tex",
    ".bib": "application/x-bibtex",
    ".py": "text/x-python",
    ".html": "text/html",
    ".md": "text/markdown",
}


def archive_name(metadata: dict[str, Any]) -> str:
    """The archive's base name, from the DOI's suffix (epsbs.2018.03.02.10)."""
    return metadata["doi"].split("/", 1)[-1]


# --- the generated members -------------------------------------------------------------------------


def debian_versions(packages: Sequence[str] = DEBIAN_PACKAGES) -> dict[str, str]:
    try:
        listing = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package}\t${Version}\n", *packages], capture_output=True, text=True
        ).stdout
    except OSError:  # not Debian: the TeX banner in the lock still names the TeX Live release
        return {}
    return dict(sorted(line.split("\t", 1) for line in listing.splitlines() if "\t" in line))


def environment_lock() -> dict[str, Any]:
    """Exactly what built this version: every installed Python package, TeX, and Debian's packages."""
    from importlib.metadata import distributions

    from scripts.provenance import environment

    installed = {dist.metadata["Name"].lower(): dist.version for dist in distributions() if dist.metadata["Name"]}
    return {
        **environment(),
        "pip_freeze": [f"{name}=={installed[name]}" for name in sorted(installed)],
        "debian_packages": debian_versions(),
    }


def citation_cff(metadata: dict[str, Any]) -> str:
    """CITATION.cff for the archived version; unknown facts stay 'unknown'."""
    import yaml

    authors = [{"name": author["name"]} for author in metadata["authors"]]
    citation = {
        "cff-version": "1.2.0",
        "message": "This archive rebuilds the paper below. Cite the paper, not the archive.",
        "title": f"Reproducible build of: {metadata['title']}",
        "type": "dataset",
        "authors": authors,
        "doi": metadata["doi"],
        "preferred-citation": {
            "type": "article",
            "title": metadata["title"],
            "authors": authors,
            "doi": metadata["doi"],
            "year": metadata["year"],
            "journal": metadata["series"],
            "publisher": {"name": metadata["publisher"]},
            "url": metadata["url"],
        },
    }
    citation["preferred-citation"]["authors"] = [dict(author) for author in authors]  # no YAML anchors
    return yaml.safe_dump(citation, sort_keys=False, allow_unicode=True)


def ro_crate(metadata: dict[str, Any], files: dict[str, bytes], lock: dict[str, Any]) -> dict[str, Any]:
    """RO-Crate metadata: every file with its sha256, the Snakemake workflow, and the build as a run."""
    from datetime import UTC, datetime

    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    from scripts.metadata import source_date_epoch

    crate = ROCrate(gen_preview=False)
    date = datetime.fromtimestamp(source_date_epoch(metadata), UTC).isoformat()
    crate.name = f"Reproducible build of: {metadata['title']}"
    crate.description = (
        "Sources, raw data (illustrative stand-in values where marked), figures and PDF of the paper, "
        "with the workflow that rebuilds them byte for byte."
    )
    crate.datePublished = date
    crate.root_dataset["identifier"] = f"https://doi.org/{metadata['doi']}"
    entities = {}
    for name in sorted(files):
        properties = {"sha256": hashlib.sha256(files[name]).hexdigest(), "contentSize": str(len(files[name]))}
        media_type = MEDIA_TYPES.get(Path(name).suffix)
        if media_type:
            properties["encodingFormat"] = media_type
        if name == "Snakefile":
            entities[name] = crate.add_workflow(
                dest_path=name, main=True, lang="snakemake", properties={"name": "Paper workflow", **properties}
            )
        else:
            entities[name] = crate.add_file(dest_path=name, properties=properties)
    software = []
    for identifier, name, version in (
        ("#python", "Python", lock["python"]),
        ("#tex", "TeX Live (pdfTeX)", lock["tex"]),
        ("#snakemake", "Snakemake", lock["packages"].get("snakemake", "unknown")),
    ):
        software.append(
            crate.add(
                ContextEntity(
                    crate, identifier, properties={"@type": "SoftwareApplication", "name": name, "version": version}
                )
            )
        )
    entities["Snakefile"]["softwareRequirements"] = software
    # The build recorded as a run (Workflow Run Crate profiles).
    for profile, name in (
        ("https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate"),
        ("https://w3id.org/ro/wfrun/workflow/0.5", "Workflow Run Crate"),
    ):
        entity = crate.add(
            ContextEntity(crate, profile, properties={"@type": "CreativeWork", "name": name, "version": "0.5"})
        )
        crate.root_dataset.append_to("conformsTo", entity)
    raw = [entity for name, entity in entities.items() if name.startswith("data/")]
    results = [entity for name, entity in entities.items() if name.startswith(("figures/", "outputs/paper.pdf"))]
    crate.add_action(
        entities["Snakefile"],
        identifier="#build",
        object=raw,
        result=results,
        properties={
            "name": "make: rebuild figures and PDF from the raw data",
            "description": "Run `make` in the unpacked archive; `make verify-archive` checks the PDF is the same.",
            "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
        },
    )
    return crate.metadata.generate()


def sha256sums(files: dict[str, bytes]) -> str:
    """`sha256sum -c`-compatible listing."""
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))


def archive_members(root: Path, metadata: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the archive (path inside it -> bytes)."""
    files = {name: (root / name).read_bytes() for name in project_files(root)}
    for built, archived in ARCHIVED_OUTPUTS.items():
        path = root / built
        if not path.exists():
            raise UserError(built, "missing; the archive needs it", "run `make archive`, which builds it first")
        files[archived] = path.read_bytes()
    lock = environment_lock()
    files[LOCK] = (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode()
    files["CITATION.cff"] = citation_cff(metadata).encode()
    files["ro-crate-metadata.json"] = (
        json.dumps(ro_crate(metadata, files, lock), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()
    files[SUMS] = sha256sums(files).encode()
    return files


def pack(files: dict[str, bytes], prefix: str, mtime: int, executable: set[str]) -> bytes:
    """A deterministic .tar.gz: sorted members, owner root, fixed modes and time, no gzip timestamp."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size = len(files[name])
            info.mtime = mtime
            info.mode = 0o755 if name in executable else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, compresslevel=9, mtime=0) as stream:
        stream.write(buffer.getvalue())
    return compressed.getvalue()


# --- checking an archive ---------------------------------------------------------------------------


def unpack(archive: Path, destination: Path) -> Path:
    """Extract safely (no absolute paths, links or devices); return the archive's top folder."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise UserError(str(archive), f"not a readable .tar.gz archive: {err}") from None
    folders = [path for path in destination.iterdir() if path.is_dir()]
    if len(folders) != 1:
        raise UserError(str(archive), "expected one top folder in the archive")
    return folders[0]


def check_sums(folder: Path) -> list[str]:
    """Every file that is missing, altered or unlisted according to SHA256SUMS (empty when all match)."""
    sums = folder / SUMS
    if not sums.exists():
        return [f"{SUMS} is missing"]
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    problems = []
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif (actual := sha256_file(path)) != digest:
            problems.append(f"{name}: altered (sha256 {actual}, listed {digest})")
    present = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    problems += [f"{name}: not listed in {SUMS}" for name in sorted(present - set(listed) - {SUMS})]
    return problems


def environment_differences(folder: Path) -> list[str]:
    """Where this machine differs from the archived environment lock (a likely cause of different bytes)."""
    from scripts.provenance import environment

    lock = json.loads((folder / LOCK).read_text(encoding="utf-8"))
    here = environment()
    notes = [
        f"{key}: archived {lock[key]}, here {here[key]}" for key in ("python", "tex") if lock.get(key) != here[key]
    ]
    for name, version in sorted(lock.get("packages", {}).items()):
        if here["packages"].get(name) != version:
            notes.append(f"{name}: archived {version}, here {here['packages'].get(name)}")
    return notes


def rebuild(folder: Path, cores: int) -> subprocess.CompletedProcess:
    """Build the unpacked archive with this environment; nothing is fetched from the network."""
    env = {**venv_environment(), "PIP_NO_INDEX": "1"}
    return subprocess.run(
        [sys.executable, "-m", "scripts.build", "--cores", str(cores)],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )


def verify_archive(archive: Path, cores: int) -> int:
    from scripts.reproduce import first_difference, pdf_object_at

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="verify-archive-") as temporary:
        folder = unpack(archive, Path(temporary))
        problems = check_sums(folder)
        if problems:
            for problem in problems:
                print(f"verify-archive: FAIL {problem}")
            print(f"verify-archive: {archive} has been altered; not rebuilt")
            return 1
        print(f"verify-archive: {SUMS} matches all {len((folder / SUMS).read_text().splitlines())} files")
        for note in environment_differences(folder):
            print(f"verify-archive: note: environment differs: {note}")
        result = rebuild(folder, cores)
        if result.returncode != 0:
            print(result.stderr.strip())
            print("verify-archive: FAIL the archived sources did not build")
            return 1
        archived, rebuilt = (folder / "outputs/paper.pdf").read_bytes(), (folder / "build/paper.pdf").read_bytes()
    seconds = time.perf_counter() - started
    if archived == rebuilt:
        digest = hashlib.sha256(rebuilt).hexdigest()
        print(
            f"verify-archive: PASS rebuilt PDF is byte-identical to the archived one (sha256 {digest}, {seconds:.1f} s)"
        )
        return 0
    offset = first_difference(archived, rebuilt)
    print(
        f"verify-archive: FAIL rebuilt PDF differs from outputs/paper.pdf at byte {offset},"
        f" in {pdf_object_at(archived, offset or 0)}"
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pack_command = commands.add_parser("pack", help="write the archive")
    pack_command.add_argument("--out", type=Path, required=True)
    pack_command.add_argument("--config", type=Path, help="the workflow's validated config (default: the metadata)")
    verify_command = commands.add_parser("verify", help="check an archive's sums and rebuild it")
    verify_command.add_argument("archive", type=Path)
    verify_command.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.command == "verify":
        if not args.archive.is_file():
            raise UserError(str(args.archive), "archive not found", "make one with `make archive`")
        return verify_archive(args.archive, args.cores)
    from scripts.metadata import config_or_metadata, source_date_epoch

    metadata = config_or_metadata(args.config)
    files = archive_members(ROOT, metadata)
    executable = {name for name in files if (ROOT / name).is_file() and os.access(ROOT / name, os.X_OK)}
    data = pack(files, archive_name(metadata), source_date_epoch(metadata), executable)
    atomic_write_bytes(args.out, data)
    print(f"{args.out}: {len(data):,} bytes, {len(files)} files, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    run_main(main)
