"""The synthetic-paper generator behind the scaling benchmark (scripts/devtools/synthetic.py)."""

import hashlib

from scripts.devtools.synthetic import make_synthetic
from scripts.stages.data import DESCRIPTOR, load_descriptor
from scripts.stages.metadata import load_metadata
from scripts.stages.preflight import preflight


def test_a_paper_three_times_the_size_is_a_valid_project(tmp_path):
    original = load_metadata()
    make_synthetic(tmp_path, sections=3, figures=3, seed=7)
    metadata = load_metadata(tmp_path / "paper/metadata.yaml")
    descriptor = load_descriptor(tmp_path / DESCRIPTOR)
    preflight(metadata, descriptor, tmp_path)  # raises on a missing file or an unknown resource
    body = len(original["sections"]) - 2  # the research questions and the references stay single
    assert len(metadata["sections"]) == len(original["sections"]) + 2 * body
    assert metadata["sections"][-1]["id"] == "references"
    assert len(metadata["figures"]) == 3 * len(original["figures"])
    for resource in descriptor["resources"]:
        raw = (tmp_path / DESCRIPTOR).parent / resource["path"]
        assert resource["hash"] == "sha256:" + hashlib.sha256(raw.read_bytes()).hexdigest()
    placed = "".join((tmp_path / section["file"]).read_text() for section in metadata["sections"])
    for figure in metadata["figures"]:
        assert placed.count(f"\\PaperFigure{{{figure['id']}}}") == 1, figure["id"]


def test_the_same_seed_gives_the_same_paper(tmp_path):
    make_synthetic(tmp_path / "a", sections=2, figures=2, seed=3)
    make_synthetic(tmp_path / "b", sections=2, figures=2, seed=3)
    for name in ("paper/metadata.yaml", "data/datapackage.json", "paper/sections/s02-06-findings.tex"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
