"""Research questions: where the paper answers each one, and the sentence that shows it (README, "Lint").

- An explicit `\\addresses{RQ1}` marker in a paragraph is authoritative: "addressed by marker".
- Otherwise the evidence is one *sentence*: the section's sentence most similar to the question
  (scripts/stages/lint/similarity.py; the method and thresholds are `lint.similarity`): "addressed by evidence"
  at or above `addressed`, "weak" at or above `weak`, else "not addressed".
- Sentences that cannot show an answer are left out: captions, headings, floats (figures, tables,
  listings), the research-question section itself, sentences that name or restate a question ("RQ2",
  "our second research question", a question asked again, near-copies of a question), sentences that
  describe the study or a hypothesis rather than a finding ("To answer this question, we compared ...",
  "we expect ..."), sentences in which the authors say what they did not do or leave for later ("we did
  not compare ...", "future work"), and fragments.
- A sentence that states a finding weighs more, one without the question's distinctive terms less, one
  outside the answer sections half. Structure: a finding under an answer section's heading that names the
  question ("\\subsection{RQ2: ...}") weighs three times; a sentence under a heading that names only other
  questions is no evidence. Propagation: a sentence that restates a question's best answer (a conclusion
  summing up the results) is evidence too, at most as strong as that answer.
  The weights and thresholds were chosen by measurement on labelled real papers (scripts/stages/lint/evaluate.py).
- The naming convention: when the answer sections name at least two of the paper's questions, and at least
  half of them ("RQ2: ..."), a question they never name is addressed by a marker only (unnamed_questions()).
- Attribution: a sentence clearly closer to another question of the paper is that question's evidence, not
  this one's (attributed()).
- The question is decided first: once an answer section addresses it (a marker, or a sentence at
  `addressed`), the other answer sections address it from `other_answer_sections` x `addressed` on (a
  conclusion that confirms the results' answer in other words), and so does a section outside them whose
  title names the question's own topic (topic_sections()); a question that no answer section addresses,
  and the other sections outside the answer sections, keep `addressed` (question_verdicts()).
- R002 (no answer section addresses the question) and R003 (only weak evidence there) fire once per
  question, at the question, naming the answer sections and the best sentence with its file:line.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from scripts.stages.lint import similarity
from scripts.stages.lint.checks import Coverage, Finding, finding
from scripts.stages.lint.parse import Source, all_included, group_end, mask_skipped

DEFAULT_SIMILARITY = {  # measured: README "Lint"
    "method": "tfidf",
    "addressed": 0.24,
    "weak": 0.24,
    "best_sentences": 3,
    "structure": True,
    "other_answer_sections": 0.6,
    "naming": True,
}
NEAR_WORDS = 12  # markup between two words of the text rarely adds more raw words (citation keys, a label)
MIN_WORDS = 5  # fewer words of prose is a fragment, no evidence (a heading, "Yes.", "(Cantonese = 13, English = 14).")
PROSE_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of letters: numbers, symbols and single letters are not prose

MARKER, EVIDENCE, WEAK, NONE = "addressed by marker", "addressed by evidence", "weak", "not addressed"
ADDRESSED = (MARKER, EVIDENCE)

# What TeX typesets outside the running text: floats, captions and headings (their words are not answers).
FLOATS = re.compile(
    r"\\begin\{(figure|table|wrapfigure|wraptable|sidewaysfigure|sidewaystable|tabular|tabularx|tabulary|"
    r"longtable|lstlisting|verbatim|minted|comment|algorithm|algorithmic|tikzpicture)(\*?)\}"
)
BRACED = re.compile(
    r"\\(caption(?:of)?|captionbox|subcaption|part|chapter|section|subsection|subsubsection|paragraph|"
    r"subparagraph)\*?\s*(?:\[[^\]]*\]\s*)?\{"
)
SECTIONING = re.compile(
    r"\\(?:part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\]\s*)?\{"
)
ORDINALS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|final|next|main|other"
NAMES_A_QUESTION = re.compile(
    rf"\bRQ\s*-?\s*\d+[a-z]?\b|\bresearch\s+questions?\b|\b(?:{ORDINALS})\s+(?:research\s+)?question\b"
    r"|\bquestions?\s+\d+\b",
    re.IGNORECASE,
)
# A label that files the sentence as a question's answer ("Answer to RQ1: ...", "RQ1: Our evaluation shows ...",
# "{\bf RQ2.} ..."): the sentence after it answers, it does not restate (a question after it still asks one).
ANSWER_LABEL = re.compile(
    r"^\W*(?:answer\s+(?:to|for)\s+)?(?:RQ\s*-?\s*\d+[a-z]?|research\s+question\s+\d+)\s*[:.)]\s+(?=\S)",
    re.IGNORECASE,
)
FLOAT = "caption, heading or float"
ANSWER_WORDS = re.compile(r"^\W*answers?\s+(?:to|for)\b", re.IGNORECASE)


def labelled_answer(text: str, questions: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The questions a sentence says it answers with a label of its own: "Answer to RQ2: ..." (the word
    "answer", then the questions its label names)."""
    label = ANSWER_LABEL.match(text)
    if not label or not ANSWER_WORDS.match(text):
        return ()
    return named_questions(label.group(), questions)


