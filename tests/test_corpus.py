"""The broken-input corpus (tests/corpus/*.yaml): each case breaks one input of a built copy of the
project. The build must stop with its one readable line (file and line), a hint and no traceback,
and leave the last good PDF and figures byte-identical; harmless inputs (BOM, CRLF) must build the
same figures, with the PDF's manifest recording the changed raw file. After each case the inputs are
restored; after the last, one build must mend everything.
"""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import run_build

from scripts.provenance import read_manifest

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))
WATCHED = ("paper", "data", "figures")


def snapshot(project: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for folder in WATCHED for p in (project / folder).rglob("*") if p.is_file()}


def restore(project: Path, saved: dict[Path, bytes]) -> None:
    for folder in WATCHED:
        for path in (project / folder).rglob("*"):
            if path.is_file() and path not in saved:
                path.unlink()
    for path, content in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)


def apply(change: dict, project: Path) -> None:
    path = project / change["path"]
    if change.get("delete"):
        path.unlink()
        return
    if "write" in change:
        path.write_text(change["write"], encoding="utf-8")
        return
    data = path.read_bytes()
    if "replace" in change:
        old, new = (part.encode("utf-8") for part in change["replace"])
        assert old in data, f"corpus case out of date: {change['replace'][0]!r} not in {change['path']}"
        data = data.replace(old, new, 1)
    if "replace_bytes" in change:
        old, new = change["replace_bytes"]
        assert old in data, f"corpus case out of date: {old!r} not in {change['path']}"
        data = data.replace(old, new, 1)
    if "prepend" in change:
        data = change["prepend"].encode("utf-8") + data
    if "prepend_bytes" in change:
        data = change["prepend_bytes"] + data
    if "append" in change:
        data += change["append"].encode("utf-8")
    if change.get("crlf"):
        data = data.replace(b"\n", b"\r\n")
    path.write_bytes(data)


def test_corpus_has_at_least_25_cases_of_every_kind():
    kinds = {path.stem.split("-")[1] for path in CORPUS}
    assert len(CORPUS) >= 25
    assert {"data", "tex", "section", "bib", "metadata", "figure"} <= kinds


@pytest.fixture(scope="module")
def pristine_pdf(project) -> bytes:
    """The PDF of the untouched project, read before the first case changes anything."""
    return (project / "build/paper.pdf").read_bytes()


@pytest.mark.parametrize("case_file", CORPUS, ids=lambda path: path.stem)
def test_broken_input(project, pristine_pdf, case_file):
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    expect = case["expect"]
    for path in expect.get("no_files", []):
        Path(path).unlink(missing_ok=True)
    saved = snapshot(project)
    good_pdf = (project / "build/paper.pdf").read_bytes()
    try:
        for change in case["changes"]:
            apply(change, project)
        if case.get("rehash"):
            subprocess.run(
                [sys.executable, "-m", "scripts.data", "rehash"], cwd=project, check=True, capture_output=True
            )
        result = run_build(project)
        shown = result.stdout + result.stderr
        logs = "".join(p.read_text(errors="replace") for p in (project / "build/logs").rglob("*.log"))
        after = {path: path.read_bytes() for path in (project / "figures").glob("*.pdf")}
        raw_hashes = {
            path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in (project / "data/raw").glob("*.csv")
        }
    finally:
        restore(project, saved)

    assert result.returncode == expect["status"], shown
    if expect["status"]:
        lines = result.stderr.splitlines()
        error = next((i for i, line in enumerate(lines) if re.search(expect["error"], line)), None)
        assert error is not None, f"expected /{expect['error']}/ in:\n{result.stderr}"
        assert lines[error + 1].startswith("  hint: "), result.stderr
        if "hint" in expect:
            assert re.search(expect["hint"], lines[error + 1]), lines[error + 1]
        assert any(line.startswith("  log: build/logs/") for line in lines), result.stderr
        assert "Traceback" not in shown
    for text in expect.get("absent", []):
        assert text not in shown and text not in logs, f"{text!r} leaked"
    for path in expect.get("no_files", []):
        assert not Path(path).exists(), f"TeX wrote {path}"
    assert after == {path: saved[path] for path in after}, "a figure changed"
    if expect["status"]:
        assert (project / "build/paper.pdf").read_bytes() == good_pdf
    else:  # a harmless change: same figures, and the PDF's manifest records the raw files as they are now
        manifest = read_manifest(project / "build/paper.pdf")
        assert {path: digest for figure in manifest["figures"] for path, digest in figure["raw"].items()} == raw_hashes


def test_after_the_corpus_the_restored_project_builds_the_same_pdf(project, pristine_pdf):
    """Every case left its failed state behind (deleted outputs, unfinished compiles): one build mends it."""
    good_pdf = pristine_pdf
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    assert (project / "build/paper.pdf").read_bytes() == good_pdf
    assert (project / "build/tex/paper.pdf").read_bytes() == good_pdf
