"""Figures: deterministic bytes, the illustrative mark, and committed figures that match the data."""

import io
import subprocess
from pathlib import Path

import pandas as pd
from pypdf import PdfReader

from scripts.data import find_resource, load_descriptor, process_command
from scripts.figures import ILLUSTRATIVE_MARK, plot_command, render
from scripts.metadata import load_metadata

STYLE = Path("paper/figure-style.mplstyle")
POLL = pd.DataFrame(
    {
        "option": ["support", "oppose"],
        "label": ["Support", "Oppose"],
        "count": [60, 40],
        "share": [0.6, 0.4],
        "ci_low": [0.50, 0.31],
        "ci_high": [0.69, 0.50],
        "n": [100, 100],
    }
)


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_same_table_gives_the_same_bytes():
    assert render("poll", POLL, STYLE, illustrative=True) == render("poll", POLL, STYLE, illustrative=True)


def test_illustrative_mark_is_in_the_image_only_for_illustrative_data():
    assert "original values not published" in text_of(render("poll", POLL, STYLE, illustrative=True))
    assert "original values not published" not in text_of(render("poll", POLL, STYLE, illustrative=False))
    assert ILLUSTRATIVE_MARK.startswith("Illustrative data")


def test_pdf_has_no_dates_and_embeds_its_fonts():
    pdf = render("poll", POLL, STYLE, illustrative=False)
    reader = PdfReader(io.BytesIO(pdf))
    assert not {"/CreationDate", "/ModDate", "/Producer"} & set(reader.metadata or {})
    fonts = [f for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert fonts and all("/DescendantFonts" in f.get_object() or "/FontDescriptor" in f.get_object() for f in fonts)


def test_committed_figures_are_what_the_code_makes_from_the_committed_data(tmp_path):
    """A build leaves git clean: rebuilding each figure from data/raw reproduces figures/ byte for byte."""
    for figure in load_metadata()["figures"]:
        table = tmp_path / f"{figure['id']}.csv"
        out = tmp_path / f"{figure['id']}.pdf"
        raw = {"poll": "data/raw/poll_responses.csv", "survey": "data/raw/threat_survey.csv"}[figure["kind"]]
        settings = load_metadata()["processing"][figure["kind"]]
        resource = find_resource(load_descriptor(), figure["data"])
        subprocess.run(process_command(figure["kind"], raw, resource, table, settings), check=True, capture_output=True)
        subprocess.run(plot_command(figure["kind"], table, "illustrative", STYLE, out), check=True, capture_output=True)
        assert out.read_bytes() == Path(f"figures/{figure['id']}.pdf").read_bytes(), figure["id"]
