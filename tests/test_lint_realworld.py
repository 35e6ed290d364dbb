"""The lint on LaTeX as real papers write it: kernel and package macros, skipped regions, local parse
errors, included files, natbib/biblatex citations, biblatex's data model, settings and --root."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.common import ROOT
from scripts.stages.lint.__main__ import run_lint
from scripts.stages.lint.bibliography import data_model, missing_fields, parse_bib
from scripts.stages.lint.checks import GRAPHICS_EXTENSIONS, missing_preamble_inputs, option_labels, unknown_macros
from scripts.stages.lint.macros import (
    KnownMacros,
    casefold_search,
    defined_in,
    first_file,
    known_macros,
    paper_files,
)
from scripts.stages.lint.parse import (
    example_lists_closed,
    mask_skipped,
    own_specs,
    parse_nodes,
    read_source,
    verbatim_environments,
)
from scripts.stages.metadata import load_metadata

FIXTURE = ROOT / "tests" / "fixtures" / "lint" / "realworld"
needs_tex = pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="TeX Live is not installed")
needs_biber = pytest.mark.skipif(data_model() is None, reason="biber's configuration is not installed")


def lint_folder(folder: Path = FIXTURE):
    metadata = load_metadata(folder / "paper" / "metadata.yaml", lint_only=True)
    return run_lint(metadata, folder, None, Path("paper/metadata.yaml"))


def copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "paper-folder"
    shutil.copytree(FIXTURE, folder)
    return folder


def cite_instead_of_nocite(folder: Path, citations: str) -> list:
    """Lint the fixture with `citations` where its results cite every entry (\\nocite{*}): the findings."""
    results = folder / "paper/sections/03-results.tex"
    results.write_text(results.read_text().replace("\\nocite{*}", citations))
    return lint_folder(folder)[0]


def citation_findings(findings: list) -> list[tuple[str, str]]:
    return sorted((f.code, f.message) for f in findings if f.code.startswith("C"))


def problems_and_text(path: Path, root: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """A section file read: its problems as (code, line), and its paragraphs' text."""
    source = read_source(path, root)
    return [(p.code, p.line) for p in source.problems], [p.text for p in source.paragraphs]


def edit_lint_settings(folder: Path, **changes) -> None:
    meta = folder / "paper" / "metadata.yaml"
    data = yaml.safe_load(meta.read_text(encoding="utf-8"))
    data["lint"].update(changes)
    meta.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@needs_tex
def test_the_realworld_fixture_gives_exactly_its_two_real_problems():
    findings, coverage = lint_folder()
    assert sorted((f.code, f.path, f.line, f.col) for f in findings) == [
        ("P001", "paper/sections/03-results.tex", 3, 23),  # the one unclosed brace
        ("P003", "paper/sections/method.tex", 3, 11),  # \reallyUnknown, at the included file's own line
    ]
    assert [q["id"] for q in coverage.questions] == ["RQ1", "RQ2"]


@needs_tex
def test_kernel_macros_and_escapes_are_never_unknown(tmp_path):
    folder = copy_fixture(tmp_path)
    kernel = (
        r"10\% \& \_ \# \$ \{ \} a\\b \, \; \! \- \/ \par \centering \caption{c} \hline \em \paragraph{p} \quad"
        r" \qquad \iffalse x\fi \section{s} \textbf{b} \emph{e} \footnote{f} \label{l} \noindent \vspace{1pt}"
        r" \newline \linewidth \ldots \LaTeX \small \bf \it \maketitle \item \relax \hbox{h} \today"
        r" \looseness=-1 \pdfstrcmp{a}{b}"
    )
    (folder / "paper/sections/04-discussion.tex").write_text(kernel + "\n", encoding="utf-8")
    findings, _ = lint_folder(folder)
    assert [f for f in findings if f.code == "P003" and "discussion" in f.path] == []


@needs_tex
def test_macros_come_from_the_papers_own_files_and_settings(tmp_path):
    known = known_macros(FIXTURE / "paper", [(FIXTURE / "paper/sections/01-introduction.tex").read_text()], {}).names
    assert {"flaky", "argmax", "etal", "finding", "endfinding", "rqref", "eg"} <= known  # .sty and section file
    assert "xspace" in known  # a package that the paper's .sty loads
    assert "toprule" not in known and "tool" not in known  # booktabs and \tool only come from the settings
    with_settings = known_macros(FIXTURE / "paper", [], {"packages": ["booktabs"], "known_macros": ["\\tool"]})
    assert {"toprule", "tool"} <= with_settings.names
    not_here = known_macros(FIXTURE / "paper", [], {"packages": ["no-such-package-here"]})
    assert not_here.not_installed == ("no-such-package-here.sty",)


def test_definitions_are_read_in_every_form():
    text = (
        r"\newcommand{\a}{} \renewcommand*\b{} \providecommand{\c}[1]{} \def\d#1{} \gdef\e{} \let\f\relax"
        r" \DeclareMathOperator{\g}{g} \DeclareRobustCommand{\h}{} \NewDocumentCommand{\i}{m}{} \newif\ifdraft"
        r" \newenvironment{box}{}{} \newcounter{step} \newlength{\gap}"
        r" \SetKwInOut{Input}{Input} \SetKw{Continue}{continue}"  # algorithm2e's, as in temporal-periodization-2022
        r" \SetKwIF{If}{ElseIf}{Else}{if}{then}{else if}{else}{end}"  # as in downstream-mining-2022
    )
    assert {"a", "b", "c", "d", "e", "f", "g", "h", "i", "ifdraft", "drafttrue", "draftfalse", "box", "endbox"} <= (
        defined_in(text)
    )
    assert {"thestep", "gap", "Input", "Continue", "If", "uIf", "lIf", "ElseIf", "Else", "lElse"} <= defined_in(text)


def test_titlesec_titleclass_defines_its_sectioning_command():
    # As in developer-experience-mlr-2020's preamble: \subsubsubsection was six false P003
    text = r"\titleclass{\subsubsubsection}{straight}[\subsection] \newcounter{subsubsubsection}[subsubsection]"
    assert {"subsubsubsection", "thesubsubsubsection"} <= defined_in(text)


def test_beamer_overlay_definitions_def_delimiters_and_typein_define_their_macros():
    # Found by linting real documents from public repositories: beamer's \newcommand<>\frametitle
    # (beamerbaselocalstructure.sty), colortbl's \columncolor, a delimiter of \CT@extract that a column spec types
    # (`>{\columncolor{white}}`), and the kernel's \typein[\papertype] (IEEEtran's testflow)
    text = (
        r"\newcommand<>\frametitle{} \newenvironment<>{actionenv}{}{} \def\CT@extract#1\columncolor#2#3\@nil{#1}"
        r" \typein[\papertype]{Paper size?} \def\plain{no parameters: \notdefined}"
    )
    defined = defined_in(text)
    assert {"frametitle", "actionenv", "endactionenv", "CT@extract", "columncolor", "@nil", "papertype"} <= defined
    assert "notdefined" not in defined  # a macro used in a body is not defined by it
    assert "lstset" in defined_in(r"\lst@UserCommand\lstset#1{\setkeys{lst}{#1}}")  # listings.sty's own definer


@needs_tex
def test_a_class_or_package_in_the_papers_own_folder_is_read_before_tex_lives(tmp_path):
    # A real thesis keeps its own paper.cls beside its main file (TeX looks in its own folder first): TeX Live's
    # paper.cls, which the lint read instead, does not define the \enquote that the thesis uses.
    folder = copy_fixture(tmp_path)
    (folder / "paper/preamble.tex").write_text("\\documentclass{paper}\n\\usepackage{jabbrv}\n", encoding="utf-8")
    (folder / "paper/sections/04-discussion.tex").write_text("As \\enquote{shown} \\JournalTitle{x}.\n")
    unknown = {f.message.split()[2] for f in lint_folder(folder)[0] if f.code == "P003" and "discussion" in f.path}
    assert unknown == {"\\enquote:", "\\JournalTitle:"}
    (folder / "paper.cls").write_text("\\LoadClass{article}\\RequirePackage{csquotes}\n", encoding="utf-8")
    (folder / "jabbrv.sty").write_text("\\newcommand{\\JournalTitle}[1]{#1}\n", encoding="utf-8")
    findings, _ = lint_folder(folder)
    assert not [f for f in findings if f.code == "P003" and "discussion" in f.path]
    known = known_macros(folder / "paper", [], {})
    assert "jabbrv.sty" not in known.not_installed


