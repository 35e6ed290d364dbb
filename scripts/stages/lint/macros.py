"""Which macros exist for a paper: the LaTeX kernel, its class and packages (read from TeX Live's own files
with kpsewhich), the paper's .sty/.cls/preamble and section files, and the `lint.known_macros` setting."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from scripts.common import ROOT, atomic_write_text

# \def\foo, \let\foo, \newcount\foo ... : the name right after a TeX-level definer (pgf's \pgfmathsetmacro{\x}{2*3}
# and \pgfmathtruncatemacro\n{...} too, which define their macro at run time, titlesec's
# \titleclass{\subsubsubsection}{straight}[\subsection], which makes a new sectioning command, and listings'
# \lst@UserCommand\lstset, a \gdef; fontspec's \newfontfamily\Alt{...} and \newfontface, \NewDocumentCommands that
# define their first argument, and their renew, provide and set forms).
_TEX_DEFINER = re.compile(
    r"\\(?:[gex]?def|let|futurelet|[a-z]*chardef|countdef|dimendef|skipdef|muskipdef|toksdef|"
    r"new(?:count|dimen|skip|muskip|toks|box|read|write|length|savebox|language|insert|fam)|font|csdef|"
    r"pgfmath(?:set|truncate|setlength)macro|titleclass|lst@UserCommand|(?:new|renew|provide|set)font(?:family|face))"
    r"\s*\{?\s*\\([A-Za-z@]+)"
)
# \newcommand{\foo}, \DeclareRobustCommand\foo, \NewDocumentCommand{\foo}, \DeclareMathOperator{\foo},
# \newrobustcmd*{\foo}, \DeclareTextFontCommand{\foo}, \DeclareCiteCommand{\foo} ...
# beamer's overlay-aware forms too: \newcommand<>\frametitle, \newenvironment<>{block}.
_LATEX_DEFINER = re.compile(
    r"\\(?:[A-Za-z]*[Cc]ommand|[a-z]*robustcmd|Declare[A-Za-z]+)\*?\s*(?:<>)?\s*\{?\s*\\([A-Za-z@]+)"
)
# What a \def's parameter text is delimited by is typed as such and never defined: colortbl's
# \def\CT@extract#1\columncolor#2#3\@nil{...} reads `>{\columncolor{white}}` in a column spec. And the kernel's
# \typein[\answer]{...} defines \answer.
_DELIMITERS = re.compile(r"\\[gex]?def\s*\\[A-Za-z@]+([^{}%\n]*#[^{}%\n]*)\{")
_TYPEIN = re.compile(r"\\typein\s*\[\s*\\([A-Za-z@]+)")
# biblatex's \DeclareCiteCommand{\fancycite} and \DeclareMultiCiteCommand{\fancycites}: the paper's own citation
# commands, whose {key} arguments are citations like \cite's.
_CITE_DEFINER = re.compile(r"\\Declare(?:Multi)?CiteCommand\*?\s*\{?\s*\\([A-Za-z@]+)")
# algorithm2e's keyword definers name the macros without their backslash: \SetKwInOut{Input}{Input} defines \Input;
# \SetKwIF{If}{ElseIf}{Else}, \SetKwFor{For}, \SetKwRepeat{Repeat} and \SetKwSwitch{Switch}{Case}{Other} define
# their block forms too (\uIf, \lIf, \lFor, ...).
_ALGORITHM_KEYWORD = re.compile(r"\\SetKw([A-Za-z]*)\s*((?:\{[A-Za-z]+\}\s*){1,3})")
_ALGORITHM_BLOCKS = {"IF": ("", "u", "l"), "For": ("", "l"), "Repeat": ("", "l"), "Switch": ("", "u", "l")}
_NEWIF = re.compile(r"\\newif\s*\\if([A-Za-z@]+)")
_ENVIRONMENT = re.compile(
    r"\\(?:(?:new|renew|provide)environment|(?:New|Renew|Provide|Declare)DocumentEnvironment|newtheorem)"
    r"\*?\s*(?:<>)?\s*\{([A-Za-z@*]+)\}"
)
_COUNTER = re.compile(r"\\newcounter\s*\{([A-Za-z@]+)\}")
# pgffor's loop, `\foreach [count=\i] \x/\y [remember=\x as \lastx] in {...}`: its variables and the macros
# its options name are defined inside the loop.
_FOREACH = re.compile(
    r"\\(?:foreach|pgfplotsforeachungrouped)\s*((?:\[[^\]]*\]\s*)?(?:\\[A-Za-z@]+\s*(?:/\s*)?)+(?:\[[^\]]*\]\s*)?)in\b"
)
# pgfplots defines macros at run time: \pgfplotstableread[options]{data.csv}\table (or inline data in braces) reads
# a table into \table, as \pgfplotstablenew[..]{4}\t, \pgfplotstabletranspose\t{..} and \pgfplotstablesort[..]\t{..}
# make one; and `visualization depends on={rawx \as \rawx}` names \rawx for the plot's options (\as is a delimiter
# it reads).
_OPTIONAL_ARGUMENT = r"(?:\[(?:[^\[\]]|\[[^\]]*\])*\]\s*)?"
_BRACED = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_PGFPLOTS_TABLE = re.compile(
    rf"\\pgfplotstable(?:(?:read|new)\s*{_OPTIONAL_ARGUMENT}{_BRACED}|(?:transpose|sort)\s*{_OPTIONAL_ARGUMENT})"
    r"\s*\{?\s*\\([A-Za-z@]+)"
)
_VISUALIZATION_DEPENDS_ON = re.compile(rf"visualization\s+depends\s+on\s*=\s*({_BRACED}|[^,\]]*)")
_AS = re.compile(r"\\as\s*\\([A-Za-z@]+)")
_MACRO_NAME = re.compile(r"\\([A-Za-z@]+)")
_PACKAGES = re.compile(r"\\(?:usepackage|RequirePackage|RequirePackageWithOptions)\s*(?:\[[^\]]*\]\s*)?\{([^}]*)\}")
# Files a package \\inputs by full name (pgf's *.code.tex, drivers' *.def); not expl3's own code, whose names
# are expl3-internal (\\cs_new:Npn) and which is most of the reading time.
_INPUT = re.compile(r"\\input\s*\{?\s*((?!expl3-code)[A-Za-z0-9_.-]+\.(?:code\.tex|def))")
_CLASS = re.compile(r"\\(?:documentclass|LoadClass|LoadClassWithOptions)\s*(?:\[[^\]]*\]\s*)?\{([^}]*)\}")


def algorithm_keywords(text: str) -> set[str]:
    """The macros algorithm2e's \\SetKw... definers in a text define."""
    names = set()
    for kind, arguments in _ALGORITHM_KEYWORD.findall(text):
        given = re.findall(r"\{([A-Za-z]+)\}", arguments)
        if kind not in _ALGORITHM_BLOCKS:  # \SetKw, \SetKwInOut, \SetKwData ...: the first argument only
            names.add(given[0])
            continue
        # \SetKwIF{If}{ElseIf}{Else}: each in three forms; \SetKwSwitch{Switch}{Case}{Other}: \Switch, the others in
        # three forms; \SetKwFor{For} and \SetKwRepeat{Repeat}: \For and \lFor
        keywords = given[1:] if kind == "Switch" else given if kind == "IF" else given[:1]
        names |= {prefix + keyword for keyword in keywords for prefix in _ALGORITHM_BLOCKS[kind]}
        names |= {given[0]}
    return names


