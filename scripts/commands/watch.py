"""Rebuild the paper on every save: `make watch` (Ctrl-C to stop).

    python -m scripts.commands.watch [--cores N]

An edit that only changes section text takes the fast path: one pdflatex pass with the preamble
precompiled into a format (mylatexformat) and the auxiliary files (.aux, .bbl) of the last full build,
then build/paper.pdf is replaced. That pass is started before the edit: it loads the format and
typesets everything up to the paragraph edited last, then waits; the edit lets it finish the rest.
An edit further up restarts it from \begin{document}. Anything else (a citation or label added or
removed, the .bib, a figure's data or style, epsbs.sty, the metadata, code) runs the workflow
(`scripts.commands.build`), which runs biber, a figure's chain or whatever the change needs. A broken edit
prints the usual one-line error and keeps the last good PDF. The lint's findings print after each
rebuild.

The fast path's PDF is a preview: it carries the last full build's page references, and its bytes are
not those of `make`. The next `make` (or a change that takes the full path) builds the real thing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.common import ROOT, UserError, atomic_write_bytes, load_yaml
from scripts.stages.compile import check_log, context_hint, first_error, missing_file_hint, tex_environment
from scripts.stages.metadata import source_date_epoch

BUILD_TEX = Path("build/tex/paper.tex")
WATCH_DIR = Path("build/watch")
PUBLISHED = Path("build/paper.pdf")
FORMAT = "preamble"  # build/watch/preamble.fmt
CARRIED_OVER = (".aux", ".bbl", ".out", ".run.xml", ".bcf")  # read by a pass, written by the full build
WATCHED = ("paper", "data", "scripts", "Snakefile", "requirements.txt")
SECTIONS = "paper/sections/"
CITE_OR_LABEL = re.compile(r"\\(?:[A-Za-z]*cites?\*?|label)\b((?:\s*(?:\[[^\]]*\]|\([^)]*\)|\{[^}]*\}))*)")


def references_of(text: str) -> list[str]:
    """The citation keys and labels a section uses, in order: what a pass alone cannot resolve."""
    found = []
    for match in CITE_OR_LABEL.finditer(text):
        found += re.findall(r"\{([^}]*)\}", match[1])
    return found


def sections_references(root: Path) -> dict[str, list[str]]:
    return {
        path.relative_to(root).as_posix(): references_of(path.read_text(encoding="utf-8", errors="replace"))
        for path in sorted((root / SECTIONS).glob("*.tex"))
    }


def split_document(tex: str) -> tuple[str, str]:
    """(preamble, body): the body starts at the line with \\begin{document}."""
    match = re.search(r"^\\begin\{document\}", tex, re.M)
    if not match:
        raise UserError(str(BUILD_TEX), "no \\begin{document}", "run `make` to assemble it again")
    return tex[: match.start()], tex[match.start() :]


def is_ignored(path: str, root: Path) -> bool:
    """Editor droppings, hidden files (atomic writes' temporaries) and Python caches, not sources."""
    parts = Path(path).resolve().relative_to(root.resolve()).parts
    return (
        "__pycache__" in parts
        or any(part.startswith(".") for part in parts)
        or parts[-1].startswith("#")
        or parts[-1].endswith(("~", ".swp", ".swx", ".tmp", ".pyc"))
    )


def needs_full_build(changed: Iterable[str], root: Path, known: dict[str, list[str]]) -> bool:
    """Whether the changed files need the workflow: anything but section text whose citations and
    labels are unchanged (and no section added or removed)."""
    for path in changed:
        relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
        if not (relative.startswith(SECTIONS) and relative.endswith(".tex")):
            return True
    return sections_references(root) != known


# A waiting pass has loaded the format, run \begin{document} (reading the .aux and .bbl) and typeset
# everything before the paragraph edited last (build/watch/head.tex); it reads one line from its
# standard input, then typesets the rest (build/watch/tail.tex) with the new edit. Authors tend to
# edit the same paragraph again; an edit further up starts a pass from \begin{document}.
PAUSE = "\\errorstopmode\\read16 to \\WatchGo\\nonstopmode"
HEAD, TAIL = WATCH_DIR / "head.tex", WATCH_DIR / "tail.tex"
INPUT = re.compile(r"^\\input\{(paper/sections/[^}]+)\}[ \t]*$", re.M)


@dataclass(frozen=True)
class Pause:
    """Where a waiting pass stops: before line `line` (the first of a paragraph) of `section`."""

    section: str  # paper/sections/<name>.tex
    line: int


def paragraph_start(old: str, new: str) -> int:
    """The first line of the paragraph holding the first difference (1 when it is the first paragraph)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    first = next(
        (n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
        min(len(old_lines), len(new_lines)),
    )
    blank = max((n for n in range(first) if not new_lines[n].strip()), default=-1)
    return blank + 2  # the line after the blank one, counted from 1


def next_pause(before: dict[str, str], after: dict[str, str], order: list[str]) -> Pause | None:
    """The pause for the next pass: at the edited paragraph of the first section that changed."""
    for section in order:
        if section in after and before.get(section) != after[section]:
            return Pause(section, paragraph_start(before.get(section, ""), after[section]))
    return None


def pause_still_valid(pause: Pause | None, before: dict[str, str], now: dict[str, str], order: list[str]) -> bool:
    """Whether the sources before the pause are still those the waiting pass has typeset."""
    if pause is None:
        return True
    for section in order:
        if section == pause.section:
            head = before.get(section, "").splitlines()[: pause.line - 1]
            return now.get(section, "").splitlines()[: pause.line - 1] == head
        if before.get(section) != now.get(section):
            return False
    return False


def driver(body: str, pause: Pause | None) -> str:
    """The pass's main file: the body, with the pause and the head/tail split of the paused section."""
    if pause is None:
        return body.replace("\n", f"\n{PAUSE}%\n", 1)  # right after \begin{document}
    split = f"\\input{{{HEAD.with_suffix('').as_posix()}}}{PAUSE}\\input{{{TAIL.with_suffix('').as_posix()}}}"
    stem = pause.section.removesuffix(".tex")
    return re.sub(rf"^\\input\{{{re.escape(stem)}\}}", lambda _match: split, body, count=1, flags=re.M)


@dataclass
class FastPath:
    """A one-pass rebuild from the last full build's auxiliary files, started before the edit arrives."""

    root: Path
    source_date_epoch: int
    bibliography: str
    references: dict[str, list[str]] = field(default_factory=dict)
    auxiliary: dict[str, bytes] = field(default_factory=dict)  # the last good pass's .aux etc.
    waiting: subprocess.Popen | None = None  # the next pass, waiting at \begin{document}
    known_files: set[str] = field(default_factory=set)  # the watched files at the last full build

    @property
    def folder(self) -> Path:
        return self.root / WATCH_DIR

    def prepare(self) -> None:
        """After a full build: the body, the auxiliary files and (when the preamble changed) the format."""
        self.stop_waiting()
        preamble, body = split_document((self.root / BUILD_TEX).read_text(encoding="utf-8"))
        self.folder.mkdir(parents=True, exist_ok=True)
        style = (self.root / "paper/epsbs.sty").read_bytes()
        stamp = hashlib.sha256(preamble.encode() + style).hexdigest()
        stamp_file = self.folder / f"{FORMAT}.sha256"
        current = (self.folder / f"{FORMAT}.fmt").exists() and stamp_file.exists() and stamp_file.read_text() == stamp
        if not current:  # the format is remade only when the preamble or the style changed
            self.dump_format(preamble)
            stamp_file.write_text(stamp)
        self.body = body
        self.order = [f"{name}.tex" for name in INPUT.findall(body)]
        self.auxiliary = {
            suffix: (self.root / BUILD_TEX.with_suffix(suffix)).read_bytes()
            for suffix in CARRIED_OVER
            if (self.root / BUILD_TEX.with_suffix(suffix)).exists()
        }
        self.references = sections_references(self.root)
        self.known_files = watched_files(self.root)
        self.start_waiting(None, self.section_texts())

    def section_texts(self) -> dict[str, str]:
        return {name: (self.root / name).read_text(encoding="utf-8", errors="replace") for name in self.order}

    def dump_format(self, preamble: str) -> None:
        """The preamble, run once and dumped (mylatexformat), so that a pass starts at \\begin{document}."""
        source = self.folder / f"{FORMAT}.tex"
        source.write_text(preamble + "\\begin{document}\n\\end{document}\n", encoding="utf-8")
        command = [
            "pdflatex",
            "-ini",
            "-interaction=nonstopmode",
            "-halt-on-error",
            f"-output-directory={WATCH_DIR.as_posix()}",
            f"-jobname={FORMAT}",
            "&pdflatex",
            "mylatexformat.ltx",
            source.relative_to(self.root).as_posix(),
        ]
        done = run_child(command, self.root, tex_environment(self.source_date_epoch))
        if done.returncode != 0:
            raise UserError(str(WATCH_DIR / f"{FORMAT}.log"), "the preamble could not be precompiled", "run `make`")

    def start_waiting(self, pause: Pause | None, texts: dict[str, str]) -> None:
        """Start the next pass from the last good auxiliary files; it typesets up to `pause` and waits."""
        for suffix, content in self.auxiliary.items():
            (self.folder / f"paper{suffix}").write_bytes(content)
        if pause is not None:
            head = "".join(texts[pause.section].splitlines(keepends=True)[: pause.line - 1])
            (self.root / HEAD).write_text(head, encoding="utf-8")
        (self.folder / "paper.tex").write_text(driver(self.body, pause), encoding="utf-8")
        self.pause, self.typeset = pause, texts
        command = [
            "pdflatex",
            f"-fmt={(WATCH_DIR / FORMAT).as_posix()}",
            "-halt-on-error",
            "-file-line-error",
            "-no-shell-escape",
            f"-output-directory={WATCH_DIR.as_posix()}",
            (WATCH_DIR / "paper.tex").as_posix(),
        ]
        self.waiting = start_child(command, self.root, tex_environment(self.source_date_epoch), stdin=subprocess.PIPE)

    def stop_waiting(self) -> None:
        if self.waiting is not None:
            stop_child(self.waiting)
            self.waiting = None

    def rebuild(self) -> None:
        """Let the waiting pass typeset the edited sources; publish its PDF, or raise the TeX error."""
        now = self.section_texts()
        if (
            self.waiting is None
            or self.waiting.poll() is not None
            or not pause_still_valid(self.pause, self.typeset, now, self.order)
        ):
            self.stop_waiting()
            self.start_waiting(None, now)
        started_from = self.typeset
        returncode = self.go(now)
        if returncode != 0 and self.pause is not None:  # a split inside a macro argument: once more, unsplit
            self.start_waiting(None, now)
            returncode = self.go(now)
        try:
            self.check(returncode)
            atomic_write_bytes(self.root / PUBLISHED, (self.folder / "paper.pdf").read_bytes())
            # The workflow's own PDF no longer matches the published one: the next `make` compiles again.
            (self.root / BUILD_TEX.with_suffix(".pdf")).unlink(missing_ok=True)
            self.auxiliary = {suffix: (self.folder / f"paper{suffix}").read_bytes() for suffix in self.auxiliary}
        finally:
            self.start_waiting(next_pause(started_from, now, self.order), now)

    def go(self, texts: dict[str, str]) -> int:
        """Write the rest of the paused section and let the waiting pass finish; its exit status."""
        if self.pause is not None:  # the tail keeps the section's line numbers: the head's lines are blank %
            lines = texts[self.pause.section].splitlines(keepends=True)
            tail = "%\n" * (self.pause.line - 1) + "".join(lines[self.pause.line - 1 :])
            (self.root / TAIL).write_text(tail, encoding="utf-8")
        process, self.waiting = self.waiting, None
        assert process is not None
        try:
            process.communicate(b"go\n")
        finally:
            CHILDREN.discard(process)
        return process.returncode

    def check(self, returncode: int) -> None:
        log_path = self.folder / "paper.log"
        log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        if returncode != 0:
            problem = first_error(log_text)
            if problem is None:
                raise UserError(str(WATCH_DIR / "paper.tex"), f"pdflatex failed (exit {returncode})", "see its .log")
            hint = missing_file_hint(problem.message) or context_hint(problem.context) or f"see {WATCH_DIR}/paper.log"
            where = problem.where
            if self.pause is not None:  # the head and tail files stand for the paused section
                where = re.sub(rf"^(?:{HEAD}|{TAIL}):", f"{self.pause.section}:", where)
            raise UserError(where, problem.message, hint)
        check_log(log_text, self.bibliography)


def watched_files(root: Path) -> set[str]:
    found = set()
    for name in WATCHED:
        path = root / name
        found |= {str(item) for item in ([path] if path.is_file() else path.rglob("*")) if item.is_file()}
    return found


CHILDREN: set[subprocess.Popen] = set()  # running TeX or build processes, stopped on Ctrl-C


def start_child(
    command: Sequence[str],
    root: Path,
    env: dict[str, str] | None = None,
    stdin=subprocess.DEVNULL,
    capture: bool = True,
) -> subprocess.Popen:
    """Start a command in its own process group, so that stopping the watcher stops all of it."""
    process = subprocess.Popen(
        command,
        cwd=root,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        start_new_session=True,
    )
    CHILDREN.add(process)
    return process


def run_child(command: Sequence[str], root: Path, env: dict[str, str] | None = None, capture: bool = True):
    process = start_child(command, root, env, capture=capture)
    output, _ = process.communicate()
    CHILDREN.discard(process)
    return subprocess.CompletedProcess(command, process.returncode, output or b"")


def stop_child(process: subprocess.Popen) -> None:
    """SIGTERM the child's process group (scripts.commands.build stops Snakemake's), SIGKILL it if it lingers."""
    CHILDREN.discard(process)
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def stop_children() -> None:
    for process in list(CHILDREN):
        stop_child(process)


def full_build(root: Path, cores: int) -> bool:
    """The workflow, exactly as `make` runs it; its progress and errors print as they come."""
    done = run_child([sys.executable, "-m", "scripts.commands.build", "--cores", str(cores)], root, capture=False)
    return done.returncode == 0


def print_lint(root: Path) -> None:
    """The lint's errors and warnings on the current sources, and its summary."""
    done = run_child([sys.executable, "-m", "scripts.stages.lint", "--exit-zero", "--pdf", PUBLISHED.as_posix()], root)
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    shown = [line for line in lines if re.search(r": (error|warning) ", line)]
    print("\n".join([*shown, *lines[-1:]]), flush=True)


def source_settings(root: Path) -> tuple[int, str]:
    metadata = load_yaml(root / "paper/metadata.yaml")
    epoch = source_date_epoch(metadata)
    return epoch, str(metadata.get("bibliography", "paper/references.bib"))


def relative_names(changes: Iterable[str], root: Path) -> str:
    names = sorted({Path(path).resolve().relative_to(root.resolve()).as_posix() for path in changes})
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def rebuild(changes: set[str], root: Path, fast: FastPath | None, cores: int) -> FastPath | None:
    """Take the fast path or the workflow for one batch of changes; the fast path for the next batch."""
    started = time.perf_counter()
    if fast is not None and not needs_full_build(changes, root, fast.references):
        try:
            fast.rebuild()
        except UserError as problem:
            print(problem, file=sys.stderr)
            print("  the last good PDF is unchanged", file=sys.stderr, flush=True)
            return fast
        print(f"{PUBLISHED}: updated in {time.perf_counter() - started:.2f} s (one pass)", flush=True)
        print_lint(root)
        return fast
    if fast is not None:
        fast.stop_waiting()  # its sources are about to change under it
    if not full_build(root, cores):
        return None  # the next change runs the workflow again
    try:
        epoch, bibliography = source_settings(root)
        fast = FastPath(root, epoch, bibliography)
        fast.prepare()
    except (UserError, OSError, KeyError, ValueError) as problem:
        print(f"watch: the fast path is off until the next full build ({problem})", file=sys.stderr, flush=True)
        return None
    return fast


def watch(root: Path, cores: int) -> None:
    import watchfiles

    fast = rebuild({str(root / "Snakefile")}, root, None, cores)  # a full build first: the state to start from
    paths = [root / name for name in WATCHED if (root / name).exists()]
    watching = False
    for changes in watchfiles.watch(
        *paths,
        watch_filter=lambda _change, path: not is_ignored(path, root),
        debounce=1600,
        step=20,  # wait 20 ms for more events of the same save, then rebuild
        rust_timeout=500,
        yield_on_timeout=True,  # an empty batch every 0.5 s: the first one says the watcher is ready
    ):
        if not watching:
            print(f"watching {', '.join(WATCHED)} (Ctrl-C to stop)", flush=True)
            watching = True
        # a file that came and went (an editor's or sed's temporary) changes nothing
        known = fast.known_files if fast else set()
        changed = {path for _change, path in changes if os.path.exists(path) or path in known}
        if not changed:
            continue
        print(f"changed: {relative_names(changed, root)}", flush=True)
        fast = rebuild(changed, root, fast, cores)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.watch", description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    try:
        watch(ROOT, args.cores)
    except KeyboardInterrupt:
        print("\nwatch stopped", flush=True)
    finally:
        stop_children()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
