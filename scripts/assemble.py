"""Metadata + section list + figure list -> build/tex/paper.tex (and one fragment per figure), with PyLaTeX.

    python -m scripts.assemble --metadata paper/metadata.yaml --out build/tex/paper.tex \
        --provenance neutrality-poll=illustrative --provenance threat-perception=illustrative

PyLaTeX only writes LaTeX; `scripts.compile` runs latexmk. Section text is not copied: each section
is `\\input` from paper/sections/, so TeX errors name the section file and line, and editing a
section does not rerun this step. Every metadata string is escaped by PyLaTeX.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pylatex import Command, Document, Figure, NoEscape, Package, Section
from pylatex.utils import escape_latex

from scripts.common import UserError, atomic_write_text, run_main
from scripts.metadata import METADATA, figure_path, is_unknown, load_metadata, yaml_line
from scripts.provenance import MANIFEST_TEX

ILLUSTRATIVE_CAPTION = (
    "The values shown are illustrative stand-ins generated for this reproduction; "
    "the original values could not be recovered."
)


# The LaTeX kernel's tables of the Unicode characters pdflatex can set in the encodings this
# document loads (T1 text, TS1 symbols, OT1 and OMS defaults). utf8enc.dfu covers every encoding
# (Cyrillic, Greek, ...), so it is not one of them.
CHARACTER_TABLES = ("t1enc.dfu", "ts1enc.dfu", "ot1enc.dfu", "omsenc.dfu")


@cache
def typesettable_characters() -> frozenset[str] | None:
    """Non-ASCII characters pdflatex can typeset here, or None when TeX is not installed."""
    try:
        found = subprocess.run(["kpsewhich", *CHARACTER_TABLES], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    codes = set()
    for path in found.split():
        text = Path(path).read_text(encoding="latin-1")
        codes.update(re.findall(r"\\DeclareUnicodeCharacter\{([0-9A-Fa-f]+)\}", text))
    return frozenset(chr(int(code, 16)) for code in codes) or None


def metadata_texts(metadata: dict[str, Any]) -> Iterator[tuple[list[str | int], str]]:
    """(key path, text) of every metadata string that is typeset."""
    for key in ("title", "abstract"):
        yield [key], metadata[key]
    for index, keyword in enumerate(metadata["keywords"]):
        yield ["keywords", index], keyword
    for index, author in enumerate(metadata["authors"]):
        for key in ("name", "affiliation"):
            yield ["authors", index, key], str(author[key])
    for index, figure in enumerate(metadata["figures"]):
        for key in ("caption", "source"):
            yield ["figures", index, key], figure[key]
    for key in ("masthead", "copyright", "keyword_separator"):
        yield ["journal", key], metadata["journal"][key]
    for index, line in enumerate(metadata["journal"]["running_head"]):
        yield ["journal", "running_head", index], line


def check_typesettable(metadata: dict[str, Any], path: Path = METADATA) -> None:
    """Stop on a character pdflatex cannot set, naming the metadata key (not a TeX error later)."""
    allowed = typesettable_characters()
    if allowed is None:
        return
    for keys, text in metadata_texts(metadata):
        bad = next((ch for ch in text if ord(ch) > 127 and ch.isprintable() and ch not in allowed), None)
        if bad is not None:
            line = yaml_line(path, keys)
            dotted = ".".join(str(k) for k in keys)
            raise UserError(
                f"{path}:{line}" if line else str(path),
                f"{dotted}: pdflatex cannot typeset '{bad}' (U+{ord(bad):04X})",
                "replace the character with one the journal's fonts have, or remove it",
            )


def shown(value: Any, what: str) -> str:
    """A metadata value as printed: an unknown fact says so instead of being filled in."""
    return f"[{what} unknown]" if is_unknown(value) else str(value)


def tex(text: str) -> str:
    """One line of metadata text as LaTeX: whitespace folded, control characters dropped, escaped."""
    printable = "".join(ch for ch in str(text) if ch.isprintable() or ch.isspace())
    return escape_latex(" ".join(printable.split()))


def author_block(authors: list[dict[str, Any]]) -> tuple[str, str]:
    """LaTeX for the author line (superscript letters, * for the corresponding author) and affiliations."""
    affiliations: list[str] = []
    names = []
    for author in authors:
        affiliation = shown(author["affiliation"], "affiliation")
        if affiliation not in affiliations:
            affiliations.append(affiliation)
        letter = chr(ord("a") + affiliations.index(affiliation))
        star = "*" if author.get("corresponding") else ""
        names.append(tex(shown(author["name"], "author")) + rf"\textsuperscript{{{letter}{star}}}")
    lines = [rf"\textsuperscript{{{chr(ord('a') + i)}}}\,{tex(a)}" for i, a in enumerate(affiliations)]
    return ", ".join(names), r"\\".join(lines)


def corresponding_author(authors: list[dict[str, Any]]) -> str:
    author = next((a for a in authors if a.get("corresponding")), authors[0])
    return shown(author["name"], "author")


def running_head(metadata: dict[str, Any]) -> str:
    values = {
        "doi": metadata["doi"],
        "eissn": metadata["eissn"],
        "year": metadata["year"],
        "corresponding_author": corresponding_author(metadata["authors"]),
    }
    return r"\\".join(tex(line.format_map(values)) for line in metadata["journal"]["running_head"])


def masthead(metadata: dict[str, Any]) -> str:
    details = (
        f"eISSN: {metadata['eissn']} \N{MIDDLE DOT} https://doi.org/{metadata['doi']} \N{MIDDLE DOT} "
        f"Volume {shown(metadata.get('volume'), 'volume')} \N{MIDDLE DOT} "
        f"Pages {shown(metadata.get('pages'), 'pages')} \N{MIDDLE DOT} "
        f"Conference {shown(metadata.get('conference'), 'conference')}"
    )
    return tex(metadata["journal"]["masthead"]) + r"\\" + r"\footnotesize " + tex(details)


def figure_caption(figure: dict[str, Any], illustrative: bool) -> str:
    caption = tex(" ".join(part for part in (figure["caption"], figure["source"]) if part))
    if illustrative:
        caption += r" \IllustrativeDataNote{" + tex(ILLUSTRATIVE_CAPTION) + "}"
    return caption


def figure_fragment(figure: dict[str, Any], illustrative: bool) -> str:
    """The figure environment that \\PaperFigure{id} in a section file places."""
    environment = Figure(position="htbp")
    environment.add_image(figure_path(figure["id"]), width=NoEscape(r"0.9\textwidth"))
    environment.append(Command("caption", NoEscape(figure_caption(figure, illustrative))))
    environment.append(Command("label", NoEscape(f"fig:{figure['id']}")))
    return environment.dumps() + "\n"


def build_document(metadata: dict[str, Any]) -> Document:
    journal = metadata["journal"]
    document = Document(
        documentclass="article",
        document_options=["a4paper", journal["font_size"]],
        fontenc="T1",
        inputenc="utf8",
        lmodern=False,  # lmodern needs a Debian package we do not install; epsbs.sty loads mathptmx
        textcomp=False,
        page_numbers=True,  # False would add \pagestyle{empty}; epsbs.sty sets the running head and footer
        indent=True,
        geometry_options={"margin": journal["margin"], "headheight": "44pt", "headsep": "10pt", "includehead": "true"},
    )
    document.packages.append(Package("epsbs"))
    preamble = document.preamble
    preamble.append(Command("addbibresource", NoEscape(metadata["bibliography"])))
    # A fixed PDF trailer /ID (pdfTeX derives it from the job name and time otherwise).
    preamble.append(NoEscape(rf"\ifdefined\pdftrailerid\pdftrailerid{{{tex('doi:' + metadata['doi'])}}}\fi"))
    preamble.append(NoEscape(rf"\captionsetup[figure]{{labelsep={journal['caption_separator']}}}"))
    if journal["zero_pad_figure_numbers"]:
        preamble.append(NoEscape(r"\makeatletter\renewcommand{\thefigure}{\two@digits{\value{figure}}}\makeatother"))
    authors, affiliations = author_block(metadata["authors"])
    for setter, value in (
        ("PaperTitle", tex(metadata["title"])),
        ("PaperAuthors", authors),
        ("PaperAffiliations", affiliations),
        ("PaperMasthead", masthead(metadata)),
        ("PaperRunningHead", running_head(metadata)),
        ("PaperKeywords", tex(journal["keyword_separator"].join(metadata["keywords"]))),
        ("PaperCopyright", tex(journal["copyright"].format(year=metadata["year"]))),
        ("PaperLicence", tex("Licence: " + shown(metadata.get("licence"), "licence"))),
    ):
        preamble.append(Command(setter, NoEscape(value)))
    preamble.append(
        NoEscape(
            r"\hypersetup{pdftitle={"
            + tex(metadata["title"])
            + r"}, pdfauthor={"
            + tex(corresponding_author(metadata["authors"]))
            + r"}, pdfsubject={doi:"
            + tex(metadata["doi"])
            + r"}, pdfkeywords={"
            + tex(", ".join(metadata["keywords"]))
            + "}}"
        )
    )

    # The provenance manifest (scripts/provenance.py): attached when the workflow made it, so a plain
    # pdflatex run on this file works without it.
    document.append(NoEscape(rf"\InputIfFileExists{{{MANIFEST_TEX.as_posix()}}}{{}}{{}}"))
    document.append(Command("EpsbsTitleBlock"))
    document.append(NoEscape(r"\begin{abstract}" + tex(" ".join(metadata["abstract"].split())) + r"\end{abstract}"))
    for section in metadata["sections"]:
        numbered = journal["number_sections"] and section["numbered"]
        with document.create(Section(section["title"], numbering=numbered, label=False)) as body:
            body.append(Command("label", NoEscape(f"sec:{section['id']}")))
            body.append(Command("input", NoEscape(Path(section["file"]).with_suffix("").as_posix())))
    return document


def write_outputs(metadata: dict[str, Any], out: Path, provenance: dict[str, str]) -> list[Path]:
    """Write the main .tex and the figure fragments next to it; return the paths written."""
    written = [out]
    atomic_write_text(out, build_document(metadata).dumps() + "\n")
    for figure in metadata["figures"]:
        fragment = out.parent / f"figure-{figure['id']}.tex"
        illustrative = provenance.get(figure["id"], "illustrative") != "real"
        atomic_write_text(fragment, figure_fragment(figure, illustrative))
        written.append(fragment)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.assemble", description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", type=Path, default=METADATA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--provenance",
        action="append",
        default=[],
        metavar="FIGURE=STATUS",
        help="data provenance of a figure: illustrative or real",
    )
    args = parser.parse_args(argv)
    provenance = dict(item.split("=", 1) for item in args.provenance)
    metadata = load_metadata(args.metadata)
    check_typesettable(metadata, args.metadata)
    for path in write_outputs(metadata, args.out, provenance):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
