"""The research-question check: sentence evidence, what is no evidence, verdicts, and its measured
precision and recall on the labelled real papers (tests/real_papers, scripts/stages/lint/evaluate.py)."""

from pathlib import Path

import pytest

from scripts.common import ROOT
from scripts.stages.lint import evaluate, report, research_questions, similarity
from scripts.stages.lint.__main__ import run_lint
from scripts.stages.lint.parse import read_source
from scripts.stages.metadata import load_metadata

REAL = load_metadata(ROOT / "paper" / "metadata.yaml")
QUESTIONS = (
    "We ask:\n\\begin{itemize}\n"
    "  \\item Why do small states choose permanent neutrality?\n"
    "  \\item How do tariffs change grain exports of landlocked states?\n"
    "\\end{itemize}\n"
)
LINT = {
    "research_questions_section": "questions",
    "coverage_sections": ["method", "results", "conclusion"],
    "answer_sections": ["results", "conclusion"],
    "similarity": {"method": "tfidf", "addressed": 0.21, "weak": 0.18},
}


def check(tmp_path: Path, sections: dict[str, str], lint: dict | None = None):
    """research_questions.check on section files written to tmp_path (questions + the given ones)."""
    sources = {}
    for sid, text in {"questions": QUESTIONS, **sections}.items():
        path = tmp_path / f"{sid}.tex"
        path.write_text(text, encoding="utf-8")
        sources[sid] = read_source(path)
    return research_questions.check({"lint": lint or LINT}, sources)


def best_in_results(tmp_path: Path, results: str) -> dict:
    """RQ1's best match in a results section, next to an off-topic conclusion."""
    _, coverage = check(tmp_path, {"results": results, "conclusion": "Rainfall varied by month.\n"})
    return coverage.matches["RQ1"]["results"][0]


def verdicts(coverage, question: str) -> dict[str, str]:
    options = research_questions.similarity_settings(LINT)
    return {
        sid: best[0].get("verdict", research_questions.verdict(best[0], options)) if best else research_questions.NONE
        for sid, best in coverage.matches[question].items()
    }


def test_the_answering_sentence_is_the_evidence_with_its_line(tmp_path):
    results = (
        "Grain prices rose in the spring.\n\n"
        "The interviews were long.\nWe found that small states choose permanent neutrality to stay out of wars.\n"
    )
    findings, coverage = check(tmp_path, {"results": results, "conclusion": "Rainfall varied by month.\n"})
    best = coverage.matches["RQ1"]["results"][0]
    assert (best["line"], best["marker"]) == (4, False)
    assert best["sentence"].startswith("We found that small states choose permanent neutrality")
    assert verdicts(coverage, "RQ1")["results"] == research_questions.EVIDENCE
    assert "RQ1" not in " ".join(f.message for f in findings)


@pytest.mark.parametrize(
    "trap",
    [
        "\\begin{figure}\\caption{Why small states choose permanent neutrality, by decade and region.}\\end{figure}",
        "\\subsection{Why do small states choose permanent neutrality and stay out of wars}",
        "RQ1 asks why small states choose permanent neutrality, as stated before.",
        "Our first research question concerns why small states choose permanent neutrality.",
        "Why do small states choose permanent neutrality over alliances with great powers?",
        "We did not compare why small states choose permanent neutrality with other options.",
        "Why small states choose permanent neutrality is left for future work on this topic.",
        "To answer this question, we examine why small states choose permanent neutrality in archives.",
        "This thesis set out to explain why small states choose permanent neutrality in the last century.",
        "We expected that small states choose permanent neutrality to stay out of the wars of great powers.",
        "We organized a large survey on why small states choose permanent neutrality in the last century.",
        "Why do small states choose permanent neutrality? That is the question.",
        "The model could be extended by taking why small states choose permanent neutrality into account.",
        "Our account is simplified, dispensing with why small states choose permanent neutrality.",
        "Why small states choose permanent neutrality was not measured in the archives we read.",
        "Further research is needed on why small states choose permanent neutrality in the last century.",
        "A limitation is that why small states choose permanent neutrality rests on one case study.",
        "One limitation of this study is that why small states choose permanent neutrality rests on archives.",
        "This dissertation examined why small states choose permanent neutrality in the last century.",
        "Permanent neutrality of small states should be replicated in a study of the last century.",
        "One approach would be to extend why small states choose permanent neutrality to alliances.",
        "(Small = 13, neutral = 14).",
    ],
)
def test_what_is_no_evidence(tmp_path, trap):
    """Captions, headings, restatements, questions, negated plans and method descriptions never count."""
    findings, coverage = check(tmp_path, {"results": trap + "\n", "conclusion": "Rainfall varied by month.\n"})
    assert all(match["score"] == 0 or match["marker"] for match in coverage.matches["RQ1"]["results"]), trap
    assert [f.code for f in findings if "RQ1" in f.message] == ["R002"]


