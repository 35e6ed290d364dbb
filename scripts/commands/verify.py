"""For editors: rebuild every figure from the raw data and compare it with the paper's figures.

    python -m scripts.commands.verify [--pdf PDF] [--tolerance RMS]      (what `make verify PDF=...` runs)
    python -m scripts.commands.verify verdict [REPORT.json]             (prints a report's verdicts)

`make verify` runs the workflow's verify_report step (forced, so it always rebuilds), then `verdict`.

In a clean temporary folder holding only the project's sources, the workflow redraws every figure from
the raw data. Each rebuilt figure is compared with the committed one in figures/ and with the sha256
that the PDF's provenance manifest records. Byte-identical passes; otherwise both are rasterised and
compared (root-mean-square pixel difference, matplotlib.testing.compare) with a tolerance, and a
difference image is kept. The raw files' sha256 are checked against the data package.

Writes build/verify/report.html (self-contained, for editors) and build/verify/report.json, prints
one line per figure, and exits with status 1 when any figure fails.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.common import (
    ROOT,
    UserError,
    atomic_write_text,
    copy_project_files,
    run_main,
    sha256_file,
    venv_environment,
)
from scripts.paths import VERIFY_REBUILD_LOG, VERIFY_REPORT_HTML, VERIFY_REPORT_JSON
from scripts.stages.provenance import read_manifest

DEFAULT_TOLERANCE = 2.0  # RMS over 0-255 grey levels: anti-aliasing noise, not a changed bar or point
RASTER_DPI = 100


@dataclass
class FigureResult:
    """What verify found for one figure; `problems` is empty when it passes."""

    id: str
    provenance: str
    committed_sha256: str | None
    rebuilt_sha256: str | None
    manifest_sha256: str | None
    comparison: str  # identical | within tolerance | differs | not rebuilt | missing
    rms: float | None = None
    raw: list[dict[str, str]] = field(default_factory=list)  # path, expected, actual
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


# --- checks (pure) ---------------------------------------------------------------------------------


def raw_checks(resource: dict[str, Any], raw_path: Path, shown_path: str) -> list[dict[str, str]]:
    """The raw file's recorded and actual sha256."""
    expected = resource.get("hash", "").removeprefix("sha256:")
    actual = sha256_file(raw_path) if raw_path.exists() else "missing"
    return [{"path": shown_path, "expected": expected, "actual": actual}]


def figure_problems(result: FigureResult, tolerance: float, manifest_raw: dict[str, str] | None) -> list[str]:
    """Why a figure fails verification (empty when it passes)."""
    problems = []
    for raw in result.raw:
        if raw["expected"] != raw["actual"]:
            problems.append(
                f"{raw['path']}: sha256 {raw['actual']} does not match {raw['expected']} in the data package"
            )
        if manifest_raw is not None and manifest_raw.get(raw["path"]) not in (None, raw["actual"]):
            problems.append(f"the PDF was built from another {raw['path']} (sha256 {manifest_raw[raw['path']]})")
    if result.comparison == "not rebuilt":
        problems.append("the workflow could not rebuild it from the raw data (see the rebuild log)")
    elif result.comparison == "missing":
        problems.append(f"figures/{result.id}.pdf is missing")
    elif result.comparison == "differs":
        problems.append(
            f"the rebuilt figure differs from figures/{result.id}.pdf (RMS {result.rms:.2f} > tolerance {tolerance})"
        )
    if result.manifest_sha256 is None:
        problems.append("the PDF's manifest does not list this figure")
    elif result.rebuilt_sha256 and result.manifest_sha256 != result.rebuilt_sha256:
        same_as_committed = result.manifest_sha256 == result.committed_sha256
        if not (same_as_committed and result.comparison == "within tolerance"):
            problems.append(
                f"the PDF's figure (sha256 {result.manifest_sha256[:12]}…) is not the rebuilt one "
                f"({result.rebuilt_sha256[:12]}…)"
            )
    return problems


# --- rebuilding and rasterising ----------------------------------------------------------------------


