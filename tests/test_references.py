"""The rebuilt bibliography: one entry per cited work, nothing invented for unresolved works."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pybtex.database import parse_file

BIB = parse_file("paper/references.bib", bib_format="bibtex")
SECTIONS = "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path("paper/sections").glob("*.tex")))
# Every key in the brace groups of \parencite, \parencites, \textcite (options in [] skipped).
CITE_ARGUMENTS = re.findall(r"\\(?:paren|text)cites?((?:\[[^\]]*\]|\{[^}]*\})+)", SECTIONS)
ALL_CITED = {
    key.strip() for args in CITE_ARGUMENTS for group in re.findall(r"\{([^}]*)\}", args) for key in group.split(",")
}


def test_every_citation_resolves_and_every_entry_is_cited():
    assert set(BIB.entries) == ALL_CITED


def test_one_entry_per_distinct_work():
    # 36 rows in the research notes; two rows each hold two works (Campi 2005/2012, Hague V/XIII).
    assert len(BIB.entries) == 38


def test_unresolved_entries_hold_only_author_and_year():
    unresolved = {k: e for k, e in BIB.entries.items() if "unresolved" in e.fields.get("keywords", "")}
    assert len(unresolved) == 15
    for key, entry in unresolved.items():
        assert set(entry.fields) == {"year", "keywords"}, key
        assert len(entry.persons["author"]) >= 1, key
        assert all(not p.first_names for p in entry.persons["author"]), key  # no invented given names


def test_spelling_variants_share_one_key():
    assert "andren1991" in ALL_CITED and "tuvshintugs2009" in ALL_CITED and "joenniemi1993" in ALL_CITED
    assert not re.search(r"Andren|Andrën|Tuvshingtugs|Pertti,", SECTIONS)


def test_no_author_year_citation_left_as_plain_text():
    plain = re.findall(r"\((?:[A-Z][A-Za-zé&. ]+,? )(?:19|20)\d\d[^)]*\)", SECTIONS)
    assert plain == []


def unresolved_keys() -> set[str]:
    return {key for key, entry in BIB.entries.items() if "unresolved" in entry.fields.get("keywords", "")}


@pytest.mark.skipif(shutil.which("chktex") is None, reason="chktex is not installed (Debian package chktex)")
def test_chktex_finds_nothing_in_the_sections():
    """Every warning is fixed, or suppressed in its line with a `% chktex N (reason)` comment."""
    sections = sorted(str(path) for path in Path("paper/sections").glob("*.tex"))
    result = subprocess.run(["chktex", "-q", "-v0", *sections], capture_output=True, text=True)
    assert result.stdout == ""
    suppressions = re.findall(r"% chktex \d+(.*)$", SECTIONS, re.M)
    assert all(reason.strip().startswith("(") for reason in suppressions), suppressions  # each says why


def test_biber_datamodel_warns_only_about_unresolved_entries(tmp_path):
    shutil.copy("paper/references.bib", tmp_path / "references.bib")
    result = subprocess.run(
        ["biber", "--tool", "--validate-datamodel", "references.bib"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("WARN")]
    warned_keys = {re.search(r"Entry '([^']+)'", line).group(1) for line in warnings}
    assert warnings and warned_keys <= unresolved_keys(), warnings
    assert all("Missing mandatory field 'title'" in line for line in warnings), warnings
