"""The reference list and citations of the built PDF against APA 6th-edition strings written by hand.

The expected strings below were written from the APA 6 rules (Publication Manual, 6th ed., ch. 6-7),
not copied from the output: author initials, "&" after a serial comma, the date in parentheses,
sentence-case titles, italics (marked *...*) for stand-alone works, journal names and volumes,
"doi:" and "Retrieved from" without a final full stop, "Location: Publisher", and the project's
short tags after the entry's own punctuation. The PDF is built once for the module (a copy of the
project, as the end-to-end test does). Line breaks make spaces unreliable in extracted text, so the
comparison ignores whitespace; every other character, its order and its italics must match.
"""

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pybtex.database import parse_file
from pypdf import PdfReader

from scripts.common import ROOT

NOTE_START = "This reference list was rebuilt"


@pytest.fixture(scope="module")
def pdf(project) -> PdfReader:
    return PdfReader(project / "build/paper.pdf")


def chunks(reader: PdfReader) -> Iterator[tuple[str, bool, float]]:
    """(text, italic, font size) of every piece of text in the PDF, in reading order."""
    for page in reader.pages:
        found: list[tuple[str, bool, float]] = []

        def visit(text, _cm, _tm, font, size, found=found):
            if text:
                name = str((font or {}).get("/BaseFont", ""))
                found.append((text, "Ital" in name or "Oblique" in name, round(float(size), 1)))

        page.extract_text(visitor_text=visit)
        yield from found


def marked_reference_list(reader: PdfReader) -> str:
    """The reference list as text, italics as *...*, without running heads and page numbers."""
    pieces = list(chunks(reader))
    start = next(i for i, (text, _, _) in enumerate(pieces) if NOTE_START in text)
    body_size = next(size for text, _, size in pieces[start:] if text.startswith("Agius"))
    runs: list[list] = []  # consecutive pieces of the same style merged, so *...* spans line breaks
    for text, italic, size in pieces[start:]:
        if size != body_size:  # running head and page numbers are set smaller
            continue
        text = text.replace("\n", " ")
        if runs and runs[-1][1] == italic:
            runs[-1][0] += text
        else:
            runs.append([text, italic])
    marked = "".join(
        re.sub(r"^(\s*)(.*?)(\s*)$", r"\1*\2*\3", text, flags=re.S) if italic and text.strip() else text
        for text, italic in runs
    )
    return re.sub(r"\s+", " ", marked)


@pytest.fixture(scope="module")
def references(pdf) -> str:
    return marked_reference_list(pdf)