def test_gb4e_z_closes_the_example_list_that_begin_opened():
    # langsci-gb4e.sty: "\z works like \end{exe} or \end{xlist}, dep on context"; a Language Science Press book
    # (langsci/271) opens lists with \begin{xlist} and closes them with \z: 80 false P001 before
    text = (
        "\\begin{exe}\n\\ex \\label{ex:a}\n\\begin{xlist}\n\\ex one\n\\ex two\n\\z\n\\z\n\n"
        "\\ea first \\ea nested \\z \\z\n\n"  # \ea ... \z: macros on both sides, as before
        "\\eal \\ex a \\ex b \\zl\n\n"
        "\\begin{exe}\n\\ex three\n\\end{exe}\n\n"  # closed by \end: an environment as usual
        "\\ea opened by a macro \\end{exe}\n"
    )
    closed = example_lists_closed(text)
    assert len(closed) == len(text) and closed.count("\n") == text.count("\n")  # every line and column stays
    assert "\\begin{xlist}" not in closed and closed.count("\\begin{exe}") == 1 and closed.count("\\end{exe}") == 1
    _, _, problems = parse_nodes(text)
    assert problems == []
    assert example_lists_closed("\\begin{exe}\\ex a\\end{exe}") == "\\begin{exe}\\ex a\\end{exe}"  # no \z: untouched


def test_at_is_a_letter_between_makeatletter_and_makeatother(tmp_path):
    # As in Inkscape's .pdf_tex files (elektra-crypto-2018): \f@size is one name there (P003 leaves internal
    # names with @ alone), not an unknown \f followed by text
    section = tmp_path / "figure.pdf_tex"
    section.write_text(
        "\\begingroup\\makeatletter\n"
        "\\providecommand\\lineheight[1]{\\fontsize\\f@size{#1\\f@size}\\selectfont}\n"
        "\\makeatother\\endgroup\n"
        "% \\makeatletter in a comment changes nothing\n"
        "Text \\f@size.\n",
        encoding="utf-8",
    )
    names = [(m.name, m.line) for m in read_source(section).macros if m.name.startswith("f")]
    assert names == [("fontsize", 2), ("f@size", 2), ("f@size", 2), ("f", 5)]  # after \makeatother, TeX reads \f


def test_the_variables_of_a_tikz_foreach_loop_are_defined():
    # As in tests/real_papers/cefr-llm-2024 (03-results.tex): the loop's variables and its options' macros.
    text = (
        r"\foreach [count=\i] \x/\y/\med in {A1/594.98/662} \foreach \y in {0,2000}"
        r" \foreach \a [remember=\a as \lasta (initially 0)] in {1,2}"
    )
    assert {"i", "x", "y", "med", "a", "lasta"} <= defined_in(text)
    assert "med" not in defined_in(r"\draw (0,0) node {\med};")


def test_pgf_and_pgfplots_define_their_tables_and_macros():
    # As in vowel-reduction-perm-2025 (05-discussion.tex) and downstream-mining-2022 (06-evaluation.tex)
    text = (
        r"\pgfplotstableread{data/a.csv}\PostFigureData \pgfplotstableread[col sep=comma]{b.csv}{\datatable}"
        r" \pgfplotstableread[columns={[index]0}]{a.csv}\ta \pgfplotstableread{x y \\ {1} 2 \\}\tb"
        r" \pgfplotstabletranspose\tf{\ta} \pgfplotstablesort[sort key=x]\tg{\ta} \pgfplotstablenew[columns={a}]{4}\th"
        r" \pgfmathsetmacro{\mv}{2} \pgfmathtruncatemacro\mt{2}"
        r" \begin{axis}[visualization depends on={rawx \as \rawx}, nodes near coords={\rawx}]"
    )
    expected = {"PostFigureData", "datatable", "ta", "tb", "tf", "tg", "th", "mv", "mt", "rawx", "as"}
    assert expected <= defined_in(text)
    # \as names a macro only inside the option's value
    outside = r"\begin{axis}[visualization depends on={rawx \as \rawx}] \newcommand\x{\as\foo}"
    assert "foo" not in defined_in(outside)
    assert not {"rawx", "as"} & defined_in(r"\begin{axis}[xshift=-\rawx*.25] \as\foo")


def test_labels_that_options_define():
    text = (
        "\\begin{lstlisting}[language=Python,label={lst:a},caption={A loop}]\nx\n\\end{lstlisting}\n"
        "\\begin{lstlisting}[caption={[short]Long, with a comma},label=lst:b]\nx\n\\end{lstlisting}\n"
        "\\begin{lstlisting}[caption={see, label=fake}, label = lst:c]\nx\n\\end{lstlisting}\n"
        "\\lstinputlisting[label=lst:file]{code.py}\n"
        "\\begin{axis}[legend to name={my legend}]\\end{axis} \\begin{axis}[legend to name=Plain]\\end{axis}\n"
        # not typeset: a comment (also after a \\ line break), an \iffalse branch, a comment environment
        "% \\begin{lstlisting}[label=lst:commented]\n"
        "a\\\\% \\begin{lstlisting}[label=lst:after-break]\n"
        "\\iffalse\n\\begin{lstlisting}[label=lst:old]\nx\n\\end{lstlisting}\n\\fi\n"
        "\\begin{comment}\n\\lstinputlisting[label=lst:hidden]{a.py}\n\\end{comment}\n"
    )
    assert option_labels(text) == {"lst:a", "lst:b", "lst:c", "lst:file", "my legend", "Plain"}
    # Found on real documents: \lstset{label=...} (the next captioned listing takes it), a label escaped to LaTeX
    # inside a listing (escapechar=|, 23 false X002 in one paper), and tabularray's longtblr option
    more = (
        "\\lstset{language=Java, label={lst:set}}\n"
        "\\begin{lstlisting}[escapechar=|]\nmock(x); |\\label{line:mock}|\n\\end{lstlisting}\n"
        "\\begin{longtblr}[caption={Results}, label={tab:long}]{colspec={ll}}\na & b\n\\end{longtblr}\n"
    )
    assert option_labels(more) == {"lst:set", "line:mock", "tab:long"}
    # without an escape, a listing prints \label{...} as code: no label (unless the paper's \lstset sets an escape)
    code = "\\begin{lstlisting}[language=TeX]\n\\section{A}\\label{sec:shown-as-code}\n\\end{lstlisting}\n"
    assert option_labels(code) == set()
    assert option_labels(code, escaped=True) == {"sec:shown-as-code"}


@needs_tex
def test_the_papers_own_verbatim_environments_are_skipped_like_lstlisting(tmp_path):
    # computational-responsibility-2017's preamble: \lstnewenvironment{pseudocodelisting}{...}{}
    folder = copy_fixture(tmp_path)
    style = folder / "paper/macros.sty"
    style.write_text(style.read_text() + "\\lstnewenvironment{code}[1][]{\\lstset{#1}}{}\n\\newminted{python}{}\n")
    (folder / "paper/sections/04-discussion.tex").write_text(
        "\\begin{code}[label=lst:own]\n\\undefinedInCode { x\n\\end{code}\n"
        "\\begin{pythoncode}\nprint('{')\n\\end{pythoncode}\nSee \\ref{lst:own}.\n",
        encoding="utf-8",
    )
    findings, _ = lint_folder(folder)
    assert [(f.code, f.message) for f in findings if "discussion" in f.path] == []
    assert verbatim_environments([style.read_text()]) == {"code", "pythoncode"}
    assert verbatim_environments(["\\newtcblisting[auto counter]{shell}{listing only}"]) == {"shell"}
    assert verbatim_environments(["% \\lstnewenvironment{old}{}{}"]) == frozenset()