def rebuild_figures(folder: Path, figure_ids: Sequence[str], cores: int, root: Path = ROOT) -> str:
    """Copy the project's sources (no build outputs) into `folder` and redraw every figure there.

    Keeps going past a failing figure, so that one bad data file does not hide the others; returns
    Snakemake's output."""
    copy_project_files(folder, root)
    targets = [f"build/figures/{figure_id}.pdf" for figure_id in figure_ids]
    result = subprocess.run(
        [sys.executable, "-m", "scripts.commands.engine", "--cores", str(cores), "--keep-going", *targets],
        cwd=folder,
        env=venv_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return result.stdout


def rasterise(pdf: Path, png: Path, dpi: int = RASTER_DPI) -> Path:
    """The PDF's first page as a PNG (poppler's pdftoppm)."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(png.with_suffix(""))],
        check=True,
        capture_output=True,
    )
    return png


def raster_difference(expected: Path, actual: Path) -> tuple[float, Path]:
    """RMS pixel difference of two renderings (PNG), and an image of where they differ."""
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    try:
        outcome = compare_images(str(expected), str(actual), tol=0, in_decorator=True)
    except ImageComparisonFailure:  # different sizes: as different as it gets
        return float("inf"), actual
    if outcome is None:  # pixel-identical renderings of different bytes
        return 0.0, actual
    return float(outcome["rms"]), Path(outcome["diff"])


# --- the report ------------------------------------------------------------------------------------


def png_data_uri(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def image_cell(uri: str, label: str) -> str:
    if not uri:
        return f"<td><em>{html.escape(label)}: none</em></td>"
    return f'<td><img alt="{html.escape(label)}" src="{uri}"></td>'


def figure_section(result: FigureResult, images: dict[str, str], table_html: str) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    rows = "".join(
        f"<tr><td>{html.escape(raw['path'])}</td><td><code>{raw['expected']}</code></td>"
        f"<td><code>{raw['actual']}</code></td><td>{'ok' if raw['expected'] == raw['actual'] else 'MISMATCH'}</td></tr>"
        for raw in result.raw
    )
    problems = "".join(f"<li>{html.escape(problem)}</li>" for problem in result.problems) or "<li>none</li>"
    rms = "" if result.rms is None else f" (RMS {result.rms:.3f})"
    return f"""
<section class="{verdict.lower()}">
<h2>{html.escape(result.id)}: {verdict}</h2>
<p>Comparison with <code>figures/{html.escape(result.id)}.pdf</code>: <strong>{result.comparison}</strong>{rms}.
Data provenance: <strong>{html.escape(result.provenance)}</strong>.</p>
<ul class="problems">{problems}</ul>
<table class="images"><tr><th>committed (figures/)</th><th>rebuilt from raw data</th><th>difference</th></tr>
<tr>{"".join(image_cell(images[key], key) for key in ("committed", "rebuilt", "diff"))}</tr></table>
<table class="hashes">
<tr><th>file</th><th>sha256</th></tr>
<tr><td>committed figure</td><td><code>{result.committed_sha256 or "missing"}</code></td></tr>
<tr><td>rebuilt figure</td><td><code>{result.rebuilt_sha256 or "not rebuilt"}</code></td></tr>
<tr><td>figure in the PDF (manifest)</td><td><code>{result.manifest_sha256 or "not listed"}</code></td></tr>
</table>
<table class="hashes"><tr><th>raw file</th><th>sha256 in data package</th><th>sha256 now</th><th></th></tr>
{rows}</table>
<h3>The data behind it (processed table, rebuilt)</h3>
{table_html or "<p><em>not rebuilt</em></p>"}
</section>"""


STYLE = """body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}
section{border-left:.5rem solid #2a7;padding-left:1rem;margin:2rem 0}section.fail{border-color:#c33}
img{max-width:22rem;border:1px solid #ccc}code{font-size:.8rem}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}"""


def render_report(results: list[FigureResult], sections: list[str], pdf_label: str, notes: list[str]) -> str:
    passed = sum(result.passed for result in results)
    verdict = "all figures verified" if passed == len(results) else f"{len(results) - passed} of {len(results)} failed"
    note_items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Figure verification: {verdict}</title>
<style>{STYLE}</style></head><body>
<h1>Figure verification: {verdict}</h1>
<p>Every figure was redrawn by the workflow from the raw data in a clean temporary folder, then compared
with <code>figures/</code> and with the provenance manifest of <code>{html.escape(pdf_label)}</code>.</p>
<ul>{note_items}</ul>
{"".join(sections)}
</body></html>
"""


# --- putting it together ---------------------------------------------------------------------------


def verify(
    pdf: Path, tolerance: float, cores: int, rebuild_log: Path, root: Path = ROOT, config: Path | None = None
) -> tuple[list[FigureResult], str, list[str]]:
    """Check every figure; return the results, the HTML report and general notes."""
    import pandas as pd

    from scripts.stages.data import DESCRIPTOR, find_resource, load_descriptor, provenance_status
    from scripts.stages.metadata import config_or_metadata, figure_path

    metadata = config_or_metadata(config, root / "paper/metadata.yaml")
    descriptor = load_descriptor(root / DESCRIPTOR)
    notes = []
    try:
        manifest = read_manifest(pdf)
        manifest_figures = {figure["id"]: figure for figure in manifest["figures"]}
    except UserError as err:
        manifest_figures = {}
        notes.append(f"{err.where}: {err.message}")
    results, sections = [], []
    with tempfile.TemporaryDirectory(prefix="verify-") as temporary:
        folder = Path(temporary)
        log = rebuild_figures(folder / "project", [figure["id"] for figure in metadata["figures"]], cores, root)
        atomic_write_text(rebuild_log, log)
        for figure in metadata["figures"]:
            figure_id = figure["id"]
            resource = find_resource(descriptor, figure["data"])
            raw_name = (DESCRIPTOR.parent / resource["path"]).as_posix()
            committed = root / figure_path(figure_id)
            rebuilt = folder / "project/build/figures" / f"{figure_id}.pdf"
            listed = manifest_figures.get(figure_id)
            result = FigureResult(
                id=figure_id,
                provenance=provenance_status(resource),
                committed_sha256=sha256_file(committed) if committed.exists() else None,
                rebuilt_sha256=sha256_file(rebuilt) if rebuilt.exists() else None,
                manifest_sha256=listed["sha256"] if listed else None,
                comparison="identical",
                raw=raw_checks(resource, root / raw_name, raw_name),
            )
            work = folder / figure_id
            work.mkdir()
            # One rendering of each: shown in the report, and compared when the bytes differ.
            committed_png = rasterise(committed, work / "committed.png") if committed.exists() else None
            rebuilt_png = rasterise(rebuilt, work / "rebuilt.png") if rebuilt.exists() else None
            images = {"committed": png_data_uri(committed_png), "rebuilt": png_data_uri(rebuilt_png), "diff": ""}
            if rebuilt_png is None:
                result.comparison = "not rebuilt"
            elif committed_png is None:
                result.comparison = "missing"
            elif result.committed_sha256 != result.rebuilt_sha256:
                result.rms, diff = raster_difference(committed_png, rebuilt_png)
                result.comparison = "within tolerance" if result.rms <= tolerance else "differs"
                images["diff"] = png_data_uri(diff) if result.rms > 0 else ""
            result.problems = figure_problems(result, tolerance, listed["raw"] if listed else None)
            table = folder / "project/build/processed" / f"{figure_id}.csv"
            table_html = pd.read_csv(table).to_html(index=False, border=0) if table.exists() else ""
            results.append(result)
            sections.append(figure_section(result, images, table_html))
    pdf = pdf.resolve()
    pdf_label = pdf.relative_to(root).as_posix() if pdf.is_relative_to(root) else pdf.name
    return results, render_report(results, sections, pdf_label, notes), notes


def summary_json(results: list[FigureResult], notes: list[str], tolerance: float) -> str:
    report = {
        "passed": all(result.passed for result in results),
        "tolerance_rms": tolerance,
        "notes": notes,
        "figures": [{**asdict(result), "passed": result.passed} for result in results],
    }
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


def verdict(report: Path) -> int:
    """Print the verdicts of a written report (what `make verify` shows); 1 when any figure failed."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise UserError(str(report), "no verification report", "run `make verify`") from None
    for note in data["notes"]:
        print(f"verify: {note}")
    for figure in data["figures"]:
        if figure["passed"]:
            print(f"verify: PASS {figure['id']}: {figure['comparison']} ({figure['provenance']} data)")
        else:
            print(f"verify: FAIL {figure['id']}: " + "; ".join(figure["problems"]))
    passed = sum(figure["passed"] for figure in data["figures"])
    print(f"verify: {passed} of {len(data['figures'])} figures verified; report: {report.with_suffix('.html')}")
    return 0 if data["passed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verdict"]:
        return verdict(Path(argv[1]) if len(argv) > 1 else VERIFY_REPORT_JSON)
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.verify", description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=ROOT / "build/paper.pdf", help="the PDF whose manifest to check")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="largest RMS difference accepted")
    parser.add_argument("--html", type=Path, default=VERIFY_REPORT_HTML)
    parser.add_argument("--json", type=Path, default=VERIFY_REPORT_JSON)
    parser.add_argument("--rebuild-log", type=Path, default=VERIFY_REBUILD_LOG, help="where to keep Snakemake's output")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when a figure fails (for the workflow)")
    parser.add_argument("--config", type=Path, help="the workflow's validated config (default: the metadata)")
    args = parser.parse_args(argv)
    if not args.pdf.exists():
        raise UserError(str(args.pdf), "PDF not found", "build it with `make`, or give another with PDF=path")
    results, report, notes = verify(args.pdf, args.tolerance, args.cores, args.rebuild_log, config=args.config)
    atomic_write_text(args.html, report)
    atomic_write_text(args.json, summary_json(results, notes, args.tolerance))
    status = verdict(args.json)
    return 0 if args.exit_zero else status


if __name__ == "__main__":
    run_main(main)
