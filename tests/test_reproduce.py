"""Reproducibility: the comparison that `make check-reproducible` reports, and a real two-folder build."""

import subprocess
import sys

from scripts.common import ROOT
from scripts.devtools.reproduce import compare, first_difference, pdf_object_at

PDF = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Title (A) >>\nendobj\ntrailer\n<< /ID [<aa>] >>\n"


def test_first_difference_and_the_pdf_object_that_holds_it():
    changed = PDF.replace(b"(A)", b"(B)")
    offset = first_difference(PDF, changed)
    assert PDF[offset : offset + 1] == b"A"
    assert pdf_object_at(PDF, offset) == "object 2 0"
    assert pdf_object_at(PDF, PDF.index(b"<aa>")) == "the trailer or cross-reference table"
    assert first_difference(PDF, PDF) is None
    assert first_difference(PDF, PDF + b"x") == len(PDF)


def test_compare_names_the_first_differing_output(tmp_path):
    for name, title in (("a", b"(A)"), ("b", b"(B)")):
        (tmp_path / name / "build").mkdir(parents=True)
        (tmp_path / name / "build/paper.pdf").write_bytes(PDF.replace(b"(A)", title))
        (tmp_path / name / "figures").mkdir()
        (tmp_path / name / "figures/f.pdf").write_bytes(b"same")
    assert compare(tmp_path / "a", tmp_path / "a") == []
    (difference,) = compare(tmp_path / "a", tmp_path / "b")
    assert difference.startswith("build/paper.pdf: first difference at byte") and "in object 2 0" in difference


def test_two_builds_in_two_folders_give_the_same_bytes():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.devtools.reproduce", "--cores", "2"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("reproducible: 18 outputs identical")  # PDF, .tex, figures, ..., the archive