# The authors saying what they did not do, or leave for later: such a sentence shows the opposite of
# an answer, however many words it shares with the question ("We did not compare with X").
AUTHORS_DID_NOT = re.compile(
    r"\b(?:we|this\s+(?:paper|study|work|article)|our\s+(?:study|work|paper|analysis))\s+"
    r"(?:\w+\s+){0,2}?(?:did|do|does|have|has|had|could|can|were|was|are|is|will)\s*(?:not|n't|never)\b"
    r"|\bwe\s+(?:never|cannot|can't|neither)\b|\bfuture\s+(?:work|research|studies)\b|\bbeyond\s+the\s+scope\b"
    r"|\bout\s+of\s+(?:the\s+)?scope\b|\bremains?\s+(?:an\s+)?open\b|\bleft\s+(?:open|for\s+later)\b",
    re.IGNORECASE,
)
# The authors naming a limit of their study or model, or what is still to be done ("the model could be
# extended by taking X into account", "dispensing with X", "X was not measured", "it need not follow",
# "further research is needed"): such a sentence names a topic the paper leaves unanswered.
STATES_A_LIMIT = re.compile(
    r"\bcould\s+(?:also\s+|further\s+)?be\s+(?:extended|incorporated|added|included|generali[sz]ed|explored|"
    r"investigated|examined|tested|studied|addressed)\b"
    r"|\bdispens\w+\s+with\b"
    # a limit of the study, not a finding about a limitation of what was studied
    r"|\b(?:a|one|another|the\s+(?:main|first|second|other))\s+limitation\s+(?:of\s+(?:this|our)\b|is\s+that\b)"
    r"|\blimitations\s+of\s+(?:this|our)\b"
    # "X was not measured", not "X was not measured by most respondents" (a finding of a survey)
    r"|\b(?:was|were|is|are|has|have|had)\s+not\s+(?:yet\s+)?(?:been\s+)?(?:modell?ed|addressed|examined|tested|"
    r"measured|assessed|studied|investigated|explored|evaluated)\b(?!\s+by\b)"
    r"|\bremains?\s+(?:unclear|unknown|untested|unexplored|to\s+be)\b"
    r"|\b(?:further|more|additional|future)\s+(?:research|work|studies|experiments|investigations?)\s+(?:is|are|will\s+be|"
    r"would\s+be)?\s*(?:needed|required|necessary|warranted)\b"
    r"|\bshould\s+(?:also\s+)?be\s+(?:measured|tested|explored|investigated|examined|studied|addressed|assessed|"
    r"implemented|extended|applied|deployed|validated|replicated)\b"
    # a proposal: "One approach would be to extend the model ..."
    r"|\b(?:one|another|an?|a\s+further)\s+(?:approach|option|way|direction|avenue|possibility|step)\s+"
    r"(?:would|could|might)\s+be\b"
    r"|\bwould\s+be\s+(?:interesting|worthwhile|useful|valuable)\b",
    re.IGNORECASE,
)
# The authors describing what the study does or will do ("To answer this question, we compared ...",
# "Our study investigated the ability of ...", "We organized an evaluation ...") or what they expect
# ("we would expect X to ..."): a description of the method or a hypothesis restates the question's words
# without answering it.
DESCRIBES_THE_STUDY = re.compile(
    r"\bto\s+(?:answer|address|explore|investigate)\b|\b(?:in\s+)?this\s+(?:section|chapter)\b"
    r"|\b(?:goals?|aims?|purpose)\s+of\s+this\b"
    r"|\bwe\s+(?:will|shall|plan|aim|seek|want|intend|need)\b|\bset\s+out\s+to\b"
    r"|(?<!than\s)(?<!as\s)\bwe\s+(?:would\s+|should\s+|can\s+)?(?:expect|hypothesi[sz])\w*"
    r"|\b(?:we|this\s+(?:paper|study|work|article|thesis|dissertation|report|chapter|project)"
    r"|our\s+(?:study|work|paper|evaluation|experiments?|dissertation|report|project))\s+"
    r"(?:\w+\s+){0,2}?(?:investigat|examin|stud(?:y|ies|ied)|explor|evaluat|compar|analy[sz]|describ|present|"
    r"focus|consider|measur|assess|ask|conduct|organi[sz]|carr(?:y|ied)\s+out|collect|appl(?:y|ied)|perform|"
    r"select|propos|introduc)\w*",
    re.IGNORECASE,
)
# Words with which papers state findings: such a sentence is more likely an answer than a topical one.
FINDING = re.compile(
    r"\b(?:results?|found|finds?|shows?|showed|shown|suggests?|suggested|indicates?|indicated|reveals?|revealed|"
    r"observed?|conclude[sd]?|in\s+summary|hence|therefore|thus|overall|significant(?:ly)?|outperform\w*|"
    r"better|worse|best|fewer|more|less|lower|higher|improv\w*|increas\w*|decreas\w*|affect\w*)\b|\d+(?:\.\d+)?\s*%",
    re.IGNORECASE,
)
FINDING_WEIGHT = 0.5  # a sentence that states a finding weighs 1.5 times its similarity (README, "Lint")
OFF_FOCUS_WEIGHT = 0.5  # a sentence with none of the question's distinctive terms weighs half (README, "Lint")
# Structure (README, "Lint"): a finding under an answer section's heading that names the question weighs
# three times its similarity; a sentence under a heading that names other questions only is no evidence.
STRUCTURE_WEIGHT = 3.0
OTHER_QUESTION_WEIGHT = 0.0
# Outside the answer sections (method, threats...) a sentence needs twice the similarity to count: there the
# paper sets up or qualifies its study, in the words of its questions, rather than answering them.
OUTSIDE_ANSWER_WEIGHT = 0.5
# A section outside the answer sections whose title names a question's own topic (a term that no other
# question of the paper has: "Water flow" for "... model water flow ...?") counts as an answer section for
# that question alone once an answer section addresses it; it decides nothing before (topic_sections();
# README, "Lint").
TOPIC_SECTIONS = True
PROPAGATE = True  # a restatement of a question's best answer is evidence too (propagated(); README, "Lint")
# Attribution (attributed(); README, "Lint"): a sentence whose similarity to a question is below this fraction
# of its similarity to another question of the paper answers that other question, and is no evidence for this
# one. Measured on 24 papers: 0.8 (0 switches it off).
ATTRIBUTION = 0.8
ABBREVIATIONS = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Sec|Secs|Eq|Eqs|Tab|No|resp|approx|al|ca|Dr|Prof|Mr|Ms|Inc|"
    r"Ltd|Jr|St|p|pp|vol|ch)|\b[A-Z])\.$"
)
# What a macro's optional argument leaves in the plain text when the parser keeps it ("[round-precision=0]",
# "[label=(*)]", "[sec.globals]" of \hyperref): never prose, and its words would match questions.
OPTION_LIST = re.compile(r"\[(?:[^\]\s=]*=[^\]]*|[A-Za-z]+[.:][\w.:-]+)\]\s*")
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[A-Z0-9\"“‘(\[])")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a section, where it starts, and why it is no evidence (None when it may be)."""

    section: str
    file: str
    line: int
    text: str
    excluded: str | None = None
    block: tuple[str, ...] | None = None  # the questions whose heading the sentence stands under (structure)


# --- settings -----------------------------------------------------------------------------------


def similarity_settings(lint_settings: dict[str, Any]) -> dict[str, Any]:
    """`lint.similarity` with its defaults (best_paragraphs is the older name of best_sentences)."""
    given = dict(lint_settings.get("similarity") or {})
    if "best_paragraphs" in given:
        given.setdefault("best_sentences", given.pop("best_paragraphs"))
    return {**DEFAULT_SIMILARITY, **given}


def verdict(best: dict[str, Any] | None, settings: dict[str, Any], scale: float = 1.0) -> str:
    """The verdict a section's best match gives: marker, evidence (at `scale` x `addressed`), weak or none."""
    if not best:
        return NONE
    if best.get("marker"):
        return MARKER
    score = best["score"]
    return EVIDENCE if score >= scale * settings["addressed"] else WEAK if score >= settings["weak"] else NONE


