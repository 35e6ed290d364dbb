"""`make diff REV=...` from a fresh copy under git: latexdiff of the paper, citations resolved, figures marked."""

import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from scripts.commands.paper_diff import merged_bibliography
from scripts.common import copy_project_files

SECTION = "paper/sections/04-purpose-of-the-study.tex"


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clone")
    copy_project_files(root)
    git(root, "init", "-q")
    git(root, "-c", "user.name=Test", "-c", "user.email=test@example.org", "add", ".")
    git(root, "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-qm", "submitted")
    return root


def paper_diff(project: Path, revision: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.commands.paper_diff", revision], cwd=project, capture_output=True, text=True
    )


def test_an_unknown_revision_is_one_readable_line(repository):
    result = paper_diff(repository, "no-such-tag")
    assert result.returncode == 1
    assert result.stderr.startswith("error: REV=no-such-tag: unknown git revision")
    assert "Traceback" not in result.stderr


def test_the_diff_marks_new_text_keeps_citations_and_frames_a_changed_figure(repository):
    section = repository / SECTION
    section.write_text("A reviewer asked for this sentence \\parencite{novakovic2013}. " + section.read_text())
    shutil.copy(repository / "figures/neutrality-poll.pdf", repository / "figures/threat-perception.pdf")
    result = paper_diff(repository, "HEAD")
    assert result.returncode == 0, result.stderr
    pdf = repository / "build/diff/paper-diff.pdf"
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode().split()
    text = unicodedata.normalize("NFC", " ".join(words))  # pdftotext writes the ć of Novaković as c + accent
    assert "reviewer asked for this sentence (Novaković, 2013)" in text  # ulem draws the wave with glyphs
    assert "[figure changed since HEAD]" in text
    assert "(Novaković, 2013)" in text and "??" not in text
    diff_tex = (repository / "build/diff/work/paper-diff.tex").read_text()
    assert "\\DIFadd{A reviewer asked for this sentence" in diff_tex
    log = (repository / "build/logs/diff.log").read_text()
    assert "undefined" not in log.lower()


def test_deleted_citations_keep_their_entries():
    new = "@book{a2001,\n  title = {A},\n}\n"
    old = "@book{a2001,\n  title = {A},\n}\n\n@article{gone1999,\n  title = {G},\n}\n"
    merged = merged_bibliography(new, old)
    assert merged.count("@book{a2001") == 1 and "@article{gone1999" in merged
    assert merged_bibliography(new, new) == new
