"""A submission bundle that compiles on a journal's system: `make submission`.

    python -m scripts.commands.submission [--out build/submission]

From the built paper (build/tex/paper.tex, its .bbl, figures/), this writes one flattened paper.tex
(sections and figure environments inlined, no build/ paths, no project-only commands), with
paper.bbl, references.bib, epsbs.sty and the figures beside it, zipped deterministically. The zip is
then unpacked in an empty temporary folder and compiled there with plain `pdflatex` runs only (no
latexmk, no biber, no project settings), as an editorial system would; its text is compared page by
page with build/paper.pdf, and a preflight report is written next to the zip.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.commands.archive import archive_name
from scripts.common import ROOT, UserError, atomic_write_bytes, atomic_write_text, load_yaml, run_main
from scripts.stages.compile import ANOTHER_RUN
from scripts.stages.metadata import METADATA

BUILT_TEX = Path("build/tex/paper.tex")
PUBLISHED = Path("build/paper.pdf")
STYLE = Path("paper/epsbs.sty")
MANIFEST_LINE = re.compile(r"^\\InputIfFileExists\{build/provenance/[^}]*\}\{\}\{\}%?\n", re.M)
SECTION_INPUT = re.compile(r"^\\input\{(paper/sections/[^}]+)\}[ \t]*$", re.M)
PAPER_FIGURE = re.compile(r"\\PaperFigure\{([^}]+)\}")
PROJECT_ONLY = re.compile(r"\\addresses\{[^}]*\}[ \t]*")  # the lint's marker; typesets nothing
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build time in the bundle
A4_POINTS = (595.276, 841.89)


def read_source(root: Path, name: str) -> str:
    path = root / (name if name.endswith(".tex") else f"{name}.tex")
    text = path.read_text(encoding="utf-8")
    return text if text.endswith("\n") else text + "\n"


def flatten(tex: str, root: Path, figure_folder: str = "") -> str:
    """The built paper.tex as one file: sections and figure fragments inlined, figures in `figure_folder`,
    the bibliography beside it, and without the provenance manifest (a build product of this project)."""
    tex = MANIFEST_LINE.sub("", tex)
    tex = SECTION_INPUT.sub(lambda match: read_source(root, match[1]), tex)
    tex = PAPER_FIGURE.sub(lambda match: read_source(root, f"build/tex/figure-{match[1]}").rstrip("\n"), tex)
    tex = PROJECT_ONLY.sub("", tex)
    tex = re.sub(r"\{figures/([^}]+)\}", lambda match: f"{{{figure_folder}{match[1]}}}", tex)
    return tex.replace("\\addbibresource{paper/references.bib}", "\\addbibresource{references.bib}")


def figure_files(tex: str) -> list[str]:
    return sorted(set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", tex)))


def bundle_files(root: Path) -> dict[str, bytes]:
    """Name in the bundle -> bytes."""
    built = root / BUILT_TEX
    if not built.exists() or not built.with_suffix(".bbl").exists():
        raise UserError(str(BUILT_TEX), "the paper is not built", "run `make` first")
    tex = flatten(built.read_text(encoding="utf-8"), root)
    files = {
        "paper.tex": tex.encode("utf-8"),
        "paper.bbl": built.with_suffix(".bbl").read_bytes(),
        "references.bib": (root / "paper/references.bib").read_bytes(),
        "epsbs.sty": (root / STYLE).read_bytes(),
    }
    for name in figure_files(tex):
        files[name] = (root / "figures" / name).read_bytes()
    return files


def deterministic_zip(files: dict[str, bytes], folder: str) -> bytes:
    """The same files always give the same bytes: sorted names, one fixed date, fixed permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def plain_environment() -> dict[str, str]:
    """An editor's environment: none of the project's TeX settings (TEXINPUTS, sandbox, source date)."""
    project = {"TEXINPUTS", "SOURCE_DATE_EPOCH", "FORCE_SOURCE_DATE", "openin_any", "openout_any", "shell_escape"}
    return {key: value for key, value in os.environ.items() if key not in project}


def compile_plainly(folder: Path, max_runs: int = 4) -> int | None:
    """pdflatex runs only, until nothing asks for another; the number of runs (None: still unsettled)."""
    log = ""
    for run in range(1, max_runs + 1):
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "paper.tex"],
            cwd=folder,
            env=plain_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        log = (folder / "paper.log").read_text(encoding="utf-8", errors="replace")
        if done.returncode != 0:
            error = next((line for line in log.splitlines() if line.startswith("!")), f"exit {done.returncode}")
            raise UserError(
                "paper.tex (in the bundle)", f"plain pdflatex failed: {error}", "see build/logs/submission.log"
            )
        if not ANOTHER_RUN.search(log):
            return run
    return None


