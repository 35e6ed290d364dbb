"""Read section files with a real LaTeX parser (pylatexenc): paragraphs, plain text, macros, positions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexWalker,
    LatexWalkerParseError,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import LatexContextDb, MacroSpec, std_environment

from scripts.stages.lint.macros import first_file, paper_files, resolve_include

# Citation commands of biblatex and natbib (with their capitalised and starred forms): each takes
# optional [pre][post] notes and one {key,key} argument.
_CITE_BASE = (
    "cite", "parencite", "textcite", "autocite", "footcite", "footcitetext", "smartcite", "supercite",
    "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear", "citeyearpar", "citetitle",
    "citedate", "citeurl", "fullcite", "footfullcite", "citetalias", "citepalias",
)  # fmt: skip
CITE_MACROS = {*_CITE_BASE, *(name[0].upper() + name[1:] for name in _CITE_BASE), "nocite"}
# Multi-cite commands: \cites(pre)(post)[pre][post]{a}[pre][post]{b}...
MULTICITE_MACROS = {
    f"{name}cites" for name in ("", "paren", "text", "auto", "foot", "smart", "super", "Paren", "Text", "Auto", "Smart")
}
REF_MACROS = {"ref", "autoref", "cref", "Cref", "pageref", "nameref", "eqref", "vref", "Vref", "labelcref"}
LIST_REF_MACROS = {"cref", "Cref", "labelcref"}  # cleveref's, which take a comma-separated list of labels
# import.sty's \\import{dir/}{file} (from where TeX runs) and \\subimport{dir/}{file} (from the importing file's
# folder), with their aliases: the file is the folder (given a trailing /) and the name.
IMPORT_MACROS = {"import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom"}
INCLUDE_MACROS = {"input", "include", "subfile", *IMPORT_MACROS}
_WARNS_WHEN_MISSING = {"include", "includefrom", "subincludefrom"}  # LaTeX's "No file x.tex." is a warning
# Macros that read a file which is not LaTeX (a listing, a verbatim file), named as given in their last argument,
# with their arguments (options with braces inside, language={}, are one argument): the file must exist all the
# same, or TeX stops. (pdfpages' \includepdf is a graphic: X004.)
READ_FILE_MACROS = {"lstinputlisting": "[{", "VerbatimInput": "[{", "verbatiminput": "*{", "inputminted": "[{{"}
# A file name made by TeX (a macro's argument, code/#1, or a macro, \\srcdir/run.py): the lint cannot resolve it.
COMPUTED_NAME = re.compile(r"[#\\]")
# Macros this project defines (paper/epsbs.sty) or uses from biblatex, and package macros pylatexenc gets wrong, with
# how they take arguments (pylatexenc needs that to read their arguments; whether a macro exists at all is
# scripts/stages/lint/macros.py's job).
PROJECT_MACROS = {
    "PaperFigure": "{",
    "addresses": "{",
    "printbibliography": "[",
    "noindent": "",
    "textsuperscript": "{",
    "IllustrativeDataNote": "{",
    "subfile": "{",
    "label": "[{",  # cleveref's \label[type]{key}
    "@": "",  # LaTeX's sentence-end marker after a capital ("the EU\@. Hence")
    **{name: "*[[{" for name in CITE_MACROS},
    **{name: "" for name in MULTICITE_MACROS},
    **READ_FILE_MACROS,
    "includepdf": "[{",
    **{name: "*{{" for name in IMPORT_MACROS},
    "braket": "{",  # braket.sty: \def\braket#1{...} (pylatexenc gives it two, which then take a closing $)
}
# Environments whose content TeX does not typeset as text (blanked before parsing; positions are kept).
SKIPPED_ENVIRONMENTS = (
    "verbatim", "verbatim*", "Verbatim", "Verbatim*", "BVerbatim", "LVerbatim", "lstlisting", "minted", "comment",
    "filecontents", "filecontents*",
)  # fmt: skip
TEXT_ARGUMENT_MACROS = {"textit", "textbf", "emph", "textsc", "textsuperscript", "enquote", "mbox", "text"}


class _NoSpecialsContext(LatexContextDb):
    """A context without "specials" (~, --, ``), which the lint does not need: pylatexenc tests for them at
    every character, which was a quarter of the parsing time."""

    def test_for_specials(self, s, pos, parsing_state=None):
        return None


# Environments whose arguments are layout, not text (pylatexenc does not know them, and would leave
# "0.47" of \begin{minipage}{0.47\textwidth} at the start of the first sentence).
LAYOUT_ENVIRONMENTS = {
    "minipage": "[[[{",
    "multicols": "{",
    "multicols*": "{",
    "wrapfigure": "[{[{",
    "wraptable": "[{[{",
    "adjustbox": "{",
    "tcolorbox": "[",
}


Specs = frozenset[tuple[str, str]]  # (macro name, pylatexenc argument spec) that a paper's own definitions give


@cache
def latex_context(own: Specs = frozenset()) -> LatexContextDb:
    """pylatexenc's macros and environments plus this project's, in one category (looked up per macro), and the
    paper's `own` definitions of macros pylatexenc knows otherwise (own_specs)."""
    default = get_default_latex_context_db()
    macros = {spec.macroname: spec for c in reversed(default.category_list) for spec in default.d[c]["macros"].values()}
    macros |= {name: MacroSpec(name, spec) for name, spec in PROJECT_MACROS.items()}
    macros |= {name: MacroSpec(name, spec) for name, spec in own}
    environments = {
        spec.environmentname: spec
        for category in reversed(default.category_list)
        for spec in default.d[category]["environments"].values()
    }
    environments |= {name: std_environment(name, spec) for name, spec in LAYOUT_ENVIRONMENTS.items()}
    context = _NoSpecialsContext()
    context.add_context_category("lint", macros=macros.values(), environments=environments.values())
    return context