def test_a_follow_up_with_no_word_of_its_own_is_matched_with_the_question_it_follows(tmp_path):
    # As in cooperation-variability-2026: "(i) Does EV promote cooperation? (ii) If so, how does it?"
    questions = QUESTIONS.replace("\\end{itemize}", "  \\item If so, how do they?\n\\end{itemize}")
    sources = {}
    for sid, text in {
        "questions": questions,
        "results": "We found that tariffs cut the grain exports of landlocked states by a third, by transit fees.\n",
        "conclusion": "Rainfall varied by month.\n",
    }.items():
        (tmp_path / f"{sid}.tex").write_text(text, encoding="utf-8")
        sources[sid] = read_source(tmp_path / f"{sid}.tex")
    asked = research_questions.questions_of(sources["questions"])
    assert [q["text"] for q in asked][1:] == [
        "How do tariffs change grain exports of landlocked states?",
        "If so, how do they?",
    ]
    assert (
        research_questions.query(asked[2])
        == "How do tariffs change grain exports of landlocked states? If so, how do they?"
    )
    assert "context" not in asked[1]  # a question with words of its own is matched on them alone
    findings, coverage = research_questions.check({"lint": LINT}, sources)
    assert verdicts(coverage, "RQ3")["results"] == research_questions.EVIDENCE
    assert not [f for f in findings if "RQ3" in f.message]
    shown = report.to_markdown(findings, coverage, LINT["similarity"])
    assert "If so, how do they? (no word of its own: matched with the question before it too)" in shown
    assert "landlocked states? (no word" not in shown
    # the question it follows keeps the topic its own words give it, and the follow-up shares it
    settings = {**LINT, "coverage_sections": ["method", "results", "conclusion"]}
    titles = {"method": "Grain exports", "results": "Results", "conclusion": "Conclusion"}
    topics = research_questions.topic_sections(asked, titles, settings)
    assert topics == {"RQ1": frozenset(), "RQ2": {"method"}, "RQ3": {"method"}}
    # a follow-up of a follow-up asks about the whole chain
    chained = [*asked, {"id": "RQ4", "text": "And why?", "file": "q.tex", "line": 9, "label": ""}]
    research_questions.follow_ups(chained)
    assert research_questions.query(chained[3]).startswith("How do tariffs change grain exports")


def test_a_near_copy_of_a_question_is_a_restatement():
    terms = [set(similarity.terms("Why do small states choose permanent neutrality?"))]
    copy = "small states choose permanent neutrality, the study says"
    why = research_questions.exclusion(copy, in_float=False, question_terms=terms)
    assert why == "restates a research question"
    answer = "Small states choose permanent neutrality because alliances drag them into the wars of great powers."
    assert research_questions.exclusion(answer, in_float=False, question_terms=terms) is None
    # A negated finding answers; a limit of the study does not.
    negated = "Alliances do not keep small states that choose permanent neutrality out of the wars of great powers."
    assert research_questions.exclusion(negated, in_float=False, question_terms=terms) is None


@pytest.mark.parametrize(
    "finding",
    [
        "Accuracy was higher than we expected, reaching 0.92 on the test set.",
        "As we hypothesized, the larger model graded C1 texts more accurately.",
        "The main limitation of the language models is that they overrate A1 texts by one level.",
        "Developers need not rewrite the API: 80% of the overwrites we found are benign.",
        "Security was not considered by most respondents (72%) when they chose a browser.",
        "This means that the best WER of 70.83% could be improved upon a lot more.",
        "The results were not significant for the smaller models.",
        "The larger models graded 12 of 14 texts (86%) correctly.",
        "This report shows that language models grade learner texts within one level.",
    ],
)
def test_findings_that_use_the_words_of_a_limit_or_a_hypothesis_still_count(finding):
    """A finding about a limitation, an expectation met or a survey's "not considered" is not a limit of
    the study (the reviewer's examples)."""
    terms = [set(similarity.terms("How accurately do language models grade learner texts?"))]
    assert research_questions.exclusion(finding, in_float=False, question_terms=terms) is None


