"""Page layout of the built paper, measured in the TeX log and in the PDF (issue 12).

- no overfull line wider than 0.5 pt, and no underfull box (line or page) of badness 5000 or more;
- no page with a figure (a float page in particular) less than 70% full, measured from the positions of
  the text blocks (pdftotext -bbox-layout) and of the drawn figures (pikepdf, the content streams);
- flush page bottoms: every page but the last ends at the foot of the text area;
- proper names listed as hyphenation exceptions in paper/epsbs.sty are never broken across lines.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

MIN_FILL = 0.70
MAX_OVERFULL_PT = 0.5
MAX_BADNESS = 5000
# Box warnings allowed in the reference list (never in the body), as a pattern of the log line and the
# reason. None today; an unbreakable URL would be the kind of thing listed here.
ALLOWED_IN_BIBLIOGRAPHY: dict[str, str] = {}
PT_TO_BP = 72 / 72.27
# Blocks closer than this (bp) belong to one stretch of content: about one line of 11 pt type.
LINE_GAP = 14.0
# The last line's descenders and the flush-bottom stretch: how far above the text area's foot a full
# page may end (bp).
FOOT_TOLERANCE = 6.0


@dataclass(frozen=True)
class Box:
    page: int
    top: float  # from the top of the page, in bp (PDF units)
    bottom: float
    text: str = ""


@dataclass(frozen=True)
class TextArea:
    top: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height


def text_area(log_text: str) -> TextArea:
    """The text area that paper/epsbs.sty writes to the log, in bp."""
    match = re.search(r"epsbs text area: top=([\d.]+)pt,\s*height=([\d.]+)pt", log_text)
    assert match, "paper/epsbs.sty no longer logs the text area"
    return TextArea(float(match[1]) * PT_TO_BP, float(match[2]) * PT_TO_BP)


def box_warnings(log_text: str) -> list[tuple[str, str, str]]:
    """(kind, part, log line) of every overfull box wider than 0.5 pt and underfull box of badness 5000
    or more. The part is "bibliography" once TeX has opened the .bbl (References is the last section),
    else "body"."""
    found = []
    part = "body"
    for line in log_text.splitlines():
        if re.search(r"\([^()\s]*\.bbl\b", line):
            part = "bibliography"
        overfull = re.match(r"Overfull \\[hv]box \(([\d.]+)pt too", line)
        underfull = re.match(r"Underfull \\[hv]box \(badness (\d+)\)", line)
        if overfull and float(overfull[1]) > MAX_OVERFULL_PT:
            found.append(("overfull", part, line))
        if underfull and int(underfull[1]) >= MAX_BADNESS:
            found.append(("underfull", part, line))
    return found


def allowed(warning: tuple[str, str, str]) -> bool:
    _, part, line = warning
    return part == "bibliography" and any(re.search(pattern, line) for pattern in ALLOWED_IN_BIBLIOGRAPHY)


def text_blocks(pdf: Path) -> list[Box]:
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    root = ET.fromstring(re.sub(rb"<!DOCTYPE[^>]*>", b"", xml))
    blocks = []
    for number, page in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page"), 1):
        for block in page.iter("{http://www.w3.org/1999/xhtml}block"):
            words = " ".join(word.text or "" for word in block.iter("{http://www.w3.org/1999/xhtml}word"))
            blocks.append(Box(number, float(block.get("yMin")), float(block.get("yMax")), words))
    return blocks


def multiply(a: list[float], b: list[float]) -> list[float]:
    """The product of two PDF matrices [a b c d e f] (a first, then b)."""
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def figure_boxes(pdf_path: Path) -> list[Box]:
    """Where each included graphic (form XObject or image) is drawn on each page."""
    boxes = []
    with pikepdf.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            height = float(page.mediabox[3])
            matrix, saved = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], []
            for operands, operator in pikepdf.parse_content_stream(page.obj):
                op = str(operator)
                if op == "q":
                    saved.append(matrix)
                elif op == "Q" and saved:
                    matrix = saved.pop()
                elif op == "cm":
                    matrix = multiply([float(v) for v in operands], matrix)
                elif op == "Do":
                    xobject = page.Resources.XObject[operands[0]]
                    if xobject.get("/Subtype") == pikepdf.Name.Form:
                        x0, y0, x1, y1 = (float(v) for v in xobject.BBox)
                        form = [float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                        placed = multiply(form, matrix)
                    else:
                        x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
                        placed = matrix
                    ys = [placed[1] * x + placed[3] * y + placed[5] for x in (x0, x1) for y in (y0, y1)]
                    boxes.append(Box(number, height - max(ys), height - min(ys), "figure"))
    return boxes


def filled_height(boxes: list[Box], area: TextArea) -> float:
    """Height of the text area covered by content, counting a gap of less than a line as covered."""
    spans = sorted((max(b.top, area.top), min(b.bottom, area.bottom)) for b in boxes)
    spans = [(top, bottom) for top, bottom in spans if bottom > top]
    covered, current = 0.0, None
    for top, bottom in spans:
        if current and top <= current[1] + LINE_GAP:
            current = (current[0], max(current[1], bottom))
        else:
            if current:
                covered += current[1] - current[0]
            current = (top, bottom)
    if current:
        covered += current[1] - current[0]
    return covered


def in_text_area(box: Box, area: TextArea) -> bool:
    """True for body content; False for the running head and the page number."""
    return box.bottom > area.top + 1 and box.top < area.bottom - 1


@pytest.fixture(scope="module")
def log_text(project: Path) -> str:
    return (project / "build/tex/paper.log").read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def pages(project: Path, log_text: str) -> tuple[TextArea, dict[int, list[Box]], set[int]]:
    """The text area, the body content of each page, and the pages that carry a figure."""
    area = text_area(log_text)
    pdf = project / "build/paper.pdf"
    figures = figure_boxes(pdf)
    content: dict[int, list[Box]] = {}
    for box in text_blocks(pdf) + figures:
        if in_text_area(box, area):
            content.setdefault(box.page, []).append(box)
    return area, content, {box.page for box in figures}


def test_no_overfull_or_badly_underfull_box(log_text):
    assert [warning for warning in box_warnings(log_text) if not allowed(warning)] == []


def test_box_warnings_are_found_with_their_file():
    log = (
        "(./paper/sections/01-introduction.tex\n"
        "Overfull \\hbox (3.98158pt too wide) in paragraph at lines 9--10\n"
        "Overfull \\hbox (0.2pt too wide) in paragraph at lines 12--13\n"
        ") (build/tex/paper.bbl\n"
        "Underfull \\hbox (badness 10000) in paragraph at lines 40--41\n"
        "Underfull \\hbox (badness 1264) in paragraph at lines 50--51\n)\n"
        "Underfull \\vbox (badness 10000) has occurred while \\output is active []\n"
    )
    assert [(kind, where) for kind, where, _ in box_warnings(log)] == [
        ("overfull", "body"),
        ("underfull", "bibliography"),
        ("underfull", "bibliography"),
    ]


def test_no_page_with_a_figure_is_less_than_70_percent_full(pages):
    area, content, figure_pages = pages
    assert figure_pages, "no figure found in the PDF"
    last = max(content)
    fill = {page: filled_height(content[page], area) / area.height for page in figure_pages if page != last}
    assert {page: round(share, 2) for page, share in fill.items() if share < MIN_FILL} == {}


def test_half_empty_float_page_is_detected():
    area = TextArea(100.0, 600.0)
    figure_and_caption = [Box(1, 230.0, 550.0, "figure"), Box(1, 560.0, 590.0, "Figure 2: caption")]
    assert filled_height(figure_and_caption, area) / area.height == pytest.approx(0.6)
    text_page = [Box(1, 100.0 + 20 * i, 111.0 + 20 * i, "line") for i in range(30)]
    assert filled_height(text_page, area) / area.height > 0.95


def starts_a_section(boxes: list[Box]) -> bool:
    """Whether a page's first block is a section heading ("2. Problem Statement", "References")."""
    return bool(re.match(r"(\d+\.\s+[A-Z]|References$)", min(boxes, key=lambda box: box.top).text))


