"""build/tex/paper.tex -> PDF with latexmk (pdflatex + biber), and a readable error when it fails.

    python -m scripts.stages.compile pdf --tex build/tex/paper.tex --source-date 2018-03-01T00:00:00+00:00
    python -m scripts.stages.compile publish --pdf build/tex/paper.pdf --to build/paper.pdf

latexmk runs from the project root, so TeX names files as `./paper/sections/<file>.tex:<line>`.
TeX runs with shell escape off and file access restricted to the project (openin_any/openout_any=p),
bounded in time. Auxiliary files stay in build/tex between builds, so latexmk reruns biber or extra
passes only when citations or references changed. The user-facing PDF is replaced only by `publish`,
after a successful compile, so a failed build keeps the last good PDF.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.common import ROOT, UserError, atomic_write_bytes, run_main
from scripts.stages.metadata import to_epoch

SECTIONS = Path("paper/sections")
# Debian packages that provide LaTeX files this project may be asked for (see README, "Set-up").
DEBIAN_PACKAGE_OF = {
    "lmodern.sty": "lmodern",
    "newtxtext.sty": "texlive-fonts-extra",
    "newtxmath.sty": "texlive-fonts-extra",
    "ccicons.sty": "texlive-fonts-extra",
    "fontawesome5.sty": "texlive-fonts-extra",
    "tgtermes.sty": "tex-gyre",
    "tikz.sty": "texlive-pictures",
    "pgfplots.sty": "texlive-pictures",
    "ulem.sty": "texlive-plain-generic",
    "siunitx.sty": "texlive-science",
    "algorithm2e.sty": "texlive-science",
    "minted.sty": "texlive-latex-extra (and python3-pygments; needs shell escape, which this build forbids)",
    "fontspec.sty": "texlive-latex-recommended (but fontspec needs xelatex or lualatex, not pdflatex)",
}


@dataclass(frozen=True)
class TexProblem:
    where: str
    message: str
    context: tuple[str, ...] = ()


def tex_environment(source_date_epoch: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every TeX run: reproducible dates, long log lines, no escape from the project."""
    env = dict(os.environ if base is None else base)
    env.update(
        SOURCE_DATE_EPOCH=str(source_date_epoch),
        FORCE_SOURCE_DATE="1",
        TEXINPUTS="./paper:",  # epsbs.sty; the trailing colon keeps TeX's own search path
        openin_any="p",  # no reading outside the project tree (no absolute paths, no ..)
        openout_any="p",
        shell_escape="f",
        max_print_line="10000",  # one log line per message, so errors parse
        error_line="254",
        half_error_line="238",
    )
    return env


# biblatex flips an "active" flag in paper.run.xml when a Biber run it asked for has happened. pdfTeX
# reads that file back, so latexmk counts the flip as a changed input and runs pdflatex once more for
# nothing (4 runs instead of 3 on a cold build, the same PDF bytes). The flag's line is left out of the
# file's fingerprint; Biber reruns are still decided from the .bcf, and every other line still counts.
BIBLATEX_RERUN_FLAG = r'^\s*<(?:internal|external) package="biblatex" priority="\d+" active="[01]">$'


def latexmk_command(tex: Path) -> list[str]:
    return [
        "latexmk",
        "-e",
        f"$hash_calc_ignore_pattern{{'xml'}} = q({BIBLATEX_RERUN_FLAG});",
        "-pdf",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-no-shell-escape",
        f"-outdir={tex.parent.as_posix()}",
        tex.as_posix(),
    ]


_FILE_LINE_ERROR = re.compile(r"^(?P<file>\.?/?[^:\s][^:]*\.(?:tex|sty|cls|bbl)):(?P<line>\d+): (?P<message>.*)$")


GENERIC_STOPS = ("Emergency stop.", "==> Fatal error occurred, no output PDF file produced!")


def first_error(log_text: str) -> TexProblem | None:
    """The first error of a -file-line-error log: where (`file:line`), what, and two lines of context.

    Some errors (a file not found) print as `! LaTeX Error: ...` and are followed by a generic
    `file:line: Emergency stop.`: the message comes from the first, the place from the second."""
    lines = log_text.splitlines()
    pending = None
    for index, line in enumerate(lines):
        if line.startswith("! ") and pending is None:
            pending = line[2:].removeprefix("LaTeX Error: ").strip()
        match = _FILE_LINE_ERROR.match(line)
        if match:
            context = tuple(text for text in lines[index + 1 : index + 6] if re.match(r"^(l\.\d+|\s{2,}\S)", text))[:2]
            where = f"{match['file'].removeprefix('./')}:{match['line']}"
            message = match["message"].removeprefix("LaTeX Error: ").strip()
            if message in GENERIC_STOPS and pending:
                message = pending
            return TexProblem(where, message, context)
    return TexProblem("build/tex/paper.tex", pending) if pending else None


