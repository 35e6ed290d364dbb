"""`make submission`: a flattened, self-contained bundle that plain pdflatex compiles to the same text."""

import subprocess
import sys
import zipfile
from pathlib import Path

from scripts.commands.submission import Check, differing_pages, flatten, path_check, shell_escape_check


def run_submission(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.commands.submission"], cwd=project, capture_output=True, text=True, check=False
    )


def test_the_bundle_compiles_alone_to_the_same_text_and_zips_deterministically(project):
    first = run_submission(project)
    assert first.returncode == 0, first.stderr
    (bundle,) = (project / "build/submission").glob("*.zip")
    data = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        names = sorted(Path(name).name for name in archive.namelist())
        tex = archive.read(next(name for name in archive.namelist() if name.endswith("/paper.tex"))).decode()
    assert names == sorted(
        ["paper.tex", "paper.bbl", "references.bib", "epsbs.sty", "neutrality-poll.pdf", "threat-perception.pdf"]
    )
    assert "build/" not in tex and "\\input{" not in tex and "\\PaperFigure" not in tex
    assert "\\includegraphics[width=0.9\\textwidth]{threat-perception.pdf}" in tex
    report = (project / "build/submission/preflight.txt").read_text()
    info = subprocess.run(["pdfinfo", str(project / "build/paper.pdf")], capture_output=True, text=True, check=True)
    pages = int(next(line.split()[1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
    assert "FAIL" not in report and f"{pages} pages equal" in report and "all embedded" in report
    second = run_submission(project)
    assert second.returncode == 0 and bundle.read_bytes() == data  # the same bytes again


def test_flatten_inlines_sections_and_figures(tmp_path):
    (tmp_path / "paper/sections").mkdir(parents=True)
    (tmp_path / "build/tex").mkdir(parents=True)
    (tmp_path / "paper/sections/01-a.tex").write_text("Body \\PaperFigure{f}\n\\addresses{RQ1} Next.\n")
    (tmp_path / "build/tex/figure-f.tex").write_text("\\includegraphics{figures/f.pdf}\n")
    tex = (
        "\\addbibresource{paper/references.bib}\n\\begin{document}%\n"
        "\\InputIfFileExists{build/provenance/manifest.tex}{}{}%\n\\input{paper/sections/01-a}\n\\end{document}\n"
    )
    assert flatten(tex, tmp_path) == (
        "\\addbibresource{references.bib}\n\\begin{document}%\n"
        "Body \\includegraphics{f.pdf}\nNext.\n\n\\end{document}\n"
    )


def test_preflight_checks_find_absolute_paths_shell_escape_and_changed_pages(tmp_path):
    assert not path_check({"paper.tex": b"\\input{/etc/passwd}"}, tmp_path).passed
    assert not path_check({"paper.tex": b"\\includegraphics{build/figures/a.pdf}"}, tmp_path).passed
    assert path_check({"paper.tex": b"\\url{https://doi.org/10.1/x}"}, tmp_path).passed
    assert not shell_escape_check({"paper.tex": b"\\usepackage{minted}"}).passed
    assert differing_pages(["a", "b", "c"], ["a", "x", "c", "d"]) == [2, 4]
    assert Check("x", False, "y").line().startswith("FAIL")
