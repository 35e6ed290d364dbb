"""scripts.devtools.lint_smoke: a plain LaTeX document laid out for the lint, its own files unchanged."""

import shutil
from pathlib import Path

import pytest

from scripts.devtools.lint_smoke import split_body, wrap
from scripts.stages.lint.__main__ import run_lint
from scripts.stages.metadata import load_metadata

MAIN = r"""\documentclass{mythesis}
\usepackage{jabbrv}
\begin{document}
\maketitle
\section{Introduction}\label{sec:intro}
As \enquote{shown} \cite{a} in \JournalTitle{J}.
  \section[Short]{Method {and}
  data}
See \ref{sec:intro}.
\bibliography{refs}
\end{document}
"""


def test_the_body_is_split_at_top_level_headings_with_their_titles():
    body = MAIN.split("\\begin{document}")[1].split("\\end{document}")[0]
    parts = split_body(body)
    assert [title for title, _ in parts] == ["Front", "Introduction", "Method {and} data"]
    assert parts[1][1].startswith("\\label{sec:intro}") and "\\section" not in "".join(text for _, text in parts)


@pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="TeX Live is not installed")
def test_a_document_with_its_own_class_is_linted_as_it_is(tmp_path):
    tree = tmp_path / "repository"
    (tree / "thesis").mkdir(parents=True)
    (tree / "thesis/main.tex").write_text(MAIN, encoding="utf-8")
    (tree / "thesis/mythesis.cls").write_text("\\LoadClass{article}\\RequirePackage{csquotes}\n", encoding="utf-8")
    (tree / "thesis/jabbrv.sty").write_text("\\newcommand{\\JournalTitle}[1]{#1}\n", encoding="utf-8")
    (tree / "thesis/refs.bib").write_text("@misc{a, title = {T}, year = {2020}}\n", encoding="utf-8")
    folder = wrap(tree, "thesis/main.tex", tmp_path / "wrapped")
    assert not (folder / "main.tex").exists() and (folder / "mythesis.cls").read_text().startswith("\\LoadClass")
    meta = load_metadata(folder / "paper/metadata.yaml", lint_only=True)
    assert [s["title"] for s in meta["sections"]] == ["Front", "Introduction", "Method {and} data"]
    assert meta["bibliography"] == "refs.bib"
    with pytest.raises(SystemExit, match="was not made by lint_smoke"):
        wrap(tree, "thesis/main.tex", tree)  # the repository itself is never replaced
    assert (tree / "thesis/main.tex").is_file()
    assert wrap(tree, "thesis/main.tex", folder) == folder  # a folder it made is
    findings, _ = run_lint(meta, folder, None, Path("paper/metadata.yaml"))
    codes = {f.code for f in findings}
    assert not codes & {"P001", "P003", "P005", "X002", "C001", "C002", "B001"}, findings


def test_the_bibliography_is_found_in_an_input_preamble_and_a_dangling_link_is_kept(tmp_path):
    """A preamble kept in its own file names the .bib (a real book's \\addbibresource); a .bib that is a link to a
    file outside the repository stays a dangling link, so that the lint says B001, instead of a crash."""
    tree = tmp_path / "repository"
    tree.mkdir()
    main = "\\documentclass{article}\n\\input{preamble}\n\\begin{document}\nText \\cite{a}.\n\\end{document}\n"
    (tree / "main.tex").write_text(main, encoding="utf-8")
    (tree / "preamble.tex").write_text("\\usepackage{biblatex}\n\\addbibresource{lit.bib}\n", encoding="utf-8")
    (tree / "lit.bib").write_text("@misc{a, title = {T}, year = {2020}}\n", encoding="utf-8")
    folder = wrap(tree, "main.tex", tmp_path / "wrapped")
    assert load_metadata(folder / "paper/metadata.yaml", lint_only=True)["bibliography"] == "lit.bib"
    (tree / "lit.bib").unlink()
    (tree / "lit.bib").symlink_to(tmp_path / "elsewhere/lit.bib")
    folder = wrap(tree, "main.tex", tmp_path / "wrapped")
    assert (folder / "lit.bib").is_symlink() and not (folder / "lit.bib").exists()
    meta = load_metadata(folder / "paper/metadata.yaml", lint_only=True)
    findings, _ = run_lint(meta, folder, None, Path("paper/metadata.yaml"))
    assert [(f.code, f.path) for f in findings if f.code == "B001"] == [("B001", "lit.bib")]