def missing_file_hint(message: str) -> str:
    match = re.search(r"File `([^']+)' not found", message)
    if not match:
        return ""
    name = match[1]
    if name.startswith("/") or "../" in name:
        return "TeX may read only files inside the project (openin_any=p): use a path relative to the project root"
    if not name.endswith((".sty", ".cls")):
        return "check the file name; \\input paths are relative to the project root, e.g. paper/sections/..."
    package = DEBIAN_PACKAGE_OF.get(name)
    if package:
        return f"{name} is in the Debian package {package}: apt-get install {package}"
    return f"no installed TeX Live package provides {name}; find one with `apt-file search {name}`"


def undefined(kind: str, log_text: str) -> list[str]:
    """Keys of undefined citations (kind='Citation') or references (kind='Reference'), in order."""
    keys = re.findall(rf"{kind} [`']([^']+)' on page \d+ undefined", log_text)
    return list(dict.fromkeys(keys))


def locate(key: str, sections: Path = SECTIONS) -> str:
    """`file:line` of the first use of a citation or label key in the section files."""
    # \cite-like or \ref-like command, any [options] and {groups} before the group holding the key
    group = r"(?:\[[^\]]*\]|\{[^}]*\})"
    pattern = re.compile(rf"\\[A-Za-z]*(?:cites?|ref)\*?{group}*?\{{[^}}]*\b{re.escape(key)}\b")
    for path in sorted(Path(sections).glob("*.tex")):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                return f"{path.as_posix()}:{number}"
    return str(sections)


def context_hint(context: Sequence[str], width: int = 60) -> str:
    """TeX's `l.<n> <text before the error>` / `<text after>` pair, shortened to where it stopped."""
    if not context:
        return ""
    before = re.sub(r"^l\.\d+\s*", "", context[0]).strip()
    after = context[1].strip() if len(context) > 1 else ""
    before = before if len(before) <= width else "..." + before[-width:]
    return f"TeX stopped after: {before}" + (f"  (next: {after[:30]})" if after else "")


def biber_problem(blg_text: str, bibliography: str) -> TexProblem | None:
    """biber's first ERROR, at the .bib line (biber parses a same-line UTF-8 copy in /tmp)."""
    match = re.search(r"ERROR - (?:BibTeX subsystem: \S+?, line (\d+), )?(.*)$", blg_text, re.M)
    if not match:
        return None
    where = f"{bibliography}:{match[1]}" if match[1] else bibliography
    return TexProblem(where, f"biber: {match[2].strip()}")


def warning_counts(log_text: str) -> dict[str, int]:
    """Warnings that are counted, not printed one by one."""
    return {
        "overfull boxes": len(re.findall(r"^Overfull \\[hv]box", log_text, re.M)),
        "underfull boxes": len(re.findall(r"^Underfull \\[hv]box", log_text, re.M)),
        "font warnings": len(re.findall(r"^LaTeX Font Warning", log_text, re.M)),
        "other warnings": len(re.findall(r"^(?:LaTeX|Package \S+) Warning(?!.*Font)", log_text, re.M)),
    }


def page_count(log_text: str) -> int | None:
    match = re.search(r"Output written on .*?\((\d+) pages?", log_text)
    return int(match[1]) if match else None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def unclosed_group(sections: Path = SECTIONS) -> str:
    """`file:line` of the first section with an unbalanced brace, found by the lint's LaTeX parser."""
    from scripts.stages.lint.parse import parse_nodes

    for path in sorted(Path(sections).glob("*.tex")):
        _, _, problems = parse_nodes(path.read_text(encoding="utf-8", errors="replace"))
        if problems:
            return f"{path.as_posix()}:{problems[0].line}"
    return str(sections)


def buffer_size() -> int:
    """TeX's input buffer in characters (TeX Live: 200,000): a longer line cannot be read at all."""
    try:
        value = subprocess.run(["kpsewhich", "-var-value=buf_size"], capture_output=True, text=True).stdout
        return int(value.strip())
    except (OSError, ValueError):
        return 200_000


