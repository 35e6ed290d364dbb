"""The structure lint: a clean fixture paper, one broken copy per check, and the real paper's report."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from scripts.common import ROOT
from scripts.stages.lint.__main__ import run_lint
from scripts.stages.lint.checks import CHECKS
from scripts.stages.metadata import load_metadata

REAL = load_metadata(ROOT / "paper" / "metadata.yaml")
WORDS_150 = " ".join(["word"] * 150)
SECTIONS = {
    "introduction": (
        "Small states look for security \\parencite{doe2020}. Figure~\\ref{fig:neutrality-poll} and "
        "Figure~\\ref{fig:threat-perception} show the data.\n\n"
        "\\PaperFigure{neutrality-poll}\n\n\\PaperFigure{threat-perception}\n"
    ),
    "problem-statement": "The problem is how small states stay secure.\n",
    "research-questions": (
        "We ask:\n\\begin{itemize}\n  \\item Why do small states choose permanent neutrality?\n\\end{itemize}\n"
    ),
    "purpose": "We study why small states choose permanent neutrality.\n",
    "research-methods": "We compare case studies of neutral states \\parencite[12]{doe2020}.\n",
    "findings": "Small states choose permanent neutrality to stay out of wars. \\addresses{RQ1}\n",
    "conclusion": "Permanent neutrality is a choice small states make for security.\n",
    "references": "\\printbibliography[heading=none]\n",
}
BIB = (
    "@article{doe2020,\n  author = {Doe, Jane},\n  title = {Neutral States},\n"
    "  journal = {Journal},\n  year = {2020}\n}\n"
)


def make_paper(root: Path, sections=None, bib=BIB, change=None) -> tuple[dict, Path]:
    """A small paper that passes every check; `change(metadata)` then breaks one thing."""
    metadata = copy.deepcopy(REAL)
    metadata["title"] = "Small States and Neutrality"
    metadata["abstract"] = WORDS_150
    (root / "paper/sections").mkdir(parents=True)
    for section in metadata["sections"]:
        section["file"] = f"paper/sections/{section['id']}.tex"
        text = (sections or SECTIONS).get(section["id"])
        if text is not None:
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            (root / section["file"]).write_bytes(data)
    (root / "paper/references.bib").write_text(bib, encoding="utf-8")
    if change:
        change(metadata)
    (root / "paper/metadata.yaml").write_text(yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False))
    return metadata, root / "paper/metadata.yaml"


def lint(root: Path, pdf: Path | None = None, **kwargs):
    metadata, meta = make_paper(root, **kwargs)
    return run_lint(metadata, root, pdf, meta)


def blank_pdf(path: Path, pages: int) -> Path:
    """An A4 PDF of blank pages (the lint reads only its page count)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


def with_section(section_id: str, text) -> dict:
    return {**SECTIONS, section_id: text}


def test_clean_paper_has_no_findings(tmp_path):
    findings, coverage = lint(tmp_path)
    assert findings == []
    assert [q["id"] for q in coverage.questions] == ["RQ1"]


