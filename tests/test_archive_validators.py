"""The archive as outside validators judge it: rocrate-validator (offline), cffconvert, frictionless.

The crate is made by `archive_members` from the project's own sources, with small stand-ins for the
build outputs (the PDF and the reports: their bytes do not change the crate's structure), so these tests
need no build. tests/test_verify_and_archive.py runs the validator once more on a really built archive.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rocrate_offline
import yaml

from scripts.commands.archive import ARCHIVED_OUTPUTS, archive_members
from scripts.common import ROOT, project_files
from scripts.stages.metadata import load_metadata

BIN = Path(sys.executable).parent
# cffconvert lives apart from .venv proper (requirements-validators.txt says why); `make test` installs it.
VALIDATORS = ROOT / ".venv/validators"


def cffconvert_validate(citation: Path) -> subprocess.CompletedProcess:
    if not (VALIDATORS / "cffconvert").is_dir():
        pytest.fail(f"cffconvert is not installed in {VALIDATORS}; run `make validators-setup`")
    return subprocess.run(
        [sys.executable, "-c", "from cffconvert.cli.cli import cli; cli()", "--validate", "-i", citation],
        env={**os.environ, "PYTHONPATH": str(VALIDATORS)},
        capture_output=True,
        text=True,
    )


# The RECOMMENDED findings that stay, each explained (see also the docstring of scripts.commands.archive.ro_crate).
# Any other finding, or one of these disappearing, fails the test: then fix the crate or this list.
EXPLAINED = {
    # The project has no public address that is known, so its Organization entity has no url.
    ("RECOMMENDED", "ro-crate-1.1_31.2", "./#project"),
    # Bioschemas ComputationalWorkflow 1.0 would need the inputs and outputs as FormalParameters: not claimed.
    ("RECOMMENDED", "workflow-ro-crate-1.0_8.1", "./Snakefile"),
    # The workflow is a file in the crate: no public url is known, and RO-Crate gives it a relative @id
    # (the check reports the relative id once per type of the Snakefile entity).
    ("RECOMMENDED", "process-run-crate-0.5_3.2", "./Snakefile"),
    ("RECOMMENDED", "process-run-crate-0.5_5.1", "http://schema.org/SoftwareSourceCode"),
    ("RECOMMENDED", "process-run-crate-0.5_5.1", "https://bioschemas.org/ComputationalWorkflow"),
    # A validator quirk: actionStatus is http://schema.org/CompletedActionStatus, as the check asks, but
    # the SHACL `sh:in` compares the IRI with a string.
    ("RECOMMENDED", "process-run-crate-0.5_8.7", "./#build"),
}
# Which explained finding each profile reports (a profile also runs the checks of those it builds on).
REPORTED_BY = {
    "ro-crate-1.1": {"ro-crate-1.1_31.2"},
    "workflow-ro-crate-1.0": {"ro-crate-1.1_31.2", "workflow-ro-crate-1.0_8.1"},
    "process-run-crate-0.5": {
        "ro-crate-1.1_31.2",
        "process-run-crate-0.5_3.2",
        "process-run-crate-0.5_5.1",
        "process-run-crate-0.5_8.7",
    },
    "workflow-run-crate-0.5": {
        "ro-crate-1.1_31.2",
        "workflow-ro-crate-1.0_8.1",
        "process-run-crate-0.5_3.2",
        "process-run-crate-0.5_5.1",
        "process-run-crate-0.5_8.7",
    },
}


@pytest.fixture(scope="module")
def crate(tmp_path_factory) -> Path:
    """An unpacked archive of the project's sources, as `make archive` would write it."""
    folder = tmp_path_factory.mktemp("crate")
    for name in project_files(ROOT):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes((ROOT / name).read_bytes())
    for built in ARCHIVED_OUTPUTS:
        (folder / built).parent.mkdir(parents=True, exist_ok=True)
        (folder / built).write_bytes(b"%PDF-1.5 stand-in\n" if built.endswith(".pdf") else b"{}\n")
    members = archive_members(folder, load_metadata())
    unpacked = tmp_path_factory.mktemp("unpacked")
    for name, data in members.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(data)
    return unpacked


@pytest.fixture(autouse=True)
def no_escaped_requests():
    rocrate_offline.ESCAPED.clear()
    yield
    assert rocrate_offline.ESCAPED == [], f"requests escaped to the network: {rocrate_offline.ESCAPED}"