@dataclass(frozen=True)
class Problem:
    """Something wrong with the source itself, found while reading it."""

    line: int
    col: int
    code: str
    message: str
    path: str = ""  # the file it is in, when it is an included file


@dataclass
class Macro:
    name: str
    line: int
    col: int
    arguments: list[str]  # each {…} argument (for \parencites and macros without a spec: the groups after it)
    path: str = ""  # the file it is in (a section file or a file it includes)
    graphics_folders: tuple[str, ...] = ()  # import.sty's paths in effect in its file: graphics are found there too


@dataclass
class Paragraph:
    line: int
    text: str  # plain text, citations and references removed
    addresses: list[str] = field(default_factory=list)  # ids named by \addresses{…} markers
    path: str = ""  # the file it is in (a section file or a file it includes)


@dataclass
class Source:
    r"""A section file, with what the files it includes (\input, \include, \subfile) contain, in place."""

    path: str
    text: str
    macros: list[Macro]
    paragraphs: list[Paragraph]
    problems: list[Problem]
    items: list[tuple[int, str, str | None]]  # (line, plain text, \label) of each \item of the first list
    lists: int = 0  # lists (LISTS) that are not inside another list
    items_path: str = ""  # the file the items are in (an included file when the list is there)
    included: list[Source] = field(default_factory=list)
    verbatim: frozenset[str] = frozenset()  # the paper's own verbatim-like environments (verbatim_environments)


def all_included(source: Source) -> list[Source]:
    """Every file a section file includes, at any depth."""
    return [deeper for child in source.included for deeper in [child, *all_included(child)]]


def every_file(sources: dict[str, Source]) -> list[Source]:
    """Each section file and every file it includes."""
    return [source for section in sources.values() for source in [section, *all_included(section)]]


def decode(path: str, data: bytes) -> tuple[str, list[Problem]]:
    """UTF-8 text; a file that is not UTF-8 is a problem at the line of its first bad byte."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problem = Problem(line, 0, "P002", f"not UTF-8 (byte 0x{data[err.start]:02x}); save the file as UTF-8")
        return data.decode("utf-8", errors="replace"), [problem]


SKIPPED = "\x00"  # fills what TeX does not typeset: not a space, so a skipped listing does not end a paragraph


def _blank(text: str, start: int, end: int, filler: str = " ") -> str:
    """`text` with [start, end) turned into `filler`, keeping newlines so that every position stays put."""
    return text[:start] + re.sub(r"[^\n]", filler, text[start:end]) + text[end:]


# A % comment: after an even number of backslashes (`\\%` is a line break, then a comment; `\%` is a percent sign).
COMMENT = r"(?<!\\)(?:\\\\)*%[^\n]*"


@cache
def _skip_start(own: frozenset[str] = frozenset()) -> re.Pattern:
    """What starts a region TeX does not typeset; `own`: the paper's own verbatim-like environments."""
    environments = sorted({*SKIPPED_ENVIRONMENTS, *own}, key=len, reverse=True)
    return re.compile(
        COMMENT  # a comment: nothing in it starts a skipped region
        + r"|\\begin\s*\{(?P<env>"
        + "|".join(re.escape(e) for e in environments)
        + r")\}"
        r"|\\(?P<verb>verb\*?|lstinline|mintinline|mint)(?![A-Za-z])"
        r"|\\(?P<iffalse>iffalse)(?![A-Za-z])"
    )


# Environments a paper defines whose body TeX reads verbatim: listings' \lstnewenvironment{code}, fancyvrb's
# \DefineVerbatimEnvironment{code}, tcolorbox's \newtcblisting{code}, minted's \newminted{python}{...} (the
# environment `pythoncode`) or \newminted[code]{python}{...}.
_VERBATIM_DEFINER = re.compile(
    r"\\(?:lstnewenvironment|DefineVerbatimEnvironment|newtcblisting|NewTCBListing)\s*(?:\[[^\]]*\]\s*)?"
    r"\{\s*([A-Za-z*]+)\s*\}"
    r"|\\newminted\s*(?:\[\s*([A-Za-z*]+)\s*\])?\s*\{\s*([A-Za-z]+)\s*\}"
)


# How many arguments a command _DEFINITION gives: \\newcommand's [2][default], or a \\def's #1#2 (without delimiters).
_ARGUMENT_COUNT = re.compile(r"\s*(?:\[\s*(?P<count>\d)\s*\])?\s*(?P<default>\[)?")
_PARAMETERS = re.compile(r"(?P<params>(?:#\d)*)\s*\{")
_COMMAND_DEFINERS = {
    "newcommand",
    "renewcommand",
    "providecommand",
    "DeclareRobustCommand",
    "def",
    "gdef",
    "edef",
    "xdef",
}


def own_specs(texts: Iterable[str]) -> Specs:
    """How the paper's own definitions make pylatexenc read the kernel's one-letter macros (the accents \\d, \\u,
    \\v, \\r, \\b, \\c, \\H, \\t): a physics paper's \\renewcommand{\\d}{\\mathrm{d}} takes no argument, where
    pylatexenc reads the accent \\d{o} (its argument was then the closing $ of `$x = \\d$`). Longer names keep
    pylatexenc's reading: a class's \\renewcommand\\section{\\@startsection...} takes its arguments through
    \\@startsection, and the lint needs \\section's title all the same."""
    known, found = latex_context(), {}
    for text in texts:
        view = mask_skipped(text, comments=True)  # not in \\iffalse or verbatim
        for match in _DEFINITION.finditer(view):
            name = match["braced"] or match["bare"]
            if match["kind"] not in _COMMAND_DEFINERS or len(name) != 1 or not name.isalpha():
                continue
            if match["kind"].endswith("def"):
                if not (parameters := _PARAMETERS.match(view, match.end())):
                    continue  # delimited parameters: not read
                spec = "{" * parameters["params"].count("#")
            else:
                arguments = _ARGUMENT_COUNT.match(view, match.end())
                count = int(arguments["count"] or 0)
                spec = "[" + "{" * (count - 1) if arguments["default"] and count else "{" * count
            if known.get_macro_spec(name) is not None:
                found[name] = spec
    return frozenset(found.items())


