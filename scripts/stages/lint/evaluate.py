"""Measure the research-question check on the labelled real papers (tests/real_papers/*/truth.yaml).

    python -m scripts.stages.lint.evaluate [--corpus tests/real_papers] [--method tfidf --method bm25 ...]

For each similarity method it prints precision and recall of the "addressed" verdicts over the
(question, coverage section) pairs, and the question-level goals of the check: every added, never
answered question gets R002 and is addressed nowhere; no really answered question gets R002. The
thresholds are the paper settings' (`lint.similarity`) for the method the lint uses and, for every
method, the pair tuned on the corpus (goals first, then F1; among the pairs that keep this project's
own paper free of R002/R003), plus a leave-one-paper-out estimate (each paper judged with thresholds
tuned on the others), which shows how much tuning on the same papers flatters the numbers.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scripts.common import ROOT, UserError, run_main
from scripts.stages.lint import research_questions as rq
from scripts.stages.lint import similarity
from scripts.stages.lint.parse import Source, read_source

CORPUS = ROOT / "tests" / "real_papers"
THIS_PAPER_TRUTH = ROOT / "tests" / "rq_truth_this_paper.yaml"
GRID = [round(0.01 * step, 2) for step in range(1, 100)]


@dataclass
class Paper:
    slug: str
    lint: dict[str, Any]
    sources: dict[str, Source]
    truth: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Best:
    """A (paper, question, coverage section) pair: its best score and whether a marker names it."""

    paper: str
    question: str
    section: str
    score: float
    marker: bool
    answers: bool  # the truth file says this section answers the question
    added: bool  # a question added to the paper, which it never answers
    answer_section: bool  # one of the paper's answer sections (where R002/R003 look)


@dataclass(frozen=True)
class Result:
    precision: float
    recall: float
    added_with_r002: int
    added_addressed: int
    added: int
    answered_with_r002: int
    answered: int


def load_paper(folder: Path, truth_file: Path | None = None) -> Paper:
    metadata = yaml.safe_load((folder / "paper" / "metadata.yaml").read_text(encoding="utf-8"))
    sources = {}
    for section in metadata["sections"]:
        source = read_source(folder / section["file"])
        source.path = section["file"]
        sources[section["id"]] = source
    truth = yaml.safe_load((truth_file or folder / "truth.yaml").read_text(encoding="utf-8"))["questions"]
    return Paper(folder.name if truth_file is None else "this-paper", metadata["lint"], sources, truth)


def load_corpus(folders: Iterable[Path], this_paper: bool = True) -> list[Paper]:
    """The labelled papers in these folders, and this project's own paper (tests/rq_truth_this_paper.yaml)."""
    papers = [load_paper(ROOT, THIS_PAPER_TRUTH)] if this_paper else []
    for folder in folders:
        papers += [load_paper(p.parent) for p in sorted(Path(folder).glob("*/truth.yaml"))]
    return papers


def best_scores(paper: Paper, method: str, structure: bool = True) -> list[Best]:
    section = paper.sources[paper.lint["research_questions_section"]]
    questions = rq.questions_of(section)
    given = paper.lint.get("similarity") or {}
    settings = {**paper.lint, "similarity": {**given, "method": method, "structure": structure}}
    matches = rq.best_matches(questions, paper.sources, settings, similarity.scorer(method))
    found = []
    for question in questions:
        truth = paper.truth.get(question["id"], {})
        for sid in paper.lint["coverage_sections"]:
            top = (matches[question["id"]].get(sid) or [None])[0]
            found.append(
                Best(
                    paper.slug,
                    question["id"],
                    sid,
                    top["score"] if top else 0.0,
                    bool(top and top["marker"]),
                    sid in truth.get("answered_in", []),
                    bool(truth.get("added")),
                    sid in paper.lint["answer_sections"],
                )
            )
    return found


