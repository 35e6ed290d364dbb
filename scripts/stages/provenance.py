"""The provenance manifest: what each figure was made from, embedded in the PDF.

    python -m scripts.stages.provenance write --json build/provenance/manifest.json --tex build/provenance/manifest.tex
    python -m scripts.stages.provenance show [PDF]            (prints the manifest a PDF carries)

Per figure, the manifest records the sha256 of the figure file, of the code and style that draw it and
of its raw data, and the data's provenance status; it also records the versions of Python, the pinned
packages and TeX. The .tex fragment attaches the JSON to the PDF (embedfile) and puts its sha256 and
the provenance status in the PDF's document information; paper.tex reads it only if it exists, so a
plain pdflatex run without it still works.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from scripts.common import ROOT, UserError, atomic_write_text, run_main
from scripts.paths import MANIFEST_JSON, MANIFEST_TEX

MANIFEST_NAME = "manifest.json"  # the attachment's name inside the PDF
# What draws every figure, besides its raw data (paths relative to the project root).
FIGURE_CODE = ("scripts/stages/data.py", "scripts/stages/figures.py", "paper/figure-style.mplstyle")
FORMAT_VERSION = 1


def pinned_packages(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """The installed version of every package requirements.txt pins (what this build really used)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip().split("==", 1)[0].strip()
        if name:
            try:
                found[name] = version(name)
            except PackageNotFoundError:
                found[name] = "not installed"
    return found


@cache
def tex_version() -> str:
    """pdfTeX's banner, e.g. 'pdfTeX 3.141592653-2.6-1.40.24 (TeX Live 2022/Debian)'."""
    try:
        banner = subprocess.run(["pdflatex", "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "not installed"
    return banner.splitlines()[0].strip() if banner else "unknown"


def environment(requirements: Path = ROOT / "requirements.txt") -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "packages": pinned_packages(requirements),
        "tex": tex_version(),
    }


def figure_records(metadata: dict[str, Any], descriptor: dict[str, Any], root: Path = ROOT) -> list[dict[str, Any]]:
    """One record per figure: its file, code and raw data with their sha256, and its data provenance."""
    from scripts.common import sha256_file
    from scripts.stages.data import DESCRIPTOR, find_resource, provenance_status
    from scripts.stages.metadata import figure_path

    records = []
    for figure in metadata["figures"]:
        resource = find_resource(descriptor, figure["data"])
        raw = (DESCRIPTOR.parent / resource["path"]).as_posix()
        file = figure_path(figure["id"])
        records.append(
            {
                "id": figure["id"],
                "file": file,
                "sha256": sha256_file(root / file),
                "code": {name: sha256_file(root / name) for name in FIGURE_CODE},
                "raw": {raw: sha256_file(root / raw)},
                "data_resource": resource["name"],
                "provenance": provenance_status(resource),
            }
        )
    return records


def build_manifest(metadata: dict[str, Any], descriptor: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    return {
        "format": f"paper-provenance-manifest/{FORMAT_VERSION}",
        "paper": {"title": metadata["title"], "doi": metadata["doi"]},
        "figures": figure_records(metadata, descriptor, root),
        "environment": environment(root / "requirements.txt"),
    }


def manifest_json(manifest: dict[str, Any]) -> str:
    """The manifest as deterministic JSON (sorted keys, fixed indentation)."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def overall_provenance(manifest: dict[str, Any]) -> str:
    statuses = {figure["provenance"] for figure in manifest["figures"]}
    return "real" if statuses == {"real"} else "illustrative" if statuses == {"illustrative"} else "mixed"


def pdf_date(epoch: int) -> str:
    """A PDF date string (D:YYYYMMDDHHmmSSZ) in UTC."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("D:%Y%m%d%H%M%SZ")


def manifest_tex(manifest_text: str, source_date_epoch: int, json_path: Path = MANIFEST_JSON) -> str:
    """TeX that attaches the manifest and records its sha256 and the provenance in the document info.

    embedfile stamps the attachment with the file's modification time, which FORCE_SOURCE_DATE does not
    cover; the fragment gives it the paper's fixed date instead, so the PDF stays byte-identical."""
    digest = hashlib.sha256(manifest_text.encode("utf-8")).hexdigest()
    status = overall_provenance(json.loads(manifest_text))
    return (
        "% Written by scripts/stages/provenance.py; paper.tex reads it if it exists.\n"
        "\\makeatletter\\begingroup\n"
        rf"\def\pdf@filemoddate#1{{{pdf_date(source_date_epoch)}}}"
        "\n"
        rf"\embedfile[filespec={MANIFEST_NAME},mimetype=application/json,"
        rf"desc={{Provenance manifest: sha256 of each figure, its code and raw data}}]{{{json_path.as_posix()}}}"
        "\n\\endgroup\\makeatother\n"
        rf"\hypersetup{{pdfinfo={{ProvenanceManifestSHA256={{{digest}}},DataProvenance={{{status}}}}}}}"
        "\n"
    )


def read_manifest(pdf: Path) -> dict[str, Any]:
    """The manifest attached to a PDF; a UserError when the PDF carries none."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        attachments = PdfReader(pdf).attachments
        contents = attachments.get(MANIFEST_NAME)
    except FileNotFoundError:
        raise UserError(str(pdf), "file not found") from None
    except (PdfReadError, OSError, ValueError) as err:
        raise UserError(str(pdf), f"cannot read this PDF: {err}") from None
    if not contents:
        raise UserError(str(pdf), f"the PDF has no attached {MANIFEST_NAME}", "build it with `make` (it attaches one)")
    return json.loads(contents[0])


def document_info(pdf: Path) -> dict[str, str]:
    from pypdf import PdfReader

    info = PdfReader(pdf).metadata or {}
    return {str(key).lstrip("/"): str(value) for key, value in info.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.provenance", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the manifest and its TeX fragment")
    write.add_argument("--config", type=Path, help="the workflow's validated config (default: the metadata)")
    write.add_argument("--descriptor", type=Path, default=Path("data/datapackage.json"))
    write.add_argument("--json", type=Path, default=MANIFEST_JSON)
    write.add_argument("--tex", type=Path, default=MANIFEST_TEX)
    show = commands.add_parser("show", help="print the manifest a PDF carries")
    show.add_argument("pdf", type=Path, nargs="?", default=Path("build/paper.pdf"))
    args = parser.parse_args(argv)
    if args.command == "show":
        print(manifest_json(read_manifest(args.pdf)), end="")
        return 0
    from scripts.stages.data import load_descriptor
    from scripts.stages.metadata import config_or_metadata, source_date_epoch

    metadata = config_or_metadata(args.config)
    text = manifest_json(build_manifest(metadata, load_descriptor(args.descriptor)))
    atomic_write_text(args.json, text)
    atomic_write_text(args.tex, manifest_tex(text, source_date_epoch(metadata), args.json))
    print(f"{args.json}: {len(json.loads(text)['figures'])} figures")
    return 0


if __name__ == "__main__":
    run_main(main)