def test_what_tex_does_not_typeset_is_blanked_in_place():
    text = (
        "a \\verb|{x| b\n\\begin{lstlisting}\n{ \\foo\n\\end{lstlisting}\n"
        "\\iffalse \\ifx y \\fi hidden \\else shown \\fi\n% \\begin{comment}\n\\begin{comment}\n{\n\\end{comment}\nz"
    )
    masked = mask_skipped(text)
    assert len(masked) == len(text) and masked.count("\n") == text.count("\n")
    assert "{x" not in masked and "\\foo" not in masked and "hidden" not in masked
    assert "shown" in masked and "% \\begin{comment}" in masked and masked.endswith("z")


def test_a_parse_error_stays_in_its_paragraph(tmp_path):
    path = tmp_path / "s.tex"
    path.write_text("First paragraph.\n\nBroken {paragraph here.\n\nLast paragraph \\textbf{bold}.\n")
    source = read_source(path, tmp_path)
    assert [(p.line, p.text) for p in source.paragraphs] == [
        (1, "First paragraph."),
        (3, "Broken paragraph here."),
        (5, "Last paragraph bold."),
    ]
    assert [(p.code, p.line, p.col) for p in source.problems] == [("P001", 3, 8)]
    path.write_text("Open \\begin{itemize}\n\\item one\n\nNext paragraph.\n")
    problems = read_source(path, tmp_path).problems
    assert [(p.code, p.line, p.message) for p in problems] == [("P001", 1, "\\begin{itemize} is never ended")]


def test_a_missing_file_that_a_listing_or_a_verbatim_input_reads_is_p005(tmp_path):
    # As in minecraft-mas-2025's appendix (its listing was not ported): TeX stops there
    (tmp_path / "code").mkdir()
    (tmp_path / "code/run.py").write_text("print(1)\n", encoding="utf-8")
    section = tmp_path / "appendix.tex"
    section.write_text(
        "\\lstinputlisting[language=Python]{code/run.py}\n"  # this one exists
        "\\lstinputlisting[language={}, label={lst:chats}]{appendix/chats.xml}\n"
        "\\VerbatimInput{log.txt}\n\\inputminted{python}{code/missing.py}\n\\verbatiminput*{notes.txt}\n"
        "\\newcommand\\code[1]{\\lstinputlisting{code/#1}} \\lstinputlisting{\\srcdir/run.py}\n"  # names TeX makes
        "\\input{part}\n",
        encoding="utf-8",
    )
    # an included file's listing is looked for from the paper's folder or beside that file, and reported once
    (tmp_path / "part.tex").write_text("\\lstinputlisting{code/run.py}\n\\lstinputlisting{code/gone.py}\n")
    problems = sorted((p.code, p.path, p.line, p.message) for p in read_source(section, tmp_path).problems)
    assert problems == [
        ("P005", "appendix.tex", 2, "\\lstinputlisting{appendix/chats.xml}: no such file"),
        ("P005", "appendix.tex", 3, "\\VerbatimInput{log.txt}: no such file"),
        ("P005", "appendix.tex", 4, "\\inputminted{code/missing.py}: no such file"),
        ("P005", "appendix.tex", 5, "\\verbatiminput{notes.txt}: no such file"),
        ("P005", "part.tex", 2, "\\lstinputlisting{code/gone.py}: no such file"),
    ]


@needs_tex
def test_graphics_are_found_through_graphicspath_and_includepdf_is_a_graphic(tmp_path):
    # As in minecraft-mas-2025's appendix (\includepdf of a PDF not ported) and the papers whose preamble sets
    # \graphicspath (forest-decline-ews-2018, typev-evolution-2016 ...)
    folder = copy_fixture(tmp_path)
    (folder / "paper/preamble.tex").write_text(
        # {bare}: this LaTeX adds the / itself (pdflatex finds bare/photo.jpg)
        "% \\graphicspath{{old/}}\n\\graphicspath{{figures/}, {plots/}{bare}}\n"
    )
    made = ("figures/map.png", "plots/trend.pdf", "scans.pdf", "paper/decl.pdf", "bare/photo.jpg")
    for name in (*made, "figures/flow.mps", "plots/scan.PNG", "figures/KW.png"):  # MetaPost, upper case
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"\x89PNG" if name.endswith("png") else b"%PDF-1.4\n")
    (folder / "old").mkdir()
    (folder / "old/chart.png").write_bytes(b"\x89PNG")
    discussion = folder / "paper/sections/04-discussion.tex"
    discussion.write_text(
        "\\includegraphics{map} \\includegraphics[width=2cm]{trend} \\includepdf[pages=-]{scans}\n"  # these exist
        "\\includegraphics{chart} \\includegraphics{photo}\n"  # only in a commented-out path; in {bare}
        "\\includepdf[pages=1,\n  pagecommand={\\section*{Declaration}}]{appendix/declaration.pdf}\n"
        "\\includepdf{decl} \\newcommand\\scan[1]{\\includepdf{scans/#1}}\n"  # in paper/ (TEXINPUTS); made by TeX
        "\\includegraphics{flow} \\includegraphics{scan} \\includegraphics{figures/Kw.png}\n"  # KW.png: see below
        "\\includegraphics{Figures/map.png}\n",  # kpathsea folds the case of file names only, never of folders
        encoding="utf-8",
    )
    findings, _ = lint_folder(folder)
    missing = [(f.line, f.message) for f in findings if f.code == "X004" and "discussion" in f.path]
    assert missing == [
        (2, "chart does not exist"),
        (3, "appendix/declaration.pdf does not exist"),
        *([] if casefold_search() else [(6, "figures/Kw.png does not exist")]),
        (7, "Figures/map.png does not exist"),
    ]
    assert not [f for f in findings if f.code == "P005"]


@needs_tex
def test_a_reference_whose_name_tex_makes_is_not_looked_up(tmp_path):
    # Language Science Press's localcommands.tex: \newcommand{\appref}[1]{Appendix \ref{#1}}, as for graphics (X004)
    folder = copy_fixture(tmp_path)
    (folder / "paper/sections/04-discussion.tex").write_text(
        "\\newcommand{\\appref}[1]{Appendix \\ref{#1}} See \\ref{no-such-label}.\n", encoding="utf-8"
    )
    missing = [f.message for f in lint_folder(folder)[0] if f.code == "X002"]
    assert missing == ["\\ref{no-such-label}: no such label"]


@needs_tex
def test_file_names_are_found_in_any_case_as_tex_lives_kpathsea_does(tmp_path):
    # texmf.cnf: texmf_casefold_search = 1, "fall back to case-insensitive search ... if there is no exact match"
    # (real documents: \includegraphics{Kw.png} for KW.png, \include{chapters/chapter4} for Chapter4.tex, which
    # pdflatex reads). The folder's case must match; the exact name wins when both exist.
    assert casefold_search()  # TeX Live's default, read from its texmf.cnf
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/Chapter4.tex").write_text("\\label{Chapter4}Chapter four.\n", encoding="utf-8")
    path = tmp_path / "s.tex"
    path.write_text("\\include{chapters/chapter4}\n\\include{Chapters/chapter4}\n", encoding="utf-8")
    assert problems_and_text(path, tmp_path) == ([("P005", 2)], ["Chapter four."])
    (tmp_path / "chapters/chapter4.tex").write_text("Exact.\n", encoding="utf-8")
    assert first_file("chapters/chapter4", [tmp_path], (".tex",)) == tmp_path / "chapters/chapter4.tex"