def page_texts(pdf: Path) -> list[str]:
    """Each page's words, spaced evenly (pdftotext; pages end with a form feed)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8")
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def differing_pages(first: list[str], second: list[str]) -> list[int]:
    pages = max(len(first), len(second))
    return [n + 1 for n in range(pages) if (first[n : n + 1] or [None]) != (second[n : n + 1] or [None])]


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def fonts_check(pdf: Path) -> Check:
    rows = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    # columns: name type encoding emb sub uni object ID; `emb` is the fourth from the right
    missing = [row.split()[0] for row in rows if row.split()[-5] != "yes"]
    detail = f"{len(rows)} fonts, all embedded" if not missing else f"not embedded: {', '.join(missing)}"
    return Check("fonts embedded", not missing, detail)


def page_size_check(pdf: Path) -> Check:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True).stdout
    sizes = {tuple(float(v) for v in size) for size in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", info)}
    a4 = all(abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in sizes)
    return Check("A4 pages", a4 and bool(sizes), ", ".join(f"{w:g} x {h:g} pt" for w, h in sorted(sizes)))


def path_check(files: dict[str, bytes], root: Path) -> Check:
    """No absolute path in a TeX argument, no path of this machine, no build/ path in the paper."""
    found = []
    for name, data in files.items():
        if not name.endswith((".tex", ".sty", ".bbl", ".bib")):
            continue
        text = data.decode("utf-8", errors="replace")
        # {/etc/x} is a path; {/N 3} (a PDF dictionary, e.g. the PDF/A output intent) is not
        if re.search(r"\{/(?:[\w.-]+/)*[\w.-]+\}", text) or str(root) in text:
            found.append(name)
        if name == "paper.tex" and re.search(r"\bbuild/", text):
            found.append(f"{name} (build/ path)")
    return Check("no absolute or build/ paths", not found, "none" if not found else ", ".join(found))


def shell_escape_check(files: dict[str, bytes]) -> Check:
    needs = sorted(
        name
        for name, data in files.items()
        if name.endswith((".tex", ".sty"))
        and re.search(rb"\\write18|\\ShellEscape|\\usepackage(\[[^]]*\])?\{minted\}", data)
    )
    detail = "compiled with -no-shell-escape" if not needs else f"asked for in {', '.join(needs)}"
    return Check("no shell escape needed", not needs, detail)


def preflight(
    bundle: Path, files: dict[str, bytes], pdf: Path, runs: int | None, reference: Path, root: Path
) -> list[Check]:
    ours, theirs = page_texts(pdf), page_texts(reference)
    differing = differing_pages(ours, theirs)
    return [
        Check(
            "compiles with plain pdflatex",
            runs is not None,
            f"{runs} runs, no latexmk, no biber, no project settings"
            if runs
            else "TeX still asks for another run after 4 (labels or citations do not settle)",
        ),
        Check(
            "text equals build/paper.pdf, page by page",
            not differing,
            f"{len(ours)} pages equal" if not differing else f"pages differ: {', '.join(map(str, differing))}",
        ),
        Check("page count", len(ours) == len(theirs), f"{len(ours)} (build/paper.pdf: {len(theirs)})"),
        page_size_check(pdf),
        fonts_check(pdf),
        path_check(files, root),
        shell_escape_check(files),
        Check(
            "file sizes",
            True,
            f"{bundle.name} {bundle.stat().st_size:,} bytes; "
            + ", ".join(f"{name} {len(data):,}" for name, data in sorted(files.items())),
        ),
    ]


def make_submission(root: Path, out: Path) -> tuple[Path, list[Check]]:
    metadata = load_yaml(root / METADATA)
    name = f"{archive_name(metadata)}-submission"
    files = bundle_files(root)
    bundle = root / out / f"{name}.zip"
    atomic_write_bytes(bundle, deterministic_zip(files, name))
    with tempfile.TemporaryDirectory(prefix="submission-") as scratch:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(scratch)
        folder = Path(scratch) / name
        try:
            runs = compile_plainly(folder)
        finally:
            log_file = folder / "paper.log"
            if log_file.exists():
                (root / "build/logs").mkdir(parents=True, exist_ok=True)
                shutil.copy(log_file, root / "build/logs/submission.log")
        shutil.copy(folder / "paper.pdf", root / out / f"{name}.pdf")
    checks = preflight(bundle, files, root / out / f"{name}.pdf", runs, root / PUBLISHED, root)
    report = [f"# Preflight of {bundle.relative_to(root)}", "", *(check.line() for check in checks), ""]
    atomic_write_text(root / out / "preflight.txt", "\n".join(report))
    return bundle, checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.submission", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/submission"))
    args = parser.parse_args(argv)
    bundle, checks = make_submission(ROOT, args.out)
    print("\n".join(check.line() for check in checks))
    failed = [check for check in checks if not check.passed]
    if failed:
        raise UserError(
            str(args.out / "preflight.txt"),
            f"{len(failed)} preflight check(s) failed: {failed[0].name}",
            "see the report",
        )
    print(f"{bundle.relative_to(ROOT)}: {bundle.stat().st_size:,} bytes; preflight passed ({args.out}/preflight.txt)")
    return 0


if __name__ == "__main__":
    run_main(main)
