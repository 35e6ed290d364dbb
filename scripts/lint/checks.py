"""The lint's checks. Each returns Findings; none raises on bad input (bad input is a finding)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.lint.parse import CITE_MACROS, MULTICITE_MACROS, REF_MACROS, Source
from scripts.lint.similarity import cosine, idf, terms, vector
from scripts.metadata import METADATA, figure_path, yaml_line

# code: (default severity, one-line description). Codes are stable; README.md lists them.
CHECKS: dict[str, tuple[str, str]] = {
    "P001": ("error", "a section file does not parse as LaTeX (e.g. unbalanced braces)"),
    "P002": ("error", "a section file is not UTF-8"),
    "P003": ("warning", "a macro that neither LaTeX, biblatex nor paper/epsbs.sty defines"),
    "P004": ("error", "a section file named in the metadata does not exist"),
    "T001": ("error", "a section the journal requires is missing"),
    "T002": ("error", "the required sections are not in the journal's order"),
    "T003": ("error", "a required section is empty"),
    "T004": ("warning", "the abstract's word count is outside the journal's range"),
    "T005": ("warning", "the title has more words than the journal allows"),
    "T006": ("warning", "the number of keywords is outside the journal's range"),
    "T007": ("warning", "the PDF's page count is outside the journal's range"),
    "T008": ("warning", "a section that is neither required nor optional in the template"),
    "R001": ("error", "the Research Questions section states no questions (no \\item list)"),
    "R002": ("error", "a research question is addressed in none of the answer sections (Findings, Conclusion)"),
    "R003": ("warning", "a research question is only weakly addressed in an answer section"),
    "R004": ("error", "an \\addresses{...} marker names an unknown research question"),
    "C001": ("error", "a citation key is not in the bibliography"),
    "C002": ("warning", "a bibliography entry is never cited"),
    "C003": ("warning", "a bibliography entry lacks a field its type requires"),
    "C004": ("info", "a bibliography entry is marked unresolved (the work was not identified)"),
    "C005": ("error", "a bibliography key is defined twice"),
    "C006": ("warning", "two bibliography entries describe the same work (same DOI, or same title and year)"),
    "C007": ("warning", "an author-year citation typed as plain text instead of a citation command"),
    "B001": ("error", "the bibliography does not parse"),
    "X001": ("warning", "a figure is never referenced in the text"),
    "X002": ("error", "a reference to a label that is not defined"),
    "X003": ("error", "a figure without a caption or a source note"),
    "X004": ("error", "an included graphics file is missing, or made by no rule and not declared static"),
    "X005": ("error", "a figure is placed twice, never, or under an unknown id"),
}

REQUIRED_FIELDS = {
    "article": ["author", "title", "journal", "year"],
    "book": ["author|editor", "title", "publisher", "year"],
    "incollection": ["author", "title", "booktitle", "year"],
    "inproceedings": ["author", "title", "booktitle", "year"],
    "techreport": ["author", "title", "institution", "year"],
    "report": ["author", "title", "institution", "year"],
    "thesis": ["author", "title", "institution|school", "year"],
    "misc": ["author|title", "year"],
    "online": ["author|title", "year|date", "url"],  # biblatex's date (year-month-day) replaces year
}
_NAME = r"[A-Z][\w'’\-]+(?: (?:&|and) [A-Z][\w'’\-]+| et al\.?)?"
_YEAR = r"(?:1[89]|20)\d\d[a-z]?"
PLAIN_CITATION = re.compile(rf"\((?:[^()]*?; )?(?P<cite>{_NAME},? {_YEAR})|(?P<narrative>\b{_NAME} \({_YEAR}\))")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    col: int
    severity: str
    code: str
    message: str


@dataclass
class Coverage:
    """Where each research question is addressed: per section, the best paragraphs and their scores."""

    questions: list[dict[str, Any]] = field(default_factory=list)  # id, text, file, line
    matches: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # id -> section -> best


def finding(code: str, path: str, line: int, message: str, col: int = 1) -> Finding:
    return Finding(path, line, col, CHECKS[code][0], code, message)


def metadata_finding(code: str, keys: list[str | int], message: str, meta: Path = METADATA) -> Finding:
    """A finding about the metadata file, at the line of the key it is about."""
    return finding(code, meta.as_posix(), yaml_line(meta, keys) or 1, message)


# --- sources ---------------------------------------------------------------------------------


def source_problems(sources: dict[str, Source]) -> list[Finding]:
    return [finding(p.code, s.path, p.line, p.message, p.col) for s in sources.values() for p in s.problems]


def missing_files(metadata: dict[str, Any], root: Path, meta: Path = METADATA) -> list[Finding]:
    return [
        metadata_finding("P004", ["sections", i, "file"], f"{s['file']} does not exist", meta)
        for i, s in enumerate(metadata["sections"])
        if not (root / s["file"]).is_file()
    ]


# --- journal template ------------------------------------------------------------------------


def template(metadata: dict[str, Any], sources: dict[str, Source], meta: Path = METADATA) -> list[Finding]:
    settings, found = metadata["lint"], []
    ids = [s["id"] for s in metadata["sections"]]
    required = settings["required_sections"]
    found += [
        metadata_finding("T001", ["sections"], f"required section '{n}' is missing", meta)
        for n in required
        if n not in ids
    ]
    present = [name for name in ids if name in required]
    expected = [name for name in required if name in ids]
    if present != expected:
        order = f"sections in order {', '.join(present)}; the journal's order is {', '.join(expected)}"
        found.append(metadata_finding("T002", ["sections"], order, meta))
    allowed = set(required) | set(settings.get("optional_sections", []))
    found += [
        metadata_finding("T008", ["sections", i], f"section '{name}' is not in the template", meta)
        for i, name in enumerate(ids)
        if name not in allowed
    ]
    for section in metadata["sections"]:
        source = sources.get(section["id"])
        if section["id"] in required and source is not None and not source.paragraphs and not source.macros:
            found.append(finding("T003", source.path, 1, f"section '{section['title']}' is empty"))
    low, high = settings["abstract_words"]
    words = len(metadata["abstract"].split())
    if not low <= words <= high:
        found.append(
            metadata_finding(
                "T004", ["abstract"], f"abstract has {words} words; the journal asks for {low}-{high}", meta
            )
        )
    title_words, most = len(metadata["title"].split()), settings["title_max_words"]
    if title_words > most:
        found.append(
            metadata_finding(
                "T005", ["title"], f"title has {title_words} words; the journal asks for at most {most}", meta
            )
        )
    low, high = settings["keywords"]
    if not low <= len(metadata["keywords"]) <= high:
        count = len(metadata["keywords"])
        found.append(
            metadata_finding("T006", ["keywords"], f"{count} keywords; the journal asks for {low}-{high}", meta)
        )
    return found


def page_limits(metadata: dict[str, Any], pages: int | None) -> list[Finding]:
    """T007, the one check that needs the built PDF (the workflow runs it after the others)."""
    low, high = metadata["lint"]["pages"]
    if pages is None or low <= pages <= high:
        return []
    return [finding("T007", "build/paper.pdf", 1, f"the PDF has {pages} pages; the journal asks for {low}-{high}")]


# --- research questions -----------------------------------------------------------------------


def best_score(coverage: Coverage, question_id: str, section_id: str) -> float:
    matches = coverage.matches.get(question_id, {}).get(section_id, [])
    return matches[0]["score"] if matches else 0.0


def status(score: float, similarity: dict[str, float]) -> str:
    return "addressed" if score >= similarity["addressed"] else "weak" if score >= similarity["weak"] else "-"


def research_questions(metadata: dict[str, Any], sources: dict[str, Source]) -> tuple[list[Finding], Coverage]:
    settings, coverage, found = metadata["lint"], Coverage(), []
    section = sources.get(settings["research_questions_section"])
    if section is None:
        return found, coverage
    if not section.items:
        message = "no research questions found: list them with \\begin{itemize} \\item ..."
        return [finding("R001", section.path, 1, message)], coverage
    for number, (line, text, label) in enumerate(section.items, 1):
        question_id = label.removeprefix("rq:") if label else f"RQ{number}"
        coverage.questions.append({"id": question_id, "text": text, "file": section.path, "line": line})

    paragraphs = [(sid, p) for sid, s in sources.items() for p in s.paragraphs]
    weights = idf([terms(p.text) for _, p in paragraphs] + [terms(q["text"]) for q in coverage.questions])
    similarity = settings["similarity"]
    known = {q["id"] for q in coverage.questions}
    for sid, paragraph in paragraphs:
        for marker in paragraph.addresses:
            if marker not in known:
                message = (
                    f"\\addresses{{{marker}}}: no research question '{marker}' (known: {', '.join(sorted(known))})"
                )
                found.append(finding("R004", sources[sid].path, paragraph.line, message))
    for question in coverage.questions:
        query = vector(terms(question["text"]), weights)
        coverage.matches[question["id"]] = {}
        for sid in settings["coverage_sections"]:
            if sid not in sources:
                continue
            scored = []
            for paragraph in sources[sid].paragraphs:
                marked = question["id"] in paragraph.addresses
                score = 1.0 if marked else round(cosine(query, vector(terms(paragraph.text), weights)), 4)
                scored.append({"file": sources[sid].path, "line": paragraph.line, "score": score, "marker": marked})
            scored.sort(key=lambda match: (-match["score"], match["line"]))
            coverage.matches[question["id"]][sid] = scored[: similarity.get("best_paragraphs", 3)]
        answer = {
            sid: best_score(coverage, question["id"], sid) for sid in settings["answer_sections"] if sid in sources
        }
        if answer and max(answer.values()) < similarity["weak"]:
            message = (
                f"{question['id']} is not addressed in {' or '.join(answer)} "
                f"(best match {max(answer.values()):.3f} < {similarity['weak']})"
            )
            found.append(finding("R002", question["file"], question["line"], message))
            continue
        for sid, score in answer.items():
            if similarity["weak"] <= score < similarity["addressed"]:
                best = coverage.matches[question["id"]][sid][0]
                message = (
                    f"{question['id']} is only weakly addressed in {sid} "
                    f"(best match {score:.3f} < {similarity['addressed']})"
                )
                found.append(finding("R003", best["file"], best["line"], message))
    return found, coverage


# --- citations ----------------------------------------------------------------------------------


def cited_keys(sources: dict[str, Source]) -> list[tuple[str, str, int, int]]:
    """(key, file, line, col) of every citation."""
    keys = []
    for source in sources.values():
        for macro in source.macros:
            if macro.name in CITE_MACROS | MULTICITE_MACROS:
                for argument in macro.arguments:
                    keys += [(k.strip(), source.path, macro.line, macro.col) for k in argument.split(",") if k.strip()]
    return keys


def key_lines(text: str) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """First line of each entry key, and (key, line, first line) of every repeated key."""
    first: dict[str, int] = {}
    repeats = []
    for match in re.finditer(r"^\s*@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,", text, re.M):
        if match[1].lower() in ("comment", "string", "preamble"):
            continue
        key, line = match[2].lower(), text.count("\n", 0, match.start()) + 1
        if key in first:
            repeats.append((match[2], line, first[key]))
        first.setdefault(key, line)
    return first, repeats


def bibliography(path: Path):
    """(pybtex data, key lines) and findings; a .bib that does not parse is a finding, not an exception."""
    from pybtex import errors
    from pybtex.database import BibliographyDataError, parse_string
    from pybtex.scanner import PybtexSyntaxError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [finding("B001", str(path), 1, "bibliography file not found")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, [finding("B001", str(path), raw[: err.start].count(b"\n") + 1, "not UTF-8; save it as UTF-8")]
    first, repeats = key_lines(text)
    found = [
        finding("C005", str(path), line, f"key '{key}' is already defined on line {was}") for key, line, was in repeats
    ]
    try:
        try:
            data = parse_string(text, "bibtex")
        except BibliographyDataError:  # a repeated key, reported above: keep the first entry and go on
            errors.set_strict_mode(False)
            try:
                data = parse_string(text, "bibtex")
            finally:
                errors.set_strict_mode(True)
    except PybtexSyntaxError as err:
        return None, [*found, finding("B001", str(path), err.lineno or 1, f"does not parse: {err.error_type}")]
    except Exception as err:  # pybtex raises other types for some malformed input
        return None, [*found, finding("B001", str(path), 1, f"does not parse: {str(err).splitlines()[0]}")]
    return (data, first), found


def entry_identity(entry) -> str:
    doi = entry.fields.get("doi", "").lower().strip()
    if doi:
        return doi
    title = re.sub(r"[^a-z0-9]", "", entry.fields.get("title", "").lower())
    return f"{title}:{entry.fields.get('year', '')}" if title else ""


def citations(sources: dict[str, Source], bib_path: Path, shown_path: str) -> list[Finding]:
    parsed, found = bibliography(bib_path)
    cited = cited_keys(sources)
    for source in sources.values():
        for paragraph in source.paragraphs:
            for match in PLAIN_CITATION.finditer(paragraph.text):
                text = match["cite"] or match["narrative"]
                message = f"'{text}' looks like a citation typed as text; use \\parencite or \\textcite"
                found.append(finding("C007", source.path, paragraph.line, message))
    if parsed is None:
        return [Finding(shown_path, f.line, f.col, f.severity, f.code, f.message) for f in found]
    data, lines = parsed
    entries = {key.lower() for key in data.entries}
    found += [
        finding("C001", path, line, f"citation key '{key}' is not in {shown_path}", col)
        for key, path, line, col in cited
        if key.lower() not in entries
    ]
    cited_set = {key.lower() for key, *_ in cited}
    works: dict[str, str] = {}
    for key, entry in data.entries.items():
        line = lines.get(key.lower(), 1)
        if key.lower() not in cited_set:
            found.append(finding("C002", shown_path, line, f"entry '{key}' is never cited"))
        if "unresolved" in entry.fields.get("keywords", "").lower():
            found.append(
                finding("C004", shown_path, line, f"entry '{key}' is unresolved: only author and year are known")
            )
        else:
            for required in REQUIRED_FIELDS.get(entry.type.lower(), []):
                if not any(name in entry.fields or name in entry.persons for name in required.split("|")):
                    message = f"@{entry.type} '{key}' lacks {required.replace('|', ' or ')}"
                    found.append(finding("C003", shown_path, line, message))
        identity = entry_identity(entry)
        if identity and identity in works:
            found.append(
                finding("C006", shown_path, line, f"entries '{works[identity]}' and '{key}' describe the same work")
            )
        if identity:
            works.setdefault(identity, key)
    return [Finding(shown_path if f.path == str(bib_path) else f.path, *astuple_tail(f)) for f in found]


def astuple_tail(item: Finding) -> tuple[int, int, str, str, str]:
    return item.line, item.col, item.severity, item.code, item.message


# --- figures and cross-references -----------------------------------------------------------------


def figures(metadata: dict[str, Any], sources: dict[str, Source], root: Path, meta: Path = METADATA) -> list[Finding]:
    settings, found = metadata["lint"], []
    figure_ids = [f["id"] for f in metadata["figures"]]
    macros = [(s.path, m) for s in sources.values() for m in s.macros]
    labels = {f"fig:{i}" for i in figure_ids} | {f"sec:{s['id']}" for s in metadata["sections"]}
    labels |= {m.arguments[0] for _, m in macros if m.name == "label" and m.arguments}
    referenced = set()
    for path, macro in macros:
        if macro.name in REF_MACROS:
            for key in (k.strip() for a in macro.arguments for k in a.split(",")):
                referenced.add(key)
                if key not in labels:
                    found.append(
                        finding("X002", path, macro.line, f"\\{macro.name}{{{key}}}: no such label", macro.col)
                    )
    placed: dict[str, list[tuple[str, int]]] = {}
    static = set(settings.get("static_graphics", []))
    for path, macro in macros:
        if macro.name == "PaperFigure" and macro.arguments:
            figure_id = macro.arguments[0].strip()
            placed.setdefault(figure_id, []).append((path, macro.line))
            if figure_id not in figure_ids:
                message = f"\\PaperFigure{{{figure_id}}}: no figure '{figure_id}' in {METADATA}"
                found.append(finding("X005", path, macro.line, message, macro.col))
        if macro.name == "includegraphics" and macro.arguments:
            graphic = macro.arguments[-1].strip()
            if graphic not in {figure_path(i) for i in figure_ids} and graphic not in static:
                message = f"{graphic} is made by no workflow rule; declare it in lint.static_graphics"
                found.append(finding("X004", path, macro.line, message, macro.col))
            elif not (root / graphic).exists():
                found.append(finding("X004", path, macro.line, f"{graphic} does not exist", macro.col))
    for index, figure in enumerate(metadata["figures"]):
        where = ["figures", index]
        if not placed.get(figure["id"]):
            message = f"figure '{figure['id']}' is never placed: add \\PaperFigure{{{figure['id']}}} to a section"
            found.append(metadata_finding("X005", where, message, meta))
        elif len(placed[figure["id"]]) > 1:
            found.append(finding("X005", *placed[figure["id"]][1], f"figure '{figure['id']}' is placed twice"))
        if f"fig:{figure['id']}" not in referenced:
            message = f"figure '{figure['id']}' is never referenced in the text: add \\ref{{fig:{figure['id']}}}"
            found.append(metadata_finding("X001", where, message, meta))
        for part in ("caption", "source"):
            if not str(figure.get(part, "")).strip():
                found.append(metadata_finding("X003", where, f"figure '{figure['id']}' has no {part}", meta))
    return found


def apply_settings(findings: list[Finding], overrides: dict[str, dict[str, str]]) -> list[Finding]:
    """Change the severity of findings, or drop them, as the paper's settings say (lint.checks)."""
    result = set()
    for item in findings:
        severity = overrides.get(item.code, {}).get("severity", item.severity)
        if severity != "off":
            result.add(Finding(item.path, item.line, item.col, severity, item.code, item.message))
    return sorted(result, key=lambda f: (f.path, f.line, f.col, f.code, f.message))
