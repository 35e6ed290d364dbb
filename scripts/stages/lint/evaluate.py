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
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scripts.common import ROOT, UserError, run_main
from scripts.stages.lint import research_questions as rq
from scripts.stages.lint import similarity
from scripts.stages.lint.parse import Source, read_sections

CORPUS = ROOT / "tests" / "real_papers"
THIS_PAPER_TRUTH = ROOT / "tests" / "rq_truth_this_paper.yaml"
GRID = [round(0.01 * step, 2) for step in range(1, 100)]


@dataclass
class Paper:
    slug: str
    lint: dict[str, Any]
    sources: dict[str, Source]
    truth: dict[str, dict[str, Any]]
    titles: dict[str, str] = field(default_factory=dict)  # section id -> title


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
    sentence: str = field(default="", compare=False)  # the best sentence, for --explain
    location: str = field(default="", compare=False)  # its file:line
    topic_section: bool = field(default=False, compare=False)  # titled by the question's topic (rq.topic_sections)
    unnamed: bool = field(default=False, compare=False)  # the question breaks the paper's naming convention


@dataclass(frozen=True)
class Result:
    tp: int = 0  # (question, section) pairs called addressed that really answer
    fp: int = 0
    fn: int = 0
    added_with_r002: int = 0
    added_addressed: int = 0
    added: int = 0
    answered_with_r002: int = 0
    answered_with_r003: int = 0  # only weakly addressed in the answer sections: a warning, not a goal
    answered: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __add__(self, other: Result) -> Result:
        return Result(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def load_paper(folder: Path, truth_file: Path | None = None) -> Paper:
    folder = folder.resolve()  # as the lint resolves its root: included files' paths are then relative to it
    metadata = yaml.safe_load((folder / "paper" / "metadata.yaml").read_text(encoding="utf-8"))
    sources = read_sections(metadata["sections"], folder)  # as the lint reads them
    truth = yaml.safe_load((truth_file or folder / "truth.yaml").read_text(encoding="utf-8"))["questions"]
    titles = {section["id"]: section.get("title", "") for section in metadata["sections"]}
    return Paper(folder.name if truth_file is None else "this-paper", metadata["lint"], sources, truth, titles)


def load_corpus(folders: Iterable[Path], this_paper: bool = True) -> list[Paper]:
    """The labelled papers in these folders, and this project's own paper (tests/rq_truth_this_paper.yaml)."""
    papers = [load_paper(ROOT, THIS_PAPER_TRUTH)] if this_paper else []
    for folder in folders:
        papers += [load_paper(p.parent) for p in sorted(Path(folder).glob("*/truth.yaml"))]
    return papers


def best_scores(paper: Paper, method: str, structure: bool = True, naming: bool = True) -> list[Best]:
    section = paper.sources[paper.lint["research_questions_section"]]
    questions = rq.questions_of(section)
    given = paper.lint.get("similarity") or {}
    settings = {**paper.lint, "similarity": {**given, "method": method, "structure": structure, "naming": naming}}
    matches = rq.best_matches(questions, paper.sources, settings, similarity.scorer(method), titles=paper.titles)
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
                    top["sentence"] if top else "",
                    f"{top['file']}:{top['line']}" if top else "",
                    bool(top and top["topic_section"]),  # as best_matches decided: titled by the question's topic
                    bool(top and top["named_instead"]),  # and breaking the naming convention
                )
            )
    return found


def verdicts(pairs: Sequence[Best], options: dict[str, Any]) -> dict[Best, str]:
    """Each pair's verdict as the lint gives it: per question (rq.question_verdicts), from its sections' best."""
    questions: dict[tuple[str, str], list[Best]] = {}
    for pair in pairs:
        questions.setdefault((pair.paper, pair.question), []).append(pair)
    found = {}
    for group in questions.values():
        tops = {pair.section: {"score": pair.score, "marker": pair.marker} for pair in group}
        answer_sections = [pair.section for pair in group if pair.answer_section]
        topic = [pair.section for pair in group if pair.topic_section]
        decided = rq.question_verdicts(tops, answer_sections, options, topic, any(p.unnamed for p in group))
        found |= {pair: decided[pair.section] for pair in group}
    return found


