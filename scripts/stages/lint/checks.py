"""The lint's checks. Each returns Findings; none raises on bad input (bad input is a finding)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.stages.lint.bibliography import Entry, data_model, key_aliases, missing_fields, parse_bib
from scripts.stages.lint.macros import KnownMacros, first_file, kpsewhich, paper_files, resolve_include
from scripts.stages.lint.parse import (
    CITE_MACROS,
    COMPUTED_NAME,
    INCLUDE_MACROS,
    LIST_REF_MACROS,
    MULTICITE_MACROS,
    REF_MACROS,
    Macro,
    Source,
    braced_argument,
    bracketed,
    every_file,
    latex_context,
    listing_bodies,
    listing_options,
    mask_skipped,
    top_level_split,
)
from scripts.stages.metadata import METADATA, figure_path, yaml_line

# code: (default severity, one-line description). Codes are stable; README.md lists them.
CHECKS: dict[str, tuple[str, str]] = {
    "P001": ("error", "a section file does not parse as LaTeX (e.g. unbalanced braces)"),
    "P002": ("error", "a section file is not UTF-8"),
    "P003": ("warning", "a macro that neither LaTeX, the paper's packages, its own files nor lint.known_macros define"),
    "P004": ("error", "a section file named in the metadata does not exist"),
    "P005": (
        "error",
        "a file named by \\input, \\include, \\subfile, \\lstinputlisting, \\VerbatimInput, \\verbatiminput or "
        "\\inputminted is missing",
    ),
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
    "S001": ("error", "a section id under lint: names no section of the paper"),
    "S002": ("warning", "the Research Questions section holds several lists; only the first is read"),
    "X001": ("warning", "a figure is never referenced in the text"),
    "X002": ("error", "a reference to a label that is not defined"),
    "X003": ("error", "a figure without a caption or a source note"),
    "X004": (
        "error",
        "a graphic that \\includegraphics or \\includepdf includes is missing, or made by no rule and not "
        "declared static",
    ),
    "X005": ("error", "a figure is placed twice, never, or under an unknown id"),
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
    return [finding(p.code, p.path or s.path, p.line, p.message, p.col) for s in sources.values() for p in s.problems]


def unknown_macros(sources: dict[str, Source], known: KnownMacros) -> list[Finding]:
    """P003: a macro that nothing the paper loads or defines provides. Control symbols (\\%, \\&, \\,) are
    the kernel's; pylatexenc's own list of LaTeX macros counts as known too.

    When the paper loads a class or package that is not installed here, that file most likely defines the
    macros the lint does not know: one cause, so each unknown name is reported once (with its count of uses when
    it has several), at its first use in the order the lint reads the files: each section file, then the files
    it includes; not TeX's order when an included file uses the name before the rest of the section does. A book
    on a missing class had 9,205 findings for 91 names."""
    context = latex_context()
    unknown = [
        m
        for s in sources.values()
        for m in s.macros
        if m.name.isalpha() and m.name not in known and context.get_macro_spec(m.name) is None
    ]
    if not known.not_installed:
        return [
            finding("P003", m.path, m.line, f"unknown macro \\{m.name}: TeX fails unless a package defines it", m.col)
            for m in unknown
        ]
    missing = ", ".join(name.removesuffix(".sty") for name in known.not_installed)
    uses = Counter(m.name for m in unknown)
    first: dict[str, Macro] = {}
    for m in unknown:
        first.setdefault(m.name, m)
    return [
        finding(
            "P003",
            m.path,
            m.line,
            f"unknown macro \\{m.name}{f' (used {uses[m.name]} times, reported once)' if uses[m.name] > 1 else ''}"
            f": TeX fails unless a package defines it (not installed here, so not read: {missing})",
            m.col,
        )
        for m in first.values()
    ]


def citation_commands(sources: dict[str, Source], known: KnownMacros) -> set[str]:
    """The paper's own citation commands: those its files declare (\\DeclareCiteCommand), and the macros it uses
    whose names say "cite" but which nothing the lint can read defines (a class's \\citegen, from a class that
    is not installed here): by biblatex's and natbib's naming, their {key} is a citation."""
    unread = {m.name for s in sources.values() for m in s.macros if "cite" in m.name.lower() and m.name not in known}
    return set(known.cite_commands) | unread


def missing_files(metadata: dict[str, Any], root: Path, meta: Path = METADATA) -> list[Finding]:
    return [
        metadata_finding("P004", ["sections", i, "file"], f"{s['file']} does not exist", meta)
        for i, s in enumerate(metadata["sections"])
        if not (root / s["file"]).is_file()
    ]


# \input{file}, \include{file}, and TeX's own \input file (a name ends at a space, brace, backslash or %)
_PREAMBLE_INPUT = re.compile(r"\\(?:input|include)\s*\{\s*(?P<braced>[^}]+?)\s*\}|\\input\s+(?P<bare>[^\s{}\\%]+)")
_FILECONTENTS = re.compile(r"\\begin\s*\{filecontents\*?\}\s*(?:\[[^\]]*\])?\s*\{\s*([^}]+?)\s*\}")


def _brace_depths(text: str) -> list[int]:
    """The group depth at each position of a LaTeX text (escaped braces do not count)."""
    depths, depth, escaped = [], 0, False
    for char in text:
        depths.append(depth)
        if not escaped:
            depth += {"{": 1, "}": -1}.get(char, 0)
        escaped = char == "\\" and not escaped
    return depths


def missing_preamble_inputs(paper_dir: Path, root: Path, body: Collection[Path] = ()) -> list[Finding]:
    """P005 in the preamble: a file that a preamble (a .tex file beside the metadata, or one it inputs; not one of
    the `body` files, the sections and what they include) \\inputs at its top level, and that neither the paper,
    a filecontents environment nor TeX Live has: TeX stops at a missing \\input. An \\input inside a group is
    left alone: in a definition, an \\IfFileExists branch or an \\AtBeginDocument, whether and when TeX reads
    it depends on more than the file. The .sty and .cls files are left alone too: their inputs depend on their
    options."""
    found = []
    body = {path.resolve() for path in body}
    for path in (p for p in paper_files(paper_dir) if p.suffix == ".tex" and p.resolve() not in body):
        source = path.read_text(encoding="utf-8", errors="replace")
        text = mask_skipped(source, comments=True)
        written = set(_FILECONTENTS.findall(source))  # read before masking, which blanks these environments
        depths = _brace_depths(text)
        for match in _PREAMBLE_INPUT.finditer(text):
            name = (match["braced"] or match["bare"]).strip('"')  # \input{"appendix.tex"}: LaTeX takes the quotes off
            if COMPUTED_NAME.search(name) or depths[match.start()] or {name, f"{name}.tex"} & written:
                continue
            if resolve_include(name, path, root) is None and not kpsewhich((f"{name}.tex", name)):
                line = text.count("\n", 0, match.start()) + 1
                col = match.start() - text.rfind("\n", 0, match.start())
                macro = match[0].split("{")[0].split()[0]
                message = f"{macro}{{{name}}}: no such file, here or in TeX Live"
                found.append(finding("P005", path.as_posix(), line, message, col))
    return found


def settings(metadata: dict[str, Any], sources: dict[str, Source], meta: Path = METADATA) -> list[Finding]:
    """S001: every section id named under lint: is a section of the paper (else the checks that use it
    would silently do nothing); S002: the Research Questions section holds one list."""
    ids = {section["id"] for section in metadata["sections"]}
    lint, found = metadata["lint"], []
    for key in ("research_questions_section", "coverage_sections", "answer_sections"):
        named = lint.get(key)
        for index, section_id in enumerate([named] if isinstance(named, str) else named or []):
            if section_id not in ids:
                where = ["lint", key] if isinstance(named, str) else ["lint", key, index]
                message = f"lint.{key} names '{section_id}', which is not a section id ({', '.join(sorted(ids))})"
                found.append(metadata_finding("S001", where, message, meta))
    questions = sources.get(lint.get("research_questions_section", ""))
    if questions is not None and questions.lists > 1:
        message = (
            f"the Research Questions section holds {questions.lists} lists; only the first is read as the "
            "questions: merge them into one list"
        )
        where = questions.items_path or questions.path
        found.append(finding("S002", where, questions.items[0][0] if questions.items else 1, message))
    return found


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
        if allowed and name not in allowed  # a paper folder without a template (--root) has no T008
    ]
    for section in metadata["sections"]:
        source = sources.get(section["id"])
        content = [m for m in source.macros if m.name not in INCLUDE_MACROS] if source is not None else []
        if section["id"] in required and source is not None and not source.paragraphs and not content:
            found.append(finding("T003", source.path, 1, f"section '{section['title']}' is empty"))
    return found + journal_limits(metadata, meta)


def journal_limits(metadata: dict[str, Any], meta: Path = METADATA) -> list[Finding]:
    """T004-T006: the abstract, title and keywords against the journal's ranges (when the metadata has them:
    a paper linted with --root may give only its sections)."""
    settings, found = metadata["lint"], []
    if "abstract" in metadata:
        low, high = settings["abstract_words"]
        words = len(metadata["abstract"].split())
        if not low <= words <= high:
            message = f"abstract has {words} words; the journal asks for {low}-{high}"
            found.append(metadata_finding("T004", ["abstract"], message, meta))
    if "title" in metadata:
        title_words, most = len(metadata["title"].split()), settings["title_max_words"]
        if title_words > most:
            message = f"title has {title_words} words; the journal asks for at most {most}"
            found.append(metadata_finding("T005", ["title"], message, meta))
    if "keywords" in metadata:
        low, high = settings["keywords"]
        if not low <= len(metadata["keywords"]) <= high:
            message = f"{len(metadata['keywords'])} keywords; the journal asks for {low}-{high}"
            found.append(metadata_finding("T006", ["keywords"], message, meta))
    return found


def page_limits(metadata: dict[str, Any], pages: int | None) -> list[Finding]:
    """T007, the one check that needs the built PDF (the workflow runs it after the others)."""
    low, high = metadata["lint"]["pages"]
    if pages is None or low <= pages <= high:
        return []
    return [finding("T007", "build/paper.pdf", 1, f"the PDF has {pages} pages; the journal asks for {low}-{high}")]


# --- citations ----------------------------------------------------------------------------------


def cited_keys(sources: dict[str, Source], own_commands: Collection[str] = ()) -> list[tuple[str, str, int, int]]:
    """(key, file, line, col) of every citation (\\nocite{*} gives the key '*'), by biblatex's and natbib's
    commands and the paper's own (`own_commands`: citation_commands())."""
    commands = CITE_MACROS | MULTICITE_MACROS | set(own_commands)
    keys = []
    for source in sources.values():
        for macro in source.macros:
            if macro.name in commands:
                for argument in macro.arguments:
                    keys += [(k.strip(), macro.path, macro.line, macro.col) for k in argument.split(",") if k.strip()]
    return keys