def defined_in(text: str) -> set[str]:
    """Macro names a LaTeX file defines (without the backslash)."""
    names = set(_TEX_DEFINER.findall(text)) | set(_LATEX_DEFINER.findall(text)) | algorithm_keywords(text)
    names |= {name for parameters in _DELIMITERS.findall(text) for name in _MACRO_NAME.findall(parameters)}
    names |= set(_TYPEIN.findall(text))
    for name in _NEWIF.findall(text):
        names |= {f"if{name}", f"{name}true", f"{name}false"}
    for name in _ENVIRONMENT.findall(text):
        names |= {name.rstrip("*"), f"end{name.rstrip('*')}"}
    for name in _COUNTER.findall(text):
        names |= {f"the{name}", f"c@{name}", f"p@{name}"}
    for loop in _FOREACH.findall(text):
        names |= set(_MACRO_NAME.findall(loop))
    names |= set(_PGFPLOTS_TABLE.findall(text))
    for value in _VISUALIZATION_DEPENDS_ON.findall(text):
        if named := _AS.findall(value):
            names |= {"as", *named}
    return names


_TIKZ_LIBRARIES = re.compile(r"\\usetikzlibrary\s*\{([^}]*)\}")


def loaded_by(text: str) -> tuple[list[str], list[str]]:
    """(files, classes) that a LaTeX file loads: packages as name.sty, TikZ libraries as
    tikzlibraryname.code.tex (\\spy comes from `spy`), and files it \\inputs by full name."""
    packages = package_names(text)
    libraries = [name.strip() for group in _TIKZ_LIBRARIES.findall(text) for name in group.split(",") if name.strip()]
    classes = [name.strip() for name in _CLASS.findall(text) if name.strip()]
    files = [f"{name}.sty" for name in packages] + [f"tikzlibrary{name}.code.tex" for name in libraries]
    return files + _INPUT.findall(text), classes


