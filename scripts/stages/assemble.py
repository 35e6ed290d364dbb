"""Metadata + section list + figure list -> build/tex/paper.tex (and one fragment per figure), with PyLaTeX.

    python -m scripts.stages.assemble --metadata paper/metadata.yaml --out build/tex/paper.tex \
        --provenance neutrality-poll=illustrative --provenance threat-perception=illustrative

PyLaTeX only writes LaTeX; `scripts.stages.compile` runs latexmk. Section text is not copied: each section
is `\\input` from paper/sections/, so TeX errors name the section file and line, and editing a
section does not rerun this step. Every metadata string is escaped by PyLaTeX.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pylatex import Command, Document, Figure, NoEscape, Package, Section
from pylatex.utils import escape_latex

from scripts.common import UserError, atomic_write_text, run_main
from scripts.stages.metadata import METADATA, config_or_metadata, figure_path, is_unknown, yaml_line
from scripts.stages.provenance import MANIFEST_TEX

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
    for key in ("masthead", "copyright", "keyword_separator", "reproduction_notice", "reproduction_creator"):
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
    """LaTeX for the author line and the affiliations below it.

    When nothing about the authors is known, the block says so once ("Author: unknown"), with no
    superscript letter or asterisk that would point to a note that does not exist. Otherwise known
    affiliations get letters, and a known corresponding author an asterisk explained under them."""
    if all(is_unknown(a["name"]) and is_unknown(a["affiliation"]) for a in authors):
        label = "Author" if len(authors) == 1 else "Authors"
        return tex(f"{label}: unknown"), tex("Affiliation: unknown")
    affiliations = list(dict.fromkeys(a["affiliation"] for a in authors if not is_unknown(a["affiliation"])))
    names = []
    starred = False
    for author in authors:
        marks = ""
        if not is_unknown(author["affiliation"]):
            marks = chr(ord("a") + affiliations.index(author["affiliation"]))
        if author.get("corresponding") and not is_unknown(author["name"]):
            marks += "*"
            starred = True
        name = tex(shown(author["name"], "name"))
        names.append(name + (rf"\textsuperscript{{{marks}}}" if marks else ""))
    lines = [rf"\textsuperscript{{{chr(ord('a') + i)}}}\,{tex(a)}" for i, a in enumerate(affiliations)]
    if starred:
        lines.append(r"\textsuperscript{*}\," + tex("Corresponding author"))
    return ", ".join(names), r"\\".join(lines)


def corresponding_author(authors: list[dict[str, Any]]) -> str | None:
    """The corresponding author's name, or None when it is not known."""
    author = next((a for a in authors if a.get("corresponding")), authors[0])
    return None if is_unknown(author["name"]) else str(author["name"])


def running_head(metadata: dict[str, Any]) -> str:
    """The running-head lines; a line that would only print an unknown value is left out."""
    values = {
        "doi": metadata["doi"],
        "eissn": metadata["eissn"],
        "year": metadata["year"],
        "corresponding_author": corresponding_author(metadata["authors"]),
    }
    lines = []
    for line in metadata["journal"]["running_head"]:
        used = re.findall(r"\{(\w+)\}", line)
        if any(values.get(key) is None for key in used):
            continue
        lines.append(tex(line.format_map(values)))
    return r"\\".join(lines)


MASTHEAD_DETAILS = (("volume", "Volume"), ("pages", "Pages"), ("conference", "Conference"))


def masthead(metadata: dict[str, Any]) -> str:
    """Series name, then the known details; the unknown ones are named once, together.

    The DOI and the eISSN are in the running head of every page, so they are not repeated here."""
    known = [f"{label} {metadata[key]}" for key, label in MASTHEAD_DETAILS if not is_unknown(metadata.get(key))]
    unknown = [label.lower() for key, label in MASTHEAD_DETAILS if is_unknown(metadata.get(key))]
    if unknown:
        missing = ", ".join(unknown[:-1]) + (" and " if len(unknown) > 1 else "") + unknown[-1]
        known.append(f"{missing[0].upper()}{missing[1:]}: unknown")
    details = " \N{MIDDLE DOT} ".join(known)
    return tex(metadata["journal"]["masthead"]) + (r"\\" + r"\footnotesize " + tex(details) if details else "")


