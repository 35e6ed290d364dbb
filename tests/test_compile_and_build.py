"""Reading TeX logs and Snakemake output into one readable line."""

from pathlib import Path

import pytest

from scripts.commands.build import explain_failure, failed_logs, user_error_lines
from scripts.common import UserError
from scripts.stages.compile import (
    biber_problem,
    check_log,
    check_settled,
    first_error,
    locate,
    missing_file_hint,
    page_count,
    tex_environment,
    undefined,
    warning_counts,
)

LOG = """This is pdfTeX, Version 3.141592653-2.6-1.40.24
(./paper/sections/02-problem-statement.tex
./paper/sections/02-problem-statement.tex:3: Undefined control sequence.
l.3 The reality shows \\foo
                           {bar}
Here is how much of TeX's memory you used:
"""


def test_first_error_gives_section_file_line_and_context():
    problem = first_error(LOG)
    assert problem.where == "paper/sections/02-problem-statement.tex:3"
    assert problem.message == "Undefined control sequence."
    assert problem.context[0].startswith("l.3 The reality shows \\foo")


def test_missing_style_file_names_the_debian_package():
    problem = first_error("./build/tex/paper.tex:5: LaTeX Error: File `lmodern.sty' not found.\n")
    assert problem.message == "File `lmodern.sty' not found."
    assert "apt-get install lmodern" in missing_file_hint(problem.message)


def test_undefined_citations_and_references_are_found_once_each():
    log = (
        "LaTeX Warning: Citation 'nokey' on page 2 undefined on input line 7.\n"
        "LaTeX Warning: Citation 'nokey' on page 3 undefined on input line 9.\n"
        "LaTeX Warning: Reference `fig:gone' on page 4 undefined on input line 12.\n"
    )
    assert undefined("Citation", log) == ["nokey"]
    assert undefined("Reference", log) == ["fig:gone"]


def test_undefined_citation_is_reported_at_its_section_file_and_line(tmp_path):
    (tmp_path / "01-a.tex").write_text("One.\n\nTwo \\parencites[3]{gvalia2013}{nokey}.\n")
    assert locate("nokey", tmp_path) == f"{(tmp_path / '01-a.tex').as_posix()}:3"
    with pytest.raises(UserError) as caught:
        check_log("LaTeX Warning: Citation 'gvalia2013x' on page 2 undefined on input line 7.\n", "refs.bib")
    assert "citation key 'gvalia2013x' is not in refs.bib" in caught.value.message


@pytest.mark.parametrize(
    "warning",
    [
        "Package biblatex Warning: Please rerun LaTeX.",
        "Package biblatex Warning: Please (re)run Biber on the file:",
        "LaTeX Warning: Label(s) may have changed. Rerun to get cross-references right.",
        "Package rerunfilecheck Warning: File `paper.out' has changed. Rerun to get outlines right",
    ],
)
def test_a_last_run_that_asks_for_another_is_an_error(warning):
    log = f"(./paper.tex\n{warning}\n) )\nOutput written on paper.pdf (14 pages).\n"
    check_log(log, "refs.bib")  # what `make watch` checks after its single passes: not an error there
    with pytest.raises(UserError, match="TeX asks for another run"):
        check_settled(log, Path("build/tex/paper.log"))
    check_settled("Package rerunfilecheck Info: File `paper.out' has not changed.\n", Path("build/tex/paper.log"))


def test_page_count_from_the_log():
    assert page_count("Output written on build/tex/paper.pdf (15 pages, 133627 bytes).") == 15


def test_tex_runs_sandboxed_and_reproducible():
    env = tex_environment(1519862400, base={})
    assert env["openin_any"] == env["openout_any"] == "p"
    assert env["shell_escape"] == "f"
    assert env["SOURCE_DATE_EPOCH"] == "1519862400" and env["FORCE_SOURCE_DATE"] == "1"


SNAKEMAKE_OUTPUT = """Select jobs to execute...
Error in rule compile:
    message: None
    jobid: 2
    input: build/tex/paper.tex
    output: build/tex/paper.pdf
    log: build/logs/compile.log (check log file(s) for error details)
    shell:
        python -m scripts.stages.compile pdf ...
Removing output files of failed job compile since they might be corrupted:
"""


def test_failed_step_is_reported_as_its_own_error_line(tmp_path):
    (tmp_path / "build/logs").mkdir(parents=True)
    (tmp_path / "build/logs/compile.log").write_text(
        "Latexmk: ...\n"
        "error: paper/sections/02-x.tex:3: Undefined control sequence.\n"
        "  hint: TeX stopped after: \\foo\n"
    )
    assert failed_logs(SNAKEMAKE_OUTPUT) == [("compile", "build/logs/compile.log")]
    assert explain_failure(SNAKEMAKE_OUTPUT, root=tmp_path) == [
        "error: paper/sections/02-x.tex:3: Undefined control sequence.",
        "  hint: TeX stopped after: \\foo",
        "  log: build/logs/compile.log",
    ]


def test_a_crash_without_an_error_line_points_to_the_log(tmp_path):
    (tmp_path / "build/logs").mkdir(parents=True)
    (tmp_path / "build/logs/compile.log").write_text("Traceback (most recent call last):\n  ...\nKeyError: 'x'\n")
    assert explain_failure(SNAKEMAKE_OUTPUT, root=tmp_path)[0] == "error: step 'compile' failed unexpectedly"


def test_lock_means_another_build_is_running():
    assert (
        "another Snakemake run holds this folder"
        in explain_failure("LockException:\nError: Directory cannot be locked.")[0]
    )


def test_user_error_lines_keep_each_hint():
    assert user_error_lines("x\nerror: a:1: b\n  hint: c\nerror: d: e\n") == [
        "error: a:1: b",
        "  hint: c",
        "error: d: e",
    ]


def test_sections_exist():
    assert sorted(p.name for p in Path("paper/sections").glob("*.tex"))[0] == "01-introduction.tex"


def test_bib_syntax_error_is_reported_at_the_bib_line():
    blg = (
        "[622] Utils.pm:399> ERROR - BibTeX subsystem: /tmp/biber_tmp_2S9z/33e5_10717.utf8, line 27, "
        'syntax error: found "@misc", expected end of entry ("}" or ")") (skipping to next "@")\n'
    )
    problem = biber_problem(blg, "paper/references.bib")
    assert problem.where == "paper/references.bib:27"
    assert problem.message.startswith('biber: syntax error: found "@misc"')
    assert biber_problem("[1] Biber.pm:135> INFO - ERRORS: 0\n", "x.bib") is None


def test_box_and_font_warnings_are_counted():
    log = (
        "Overfull \\hbox (12.3pt too wide) in paragraph at lines 3--5\n"
        "Overfull \\hbox (1.0pt too wide) in paragraph at lines 9--9\n"
        "Underfull \\vbox (badness 10000) has occurred while \\output is active\n"
        "LaTeX Font Warning: Font shape `T1/ptm/m/scit' undefined\n"
        "Package biblatex Warning: Please rerun LaTeX.\n"
    )
    assert warning_counts(log) == {"overfull boxes": 2, "underfull boxes": 1, "font warnings": 1, "other warnings": 1}