def verbatim_environments(texts: Iterable[str]) -> frozenset[str]:
    """The verbatim-like environments these texts define (comments not read)."""
    names = set()
    for text in texts:
        for match in _VERBATIM_DEFINER.finditer(re.sub(COMMENT, "", text)):
            names.add(match[1] or match[2] or f"{match[3]}code")
    return frozenset(names)


_CONDITIONAL = re.compile(COMMENT + r"|\\(if[A-Za-z@]*|fi|else)(?![A-Za-z@])")


def _end_of_inline_verbatim(text: str, start: int, name: str) -> int:
    """End of \\verb|...|, \\lstinline[opts]{...} or \\mintinline{lang}{...} starting after the macro name."""
    index = start
    if name.startswith("verb") or name == "lstinline":
        index = re.compile(r"\s*(\[[^\]]*\])?").match(text, index).end()
    elif name in ("mintinline", "mint"):
        index = re.compile(r"\s*(\[[^\]]*\])?\s*\{[^}]*\}").match(text, index).end()
    if index >= len(text):
        return len(text)
    delimiter = "}" if text[index] == "{" else text[index]
    close = text.find(delimiter, index + 1)
    newline = text.find("\n", index + 1)
    if close < 0 or (0 <= newline < close):  # TeX: a \verb cannot span lines
        return newline if newline >= 0 else len(text)
    return close + 1


def _end_of_false_branch(text: str, start: int) -> tuple[int, int]:
    """(where the skipped \\iffalse branch ends, where typesetting resumes): at the matching \\else or \\fi."""
    depth = 0
    for match in _CONDITIONAL.finditer(text, start):
        name = match[1]
        if name is None:
            continue
        if name.startswith("if"):
            depth += 1
        elif name == "fi" and depth:
            depth -= 1
        elif depth == 0:  # \fi or \else of the \iffalse itself
            return match.start(), match.start() if name == "fi" else match.end()
    return len(text), len(text)


def _skipped_regions(text: str, own: frozenset[str] = frozenset()) -> Iterator[tuple[re.Match, int, int]]:
    """(the match that starts it, start, end) of each region TeX does not typeset as text, in order: % comments,
    verbatim-like environments, \\verb and its kin, \\iffalse branches. A region inside another is not one."""
    index, start_pattern = 0, _skip_start(own)
    while match := start_pattern.search(text, index):
        if match["env"]:
            end = re.compile(r"\\end\s*\{" + re.escape(match["env"]) + r"\}").search(text, match.end())
            stop = end.end() if end else len(text)
            yield match, match.start(), stop
            index = stop
        elif match["verb"]:
            stop = _end_of_inline_verbatim(text, match.end(), match["verb"])
            yield match, match.start(), stop
            index = stop
        elif match["iffalse"]:
            _, resume = _end_of_false_branch(text, match.end())
            yield match, match.start(), resume
            index = max(resume, match.end())
        else:  # a % comment, from the % on (not the \\ line break before it)
            yield match, match.end() - len(match[0].lstrip("\\")), match.end()
            index = match.end()


def mask_skipped(text: str, comments: bool = False, own: frozenset[str] = frozenset()) -> str:
    """The text without what TeX does not typeset as text (verbatim-like environments, the paper's `own` too,
    \\verb, comment environments, \\iffalse...\\fi; and % comments if `comments`), blanked in place so that lines
    and columns stay the same."""
    for match, start, stop in list(_skipped_regions(text, own)):
        if match["env"] or match["verb"] or match["iffalse"]:
            text = _blank(text, start, stop, SKIPPED)
        elif comments:
            text = _blank(text, start, stop)
    return text


def _blank_spans(text: str, spans: list[tuple[int, int]], characters: str | None = None) -> str:
    """The text with each span blanked (or only the `characters` in it), built once, whatever the number of spans."""
    pieces, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        part = text[start:end]
        pieces += [text[last:start], re.sub(f"[{re.escape(characters)}]" if characters else r"[^\n]", " ", part)]
        last = max(last, end)
    return "".join([*pieces, text[last:]])


# gb4e's and langsci-gb4e's example lists: \z ends the innermost \begin{exe} or \begin{xlist} ("works like \end{exe}
# or \end{xlist}, dep on context"), \ea and \eal open them without \begin (langsci-gb4e.sty). An environment that a
# \z closes is no environment to the parser, so its \begin (or an \end that closes an \ea) is blanked; \ea ... \z
# pairs, macros on both sides, are left as they are.
_EXAMPLE_LIST = r"(?:exe|xlist[aiAIn]?)"
_EXAMPLE_TOKEN = re.compile(
    rf"(?P<begin>\\begin\s*\{{{_EXAMPLE_LIST}\}}(?:\s*\[[^\]\n]*\])?)|(?P<end>\\end\s*\{{{_EXAMPLE_LIST}\}})"
    r"|\\(?P<macro>ea|eal|eas|easragged|eanoraggedright|ealnoraggedright|eafirst|z|zl|zs|zlast|zllast)(?![A-Za-z@])"
)
_EXAMPLE_OPENS = {
    "ea": 1,
    "eas": 1,
    "easragged": 1,
    "eanoraggedright": 1,
    "eafirst": 1,
    "eal": 2,
    "ealnoraggedright": 2,
}
_EXAMPLE_CLOSES = {"z": 1, "zs": 1, "zlast": 1, "zl": 2, "zllast": 2}