def _uncommented(text: str) -> str:
    """Without % comments (a line's rest after \\% is lost too: harmless for finding definitions, and 10x faster)."""
    return re.sub(r"%[^\n]*", "", text)


@cache
def kpsewhich(names: tuple[str, ...]) -> dict[str, Path]:
    """Where TeX finds each file (one kpsewhich call for all); files TeX does not have are left out."""
    if not names:
        return {}
    try:
        result = subprocess.run(["kpsewhich", *names], capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found = {}
    with_folder = [name for name in names if "/" in name]  # \input{pgf/utilities/pgfutil-common.tex}
    for line in result.stdout.splitlines():
        path = Path(line.strip())
        if path.name in names:
            found[path.name] = path
        found |= {name: path for name in with_folder if path.as_posix().endswith(f"/{name}")}
    return found


# The format's source and the font files it reads; and size10.clo: every class defines the size commands
# (\small, \footnotesize ...), the standard ones by \input{size1\@ptsize.clo}, a name not followed here.
KERNEL = ("latex.ltx", "fonttext.ltx", "fontmath.ltx", "size10.clo")
# Every primitive of TeX, e-TeX and pdfTeX (\looseness, \pdfstrcmp ...), as expl3 renames them: a list that
# latex.ltx, which uses only some, lacks.
PRIMITIVES = "expl3-code.tex"
_PRIMITIVE = re.compile(r"\\__kernel_primitive:NN\s*\\([A-Za-z]+)")
CACHE = ROOT / "build" / ".cache" / "lint-macros"  # one JSON file per set of packages and classes


def _stamp(path: Path) -> list:
    stat = path.stat()
    return [str(path), stat.st_mtime_ns, stat.st_size]


def _cached(key: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The names saved for this set of packages, while every file they were read from is unchanged and
    every file that was missing still is."""
    try:
        data = json.loads((CACHE / f"{key}.json").read_text(encoding="utf-8"))
        if all(_stamp(Path(stamp[0])) == stamp for stamp in data["files"]) and not kpsewhich(tuple(data["missing"])):
            return frozenset(data["names"]), tuple(data["missing"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


@cache
def tex_live_macros(packages: tuple[str, ...], classes: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every macro that the kernel (latex.ltx: its definitions and the primitives it uses), the classes
    and the packages define, following the files they load in turn; the packages and classes asked for that
    TeX Live here does not have). Read once, then kept in build/.cache while those files are unchanged."""
    reader = Path(__file__).read_bytes()  # a change to how definitions are read makes a new cache
    key = hashlib.sha256(json.dumps([packages, classes]).encode() + reader).hexdigest()[:32]
    if (saved := _cached(key)) is not None:
        return saved
    names: set[str] = set()
    seen: set[str] = set()
    files: list[list] = []
    for path in kpsewhich((PRIMITIVES,)).values():  # TeX's primitives, as expl3 lists them
        files.append(_stamp(path))
        names |= set(_PRIMITIVE.findall(path.read_text(encoding="latin-1")))
    asked = [*KERNEL, *(f"{c}.cls" for c in classes), *packages]
    found = kpsewhich(tuple(sorted(set(asked))))
    # \usetikzlibrary{arrows.meta} reads pgflibraryarrows.meta.code.tex when there is no tikzlibrary file
    twins = {name: "pgf" + name.removeprefix("tikz") for name in asked if name.startswith("tikzlibrary")}
    twins = {name: twin for name, twin in twins.items() if name not in found}
    found_twins = kpsewhich(tuple(sorted(twins.values())))
    missing = tuple(sorted(n for n in set(asked) - set(found) if twins.get(n) not in found_twins))
    wanted = asked + list(found_twins)
    while wanted:
        batch = tuple(sorted(set(wanted) - seen))
        seen |= set(batch)
        wanted = []
        for path in kpsewhich(batch).values():
            files.append(_stamp(path))
            text = _uncommented(path.read_text(encoding="latin-1"))
            if path.name == "latex.ltx":  # primitives are used there, never defined
                names |= set(re.findall(r"\\([A-Za-z@]+)", text))
            names |= defined_in(text)
            more_files, more_classes = loaded_by(text)
            wanted += more_files + [f"{c}.cls" for c in more_classes]
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        saved_data = {"files": files, "missing": missing, "names": sorted(names)}
        atomic_write_text(CACHE / f"{key}.json", json.dumps(saved_data))
    except OSError:  # a read-only checkout: read the files every time
        pass
    return frozenset(names), missing


@cache
def casefold_search() -> bool:
    """Whether TeX Live's kpathsea falls back to a file name in any case when the exact one is missing (texmf.cnf's
    texmf_casefold_search, 1 by default since TeX Live 2018): then `Kw.png` finds `KW.png`, in the same folder."""
    try:
        result = subprocess.run(["kpsewhich", "-var-value", "texmf_casefold_search"], capture_output=True, text=True)
    except OSError:
        return False
    return result.stdout.strip() == "1"


def _names_by_case(folder: Path) -> dict[str, str]:
    """A folder's file names by their lower-case form (read once per folder and modification time)."""
    try:
        return _listing(folder, folder.stat().st_mtime_ns)
    except OSError:
        return {}


@cache
def _listing(folder: Path, _mtime_ns: int) -> dict[str, str]:
    return {path.name.lower(): path.name for path in folder.iterdir()}


def _any_case(candidate: Path) -> Path | None:
    """The file in candidate's folder (whose name must match exactly) whose name matches candidate's in any case."""
    name = _names_by_case(candidate.parent).get(candidate.name.lower())
    return None if name is None else candidate.parent / name


def first_file(name: str, folders: Iterable[Path], suffixes: Iterable[str]) -> Path | None:
    """The first file that `name` with one of the suffixes names in the folders, in order, as TeX searches: the
    exact name first, then (with kpathsea's casefold_search) the file name in any case."""
    candidates = [folder / f"{name}{suffix}" for folder in folders for suffix in suffixes]
    found = next((candidate for candidate in candidates if candidate.is_file()), None)
    if found is None and casefold_search():
        found = next((match for candidate in candidates if (match := _any_case(candidate)) and match.is_file()), None)
    return found


def resolve_include(
    name: str, including: Path, root: Path | None, suffixes: tuple[str, ...] = (".tex", "")
) -> Path | None:
    """The file \\input{name} reads: from the paper's folder (where TeX runs), its paper/ folder or beside the
    including file; with .tex added first, as TeX does (`suffixes`: what another macro tries, in its order)."""
    folders = [root, root / "paper", including.parent] if root is not None else [including.parent]
    return first_file(name, folders, suffixes)


_OWN_INPUT = re.compile(r"\\(?:input|include)\s*\{\s*([^}\s]+)\s*\}")


def paper_files(paper_dir: Path) -> list[Path]:
    """The paper's own style, class and preamble files (the .sty and .cls files in the paper's folder, where TeX
    runs and looks first; the .sty, .cls and .tex files beside its metadata), and the files they \\input (a
    preamble's generated macros: `\\input{paper/generated/numbers.tex}`)."""
    if not paper_dir.is_dir():
        return []
    where_tex_runs = paper_dir.parent if paper_dir.name == "paper" else paper_dir
    found = sorted(p for pattern in ("*.sty", "*.cls") for p in where_tex_runs.glob(pattern) if p.is_file())
    found += sorted(p for pattern in ("*.sty", "*.cls", "*.tex") for p in paper_dir.glob(pattern) if p.is_file())
    seen = {path.resolve() for path in found}
    for path in found:  # grows as inputs are found; each file once, however its path is spelled
        text = _uncommented(path.read_text(encoding="utf-8", errors="replace"))
        inputs = _OWN_INPUT.findall(text)
        # the paper's own packages in its folders: \usepackage{customizations/custom} (TeX finds them there)
        inputs += [f"{name}.sty" for name in package_names(text) if "/" in name]
        for name in inputs:
            target = resolve_include(name, path, paper_dir.parent)
            if target is not None and target.resolve() not in seen:
                seen.add(target.resolve())
                found.append(target)
    return found


def package_names(text: str) -> list[str]:
    """The packages a file loads, by the names it gives them (a path for the paper's own: customizations/custom)."""
    return [name.strip() for group in _PACKAGES.findall(text) for name in group.split(",") if name.strip()]


@dataclass(frozen=True)
class KnownMacros:
    names: frozenset[str]
    not_installed: tuple[str, ...]  # packages or classes the paper loads that TeX Live here does not have
    cite_commands: frozenset[str] = frozenset()  # citation commands the paper's own files declare

    def __contains__(self, name: object) -> bool:
        return name in self.names


def known_macros(paper_dir: Path, section_texts: Iterable[str], settings: dict) -> KnownMacros:
    """All macro names the paper may use: TeX Live's for the class and packages it loads, its own files' and
    section files' definitions, `lint.packages` (packages loaded by a preamble that is not in the folder)
    and `lint.known_macros`."""
    own_files = paper_files(paper_dir)
    texts = [_uncommented(p.read_text(encoding="utf-8", errors="replace")) for p in own_files]
    texts += [_uncommented(text) for text in section_texts]
    packages: list[str] = [f"{name}.sty" for name in settings.get("packages", [])]
    classes = ["article"]  # the class of a paper whose preamble is not in the folder
    own: set[str] = set()
    for text in texts:
        more_packages, more_classes = loaded_by(text)
        packages += more_packages
        classes += more_classes
        own |= defined_in(text)
    extra = {name.lstrip("\\") for name in settings.get("known_macros", [])}
    local = {path.name for path in own_files}
    local |= {path.relative_to(paper_dir).as_posix() for path in own_files if path.is_relative_to(paper_dir)}
    # TeX takes the paper's own file before TeX Live's of the same name (a ./paper.cls, not TeX Live's paper.cls)
    packages = [name for name in packages if name not in local]
    classes = [name for name in classes if f"{name}.cls" not in local]
    names, missing = tex_live_macros(tuple(sorted(set(packages))), tuple(sorted(set(classes))))
    cite_commands = frozenset(name for text in texts for name in _CITE_DEFINER.findall(text))
    return KnownMacros(names | own | extra, tuple(name for name in missing if name not in local), cite_commands)
