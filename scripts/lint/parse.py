"""Read section files with a real LaTeX parser (pylatexenc): paragraphs, plain text, macros, positions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

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
from pylatexenc.macrospec import LatexContextDb, MacroSpec

CITE_MACROS = {"cite", "parencite", "textcite", "autocite", "citeauthor", "citeyear", "nocite"}
MULTICITE_MACROS = {"parencites", "textcites", "autocites", "cites"}
REF_MACROS = {"ref", "autoref", "cref", "Cref", "pageref", "nameref"}
# Macros this project defines (paper/epsbs.sty) or uses from biblatex, which pylatexenc does not know.
PROJECT_MACROS = {
    "PaperFigure": "{",
    "addresses": "{",
    "printbibliography": "[",
    "noindent": "",
    "textsuperscript": "{",
    "IllustrativeDataNote": "{",
    "@": "",  # LaTeX's sentence-end marker after a capital ("the EU\@. Hence")
    **{name: "*[[{" for name in CITE_MACROS},
    **{name: "" for name in MULTICITE_MACROS},
}
TEXT_ARGUMENT_MACROS = {"textit", "textbf", "emph", "textsc", "textsuperscript", "enquote", "mbox", "text"}


@cache
def latex_context() -> LatexContextDb:
    """pylatexenc's macros and environments plus this project's; no "specials" (~, --, ``), which the
    lint does not need and whose per-character test was most of the parsing time."""
    default = get_default_latex_context_db()
    context = LatexContextDb()
    context.add_context_category("epsbs", macros=[MacroSpec(name, spec) for name, spec in PROJECT_MACROS.items()])
    for category in default.category_list:
        entry = default.d[category]
        context.add_context_category(
            category, macros=entry["macros"].values(), environments=entry["environments"].values()
        )
    return context


@dataclass(frozen=True)
class Problem:
    """Something wrong with the source itself, found while reading it."""

    line: int
    col: int
    code: str
    message: str


@dataclass
class Macro:
    name: str
    line: int
    col: int
    arguments: list[str]  # the text of each {…} argument (for \parencites: every following group)


@dataclass
class Paragraph:
    line: int
    text: str  # plain text, citations and references removed
    addresses: list[str] = field(default_factory=list)  # ids named by \addresses{…} markers


@dataclass
class Source:
    path: str
    text: str
    macros: list[Macro]
    paragraphs: list[Paragraph]
    problems: list[Problem]
    items: list[tuple[int, str, str | None]]  # (line, plain text, \label) of each \item


def decode(path: str, data: bytes) -> tuple[str, list[Problem]]:
    """UTF-8 text; a file that is not UTF-8 is a problem at the line of its first bad byte."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problem = Problem(line, 0, "P002", f"not UTF-8 (byte 0x{data[err.start]:02x}); save the file as UTF-8")
        return data.decode("utf-8", errors="replace"), [problem]


def _walker(text: str, tolerant: bool) -> LatexWalker:
    return LatexWalker(text, latex_context=latex_context(), tolerant_parsing=tolerant)


def _walk(nodes, walker: LatexWalker) -> Iterator[tuple[LatexMacroNode, list]]:
    """Every macro node with the node list it stands in, depth first, in source order."""
    for node in nodes or []:
        if node is None:
            continue
        if isinstance(node, LatexMacroNode):
            yield node, nodes
            for argument in (node.nodeargd.argnlist if node.nodeargd else []) or []:
                if argument is not None:
                    yield from _walk([argument], walker)
        elif isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            yield from _walk(node.nodelist, walker)
            if isinstance(node, LatexEnvironmentNode) and node.nodeargd:
                yield from _walk([a for a in node.nodeargd.argnlist or [] if a is not None], walker)


def _group_text(node) -> str:
    return node.latex_verbatim()[1:-1] if isinstance(node, LatexGroupNode) else node.latex_verbatim()


def _following_groups(siblings: list, node) -> list[str]:
    """The {…} groups after a \\parencites-like macro, skipping [..] options between them."""
    groups = []
    for sibling in siblings[siblings.index(node) + 1 :]:
        if isinstance(sibling, LatexGroupNode):
            groups.append(_group_text(sibling))
        elif isinstance(sibling, LatexCharsNode) and re.fullmatch(r"(\s*\[[^\]]*\])+\s*", sibling.chars):
            continue
        else:
            break
    return groups


