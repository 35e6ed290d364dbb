"""Metadata validation (readable errors naming the key) and the .tex that PyLaTeX writes."""

import copy
import os
import re
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.common import UserError
from scripts.stages.assemble import (
    author_block,
    build_document,
    check_typesettable,
    document_ids,
    figure_fragment,
    running_head,
    tex,
    write_outputs,
    xmp_setup,
)
from scripts.stages.assemble import tex as tex_text
from scripts.stages.data import load_descriptor
from scripts.stages.metadata import load_metadata, validate_metadata
from scripts.stages.preflight import preflight

METADATA = load_metadata()
EPSBS_ORDER = [
    "Introduction",
    "Problem Statement",
    "Research Questions",
    "Purpose of the Study",
    "Research Methods",
    "Findings",
    "Conclusion and Implications",
    "References",
]


def write_metadata(tmp_path: Path, data) -> Path:
    path = tmp_path / "metadata.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_unknown_key_is_named_with_its_line(tmp_path):
    data = copy.deepcopy(METADATA)
    data["journal"]["colour"] = "blue"
    path = write_metadata(tmp_path, data)
    with pytest.raises(UserError) as caught:
        load_metadata(path)
    assert "unknown key 'journal.colour'" in caught.value.message
    line = int(caught.value.where.rsplit(":", 1)[1])
    assert path.read_text().splitlines()[line - 1].strip().startswith("colour:")


def test_missing_required_key_is_named(tmp_path):
    data = copy.deepcopy(METADATA)
    del data["figures"][1]["caption"]
    with pytest.raises(UserError) as caught:
        load_metadata(write_metadata(tmp_path, data))
    assert "missing required key 'figures[1].caption'" in caught.value.message


def test_invalid_yaml_gives_file_and_line(tmp_path):
    path = tmp_path / "metadata.yaml"
    path.write_text("title: ok\nkeywords: [a, b\ndoi: x\n")
    with pytest.raises(UserError) as caught:
        load_metadata(path)
    assert caught.value.where.startswith(f"{path}:")
    assert "invalid YAML" in caught.value.message


def test_section_file_that_does_not_exist_is_reported_against_the_metadata(tmp_path):
    data = copy.deepcopy(METADATA)
    data["sections"][5]["file"] = "paper/sections/99-missing.tex"
    with pytest.raises(UserError) as caught:
        preflight(data, load_descriptor())
    assert "paper/sections/99-missing.tex" in caught.value.message
    assert caught.value.where.startswith("paper/metadata.yaml:")


def test_tex_has_the_sections_in_epsbs_order_each_from_its_file():
    tex = build_document(METADATA).dumps()
    headings = re.findall(r"\\section\*?\{([^}]*)\}", tex)
    assert headings == EPSBS_ORDER
    inputs = re.findall(r"\\input\{([^}]*)\}", tex)
    assert inputs == [s["file"].removesuffix(".tex") for s in METADATA["sections"]]
    assert "\\section*{References}" in tex  # unnumbered, as the journal has it


def test_unknown_facts_print_as_unknown_never_as_a_guess():
    tex = build_document(METADATA).dumps()
    assert METADATA["authors"][0]["name"] == "unknown"
    assert r"\PaperAuthors{Author: unknown}" in tex and r"\PaperAffiliations{Affiliation: unknown}" in tex
    assert "Volume, pages and conference: unknown" in tex
    assert r"\PaperLicence{Licence: unknown}" in tex


def test_unknowns_are_said_once_without_marks_that_point_nowhere():
    tex = build_document(METADATA).dumps()
    assert "unknown{]}" not in tex  # no "[author unknown]"-style placeholder
    authors = re.search(r"\\PaperAuthors\{(.*)\}%", tex)[1]
    assert "textsuperscript" not in authors and "*" not in authors
    assert tex.count("unknown") == 5  # author, affiliation, masthead details, licence; the notice explains it


def test_running_head_leaves_out_an_unknown_corresponding_author_and_uses_one_doi_form():
    head = running_head(METADATA)
    assert "Corresponding Author" not in head
    assert "https://doi.org/10.15405/epsbs.2018.03.02.10" in head and "dx.doi.org" not in head
    known = copy.deepcopy(METADATA)
    known["authors"] = [{"name": "A. Author", "affiliation": "Somewhere", "corresponding": True}]
    assert "Corresponding Author: A. Author" in running_head(known)


def test_doi_and_eissn_print_once_on_the_first_page():
    tex = build_document(METADATA).dumps()
    title_page = re.search(r"\\PaperMasthead\{.*\}%\n\\PaperRunningHead\{.*\}%", tex)[0]
    assert title_page.count("10.15405/epsbs.2018.03.02.10") == 1
    assert title_page.count("2357{-}1330") == 1


def test_known_authors_get_affiliation_letters_and_an_explained_asterisk():
    authors = [
        {"name": "A. One", "affiliation": "Uni A", "corresponding": True},
        {"name": "B. Two", "affiliation": "Uni B"},
        {"name": "unknown", "affiliation": "Uni A"},
    ]
    names, affiliations = author_block(authors)
    assert names == r"A. One\textsuperscript{a*}, B. Two\textsuperscript{b}, {[}name unknown{]}\textsuperscript{a}"
    assert affiliations.endswith(r"\textsuperscript{*}\,Corresponding author")