def example_lists_closed(text: str) -> str:
    """The text with the example lists that gb4e's \\z closes made plain for the parser (blanked in place)."""
    if not re.search(r"\\z(?:l|s|last|llast)?(?![A-Za-z@])", text):
        return text
    opened: list[tuple[int, int] | None] = []  # the span of each open list's \begin; None for one that \ea opened
    blanks = []
    for match in _EXAMPLE_TOKEN.finditer(mask_skipped(text, comments=True)):
        if match["begin"]:
            opened.append(match.span())
        elif match["end"]:
            if opened and opened.pop() is None:
                blanks.append(match.span())
        elif match["macro"] in _EXAMPLE_OPENS:
            opened += [None] * _EXAMPLE_OPENS[match["macro"]]
        else:
            for _ in range(min(_EXAMPLE_CLOSES[match["macro"]], len(opened))):
                if (span := opened.pop()) is not None:
                    blanks.append(span)
    return _blank_spans(text, blanks)


# A subfile (\documentclass[../main.tex]{subfiles}) read into its main document: subfiles.sty skips its preamble up
# to \begin{document}, and its \end{document} only ends the file (\endinput), so the pair need not be complete.
_SUBFILES_CLASS = re.compile(r"\\documentclass\s*(?:\[[^\]]*\])?\s*\{\s*subfiles\s*\}")
_DOCUMENT = re.compile(r"\\(?:begin|end)\s*\{document\}")


def subfile_body(text: str) -> str:
    """A subfile's text as its main document reads it: its preamble and \\begin{document}, and its \\end{document}
    with all after it, blanked in place; any other text unchanged."""
    view = mask_skipped(text, comments=True)
    if not (found := _SUBFILES_CLASS.search(view)):
        return text
    words = [match.span() for match in _DOCUMENT.finditer(view, found.start())]
    begin = next((end for start, end in words if view.startswith("\\begin", start)), None)
    end = next((start for start, _ in words if view.startswith("\\end", start)), None)
    spans = [(0, begin)] if begin is not None else []
    spans += [(end, len(text))] if end is not None else []  # \\endinput there: TeX reads no further
    return _blank_spans(text, spans)


# alltt keeps only \, { and } special: $ & # ^ _ ~ % are printed as they are (alltt.sty: \dospecials made other),
# as in knitr's code chunks (\hlopt{$}). They are blanked there, so that the parser sees no math or comment.
_ALLTT = re.compile(r"\\begin\s*\{alltt\}(.*?)(?:\\end\s*\{alltt\}|\Z)", re.S)


def alltt_specials_plain(text: str) -> str:
    """The text with the characters that alltt prints as they are blanked inside its environments."""
    if "alltt" not in text:
        return text
    return _blank_spans(
        text, [match.span(1) for match in _ALLTT.finditer(mask_skipped(text, comments=True))], "$&#^_~%"
    )


# A definition stores its body without running it: \newenvironment{bars}{\begin{axis}}{\end{axis}} or
# \newcommand{\bi}{\begin{itemize}} need not pair \begin and \end inside each argument, so there the two words are
# blanked (their {name} stays a group). Command definers take one body, environment definers two; xparse's take
# their argument spec first.
_DEFINITION = re.compile(
    r"\\(?P<kind>(?:re)?newcommand|providecommand|DeclareRobustCommand|[gex]?def|(?:re)?newenvironment"
    r"|(?:New|Renew|Provide|Declare)Document(?:Command|Environment))(?![A-Za-z@])\*?\s*(?:<>)?\s*"
    r"(?:\{\s*\\?(?P<braced>[A-Za-z@*]+)\s*\}|\\(?P<bare>[A-Za-z@]+))"  # the name: {\cmd}, \cmd or {env}
)
_BEFORE_BODY = re.compile(r"(?:\s|\[[^\]]*\]|#\d|\\[A-Za-z@]+(?=[^{]{0,200}\{))*")
_BEGIN_OR_END = re.compile(r"\\(?:begin|end)(?![A-Za-z@])")


def group_end(text: str, start: int) -> int | None:
    """The position after the } that closes the { at `start`, skipping escaped braces."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        index += 1
        if depth == 0:
            return index
    return None


def definitions_unpaired(text: str) -> str:
    """The text with \\begin and \\end blanked inside the bodies that definitions store."""
    if not re.search(r"\\(?:begin|end)\b", text):
        return text
    view, words = mask_skipped(text, comments=True), []  # a } in a comment closes no body
    for match in _DEFINITION.finditer(view):
        kind = match["kind"]
        groups = (2 if kind.endswith("nvironment") else 1) + ("Document" in kind)
        index = match.end()
        for _ in range(groups):
            # optional arguments ([1][default]) and a \def's parameter text (#1\@nil) come before the body
            skipped = _BEFORE_BODY.match(view, index)
            index = skipped.end() if skipped else index
            if index >= len(view) or view[index] != "{" or (end := group_end(view, index)) is None:
                break
            words += [word.span() for word in _BEGIN_OR_END.finditer(view, index, end)]
            index = end
    return _blank_spans(text, words)


def parse_ready(text: str, own: frozenset[str] = frozenset()) -> str:
    """What the parser reads of a file: without what TeX does not typeset (mask_skipped), with definitions' bodies,
    alltt's characters and gb4e's example lists made plain for it; every line and column stays."""
    return example_lists_closed(alltt_specials_plain(definitions_unpaired(subfile_body(mask_skipped(text, own=own)))))


def bracketed(text: str, index: int) -> str | None:
    """The [...] argument at `index` (after spaces), with brackets and braces inside it balanced, or None."""
    while index < len(text) and text[index] in " \t\n":
        index += 1
    if index >= len(text) or text[index] != "[":
        return None
    depth, start = 0, index + 1
    for position in range(index, len(text)):
        char = text[position]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return text[start:position] if char == "]" else None
    return None


def top_level_split(options: str, separator: str = ",") -> list[str]:
    """`options` split at each separator outside braces and brackets (`caption={a, b},label=x`)."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(options):
        depth += char in "[{"
        depth -= char in "]}"
        if char == separator and depth == 0:
            parts.append(options[start:position])
            start = position + 1
    return [*parts, options[start:]]


