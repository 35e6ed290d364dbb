"""Archive a version of the paper that rebuilds to the same bytes, and check such an archive.

    python -m scripts.commands.archive pack --out build/archive/NAME.tar.gz    (the `archive` rule; `make archive`)
    python -m scripts.commands.archive verify ARCHIVE                          (`make verify-archive ARCHIVE=...`)

The archive is one deterministic .tar.gz (sorted entries, fixed owner, mode and time) holding the
project's sources and raw data, the committed figures, and under outputs/ the PDF and the lint and
verification reports; plus an environment lock, CITATION.cff, an RO-Crate (ro-crate-metadata.json and its HTML preview)
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

from scripts import paths
from scripts.common import ROOT, UserError, atomic_write_bytes, project_files, run_main, sha256_file, venv_environment

# Build outputs that go into the archive, and where they go in it.
ARCHIVED_OUTPUTS = {
    path.as_posix(): f"outputs/{path.relative_to(paths.BUILD).as_posix()}"
    for path in (
        paths.PAPER_PDF,
        paths.LINT_REPORT_JSON,
        paths.LINT_REPORT_MD,
        paths.VERIFY_REPORT_HTML,
        paths.VERIFY_REPORT_JSON,
    )
}
SUMS = "SHA256SUMS"
LOCK = "environment-lock.json"
# One list of Debian packages, shared with scripts/setup/install-tex.sh.
DEBIAN_PACKAGE_LIST = ROOT / "scripts/setup/debian-packages.txt"
# Media types by suffix (or whole name), fixed here rather than read from the system's mime.types.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".cff": "application/yaml",
    ".tex": "text/x-tex",
    ".sty": "text/x-tex",
    ".bib": "text/x-bibtex",
    ".py": "text/x-python",
    ".smk": "text/x-python",  # Snakemake's grammar extends Python's
    "Snakefile": "text/x-python",
    ".html": "text/html",
    ".md": "text/markdown",
    ".rst": "text/x-rst",
    ".sh": "text/x-shellscript",
    "run": "text/x-shellscript",
    ".toml": "application/toml",
    "Makefile": "text/x-makefile",
}
# What each group of files is, for the RO-Crate (the first matching prefix wins).
FILE_DESCRIPTIONS = (
    ("data/raw/", "Raw data: illustrative stand-in values, not the paper's data (see data/datapackage.json)"),
    ("data/", "Data package descriptor: schema, units, sha256 and provenance of the raw data"),
    ("figures/", "Figure generated from the raw data by the workflow (committed; rebuilt byte for byte)"),
    ("paper/sections/", "Body text of one section of the article (verbatim published text; see paper/RIGHTS.md)"),
    ("paper/metadata.yaml", "Article metadata and the workflow's configuration"),
    ("paper/RIGHTS.md", "What is known and not known about the rights in the article's text"),
    ("paper/", "Source of the paper's typesetting (style, bibliography, corrections)"),
    ("outputs/paper.pdf", "The PDF built from these sources by the workflow"),
    ("outputs/lint/", "Report of the structure lint on the sources and the PDF"),
    ("outputs/verify/", "Report of `make verify`: each figure redrawn from the raw data and compared"),
    ("scripts/workflow/rules/", "Snakemake rules of the workflow"),
    ("scripts/workflow/schemas/", "Schema that the workflow's inputs are validated against"),
    ("scripts/devtools/benchmark.py", "Benchmark of build times (not part of the build)"),
    ("scripts/", "Code of the workflow (Python package, shell scripts, settings)"),
    ("tests/benchmarks/", "The benchmark's last measured results, kept under version control (not used by the build)"),
    ("tests/vendor/", "Third-party file used by the tests offline (source and licence in tests/vendor/README.md)"),
    ("tests/", "Test suite (pytest) and its fixtures"),
    (".ci/run", "Continuous-integration entry point: runs `make test` on a clean clone (not part of the build)"),
    ("LICENSE", "Licence of the project's code (MIT)"),
    ("README.md", "How to build, verify, archive and reproduce the paper"),
    ("Snakefile", "The workflow's main file"),
    ("Makefile", "One-command entry points (make, make test, make archive ...)"),
    ("requirements", "Pinned Python packages"),
    ("environment.yml", "Conda environment file (the same pins as requirements.txt)"),
    (LOCK, "Exact environment of this build: Python, packages, TeX and Debian package versions"),
    ("CITATION.cff", "Citation metadata of this archive and of the article"),
)
# The project's own identity: no person is known, so the project is the author and publisher.
PROJECT = {
    "@id": "#project",
    "@type": "Organization",
    "name": "epsbs-mongolia reproducible-rebuild project",
    "description": "The project that rebuilds the article from its sources; no individual author is known.",
}
CODE_LICENCE = ("https://spdx.org/licenses/MIT", "MIT License", "Licence of the project's code (LICENSE)")
DATA_LICENCE = (
    "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC0 1.0 Universal",
    "Licence of the illustrative stand-in data (data/raw/, data/datapackage.json)",
)
RIGHTS = "paper/RIGHTS.md"
# Files that copy the article's published text: their rights are described by RIGHTS, not licensed.
ARTICLE_TEXT = ("paper/sections/", "paper/metadata.yaml", "outputs/paper.pdf")
PROFILES = (
    ("https://w3id.org/ro/crate/1.1", "RO-Crate Metadata Specification", "1.1"),
    ("https://w3id.org/workflowhub/workflow-ro-crate/1.0", "Workflow RO-Crate", "1.0"),
    ("https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate", "0.5"),
    ("https://w3id.org/ro/wfrun/workflow/0.5", "Workflow Run Crate", "0.5"),
)


def archive_name(metadata: dict[str, Any]) -> str:
    """The archive's base name, from the DOI's suffix (epsbs.2018.03.02.10)."""
    return metadata["doi"].split("/", 1)[-1]


# --- the generated members -------------------------------------------------------------------------


def debian_packages(listing: Path = DEBIAN_PACKAGE_LIST) -> list[str]:
    """The Debian packages the build needs (one a line; '#' starts a comment)."""
    lines = (line.split("#", 1)[0].strip() for line in listing.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def debian_versions(packages: Sequence[str]) -> dict[str, str]:
    try:
        listing = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package}\t${Version}\n", *packages], capture_output=True, text=True
        ).stdout
    except OSError:  # not Debian: the TeX banner in the lock still names the TeX Live release
        return {}
    return dict(sorted(line.split("\t", 1) for line in listing.splitlines() if "\t" in line))


def installed_files_sha256(files: Sequence[Any]) -> str | None:
    """One sha256 over a distribution's installed files as its RECORD lists them (path and sha256).

    Only files inside site-packages count: scripts in bin/ embed the virtualenv's path, and pip's own
    bookkeeping (INSTALLER, REQUESTED, direct_url.json) says how, not what, was installed."""
    bookkeeping = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
    entries = sorted(
        f"{file.as_posix()} {file.hash.value}"
        for file in files
        if file.hash and not file.as_posix().startswith("..") and file.name not in bookkeeping
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest() if entries else None


PACKAGE_HASHES_NOTE = (
    "installed_files_sha256: per package, the sha256 over the path and sha256 of every file it installed "
    "into site-packages, as its dist-info RECORD lists them (computed offline; the same wheel installs the "
    "same files). These are not the wheel hashes that `pip install --require-hashes` needs: pip gives those "
    "only for downloaded wheel files (`pip download`, `pip hash`), and the archive step downloads nothing. "
    "Packages installed without a RECORD have no entry."
)


def environment_lock() -> dict[str, Any]:
    """Exactly what built this version: every installed Python package, TeX, and Debian's packages."""
    from importlib.metadata import distributions

    from scripts.stages.provenance import environment

    installed = {dist.metadata["Name"].lower(): dist for dist in distributions() if dist.metadata["Name"]}
    hashes = {name: installed_files_sha256(dist.files or []) for name, dist in installed.items()}
    return {
        **environment(),
        "pip_freeze": [f"{name}=={installed[name].version}" for name in sorted(installed)],
        "installed_files_sha256": {name: digest for name, digest in sorted(hashes.items()) if digest},
        "package_hashes_note": PACKAGE_HASHES_NOTE,
        "debian_packages": debian_versions(debian_packages()),
    }