def measure(pairs: Sequence[Best], addressed: float, weak: float) -> Result:
    options = {"addressed": addressed, "weak": weak}

    def verdict(pair: Best) -> str:
        return rq.verdict({"score": pair.score, "marker": pair.marker}, options)

    predicted = {pair for pair in pairs if verdict(pair) in rq.ADDRESSED}
    true = {pair for pair in pairs if pair.answers}
    questions: dict[tuple[str, str], list[Best]] = {}
    for pair in pairs:
        questions.setdefault((pair.paper, pair.question), []).append(pair)

    def r002(group: list[Best]) -> bool:
        return all(verdict(p) == rq.NONE for p in group if p.answer_section)

    added = [group for group in questions.values() if group[0].added]
    answered = [group for group in questions.values() if any(p.answers for p in group)]
    return Result(
        precision=len(predicted & true) / len(predicted) if predicted else 1.0,
        recall=len(predicted & true) / len(true) if true else 1.0,
        added_with_r002=sum(r002(group) for group in added),
        added_addressed=sum(any(p in predicted for p in group) for group in added),
        added=len(added),
        answered_with_r002=sum(r002(group) for group in answered),
        answered=len(answered),
    )


def objective(result: Result) -> tuple:
    """Goals first (R002 for every added question, none addressed, no answered question with R002),
    then F1 of the pair verdicts."""
    f1 = 2 * result.precision * result.recall / (result.precision + result.recall or 1)
    misses = (result.added - result.added_with_r002) + result.added_addressed + result.answered_with_r002
    return (-misses, f1, result.recall)


def keeps_paper_right(pairs: Sequence[Best], paper: str, addressed: float) -> bool:
    """Every question of `paper` is addressed in one of its answer sections (no R002, no R003)."""
    questions: dict[str, bool] = {}
    for pair in pairs:
        if pair.paper == paper and pair.answer_section:
            questions[pair.question] = questions.get(pair.question, False) or pair.score >= addressed or pair.marker
    return all(questions.values())


def tune(pairs: Sequence[Best], keep_right: str = "this-paper") -> tuple[float, float]:
    """The (addressed, weak) pair that best meets the goals on these pairs, among those that keep the
    paper `keep_right` (this project's own) free of R002 and R003 when it is among them."""
    candidates = [(a, w) for a in GRID for w in GRID if w <= a]
    if any(pair.paper == keep_right for pair in pairs):
        candidates = [(a, w) for a, w in candidates if keeps_paper_right(pairs, keep_right, a)] or candidates
    return max(candidates, key=lambda t: (objective(measure(pairs, *t)), -t[0]))


def leave_one_paper_out(pairs: Sequence[Best]) -> Result:
    """Each paper judged with thresholds tuned on the others; the counts summed over papers."""
    papers = sorted({pair.paper for pair in pairs})
    held_out: list[Best] = []
    thresholds: dict[str, tuple[float, float]] = {}
    for paper in papers:
        thresholds[paper] = tune([p for p in pairs if p.paper != paper]) if len(papers) > 1 else tune(pairs)
        held_out += [p for p in pairs if p.paper == paper]
    # measure each paper with its own thresholds, then pool the counts
    results = [(measure([p for p in pairs if p.paper == paper], *thresholds[paper]), paper) for paper in papers]
    tp = fp = fn = 0
    for paper in papers:
        mine = [p for p in pairs if p.paper == paper]
        options = {"addressed": thresholds[paper][0], "weak": thresholds[paper][1]}
        predicted = {p for p in mine if rq.verdict({"score": p.score, "marker": p.marker}, options) in rq.ADDRESSED}
        true = {p for p in mine if p.answers}
        tp, fp, fn = tp + len(predicted & true), fp + len(predicted - true), fn + len(true - predicted)
    return Result(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        added_with_r002=sum(r.added_with_r002 for r, _ in results),
        added_addressed=sum(r.added_addressed for r, _ in results),
        added=sum(r.added for r, _ in results),
        answered_with_r002=sum(r.answered_with_r002 for r, _ in results),
        answered=sum(r.answered for r, _ in results),
    )


def auc(pairs: Sequence[Best]) -> float:
    """Area under the ROC curve of the scores: answering pairs against all others (0.5 = chance)."""
    positive = [p.score for p in pairs if p.answers]
    negative = [p.score for p in pairs if not p.answers]
    wins = sum((a > b) + 0.5 * (a == b) for a in positive for b in negative)
    return wins / (len(positive) * len(negative)) if positive and negative else 0.5


def question_best(pairs: Sequence[Best], added: bool) -> list[float]:
    """The best score in the answer sections of each added (or each really answered) question."""
    answered = {(p.paper, p.question) for p in pairs if p.answers}
    best: dict[tuple[str, str], float] = {}
    for pair in pairs:
        key = (pair.paper, pair.question)
        if pair.answer_section and (pair.added if added else key in answered):
            best[key] = max(best.get(key, 0.0), pair.score)
    return sorted(best.values())


