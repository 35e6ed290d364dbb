"""The one home of the build/ layout: every path the workflow writes, relative to the project root.

The rules name their outputs from here, and the commands (build, verify, archive, reproduce) find
them here, so a path is spelled once."""

from __future__ import annotations

from pathlib import Path

BUILD = Path("build")
LOGS = BUILD / "logs"
SNAKEMAKE_LOG = LOGS / "snakemake.log"

CONFIG = BUILD / "config.json"  # the validated metadata (rule write_config)

# Data -> figures, one chain per data resource and figure.
VALIDATION_REPORT = "build/data/{resource}.json"
PROCESSED_TABLE = "build/processed/{figure}.csv"
PLOTTED_FIGURE = "build/figures/{figure}.pdf"
PUBLISHED_FIGURE = "figures/{figure}.pdf"  # committed: the figures the paper includes

# Paper.
PAPER_TEX = BUILD / "tex/paper.tex"
FIGURE_FRAGMENT = "build/tex/figure-{figure}.tex"
COMPILED_PDF = BUILD / "tex/paper.pdf"
PAPER_PDF = BUILD / "paper.pdf"
MANIFEST_JSON = BUILD / "provenance/manifest.json"
MANIFEST_TEX = BUILD / "provenance/manifest.tex"

# Lint.
LINT_SOURCES = BUILD / "lint/sources.json"
LINT_REPORT_JSON = BUILD / "lint/report.json"
LINT_REPORT_MD = BUILD / "lint/report.md"

# Verify and archive.
VERIFY_REPORT_HTML = BUILD / "verify/report.html"
VERIFY_REPORT_JSON = BUILD / "verify/report.json"
VERIFY_REBUILD_LOG = LOGS / "verify_report-rebuild.log"
ARCHIVES = BUILD / "archive"


def for_each(pattern: str, key: str, values) -> list[str]:
    """`pattern` filled in for every value, e.g. for_each(PLOTTED_FIGURE, "figure", ids)."""
    return [pattern.format(**{key: value}) for value in values]