BROKEN = {
    "P001": {"sections": with_section("purpose", "We study {why small states.\n")},
    "P002": {"sections": with_section("purpose", b"We study caf\xe9 neutrality.\n")},
    "P003": {"sections": with_section("purpose", "We study \\undefinedthing neutrality.\n")},
    "P004": {"change": lambda m: m["sections"][1].update(file="paper/sections/missing.tex")},
    "P005": {"sections": with_section("purpose", "We study neutrality.\n\\input{sections/nowhere}\n")},
    "T001": {"change": lambda m: m["sections"].pop(5)},
    "T002": {"change": lambda m: m["sections"].insert(3, m["sections"].pop(4))},
    "T003": {"sections": with_section("problem-statement", "% only a comment\n")},
    "T004": {"change": lambda m: m.update(abstract="Too short.")},
    "T005": {"change": lambda m: m.update(title=" ".join(["Word"] * 13))},
    "T006": {"change": lambda m: m.update(keywords=["one"])},
    "T008": {"change": lambda m: m["sections"].insert(7, {**m["sections"][6], "id": "appendix"})},
    "R001": {"sections": with_section("research-questions", "We ask nothing in a list.\n")},
    "R002": {
        "sections": {
            **SECTIONS,
            "findings": "Tables list grain harvests by province.\n",
            "conclusion": "Rainfall varied by month.\n",
        }
    },
    "R003": {
        "sections": with_section("findings", "Small states choose permanent neutrality to stay out of wars.\n"),
        "change": lambda m: m["lint"].update(similarity={"addressed": 0.99, "weak": 0.01}),
    },
    "R004": {"sections": with_section("findings", "Small states choose neutrality. \\addresses{RQ9}\n")},
    "C001": {"sections": with_section("purpose", "As argued \\parencite{nobody1999}.\n")},
    "C002": {"bib": BIB + "@misc{extra2001,\n  author = {Roe, Rick},\n  year = {2001}\n}\n"},
    "C003": {"bib": BIB.replace("  journal = {Journal},\n", "")},
    "C004": {"bib": BIB.replace("  year = {2020}\n", "  year = {2020},\n  keywords = {unresolved}\n")},
    "C005": {"bib": BIB + BIB},
    "C006": {
        "bib": BIB + BIB.replace("doe2020", "doe2020b"),
        "sections": with_section("purpose", "See \\parencite{doe2020b}.\n"),
    },
    "C007": {"sections": with_section("purpose", "As Smith has shown (Smith, 2010), states differ.\n")},
    "B001": {"bib": "@article{doe2020,\n  author = {Doe, Jane\n  title = {Unclosed\n"},
    "S001": {"change": lambda m: m["lint"].update(answer_sections=["findings", "discussion"])},
    "S002": {
        "sections": with_section(
            "research-questions",
            SECTIONS["research-questions"] + "Also:\n\\begin{enumerate}\n  \\item Why not?\n\\end{enumerate}\n",
        )
    },
    "X001": {
        "sections": with_section(
            "introduction", SECTIONS["introduction"].replace("Figure~\\ref{fig:neutrality-poll} and ", "")
        )
    },
    "X002": {"sections": with_section("purpose", "As Figure~\\ref{fig:nothing} shows.\n")},
    "X003": {"change": lambda m: m["figures"][0].update(source="")},
    "X004": {"sections": with_section("purpose", "A logo: \\includegraphics{static/logo.png}\n")},
    "X005": {"sections": with_section("purpose", "\\PaperFigure{no-such-figure}\n")},
}


def test_every_check_has_a_failing_fixture():
    assert set(BROKEN) | {"T007"} == set(CHECKS)


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_each_check_catches_its_broken_fixture(tmp_path, code):
    findings, _ = lint(tmp_path, **BROKEN[code])
    caught = [f for f in findings if f.code == code]
    assert caught, codes(findings)
    assert all(f.severity == CHECKS[code][0] for f in caught)
    assert all(f.line >= 1 and not Path(f.path).is_absolute() for f in findings)


def test_page_count_outside_the_range_is_a_warning_once_the_pdf_exists(tmp_path):
    pdf = blank_pdf(tmp_path / "paper.pdf", pages=2)
    findings, _ = lint(tmp_path / "paper", pdf=pdf)
    assert [(f.code, f.severity) for f in findings] == [("T007", "warning")]
    assert "2 pages" in findings[0].message


def test_findings_point_to_file_line_and_column(tmp_path):
    findings, _ = lint(tmp_path, **BROKEN["C001"])
    (missing,) = [f for f in findings if f.code == "C001"]
    assert (missing.path, missing.line, missing.col) == ("paper/sections/purpose.tex", 1, 11)
    findings, _ = lint(tmp_path / "other", **BROKEN["T005"])
    (title,) = findings
    assert title.path.endswith("metadata.yaml")
    assert (tmp_path / "other" / title.path).read_text().splitlines()[title.line - 1].startswith("title:")


