"""The real-paper corpus (tests/real_papers/<slug>/) is complete and consistent.

Each folder is a real paper ported into this project's layout (see SOURCE.md in each) with a
hand-written truth.yaml. These checks keep the folders usable by the lint and its evaluation:
every file named exists, every question in the truth is in the paper's list and vice versa, the
truth only names coverage sections, and each paper carries an added, unanswered question.
"""

import re
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).parent / "real_papers"
PAPERS = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
ADDED_MARKER = "% added for the lint corpus: the paper never answers this question"
OPEN_LICENCES = re.compile(r"\b(CC BY(-SA)? \d\.\d|CC0|MIT License|MIT|Unlicense|GPL-3\.0|MPL-2\.0|Apache-2\.0)\b")
INPUT = re.compile(r"\\(?:input|include)\{([^}]+)\}")
LIST_TOKEN = re.compile(r"\\(begin|end)\{(enumerate|itemize|description)\}|\\item\b")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def strip_comments(tex: str) -> str:
    """Drop LaTeX comments (an unescaped % to the end of its line)."""
    return re.sub(r"(?<!\\)%.*", "", tex)


def top_level_items(tex: str) -> int:
    """Count the \\item commands of the first list in `tex`, not those of lists nested in it."""
    depth, items = 0, 0
    for token in LIST_TOKEN.finditer(strip_comments(tex)):
        if token.group(1) == "begin":
            depth += 1
        elif token.group(1) == "end":
            depth -= 1
            if depth == 0:
                return items
        elif depth == 1:
            items += 1
    return items


def section_ids(metadata: dict) -> list[str]:
    return [section["id"] for section in metadata["sections"]]


def rq_file(paper: Path, metadata: dict) -> Path:
    rq_id = metadata["lint"]["research_questions_section"]
    return paper / next(s["file"] for s in metadata["sections"] if s["id"] == rq_id)


def test_corpus_has_at_least_four_papers():
    assert len(PAPERS) >= 4, f"only {len(PAPERS)} papers in {CORPUS}"


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_source_names_an_open_licence_and_its_origin(paper: Path):
    source = (paper / "SOURCE.md").read_text(encoding="utf-8")
    assert OPEN_LICENCES.search(source), "SOURCE.md names no open licence"
    origin = re.search(r"commit\s+`?[0-9a-f]{40}|arXiv:?\s*\d{4}\.\d{4,5}v\d", source)
    assert origin, "SOURCE.md names no commit or arXiv id"


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_metadata_holds_only_the_corpus_keys_and_its_files_exist(paper: Path):
    metadata = load_yaml(paper / "paper" / "metadata.yaml")
    assert set(metadata) == {"sections", "bibliography", "lint"}
    for relative in [s["file"] for s in metadata["sections"]] + [metadata["bibliography"]]:
        assert (paper / relative).is_file(), f"{relative} is named in metadata.yaml but missing"
    ids = section_ids(metadata)
    assert len(ids) == len(set(ids)), "a section id is repeated"


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_lint_settings_name_existing_sections(paper: Path):
    metadata = load_yaml(paper / "paper" / "metadata.yaml")
    lint, ids = metadata["lint"], set(section_ids(metadata))
    named = [lint["research_questions_section"], *lint["coverage_sections"], *lint["answer_sections"]]
    named += [*lint["required_sections"], *lint.get("optional_sections", [])]
    assert set(named) <= ids, f"unknown section ids under lint: {sorted(set(named) - ids)}"
    assert set(lint["answer_sections"]) <= set(lint["coverage_sections"])


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_truth_matches_the_question_list(paper: Path):
    metadata = load_yaml(paper / "paper" / "metadata.yaml")
    questions = load_yaml(paper / "truth.yaml")["questions"]
    listed = [f"RQ{n}" for n in range(1, top_level_items(rq_file(paper, metadata).read_text(encoding="utf-8")) + 1)]
    assert list(questions) == listed, f"truth.yaml has {list(questions)}, the RQ list has {listed}"
    coverage = set(metadata["lint"]["coverage_sections"])
    for rq, truth in questions.items():
        assert set(truth["answered_in"]) <= coverage, f"{rq}: answered_in names a section outside coverage_sections"
        if truth.get("added"):
            assert truth["answered_in"] == [], f"{rq} is an added question but is marked answered"
        else:
            assert truth["answered_in"] and truth.get("evidence"), f"{rq}: a paper's own question needs its evidence"


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_each_paper_adds_marked_unanswered_questions_at_the_end(paper: Path):
    metadata = load_yaml(paper / "paper" / "metadata.yaml")
    questions = load_yaml(paper / "truth.yaml")["questions"]
    added = [rq for rq, truth in questions.items() if truth.get("added")]
    assert added, "no added, unanswered question"
    assert added == list(questions)[-len(added) :], "added questions must close the list"
    assert rq_file(paper, metadata).read_text(encoding="utf-8").count(ADDED_MARKER) == len(added)


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.name)
def test_every_input_resolves_from_the_paper_folder(paper: Path):
    """\\input paths are relative to the paper folder's root, as this project's build resolves them."""
    metadata = load_yaml(paper / "paper" / "metadata.yaml")
    pending = [paper / s["file"] for s in metadata["sections"]]
    seen: set[Path] = set()
    while pending:
        tex = pending.pop()
        seen.add(tex)
        for name in INPUT.findall(strip_comments(tex.read_text(encoding="utf-8"))):
            target = paper / (name if name.endswith(".tex") else f"{name}.tex")
            if not target.is_file():  # as TeX does: a name with another extension (Inkscape's .pdf_tex) as given
                target = paper / name
            assert target.is_file(), f"{tex.relative_to(paper)} inputs {name}, which does not exist"
            if target not in seen:
                pending.append(target)
