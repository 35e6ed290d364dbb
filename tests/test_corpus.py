"""The broken-input corpus (tests/corpus/*.yaml): each case breaks one input of a built copy of the
project. The step that catches it must stop with its one readable line (file and line), a hint and
no traceback; harmless inputs (BOM, CRLF) must give the same figures.

Most cases run in-process at the stage that catches them (`stage:` in the case: inputs, data,
assemble, compile), which is what a full build would run too. The cases marked `full_build: true`,
one of each kind at least, go through the whole build: one readable line, the step's log named, and
the last good PDF and figures left byte-identical. After the corpus, one build must mend everything.
"""

import contextlib
import functools
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import run_build

from scripts.common import UserError
from scripts.stages import data as data_stage
from scripts.stages import figures as figure_stage
from scripts.stages.assemble import check_typesettable
from scripts.stages.data import DESCRIPTOR, find_resource, load_descriptor, process_command
from scripts.stages.figures import plot_command
from scripts.stages.metadata import _yaml_tree, load_metadata
from scripts.stages.preflight import preflight

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))
CASES = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in CORPUS}
WATCHED = ("paper", "data", "figures")
# A case run at its stage also gets TeX's auxiliary files back, so that each compile starts from the built
# paper's, as an author's would, whatever the case before it left (the full builds leave theirs, for the
# last test to mend).
AT_STAGE = (*WATCHED, "build/tex")


def snapshot(project: Path, folders: tuple[str, ...] = WATCHED) -> dict[Path, bytes]:
    return {p: p.read_bytes() for folder in folders for p in (project / folder).rglob("*") if p.is_file()}


def restore(project: Path, saved: dict[Path, bytes], folders: tuple[str, ...] = WATCHED) -> None:
    for folder in folders:
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
    if "append_repeated" in change:  # e.g. a line too long to write out in the case file
        text, times = change["append_repeated"]
        data += b"\n" + (text * times).encode("utf-8") + b"\n"
    if change.get("crlf"):
        data = data.replace(b"\n", b"\r\n")
    path.write_bytes(data)


def test_corpus_has_at_least_25_cases_and_a_full_build_of_every_kind():
    kinds = {name.split("-")[1] for name in CASES}
    assert len(CASES) >= 25
    assert {"data", "tex", "section", "bib", "metadata", "figure"} <= kinds
    assert kinds == {name.split("-")[1] for name, case in CASES.items() if case.get("full_build")}
    assert all(case.get("stage") in STAGES for case in CASES.values())
    assert all(case["stage"] == "compile" for case in CASES.values() if "timeout_seconds" in case)


@pytest.fixture(scope="module")
def pristine_pdf(project) -> bytes:
    """The PDF of the untouched project, read before the first case changes anything."""
    return (project / "build/paper.pdf").read_bytes()


# --- the stages, run in-process as the workflow runs them (cwd: the project) --------------------


def inputs_stage(project: Path) -> None:
    """What the workflow checks when it loads: the metadata against its schema, every file it names."""
    preflight(load_metadata(), load_descriptor(DESCRIPTOR), Path("."))


def data_stage_run(project: Path) -> None:
    """Validate every raw file, then process and plot every figure (outputs outside figures/)."""
    inputs_stage(project)
    metadata, descriptor = load_metadata(), load_descriptor(DESCRIPTOR)
    for resource in descriptor["resources"]:
        data_stage.validate_resource(resource, DESCRIPTOR.parent)
    for figure in metadata["figures"]:
        resource = find_resource(descriptor, figure["data"])
        raw, table = DESCRIPTOR.parent / resource["path"], Path(f"build/corpus/{figure['id']}.csv")
        table.parent.mkdir(parents=True, exist_ok=True)
        settings = metadata["processing"][figure["kind"]]
        data_stage.main(process_command(figure["kind"], raw, resource, table, settings)[3:])
        plotted = table.with_suffix(".pdf")
        style = Path("paper/figure-style.mplstyle")
        figure_stage.main(plot_command(figure["kind"], table, "illustrative", style, plotted)[3:])
        assert plotted.read_bytes() == Path(f"figures/{figure['id']}.pdf").read_bytes(), "a figure changed"


def assemble_stage(project: Path) -> None:
    inputs_stage(project)
    check_typesettable(load_metadata())