@needs_tex
def test_graphics_extensions_are_the_ones_pdftex_tries_in_its_order():
    # pdftex.def's own list, read from the installed TeX Live: the lint must find what pdflatex finds (a .mps or
    # .PNG figure), in their order.
    pdftex_def = Path(subprocess.run(["kpsewhich", "pdftex.def"], capture_output=True, text=True).stdout.strip())
    listed = re.search(r"\\def\\Gin@extensions\{%?\s*([^}]*)\}", pdftex_def.read_text(encoding="latin-1"))
    assert listed, "pdftex.def no longer lists \\Gin@extensions as it did"
    pdftex = [name.strip(" %\n") for name in listed.group(1).split(",")]
    assert list(GRAPHICS_EXTENSIONS) == ["", *pdftex, ".eps"]


@needs_tex
def test_included_files_are_followed_with_their_own_lines(tmp_path):
    folder = copy_fixture(tmp_path)
    findings, _ = lint_folder(folder)
    assert "X002" not in [f.code for f in findings]  # \ref{sec:method}: the label is in the included file
    (folder / "paper/sections/discussion-body.tex").write_text("% nothing yet\n", encoding="utf-8")
    (folder / "paper/sections/01-introduction.tex").write_text(
        "Intro. \\input{sections/nowhere}\n\\include{gone}\n\\include{nodir/gone}\n"
    )
    findings = lint_folder(folder)[0]
    codes = {(f.code, f.path, f.line) for f in findings}
    assert ("T003", "paper/sections/04-discussion.tex", 1) in codes  # only an \input of an empty file
    missing = [(f.path, f.line, f.message) for f in findings if f.code == "P005"]
    assert missing == [  # TeX stops at a missing \input; at a missing \include, LaTeX only warns
        ("paper/sections/01-introduction.tex", 1, "\\input{sections/nowhere}: no such file"),
        (
            "paper/sections/01-introduction.tex",
            2,
            "\\include{gone}: no such file (LaTeX warns and leaves it out of the PDF)",
        ),
        # no folder nodir/: LaTeX cannot write nodir/gone.aux and stops
        ("paper/sections/01-introduction.tex", 3, "\\include{nodir/gone}: no such file"),
    ]


@needs_tex
def test_natbib_and_biblatex_citations_are_seen(tmp_path):
    folder = copy_fixture(tmp_path)
    findings = cite_instead_of_nocite(folder, "\\citet{nobody2000} \\citep[see][]{luo2014}")
    assert citation_findings(findings) == [
        ("C001", "citation key 'nobody2000' is not in paper/references.bib"),
        ("C002", "entry 'uncited' is never cited"),  # without \nocite{*}; fse2014 is used through a crossref
    ]
    cited = {m.name for m in read_source(folder / "paper/sections/01-introduction.tex", folder).macros}
    assert {"citep", "citet", "citeauthor", "citeyear", "cites"} <= cited


@needs_tex
def test_a_citation_of_an_ids_alias_cites_its_entry(tmp_path):
    # biblatex's `ids` field: other keys the entry may be cited by (Language Science Press books use it).
    folder = copy_fixture(tmp_path)
    bib = folder / "paper/references.bib"
    aliased = bib.read_text().replace("@online{uncited,", "@online{uncited,\n  ids = {www2020, web:2020},")
    # a crossref may name its parent by an alias too: fse2014 is then used, not "never cited"
    bib.write_text(
        aliased.replace("crossref  = {fse2014}", "crossref  = {FSE-14}").replace(
            "@proceedings{fse2014,", "@proceedings{fse2014,\n  ids = {FSE-14},"
        )
    )
    findings = cite_instead_of_nocite(folder, "\\parencite{web:2020} \\cite{www2021}")
    assert citation_findings(findings) == [
        ("C001", "citation key 'www2021' is not in paper/references.bib"),  # no entry has this alias
    ]


@needs_tex
def test_the_papers_own_citation_commands_cite(tmp_path):
    # \\DeclareCiteCommand in the paper's own .sty, as in saglam-obfuscation-2025's bibliography.sty
    folder = copy_fixture(tmp_path)
    style = folder / "paper/macros.sty"
    style.write_text(style.read_text() + "\\DeclareCiteCommand{\\fancycite}{}{\\printnames{labelname}}{}{}\n")
    findings = cite_instead_of_nocite(folder, "\\fancycite[p.~2]{uncited} \\fancycite{nobody}")
    assert citation_findings(findings) == [
        ("C001", "citation key 'nobody' is not in paper/references.bib"),
    ]


@needs_tex
def test_a_cite_macro_that_nothing_readable_defines_still_cites(tmp_path):
    # \\posscitet of Language Science Press's class, which is not installed here (target-language-beliefs-2021)
    findings = cite_instead_of_nocite(copy_fixture(tmp_path), "\\posscitet{uncited}")
    assert citation_findings(findings) == []
    assert "unknown macro \\posscitet" in " ".join(f.message for f in findings if f.code == "P003")


@needs_biber
def test_biblatex_data_model_date_journaltitle_crossref_and_online():
    text = (FIXTURE / "paper/references.bib").read_text(encoding="utf-8")
    entries, repeats, errors = parse_bib(text, data_model())
    assert (repeats, errors) == ([], [])
    assert missing_fields(entries, data_model()) == []  # date for year, journaltitle, crossref, online+doi
    without_parent = text.replace("crossref  = {fse2014},", "")
    entries, _, _ = parse_bib(without_parent, data_model())
    assert sorted((e.key, what) for e, what in missing_fields(entries, data_model())) == [
        ("luo2014", "booktitle"),
        ("luo2014", "date or year"),
    ]
    legacy = "@conference{c,\n author={A, B},\n title={T},\n booktitle={B},\n year=2000}\n"
    entries, _, _ = parse_bib(legacy, data_model())  # @conference is biber's alias of @inproceedings
    assert entries[0].type == "conference" and missing_fields(entries, data_model()) == []


@needs_biber
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Each one is also reported by `biber --tool --validate-datamodel`: a real gap in biblatex's model.
        ("biblatex-examples.bib", [("jcg", "editor"), ("vizedom:related", "author")]),
        (
            "xampl.bib",
            [
                ("booklet-minimal", "author or editor"),
                ("booklet-minimal", "date or year"),
                ("inbook-full", "booktitle"),
                ("inbook-minimal", "booktitle"),
                ("incollection-minimal", "editor"),
                ("manual-minimal", "date or year"),
                ("misc-minimal", "date or year"),
                ("misc-minimal", "title"),
                ("random-note-crossref", "date or year"),
                ("random-note-crossref", "title"),
                ("unpublished-minimal", "date or year"),
                ("whole-collection", "author"),
                ("whole-journal", "author"),
                ("whole-journal", "title"),
            ],
        ),
    ],
)
def test_tex_lives_own_bibliographies_against_the_data_model(name, expected):
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True, check=False).stdout.strip()
    if not found:
        pytest.skip(f"{name} is not installed")
    entries, _, errors = parse_bib(Path(found).read_text(encoding="utf-8", errors="replace"), data_model())
    assert errors == []
    assert sorted((e.key, what) for e, what in missing_fields(entries, data_model())) == expected


def test_a_syntax_error_after_a_repeated_key_is_b001_at_its_line_and_nothing_is_printed(tmp_path, capfd):
    bib = (
        "@article{a,\n  author = {A, B},\n  title = {T},\n  journal = {J},\n  year = {2000}\n}\n\n"
        "@article{a,\n  author = {A, B},\n  title = {T},\n  journal = {J},\n  year = {2000}\n}\n\n"
        "@article{b,\n  author = {A, B}\n  title = {T}\n}\n"
    )
    _, repeats, errors = parse_bib(bib, data_model())
    assert repeats == [("a", 8, 1)]
    assert [line for line, _ in errors] == [17]
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_biblatex_extended_names_parse_and_a_bad_name_is_b001_at_its_entry():
    # Real .bib files: biber reads biblatex's extended name format (Biber/Input/file/bibtex.pm, parsename_x), pybtex
    # says "Too many commas"; and a name with too many commas was reported at line 1, not at its entry.
    bib = (
        "@book{spek,\n  author = {family=Spek, given=Erik D., prefix=van der, useprefix=true\n"
        "    and family=O'Neil, given=A.},\n"
        "  title = {T},\n  publisher = {P},\n  year = {2019}\n}\n\n"
        "@article{chen,\n  title = {T},\n"
        "  author = {Chen, Jing \\{and\\}\n    Du, Haitao, Meiling \\{and\\} Shao},\n"
        "  journal = {J},\n  year = {2021}\n}\n\n"
        "@online{ft,\n  author = {, Financial Times},\n  title = {T},\n  url = {https://ft.com},\n  year = {2020}\n}\n"
    )
    entries, _, errors = parse_bib(bib, data_model())
    assert [entry.key for entry in entries] == ["spek", "chen", "ft"]
    assert [(line, message.split(" in ")[0]) for line, message in errors[:1]] == [(9, "Too many commas")]
    # BibTeX does not know the extended format (bibtex: 2 errors on it): without biblatex it is B001
    _, _, bibtex_errors = parse_bib(bib, data_model(), extended_names=False)
    assert [line for line, message in bibtex_errors if "Too many commas" in message] == [1, 9]
    # biber stops with "Caught signal: SEGV" on a name with nothing before its comma (a real .bib; checked by hand)
    assert errors[1:] == [
        (
            17,
            "author ', Financial Times' has no family name before its comma: biber crashes when the entry is cited; "
            "write a body as {Name of Body}",
        )
    ]