def test_the_question_is_decided_first_then_the_other_answer_sections_need_less():
    """Once an answer section addresses a question, the other answer sections need other_answer_sections x
    addressed; a section outside the answer sections, or a question that no answer section addresses,
    still needs `addressed`."""
    options = {"addressed": 0.3, "weak": 0.3, "other_answer_sections": 0.6}
    answer_sections = ["results", "conclusion"]
    tops = {"method": {"score": 0.2}, "results": {"score": 0.35}, "conclusion": {"score": 0.2}}
    decided = research_questions.question_verdicts(tops, answer_sections, options)
    assert decided == {
        "method": research_questions.NONE,
        "results": research_questions.EVIDENCE,
        "conclusion": research_questions.EVIDENCE,
    }
    unanswered = {**tops, "results": {"score": 0.25}}
    assert set(research_questions.question_verdicts(unanswered, answer_sections, options).values()) == {
        research_questions.NONE
    }
    marked = {**unanswered, "results": {"score": 0.0, "marker": True}, "conclusion": {"score": 0.17}}
    assert research_questions.question_verdicts(marked, answer_sections, options)["conclusion"] == (
        research_questions.NONE  # 0.17 < 0.6 x 0.3
    )
    marked["conclusion"] = {"score": 0.18}
    assert research_questions.question_verdicts(marked, answer_sections, options)["conclusion"] == (
        research_questions.EVIDENCE
    )


def test_a_section_titled_by_a_questions_own_topic_counts_for_it_once_the_question_is_answered():
    questions = [
        {"id": "RQ1", "text": "How well can architects model water flow with the sandbox?"},
        {"id": "RQ2", "text": "How well can architects analyze cut-and-fill with the sandbox?"},
    ]
    titles = {"water": "Water flow", "earth": "Cut-and-fill analysis", "setup": "The sandbox", "results": "Results"}
    settings = {"coverage_sections": ["water", "earth", "setup", "results"], "answer_sections": ["results"]}
    topics = research_questions.topic_sections(questions, titles, settings)
    assert topics == {"RQ1": frozenset({"water"}), "RQ2": frozenset({"earth"})}  # "sandbox": every question's
    options = {"addressed": 0.3, "weak": 0.3, "other_answer_sections": 0.6}
    tops = {"water": {"score": 0.1}, "earth": {"score": 0.1}, "results": {"score": 0.4}}
    decided = research_questions.question_verdicts(tops, ["results"], options, topics["RQ1"])
    assert decided["water"] == research_questions.EVIDENCE  # 0.1 >= 0.6 x 0.5 (outside weight) x 0.3
    assert decided["earth"] == research_questions.NONE  # not RQ1's topic: `addressed` as outside
    unanswered = {**tops, "results": {"score": 0.2}}
    assert research_questions.question_verdicts(unanswered, ["results"], options, topics["RQ1"])["water"] == (
        research_questions.NONE
    )


def test_the_conclusion_that_confirms_the_results_answer_is_addressed_and_reported(tmp_path):
    results = "We found that small states choose permanent neutrality to stay out of the wars of great powers.\n"
    conclusion = "In the end, neutrality protected these small countries, as the interviews and archives agree.\n"
    lint = {**LINT, "similarity": {**LINT["similarity"], "other_answer_sections": 0.01}}
    findings, coverage = check(tmp_path, {"results": results, "conclusion": conclusion}, lint)
    top = coverage.matches["RQ1"]["conclusion"][0]
    assert 0 < top["score"] < LINT["similarity"]["addressed"] and top["verdict"] == research_questions.EVIDENCE
    markdown = report.to_markdown(findings, coverage, lint["similarity"])
    assert f"addressed by evidence ({top['score']:.3f})" in markdown
    _, alone = check(tmp_path, {"results": "Rainfall varied by month in the south.\n", "conclusion": conclusion}, lint)
    assert alone.matches["RQ1"]["conclusion"][0]["verdict"] == research_questions.NONE