def source_date(metadata: dict[str, Any]) -> str:
    """The build's fixed source date (ISO 8601, UTC), which stands for this version's date everywhere."""
    from datetime import UTC, datetime

    from scripts.stages.metadata import source_date_epoch

    return datetime.fromtimestamp(source_date_epoch(metadata), UTC).isoformat()


def content_version(files: dict[str, bytes]) -> str:
    """A version name for this archive: the start of the sha256 over its sources' and outputs' sums.

    The project has no release numbers; this names exactly one content, and the same content always
    gets the same name."""
    return "content-" + hashlib.sha256(sha256sums(files).encode()).hexdigest()[:12]


ARTICLE_AUTHORS_NOTE = (
    "The article's author(s), affiliation, volume and pages could not be identified; its licence was not "
    "established (EpSBS content is normally CC BY-NC-ND 4.0; see paper/RIGHTS.md)."
)


def citation_cff(metadata: dict[str, Any], version: str) -> str:
    """CITATION.cff for this archive (a dataset by the project), with the article as the preferred citation."""
    import yaml

    date = source_date(metadata)[:10]
    citation = {
        "cff-version": "1.2.0",
        "message": "This archive rebuilds the article in preferred-citation; please cite the article.",
        "type": "dataset",
        "title": f"Reproducible build of: {metadata['title']}",
        "abstract": (
            "Sources, raw data, figures and PDF of the article, with the Snakemake workflow that rebuilds them "
            "byte for byte. The raw data are illustrative stand-in values, not the article's data. Licences: "
            "the code is MIT (LICENSE), the stand-in data are CC0-1.0 (data/datapackage.json); the article's "
            "text is copied verbatim and is not licensed by this project: its licence was not established "
            "(paper/RIGHTS.md). date-released is the build's fixed source date. The article's author(s) could not "
            "be identified (see the notes of preferred-citation)."
        ),
        "authors": [{"name": PROJECT["name"]}],
        "version": version,
        "date-released": date,
        "license": ["MIT", "CC0-1.0"],
        "keywords": list(metadata["keywords"]),
        "preferred-citation": {
            "type": "article",
            "title": metadata["title"],
            # CFF needs at least one author; an entity says that none is known (not a person named so).
            "authors": [{"name": "Author(s) not identified"}],
            "doi": metadata["doi"],
            "year": metadata["year"],
            "journal": metadata["series"],
            "issn": metadata["eissn"],
            "publisher": {"name": metadata["publisher"]},
            "url": metadata["url"],
            "notes": ARTICLE_AUTHORS_NOTE,
        },
    }
    return yaml.safe_dump(citation, sort_keys=False, allow_unicode=True, width=120)