def listing_options(text: str, own: frozenset[str] = frozenset()) -> list[str]:
    """The [options] of each listing environment that TeX typesets (lstlisting and the paper's `own` verbatim-like
    environments; not one in a comment or an \\iffalse branch)."""
    return [
        options
        for match, _, _ in _skipped_regions(text, own)
        if match["env"] in {"lstlisting", *own} and (options := bracketed(text, match.end())) is not None
    ]


def listing_bodies(text: str, own: frozenset[str] = frozenset()) -> list[str]:
    """The text of each listing environment that TeX typesets (as listing_options), options included."""
    return [
        text[match.end() : stop]
        for match, _, stop in _skipped_regions(text, own)
        if match["env"] in {"lstlisting", *own}
    ]


def braced_argument(text: str, index: int) -> str | None:
    """The inside of the {group} that starts at `index` (after spaces), if one does and closes."""
    start = index + len(text[index:]) - len(text[index:].lstrip())
    if start >= len(text) or text[start] != "{" or (end := group_end(text, start)) is None:
        return None
    return text[start + 1 : end - 1]


def _walker(text: str, tolerant: bool, own: Specs = frozenset()) -> LatexWalker:
    return LatexWalker(text, latex_context=latex_context(own), tolerant_parsing=tolerant)


def _walk(nodes, walker: LatexWalker) -> Iterator[tuple[LatexMacroNode, list, int]]:
    """Every macro node with the node list it stands in and its place there, depth first, in source order; in
    maths ($...$, \\[...\\]), only the \\labels."""
    for index, node in enumerate(nodes or []):
        if node is None:
            continue
        if isinstance(node, LatexMacroNode):
            yield node, nodes, index
            for argument in (node.nodeargd.argnlist if node.nodeargd else []) or []:
                if argument is not None:
                    yield from _walk([argument], walker)
        elif isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            yield from _walk(node.nodelist, walker)
            if isinstance(node, LatexEnvironmentNode) and node.nodeargd:
                yield from _walk([a for a in node.nodeargd.argnlist or [] if a is not None], walker)
        elif isinstance(node, LatexMathNode):  # maths is not the lint's, but a \\label in \\[ ... \\] defines a label
            yield from (found for found in _walk(node.nodelist, walker) if found[0].macroname == "label")


# [pre][post] or (pre)(post) between multi-cite groups, and the star of a command the parser does not know
# (\\citegen*{key}): what lies between a citation command and its {key} groups
_OPTIONS = re.compile(r"\s*(?:\*\s*(?:(?:\[[^\]]*\]|\([^)]*\))\s*)*|(?:(?:\[[^\]]*\]|\([^)]*\))\s*)+)")


def _group_text(node) -> str:
    return node.latex_verbatim()[1:-1] if isinstance(node, LatexGroupNode) else node.latex_verbatim()


def _following_groups(siblings: list, index: int) -> list[str]:
    """The {…} groups right after the macro at `index` of `siblings`, skipping [..] options between them."""
    groups = []
    for sibling in (siblings[position] for position in range(index + 1, len(siblings))):
        if isinstance(sibling, LatexGroupNode):
            groups.append(_group_text(sibling))
        elif isinstance(sibling, LatexCharsNode) and _OPTIONS.fullmatch(sibling.chars):
            continue
        else:
            break
    return groups


# Between \makeatletter and \makeatother (or the file's end) @ is a letter: \f@size is one macro there, not \f.
_AT_LETTER = re.compile(r"\\makeatletter(?![A-Za-z@])(.*?)(?:\\makeatother(?![A-Za-z@])|\Z)", re.S)
_LETTERS_AND_AT = re.compile(r"[A-Za-z@]+")


@lru_cache(maxsize=4)  # macros_of runs once for the file and once per paragraph, on the same text
def at_letter_regions(text: str) -> tuple[range, ...]:
    """Where @ is a letter in `text`: after each \\makeatletter that is not commented out, up to its \\makeatother."""
    return tuple(range(*match.span(1)) for match in _AT_LETTER.finditer(mask_skipped(text, comments=True)))


def _macro_name(node: LatexMacroNode, text: str, at_letter: tuple[range, ...]) -> str:
    """The macro's name with the letters and @s that follow it where @ is a letter (\\f@size; pylatexenc ends
    every name before an @)."""
    name = node.macroname
    after = node.pos + 1 + len(name)
    if name.isalpha() and text[after : after + 1] == "@" and any(node.pos in region for region in at_letter):
        return _LETTERS_AND_AT.match(text, node.pos + 1).group()
    return name


def macros_of(nodes, walker: LatexWalker) -> list[Macro]:
    found = []
    at_letter = at_letter_regions(walker.s) if "\\makeatletter" in walker.s else ()
    for node, siblings, index in _walk(nodes, walker):
        line, col = walker.pos_to_lineno_colno(node.pos)
        if node.macroname in MULTICITE_MACROS or not (node.nodeargd and node.nodeargd.argnlist):
            # \parencites, and a macro pylatexenc knows no arguments for (a paper's own \fancycite{key})
            arguments = _following_groups(siblings, index)
        else:
            arguments = [
                _group_text(a)
                for a in (node.nodeargd.argnlist if node.nodeargd else []) or []
                if isinstance(a, LatexGroupNode) and a.delimiters[0] == "{"  # not [options]
            ]
        found.append(Macro(_macro_name(node, walker.s, at_letter), line, col + 1, arguments))
    return found


