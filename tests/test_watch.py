"""`make watch` on a copy of the built project: real file edits, waited for with generous time-outs.

The watcher's first build (a no-op), then a sentence (fast path), a broken edit, a new citation (the
workflow), and Ctrl-C. Speed is measured in scripts/devtools/benchmark.py, not here.
"""

import queue
import shutil
import signal
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import psutil
import pytest

from scripts.commands.watch import (
    Pause,
    driver,
    is_ignored,
    needs_full_build,
    next_pause,
    pause_still_valid,
    references_of,
    sections_references,
)

SECTION = "paper/sections/04-purpose-of-the-study.tex"


def pdf_text(project: Path) -> str:
    done = subprocess.run(["pdftotext", str(project / "build/paper.pdf"), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", " ".join(done.stdout.decode("utf-8").split()))  # ć is c + accent


class Watcher:
    """`python -m scripts.commands.watch` with its output read line by line on a thread."""

    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.commands.watch", "--cores", "2"],
            cwd=project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, *fragments: str, timeout: float = 300) -> str:
        """The next line holding one of `fragments` (a generous time-out, not a speed check)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line with {fragments} within {timeout} s; output so far:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if any(fragment in line for fragment in fragments):
                return line


@pytest.fixture
def watched(project, tmp_path) -> Path:
    """A copy of the built project (build/ and Snakemake's records included), so the watcher's first
    build has nothing to do."""
    return Path(shutil.copytree(project, tmp_path / "watched", symlinks=True))


def test_watch_rebuilds_on_save_keeps_the_last_good_pdf_and_stops_cleanly(watched):
    project = watched
    section = project / SECTION
    original = section.read_text()
    watcher = Watcher(project)
    try:
        watcher.wait_for("watching ", timeout=600)  # the first, full build

        section.write_text(original + "\nA watchful zebra sentence appears in the preview.\n")
        assert "(one pass)" in watcher.wait_for("updated in", "error:", "steps ran")
        assert "A watchful zebra sentence appears in the preview." in pdf_text(project)
        watcher.wait_for("lint: ")  # the lint's findings follow the rebuild
        good = (project / "build/paper.pdf").read_bytes()

        section.write_text(original + "\nA broken \\undefinedzebra sentence.\n")
        error = watcher.wait_for("error:", "updated in")
        assert error.startswith(f"error: {SECTION}:") and "Undefined control sequence" in error
        assert (project / "build/paper.pdf").read_bytes() == good

        # a new citation needs biber: the workflow runs, and its PDF has the sentence and the citation
        section.write_text(original + "\nA cited zebra sentence \\parencite{novakovic2013}.\n")
        assert "steps ran" in watcher.wait_for("steps ran", "updated in", "error:")
        text = pdf_text(project)
        assert "A cited zebra sentence (Novaković, 2013)." in text

        children = psutil.Process(watcher.process.pid).children(recursive=True)
        assert any(child.name() == "pdflatex" for child in children)  # the next pass, waiting
    finally:
        watcher.process.send_signal(signal.SIGINT)
        watcher.process.wait(timeout=60)
    assert not [child.pid for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]


def test_only_section_text_takes_the_fast_path(tmp_path):
    sections = tmp_path / "paper/sections"
    sections.mkdir(parents=True)
    section = sections / "01-intro.tex"
    section.write_text("Text \\parencite[p. 3]{a2001} and \\textcite{b2002}.\\label{sec:x}\n")
    known = sections_references(tmp_path)
    section.write_text("Other text \\parencite[p. 3]{a2001} and \\textcite{b2002}.\\label{sec:x}\n")
    assert not needs_full_build([str(section)], tmp_path, known)
    section.write_text("Other text \\parencite[p. 3]{a2001} and \\textcite{c2003}.\\label{sec:x}\n")
    assert needs_full_build([str(section)], tmp_path, known)  # a new citation: biber
    assert needs_full_build([str(tmp_path / "paper/references.bib")], tmp_path, known)
    assert needs_full_build([str(tmp_path / "data/raw/poll.csv")], tmp_path, known)


def test_references_and_ignored_files():
    assert references_of("\\parencites(see)()[12]{a2001}[3]{b2002} \\ref{fig:x} \\label{rq:1}") == [
        "a2001",
        "b2002",
        "rq:1",
    ]
    root = Path("/project")
    assert is_ignored("/project/paper/sections/.01.tex.swp", root)
    assert is_ignored("/project/scripts/__pycache__/x.pyc", root)
    assert not is_ignored("/project/paper/sections/01-introduction.tex", root)


def test_the_waiting_pass_pauses_at_the_paragraph_edited_last():
    order = ["paper/sections/01-a.tex", "paper/sections/02-b.tex"]
    before = {order[0]: "One.\n\nTwo.\nThree.\n", order[1]: "Four.\n"}
    after = {order[0]: "One.\n\nTwo.\nThree, edited.\n", order[1]: "Four.\n"}
    pause = next_pause(before, after, order)
    assert pause == Pause(order[0], 3)  # the paragraph starts at "Two."
    assert pause_still_valid(pause, after, {**after, order[0]: "One.\n\nTwo.\nThree, again.\n"}, order)
    assert not pause_still_valid(pause, after, {**after, order[0]: "One, edited.\n\nTwo.\nThree.\n"}, order)
    assert next_pause(after, after, order) is None
    body = "\\begin{document}%\n\\input{paper/sections/01-a}\n\n\\input{paper/sections/02-b}\n\\end{document}\n"
    split = driver(body, pause).splitlines()[1]
    assert split.startswith("\\input{build/watch/head}") and split.endswith("\\input{build/watch/tail}")
    assert "\\read16" in driver(body, None).splitlines()[1]  # no pause yet: right after \begin{document}