def test_r002_fires_once_per_question_naming_the_answer_sections_and_the_best_sentence(tmp_path):
    results = "Small states choose permanent neutrality to stay out of wars, we found.\n"
    findings, _ = check(tmp_path, {"method": "We read archives.\n", "results": results, "conclusion": "Done."})
    r002 = [f for f in findings if f.code == "R002"]
    assert len(r002) == 1 and r002[0].message.startswith("RQ2 is not addressed in results or conclusion")
    assert r002[0].path.endswith("questions.tex") and r002[0].line == 4  # the question's own line
    assert "results.tex:1" in r002[0].message  # the best sentence that was too weak, with file:line


def test_r003_only_when_no_answer_section_addresses_the_question(tmp_path):
    weak = {**LINT, "similarity": {"addressed": 0.9, "weak": 0.01}}
    results = "Neutral states stayed out of the wars of their neighbours, we found.\n"
    conclusion = "Permanent neutrality kept Mongolia safe between two neighbours, the results show.\n"
    findings, _ = check(tmp_path, {"results": results, "conclusion": conclusion}, weak)
    r003 = [f for f in findings if f.code == "R003" and f.message.startswith("RQ1")]
    assert len(r003) == 1 and "weak in results, conclusion" in r003[0].message
    findings, _ = check(tmp_path, {"results": results + " \\addresses{RQ1}\n", "conclusion": conclusion}, weak)
    assert not [f for f in findings if f.message.startswith("RQ1")]  # the marker is authoritative


def test_a_marker_is_authoritative_and_unknown_markers_are_r004(tmp_path):
    findings, coverage = check(
        tmp_path,
        {"results": "Rainfall varied by month. \\addresses{RQ2}\n", "conclusion": "Grain. \\addresses{RQ7}\n"},
    )
    assert verdicts(coverage, "RQ2")["results"] == research_questions.MARKER
    assert [f.code for f in findings if "RQ7" in f.message] == ["R004"]
    assert not [f for f in findings if f.message.startswith("RQ2")]


def test_question_ids_come_from_rq_labels_only(tmp_path):
    questions = (
        "\\begin{enumerate}\n  \\item \\label{rq:neutral} Why neutrality?\n"
        "  \\item \\label[research question]{resqu2} How do tariffs change exports?\n\\end{enumerate}\n"
    )
    path = tmp_path / "q.tex"
    path.write_text(questions, encoding="utf-8")
    found = research_questions.questions_of(read_source(path))
    assert [q["id"] for q in found] == ["neutral", "RQ2"]
    assert found[1]["text"] == "How do tariffs change exports?"


def test_this_papers_verdicts(tmp_path):
    """Each of the paper's three questions is addressed by a sentence of its Findings: no R002/R003."""
    findings, coverage = run_lint(REAL, ROOT, None)
    assert not [f for f in findings if f.code.startswith("R")]
    for question in ("RQ1", "RQ2", "RQ3"):
        assert verdicts(coverage, question)["findings"] == research_questions.EVIDENCE
    # the conclusion sums up RQ1 below `addressed`; the question-first step finds it (as the truth file says)
    assert coverage.matches["RQ1"]["conclusion"][0]["score"] < REAL["lint"]["similarity"]["addressed"]
    assert verdicts(coverage, "RQ1")["conclusion"] == research_questions.EVIDENCE
    markdown = report.to_markdown(findings, coverage, REAL["lint"]["similarity"])
    assert "paper/sections/06-findings.tex:5" in markdown and "addressed by evidence" in markdown


def test_scores_are_deterministic_and_offline(monkeypatch):
    """Same text, same scores; WordLlama loads from its wheel without touching the network."""
    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("the lint must not download anything")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "request", no_network)
    questions = ["Why do small states choose permanent neutrality?"]
    sentences = ["Small states choose neutrality to stay out of wars.", "Rainfall varied by month."]
    for method in similarity.METHODS:
        first = similarity.scorer(method)(questions, sentences, sentences)
        assert first == similarity.scorer(method)(questions, sentences, sentences), method
        assert first[0][0] > first[0][1], method


# Measured with `python -m scripts.stages.lint.evaluate` (README, "Lint") on this paper + the 63 papers of
# tests/real_papers at the lint settings (0.24 / 0.24, other_answer_sections 0.6, the naming convention and
# attribution on): precision 0.65 (380 of 588 pairs), recall 0.82 (380 of 465), 68 of the 118 never-answered
# questions get R002, 19 of the 197 answered ones do. Ten sets of papers were held out from all tuning and
# measured once each (README). The floors leave a margin of about two questions or pairs below the measurement.
FLOOR = {"precision": 0.64, "recall": 0.81, "added_with_r002": 66, "answered_with_r002": 21}