def test_a_check_can_be_switched_off_or_raised_with_a_reason(tmp_path):
    def settings_change(metadata):
        metadata["lint"]["checks"] = {
            "X001": {"severity": "off", "reason": "the published paper never refers to Figure 1"},
            "C004": {"severity": "error", "reason": "no unresolved references before submission"},
        }

    sections = BROKEN["X001"]["sections"]
    bib = BROKEN["C004"]["bib"]
    findings, _ = lint(tmp_path, sections=sections, bib=bib, change=settings_change)
    assert [(f.code, f.severity) for f in findings] == [("C004", "error")]


def test_bad_input_still_runs_the_other_checks(tmp_path):
    sections = {**SECTIONS, "purpose": b"{unclosed caf\xe9 \\parencite{nobody1999}\n"}
    findings, _ = lint(tmp_path, sections=sections, bib="@article{broken,\n")
    assert {"P001", "P002", "B001"} <= set(codes(findings))
    assert "X001" not in codes(findings) and "R002" not in codes(findings)  # the rest ran and passed


def test_the_real_paper(tmp_path):
    findings, coverage = run_lint(REAL, ROOT, None)
    assert [q["id"] for q in coverage.questions] == ["RQ1", "RQ2", "RQ3"]
    best = {
        q: {s: m[0]["file"].split("/")[-1] + f":{m[0]['line']}" for s, m in coverage.matches[q].items()}
        for q in coverage.matches
    }
    assert best["RQ1"]["findings"] == "06-findings.tex:1"
    assert best["RQ2"]["findings"] == "06-findings.tex:3"
    assert best["RQ3"]["findings"] == "06-findings.tex:5"
    assert best["RQ2"]["conclusion"] == "07-conclusion.tex:1"
    not_info = sorted((f.code, f.path, f.line) for f in findings if f.severity != "info")
    assert not_info == [  # every question is addressed in the findings: no R002/R003
        ("T005", "paper/metadata.yaml", 6),  # the published title has 14 words
        ("X001", "paper/metadata.yaml", 65),  # the published text never refers to Figure 1
    ]
    assert codes(f for f in findings if f.severity == "info") == ["C004"] * 15


def test_command_line_writes_reports_and_fails_only_on_errors(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.stages.lint",
            "--json",
            str(tmp_path / "r.json"),
            "--markdown",
            str(tmp_path / "r.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "paper/metadata.yaml:6:1: warning T005 title has 14 words" in result.stdout
    report = (tmp_path / "r.md").read_text()
    rq2_row = next(line for line in report.splitlines() if line.startswith("| RQ2 |"))
    assert "addressed by evidence" in rq2_row and "## Findings" in report
    assert '"error": 0' in (tmp_path / "r.json").read_text()


LATEX_ALPHABET = st.sampled_from(
    [*"ab {}[]\\%$&#_^~\n", "\\item", "\\begin{itemize}", "\\end{itemize}", "\\parencite{", "\\ref{", "\n\n", "é"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(LATEX_ALPHABET, max_size=60).map("".join))
def test_any_section_text_gives_a_report_not_a_crash(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("fuzz")
    findings, coverage = lint(root, sections={**SECTIONS, "findings": text, "research-questions": text})
    assert all(f.code in CHECKS and f.line >= 1 for f in findings)
    assert all(q["id"] in coverage.matches for q in coverage.questions)


def test_readme_lists_every_check():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, (severity, description) in CHECKS.items():
        assert f"| {code} | {severity} | {description.replace('|', '/')} |" in readme, code


def test_the_workflow_split_gives_the_same_report_as_one_run(tmp_path):
    """The workflow lints the sources while TeX compiles and adds the page count after: same report."""
    from scripts.stages.lint import report
    from scripts.stages.lint.__main__ import add_page_count

    pdf = blank_pdf(tmp_path / "paper.pdf", pages=12)
    similarity = REAL["lint"]["similarity"]
    without_pdf = tmp_path / "sources.json"
    without_pdf.write_text(report.to_json(*run_lint(REAL, ROOT, None), similarity))
    split = add_page_count(without_pdf, pdf, REAL)
    whole = run_lint(REAL, ROOT, pdf)
    assert "T007" in [finding.code for finding in whole[0]]
    assert report.to_json(*split, similarity) == report.to_json(*whole, similarity)
    assert report.to_markdown(*split, similarity) == report.to_markdown(*whole, similarity)
