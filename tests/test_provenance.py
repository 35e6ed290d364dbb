"""The provenance manifest: written from the sources, attached to the PDF, read back from it."""

import hashlib
import json

import pytest

from scripts.common import UserError
from scripts.stages.data import DESCRIPTOR, load_descriptor
from scripts.stages.metadata import load_metadata
from scripts.stages.provenance import (
    build_manifest,
    document_info,
    manifest_json,
    manifest_tex,
    overall_provenance,
    pdf_date,
    read_manifest,
)


def test_manifest_round_trips_from_the_built_pdf(project):
    attached = read_manifest(project / "build/paper.pdf")
    written = json.loads((project / "build/provenance/manifest.json").read_text())
    assert attached == written
    assert [figure["id"] for figure in attached["figures"]] == ["neutrality-poll", "threat-perception"]
    for figure in attached["figures"]:
        assert figure["sha256"] == hashlib.sha256((project / figure["file"]).read_bytes()).hexdigest()
        for path, digest in figure["raw"].items():
            assert digest == hashlib.sha256((project / path).read_bytes()).hexdigest()
        assert set(figure["code"]) == {
            "scripts/stages/data.py",
            "scripts/stages/figures.py",
            "paper/figure-style.mplstyle",
        }
        assert figure["provenance"] == "illustrative"
    assert attached["environment"]["packages"]["snakemake"] == "9.27.1"
    assert "TeX Live" in attached["environment"]["tex"]


def test_document_info_names_the_manifest_hash_and_the_provenance(project):
    info = document_info(project / "build/paper.pdf")
    manifest = (project / "build/provenance/manifest.json").read_bytes()
    assert info["ProvenanceManifestSHA256"] == hashlib.sha256(manifest).hexdigest()
    assert info["DataProvenance"] == "illustrative"


def test_the_manifest_is_the_same_from_the_same_sources(project):
    first = manifest_json(
        build_manifest(load_metadata(project / "paper/metadata.yaml"), load_descriptor(project / DESCRIPTOR), project)
    )
    assert first == (project / "build/provenance/manifest.json").read_text()


def test_a_changed_figure_changes_its_manifest_entry_only(tmp_path, project):
    metadata, descriptor = load_metadata(project / "paper/metadata.yaml"), load_descriptor(project / DESCRIPTOR)
    before = build_manifest(metadata, descriptor, project)
    figure = project / "figures/neutrality-poll.pdf"
    original = figure.read_bytes()
    try:
        figure.write_bytes(original + b"\n")
        after = build_manifest(metadata, descriptor, project)
    finally:
        figure.write_bytes(original)
    assert before["figures"][0]["sha256"] != after["figures"][0]["sha256"]
    assert before["figures"][1] == after["figures"][1]


def test_a_pdf_without_a_manifest_is_a_readable_error(project):
    with pytest.raises(UserError, match=r"has no attached manifest\.json"):
        read_manifest(project / "figures/neutrality-poll.pdf")


def test_manifest_tex_pins_the_attachment_date_and_states_the_provenance():
    text = manifest_json({"figures": [{"provenance": "illustrative"}, {"provenance": "real"}]})
    fragment = manifest_tex(text, 1519862400)
    assert r"\def\pdf@filemoddate#1{D:20180301000000Z}" in fragment
    assert "DataProvenance={mixed}" in fragment
    assert hashlib.sha256(text.encode()).hexdigest() in fragment
    assert pdf_date(0) == "D:19700101000000Z"


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [(["real", "real"], "real"), (["illustrative"], "illustrative"), (["real", "illustrative"], "mixed")],
)
def test_overall_provenance(statuses, overall):
    assert overall_provenance({"figures": [{"provenance": status} for status in statuses]}) == overall
