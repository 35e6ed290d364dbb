"""Reproducibility: the comparison that `make check-reproducible` reports. Builds in two folders are
compared byte for byte by tests/test_incremental.py (every edit) and tests/test_verify_and_archive.py
(the archive)."""

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