def measure(pairs: Sequence[Best], addressed: float, weak: float, other: float = 1.0) -> Result:
    """The check's results at these thresholds (`other`: the setting other_answer_sections)."""
    decided = verdicts(pairs, {"addressed": addressed, "weak": weak, "other_answer_sections": other})
    predicted = {pair for pair in pairs if decided[pair] in rq.ADDRESSED}
    true = {pair for pair in pairs if pair.answers}
    questions: dict[tuple[str, str], list[Best]] = {}
    for pair in pairs:
        questions.setdefault((pair.paper, pair.question), []).append(pair)

    def r002(group: list[Best]) -> bool:
        return all(decided[p] == rq.NONE for p in group if p.answer_section)

    def r003(group: list[Best]) -> bool:
        answers = [decided[p] for p in group if p.answer_section]
        return rq.WEAK in answers and not any(v in rq.ADDRESSED for v in answers)

    added = [group for group in questions.values() if group[0].added]
    answered = [group for group in questions.values() if any(p.answers for p in group)]
    return Result(
        tp=len(predicted & true),
        fp=len(predicted - true),
        fn=len(true - predicted),
        added_with_r002=sum(r002(group) for group in added),
        added_addressed=sum(any(p in predicted for p in group) for group in added),
        added=len(added),
        answered_with_r002=sum(r002(group) for group in answered),
        answered_with_r003=sum(r003(group) for group in answered),
        answered=len(answered),
    )


def objective(result: Result) -> tuple:
    """Goals first (R002 for every added question, none addressed, no answered question with R002 or
    R003: thresholds that turn answered questions into R003 warnings do not meet the goals), then F1 of
    the pair verdicts."""
    f1 = 2 * result.precision * result.recall / (result.precision + result.recall or 1)
    misses = (result.added - result.added_with_r002) + result.added_addressed
    misses += result.answered_with_r002 + result.answered_with_r003
    return (-misses, f1, result.recall)


def keeps_paper_right(pairs: Sequence[Best], paper: str, addressed: float) -> bool:
    """Every question of `paper` is addressed in one of its answer sections (no R002, no R003)."""
    questions: dict[str, bool] = {}
    for pair in pairs:
        if pair.paper == paper and pair.answer_section:
            questions[pair.question] = questions.get(pair.question, False) or pair.score >= addressed or pair.marker
    return all(questions.values())


def tune(pairs: Sequence[Best], keep_right: str = "this-paper", other: float = 1.0) -> tuple[float, float]:
    """The (addressed, weak) pair that best meets the goals on these pairs, among those that keep the
    paper `keep_right` (this project's own) free of R002 and R003 when it is among them."""
    candidates = [(a, w) for a in GRID for w in GRID if w <= a]
    if any(pair.paper == keep_right for pair in pairs):
        candidates = [(a, w) for a, w in candidates if keeps_paper_right(pairs, keep_right, a)] or candidates
    return max(candidates, key=lambda t: (objective(measure(pairs, *t, other)), -t[0]))


def leave_one_paper_out(pairs: Sequence[Best], other: float = 1.0) -> Result:
    """Each paper judged with thresholds tuned on the others; the counts summed over papers."""
    papers = sorted({pair.paper for pair in pairs})
    total = Result()
    for paper in papers:
        rest = [p for p in pairs if p.paper != paper] if len(papers) > 1 else list(pairs)
        total += measure([p for p in pairs if p.paper == paper], *tune(rest, other=other), other)
    return total


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
    "without attribution": {"ATTRIBUTION": 0.0},
    "without the naming convention": {"naming": False},
    "without the naming convention nor topic sections": {"naming": False, "TOPIC_SECTIONS": False},
    "without the naming convention, topic sections and the question-first step": {
        "naming": False,
        "other_answer_sections": 1.0,
        "TOPIC_SECTIONS": False,
    },
    "without the naming convention, topic sections, the question-first step and structure": {
        "naming": False,
        "other_answer_sections": 1.0,
        "TOPIC_SECTIONS": False,
        "structure": False,
    },
    "without the naming convention, topic sections, the question-first step, structure, propagation and the "
    "outside-answer weight": {
        "naming": False,
        "other_answer_sections": 1.0,
        "TOPIC_SECTIONS": False,
        "structure": False,
        "PROPAGATE": False,
        "OUTSIDE_ANSWER_WEIGHT": 1.0,
    },
}