def test_an_input_file_name_in_quotes_is_found(tmp_path):
    # \input{"appendix.tex"}: LaTeX takes the quotes off (latex.ltx, \unquote@name), as a real paper relies on
    (tmp_path / "appendix.tex").write_text("Appendix text.\n", encoding="utf-8")
    path = tmp_path / "s.tex"
    path.write_text('\\input{"appendix.tex"}\n\\input{"missing"}\n', encoding="utf-8")
    assert problems_and_text(path, tmp_path) == ([("P005", 2)], ["Appendix text."])


def test_findings_point_at_the_entrys_own_line(tmp_path):
    entries, _, _ = parse_bib("% note\n\n\n@misc{x,\n  title = {T}\n}\n", data_model())
    assert entries[0].line == 4


@needs_tex
def test_a_section_id_under_lint_must_exist(tmp_path):
    folder = copy_fixture(tmp_path)
    edit_lint_settings(folder, research_questions_section="questionz", answer_sections=["results", "conclusion"])
    findings, _ = lint_folder(folder)
    settings = [(f.code, f.line, f.message.split(",")[0]) for f in findings if f.code == "S001"]
    lines = (folder / "paper/metadata.yaml").read_text().splitlines()
    assert [code for code, *_ in settings] == ["S001", "S001"]
    assert any(
        "questionz" in message and "research_questions_section" in lines[line - 1] for _, line, message in settings
    )
    assert any("conclusion" in message for *_, message in settings)


@needs_tex
def test_several_lists_in_the_research_questions_section(tmp_path):
    folder = copy_fixture(tmp_path)
    questions = folder / "paper/sections/02-questions.tex"
    questions.write_text(questions.read_text() + "Also:\n\\begin{itemize}\n  \\item A second list.\n\\end{itemize}\n")
    findings, _ = lint_folder(folder)
    assert [(f.code, f.path, f.line) for f in findings if f.code == "S002"] == [
        ("S002", "paper/sections/02-questions.tex", 3)
    ]


# rqlist: a list of the paper's own, \newlist{rqlist}{enumerate}{1} in its preamble (enumitem)
@pytest.mark.parametrize("environment", ["description", "compactenum", "enumerate*", "rqlist"])
def test_questions_listed_in_any_kind_of_list_are_read(tmp_path, environment):
    # A description list, "\\item[RQ 1.] How ...?", as in a Language Science Press chapter of the corpus.
    path = tmp_path / "questions.tex"
    path.write_text(
        f"We ask:\n\\begin{{{environment}}}\n  \\item[RQ 1.] How often do tests fail?\n"
        f"  \\item[RQ 2.] Which causes make tests flaky?\n\\end{{{environment}}}\n"
    )
    source = read_source(path, tmp_path)
    assert [(line, text) for line, text, _ in source.items] == [
        (3, "How often do tests fail?"),
        (4, "Which causes make tests flaky?"),
    ]
    assert source.lists == 1


@needs_tex
def test_root_lints_another_folder_from_the_command_line(tmp_path):
    folder = copy_fixture(tmp_path)
    command = [sys.executable, "-m", "scripts.stages.lint", "--root", str(folder), "--json", str(tmp_path / "r.json")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1  # the fixture's one P001 is an error
    assert "paper/sections/03-results.tex:3:23: error P001" in result.stdout
    assert result.stderr == ""
    via_metadata = [sys.executable, "-m", "scripts.stages.lint", "--metadata", str(folder / "paper/metadata.yaml")]
    result = subprocess.run(via_metadata, cwd=ROOT, capture_output=True, text=True, check=False)
    assert "missing required key 'title'" in result.stderr  # the full schema, but the folder's own files


@needs_biber
@pytest.mark.skipif(shutil.which("biber") is None, reason="biber is not installed")
def test_every_c003_on_xampl_is_also_found_by_biber_itself(tmp_path):
    """biber's own validation (which does not resolve crossref in tool mode) reports a superset of C003."""
    found = subprocess.run(["kpsewhich", "xampl.bib"], capture_output=True, text=True, check=False).stdout.strip()
    if not found:
        pytest.skip("xampl.bib is not installed")
    shutil.copy(found, tmp_path / "xampl.bib")
    command = ["biber", "--tool", "--validate-datamodel", "--output-directory", str(tmp_path), "xampl.bib"]
    log = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False).stdout
    pattern = r"Entry '([^']+)'.*Missing mandatory field (?:- one of )?'([^']+)'"
    biber = {(key, fields.replace(", ", " or ")) for key, fields in re.findall(pattern, log)}
    entries, _, _ = parse_bib((tmp_path / "xampl.bib").read_text(encoding="utf-8"), data_model())
    ours = {(entry.key, what) for entry, what in missing_fields(entries, data_model())}
    assert ours and ours <= biber
    assert ("article-crossref", "journaltitle") in biber - ours  # inherited from its crossref parent


def test_a_skipped_listing_does_not_end_its_paragraph(tmp_path):
    path = tmp_path / "s.tex"
    path.write_text("Before the listing\n\\begin{lstlisting}\nint x = {;\n\\end{lstlisting}\nafter it.\n\nNext.\n")
    source = read_source(path, tmp_path)
    assert [(p.line, p.text) for p in source.paragraphs] == [(1, "Before the listing after it."), (7, "Next.")]
    assert source.problems == []


def test_a_commented_out_field_is_a_comment_as_biber_reads_it():
    bib = (
        "@article{a,\n  author = {A, B}, % and others\n  title = {T},\n%  doi = {10.1/x},\n  journal = {J},\n"
        "  url = {https://example.org/a%20b},\n  year = {2000}\n}\n"
    )
    entries, _, errors = parse_bib(bib, data_model())
    assert errors == [] and [entry.key for entry in entries] == ["a"]
    assert "doi" not in entries[0].fields
    assert entries[0].raw.fields["url"] == "https://example.org/a%20b"


def test_a_percent_sign_at_the_start_of_a_quoted_value_is_the_value():
    """INSPIRE exported `SLACcitation = "%%CITATION = ...;%%"` for years (279 false B001 in one real thesis);
    biber reads it as the value. A % after a closing quote is still a comment."""
    bib = (
        '@article{a,\n  author = "A, B",\n  title = "T", % a comment\n  journal = "J",\n  year = "2000",\n'
        '  SLACcitation = "%%CITATION = ASJOA,304,15;%%",\n  note = "x" # "%y"\n}\n'
    )
    entries, _, errors = parse_bib(bib, data_model())
    assert errors == [] and [entry.key for entry in entries] == ["a"]
    assert entries[0].raw.fields["SLACcitation"] == "%%CITATION = ASJOA,304,15;%%"
    assert entries[0].raw.fields["note"] == "x%y"
    assert entries[0].raw.fields["title"] == "T"


