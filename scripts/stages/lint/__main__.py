"""Lint the paper's structure:

    python -m scripts.stages.lint [--root DIR] [--pdf build/paper.pdf] [--json ...] [--markdown ...]

Prints `path:line:col: severity code message` lines and a summary; exits 1 when a finding is an
error (0 with --exit-zero, as the default build runs it: lint errors never block the PDF).
`python -m scripts.stages.lint verdict build/lint/report.json` prints a saved report and exits the same way.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.common import ROOT, UserError, atomic_write_text, run_main
from scripts.stages.lint import checks, report, research_questions
from scripts.stages.lint.macros import known_macros
from scripts.stages.lint.parse import every_file, read_sections
from scripts.stages.metadata import METADATA, load_metadata, read_config


def page_count(pdf: Path | None) -> int | None:
    """Pages of the built PDF (pdfinfo is fast; pypdf when poppler-utils is missing)."""
    if pdf is None or not pdf.exists():
        return None
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])
    except (OSError, subprocess.CalledProcessError, TypeError):
        from pypdf import PdfReader

        return len(PdfReader(pdf).pages)


def run_lint(metadata: dict[str, Any], root: Path = ROOT, pdf: Path | None = None, meta: Path = METADATA):
    """All checks on a paper: (findings after the paper's settings, research-question coverage).

    Paths in the metadata are relative to `root` (the paper's folder); so is `meta`, the metadata file,
    unless absolute (for the lines of findings about it)."""
    root = Path(root).resolve()
    sources = read_sections(metadata["sections"], root)
    rq_findings, coverage = research_questions.check(metadata, sources)
    meta_file = Path(meta) if Path(meta).is_absolute() else root / meta
    texts = [source.text for source in every_file(sources)]
    known = known_macros(meta_file.parent, texts, metadata["lint"])
    findings = (
        checks.settings(metadata, sources, meta_file)
        + checks.missing_files(metadata, root, meta_file)
        + checks.source_problems(sources)
        + checks.missing_preamble_inputs(meta_file.parent, root, [root / s.path for s in every_file(sources)])
        + checks.unknown_macros(sources, known)
        + checks.template(metadata, sources, meta_file)
        + checks.page_limits(metadata, page_count(pdf))
        + rq_findings
        + checks.citations(
            sources,
            root / metadata["bibliography"],
            metadata["bibliography"],
            checks.citation_commands(sources, known),
            biblatex="addbibresource" in known,  # biber then reads the .bib: its extended name format too
        )
        + checks.figures(metadata, sources, root, meta_file)
    )
    shown = [  # paths relative to the paper's folder, as TeX shows them
        checks.Finding(Path(f.path).relative_to(root).as_posix(), *checks.astuple_tail(f))
        if Path(f.path).is_absolute() and Path(f.path).is_relative_to(root)
        else f
        for f in findings
    ]
    return checks.apply_settings(shown, metadata["lint"].get("checks", {})), coverage


def add_page_count(sources_report: Path, pdf: Path, metadata: dict[str, Any]) -> tuple[list, checks.Coverage]:
    """The findings and coverage of a report made without the PDF, plus the page-count check.

    The workflow lints the sources while TeX compiles, then adds this one check from the PDF."""
    data = json.loads(sources_report.read_text(encoding="utf-8"))
    findings = [checks.Finding(**item) for item in data["findings"]] + checks.page_limits(metadata, page_count(pdf))
    coverage = checks.Coverage(
        questions=[{k: v for k, v in entry.items() if k != "sections"} for entry in data["research_questions"]],
        matches={
            entry["id"]: {sid: value["best"] for sid, value in entry["sections"].items()}
            for entry in data["research_questions"]
        },
    )
    return checks.apply_settings(findings, metadata["lint"].get("checks", {})), coverage


def paper_root(root: Path | None, metadata: Path | None) -> tuple[Path, Path]:
    """(the paper's folder, its metadata file relative to it). Without --root, a metadata file in a folder
    named paper/ belongs to the folder above it, so that its section paths resolve there, not here."""
    if root is not None:
        return root, metadata or METADATA
    if metadata is None:
        return ROOT, METADATA
    absolute = metadata.resolve()
    if absolute.parent.name == "paper":
        return absolute.parent.parent, Path("paper") / absolute.name
    return ROOT, absolute


def verdict(report_path: Path) -> int:
    try:
        data = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise UserError(str(report_path), "no lint report", "run `make lint`") from None
    findings = [checks.Finding(**f) for f in data["findings"]]
    for item in findings:
        print(report.line_of(item))
    print(f"{report.summary(findings)} (report: {report_path.with_suffix('.md')})")
    if data["summary"]["error"]:
        raise UserError(
            str(report_path.with_suffix(".md")),
            f"{data['summary']['error']} lint error(s)",
            "fix them, or change the check's severity under lint.checks in paper/metadata.yaml, with a reason",
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verdict"]:
        return verdict(Path(argv[1]) if len(argv) > 1 else Path("build/lint/report.json"))
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.lint", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="the workflow's validated config (default: the metadata)")
    parser.add_argument(
        "--root",
        type=Path,
        help="lint another paper folder: DIR/paper/metadata.yaml, with its paths relative to DIR; only its "
        "sections, bibliography and lint keys are needed",
    )
    parser.add_argument(
        "--metadata",
        type=Path,
        help="the metadata file (default paper/metadata.yaml, under --root when given); a file in a folder named "
        "paper/ is read with its paths relative to the folder above",
    )
    parser.add_argument("--pdf", type=Path, help="the built PDF, for the page count")
    parser.add_argument("--json", type=Path, help="write the JSON report here")
    parser.add_argument("--markdown", type=Path, help="write the Markdown report here")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are errors")
    parser.add_argument("--sources-report", type=Path, help="add the page count to this report instead of linting")
    args = parser.parse_args(argv)
    root, meta = paper_root(args.root, args.metadata)
    if args.root is not None and not (root / meta).is_file():
        raise UserError(str(root / meta), "no metadata file", "give a folder laid out as paper/metadata.yaml")
    shown_meta = meta if args.root is None and args.metadata is None else root / meta  # as the user named it
    # In the workflow (--config): the metadata as write_config validated it once.
    metadata = read_config(args.config) if args.config else load_metadata(shown_meta, lint_only=args.root is not None)
    if args.sources_report:
        findings, coverage = add_page_count(args.sources_report, args.pdf, metadata)
    else:
        findings, coverage = run_lint(metadata, root, args.pdf, meta)
    similarity = research_questions.similarity_settings(metadata["lint"])
    if args.json:
        atomic_write_text(args.json, report.to_json(findings, coverage, similarity))
    if args.markdown:
        atomic_write_text(args.markdown, report.to_markdown(findings, coverage, similarity))
    for item in findings:
        print(report.line_of(item))
    print(report.summary(findings))
    return 0 if args.exit_zero or not any(f.severity == "error" for f in findings) else 1


if __name__ == "__main__":
    run_main(main)
