"""Build the paper and its archive twice, in two separate temporary folders, and compare every output byte for byte.

    python -m scripts.devtools.reproduce        (what `make check-reproducible` runs)

Prints "identical" with the PDF's sha256, or the first output that differs and, for a PDF, the byte
offset and the PDF object where the two builds first part. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scripts.common import ROOT, UserError, copy_project_files, run_main, sha256_file

# Everything the build makes, in the order a reader would look: the PDF first.
OUTPUTS = (
    "build/paper.pdf",
    "build/tex/paper.tex",
    "build/tex/figure-*.tex",
    "build/provenance/manifest.*",
    "figures/*.pdf",
    "build/processed/*.csv",
    "build/data/*.json",
    "build/lint/sources.json",
    "build/lint/report.json",
    "build/lint/report.md",
    "build/verify/report.*",
    "build/archive/*.tar.gz",
)


def outputs(folder: Path) -> dict[str, str]:
    """sha256 of every output of a build in `folder`, keyed by its path relative to the folder."""
    found = {}
    for pattern in OUTPUTS:
        for path in sorted(folder.glob(pattern)):
            found[path.relative_to(folder).as_posix()] = sha256_file(path)
    return found


def first_difference(first: bytes, second: bytes) -> int | None:
    """Offset of the first byte where two files differ (the shorter length if one is a prefix)."""
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        if a != b:
            return index
    return None if len(first) == len(second) else min(len(first), len(second))


def pdf_object_at(data: bytes, offset: int) -> str:
    """The PDF object that holds `offset`: the last `N G obj` that starts before it, or the trailer."""
    starts = list(re.finditer(rb"(\d+) (\d+) obj\b", data[:offset]))
    trailer = max(data.rfind(b"trailer", 0, offset), data.rfind(b"startxref", 0, offset))
    if starts and starts[-1].start() > trailer:
        return f"object {int(starts[-1][1])} {int(starts[-1][2])}"
    return "the trailer or cross-reference table" if trailer >= 0 else "the header"


def compare(first: Path, second: Path) -> list[str]:
    """Differences between two build folders, first differing file first; empty when identical."""
    a, b = outputs(first), outputs(second)
    differences = [f"{name}: only in one build" for name in sorted(set(a) ^ set(b))]
    for name in a:
        if name in b and a[name] != b[name]:
            left, right = (first / name).read_bytes(), (second / name).read_bytes()
            offset = first_difference(left, right)
            where = f"first difference at byte {offset}"
            if name.endswith(".pdf") and offset is not None:
                where += f", in {pdf_object_at(left, offset)}"
            differences.append(f"{name}: {where}")
    return differences


def build_in(folder: Path, cores: int) -> None:
    copy_project_files(folder, ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "scripts.commands.build", "all", "archive", "--cores", str(cores)],
        cwd=folder,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise UserError(str(folder), "the build failed", result.stderr.strip().splitlines()[0] if result.stderr else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.devtools.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="repro-a-") as one, tempfile.TemporaryDirectory(prefix="repro-b-") as two:
        first, second = Path(one), Path(two)
        for folder in (first, second):
            build_in(folder, args.cores)
        differences = compare(first, second)
        built = outputs(first)
    if differences:
        print("not reproducible: " + differences[0])
        for line in differences[1:]:
            print("  also: " + line)
        return 1
    pdf_hash = built["build/paper.pdf"]
    print(f"reproducible: {len(built)} outputs identical in two folders; build/paper.pdf sha256 {pdf_hash}")
    return 0


if __name__ == "__main__":
    run_main(main)