def bibliography(path: Path, shown_path: str, biblatex: bool = True) -> tuple[list[Entry] | None, list[Finding]]:
    """The entries of a .bib file and the findings about reading it (B001, C005); never raises or prints.
    `biblatex`: the paper loads biblatex, so biber reads the file (BibTeX does not know biblatex's name format)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [finding("B001", shown_path, 1, "bibliography file not found")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, [finding("B001", shown_path, raw[: err.start].count(b"\n") + 1, "not UTF-8; save it as UTF-8")]
    entries, repeats, errors = parse_bib(text, data_model(), extended_names=biblatex)
    found = [
        finding("C005", shown_path, line, f"key '{key}' is already defined on line {was}") for key, line, was in repeats
    ]
    found += [finding("B001", shown_path, line, message) for line, message in errors]
    return entries, found


def with_parents(keys: set[str], entries: list[Entry], aliases: dict[str, str] | None = None) -> set[str]:
    """The cited keys and every entry they use through crossref or xdata (biblatex prints or reads those), a
    parent named by one of its `ids` aliases too."""
    aliases = aliases or {}
    by_key = {entry.key.lower(): entry for entry in entries}
    used, todo = set(keys), list(keys)
    while todo:
        entry = by_key.get(todo.pop())
        if entry is None:
            continue
        parents = [entry.raw.fields.get("crossref", ""), *entry.raw.fields.get("xdata", "").split(",")]
        for parent in (aliases.get(p.strip().lower(), p.strip().lower()) for p in parents if p.strip()):
            if parent not in used:
                used.add(parent)
                todo.append(parent)
    return used


def entry_identity(entry: Entry) -> str:
    fields = entry.raw.fields
    doi = fields.get("doi", "").lower().strip()
    if doi:
        return doi
    title = re.sub(r"[^a-z0-9]", "", fields.get("title", "").lower())
    year = fields.get("year", "") or fields.get("date", "")[:4]
    return f"{title}:{year}" if title else ""


def citations(
    sources: dict[str, Source],
    bib_path: Path,
    shown_path: str,
    own_commands: Collection[str] = (),
    biblatex: bool = True,
) -> list[Finding]:
    entries, found = bibliography(bib_path, shown_path, biblatex)
    cited = cited_keys(sources, own_commands)
    for source in sources.values():
        for paragraph in source.paragraphs:
            for match in PLAIN_CITATION.finditer(paragraph.text):
                text = match["cite"] or match["narrative"]
                message = f"'{text}' looks like a citation typed as text; use \\parencite or \\textcite"
                found.append(finding("C007", paragraph.path or source.path, paragraph.line, message))
    if entries is None:
        return found
    aliases = key_aliases(entries)  # a citation of an alias is one of its entry (biber resolves it)
    known = {entry.key.lower() for entry in entries} | aliases.keys()
    found += [
        finding("C001", path, line, f"citation key '{key}' is not in {shown_path}", col)
        for key, path, line, col in cited
        if key != "*" and key.lower() not in known
    ]
    cited_set = with_parents({aliases.get(key.lower(), key.lower()) for key, *_ in cited}, entries, aliases)
    model = data_model()
    lacking: dict[str, list[str]] = {}
    for lacking_entry, what in missing_fields(entries, model) if model else []:
        lacking.setdefault(lacking_entry.key, []).append(what)
    works: dict[str, str] = {}
    for entry in entries:
        if "*" not in cited_set and entry.key.lower() not in cited_set:  # \nocite{*} cites every entry
            found.append(finding("C002", shown_path, entry.line, f"entry '{entry.key}' is never cited"))
        if "unresolved" in entry.raw.fields.get("keywords", "").lower():
            message = f"entry '{entry.key}' is unresolved: only author and year are known"
            found.append(finding("C004", shown_path, entry.line, message))
        else:
            found += [
                finding("C003", shown_path, entry.line, f"@{entry.type} '{entry.key}' lacks {what}")
                for what in lacking.get(entry.key, [])
            ]
        identity = entry_identity(entry)
        if identity and identity in works:
            message = f"entries '{works[identity]}' and '{entry.key}' describe the same work"
            found.append(finding("C006", shown_path, entry.line, message))
        if identity:
            works.setdefault(identity, entry.key)
    return found


def astuple_tail(item: Finding) -> tuple[int, int, str, str, str]:
    return item.line, item.col, item.severity, item.code, item.message


# --- figures and cross-references -----------------------------------------------------------------


# What \\includegraphics tries after the name as given, in order: pdfTeX's \\Gin@extensions (pdftex.def), then .eps,
# which epstopdf-base adds when shell escape is restricted or on, as in TeX Live (first_file: any case, as kpathsea).
GRAPHICS_EXTENSIONS = (
    "",
    *(".pdf", ".png", ".jpg", ".mps", ".jpeg", ".jbig2", ".jb2"),
    *(".PDF", ".PNG", ".JPG", ".JPEG", ".JBIG2", ".JB2"),
    ".eps",
)
GRAPHICS_MACROS = {"includegraphics", "includepdf"}  # pdfpages finds its PDF as graphicx does
# graphicx's \\graphicspath{{figures/}{plots/}}: where \\includegraphics and \\includepdf also look
_GRAPHICS_PATH = re.compile(r"\\graphicspath\s*\{((?:\s*\{[^{}]*\}\s*,?)+)\}")


def graphics_folders(typeset: Iterable[str]) -> tuple[str, ...]:
    """The folders that the \\graphicspath of these texts names (`typeset`: as mask_skipped leaves them, without
    comments, verbatim or \\iffalse). With or without the closing /: this LaTeX (2022-11-01) looks a graphic up
    with expl3's \\file_full_name:n, which puts a / between folder and name itself (expl3-code.tex, "{#3} / #2");
    older kernels put the folder right before the name, and needed it."""
    return tuple(
        folder
        for text in typeset
        for group in _GRAPHICS_PATH.findall(text)
        for folder in re.findall(r"\{([^{}]*)\}", group)
    )


def graphic_exists(graphic: str, root: Path, folders: Iterable[str]) -> bool:
    """Whether TeX, running in `root`, finds the graphic there, in its paper/ folder (TEXINPUTS, as for \\input) or
    in one of the `folders` (\\graphicspath's, and that of a file import.sty imported)."""
    return first_file(graphic, [root / folder for folder in ("", "paper", *folders)], GRAPHICS_EXTENSIONS) is not None


# Labels that an option defines rather than \\label: a listing's `label=` (listings' \\begin{lstlisting}[label=lst:a],
# \\lstinputlisting[label=...]{file}, whose body the lint skips, and \\lstset{label=...}, which the next captioned
# listing takes), tabularray's \\begin{longtblr}[caption={..}, label={tab:a}], and pgfplots' `legend to name=`, which
# \\ref{name} typesets. Not in comments, \\iffalse branches or comment environments.
_OPTIONED = re.compile(r"\\lstinputlisting\b|\\begin\s*\{(?:long|tall)?tblr\}")
_LSTSET = re.compile(r"\\lstset\s*(?=\{)")
_LEGEND_NAME = re.compile(r"\blegend\s+to\s+name\s*=\s*(\{[^{}]*\}|[^,{}\]\s]+)")
# A \\label in a listing's body is typeset only through the listing's escape to LaTeX (`escapechar=|`:
# |\\label{line:a}|, listings' lstmisc), so it counts only when the listing's options or an \\lstset of the paper
# set one; without an escape the listing prints it as code.
_LISTING_LABEL = re.compile(r"\\label\s*\{([^{}]+)\}")
_ESCAPE_KEY = re.compile(r"\bescape(?:char|inside|begin)\s*=")


def lstset_options(typeset: str) -> list[str]:
    """The options of each \\lstset in a LaTeX text as mask_skipped leaves it (without comments or verbatim)."""
    return [found for m in _LSTSET.finditer(typeset) if (found := braced_argument(typeset, m.end())) is not None]


def option_labels(text: str, verbatim: frozenset[str] = frozenset(), escaped: bool = False) -> set[str]:
    """The labels that options define in a LaTeX text (`verbatim`: the paper's own listing environments), and those
    in listings that escape to LaTeX (by their own options, or by the paper's \\lstset: `escaped`)."""
    typeset = mask_skipped(text, comments=True, own=verbatim)
    options = listing_options(text, verbatim)
    options += [found for m in _OPTIONED.finditer(typeset) if (found := bracketed(typeset, m.end())) is not None]
    options += lstset_options(typeset)
    labels = {
        label
        for body in listing_bodies(text, verbatim)
        if escaped or _ESCAPE_KEY.search(bracketed(body, 0) or "")
        for label in _LISTING_LABEL.findall(body)
    }
    for option in (item for listing in options for item in top_level_split(listing)):
        key, _, value = option.partition("=")
        if key.strip() == "label" and value.strip():
            labels.add(value.strip("{} \t\n"))
    return labels | {name.strip("{} \t\n") for name in _LEGEND_NAME.findall(typeset)}


def figures(metadata: dict[str, Any], sources: dict[str, Source], root: Path, meta: Path = METADATA) -> list[Finding]:
    settings, found = metadata["lint"], []
    figure_ids = [f["id"] for f in metadata.get("figures", [])]
    macros = [(m.path or s.path, m) for s in sources.values() for m in s.macros]
    labels = {f"fig:{i}" for i in figure_ids} | {f"sec:{s['id']}" for s in metadata["sections"]}
    labels |= {m.arguments[0] for _, m in macros if m.name == "label" and m.arguments}
    own_texts = [path.read_text(encoding="utf-8", errors="replace") for path in paper_files((root / meta).parent)]
    verbatim = frozenset().union(*(s.verbatim for s in sources.values()))
    typeset = [
        mask_skipped(text, comments=True, own=verbatim)
        for text in [*own_texts, *(source.text for source in every_file(sources))]
    ]
    escaped = any(_ESCAPE_KEY.search(option) for text in typeset for option in lstset_options(text))
    labels |= {
        label for source in every_file(sources) for label in option_labels(source.text, source.verbatim, escaped)
    }
    referenced = set()
    for path, macro in macros:
        if macro.name in REF_MACROS:
            # cleveref's \\cref{a,b} takes a list; the kernel's \\ref{p,q} looks up the one label `p,q`
            keys = [k for a in macro.arguments for k in (a.split(",") if macro.name in LIST_REF_MACROS else [a])]
            for key in (k.strip() for k in keys):
                if COMPUTED_NAME.search(key):  # \\ref{#1} in a definition: TeX makes the name
                    continue
                referenced.add(key)
                if key not in labels:
                    found.append(
                        finding("X002", path, macro.line, f"\\{macro.name}{{{key}}}: no such label", macro.col)
                    )
    placed: dict[str, list[tuple[str, int]]] = {}
    static = set(settings.get("static_graphics", []))
    folders = graphics_folders(typeset)
    for path, macro in macros:
        if macro.name == "PaperFigure" and macro.arguments:
            figure_id = macro.arguments[0].strip()
            placed.setdefault(figure_id, []).append((path, macro.line))
            if figure_id not in figure_ids:
                message = f"\\PaperFigure{{{figure_id}}}: no figure '{figure_id}' in {METADATA}"
                found.append(finding("X005", path, macro.line, message, macro.col))
        if macro.name in GRAPHICS_MACROS and macro.arguments and not COMPUTED_NAME.search(macro.arguments[-1]):
            graphic = macro.arguments[-1].strip().replace('"', "")  # graphics.sty's \\unquote@name drops every "
            workflow = "figures" in metadata  # a folder linted with --root has no workflow making figures
            if workflow and graphic not in {figure_path(i) for i in figure_ids} and graphic not in static:
                message = f"{graphic} is made by no workflow rule; declare it in lint.static_graphics"
                found.append(finding("X004", path, macro.line, message, macro.col))
            elif not graphic_exists(graphic, root, (*folders, *macro.graphics_folders)):
                found.append(finding("X004", path, macro.line, f"{graphic} does not exist", macro.col))
    for index, figure in enumerate(metadata.get("figures", [])):
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