@pytest.fixture(scope="module")
def corpus() -> list[evaluate.Paper]:
    """The labelled papers and this one, read once for the module's tests."""
    return evaluate.load_corpus([evaluate.CORPUS])


def test_precision_and_recall_on_the_labelled_corpus(corpus):
    papers = corpus
    assert len(papers) >= 2
    options = research_questions.similarity_settings(REAL["lint"])
    pairs = [pair for paper in papers for pair in evaluate.best_scores(paper, options["method"])]
    result = evaluate.measure(pairs, options["addressed"], options["weak"], options["other_answer_sections"])
    assert result.precision >= FLOOR["precision"], result
    assert result.recall >= FLOOR["recall"], result
    assert result.added_with_r002 >= FLOOR["added_with_r002"], result
    assert result.answered_with_r002 <= FLOOR["answered_with_r002"], result


def test_the_evaluation_reads_the_files_a_section_includes_as_the_lint_does(corpus):
    # container-mapping-2026's review method is seven \\input files, named from the paper's folder
    paper = next(p for p in corpus if p.slug == "container-mapping-2026")
    folder = evaluate.CORPUS / paper.slug
    metadata = load_metadata(folder / "paper" / "metadata.yaml", lint_only=True)
    _, coverage = run_lint(metadata, folder, None, Path("paper/metadata.yaml"))
    pairs = {(p.question, p.section): p for p in evaluate.best_scores(paper, "tfidf")}
    for question in ("RQ1", "RQ2"):
        lint_best = coverage.matches[question]["review-method"][0]
        assert lint_best["file"].startswith("paper/sections/review-method/")
        assert pairs[question, "review-method"].location == f"{lint_best['file']}:{lint_best['line']}"


THREE_QUESTIONS = (
    "\\begin{itemize}\n"
    "  \\item Why do small states choose permanent neutrality?\n"
    "  \\item How do tariffs change grain exports of landlocked states?\n"
    "  \\item How does permanent neutrality change the grain exports of small states?\n"
    "\\end{itemize}\n"
)
NAMED_RESULTS = (
    "\\subsection{RQ1: Neutrality}\n"
    "Small states choose permanent neutrality to stay out of wars, we found.\n"
    "\\subsection{RQ2: Tariffs}\n"
    "Tariffs cut the grain exports of landlocked states by a third, we found.\n"
    "\\subsection{Other observations}\n"
    "Permanent neutrality raised the grain exports of small states, the results show.\n"
)


def check_three(tmp_path: Path, results: str, naming: bool = True):
    lint = {**LINT, "similarity": {**LINT["similarity"], "naming": naming}}
    sources = {}
    for sid, text in {"questions": THREE_QUESTIONS, "results": results, "conclusion": "Done here.\n"}.items():
        (tmp_path / f"{sid}.tex").write_text(text, encoding="utf-8")
        sources[sid] = read_source(tmp_path / f"{sid}.tex")
    return research_questions.check({"lint": lint}, sources)


def test_a_question_the_paper_never_names_while_it_names_the_others_is_not_addressed(tmp_path):
    """The naming convention: RQ1 and RQ2 are named where they are answered, RQ3 never is; its similar
    sentence is then no evidence (R002 says why), unless a marker says so or the setting is off."""
    findings, coverage = check_three(tmp_path, NAMED_RESULTS)
    r002 = [f for f in findings if f.code == "R002"]
    assert [f.message.split()[0] for f in r002] == ["RQ3"]
    assert "they name RQ1, RQ2 where they answer them, never RQ3" in r002[0].message
    assert "results.tex:6" in r002[0].message  # the best sentence is still shown
    assert set(verdicts(coverage, "RQ3").values()) == {research_questions.NONE}
    assert verdicts(coverage, "RQ1")["results"] == research_questions.EVIDENCE

    findings, coverage = check_three(tmp_path, NAMED_RESULTS, naming=False)
    assert not [f for f in findings if f.code in ("R002", "R003")]
    assert verdicts(coverage, "RQ3")["results"] == research_questions.EVIDENCE

    findings, coverage = check_three(tmp_path, NAMED_RESULTS + "\\addresses{RQ3}\n")
    assert not [f for f in findings if f.code == "R002"]
    assert verdicts(coverage, "RQ3")["results"] == research_questions.MARKER