@pytest.mark.parametrize("profile", rocrate_offline.PROFILES)
def test_rocrate_validator_finds_no_required_failure_and_only_the_explained_recommendations(crate, profile):
    # One run at RECOMMENDED runs the REQUIRED checks too: a required failure would be a finding here.
    result = rocrate_offline.validate(crate, profile, "RECOMMENDED")
    found = rocrate_offline.findings(result)
    assert not [finding for finding in found if finding[0] == "REQUIRED"]
    assert found == {finding for finding in EXPLAINED if finding[1] in REPORTED_BY[profile]}


def test_the_validator_fails_a_crate_without_licence(crate, tmp_path):
    import json
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(crate, broken)
    metadata = json.loads((broken / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    root = next(entity for entity in metadata["@graph"] if entity["@id"] == "./")
    del root["license"]
    (broken / "ro-crate-metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    result = rocrate_offline.validate(broken, "ro-crate-1.1", "REQUIRED")
    assert not result.passed()


def test_a_request_outside_the_vendored_contexts_is_refused():
    import requests

    with rocrate_offline.offline(), pytest.raises(rocrate_offline.NetworkEscape, match="escaped"):
        requests.get("https://w3id.org/ro/crate/1.2/context", timeout=1)
    assert rocrate_offline.ESCAPED == ["https://w3id.org/ro/crate/1.2/context"]
    rocrate_offline.ESCAPED.clear()


def test_the_vendored_context_is_served_without_network():
    import requests

    with rocrate_offline.offline():
        context = requests.get("https://w3id.org/ro/crate/1.1/context", timeout=1).json()
    assert context["@id"] == "https://w3id.org/ro/crate/1.1/context"


def test_the_crate_describes_the_reproduction_not_the_article(crate):
    import json

    graph = {entity["@id"]: entity for entity in json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"]}
    root = graph["./"]
    assert "identifier" not in root
    article = graph[root["about"]["@id"]]
    assert article["@type"] == "ScholarlyArticle"
    assert article["identifier"] == "https://doi.org/10.15405/epsbs.2018.03.02.10"
    assert graph[root["author"]["@id"]]["@type"] == "Organization"
    assert {licence["@id"] for licence in root["license"]} == {
        "https://spdx.org/licenses/MIT",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    }
    assert article["usageInfo"] == {"@id": "paper/RIGHTS.md"}
    build = graph[root["mentions"]["@id"]]
    assert build["endTime"] == root["datePublished"] == "2018-03-01T00:00:00+00:00"
    assert {"@id": "paper/metadata.yaml"} in build["object"]
    files = [entity for entity in graph.values() if entity["@type"] == "File" or "File" in entity["@type"]]
    assert files and all(entity.get("name") and entity.get("encodingFormat") for entity in files)
    assert (crate / "ro-crate-preview.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cffconvert_validates_the_citation(crate):
    checked = cffconvert_validate(crate / "CITATION.cff")
    assert checked.returncode == 0, checked.stderr
    assert "valid according to schema version 1.2.0" in checked.stdout


def test_the_citation_names_no_person_unknown_and_cites_the_article(crate):
    citation = yaml.safe_load((crate / "CITATION.cff").read_text(encoding="utf-8"))
    assert "doi" not in citation  # the DOI is the article's, not this archive's
    assert citation["preferred-citation"]["doi"] == "10.15405/epsbs.2018.03.02.10"
    people = citation["authors"] + citation["preferred-citation"]["authors"]
    assert all("family-names" not in person and person["name"].lower() != "unknown" for person in people)
    assert citation["license"] == ["MIT", "CC0-1.0"]
    assert citation["date-released"] == "2018-03-01"
    assert citation["version"].startswith("content-")


def test_cffconvert_rejects_a_citation_that_breaks_the_schema(tmp_path):
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: no message and no authors\n")
    checked = cffconvert_validate(tmp_path / "CITATION.cff")
    assert checked.returncode != 0
    assert "'authors' is a required property" in checked.stderr


def test_frictionless_finds_the_data_package_valid():
    checked = subprocess.run(
        [BIN / "frictionless", "validate", "data/datapackage.json"], cwd=ROOT, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout
    assert "VALID" in checked.stdout.upper()


def test_the_unpacked_archive_passes_sha256sum(crate):
    checked = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=crate, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