def question_verdicts(
    tops: dict[str, dict[str, Any] | None],
    answer_sections: Sequence[str],
    settings: dict[str, Any],
    topic: Collection[str] = (),
    unnamed: bool = False,
) -> dict[str, str]:
    """The verdict of each section for one question, from the section's best match (`tops`).

    The question is decided first: is it addressed in an answer section (a marker, or a sentence at
    `addressed`)? If it is, the other answer sections need less evidence (`other_answer_sections`), since
    the evidence then confirms an answer rather than finding one; outside the answer sections (but for the
    question's `topic` sections, topic_sections()), and for a question that no answer section addresses,
    `addressed` holds as it is. A question that breaks the paper's naming convention (`unnamed`,
    unnamed_questions()) is addressed by a marker only."""
    if unnamed:
        return {sid: MARKER if verdict(top, settings) == MARKER else NONE for sid, top in tops.items()}
    answered = any(verdict(top, settings) in ADDRESSED for sid, top in tops.items() if sid in answer_sections)
    other = settings.get("other_answer_sections", 1.0)

    def scale(sid: str) -> float:
        if answered and sid in answer_sections:
            return other
        if answered and sid in topic:  # as an answer section, its sentences not weighed down as outside ones
            return other * OUTSIDE_ANSWER_WEIGHT
        return 1.0

    return {sid: verdict(top, settings, scale(sid)) for sid, top in tops.items()}


# --- sentences ----------------------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph's plain text; abbreviations (e.g., et al., Fig.) do not end one."""
    sentences, start = [], 0
    for match in SENTENCE_END.finditer(text):
        candidate = text[start : match.start() + 1]
        if ABBREVIATIONS.search(candidate):
            continue
        sentences.append(candidate.strip())
        start = match.end()
    rest = text[start:].strip()
    return [s for s in [*sentences, rest] if s]