def test_only_the_answer_sections_set_the_naming_convention(tmp_path):
    """Questions named in passing outside the answer sections ("RQ1 and RQ2 build on ...") set no convention."""
    lint = {**LINT, "similarity": {**LINT["similarity"]}}
    sources = {}
    texts = {
        "questions": THREE_QUESTIONS,
        "method": "RQ1 and RQ2 build on the archives we read.\n",
        "results": NAMED_RESULTS.replace("\\subsection{RQ1: Neutrality}", "").replace("\\subsection{RQ2: Tariffs}", ""),
        "conclusion": "Done here.\n",
    }
    for sid, text in texts.items():
        (tmp_path / f"{sid}.tex").write_text(text, encoding="utf-8")
        sources[sid] = read_source(tmp_path / f"{sid}.tex")
    findings, _ = research_questions.check({"lint": lint}, sources)
    assert not [f for f in findings if f.code == "R002"]


@pytest.mark.parametrize(
    "text, named",
    [
        ("RQ1--RQ3 are answered in Section 5.", ("RQ1", "RQ2", "RQ3")),
        ("For RQ~2 the answer is yes.", ("RQ2",)),
        ("Research Question~2: tariffs.", ("RQ2",)),
        ("This answers research questions 1 and 3.", ("RQ1", "RQ3")),
        ("RQs 1 and 2 are answered below.", ("RQ1", "RQ2")),
        ("See \\cref{rq:neutral,rq:tariffs}.", ("RQ1", "RQ2")),
        ("RQ7 is not one of ours.", ()),
    ],
)
def test_the_forms_that_name_questions(text, named):
    questions = [
        {"id": "RQ1", "label": "rq:neutral"},
        {"id": "RQ2", "label": "rq:tariffs"},
        {"id": "RQ3", "label": ""},
    ]
    assert research_questions.named_questions(text, questions) == named


def test_a_paper_that_names_fewer_than_two_questions_has_no_naming_convention(tmp_path):
    one_named = NAMED_RESULTS.replace("\\subsection{RQ2: Tariffs}", "\\subsection{Tariffs}")
    findings, coverage = check_three(tmp_path, one_named)
    assert not [f for f in findings if f.code == "R002"]
    assert verdicts(coverage, "RQ3")["results"] == research_questions.EVIDENCE
    commented = one_named + "% RQ2 and RQ3 still to write\n"  # comments name nothing
    assert not [f for f in check_three(tmp_path, commented)[0] if f.code == "R002"]


STRUCTURED = (
    "\\subsection{RQ2: Tariffs and exports}\n"
    "Grain exports fell by a third in the first year, we found.\n\n"
    "Small states that choose permanent neutrality also kept their grain exports, the results show.\n"
    "\\subsection{Other observations}\n"
    "Exports of small neutral states fell by a third in the first year, we found.\n"
)


def test_a_finding_under_a_heading_that_names_the_question_is_its_evidence(tmp_path):
    """Structure: the finding filed under "RQ2" counts three times for RQ2 and not at all for RQ1; the
    sentence under a heading that names no question still counts for RQ1."""
    plain = {**LINT, "similarity": {**LINT["similarity"], "structure": False}}
    _, without = check(tmp_path, {"results": STRUCTURED, "conclusion": "Rainfall varied by month.\n"}, plain)
    _, with_structure = check(tmp_path, {"results": STRUCTURED, "conclusion": "Rainfall varied by month.\n"})
    scores = lambda coverage, q: {m["line"]: m["score"] for m in coverage.matches[q]["results"]}  # noqa: E731
    assert scores(with_structure, "RQ2")[2] == pytest.approx(min(1.0, 3 * scores(without, "RQ2")[2]), abs=1e-3)
    assert scores(without, "RQ2")[2] < LINT["similarity"]["addressed"] <= scores(with_structure, "RQ2")[2]
    assert scores(without, "RQ1")[4] > 0 and scores(with_structure, "RQ1").get(4, 0) == 0
    assert scores(with_structure, "RQ1")[6] >= LINT["similarity"]["addressed"]  # under no question's heading


