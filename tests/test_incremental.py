"""Incremental equals clean: after each kind of author edit, `make` in an already built folder gives the
same bytes as a build from scratch of the same sources (PDF, .tex, figures, manifest, lint reports...).

A step that reads a file it does not declare would be skipped by the incremental build and show here
as a difference (as the manifest once kept the old title)."""

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import change_first_survey_value, jobs_run, run_build

from scripts.common import copy_project_files
from scripts.devtools.reproduce import compare


def substitute(path: str, pattern: str, replacement: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        file = project / path
        text, count = re.subn(pattern, replacement, file.read_text(encoding="utf-8"), count=1, flags=re.M)
        assert count == 1, f"edit out of date: /{pattern}/ not in {path}"
        file.write_text(text, encoding="utf-8")

    return edit


def append(path: str, text: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        with (project / path).open("a", encoding="utf-8") as file:
            file.write(text)

    return edit


def new_raw_value(project: Path) -> None:
    change_first_survey_value(project, 0.5)
    subprocess.run(
        [sys.executable, "-m", "scripts.stages.data", "rehash"], cwd=project, check=True, capture_output=True
    )


def survey_data_made_real(project: Path) -> None:
    descriptor_path = project / "data/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "threat-survey")
    resource["provenance"]["status"] = "real"
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


EDITS = {
    "title": substitute("paper/metadata.yaml", r'^title: "', 'title: "Revisited: '),
    "keyword": substitute("paper/metadata.yaml", r"^  - state sovereignty$", "  - sovereignty of states"),
    "abstract": substitute("paper/metadata.yaml", r"It has been two years since", "Two years have passed since"),
    "source date": substitute("paper/metadata.yaml", r'source_date: "2018-03-01', 'source_date: "2018-03-02'),
    "sentence": append("paper/sections/06-findings.tex", "\nAn author added this sentence to the findings.\n"),
    "bib field": substitute("paper/references.bib", r"title(\s*)= \{", r"title\1= {Edited: "),
    "figure style": substitute("paper/figure-style.mplstyle", r"^font\.size: .*$", "font.size: 10"),
    "raw value": new_raw_value,
    "provenance status": survey_data_made_real,
    "caption": substitute("paper/metadata.yaml", r'caption: "The relevance', 'caption: "The link'),
    "stage module": append("scripts/stages/figures.py", "\n# An edited stage module reruns its steps.\n"),
}


# What the incremental build must run for some edits: exactly these steps (a list), or at least these (a set).
RERUNS = {
    "sentence": ["compile", "lint_report", "lint_sources", "publish"],
    "raw value": [  # that figure's chain only, and what the paper takes from it
        "compile",
        "lint_report",
        "lint_sources",  # it checks that every included figure exists
        "manifest",
        "plot_figure",
        "process_figure_data",
        "publish",
        "publish_figure",
        "validate_data",
    ],
    "stage module": {"plot_figure"},  # an edited stage module reruns its steps
}


def check_incremental_equals_clean(built_project: Path, copy_built, tmp_path: Path, edits: tuple[str, ...]) -> None:
    incremental = copy_built("incremental")
    for edit in edits:
        EDITS[edit](incremental)
    result = run_build(incremental)
    assert result.returncode == 0, result.stderr
    expected = RERUNS.get(edits[0]) if len(edits) == 1 else None
    if isinstance(expected, list):
        assert jobs_run(incremental) == expected
    elif expected:
        assert expected <= set(jobs_run(incremental))
    assert compare(built_project, incremental), "the edit changed no output: the test would prove nothing"

    clean = tmp_path / "clean"
    copy_project_files(clean, incremental)
    result = run_build(clean)
    assert result.returncode == 0, result.stderr
    assert compare(incremental, clean) == []


# Edits that reach the build by the same path, and so rerun the same steps, are made together: title, keyword,
# abstract and caption all come from paper/metadata.yaml through write_config and assemble (measured with a dry
# run: each alone reruns write_config, assemble, manifest, compile, publish and the lint), so an output that
# kept any one's old value would differ from the clean build. The source date stays alone: it also reaches
# compile as a parameter, a path that the others' changed .tex would mask.
METADATA_FIELDS = ("title", "keyword", "abstract", "caption")


# One class per kind of edit: pytest-xdist (--dist loadscope) runs each class on one worker, so the
# three kinds share the two cores.
class TestMetadataEdits:
    @pytest.mark.parametrize("edits", [METADATA_FIELDS, ("source date",)], ids=["fields", "source date"])
    def test_an_incremental_build_equals_a_clean_build(self, built_project, copy_built, tmp_path, edits):
        check_incremental_equals_clean(built_project, copy_built, tmp_path, edits)


class TestSourceEdits:
    @pytest.mark.parametrize("edit", ["sentence", "bib field", "figure style", "stage module"])
    def test_an_incremental_build_equals_a_clean_build(self, built_project, copy_built, tmp_path, edit):
        check_incremental_equals_clean(built_project, copy_built, tmp_path, (edit,))


class TestDataEdits:
    @pytest.mark.parametrize("edit", ["raw value", "provenance status"])
    def test_an_incremental_build_equals_a_clean_build(self, built_project, copy_built, tmp_path, edit):
        check_incremental_equals_clean(built_project, copy_built, tmp_path, (edit,))


def test_the_expected_reruns_are_for_edits_that_exist():
    assert RERUNS.keys() <= EDITS.keys()


def test_every_edit_is_tested_once():
    classes = (TestMetadataEdits, TestSourceEdits, TestDataEdits)
    tested = [
        edit
        for cls in classes
        for mark in cls.test_an_incremental_build_equals_a_clean_build.pytestmark
        for case in mark.args[1]
        for edit in (case if isinstance(case, tuple) else (case,))
    ]
    assert sorted(tested) == sorted(EDITS)


def test_edits_made_together_are_no_edits_with_expected_reruns():
    """Reruns are asserted for an edit made alone; one made together with others would skip its assertion."""
    assert not set(METADATA_FIELDS) & RERUNS.keys()