def separation(method: str, pairs: Sequence[Best]) -> str:
    never, answered = question_best(pairs, True), question_best(pairs, False)
    span = lambda values: f"{values[0]:.2f}-{values[-1]:.2f}" if values else "-"  # noqa: E731
    return (
        f"- {method}: AUC {auc(pairs):.2f}; best score in the answer sections: never-answered questions "
        f"{span(never)}, answered questions {span(answered)}"
    )


def row(name: str, thresholds: str, result: Result) -> str:
    return (
        f"| {name} | {thresholds} | {result.precision:.2f} | {result.recall:.2f} | "
        f"{result.added_with_r002}/{result.added} | {result.added_addressed} | "
        f"{result.answered_with_r002}/{result.answered} |"
    )


# Steps of the check that the evaluation switches off one after the other, to show what each adds.
ABLATIONS = {
    "without structure": {"structure": False},
    "without structure, propagation and the outside-answer weight": {
        "structure": False,
        "PROPAGATE": False,
        "OUTSIDE_ANSWER_WEIGHT": 1.0,
    },
}


@contextmanager
def steps_switched(changes: dict[str, Any]) -> Iterator[bool]:
    """The research-question module's constants changed for a measurement (restored after); yields the
    `structure` setting."""
    constants = {name: value for name, value in changes.items() if name.isupper()}
    saved = {name: getattr(rq, name) for name in constants}
    for name, value in constants.items():
        setattr(rq, name, value)
    try:
        yield changes.get("structure", True)
    finally:
        for name, value in saved.items():
            setattr(rq, name, value)


def report(papers: list[Paper], methods: Sequence[str], configured: dict[str, Any]) -> str:
    lines = [
        f"Corpus: {len(papers)} papers ({', '.join(p.slug for p in papers)}).",
        "",
        "| method | thresholds (addressed / weak) | precision | recall | added questions with R002 | "
        "added questions reported addressed | answered questions with R002 |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = ["", "Separation of answering sentences from the others:"]
    variants = [(method, method, {}) for method in methods]
    variants += [
        (f"{m} {name}", m, changes) for m in methods if m == configured["method"] for name, changes in ABLATIONS.items()
    ]
    for name, method, changes in variants:
        with steps_switched(changes) as structure:
            pairs = [pair for paper in papers for pair in best_scores(paper, method, structure)]
        notes.append(separation(name, pairs))
        if method == configured["method"] and not changes:
            shipped = measure(pairs, configured["addressed"], configured["weak"])
            lines.append(row(f"{name} (lint settings)", f"{configured['addressed']} / {configured['weak']}", shipped))
        if len(papers) > 1:
            addressed, weak = tune(pairs)
            lines.append(row(f"{name} (tuned on the corpus)", f"{addressed} / {weak}", measure(pairs, addressed, weak)))
            lines.append(row(f"{name} (leave one paper out)", "tuned on the others", leave_one_paper_out(pairs)))
    return "\n".join(lines + notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.lint.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", help="a folder of paper folders (repeatable)")
    parser.add_argument("--method", action="append", choices=sorted(similarity.METHODS), help="(repeatable)")
    parser.add_argument("--without-this-paper", action="store_true", help="only the papers in the corpus folders")
    parser.add_argument("--paper", action="append", help="only this corpus paper, by folder name (repeatable)")
    args = parser.parse_args(argv)
    papers = load_corpus(args.corpus or [CORPUS], this_paper=not args.without_this_paper and not args.paper)
    if args.paper:
        papers = [paper for paper in papers if paper.slug in args.paper]
        if not papers:
            folders = ", ".join(str(folder) for folder in args.corpus or [CORPUS])
            raise UserError("--paper", f"no corpus paper named {', '.join(args.paper)}", f"a folder in {folders}")
    metadata = yaml.safe_load((ROOT / "paper" / "metadata.yaml").read_text(encoding="utf-8"))
    configured = rq.similarity_settings(metadata["lint"])
    print(report(papers, args.method or sorted(similarity.METHODS), configured))
    return 0


if __name__ == "__main__":
    run_main(main)