@pytest.mark.parametrize(
    "heading, named",
    [
        ("\\subsection{RQ2: Tariffs}", ("RQ2",)),
        ("\\subsection*{{\\bf RQ1: Why neutrality?}}", ("RQ1",)),
        ("\\subsection{Answering Research Question 2}", ("RQ2",)),
        ("\\subsection{\\ref{rq:tariffs}: Exports}", ("RQ2",)),
        ("\\paragraph{Our second research question.}", ("RQ2",)),
        ("\\subsection{RQ1 and RQ2 together}", ("RQ1", "RQ2")),
        ("\\subsection{RQ7: not a question of this paper}", ()),
        ("\\subsection{Results by decade}", ()),
    ],
)
def test_which_questions_a_heading_names(heading, named):
    questions = [{"id": "RQ1", "label": ""}, {"id": "RQ2", "label": "rq:tariffs"}]
    assert research_questions.named_questions(heading, questions) == named


def test_blocks_end_at_the_next_heading_of_their_level_and_boxes_at_their_end():
    questions = [{"id": "RQ1", "label": ""}, {"id": "RQ2", "label": ""}]
    text = (
        "\\subsection{RQ1}\n"  # 1
        "a\n"
        "\\subsubsection{Details}\n"  # 3: inside RQ1's block
        "b\n"
        "\\subsection{Summary}\n"  # 5: ends it
        "{\\bf RQ2.} run-in\n"  # 6
        "c\n"
        "\\section{Next}\n"  # 8: ends the run-in block
        "\\begin{tcolorbox}[title=Answer to RQ1]\n"  # 9
        "d\n"
        "\\end{tcolorbox}\n"  # 11
        "e\n"
    )
    found = sorted(research_questions.blocks(text, questions))
    assert found == [(1, 5, ("RQ1",)), (6, 8, ("RQ2",)), (9, 12, ("RQ1",))]


def test_optional_arguments_left_in_the_text_are_not_part_of_the_sentence(tmp_path):
    results = (
        "[graphic=no,type=html] We found that [round-precision=0]61 of small states choose neutrality to avoid wars.\n"
    )
    best = best_in_results(tmp_path, results)
    assert best["sentence"] == "We found that 61 of small states choose neutrality to avoid wars." and best["line"] == 1


def test_the_keys_of_the_papers_own_citation_commands_are_not_words_of_the_sentence(tmp_path):
    # \\citegen and \\fancycite (Language Science Press's class, a dissertation's own .sty) are unknown to the parser
    results = (
        "As \\citegen{Neutrality1999} model shows, small states choose permanent neutrality to avoid wars "
        "\\fancycite[p.~2]{Wars2001}, \\citep{Alliances2004}, \\citegen*{Starred2010}.\n"
    )
    best = best_in_results(tmp_path, results)
    assert best["sentence"] == "As model shows, small states choose permanent neutrality to avoid wars , , ."


def test_sentences_of_an_included_file_carry_its_path_and_line(tmp_path):
    (tmp_path / "part.tex").write_text(
        "Intro.\n\nSmall states choose permanent neutrality because alliances drag them into wars.\n"
    )
    results = "Grain prices rose in the spring of that year.\n\\input{part}\n"
    best = best_in_results(tmp_path, results)
    assert best["file"].endswith("part.tex") and best["line"] == 3


def test_a_restatement_of_the_best_answer_is_evidence_too(tmp_path):
    """Propagation: the conclusion sums up the results' finding in its own words (few of the question's)."""
    results = "We found that small states choose permanent neutrality to stay out of the wars of great powers.\n"
    conclusion = "Staying out of the wars of great powers is what these states gained, the results show.\n"
    _, coverage = check(tmp_path, {"results": results, "conclusion": conclusion})
    _, alone = check(tmp_path, {"results": "Rainfall varied by month in the south.\n", "conclusion": conclusion})
    lent = coverage.matches["RQ1"]["conclusion"][0]["score"]
    assert alone.matches["RQ1"]["conclusion"][0]["score"] < LINT["similarity"]["addressed"] <= lent
    assert lent <= coverage.matches["RQ1"]["results"][0]["score"]  # never more than the answer it restates