def test_many_syntax_errors_each_stay_in_their_own_paragraph(tmp_path):
    paragraphs = [f"Paragraph {n} {{broken" if n % 2 else f"Paragraph {n} is fine." for n in range(30)]
    path = tmp_path / "s.tex"
    path.write_text("\n\n".join(paragraphs) + "\n")
    source = read_source(path, tmp_path)
    assert [p.text for p in source.paragraphs] == [text.replace("{", "") for text in paragraphs]
    assert [(p.code, p.line) for p in source.problems] == [("P001", 2 * n + 1) for n in range(1, 30, 2)]


def test_after_a_syntax_error_groups_that_span_paragraphs_are_not_reported(tmp_path):
    # Found on real documents (knitr's `{\centering ... }` around a figure, `\small{` + a table + `}`, a footnote of
    # two paragraphs): once one error was found, each paragraph's braces were checked alone, and every such group
    # gave a { never closed and a } closing nothing. Only what the whole file leaves unbalanced is an error.
    path = tmp_path / "s.tex"
    path.write_text(
        "One broken } paragraph.\n\n"
        "{\\centering\n\\includegraphics{a}\n\n}\n\n"
        "\\small{\n\n\\begin{tabular}{l}x\\end{tabular}\n\n}\n\n"
        "Text\\footnote{First.\n\nSecond.} and one {never closed.\n",
        encoding="utf-8",
    )
    problems = read_source(path, tmp_path).problems
    assert [(p.code, p.line, p.col, p.message) for p in problems] == [
        ("P001", 1, 12, "a } closes nothing"),
        ("P001", 16, 18, "a { is never closed"),
    ]


def test_definitions_need_not_pair_begin_and_end_and_alltt_prints_dollars(tmp_path):
    # Real documents: \newenvironment{langscibars}{\begin{axis}[...]}{\end{axis}} (Language Science Press),
    # \renewenvironment{thebibliography}[1]{%...\begin{oldthebibliography}{#1}}%{\end{oldthebibliography}}, and
    # knitr's code chunks in alltt, where $ is printed as it is (alltt.sty makes it an ordinary character)
    path = tmp_path / "s.tex"
    path.write_text(
        "\\newenvironment{bars}{\\begin{axis}[ybar]}{\\end{axis}}\n"
        "\\renewenvironment{thebibliography}[1]{%\n  \\begin{oldthebibliography}{#1}%\n}%\n{%\n"
        "  \\end{oldthebibliography}%\n}\n"
        "\\newcommand{\\bi}{\\begin{itemize}} \\newcommand*\\ei{\\end{itemize}} \\def\\x#1\\@nil{\\begin{center}#1}\n\n"
        "\\begin{alltt}\n\\hlstd{df}\\hlopt{$}\\hlstd{x} 50% \\hlopt{&} \\{\n\\end{alltt}\n\n"
        "Then \\begin{itemize}\\item a real list\\end{itemize} and $x$.\n",
        encoding="utf-8",
    )
    source = read_source(path, tmp_path)
    assert source.problems == []
    assert [m.name for m in source.macros if m.name.startswith("hl")] == ["hlstd", "hlopt", "hlstd", "hlopt"]
    assert source.lists == 1  # the real itemize is still an environment
    # a comment changes nothing (found in review): one naming \begin{alltt}, a % \z, a } in a definition's body
    path.write_text(
        "% \\begin{alltt} in a comment\nText $x$ and {a} % a } in a comment\n\n"
        "\\newcommand{\\x}{% a } here\n\\begin{itemize}}\n\n\\begin{exe}\\ex one % \\z\n\\end{exe}\n",
        encoding="utf-8",
    )
    assert read_source(path, tmp_path).problems == []
    path.write_text("\\newcommand{\\bi}{\\begin{itemize}}\n\nBroken {here.\n", encoding="utf-8")
    assert [p.code for p in read_source(path, tmp_path).problems] == ["P001"]  # a real error stays one


def test_a_section_that_ends_with_a_line_break_parses(tmp_path):
    """A chapter may end with \\\\ (the next file goes on); pylatexenc alone fails on it at the end of input."""
    path = tmp_path / "s.tex"
    path.write_text("Last line of the chapter.\\\\\n", encoding="utf-8")
    source = read_source(path, tmp_path)
    assert (source.problems, [p.text for p in source.paragraphs]) == ([], ["Last line of the chapter."])
    path.write_text("Last line of the chapter.\\\\", encoding="utf-8")
    assert read_source(path, tmp_path).problems == []
    path.write_text("Last line of the chapter.\\\\\n% the next chapter follows\n", encoding="utf-8")
    assert read_source(path, tmp_path).problems == []


def test_natbib_citation_aliases_are_citations(tmp_path):
    path = tmp_path / "s.tex"
    path.write_text("As \\citetalias{unep2018} showed \\citepalias[p. 3]{fao2020}.\n", encoding="utf-8")
    macros = read_source(path, tmp_path).macros
    assert [(m.name, m.arguments) for m in macros] == [("citetalias", ["unep2018"]), ("citepalias", ["fao2020"])]


@needs_tex
def test_size_commands_are_known_whatever_the_class_and_a_preambles_input_is_read(tmp_path):
    """Every class defines \\small and the other sizes (standard ones through size1x.clo); a class that is not
    installed here does not make them unknown. Macros in a file that the preamble \\inputs are the paper's."""
    paper = tmp_path / "paper"
    (paper / "generated").mkdir(parents=True)
    (paper / "preamble.tex").write_text(
        "\\documentclass{no-such-class-here}\n\\input{paper/generated/numbers.tex}\n", encoding="utf-8"
    )
    (paper / "generated/numbers.tex").write_text("\\newcommand{\\vAccuracy}{0.93}\n", encoding="utf-8")
    known = known_macros(paper, [], {})
    assert {"small", "footnotesize", "normalsize", "large", "vAccuracy"} <= known.names
    assert known.not_installed == ("no-such-class-here.cls",)


@needs_tex
def test_tikz_libraries_are_read_tikz_or_pgf(tmp_path):
    """\\usetikzlibrary{spy} defines \\spy (tikzlibraryspy.code.tex); arrows.meta is a pgf library
    (pgflibraryarrows.meta.code.tex), installed, so not reported as missing."""
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "preamble.tex").write_text("\\usepackage{tikz}\n\\usetikzlibrary{spy, arrows.meta}\n", encoding="utf-8")
    known = known_macros(paper, [], {})
    assert "spy" in known.names
    assert known.not_installed == ()


def test_an_error_in_the_last_paragraph_is_one_problem_there(tmp_path):
    """Whether or not the file ends with \\\\ (END_GUARD), an unclosed $ in its last paragraph is one P001 and
    the paragraphs before it are read once; a \\section left at the very end still lacks its argument."""
    path = tmp_path / "s.tex"
    for ending in ("", " \\\\"):
        path.write_text(f"First paragraph \\cite{{a}}.\n\nSecond paragraph $x+1{ending}\n", encoding="utf-8")
        source = read_source(path, tmp_path)
        assert [p.code for p in source.problems] == ["P001"], ending
        assert [p.text for p in source.paragraphs] == ["First paragraph .", "Second paragraph"], ending
    path.write_text("Text.\n\\section\n", encoding="utf-8")
    assert [p.code for p in read_source(path, tmp_path).problems] == ["P001"]


def test_a_preamble_input_cycle_is_read_once(tmp_path):
    """paper/c.tex inputs sub/b, and paper/sub/b.tex inputs ../sub/b (itself, spelled otherwise)."""
    paper = tmp_path / "paper"
    (paper / "sub").mkdir(parents=True)
    (paper / "c.tex").write_text("\\input{sub/b}\n", encoding="utf-8")
    (paper / "sub/b.tex").write_text("\\newcommand{\\once}{1}\\input{../sub/b}\n", encoding="utf-8")
    files = paper_files(paper)
    assert len({path.resolve() for path in files}) == len(files) == 2


