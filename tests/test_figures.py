"""Figures: deterministic bytes, the illustrative mark, and committed figures that match the data."""

import io
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from pypdf import PdfReader

from scripts.stages.data import find_resource, load_descriptor, process_command
from scripts.stages.figures import ILLUSTRATIVE_MARK, ILLUSTRATIVE_NOTE_GID, WATERMARK, draw, plot_command, render
from scripts.stages.metadata import load_metadata

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

SURVEY = pd.DataFrame(
    {
        "indicator": ["threat_perceived", "threat_perceived"],
        "label": ["Perceive an external threat", "Perceive an external threat"],
        "year": [2014, 2015],
        "value": [40.0, 38.5],
    }
)


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_same_table_gives_the_same_bytes():
    assert render("poll", POLL, STYLE, illustrative=True) == render("poll", POLL, STYLE, illustrative=True)


def test_illustrative_mark_is_in_the_image_only_for_illustrative_data():
    assert "values could not be recovered" in text_of(render("poll", POLL, STYLE, illustrative=True))
    assert "values could not be recovered" not in text_of(render("poll", POLL, STYLE, illustrative=False))
    assert ILLUSTRATIVE_MARK.startswith("Illustrative data")
    assert "not published" not in ILLUSTRATIVE_MARK  # the article published both figures; their values are lost


def test_poll_figure_says_its_answer_options_are_placeholders():
    assert "answer options are placeholders" in text_of(render("poll", POLL, STYLE, illustrative=True))
    survey_text = text_of(render("survey", SURVEY, STYLE, illustrative=True))
    assert "values could not be recovered" in survey_text and "placeholders" not in survey_text


def pixels(figure) -> np.ndarray:
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def watermark_of(figure):
    (mark,) = [artist for artist in figure.artists if artist.get_gid() == WATERMARK]
    return mark


def test_watermark_is_visible_in_both_figures():
    """Hiding the watermark changes many pixels: it is drawn, in front, and not covered by anything."""
    for kind, table in (("poll", POLL), ("survey", SURVEY)):
        figure = draw(kind, table, STYLE, illustrative=True)
        with_mark = pixels(figure)
        watermark_of(figure).set_visible(False)
        assert int((with_mark != pixels(figure)).any(axis=-1).sum()) > 300, kind


def test_watermark_and_note_cover_no_label_and_no_data():
    """The watermark overlaps no text, bar, interval or data point, and it and the note stay in the plot's width."""
    for kind, table in (("poll", POLL), ("survey", SURVEY)):
        figure = draw(kind, table, STYLE, illustrative=True)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        axes = figure.axes[0]
        mark = watermark_of(figure).get_window_extent(renderer)
        (note,) = [text for text in axes.texts if text.get_gid() == ILLUSTRATIVE_NOTE_GID]
        labels = [text for text in [*axes.texts, *figure.texts] if text.get_visible() and text is not note]
        assert not any(mark.overlaps(label.get_window_extent(renderer)) for label in labels), kind
        assert not mark.overlaps(note.get_bbox_patch().get_window_extent(renderer)), kind
        data = [patch.get_window_extent(renderer) for patch in axes.patches]
        data += [collection.get_datalim(axes.transData) for collection in axes.collections]
        assert not any(mark.overlaps(box) for box in data), kind
        points = np.concatenate([axes.transData.transform(line.get_xydata()) for line in axes.lines] or [[[0, 0]]])
        inside = ((points >= [mark.x0, mark.y0]) & (points <= [mark.x1, mark.y1])).all(axis=1)
        assert not inside.any(), kind
        plot = axes.get_window_extent(renderer)
        assert plot.x0 <= mark.x0 and mark.x1 <= plot.x1, kind
        box = note.get_bbox_patch().get_window_extent(renderer)
        assert plot.x0 <= box.x0 and box.x1 <= plot.x1 + 0.5, kind  # the frame's half line width


def test_every_count_label_sits_above_its_interval():
    figure = draw("poll", POLL, STYLE, illustrative=True)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    labels = [text for text in axes.texts if "(n = " in text.get_text()]
    assert len(labels) == len(POLL)
    for label, high in zip(labels, POLL["ci_high"] * 100, strict=True):
        top_of_interval = axes.transData.transform((0, high))[1]
        assert label.get_window_extent(renderer).y0 > top_of_interval, label.get_text()


def test_figures_need_no_transparency():
    """PDF/A-1 forbids any stroke or fill opacity below 1 (ExtGState /CA, /ca)."""
    for illustrative in (True, False):
        resources = PdfReader(io.BytesIO(render("poll", POLL, STYLE, illustrative))).pages[0]["/Resources"]
        states = [state.get_object() for state in (resources.get("/ExtGState") or {}).values()]
        assert all(float(state.get(key, 1)) == 1 for state in states for key in ("/CA", "/ca")), states


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