def _unread_citation(node: LatexMacroNode) -> bool:
    """A macro named like a citation command that pylatexenc reads no arguments for (a class's \\citegen{key}, a
    paper's own \\fancycite{key}): its {key} follows as a group, which is no text. checks.citation_commands takes
    such a macro for a citation command when nothing the lint reads defines it; one the paper defines
    (\\newcommand\\citequote[2]{...}) loses its groups from the text here all the same."""
    return "cite" in node.macroname.lower() and not (node.nodeargd and node.nodeargd.argnlist)


def plain_text(nodes) -> str:
    """The words a reader sees, without citations, references, comments or maths."""
    parts: list[str] = []
    skip_groups = False
    for node in nodes or []:
        if node is None or isinstance(node, LatexCommentNode | LatexMathNode):
            continue
        if skip_groups and (
            isinstance(node, LatexGroupNode) or (isinstance(node, LatexCharsNode) and _OPTIONS.fullmatch(node.chars))
        ):
            continue
        skip_groups = False
        if isinstance(node, LatexCharsNode):
            parts.append(node.chars.replace("~", " ").replace(SKIPPED, ""))  # a tie is a space
        elif isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            parts.append(plain_text(node.nodelist))
        elif isinstance(node, LatexMacroNode):
            if node.macroname in MULTICITE_MACROS or _unread_citation(node):
                skip_groups = True
            elif node.macroname in TEXT_ARGUMENT_MACROS and node.nodeargd:
                parts.append(" ".join(plain_text([a]) for a in node.nodeargd.argnlist or [] if a is not None))
            elif node.macroname == "item":
                parts.append(" ")
        else:  # specials such as ~ or --
            parts.append(" ")
    return "".join(parts)