@needs_tex
def test_the_papers_own_packages_in_its_folders_are_read(tmp_path):
    """\\usepackage{customizations/custom} loads paper/customizations/custom.sty (TeX finds it through
    TEXINPUTS=./paper:): its macros are the paper's, and it is not reported as not installed."""
    paper = tmp_path / "paper"
    (paper / "customizations").mkdir(parents=True)
    (paper / "preamble.tex").write_text("\\usepackage{customizations/custom}\n", encoding="utf-8")
    (paper / "customizations/custom.sty").write_text("\\newcommand{\\rqref}[1]{RQ#1}\n", encoding="utf-8")
    known = known_macros(paper, [], {})
    assert "rqref" in known.names
    assert known.not_installed == ()


def test_unknown_macros_of_a_class_not_installed_here_are_reported_once_each(tmp_path):
    """With a class that is not installed here, each unknown name is one P003 with its count (the class most
    likely defines it); with everything installed, every use is reported, as TeX would stop at each."""
    section = tmp_path / "s.tex"
    section.write_text("\\ex{a} and \\ex{b}.\n\n\\isi{c}, then \\ex{d}.\n", encoding="utf-8")
    sources = {"s": read_source(section, tmp_path)}
    missing = unknown_macros(sources, KnownMacros(frozenset(), ("langscibook.cls",)))
    assert [(f.line, f.message.split(":")[0]) for f in missing] == [
        (1, "unknown macro \\ex (used 3 times, reported once)"),
        (3, "unknown macro \\isi"),
    ]
    assert all("not installed here, so not read: langscibook.cls" in f.message for f in missing)
    installed = unknown_macros(sources, KnownMacros(frozenset(), ()))
    assert [(f.line, f.col, f.message) for f in installed] == [
        (1, 1, "unknown macro \\ex: TeX fails unless a package defines it"),
        (1, 12, "unknown macro \\ex: TeX fails unless a package defines it"),
        (3, 1, "unknown macro \\isi: TeX fails unless a package defines it"),
        (3, 15, "unknown macro \\ex: TeX fails unless a package defines it"),
    ]


@needs_tex
def test_a_file_the_preamble_inputs_must_exist_here_or_in_tex_live(tmp_path):
    """TeX stops at a preamble's top-level \\input of a missing file, braced or not: P005 at its line. TeX Live's
    own files (with or without a folder), the paper's files and a filecontents environment's are no finding, and
    neither is an \\input inside a group (definitions, \\IfFileExists branches on their own lines, as a Language
    Science Press chapter's ../localpackages), nor a body file beside the metadata (its P005 comes from the
    section that includes it)."""
    paper = tmp_path / "paper"
    (paper / "generated").mkdir(parents=True)
    (paper / "generated/numbers.tex").write_text("\\newcommand{\\vAccuracy}{0.93}\n", encoding="utf-8")
    (paper / "appendix.tex").write_text("\\input{missing-table}\n", encoding="utf-8")
    (paper / "preamble.tex").write_text(
        "\\documentclass{article}\n"
        "\\input{glyphtounicode}\\input{pgf/utilities/pgfutil-common.tex}\n"
        "\\input{paper/generated/numbers.tex}\n"
        "% \\input{commented-out}\n"
        "\\IfFileExists{../localcommands.tex}{\n  \\input{../localpackages}\n}\n  {\\input{fallback-settings}}\n"
        "\\newcommand\\loadextra{\\input{extra-not-here}}\n"
        "\\begin{filecontents*}[overwrite]{gen-macros.tex}\n\\newcommand{\\genA}{1}\n\\end{filecontents*}\n"
        "\\input{gen-macros}\n"
        "  \\input{paper/generated/missing-numbers}\n"
        "\\input no-such-file-either\n",
        encoding="utf-8",
    )
    found = missing_preamble_inputs(paper, tmp_path, body=[paper / "appendix.tex"])
    assert [(Path(f.path).name, f.line, f.col, f.code, f.severity) for f in found] == [
        ("preamble.tex", 14, 3, "P005", "error"),
        ("preamble.tex", 15, 1, "P005", "error"),
    ]
    assert [f.message for f in found] == [
        "\\input{paper/generated/missing-numbers}: no such file, here or in TeX Live",
        "\\input{no-such-file-either}: no such file, here or in TeX Live",
    ]
    assert [f.path for f in missing_preamble_inputs(paper, tmp_path)].count((paper / "appendix.tex").as_posix()) == 1


def test_fontspec_font_commands_are_definitions():
    """fontspec defines its first argument: \\NewDocumentCommand \\newfontfamily { m O{} m O{} } (fontspec-xetex.sty),
    and the same for \\newfontface and the renew, provide and set forms (a real report's \\MinionPro: 21 false P003)."""
    text = (
        "\\newfontfamily{\\Alt}{lmsans10-regular.otf} \\newfontfamily\\AltB[Scale=0.9]{b.otf}\n"
        "\\newfontface\\AltC{c.otf} \\renewfontfamily\\AltD{d.otf} \\setfontface{\\AltE}{e.otf}\n"
        "\\providefontfamily\\AltF{f.otf} \\setmainfont{g.otf}\n"
    )
    assert {"Alt", "AltB", "AltC", "AltD", "AltE", "AltF"} <= defined_in(text)
    assert "setmainfont" not in defined_in(text)


def test_a_subfile_needs_no_end_document(tmp_path):
    """subfiles.sty skips a subfile's preamble up to \\begin{document} and makes its \\end{document} an \\endinput,
    so pdflatex builds the main document whether or not the subfile ends its document (a real course report)."""
    (tmp_path / "ch").mkdir()
    body = "\\documentclass[../main.tex]{subfiles}\n\\newcommand{\\gl}{G}\n\\begin{document}\nGlossary text here.\n"
    for ending in ("", "\\end{document}\nNotes TeX never reads: \\ref{gone} and $x\n"):
        (tmp_path / "ch/g.tex").write_text(body + ending, encoding="utf-8")
        (tmp_path / "s.tex").write_text("Before the glossary.\n\n\\subfile{ch/g}\n\nAfter it.\n", encoding="utf-8")
        source = read_source(tmp_path / "s.tex", tmp_path)
        assert [p.code for p in source.problems] == [], ending
        assert [(p.path, p.line, p.text) for p in source.paragraphs] == [
            ("s.tex", 1, "Before the glossary."),
            ("ch/g.tex", 4, "Glossary text here."),
            ("s.tex", 5, "After it."),
        ], ending
    (tmp_path / "s.tex").write_text("\\begin{document}\nA section that opens a document.\n", encoding="utf-8")
    assert [p.code for p in read_source(tmp_path / "s.tex", tmp_path).problems] == ["P001"]


def test_a_field_given_twice_in_a_repeated_entry_is_reported_at_that_entry_by_its_own_key():
    """The lint renames a repeated key so that pybtex reads on; a message about the repeat names its real key and
    line (a real thesis showed `KEY--repeated-on-line-N` at the first copy's line)."""
    bib = (
        "@misc{a,\n  title = {T},\n  year = {2000}\n}\n\n"
        "@misc{a,\n  title = {T},\n  keywords = {x},\n  keywords = {y},\n  year = {2000}\n}\n"
    )
    _, repeats, errors = parse_bib(bib, data_model())
    assert repeats == [("a", 6, 1)]
    assert errors == [(6, "entry with key a has a duplicate keywords field")]


@needs_tex
def test_quoted_graphics_names_and_labels_with_commas_are_read_as_tex_reads_them(tmp_path):
    """graphics.sty takes the quotes off a name (\\unquote@name: 56 false X004 in a real thesis); the kernel's \\ref
    looks a label up whole, commas and all, and only cleveref's \\cref takes a list (2 false X002 in real notes)."""
    folder = copy_fixture(tmp_path)
    (folder / "figures/dir with space").mkdir(parents=True)
    (folder / "figures/dir with space/my fig.png").write_bytes(b"\x89PNG")
    (folder / "paper/sections/04-discussion.tex").write_text(
        '\\includegraphics{"figures/dir with space/my fig"} \\includegraphics{"figures/none"}'
        ' \\includegraphics{"figures/dir with space/my fig".png}\n'  # every quote goes, not only the outer ones
        "\\begin{equation}x\\label{p,q}\\end{equation} See \\ref{p,q}, \\eqref{p,q} and \\cref{p,q}.\n",
        encoding="utf-8",
    )
    findings, _ = lint_folder(folder)
    assert [(f.code, f.line, f.message) for f in findings if f.code in ("X002", "X004")] == [
        ("X004", 1, "figures/none does not exist"),
        ("X002", 2, "\\cref{p}: no such label"),
        ("X002", 2, "\\cref{q}: no such label"),
    ]