def file_description(name: str) -> str | None:
    return next((text for prefix, text in FILE_DESCRIPTIONS if name.startswith(prefix)), None)


def media_type(name: str, content: bytes) -> str:
    path = Path(name)
    known = MEDIA_TYPES.get(path.suffix) or MEDIA_TYPES.get(path.name)
    if known:
        return known
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def ro_crate(
    metadata: dict[str, Any], files: dict[str, bytes], lock: dict[str, Any], version: str
) -> tuple[dict[str, Any], str]:
    """RO-Crate 1.1 metadata (Workflow RO-Crate 1.0, Process and Workflow Run Crate 0.5).

    Every file with its name, media type and sha256; the Snakefile as the main workflow; the article as
    its own ScholarlyArticle; and the build as a CreateAction from the raw data and the configuration to
    the figures and the PDF. Dates are the source date, so the crate has the same bytes on every build.
    Returns the metadata and the rocrate library's HTML preview of it.

    rocrate-validator's RECOMMENDED findings that remain, on purpose (tests/test_archive_validators.py):
    - the project (#project) has no url: it has no public address that is known;
    - the Snakefile has no url (same reason), and its @id is relative, as RO-Crate requires of a file in the
      crate (the "SoftwareApplication id SHOULD be an absolute URI" check also reports it by its types);
    - the Snakefile does not claim the Bioschemas ComputationalWorkflow profile: its inputs and outputs are
      not described as FormalParameters;
    - actionStatus is http://schema.org/CompletedActionStatus, as the check asks; the validator compares
      the IRI with a string and reports it anyway."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    def entity(entity_id: str, /, **properties: Any) -> ContextEntity:
        return crate.add(ContextEntity(crate, entity_id, properties=properties))

    crate = ROCrate(gen_preview=True, version="1.1")
    crate.metadata.extra_terms["sha256"] = "http://schema.org/sha256"  # in schema.org, not in the 1.1 context
    date = source_date(metadata)
    project = entity(PROJECT["@id"], **{key: value for key, value in PROJECT.items() if key != "@id"})
    code_licence, data_licence = (
        entity(url, **{"@type": "CreativeWork", "name": name, "description": description})
        for url, name, description in (CODE_LICENCE, DATA_LICENCE)
    )
    publisher = entity(f"#publisher-{metadata['publisher']}".replace(" ", "-"), **{
        "@type": "Organization", "name": metadata["publisher"], "url": proceedings_site(metadata["url"]),
        "description": "Publisher of the article; the url is the site of its proceedings, where the article is.",
    })  # fmt: skip
    article = entity(
        f"https://doi.org/{metadata['doi']}",
        **{
            "@type": "ScholarlyArticle",
            "name": metadata["title"],
            "identifier": f"https://doi.org/{metadata['doi']}",
            "url": metadata["url"],
            "datePublished": str(metadata["year"]),
            "publisher": publisher,
            "isPartOf": {"@id": f"#series-{metadata['eissn']}"},
            "keywords": list(metadata["keywords"]),
            "description": ARTICLE_AUTHORS_NOTE,
        },
    )
    entity(
        f"#series-{metadata['eissn']}",
        **{"@type": "Periodical", "name": metadata["series"], "issn": metadata["eissn"], "publisher": publisher},
    )
    root = crate.root_dataset
    root["name"] = f"Reproducible build of: {metadata['title']}"
    root["description"] = (
        "Sources, raw data (illustrative stand-in values, not the article's data), figures and PDF of the "
        "article, with the Snakemake workflow that rebuilds them byte for byte. The code is MIT, the stand-in "
        "data CC0-1.0; the article's text is copied verbatim and its licence was not established (paper/RIGHTS.md). "
        "datePublished is the build's fixed source date, not the day the archive was made."
    )
    root["datePublished"] = date
    root["version"] = version
    root["author"] = project
    root["publisher"] = project
    root["license"] = [code_licence, data_licence]
    root["about"] = article
    root["citation"] = article
    root["keywords"] = list(metadata["keywords"])
    entities = {}
    for name in sorted(files):
        properties = {
            "name": name,
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "contentSize": str(len(files[name])),
            "encodingFormat": media_type(name, files[name]),
        }
        if description := file_description(name):
            properties["description"] = description
        if name.startswith("data/raw/"):
            properties["license"] = {"@id": data_licence.id}
        if name.startswith(ARTICLE_TEXT):
            properties["usageInfo"] = {"@id": RIGHTS}
        if name == "README.md":
            properties["about"] = {"@id": "./"}
        if name == "Snakefile":
            entities[name] = crate.add_workflow(dest_path=name, main=True, lang="snakemake", properties=properties)
        else:
            entities[name] = crate.add_file(dest_path=name, properties=properties)
    article["usageInfo"] = {"@id": RIGHTS}
    software = [
        # The home page is the @id (Process Run Crate asks for absolute ids); the version says which release.
        entity(url, **{"@type": "SoftwareApplication", "name": name, "version": software_version, "url": url})
        for name, software_version, url in (
            ("Python", lock["python"], "https://www.python.org/"),
            ("TeX Live (pdfTeX, biber, latexmk)", lock["tex"], "https://tug.org/texlive/"),
            ("Snakemake", lock["packages"]["snakemake"], "https://snakemake.github.io/"),
        )
    ]
    workflow = entities["Snakefile"]
    workflow["name"] = "Paper workflow (Snakemake)"
    workflow["version"] = version
    workflow["softwareRequirements"] = software
    workflow["author"] = project
    workflow["license"] = code_licence
    profiles = [
        entity(url, **{"@type": "CreativeWork", "name": f"{name} {profile_version}", "version": profile_version})
        for url, name, profile_version in PROFILES
    ]
    root["conformsTo"] = profiles[1:]  # RO-Crate 1.1 itself is claimed by the metadata descriptor
    raw = [entity for name, entity in entities.items() if name.startswith("data/raw/")]
    config = [entities["paper/metadata.yaml"], entities["data/datapackage.json"]]
    results = [entity for name, entity in entities.items() if name.startswith(("figures/", "outputs/paper.pdf"))]
    build = crate.add_action(
        workflow,
        identifier="#build",
        object=raw + config,
        result=results,
        properties={
            "name": "make: rebuild the figures and the PDF from the raw data",
            "description": (
                "Run `make` in the unpacked archive; `make verify-archive` checks that the PDF is the same. "
                "endTime is the build's fixed source date, which every output carries instead of a clock time."
            ),
            "agent": {"@id": project.id},
            "endTime": date,
            "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
        },
    )
    root["mentions"] = build
    crate.preview["name"] = "HTML preview of this RO-Crate (made by the rocrate library)"
    crate.preview["encodingFormat"] = "text/html"
    return crate.metadata.generate(), crate.preview.generate_html()


def proceedings_site(article_url: str) -> str:
    """https://host/ of the article's page."""
    from urllib.parse import urlsplit

    return f"https://{urlsplit(article_url).netloc}/"


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
    version = content_version(files)
    lock = environment_lock()
    files[LOCK] = (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode()
    files["CITATION.cff"] = citation_cff(metadata, version).encode()
    crate, preview = ro_crate(metadata, files, lock, version)
    files["ro-crate-metadata.json"] = (json.dumps(crate, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    files["ro-crate-preview.html"] = preview.encode()
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
    from scripts.stages.provenance import environment

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
        [sys.executable, "-m", "scripts.commands.build", "--cores", str(cores)],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )


def verify_archive(archive: Path, cores: int) -> int:
    from scripts.devtools.reproduce import first_difference, pdf_object_at

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
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.archive", description=__doc__.splitlines()[0])
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
    from scripts.stages.metadata import config_or_metadata, source_date_epoch

    metadata = config_or_metadata(args.config)
    files = archive_members(ROOT, metadata)
    executable = {name for name in files if (ROOT / name).is_file() and os.access(ROOT / name, os.X_OK)}
    data = pack(files, archive_name(metadata), source_date_epoch(metadata), executable)
    atomic_write_bytes(args.out, data)
    print(f"{args.out}: {len(data):,} bytes, {len(files)} files, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    run_main(main)