@pytest.fixture(scope="module")
def body(project) -> str:
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(project / "build/paper.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"\s+", " ", text[: text.rindex(NOTE_START)])


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# One entry of each kind in the list, as APA 6 writes it (see the module docstring).
EXPECTED_ENTRIES = {
    "journal article with DOI": (
        "Gvalia, G., Siroky, D., Lebanidze, B., & Iashvili, Z. (2013). Thinking outside the bloc: Explaining the "
        "foreign policies of small states. *Security Studies*, *22*(1), 98–131. doi:10.1080/09636412.2013.757463"
    ),
    "book chapter": (
        "Tumurchuluun, G. (1999). Mongolia’s foreign policy revisited: Relations with Russia and the PRC into the "
        "1990s. In S. Kotkin & B. A. Elleman (Eds.), *Mongolia in the twentieth century: Landlocked cosmopolitan*. "
        "Armonk, NY: M. E. Sharpe. [candidate]"
    ),
    "report, title and number": "Lawrence, S. V. (2011). *Mongolia: Issues for Congress* (CRS Report No. R41867).",
    "report, place before publisher": (
        "Washington, DC: Congressional Research Service. Retrieved from "
        "https://www.everycrsreport.com/reports/R41867.html"
    ),
    "entry in an online dictionary": (
        "Farlex. (2016). Neutral country. In *The Free Dictionary*. Retrieved from "
        "https://www.thefreedictionary.com/neutral+country [candidate]"
    ),
    "treaty, name in title case": (
        "International Peace Conference. (1907a). Convention (V) Respecting the Rights and Duties of Neutral Powers "
        "and Persons in Case of War on Land. The Hague, 18 October 1907. [candidate]"
    ),
    "speech (a stand-alone web document)": (
        "Elbegdorj, T. (2015, September 8). *Mongolia – neutrality*. Retrieved from Office of the President of "
        "Mongolia, Press & Communications Division website: http://eng.president.mn/newsCenter/viewNews.php?newsId=1662"
    ),
    "group author, the publisher being the author": (
        "Federal Department of Foreign Affairs. (2016). *The essence of Swiss neutrality*. Bern, Switzerland: Author. "
        "[candidate]"
    ),
    "unresolved, one author": "Demir (2008). [unresolved]",
    "unresolved, two authors": "Altantuya & Hu (2017). [unresolved]",
    "verified work with unverified locators": (
        "Joenniemi, P. (1993). Neutrality beyond the Cold War. *Review of International Studies*, *19*(3), 289–304. "
        "doi:10.1017/S0260210500117449 [volume, issue and pages unverified]"
    ),
}

EXPECTED_CITATIONS = {
    "three or more authors, first citation, serial comma": "(Gvalia, Siroky, Lebanidze, & Iashvili, 2013;",
    "group author with its abbreviation, first citation": "(Federal Department of Foreign Affairs [FDFA], 2016)",
    "treaty, no locator": "(International Peace Conference, 1907a)",
    "narrative": "Boris Shikhmuradov (1997)",
}


@pytest.mark.parametrize("kind", EXPECTED_ENTRIES)
def test_reference_entry_reads_as_apa6(references, kind):
    assert squeezed(EXPECTED_ENTRIES[kind]) in squeezed(references)


@pytest.mark.parametrize("kind", EXPECTED_CITATIONS)
def test_citation_reads_as_apa6(body, kind):
    assert squeezed(EXPECTED_CITATIONS[kind]) in squeezed(body)


def test_tags_follow_the_entrys_own_punctuation(references):
    """ "... 115–139. [candidate]", never "115–139 [candidate": a tag comes after a full stop, or after a
    URL or DOI, which APA 6 ends without one."""
    entries = references[references.index("Agius,") :]  # after the note, which names the tags
    before_tags = re.findall(r"(\S+) \[(?:unresolved|candidate|volume, issue and pages unverified)\]", entries)
    bib = parse_file(ROOT / "paper/references.bib")
    assert len(before_tags) == sum(bool(e.fields.get("keywords")) for e in bib.entries.values())  # one tag each
    assert all(token.endswith(".") or token.startswith(("http", "doi:")) for token in before_tags), before_tags
    assert not re.search(r"\[(?:Unresolved|Candidate) reference", references)


def test_note_explains_the_tags_once_and_unresolved_entries_are_tagged(references):
    note, entries = references.split("Agius,", 1)
    assert "[unresolved]" in note and "[candidate]" in note
    bib = parse_file(ROOT / "paper/references.bib")
    unresolved = [e for e in bib.entries.values() if "unresolved" in e.fields.get("keywords", "")]
    candidates = [e for e in bib.entries.values() if "candidate" in e.fields.get("keywords", "")]
    assert entries.count("[unresolved]") == len(unresolved)
    assert entries.count("[candidate]") == len(candidates)
    assert not re.search(r"\w\. \(\d{4}\)\. \[unresolved\]", entries)  # "Demir (2008).", never "Demir. (2008)."


def typeset_with_epsbs(folder: Path, bib: str, body: str, preamble: str = "") -> list[str]:
    """The text lines of a small document set with paper/epsbs.sty (pdflatex, biber, pdflatex)."""
    shutil.copy(ROOT / "paper/epsbs.sty", folder)
    (folder / "refs.bib").write_text(bib)
    (folder / "small.tex").write_text(
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{epsbs}\\addbibresource{refs.bib}\n"
        # The PDF metadata, as assemble.py sets it for the paper: with none, hyperxmp (PDF/A) sets a
        # stray comma into the first page.
        "\\hypersetup{pdftitle={Test}, pdfauthor={Test}, pdfkeywords={test}}\n"
        f"{preamble}\n\\begin{{document}}{body}\\end{{document}}\n"
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "small.tex"]
    for command in (latex, ["biber", "--quiet", "small"], latex):
        subprocess.run(command, cwd=folder, capture_output=True, check=True)
    return subprocess.run(
        ["pdftotext", "-layout", "small.pdf", "-"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_narrative_citation_keeps_its_year_on_the_same_line(tmp_path):
    """In a 2 cm column "Shikhmuradov (1997)" would break before the year unless the join is tied."""
    bib = "@article{shik, author = {Shikhmuradov, Boris}, title = {T}, journal = {J}, year = {1997}}\n"
    lines = typeset_with_epsbs(tmp_path, bib, "\\parbox{2cm}{\\textcite{shik} and \\textcite{shik}}")
    years = [line.strip() for line in lines if "(1997)" in line]
    assert len(years) == 2 and all(re.search(r"\w \(1997\)", line) for line in years), lines


def test_urls_and_dois_break_only_after_slash_dot_or_underscore(tmp_path):
    """Not after + - : = and the like, which biblatex allows, nor after any letter, which xurl allows."""
    url = "https://www.thefreedictionary.com/neutral+country+and+neutral+countries+in+war-and-peace/some_path.end"
    doi = "10.1080/09636412.2013.757463"
    bib = (
        f"@online{{web, author = {{Farlex}}, title = {{Neutral country}}, year = {{2016}}, url = {{{url}}}}}\n"
        f"@article{{art, author = {{Gvalia, Giorgi}}, title = {{T}}, journal = {{J}}, year = {{2013}},\n"
        f"  doi = {{{doi}}}}}\n"
    )
    narrow = typeset_with_epsbs(tmp_path, bib, "\\nocite{*}\\printbibliography", preamble="\\textwidth=4cm")
    lines = [line.strip() for line in narrow]
    for whole, first in ((url, "https://"), ("doi:" + doi, "doi:")):
        start = next(i for i, line in enumerate(lines) if first in line)
        pieces = [lines[start][lines[start].index(first) :]]
        while "".join(pieces) != whole:
            pieces.append(lines[start + len(pieces)])
            assert whole.startswith("".join(pieces)), lines  # the URL continues on the next line, unchanged
        assert len(pieces) > 2, lines  # the narrow column does break it
        assert all(piece[-1] in "/._" for piece in pieces[:-1]), pieces