@contextmanager
def steps_switched(changes: dict[str, Any]) -> Iterator[tuple[bool, bool]]:
    """The research-question module's constants changed for a measurement (restored after); yields the
    `structure` and `naming` settings."""
    constants = {name: value for name, value in changes.items() if name.isupper()}
    saved = {name: getattr(rq, name) for name in constants}
    for name, value in constants.items():
        setattr(rq, name, value)
    try:
        yield changes.get("structure", True), changes.get("naming", True)
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
        other = changes.get("other_answer_sections", configured["other_answer_sections"])
        with steps_switched(changes) as (structure, naming):
            pairs = [pair for paper in papers for pair in best_scores(paper, method, structure, naming)]
        notes.append(separation(name, pairs))
        if method == configured["method"]:  # the shipped thresholds, with each step switched off in turn
            shipped = measure(pairs, configured["addressed"], configured["weak"], other)
            lines.append(row(f"{name} (lint settings)", f"{configured['addressed']} / {configured['weak']}", shipped))
        if len(papers) > 1:
            addressed, weak = tune(pairs, other=other)
            tuned = measure(pairs, addressed, weak, other)
            lines.append(row(f"{name} (tuned on the corpus)", f"{addressed} / {weak}", tuned))
            lines.append(row(f"{name} (leave one paper out)", "tuned on the others", leave_one_paper_out(pairs, other)))
    return "\n".join(lines + notes)


def explain(pairs: Sequence[Best], options: dict[str, Any]) -> str:
    """Every pair the check gets wrong with these settings (missed, false), and every never-answered
    question's pairs in the answer sections, with the best sentence: what to read to see why."""
    decided = verdicts(pairs, options)
    lines = [f"Wrong pairs at {options['addressed']} / {options['weak']} (section, score, best sentence):"]
    for pair in pairs:
        called = decided[pair] in rq.ADDRESSED
        if called == pair.answers and not (pair.added and pair.answer_section):
            continue
        kind = "never-answered" if pair.added else "missed" if pair.answers else "false" if called else None
        if kind is None:
            continue
        mark = "ADDRESSED " if called else ""
        lines.append(
            f"- {kind} {mark}{pair.paper} {pair.question} {pair.section} {pair.score:.3f} "
            f"{pair.location} {pair.sentence[:200]!r}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.lint.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", help="a folder of paper folders (repeatable)")
    parser.add_argument("--method", action="append", choices=sorted(similarity.METHODS), help="(repeatable)")
    parser.add_argument("--without-this-paper", action="store_true", help="only the papers in the corpus folders")
    parser.add_argument("--paper", action="append", help="only this corpus paper, by folder name (repeatable)")
    parser.add_argument("--explain", action="store_true", help="print the missed and false pairs, best sentences")
    args = parser.parse_args(argv)
    folders = args.corpus or [CORPUS]
    if args.paper:  # only the papers asked for are read
        slugs = dict.fromkeys(args.paper)  # each once, in the order given
        papers = [load_paper(f / slug) for f in folders for slug in slugs if (f / slug / "truth.yaml").is_file()]
        if not papers:
            listed = ", ".join(str(folder) for folder in folders)
            raise UserError("--paper", f"no corpus paper named {', '.join(args.paper)}", f"a folder in {listed}")
    else:
        papers = load_corpus(folders, this_paper=not args.without_this_paper)
    metadata = yaml.safe_load((ROOT / "paper" / "metadata.yaml").read_text(encoding="utf-8"))
    configured = rq.similarity_settings(metadata["lint"])
    if args.explain:
        method = (args.method or [configured["method"]])[0]
        pairs = [pair for paper in papers for pair in best_scores(paper, method)]
        print(explain(pairs, configured))
        return 0
    print(report(papers, args.method or sorted(similarity.METHODS), configured))
    return 0


if __name__ == "__main__":
    run_main(main)