def macros_of(nodes, walker: LatexWalker) -> list[Macro]:
    found = []
    for node, siblings in _walk(nodes, walker):
        line, col = walker.pos_to_lineno_colno(node.pos)
        if node.macroname in MULTICITE_MACROS:
            arguments = _following_groups(siblings, node)
        else:
            arguments = [
                _group_text(a)
                for a in (node.nodeargd.argnlist if node.nodeargd else []) or []
                if isinstance(a, LatexGroupNode) and a.delimiters[0] == "{"  # not [options]
            ]
        found.append(Macro(node.macroname, line, col + 1, arguments))
    return found


def plain_text(nodes) -> str:
    """The words a reader sees, without citations, references, comments or maths."""
    parts: list[str] = []
    skip_groups = False
    for node in nodes or []:
        if node is None or isinstance(node, LatexCommentNode | LatexMathNode):
            continue
        if skip_groups and (
            isinstance(node, LatexGroupNode)
            or (isinstance(node, LatexCharsNode) and re.fullmatch(r"(\s*\[[^\]]*\])+\s*", node.chars))
        ):
            continue
        skip_groups = False
        if isinstance(node, LatexCharsNode):
            parts.append(node.chars)
        elif isinstance(node, LatexGroupNode | LatexEnvironmentNode):
            parts.append(plain_text(node.nodelist))
        elif isinstance(node, LatexMacroNode):
            if node.macroname in MULTICITE_MACROS:
                skip_groups = True
            elif node.macroname in TEXT_ARGUMENT_MACROS and node.nodeargd:
                parts.append(" ".join(plain_text([a]) for a in node.nodeargd.argnlist or [] if a is not None))
            elif node.macroname == "item":
                parts.append(" ")
        else:  # specials such as ~ or --
            parts.append(" ")
    return "".join(parts)


def unclosed_brace(text: str) -> tuple[int, int] | None:
    """(line, column) of the first { that is never closed, skipping \\{ and % comments."""
    opened: list[int] = []
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
        elif char == "}" and opened:
            opened.pop()
        index += 1
    if not opened:
        return None
    line = text.count("\n", 0, opened[0]) + 1
    return line, opened[0] - (text.rfind("\n", 0, opened[0]) + 1) + 1


def parse_nodes(text: str) -> tuple[list, LatexWalker, list[Problem]]:
    """Nodes of a whole file; a syntax error is a problem with its position, then a tolerant parse."""
    problems = []
    try:
        walker = _walker(text, tolerant=False)
        nodes, _, _ = walker.get_latex_nodes()
    except LatexWalkerParseError as err:
        message = err.msg.rstrip(".") if err.msg else "LaTeX syntax error"
        where = unclosed_brace(text) if "expecting '}'" in message else None
        if where:
            problems.append(Problem(*where, "P001", "a { is never closed"))
        else:
            problems.append(Problem(err.lineno or 1, (err.colno or 0) + 1, "P001", f"{message} (unbalanced braces?)"))
        walker = _walker(text, tolerant=True)
        nodes, _, _ = walker.get_latex_nodes()
    return nodes, walker, problems


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


def items_of(nodes, walker: LatexWalker) -> list[tuple[int, str, str | None]]:
    """Each \\item of the first itemize/enumerate list: (line, plain text, label or None)."""
    for node in nodes or []:
        if isinstance(node, LatexEnvironmentNode) and node.environmentname in ("itemize", "enumerate"):
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


def read_source(path: str | Path) -> Source:
    path = Path(path)
    text, problems = decode(str(path), path.read_bytes())
    nodes, walker, parse_problems = parse_nodes(text)
    macros = macros_of(nodes, walker)
    unknown = [
        Problem(m.line, m.col, "P003", f"unknown macro \\{m.name}: TeX fails unless a package defines it")
        for m in macros
        if latex_context().get_macro_spec(m.name) is None and m.name not in PROJECT_MACROS
    ]
    return Source(
        path=path.as_posix(),
        text=text,
        macros=macros,
        paragraphs=paragraphs_of(nodes, walker),
        problems=problems + parse_problems + unknown,
        items=items_of(nodes, walker),
    )