def test_explain_lists_the_missed_and_false_pairs_with_their_sentence():
    def pair(question, section, score, answers, added=False):
        sentence = f"{question} {section} sentence"
        return evaluate.Best(
            "p", question, section, score, False, answers, added, True, sentence, f"f.tex:{score * 100:.0f}"
        )

    pairs = [
        pair("RQ1", "results", 0.5, True),
        pair("RQ1", "conclusion", 0.2, True),  # 0.2 >= 0.6 x 0.3 once results addresses RQ1: found
        pair("RQ2", "results", 0.2, True),  # RQ2 is addressed nowhere: missed
        pair("RQ2", "conclusion", 0.1, False),
        pair("RQ3", "results", 0.4, False, added=True),  # a never-answered question reported addressed
        pair("RQ3", "conclusion", 0.1, False, added=True),
    ]
    lines = evaluate.explain(pairs, {"addressed": 0.3, "weak": 0.3, "other_answer_sections": 0.6}).splitlines()
    assert not [line for line in lines if "RQ1" in line]
    assert "- missed p RQ2 results 0.200 f.tex:20 'RQ2 results sentence'" in lines
    assert "- never-answered ADDRESSED p RQ3 results 0.400 f.tex:40 'RQ3 results sentence'" in lines
    assert "- never-answered p RQ3 conclusion 0.100 f.tex:10 'RQ3 conclusion sentence'" in lines


def test_evaluate_names_an_unknown_paper_and_restores_the_steps_it_switches_off():
    from scripts.common import UserError

    with pytest.raises(UserError, match="no corpus paper named nowhere-1999"):
        evaluate.main(["--paper", "nowhere-1999", "--method", "tfidf"])
    before = (research_questions.PROPAGATE, research_questions.OUTSIDE_ANSWER_WEIGHT)
    changes = {"PROPAGATE": False, "OUTSIDE_ANSWER_WEIGHT": 1.0, "structure": False, "naming": False}
    with evaluate.steps_switched(changes) as (structure, naming):
        assert (structure, naming) == (False, False)
        assert (research_questions.PROPAGATE, research_questions.OUTSIDE_ANSWER_WEIGHT) == (False, 1.0)
    assert before == (research_questions.PROPAGATE, research_questions.OUTSIDE_ANSWER_WEIGHT)


def test_sentences_carry_their_own_line_across_the_corpus(corpus):
    """The line a finding names is where its sentence starts (or the line before it wraps), for 99% of the
    corpus' candidate sentences (measured on the 56 papers: 9287 of 9361; on the first 14, before a far match
    had to be confirmed, 1268 of 1290 against 1284 after)."""
    right = total = 0
    lines_of: dict[Path, list[str]] = {}
    for paper in corpus:
        folder = ROOT if paper.slug == "this-paper" else evaluate.CORPUS / paper.slug
        questions = research_questions.questions_of(paper.sources[paper.lint["research_questions_section"]])
        _, candidates = research_questions.paper_sentences(questions, paper.sources, paper.lint)
        for sentence in candidates:
            path = Path(sentence.file) if Path(sentence.file).is_absolute() else folder / sentence.file
            if path not in lines_of:
                lines_of[path] = path.read_text(encoding="utf-8").splitlines()
            lines = lines_of[path]
            first_word = sentence.text.split()[0].strip(".,;:()")
            right += first_word in " ".join(lines[sentence.line - 1 : sentence.line + 1])
            total += 1
    assert right >= 0.99 * total, (right, total)


def test_an_answer_label_of_the_papers_own_is_a_marker(tmp_path):
    """ "Answer to RQ2: ..." (here in a box, whose width is no text) says where RQ2 is answered, as
    \\addresses{RQ2} would; the sentence after such a label answers, it does not restate."""
    results = (
        "\\noindent\\fbox{\\begin{minipage}{0.47\\textwidth}\n"
        "\\textbf{Answer to RQ2}: \\textit{Exports fell by a third in the first year.}\n"
        "\\end{minipage}}\n"
    )
    _, coverage = check(tmp_path, {"results": results, "conclusion": "Rainfall varied by month.\n"})
    assert verdicts(coverage, "RQ2")["results"] == research_questions.MARKER
    top = coverage.matches["RQ2"]["results"][0]
    assert (top["line"], top["sentence"]) == (2, "Answer to RQ2: Exports fell by a third in the first year.")
    terms = [set(similarity.terms("How do tariffs change grain exports of landlocked states?"))]
    assert research_questions.exclusion(top["sentence"], False, terms) is None
    assert research_questions.exclusion("RQ2 asks how tariffs change grain exports.", False, terms)
