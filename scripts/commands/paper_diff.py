"""What changed since a git revision, for reviewers: `make diff REV=<revision>` -> build/diff/paper-diff.pdf.

    python -m scripts.commands.paper_diff REV

The sources at REV are taken from git into a temporary folder and assembled there by that revision's
own workflow; the working tree's paper is assembled by this one. Both are flattened (sections and
figures inlined, as for `make submission`), compared by latexdiff, and the result is compiled with
latexmk and biber against both revisions' references, so that deleted citations still resolve.
Figures whose file changed since REV get a blue frame and a note.
"""

from __future__ import annotations

import argparse
import io
import itertools
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scripts.commands.submission import BUILT_TEX, figure_files, flatten
from scripts.common import ROOT, UserError, atomic_write_bytes, load_yaml, run_main, venv_environment
from scripts.stages.compile import first_error, latexmk_command, tex_environment
from scripts.stages.metadata import source_date_epoch

OUT = Path("build/diff")
LOG = Path("build/logs/diff.log")
BIB_ENTRY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.M)


def git(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True)
    except FileNotFoundError:
        raise UserError("git", "not installed", "install git (apt-get install git)") from None


def resolve_revision(revision: str, root: Path = ROOT) -> str:
    """The commit a revision names, or a UserError that says what to type."""
    if not revision.strip():
        raise UserError("REV", "no git revision given", "make diff REV=<revision>, e.g. REV=HEAD~1 or a tag")
    if git("rev-parse", "--git-dir", root=root).returncode != 0:
        raise UserError(str(root), "not a git checkout", "make diff compares with a git revision; clone the project")
    found = git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", root=root)
    if found.returncode != 0:
        raise UserError(
            f"REV={revision}", "unknown git revision", "list revisions with `git log --oneline` (or `git tag`)"
        )
    return found.stdout.decode().strip()


def export_revision(commit: str, destination: Path, root: Path = ROOT) -> None:
    archive = git("archive", "--format=tar", commit, root=root)
    if archive.returncode != 0:
        raise UserError(commit, "git archive failed", archive.stderr.decode(errors="replace").strip())
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")


def assemble(folder: Path, label: str) -> None:
    """The folder's own workflow, run up to the assembled build/tex/paper.tex (and figure fragments)."""
    if folder == ROOT:  # the working tree: through the launcher, which keeps one build per folder
        command = [sys.executable, "-m", "scripts.commands.build", "--quiet", BUILT_TEX.as_posix(), "--cores", "1"]
    else:
        command = [sys.executable, "-m", "snakemake", "--nolock", "--cores", "1", BUILT_TEX.as_posix()]
    done = subprocess.run(command, cwd=folder, env=venv_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        (ROOT / LOG).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / LOG).write_text(done.stdout + done.stderr, encoding="utf-8")
        raise UserError(label, "the paper could not be assembled", f"see {LOG}")


def merged_bibliography(new: str, old: str) -> str:
    """The working tree's entries, plus the entries only REV has (cited by deleted text)."""
    known = set(BIB_ENTRY.findall(new))
    starts = [match.start() for match in BIB_ENTRY.finditer(old)] + [len(old)]
    extra = [
        old[start:end].rstrip() + "\n"
        for start, end in itertools.pairwise(starts)
        if BIB_ENTRY.match(old, start)[1] not in known
    ]
    return new.rstrip("\n") + "\n\n" + "\n".join(extra) if extra else new


def mark_changed_figures(tex: str, changed: set[str], revision: str) -> str:
    """A blue frame and a note around each figure whose file differs from REV's."""

    def frame(match: re.Match) -> str:
        if match[2] not in changed:
            return match[0]
        note = f"\\par{{\\color{{blue}}\\small [figure changed since {revision}]}}"
        return f"\\fcolorbox{{blue}}{{white}}{{{match[0]}}}{note}"

    return re.sub(r"\\includegraphics(\[[^\]]*\])?\{([^}]+)\}", frame, tex)


def latexdiff(old: Path, new: Path) -> str:
    done = subprocess.run(
        ["latexdiff", "--encoding=utf8", "--type=UNDERLINE", "--graphics-markup=none", str(old), str(new)],
        capture_output=True,
    )
    if done.returncode != 0:
        raise UserError(str(new), "latexdiff failed", done.stderr.decode(errors="replace").strip()[:200])
    return done.stdout.decode("utf-8")


def compile_diff(folder: Path, epoch: int) -> None:
    done = subprocess.run(
        latexmk_command(Path("paper-diff.tex")),  # the compile step's: no extra pass for biblatex's rerun flag
        cwd=folder,
        env=tex_environment(epoch),
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    log = folder / "paper-diff.log"
    if log.exists():
        (ROOT / LOG).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ROOT / LOG)
    if done.returncode != 0:
        problem = first_error(log.read_text(encoding="utf-8", errors="replace")) if log.exists() else None
        message = problem.message if problem else f"latexmk failed (exit {done.returncode})"
        raise UserError("build/diff/paper-diff.tex", message, f"see {LOG}")


def make_diff(revision: str, root: Path = ROOT) -> Path:
    commit = resolve_revision(revision, root)
    if shutil.which("latexdiff") is None:
        raise UserError("latexdiff", "not installed", "install the Debian package: apt-get install latexdiff")
    metadata = load_yaml(root / "paper/metadata.yaml")
    epoch = source_date_epoch(metadata)
    assemble(root, "the working tree")
    work = root / OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="paper-diff-") as scratch:
        old_root = Path(scratch)
        export_revision(commit, old_root, root)
        assemble(old_root, f"REV={revision}")
        old_tex = flatten((old_root / BUILT_TEX).read_text(encoding="utf-8"), old_root)
        new_tex = flatten((root / BUILT_TEX).read_text(encoding="utf-8"), root)
        figures = figure_files(new_tex)
        changed = {
            name
            for name in figures
            if not (old_root / "figures" / name).exists()
            or (old_root / "figures" / name).read_bytes() != (root / "figures" / name).read_bytes()
        }
        (work / "old.tex").write_text(old_tex, encoding="utf-8")
        (work / "new.tex").write_text(new_tex, encoding="utf-8")
        bibliography = merged_bibliography(
            (root / "paper/references.bib").read_text(encoding="utf-8"),
            (old_root / "paper/references.bib").read_text(encoding="utf-8"),
        )
    (work / "references.bib").write_text(bibliography, encoding="utf-8")
    shutil.copy(root / "paper/epsbs.sty", work / "epsbs.sty")
    for name in figures:
        shutil.copy(root / "figures" / name, work / name)
    marked = mark_changed_figures(latexdiff(work / "old.tex", work / "new.tex"), changed, revision)
    (work / "paper-diff.tex").write_text(marked, encoding="utf-8")
    compile_diff(work, epoch)
    pdf = root / OUT / "paper-diff.pdf"
    atomic_write_bytes(pdf, (work / "paper-diff.pdf").read_bytes())
    return pdf


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.paper_diff", description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="a git revision: a commit, a tag, HEAD~1 ...")
    args = parser.parse_args(argv)
    pdf = make_diff(args.revision)
    print(f"{pdf.relative_to(ROOT)}: {pdf.stat().st_size:,} bytes (changes since {args.revision})")
    return 0


if __name__ == "__main__":
    run_main(main)