def unclosed_brace_at(text: str) -> int | None:
    """Position of the first { that is never closed, skipping \\{ and % comments."""
    return next((position for position in brace_errors(text) if text[position] == "{"), None)


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a position."""
    return text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1


def unclosed_brace(text: str) -> tuple[int, int] | None:
    """(line, column) of the first { that is never closed."""
    position = unclosed_brace_at(text)
    return None if position is None else line_and_column(text, position)


def unclosed_environment(text: str, name: str) -> int | None:
    """Position of the first \\begin{name} that is never ended."""
    opened: list[int] = []
    for match in re.finditer(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}", text):
        if match[1] == "begin":
            opened.append(match.start())
        elif opened:
            opened.pop()
    return opened[0] if opened else None


def _culprit(text: str, err: LatexWalkerParseError) -> tuple[int, Problem]:
    """Where a syntax error really is (an unclosed { or environment, not the end of the file), as a position
    and a problem."""
    message = err.msg.rstrip(".") if err.msg else "LaTeX syntax error"
    position = getattr(err, "pos", None)
    if "expecting '}'" in message and (start := unclosed_brace_at(text)) is not None:
        return start, Problem(*line_and_column(text, start), "P001", "a { is never closed")
    if (env := re.search(r"expecting \\end\{([^}]+)\}", message)) and (
        (start := unclosed_environment(text, env[1])) is not None
    ):
        return start, Problem(*line_and_column(text, start), "P001", f"\\begin{{{env[1]}}} is never ended")
    if isinstance(position, int) and position > len(text):  # in END_GUARD, after the file: at its end
        return len(text), Problem(*line_and_column(text, len(text)), "P001", f"{message} (unbalanced braces?)")
    position = position if isinstance(position, int) and 0 <= position <= len(text) else 0
    line = err.lineno or text.count("\n", 0, position) + 1
    return position, Problem(line, (err.colno or 0) + 1, "P001", f"{message} (unbalanced braces?)")


def _paragraph_around(text: str, position: int) -> tuple[int, int]:
    """[start, end) of the blank-line-separated paragraph that holds `position`."""
    breaks = list(re.finditer(r"\n[ \t]*\n", text))
    start = max((m.end() for m in breaks if m.end() <= position), default=0)
    end = min((m.start() for m in breaks if m.start() >= position), default=len(text))
    return start, max(end, min(position + 1, len(text)))


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each blank-line-separated paragraph."""
    spans, start = [], 0
    for match in re.finditer(r"\n[ \t]*\n", text):
        spans.append((start, match.start()))
        start = match.end()
    return [*spans, (start, len(text))]


def brace_errors(text: str) -> list[int]:
    """Positions of every } that closes nothing and every { never closed in the whole text, skipping \\{ and
    % comments, in order. A group may span paragraphs (`\\small{` + a table + `}`, a footnote of two
    paragraphs), as TeX's \\long macros and groups allow."""
    opened: list[int] = []
    errors = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "%":
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        if char == "{":
            opened.append(index)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                errors.append(index)
        index += 1
    return sorted(errors + opened)


def _alone(text: str, start: int, end: int, own: Specs = frozenset()) -> list:
    """The nodes of text[start:end], read tolerantly on its own (at its own positions)."""
    return _walker(text[:end], tolerant=True, own=own).get_latex_nodes(pos=start)[0]


# pylatexenc fails on a macro with only optional arguments at the very end of its input ("End of input while
# parsing arguments of macro \\"), which is valid in a section file: a chapter that ends with \\ goes on in
# the next file. For a text that ends so, a \relax after the end gives it something to stop at; its node is
# dropped. (Only then: a \section or \textbf at the very end still lacks its argument.)
END_GUARD = "\n\\relax"
# Comments after it too. Possessive (*+): commented-out table rows ("% a & b \\ %") must not make the search try
# every way of splitting the comments that follow each \\ (3 s on one table of actionable-analytics-2018).
ENDS_WITH_LINE_BREAK = re.compile(r"\\\\\*?(?:\s|(?<!\\)%[^\n]*+)*+$")


def _without_guard(nodes: list, end: int) -> list:
    return [node for node in nodes if node is None or node.pos < end]


def parse_runs(
    text: str, most_errors: int = 10, own: Specs = frozenset()
) -> tuple[list[list], LatexWalker, list[Problem]]:
    """Node lists of a whole file: one for the file, one more per paragraph with a syntax error.

    A syntax error is a problem at its position and stays local to its paragraph: that paragraph is read on
    its own, tolerantly, and the rest of the file is read again without it (blanked, so positions hold).
    After the first error every brace that the whole file leaves unbalanced is reported and set aside at once
    (blanked alone, so that a group spanning paragraphs around it still closes), so that a file with many errors
    is not read once per error; past `most_errors`, each paragraph is read on its own."""
    problems: list[Problem] = []
    bad: list[tuple[int, int]] = []
    rest = text
    for attempt in range(most_errors):
        try:
            guard = END_GUARD if ENDS_WITH_LINE_BREAK.search(rest) else ""
            nodes, _, _ = _walker(rest + guard, tolerant=False, own=own).get_latex_nodes()
            nodes = _without_guard(nodes, len(rest))
            break
        except LatexWalkerParseError as err:
            unbalanced = brace_errors(rest) if attempt == 0 else []
            for position in unbalanced:  # each is reported, and only that brace is set aside
                what = "a } closes nothing" if rest[position] == "}" else "a { is never closed"
                problems.append(Problem(*line_and_column(rest, position), "P001", what))
                rest = _blank(rest, position, position + 1)
            if unbalanced:
                continue
            position, problem = _culprit(rest, err)
            problems.append(problem)
            start, end = _paragraph_around(rest, position)
            bad.append((start, end))
            rest = _blank(rest, start, end)
    else:  # too many errors to isolate: read every remaining paragraph on its own
        nodes = [node for start, end in _paragraph_spans(rest) for node in _alone(rest, start, end, own)]
    runs = [nodes, *(_alone(text, start, end, own) for start, end in bad)]
    walker = _walker(text, tolerant=True, own=own)  # for positions only: the same offsets in every blanked copy
    return runs, walker, problems


def parse_nodes(text: str) -> tuple[list, LatexWalker, list[Problem]]:
    """All nodes of a file (see parse_runs), in source order, without what TeX does not typeset."""
    runs, walker, problems = parse_runs(parse_ready(text))
    return sorted((node for run in runs for node in run if node is not None), key=lambda n: n.pos), walker, problems


def paragraphs_of(nodes, walker: LatexWalker) -> list[Paragraph]:
    """TeX's paragraphs (split at blank lines) from a file's top-level nodes, each with its first line."""
    groups: list[list] = [[]]
    starts: list[int | None] = [None]
    for node in nodes or []:
        if isinstance(node, LatexCharsNode) and re.search(r"\n[ \t]*\n", node.chars):
            pieces = re.split(r"\n[ \t]*\n\s*", node.chars)
            offset = node.pos
            for index, piece in enumerate(pieces):
                if index:
                    groups.append([])
                    starts.append(None)
                    offset = node.pos + node.chars.index(piece, offset - node.pos)
                if piece.strip():
                    groups[-1].append(
                        LatexCharsNode(parsing_state=node.parsing_state, chars=piece, pos=offset, len=len(piece))
                    )
                    starts[-1] = starts[-1] if starts[-1] is not None else offset + len(piece) - len(piece.lstrip())
                offset += len(piece)
        else:
            groups[-1].append(node)
            if starts[-1] is None and not (isinstance(node, LatexCharsNode) and not node.chars.strip()):
                starts[-1] = node.pos
    found = []
    for group, start in zip(groups, starts, strict=True):
        words = " ".join(plain_text(group).split())
        markers = [
            part.strip()
            for macro in macros_of(group, walker)
            if macro.name == "addresses"
            for argument in macro.arguments
            for part in argument.split(",")
        ]
        if (words or markers) and start is not None:
            found.append(Paragraph(walker.pos_to_lineno_colno(start)[0], words, markers))
    return found


# The lists whose \items can state research questions: LaTeX's own, enumitem's inline (starred) ones and
# paralist's ("\begin{description} \item[RQ 1.] How ...?"), and any other environment whose own content has
# \items (a list the paper defines with enumitem's \newlist{rqs}{enumerate}{1}, or one its class defines).
LISTS = frozenset(f"{name}{star}" for name in ("itemize", "enumerate", "description") for star in ("", "*")) | {
    "compactitem",
    "compactenum",
    "compactdesc",
    "asparaitem",
    "asparaenum",
    "asparadesc",
    "inparaitem",
    "inparaenum",
}


def is_list(node) -> bool:
    """A list environment (LISTS), or any environment with \\items of its own."""
    if not isinstance(node, LatexEnvironmentNode):
        return False
    own_items = any(isinstance(child, LatexMacroNode) and child.macroname == "item" for child in node.nodelist or [])
    return node.environmentname in LISTS or own_items


def items_of(nodes, walker: LatexWalker) -> list[tuple[int, str, str | None]]:
    """Each \\item of the first list (is_list): (line, plain text, label or None)."""
    for node in nodes or []:
        if is_list(node):
            items: list[tuple[int, list, str | None]] = []
            for child in node.nodelist:
                if isinstance(child, LatexMacroNode) and child.macroname == "item":
                    items.append((walker.pos_to_lineno_colno(child.pos)[0], [], None))
                elif items:
                    if isinstance(child, LatexMacroNode) and child.macroname == "label" and child.nodeargd:
                        label = _group_text(child.nodeargd.argnlist[-1])
                        items[-1] = (items[-1][0], items[-1][1], label)
                    else:
                        items[-1][1].append(child)
            return [(line, " ".join(plain_text(body).split()), label) for line, body, label in items]
        if isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            nested = items_of(node.nodelist, walker)
            if nested:
                return nested
    return []


def lists_of(nodes) -> int:
    """How many lists (is_list) the nodes hold, not counting lists inside lists."""
    count = 0
    for node in nodes or []:
        if is_list(node):
            count += 1
        elif isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            count += lists_of(node.nodelist)
    return count


def shown_path(path: Path, root: Path | None) -> str:
    """A path as findings show it: relative to the paper's folder, as TeX does."""
    if root is not None and path.is_absolute() and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.as_posix()


def _merge_included(source: Source, macro: Macro, child: Source) -> None:
    """Put an included file's content where its \\input stands: its paragraphs after the ones before it."""
    at = sum(1 for paragraph in source.paragraphs if paragraph.path == source.path and paragraph.line <= macro.line)
    source.paragraphs[at:at] = child.paragraphs
    source.macros += child.macros
    source.problems += child.problems
    if not source.items and child.items:
        source.items, source.items_path = child.items, child.items_path
    source.lists += child.lists
    source.included.append(child)


def _included_name(macro: Macro, import_paths: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """(the file an include macro names, import.sty's paths in effect while TeX reads it), or None when a form
    lacks its file. \\subimport{chapters/}{one}: the import path (within the enclosing one, for the sub forms)
    and the name; subfiles.sty's \\subfile{dir/name} is \\subimport{dir/}{name}; \\input keeps the paths."""
    name = macro.arguments[0].strip().strip('"')  # \\input{"appendix.tex"}: LaTeX takes the quotes off
    if macro.name not in IMPORT_MACROS and macro.name != "subfile":
        return name, import_paths
    if macro.name == "subfile":
        parent, file = Path(name).parent.as_posix(), Path(name).name
        folder = "" if parent == "." else parent
    elif len(macro.arguments) < 2:
        return None
    else:
        folder, file = name.strip("/"), macro.arguments[1].strip().strip('"')
    enclosing = import_paths[0] if import_paths and macro.name.startswith("sub") else ""
    current = "/".join(part for part in (enclosing, folder) if part)
    return (f"{current}/{file}", (current, *import_paths)) if current else (file, import_paths)


def read_source(
    path: str | Path,
    root: Path | None = None,
    including: frozenset[Path] = frozenset(),
    verbatim: frozenset[str] = frozenset(),
    own: Specs = frozenset(),
    import_paths: tuple[str, ...] = (),
) -> Source:
    """A section file parsed, with the files it includes followed (each finding keeps its own file:line);
    `verbatim`: the paper's own verbatim-like environments, skipped like lstlisting; `own`: how its own
    definitions make macros read (own_specs); `import_paths`: import.sty's paths in effect, innermost first
    (relative to `root`), where \\input and graphics also look."""
    path = Path(path)
    shown = shown_path(path, root)
    text, problems = decode(shown, path.read_bytes())
    runs, walker, parse_problems = parse_runs(parse_ready(text, verbatim), own=own)
    nodes = sorted((node for run in runs for node in run if node is not None), key=lambda n: n.pos)
    macros = macros_of(nodes, walker)
    paragraphs = sorted((p for run in runs for p in paragraphs_of(run, walker)), key=lambda p: p.line)
    for item in [*macros, *paragraphs]:
        item.path = shown
    source = Source(
        path=shown,
        text=text,
        macros=macros,
        paragraphs=paragraphs,
        problems=[replace(problem, path=shown) for problem in problems + parse_problems],
        items=items_of(nodes, walker),
        lists=lists_of(nodes),
        items_path=shown,
        verbatim=verbatim,
    )
    read_files = [m for m in macros if m.name in READ_FILE_MACROS and m.arguments]  # this file's, before merging
    for macro in [m for m in macros if m.name in INCLUDE_MACROS and m.arguments]:
        if (included := _included_name(macro, import_paths)) is None:
            continue
        name, paths = included
        if COMPUTED_NAME.search(name):  # \\input{parts/#1} in a definition: TeX's to resolve, not a file here
            continue
        target = resolve_include(name, path, root)
        if target is None and root is not None and import_paths:  # \\input inside an imported file
            target = first_file(name, [root / folder for folder in import_paths], (".tex", ""))
        if target is None or target.resolve() in including | {path.resolve()}:
            why = "no such file" if target is None else "the file includes itself"
            aux_folder = Path(name).parent
            folder_exists = root is None or (root / aux_folder).is_dir() or (path.parent / aux_folder).is_dir()
            if target is None and macro.name in _WARNS_WHEN_MISSING and folder_exists:  # else no .aux can be written
                why += " (LaTeX warns and leaves it out of the PDF)"
            source.problems.append(Problem(macro.line, macro.col, "P005", f"\\{macro.name}{{{name}}}: {why}", shown))
            continue
        child = read_source(target, root, including | {path.resolve()}, verbatim, own, paths)
        for imported in child.macros:  # import.sty adds its paths to \\Ginput@path while TeX reads the file
            imported.graphics_folders = imported.graphics_folders or paths
        _merge_included(source, macro, child)
    for macro in read_files:
        name = macro.arguments[-1].strip()
        if COMPUTED_NAME.search(name):
            continue
        if resolve_include(name, path, root, suffixes=("",)) is None:
            source.problems.append(
                Problem(macro.line, macro.col, "P005", f"\\{macro.name}{{{name}}}: no such file", shown)
            )
    return source


def read_sections(sections: Sequence[dict[str, Any]], root: Path) -> dict[str, Source]:
    """The paper's section files that exist, by section id, parsed (paths relative to `root`, the paper's folder),
    with the verbatim-like environments that its own files (paper_files) and its section files define."""
    files = {section["id"]: root / section["file"] for section in sections if (root / section["file"]).is_file()}
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in files.values()]
    texts += [path.read_text(encoding="utf-8", errors="replace") for path in paper_files(root / "paper")]
    verbatim, own = verbatim_environments(texts), own_specs(texts)
    return {sid: read_source(path, root, verbatim=verbatim, own=own) for sid, path in files.items()}