def excluded_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the raw source that are floats, captions or headings."""
    spans = []
    for match in FLOATS.finditer(text):
        end = text.find(f"\\end{{{match[1]}{match[2]}}}", match.end())
        spans.append((match.start(), len(text) if end < 0 else end))
    spans += [(match.start(), (group_end(text, match.end() - 1) or len(text))) for match in BRACED.finditer(text)]
    return sorted(spans)


def raw_words(source_text: str) -> list[tuple[str, int]]:
    """Every word of the raw source, lower-case, with its offset, except the words of headings (the plain
    text has none of them, and a heading's word must not be taken for the same word in the text below)."""
    headings = [
        (m.start(), (group_end(source_text, m.end() - 1) or len(source_text))) for m in SECTIONING.finditer(source_text)
    ]
    words, current = [], 0  # both in source order: the heading that may hold the next word
    for match in re.finditer(r"\w+", source_text):
        while current < len(headings) and headings[current][1] <= match.start():
            current += 1
        if current == len(headings) or match.start() < headings[current][0]:
            words.append((match.group().lower(), match.start()))
    return words


def word_positions(raw: list[tuple[str, int]], start: int, words: Sequence[str]) -> list[int]:
    """The raw-source offset of each plain-text word of a paragraph that starts at offset `start`.

    The plain text is the raw text minus markup, so its words are a subsequence of the raw words: each
    word is matched to the next equal raw word (within a window, since markup adds words). A match far
    ahead must be confirmed by the next word following it closely: a word that markup makes (a % from
    \\percent) would otherwise jump to the same word in a later sentence and shift every line after it."""
    index = bisect.bisect_left(raw, start, key=lambda item: item[1])
    positions, last = [], start
    for number, word in enumerate(words):
        following = words[number + 1] if number + 1 < len(words) else None
        for ahead in range(index, min(index + 80, len(raw))):
            near = ahead - index < NEAR_WORDS
            if raw[ahead][0] == word and (near or following in {w for w, _ in raw[ahead + 1 : ahead + 4]}):
                index, last = ahead + 1, raw[ahead][1]
                break
        positions.append(last)
    return positions


def near_copy(sentence_terms: set[str], question_terms: list[set[str]]) -> bool:
    """A sentence that is mostly one question's words restates it (it adds nothing that answers)."""
    for terms in question_terms:
        shared = len(sentence_terms & terms)
        if terms and shared >= 0.7 * len(terms) and shared >= 0.7 * len(sentence_terms):
            return True
    return False


def exclusion(text: str, in_float: bool, question_terms: list[set[str]]) -> str | None:
    """Why a sentence is no evidence of an answer, or None."""
    if in_float:
        return FLOAT
    if len(PROSE_WORD.findall(text)) < MIN_WORDS:
        return "fragment"
    if text.rstrip("'\"”’)] ").endswith("?"):
        return "asks a question"
    if NAMES_A_QUESTION.search(ANSWER_LABEL.sub("", text, count=1)):
        return "names a research question"
    if AUTHORS_DID_NOT.search(text):
        return "says what the authors did not do"
    if DESCRIBES_THE_STUDY.search(text):
        return "describes the study, not a finding"
    if STATES_A_LIMIT.search(text):
        return "names a limit of the study"
    if near_copy(set(similarity.terms(text)), question_terms):
        return "restates a research question"
    return None


def included_files(source: Source) -> dict[str, str]:
    """The text of every file a section file includes (and they include), by path."""
    return {child.path: child.text for child in all_included(source)}


def sentences_of(
    section_id: str, source: Source, question_terms: list[set[str]], questions: Sequence[dict[str, Any]] = ()
) -> list[Sentence]:
    """Every sentence of a section (and of the files it includes), with its file:line, why it is left out
    (if it is) and the question whose heading it stands under (if one)."""
    found = []
    included = included_files(source)
    for path, text in {source.path: source.text, **included}.items():
        spans = excluded_spans(text)
        starts = [start for start, _ in spans]
        raw = raw_words(text)
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        organised = blocks(text, questions)
        mine = (p for p in source.paragraphs if (p.path if p.path in included else source.path) == path)
        for paragraph in mine:
            pieces = split_sentences(OPTION_LIST.sub("", paragraph.text))
            words = [re.findall(r"\w+", piece.lower()) for piece in pieces]
            start = line_starts[min(paragraph.line, len(line_starts)) - 1]
            positions = word_positions(raw, start, [w for group in words for w in group])
            cursor = 0
            for piece, group in zip(pieces, words, strict=True):
                offsets = positions[cursor : cursor + len(group)] or [positions[cursor - 1] if cursor else start]
                cursor += len(group)
                inside = sum(in_spans(offset, spans, starts) for offset in offsets)
                line = bisect.bisect_right(line_starts, offsets[0])
                why = exclusion(piece, inside * 2 > len(offsets), question_terms)
                block = next((ids for first, last, ids in organised if first <= line < last), None)
                found.append(Sentence(section_id, path, line, piece, why, block))
    return found


# --- structure: results organised under a heading per question -----------------------------------

HEADING_LEVELS = {
    "part": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5, "subparagraph": 6,
}  # fmt: skip
RUN_IN = 7  # a bold run-in heading at the start of a line: "{\bf RQ1:} ..." or "\textbf{RQ1.} ..."
HEADING = re.compile(
    r"\\(part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\]\s*)?\{"
    r"|^[ \t]*(?:\\noindent\s*)?(\{\\(?:bf|bfseries)\b|\\textbf\s*\{)",
    re.MULTILINE,
)
# A box that states an answer and names its question in its title ("\begin{tcolorbox}[title=Answer to RQ1]").
TITLED_BOX = re.compile(r"\\begin\{([A-Za-z*]+)\}\s*(\[[^\]\n]*\]|\{[^}\n]*\})")
# "RQ2", "RQ~2", "RQs 1 and 2", "RQ1--RQ3", "Research Question~2", "research questions 1 and 2", \ref{rq:a},
# \cref{rq:a,rq:b}, "second research question". A range or list names every question in it.
_NUMBERS = r"(\d+(?:\s*(?:,|and|&|or|--|–|-|to)\s*(?:RQ\s*~?\s*)?\d+)*)"
QUESTION_REFERENCE = re.compile(
    rf"\bRQs?\s*[-~]?\s*{_NUMBERS}\b|\bresearch\s+questions?\s*~?\s*{_NUMBERS}\b"
    r"|\\(?:[cC]|auto|name|[vV])?ref\*?\s*\{([^}]*)\}"
    rf"|\b({'|'.join(ORDINALS.split('|')[:10])})\s+research\s+question\b",
    re.IGNORECASE,
)
_RANGE = re.compile(r"(\d+)\s*(?:--|–|-|to)\s*(?:RQ\s*~?\s*)?(\d+)", re.IGNORECASE)


def question_numbers(numbers: str) -> list[int]:
    """The numbers a reference names: "1 and 2" -> 1, 2; "1--3" -> 1, 2, 3."""
    found = []
    for start, end in _RANGE.findall(numbers):
        if int(start) <= int(end) <= int(start) + 20:
            found += range(int(start), int(end) + 1)
    return found + [int(n) for n in re.findall(r"\d+", _RANGE.sub(" ", numbers))]


def named_questions(heading: str, questions: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The questions a heading (or a text) names: "RQ2", "RQ1--RQ3", "Research Question 2", \\ref{rq-label},
    "second research question"."""
    ordinals = ORDINALS.split("|")[:10]
    ids = {q["id"] for q in questions}
    named = []
    for match in QUESTION_REFERENCE.finditer(heading):
        number, spelled, labels, ordinal = match.groups()
        if number or spelled:
            named += [f"RQ{n}" for n in question_numbers(number or spelled)]
        elif labels:
            keys = {key.strip() for key in labels.split(",")}
            named += [q["id"] for q in questions if keys & {q.get("label"), f"rq:{q['id']}"}]
        elif ordinal:
            index = ordinals.index(ordinal.lower())
            named += [questions[index]["id"]] if index < len(questions) else []
    return tuple(sorted({name for name in named if name in ids}))


def blocks(text: str, questions: Sequence[dict[str, Any]]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Line ranges [first, last) that a heading (or a titled box) assigns to the questions it names.

    A heading's block runs to the next heading of its level or above; a run-in heading's to the next
    heading of any kind; a box's to its \\end."""
    if not questions:
        return []
    line_of = lambda offset: text.count("\n", 0, offset) + 1  # noqa: E731
    headings = []
    for match in HEADING.finditer(text):
        level = HEADING_LEVELS[match[1]] if match[1] else RUN_IN
        opening = match.start(2) if match[2] and match[2].startswith("{") else match.end() - 1
        headings.append(
            (
                line_of(match.start()),
                level,
                named_questions(text[opening : group_end(text, opening) or len(text)], questions),
            )
        )
    found = []
    for index, (line, level, named) in enumerate(headings):
        if not named:
            continue
        later = [
            other
            for other, other_level, _ in headings[index + 1 :]
            if other > line and (other_level <= level or level == RUN_IN)
        ]
        found.append((line, later[0] if later else line_of(len(text)) + 1, named))
    for match in TITLED_BOX.finditer(text):
        named = named_questions(match[2], questions)
        close = text.find(f"\\end{{{match[1]}}}", match.end())
        if named and close > 0:
            found.append((line_of(match.start()), line_of(close) + 1, named))
    return sorted(found, key=lambda block: (-block[0], block[1]))


def in_spans(offset: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    index = bisect.bisect_right(starts, offset)
    return any(start <= offset < end for start, end in spans[max(0, index - 8) : index])


# --- questions, scores and verdicts --------------------------------------------------------------


LABEL = re.compile(r"\\label\s*(?:\[([^\]]*)\])?\s*\{([^}]*)\}")
RQ_PREFIX = re.compile(r"^\s*RQ\s*-?\s*\d+[a-z]?\s*[:.)-]?\s*", re.IGNORECASE)


def question_text(text: str, raw_item: str) -> str:
    """The item's words, without what a \\label[type]{key} (cleveref) leaves when it is not parsed."""
    label = LABEL.search(raw_item)
    if label and label[1] is not None:
        text = re.sub(rf"^\s*\[?\s*{re.escape(label[1].strip())}\s*\]\s*{re.escape(label[2])}\s*", "", text)
    return text.strip()


def questions_of(section: Source) -> list[dict[str, Any]]:
    """Each \\item of the RQ section's list: id (RQ1, RQ2, ... or its \\label{rq:id}), text, file, line."""
    lines = section.text.splitlines()
    starts = [line for line, _, _ in section.items] + [len(lines) + 1]
    questions = []
    for number, (line, text, label) in enumerate(section.items, 1):
        raw = "\n".join(lines[line - 1 : starts[number] - 1])
        found = LABEL.search(raw)
        key = label or (found[2] if found else "")
        question_id = key.removeprefix("rq:") if key.startswith("rq:") else f"RQ{number}"
        questions.append(
            {"id": question_id, "text": question_text(text, raw), "file": section.path, "line": line, "label": key}
        )
    follow_ups(questions)
    return questions


def follow_ups(questions: list[dict[str, Any]]) -> None:
    """A follow-up with no word of its own ("(ii) If so, how does it?") asks about the question before it (and a
    follow-up of a follow-up about the whole chain): their words become its `context`."""
    for previous, question in itertools.pairwise(questions):
        if not similarity.terms(own_words(question)):
            question["context"] = query(previous)


def own_words(question: dict[str, Any]) -> str:
    """The question's own text, without a leading "RQ2:"."""
    return RQ_PREFIX.sub("", question["text"])


def query(question: dict[str, Any]) -> str:
    """The words a question is matched on: its own, after those of the question it follows up when it has none
    (its `context`)."""
    return " ".join(filter(None, [question.get("context"), own_words(question)]))


def paper_sentences(
    questions: list[dict[str, Any]], sources: dict[str, Source], settings: dict[str, Any]
) -> tuple[list[Sentence], list[Sentence]]:
    """Every sentence outside the research-question section, and those of them that may be evidence."""
    question_terms = [set(similarity.terms(query(q))) for q in questions]
    sentences = [
        sentence
        for sid, source in sources.items()
        if sid != settings["research_questions_section"]
        for sentence in sentences_of(sid, source, question_terms, questions)
    ]
    candidates = [s for s in sentences if s.excluded is None and s.section in settings["coverage_sections"]]
    return sentences, candidates


def evidence_scores(
    raw: Sequence[Sequence[float]],
    questions: list[dict[str, Any]],
    candidates: list[Sentence],
    sentences: list[Sentence],
    settings: dict[str, Any],
) -> list[list[float]]:
    """Each candidate sentence's evidence for each question, 0 to 1, from its similarity `raw[q][c]`:
    weighted up when it states a finding, down when it has none of the question's distinctive terms,
    and by structure (`structure_weight`) when it stands under a heading that names a question."""
    weights = similarity.idf([similarity.terms(s.text) for s in sentences])
    question_terms = [set(similarity.terms(query(q))) for q in questions]
    candidate_terms = [set(similarity.terms(s.text)) for s in candidates]
    use_structure = similarity_settings(settings)["structure"]
    rows = []
    for q_index, question in enumerate(questions):
        focus = focus_terms(question_terms[q_index], weights)
        row = []
        for c_index, sentence in enumerate(candidates):
            score = weighted(raw[q_index][c_index], sentence.text, bool(focus & candidate_terms[c_index]))
            if use_structure:
                score *= structure_weight(sentence, question["id"], settings["answer_sections"])
            if sentence.section not in settings["answer_sections"]:
                score *= OUTSIDE_ANSWER_WEIGHT
            row.append(round(min(1.0, score), 4))
        rows.append(row)
    return rows


def attributed(raw: Sequence[Sequence[float]], fraction: float) -> list[list[float]]:
    """Each question's similarities `raw[q][c]`, with 0 where sentence c is clearly another question's: its
    similarity to this question is below `fraction` of its best similarity to any other question. Papers
    ask on-topic questions in shared words; a finding for one of them is then no evidence for the rest."""
    if not fraction or len(raw) < 2:
        return [list(row) for row in raw]
    # each sentence's best and second-best question: a question's rival is the best other than itself
    tops = [sorted(range(len(column)), key=lambda q: -column[q])[:2] for column in zip(*raw, strict=True)]
    rivals = [
        [raw[second if first == q else first][c] for c, (first, second) in enumerate(tops)] for q in range(len(raw))
    ]
    return [
        [value if value >= fraction * rival else 0.0 for value, rival in zip(row, rivals[q], strict=True)]
        for q, row in enumerate(raw)
    ]


def structure_weight(sentence: Sentence, question_id: str, answer_sections: Sequence[str]) -> float:
    """How the heading a sentence stands under weighs its evidence for a question.

    A finding under a heading of an answer section that names the question ("\\subsection{RQ2: ...}",
    "Answering RQ2", "{\\bf RQ2.}") is the answer the author filed there: STRUCTURE_WEIGHT. A sentence
    under a heading that names only other questions is their answer, not this one's: OTHER_QUESTION_WEIGHT.
    A sentence under no such heading (papers not organised by question) keeps its similarity alone."""
    if not sentence.block:
        return 1.0
    if question_id not in sentence.block:
        return OTHER_QUESTION_WEIGHT
    if sentence.section in answer_sections and FINDING.search(sentence.text):
        return STRUCTURE_WEIGHT
    return 1.0


def propagated(
    scores: list[list[float]],
    questions: list[dict[str, Any]],
    candidates: list[Sentence],
    sentences: list[Sentence],
    settings: dict[str, Any],
    score: similarity.Scorer,
) -> list[list[float]]:
    """Evidence that restates a question's best answer: a conclusion sums up a finding of the results in
    other words than the question's. A sentence's evidence is at least the best answer's score times the
    sentence's similarity to that answer (both at most 1, so a weak best answer lends little), weighed
    down outside the answer sections and under other questions' headings as a direct match is."""
    answer_sections = settings["answer_sections"]
    answers = [i for i, c in enumerate(candidates) if c.section in answer_sections]
    if not answers or not scores:
        return scores
    best = [max(answers, key=lambda i: (row[i], -i)) for row in scores]
    similar = score([candidates[i].text for i in best], [c.text for c in candidates], [s.text for s in sentences])
    use_structure = similarity_settings(settings)["structure"]

    def weight(question: dict[str, Any], sentence: Sentence) -> float:
        outside = 1.0 if sentence.section in answer_sections else OUTSIDE_ANSWER_WEIGHT
        other = sentence.block and question["id"] not in sentence.block and use_structure
        return outside * (OTHER_QUESTION_WEIGHT if other else 1.0)

    return [
        [
            row[c] if c == b else max(row[c], round(row[b] * similar[q][c] * weight(questions[q], candidates[c]), 4))
            for c in range(len(candidates))
        ]
        for q, (row, b) in enumerate(zip(scores, best, strict=True))
    ]


def best_matches(
    questions: list[dict[str, Any]],
    sources: dict[str, Source],
    settings: dict[str, Any],
    scorer: similarity.Scorer | None = None,
    raw: Sequence[Sequence[float]] | None = None,
    titles: dict[str, str] | None = None,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per question and coverage section: the best matches, markers first, then sentences by score, the
    first with its verdict (`titles`: the sections' titles, by id, for topic_sections())."""
    options = similarity_settings(settings)
    topics = topic_sections(questions, titles or {}, settings)
    named = named_questions_by_section(questions, sources, settings)
    unnamed = unnamed_questions(questions, named)
    named_ids = [q["id"] for q in questions if any(q["id"] in ids for ids in named.values())]  # in list order
    sentences, candidates = paper_sentences(questions, sources, settings)
    score = scorer or similarity.scorer(options["method"])
    if raw is None:
        raw = score([query(q) for q in questions], [s.text for s in candidates], [s.text for s in sentences])
    scores = evidence_scores(attributed(raw, ATTRIBUTION), questions, candidates, sentences, settings)
    if PROPAGATE:
        scores = propagated(scores, questions, candidates, sentences, settings, score)
    matches: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for q_index, question in enumerate(questions):
        matches[question["id"]] = {}
        for sid in settings["coverage_sections"]:
            if sid not in sources:
                continue
            marked = [
                {"file": p.path or sources[sid].path, "line": p.line, "score": 1.0, "marker": True, "sentence": p.text}
                for p in sources[sid].paragraphs
                if question["id"] in p.addresses
            ]
            marked += [  # the paper's own "Answer to RQ2: ..." is a marker in words, whatever the sentence says
                {"file": s.file, "line": s.line, "score": 1.0, "marker": True, "sentence": s.text}
                for s in sentences
                if s.section == sid and s.excluded != FLOAT and question["id"] in labelled_answer(s.text, questions)
            ]
            scored = sorted(
                (
                    {"file": s.file, "line": s.line, "score": scores[q_index][i], "marker": False, "sentence": s.text}
                    for i, s in enumerate(candidates)
                    if s.section == sid
                ),
                key=lambda match: (-match["score"], match["line"]),
            )
            matches[question["id"]][sid] = (marked + scored)[: options["best_sentences"]]
        tops = {sid: best[0] if best else None for sid, best in matches[question["id"]].items()}
        breaks_naming = options["naming"] and question["id"] in unnamed
        decided_all = question_verdicts(
            tops, settings["answer_sections"], options, topics[question["id"]], breaks_naming
        )
        for sid, decided in decided_all.items():
            if tops[sid]:
                tops[sid]["verdict"] = decided
                tops[sid]["named_instead"] = named_ids if breaks_naming else []
                tops[sid]["topic_section"] = sid in topics[question["id"]]
    return matches


def topic_sections(
    questions: list[dict[str, Any]], titles: dict[str, str], settings: dict[str, Any]
) -> dict[str, frozenset[str]]:
    """Per question, the coverage sections outside the answer sections whose title names the question's own
    topic: a term of the question that no other question of the paper has ("Water flow" for "How well can
    ... model water flow ...?"). Papers that report one study per question file its answer there."""
    terms = [set(similarity.terms(own_words(q))) for q in questions]
    outside = [sid for sid in settings["coverage_sections"] if sid not in settings["answer_sections"]]
    found: dict[str, frozenset[str]] = {}
    for index, question in enumerate(questions):
        own = terms[index].difference(*(t for other, t in enumerate(terms) if other != index))
        named = {sid for sid in outside if TOPIC_SECTIONS and own & set(similarity.terms(titles.get(sid, "")))}
        # a follow-up with no word of its own has the topic of the question it follows up
        found[question["id"]] = found[questions[index - 1]["id"]] if question.get("context") else frozenset(named)
    return found


# A paper that names fewer of its questions (at least two, and at least half of them) where it answers them
# has no naming convention (a dissertation that names one question in passing has none).
NAMING_MIN = 2


def named_questions_by_section(
    questions: Sequence[dict[str, Any]], sources: dict[str, Source], settings: dict[str, Any]
) -> dict[str, frozenset[str]]:
    """The questions each answer section names ("RQ2", "RQ1--RQ3", "research question 2", \\ref{rq:2}, "our
    second research question"), in its source and the files it includes; comments, verbatim and \\iffalse are
    not read. (Purpose and method sections name questions in passing: "RQ1 and RQ2 build on ...".)"""
    found = {}
    for sid in settings["answer_sections"]:
        if sid == settings["research_questions_section"] or sid not in sources:
            continue
        texts = [sources[sid].text, *included_files(sources[sid]).values()]
        # what TeX does not typeset names nothing
        typeset = [mask_skipped(text, comments=True, own=sources[sid].verbatim) for text in texts]
        found[sid] = frozenset(q for text in typeset for q in named_questions(text, questions))
    return found


def unnamed_questions(questions: Sequence[dict[str, Any]], named: dict[str, frozenset[str]]) -> frozenset[str]:
    """The questions that break the paper's naming convention: when the answer sections name at least
    NAMING_MIN of the paper's questions and at least half of them (as papers do that file each answer
    under "RQ2: ..." or write "RQ2 is answered ..."), the questions they never name. An author who names
    where each question is answered and never names this one has most likely not answered it (README,
    "Lint")."""
    mentioned = frozenset().union(*named.values()) if named else frozenset()
    if len(mentioned) < max(NAMING_MIN, len(questions) / 2):
        return frozenset()
    return frozenset(q["id"] for q in questions if q["id"] not in mentioned)


def focus_terms(question_terms: set[str], weights: dict[str, float]) -> set[str]:
    """A question's distinctive terms: the rarer half in the paper (by idf; unseen terms are the rarest).

    A sentence that shares only the paper's common topic words with a question (e.g. the tool's name)
    is about the topic, not about what the question asks."""
    ranked = sorted(question_terms, key=lambda term: (-weights.get(term, float("inf")), term))
    return set(ranked[: max(1, len(ranked) // 2)])


def weighted(score: float, sentence: str, on_focus: bool = True) -> float:
    """A sentence's similarity, weighted up when it states a finding and down when it has none of the
    question's distinctive terms; 0 to 1, 4 decimals."""
    weight = (1 + FINDING_WEIGHT * bool(FINDING.search(sentence))) * (1 if on_focus else OFF_FOCUS_WEIGHT)
    return min(1.0, float(score) * weight)


def unknown_markers(sources: dict[str, Source], known: set[str]) -> list[Finding]:
    return [
        finding(
            "R004",
            source.path,
            paragraph.line,
            f"\\addresses{{{marker}}}: no research question '{marker}' (known: {', '.join(sorted(known))})",
        )
        for source in sources.values()
        for paragraph in source.paragraphs
        for marker in paragraph.addresses
        if marker not in known
    ]


def where(match: dict[str, Any]) -> str:
    sentence = match["sentence"] if len(match["sentence"]) <= 90 else match["sentence"][:87] + "..."
    return f"'{sentence}' ({match['file']}:{match['line']}, {match['score']:.3f})"


def answer_findings(question: dict[str, Any], answers: dict[str, list[dict[str, Any]]], options: dict) -> list:
    """R002 or R003 for a question, once, from its verdicts in the answer sections."""
    verdicts = {
        sid: best[0].get("verdict", verdict(best[0], options)) if best else NONE for sid, best in answers.items()
    }
    if not verdicts or any(v in ADDRESSED for v in verdicts.values()):
        return []
    tops = [best[0] for best in answers.values() if best]
    top = max(tops, key=lambda m: (m["score"], -m["line"]), default=None)
    sections = " or ".join(answers)
    if any(v == WEAK for v in verdicts.values()):
        weak = ", ".join(sid for sid, v in verdicts.items() if v == WEAK)
        message = (
            f"{question['id']} is only weakly addressed in {sections} (weak in {weak}; "
            f"best sentence {where(top)} < {options['addressed']})"
        )
        return [finding("R003", question["file"], question["line"], message)]
    marker = f"\\addresses{{{question['id']}}}"
    if top and top.get("named_instead"):
        message = (
            f"{question['id']} is not addressed in {sections}: they name {', '.join(top['named_instead'])} where"
            f" they answer them, never {question['id']}, and no {marker} marker says where it is"
            f" (best sentence {where(top)})"
        )
        return [finding("R002", question["file"], question["line"], message)]
    best = f"best sentence {where(top)} < {options['weak']}" if top else "no sentence to compare"
    message = f"{question['id']} is not addressed in {sections}: no {marker} marker, {best}"
    return [finding("R002", question["file"], question["line"], message)]


def check(
    metadata: dict[str, Any],
    sources: dict[str, Source],
    scorer: similarity.Scorer | None = None,
) -> tuple[list[Finding], Coverage]:
    """R001-R004 and the coverage of every question (the report's matrix)."""
    settings, coverage = metadata["lint"], Coverage()
    section = sources.get(settings["research_questions_section"])
    if section is None:
        return [], coverage
    if not section.items:
        message = "no research questions found: list them with \\begin{itemize} \\item ..."
        return [finding("R001", section.path, 1, message)], coverage
    coverage.questions = questions_of(section)
    titles = {entry["id"]: entry.get("title", "") for entry in metadata.get("sections", [])}
    coverage.matches = best_matches(coverage.questions, sources, settings, scorer, titles=titles)
    options = similarity_settings(settings)
    found = unknown_markers(sources, {q["id"] for q in coverage.questions})
    for question in coverage.questions:
        answers = {
            sid: coverage.matches[question["id"]].get(sid, []) for sid in settings["answer_sections"] if sid in sources
        }
        found += answer_findings(question, answers, options)
    return found, coverage