def test_reproduction_notice_and_pdf_author_are_the_project_not_a_person():
    tex = build_document(METADATA).dumps()
    notice = re.search(r"\\PaperReproductionNotice\{(.*)\}%", tex)[1]
    assert notice.startswith("Reproduction, not the publisher’s PDF.") and "README.md" in notice
    setup = xmp_setup(METADATA)
    assert "pdfauthor={" + tex_text(METADATA["journal"]["reproduction_creator"]) + "}" in setup
    assert "unknown" not in setup


def test_document_ids_depend_only_on_the_doi_and_the_source_date():
    moved = copy.deepcopy(METADATA)
    moved["title"] = "Another title"
    assert document_ids(moved) == document_ids(METADATA)
    redated = copy.deepcopy(METADATA)
    redated["build"]["source_date"] = "2019-01-01T00:00:00+00:00"
    assert document_ids(redated)[0] != document_ids(METADATA)[0]
    assert all(re.fullmatch(r"uuid:[0-9a-f-]{36}", value) for value in document_ids(METADATA))
    trailer_id = re.search(r"\\pdftrailerid\{(.*?)\}\\fi", build_document(METADATA).dumps())[1]
    assert trailer_id == "https://doi.org/10.15405/epsbs.2018.03.02.10|2018{-}03{-}01T00:00:00+00:00"


def test_unnumbered_sections_get_an_outline_entry():
    tex = build_document(METADATA).dumps()
    assert r"\phantomsection\addcontentsline{toc}{section}{References}" in tex


def test_metadata_strings_are_escaped():
    data = copy.deepcopy(METADATA)
    data["title"] = r"Costs & 100% of $5 #1 a_b {x} ~y ^z \cmd"
    data["keywords"] = ["R&D", "50%"]
    tex = build_document(data).dumps()
    assert r"\PaperTitle{Costs \& 100\% of \$5 \#1 a\_b \{x\} \textasciitilde{}y \^{}z \textbackslash{}cmd}" in tex
    assert r"R\&D; 50\%" in tex


def test_caption_carries_the_illustrative_sentence_only_for_illustrative_data():
    figure = METADATA["figures"][0]
    assert "illustrative stand" in figure_fragment(figure, illustrative=True)
    real = figure_fragment(figure, illustrative=False)
    assert "illustrative" not in real.lower()
    assert "Survey on people’s reaction" in real and "\\label{fig:neutrality-poll}" in real


def test_write_outputs_writes_one_fragment_per_figure(tmp_path):
    written = write_outputs(METADATA, tmp_path / "paper.tex", {"neutrality-poll": "real"})
    assert [p.name for p in written] == ["paper.tex", "figure-neutrality-poll.tex", "figure-threat-perception.tex"]
    assert "illustrative" not in (tmp_path / "figure-neutrality-poll.tex").read_text().lower()
    assert "illustrative" in (tmp_path / "figure-threat-perception.tex").read_text().lower()


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_title_becomes_balanced_tex(title):
    """Whatever the title, its escaped form cannot open or close a group, or start a command."""
    data = copy.deepcopy(METADATA)
    data["title"] = title
    tex = build_document(data).dumps()
    line = next(line for line in tex.splitlines() if line.startswith("\\PaperTitle{"))
    body = line.removeprefix("\\PaperTitle{").removesuffix("}%")
    unescaped = re.sub(r"\\\^\{\}|\\[&%$#_{}]|\\text[a-z]+\{\}|\{\[\}|\{\]\}|\{-\}", "", body)
    assert unescaped.count("{") == unescaped.count("}") == 0
    assert "\\" not in unescaped


def test_validate_metadata_accepts_the_shipped_file():
    assert validate_metadata(copy.deepcopy(METADATA))["doi"] == "10.15405/epsbs.2018.03.02.10"


TITLE_ALPHABET = st.sampled_from([*string.printable, *"éüßøÅç’“”–—…•©°±×€", "😀", "漢", "Ж", "\u00ad"])


# Each example is a batch of titles set in one document: one pdflatex run per batch, not per title (a
# failing batch shrinks to the title that breaks it).
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(st.text(alphabet=TITLE_ALPHABET, min_size=1, max_size=40), min_size=5, max_size=10))
def test_any_title_compiles_or_the_error_names_the_field(tmp_path_factory, titles):
    accepted = []
    for title in titles:
        data = copy.deepcopy(METADATA)
        data["title"] = title
        try:
            check_typesettable(data)
        except UserError as err:
            assert err.message.startswith("title: pdflatex cannot typeset")
            assert err.where.startswith("paper/metadata.yaml:")
            continue
        accepted.append(title)
    if not accepted:
        return
    folder = tmp_path_factory.mktemp("title")
    blocks = "".join(f"\\PaperTitle{{{tex(title)}}}\\EpsbsTitleBlock x\\clearpage\n" for title in accepted)
    (folder / "t.tex").write_text(
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage{epsbs}\n"
        f"\\begin{{document}}\n{blocks}\\end{{document}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=folder,
        env={**os.environ, "TEXINPUTS": f"{Path.cwd() / 'paper'}:"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (accepted, result.stdout[-800:])
    assert "Output written on t.pdf" in result.stdout