def test_page_bottoms_are_flush(pages):
    """Every page before the reference list ends at the foot of the text area, unless the next page
    starts a section: a section that does not fit leaves its white space at the page's foot rather
    than above its heading (epsbs.sty). biblatex sets \\raggedbottom in the list on purpose: it keeps
    short entries whole (\\bibsetup, biblatex.def)."""
    area, content, _ = pages
    references = min(page for page, boxes in content.items() if any(box.text == "References" for box in boxes))
    short = {
        page: round(area.bottom - max(box.bottom for box in boxes), 1)
        for page, boxes in content.items()
        if page < references
        and area.bottom - max(box.bottom for box in boxes) > FOOT_TOLERANCE
        and not (page + 1 in content and starts_a_section(content[page + 1]))
    }
    assert short == {}


def broken_names(lines: list[str], names: list[str]) -> list[str]:
    """The names that a line ends in the middle of, with a hyphen ("No-" then "vaković ...")."""
    broken = []
    for line, following in itertools.pairwise(lines):
        if not line.endswith("-") or line.endswith("--"):
            continue
        head = re.sub(r"^\W+", "", line.split()[-1][:-1])
        broken += [
            name
            for name in names
            if head and name != head and name == head + following.split()[0][: len(name) - len(head)]
        ]
    return broken


def test_a_name_broken_across_lines_is_found():
    lines = ["the security of Mon-", "golia’s neutrality", "and its Sino-", "Russian border (No-", "vaković, 2013)"]
    assert broken_names(lines, ["Mongolia", "Korea", "Novaković"]) == ["Mongolia", "Novaković"]


def test_proper_names_are_not_hyphenated(project):
    style = (project / "paper/epsbs.sty").read_text(encoding="utf-8")
    exceptions = re.search(r"\\babelhyphenation\{([^}]*)\}", style)
    assert exceptions, "paper/epsbs.sty lists no hyphenation exceptions"
    names = [name.replace("\\'c", "ć") for name in exceptions[1].split()]
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(project / "build/paper.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # pdftotext writes "ć" as "c" and a combining accent: compose it again
    lines = [unicodedata.normalize("NFC", line.strip()) for line in text.splitlines() if line.strip()]
    assert broken_names(lines, names) == []