def reproduction_notice(metadata: dict[str, Any]) -> str:
    """The first page's statement that this PDF is a rebuild from sources, not the publisher's."""
    return tex(metadata["journal"]["reproduction_notice"].format(doi=metadata["doi"]))


def identity_seed(metadata: dict[str, Any]) -> str:
    """What every generated PDF id is derived from: the DOI and the source date (no folder, no clock),
    so the PDF stays byte-identical wherever it is built."""
    return f"https://doi.org/{metadata['doi']}|{metadata['build']['source_date']}"


def document_ids(metadata: dict[str, Any]) -> tuple[str, str]:
    """XMP document and instance ids (UUIDs derived from `identity_seed`)."""
    seed = identity_seed(metadata)
    return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}", f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed + '|pdf')}"


def xmp_setup(metadata: dict[str, Any]) -> str:
    """\\hypersetup with the document info, which hyperxmp also writes as XMP (so the two agree).

    The PDF's author is the reproduction's creator (the project): the article's authors are unknown,
    and a person who is unknown is not written as a person named "unknown". hyperxmp splits authors
    at commas, so commas in the name are written as \\xmpcomma."""
    document_id, instance_id = document_ids(metadata)
    creator = tex(metadata["journal"]["reproduction_creator"]).replace(",", r"\xmpcomma{}")
    fields = {
        "pdftitle": tex(metadata["title"]),
        "pdfauthor": creator,
        "pdfsubject": tex(f"Reproduction of the article https://doi.org/{metadata['doi']}"),
        "pdfkeywords": tex(", ".join(metadata["keywords"])),
        "pdfdoi": tex(metadata["doi"]),
        "pdfurl": tex(f"https://doi.org/{metadata['doi']}"),
        "pdfdocumentid": document_id,
        "pdfinstanceid": instance_id,
    }
    return r"\hypersetup{" + ", ".join(f"{key}={{{value}}}" for key, value in fields.items()) + "}"


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
        geometry_options={
            "margin": journal["margin"],
            "headheight": "44pt",
            "headsep": "10pt",
            "includehead": "true",
            "heightrounded": "true",
        },
    )
    # PyLaTeX adds lastpage for page_numbers; nothing here uses it, and it clashes with totpages,
    # which hyperxmp (XMP metadata, in epsbs.sty) loads.
    document.packages.discard(Package("lastpage"))
    document.packages.append(Package("epsbs"))
    preamble = document.preamble
    preamble.append(Command("addbibresource", NoEscape(metadata["bibliography"])))
    # A fixed PDF trailer /ID (pdfTeX derives it from the job name and time otherwise).
    preamble.append(NoEscape(rf"\ifdefined\pdftrailerid\pdftrailerid{{{tex(identity_seed(metadata))}}}\fi"))
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
        (
            "PaperLicence",
            tex("Licence: " + ("unknown" if is_unknown(metadata.get("licence")) else metadata["licence"])),
        ),
        ("PaperReproductionNotice", reproduction_notice(metadata)),
    ):
        preamble.append(Command(setter, NoEscape(value)))
    preamble.append(NoEscape(xmp_setup(metadata)))

    # The provenance manifest (scripts/stages/provenance.py): attached when the workflow made it, so a plain
    # pdflatex run on this file works without it.
    document.append(NoEscape(rf"\InputIfFileExists{{{MANIFEST_TEX.as_posix()}}}{{}}{{}}"))
    document.append(Command("EpsbsTitleBlock"))
    document.append(NoEscape(r"\begin{abstract}" + tex(" ".join(metadata["abstract"].split())) + r"\end{abstract}"))
    for section in metadata["sections"]:
        numbered = journal["number_sections"] and section["numbered"]
        with document.create(Section(section["title"], numbering=numbered, label=False)) as body:
            if not numbered:  # hyperref outlines numbered sections only; the rest (References) join here
                body.append(NoEscape(r"\phantomsection\addcontentsline{toc}{section}{" + tex(section["title"]) + "}"))
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
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.assemble", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="the workflow's validated config (default: the metadata)")
    parser.add_argument("--metadata", type=Path, default=METADATA, help="the metadata file, for error lines")
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
    metadata = config_or_metadata(args.config, args.metadata)
    check_typesettable(metadata, args.metadata)
    for path in write_outputs(metadata, args.out, provenance):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