def overlong_line(limit: int, sections: Path = SECTIONS) -> str | None:
    """`file:line` of the first section line longer than `limit` characters, or None."""
    for path in sorted(Path(sections).glob("*.tex")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if len(line.rstrip("\n")) > limit:
                    return f"{path.as_posix()}:{number}"
    return None


# What a TeX log says when it wants another run (biblatex; the kernel's "Label(s) may have changed. Rerun to get
# cross-references right"; hyperref's outlines): the compile step's settled check and the submission's plain runs.
ANOTHER_RUN = re.compile(r"Please rerun LaTeX|Please \(re\)run Biber|Rerun to get [a-z\s-]+right")


def check_log(log_text: str, bibliography: str) -> None:
    """Turn what a successful run still left broken (groups, citations, references) into a UserError."""
    if "occurred inside a group at level" in log_text:
        raise UserError(
            unclosed_group(),
            "a { is never closed (TeX reached the end of the document inside a group)",
            "close the group; `make lint` shows the line as P001",
        )
    citations = undefined("Citation", log_text)
    if citations:
        more = f" (and {len(citations) - 1} more)" if len(citations) > 1 else ""
        raise UserError(
            locate(citations[0]),
            f"citation key '{citations[0]}' is not in {bibliography}{more}",
            f"add an entry '{citations[0]}' to {bibliography}, or correct the key",
        )
    references = undefined("Reference", log_text)
    if references:
        raise UserError(
            locate(references[0]),
            f"reference to undefined label '{references[0]}'",
            "figure labels are fig:<id> for the ids in paper/metadata.yaml; section labels are sec:<id>",
        )


def check_settled(log_text: str, log_path: Path) -> None:
    """latexmk stops when its inputs settle or at its run limit: a last run that still asks for another
    (biblatex, the kernel's labels, hyperref's outlines) left a PDF that is not final. (`make watch` runs
    single passes on purpose and does not ask this.)"""
    rerun = ANOTHER_RUN.search(log_text)
    if rerun:
        raise UserError(
            str(log_path),
            f"TeX asks for another run after the last one ({rerun[0]})",
            "run `make` again; if it asks again, the document does not settle (a label or citation that changes "
            "from run to run)",
        )


AUXILIARY = (".aux", ".bbl", ".bcf", ".blg", ".fdb_latexmk", ".fls", ".log", ".out", ".run.xml", ".pdf")


def forget_unfinished_compile(tex: Path) -> None:
    """Delete TeX's auxiliary files unless the last compile finished: a killed or failed pdflatex can
    leave a truncated .aux that breaks every later run."""
    marker = ROOT / tex.with_name(".compile-complete")
    if not marker.exists():
        for suffix in AUXILIARY:
            (ROOT / tex.with_suffix(suffix)).unlink(missing_ok=True)
    marker.unlink(missing_ok=True)


def run_latexmk(tex: Path, source_date_epoch: int, timeout: int, bibliography: str) -> int | None:
    """Compile; return the page count, or raise a UserError that says what to fix."""
    log_path = tex.with_suffix(".log")
    forget_unfinished_compile(tex)
    try:
        process = subprocess.Popen(
            latexmk_command(tex),
            cwd=ROOT,
            env=tex_environment(source_date_epoch),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a timeout can stop latexmk and every TeX run under it
        )
    except FileNotFoundError:
        raise UserError("latexmk", "not installed", "run `make setup` (installs Debian's TeX Live)") from None

    def stop_latexmk(signum: int, _frame: object) -> None:
        # latexmk runs in its own process group (for the time limit): take it down with this step,
        # so that no orphaned pdflatex keeps writing build/tex after the step was stopped.
        os.killpg(process.pid, signal.SIGKILL)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop_latexmk) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise UserError(
            str(tex), f"LaTeX did not finish within {timeout} s", "look for a loop in the last edited section"
        ) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(output.decode("utf-8", errors="replace"))
    log_text = _read(ROOT / log_path)
    if process.returncode != 0:
        problem = first_error(log_text)
        terminal = output.decode("utf-8", errors="replace")
        if problem is None and "Unable to read an entire line" in terminal:  # said on the terminal only
            limit = buffer_size()
            raise UserError(
                overlong_line(limit) or str(tex),
                f"a line longer than TeX's input buffer ({limit:,} characters)",
                "break the line: TeX reads its input one line at a time",
            )
        if problem is None:  # TeX itself did not fail: biber did, or latexmk
            biber_error = biber_problem(_read(ROOT / tex.with_suffix(".blg")), bibliography)
            if biber_error:
                raise UserError(
                    biber_error.where, biber_error.message, "check the entry that ends just before this line"
                )
            raise UserError(str(tex), f"latexmk failed (exit {process.returncode})", f"see {log_path}")
        hint = missing_file_hint(problem.message) or context_hint(problem.context) or f"see {log_path}"
        raise UserError(problem.where, problem.message, hint)
    check_log(log_text, bibliography)
    check_settled(log_text, log_path)
    (ROOT / tex.with_name(".compile-complete")).touch()
    return page_count(log_text)


def publish(pdf: Path, destination: Path) -> None:
    """Replace the user-facing PDF in one step, only from a complete compile."""
    atomic_write_bytes(destination, Path(pdf).read_bytes())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.compile", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("pdf", help="compile the .tex")
    build.add_argument("--tex", type=Path, required=True, help="relative to the project root")
    build.add_argument("--source-date", required=True, help="ISO 8601 timestamp written into the PDF")
    build.add_argument("--bibliography", default="paper/references.bib")
    build.add_argument("--timeout", type=int, default=300)
    copy = commands.add_parser("publish", help="copy a finished PDF (paper or figure) to its user-facing path")
    copy.add_argument("--pdf", type=Path, required=True)
    copy.add_argument("--to", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "publish":
        publish(args.pdf, args.to)
        print(f"{args.to}: {args.to.stat().st_size:,} bytes")
        return 0
    if shutil.which("latexmk") is None:
        raise UserError("latexmk", "not installed", "run `make setup` (installs Debian's TeX Live)")
    epoch = to_epoch(args.source_date)
    pages = run_latexmk(args.tex, epoch, args.timeout, args.bibliography)
    counts = warning_counts(_read(ROOT / args.tex.with_suffix(".log")))
    print(
        f"{args.tex.with_suffix('.pdf')}: {pages} pages; TeX warnings: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    return 0


if __name__ == "__main__":
    run_main(main)