def test_braket_takes_one_argument_as_braket_sty_defines_it(tmp_path):
    """braket.sty: \\def\\braket#1{...}; with pylatexenc's two arguments, $\\braket{a|b}$ lost its closing $."""
    path = tmp_path / "s.tex"
    path.write_text("The overlap $\\braket{\\phi|\\psi}$ is small.\n", encoding="utf-8")
    assert read_source(path, tmp_path).problems == []


@needs_tex
def test_import_and_subimport_are_followed_with_their_folders(tmp_path):
    """import.sty: \\import{dir/}{file} from where TeX runs, \\subimport{dir/}{file} from the importing file's folder;
    graphics are found in the imported file's folder too (\\Ginput@path). A real thesis imported every chapter, so
    its labels were unknown (11 false X002) and its chapters were never read."""
    folder = copy_fixture(tmp_path)
    chapter = folder / "chapters/one"
    (chapter / "figure").mkdir(parents=True)
    (chapter / "figure/plot.png").write_bytes(b"\x89PNG")
    (chapter / "one.tex").write_text(
        "\\label{sec:one} One \\undefinedhere. \\includegraphics{figure/plot} \\subimport{parts/}{deep}\n",
        encoding="utf-8",
    )
    (chapter / "parts").mkdir()
    (chapter / "parts/deep.tex").write_text("\\label{sec:deep} Deep.\n", encoding="utf-8")
    (folder / "paper/sections/04-discussion.tex").write_text(
        "\\import{chapters/one/}{one} \\subimport{nowhere}{gone}\nSee \\ref{sec:one} and \\ref{sec:deep}.\n",
        encoding="utf-8",
    )
    findings, _ = lint_folder(folder)
    mine = ("chapters/one/one.tex", "chapters/one/parts/deep.tex", "paper/sections/04-discussion.tex")
    shown = [(f.code, f.path, f.line, f.message.split(":")[0]) for f in findings if f.path in mine]
    assert shown == [
        ("P003", "chapters/one/one.tex", 1, "unknown macro \\undefinedhere"),
        ("P005", "paper/sections/04-discussion.tex", 1, "\\subimport{nowhere/gone}"),
    ]


def test_a_label_in_display_maths_is_a_label_and_other_maths_macros_stay_unread(tmp_path):
    """LaTeX defines a \\label inside \\[ ... \\] (a real thesis numbered such displays: 1 false X002); the lint still
    reads no other macro in maths."""
    path = tmp_path / "s.tex"
    path.write_text("Start\n  \\[\\label{eq:a}\n  x = \\unknownmath 1 \\]\nSee \\ref{eq:a} and $y \\label{eq:b}$.\n")
    macros = read_source(path, tmp_path).macros
    assert [(m.name, m.arguments, m.line) for m in macros] == [
        ("label", ["eq:a"], 2),
        ("ref", ["eq:a"], 4),
        ("label", ["eq:b"], 4),
    ]


def test_a_papers_own_one_letter_macros_are_read_as_it_defines_them(tmp_path):
    """\\renewcommand{\\d}{\\mathrm{d}} (and \\u for a vector) take no argument, where pylatexenc reads the accents
    \\d{o} and \\u{o}: their argument was the closing $ (2 false P001 and, in the paragraph set aside, 5 lost labels
    in a real thesis). A class's \\renewcommand\\section{\\@startsection...} leaves \\section's title read."""
    preamble = (
        "\\renewcommand{\\d}{\\mathrm{d}}\n\\renewcommand\\u{\\mathbf{u}}\n"
        "\\renewcommand\\section{\\@startsection{section}{1}{0pt}{1ex}{1ex}{\\bfseries}}\n"
        "\\iffalse\\renewcommand{\\u}[1]{#1}\\fi % \\renewcommand{\\d}[1]{#1}\n"  # not read by TeX, not read here
    )
    own = own_specs([preamble])
    assert own == {("d", ""), ("u", "")}
    path = tmp_path / "s.tex"
    path.write_text("\\section{Flux}\\label{sec:flux}\nWe have $x = \\d t$ and $y = \\u$.\n", encoding="utf-8")
    source = read_source(path, tmp_path, own=own)
    assert source.problems == []
    assert [(m.name, m.arguments) for m in source.macros if m.name in ("section", "label")] == [
        ("section", ["Flux"]),
        ("label", ["sec:flux"]),
    ]
    assert [p.code for p in read_source(path, tmp_path).problems] == ["P001"]  # pylatexenc's own reading


def test_a_comment_after_a_value_that_ends_in_a_hash_or_an_equals_sign_is_a_comment():
    """Found in review: a closing quote after `C#` or `?id=` was taken for an opening one, and the comment after it
    for the value (B001, where biber reads both entries). An umlaut's \\" is no quote."""
    bib = (
        '@book{a,\n  title = "Learning C#", % from the publisher\n  author = "M{\\"u}ller, A", % umlaut\n'
        '  publisher = "P", year = "2000"\n}\n'
        '@online{b,\n  url = "http://x.org/?id=" % note\n  , title = "T", year = "2001"\n}\n'
    )
    entries, _, errors = parse_bib(bib, data_model())
    assert errors == [] and [entry.key for entry in entries] == ["a", "b"]
    assert entries[0].raw.fields["title"] == "Learning C#"


def test_a_warning_is_put_at_the_entry_whose_whole_key_it_names():
    """Found in review: the warning about `smith-2020` went to `smith`, whose key is a prefix of it."""
    bib = (
        "@misc{smith,\n  title = {T},\n  year = {2000}\n}\n\n@misc{smith-2020,\n  year = {2020},\n  year = {2021}\n}\n"
    )
    _, _, errors = parse_bib(bib, data_model())
    assert errors == [(6, "entry with key smith-2020 has a duplicate year field")]


@needs_tex
def test_imports_look_up_files_and_graphics_on_import_paths_as_import_sty_does(tmp_path):
    """Found in review (each checked with pdflatex): import.sty adds the path given to \\import, not the imported
    file's own folder, and \\subimport is relative to that path; \\input and graphics look there, and in the
    enclosing paths too. subfiles.sty's \\subfile{dir/name} is \\subimport{dir/}{name}."""
    folder = copy_fixture(tmp_path)
    chapters = folder / "chapters"
    (chapters / "parts").mkdir(parents=True)
    (chapters / "sec").mkdir()
    (chapters / "fig.pdf").write_bytes(b"%PDF-1.4\n")
    (chapters / "fig2.pdf").write_bytes(b"%PDF-1.4\n")
    (chapters / "b.tex").write_text("B.\n", encoding="utf-8")
    (chapters / "parts/intro.tex").write_text(
        "\\includegraphics{fig} \\input{b} \\subimport{sec/}{x}\n", encoding="utf-8"
    )
    (chapters / "sec/x.tex").write_text("\\includegraphics{fig} \\includegraphics{nofig}\n", encoding="utf-8")
    (chapters / "ch2.tex").write_text("\\includegraphics{fig2}\n", encoding="utf-8")
    (folder / "paper/sections/04-discussion.tex").write_text(
        "\\import{chapters/}{parts/intro} \\subfile{chapters/ch2}\n", encoding="utf-8"
    )
    findings, _ = lint_folder(folder)
    assert [(f.code, f.path, f.message) for f in findings if f.code in ("P005", "X004")] == [
        ("X004", "chapters/sec/x.tex", "nofig does not exist")
    ]