def compile_stage(project: Path, timeout_seconds: int | None = None) -> None:
    """latexmk on the assembled paper, as the compile step runs it (its own process: TeX's), within the
    settings' time limit or the case's own (`timeout_seconds`)."""
    inputs_stage(project)
    metadata = load_metadata()
    command = [sys.executable, "-m", "scripts.stages.compile", "pdf", "--tex", "build/tex/paper.tex"]
    command += ["--source-date", metadata["build"]["source_date"], "--bibliography", metadata["bibliography"]]
    command += ["--timeout", str(timeout_seconds or metadata["build"]["latexmk_timeout_seconds"])]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode:
        raise CompileFailed(result.stdout + result.stderr)


class CompileFailed(Exception):
    pass


STAGES = {"inputs": inputs_stage, "data": data_stage_run, "assemble": assemble_stage, "compile": compile_stage}


def stage_of(case: dict) -> Callable[[Path], None]:
    """The stage that catches a case, with the case's own time limit for the compile stage if it gives one."""
    if "timeout_seconds" in case:
        return functools.partial(compile_stage, timeout_seconds=case["timeout_seconds"])
    return STAGES[case["stage"]]


def run_stage(stage: Callable[[Path], None], project: Path) -> tuple[int, str]:
    """(exit status, what the user sees) of one stage on the project."""
    _yaml_tree.cache_clear()  # the metadata changed on disk since the last case
    shown = io.StringIO()
    cwd = Path.cwd()
    os.chdir(project)
    try:
        with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
            stage(project)
        return 0, shown.getvalue()
    except UserError as err:
        return 1, f"{err}\n"
    except CompileFailed as err:
        return 1, str(err)
    finally:
        os.chdir(cwd)


def check_error(shown: str, expect: dict) -> None:
    lines = shown.splitlines()
    error = next((i for i, line in enumerate(lines) if re.search(expect["error"], line)), None)
    assert error is not None, f"expected /{expect['error']}/ in:\n{shown}"
    assert lines[error + 1].startswith("  hint: "), shown
    if "hint" in expect:
        assert re.search(expect["hint"], lines[error + 1]), lines[error + 1]
    assert "Traceback" not in shown


def break_inputs(case: dict, project: Path) -> None:
    for path in case["expect"].get("no_files", []):
        Path(path).unlink(missing_ok=True)
    for change in case["changes"]:
        apply(change, project)
    if case.get("rehash"):
        subprocess.run(
            [sys.executable, "-m", "scripts.stages.data", "rehash"], cwd=project, check=True, capture_output=True
        )


def check_leaks(case: dict, shown: str, project: Path) -> None:
    logs = "".join(p.read_text(errors="replace") for p in (project / "build/logs").rglob("*.log"))
    logs += "".join(p.read_text(errors="replace") for p in (project / "build/tex").glob("*.log"))
    for text in case["expect"].get("absent", []):
        assert text not in shown and text not in logs, f"{text!r} leaked"
    for path in case["expect"].get("no_files", []):
        assert not Path(path).exists(), f"TeX wrote {path}"


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if not case.get("full_build")])
def test_broken_input_at_its_stage(project, pristine_pdf, name):
    case = CASES[name]
    saved = snapshot(project, AT_STAGE)
    try:
        break_inputs(case, project)
        status, shown = run_stage(stage_of(case), project)
        check_leaks(case, shown, project)
    finally:
        restore(project, saved, AT_STAGE)
    assert status == case["expect"]["status"], shown
    if status:
        check_error(shown, case["expect"])


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.get("full_build")])
def test_broken_input_in_a_full_build(project, pristine_pdf, name):
    case = CASES[name]
    expect = case["expect"]
    saved = snapshot(project)
    good_pdf = (project / "build/paper.pdf").read_bytes()
    try:
        break_inputs(case, project)
        result = run_build(project)
        shown = result.stdout + result.stderr
        check_leaks(case, shown, project)
        after = {path: path.read_bytes() for path in (project / "figures").glob("*.pdf")}
    finally:
        restore(project, saved)

    assert result.returncode == expect["status"] == 1, shown
    assert after == {path: saved[path] for path in after}, "a figure changed"
    check_error(result.stderr, expect)
    assert any(line.startswith("  log: build/logs/") for line in result.stderr.splitlines()), result.stderr
    assert (project / "build/paper.pdf").read_bytes() == good_pdf


def test_after_the_corpus_the_restored_project_builds_the_same_pdf(project, pristine_pdf):
    """Every case left its failed state behind (deleted outputs, unfinished compiles): one build mends it."""
    good_pdf = pristine_pdf
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    assert (project / "build/paper.pdf").read_bytes() == good_pdf
    assert (project / "build/tex/paper.pdf").read_bytes() == good_pdf
