"""Lint a plain LaTeX document as it is, to try the lint on real documents nobody ported (not part of the tests).

    python -m scripts.devtools.lint_smoke TREE MAIN.tex DEST

TREE is a checked-out repository and MAIN.tex its main file, relative to TREE. DEST becomes a copy of the folder
that holds MAIN.tex (where TeX runs), laid out as `--root` needs it, without a change to the document's own
files: the preamble goes to paper/_smoke_preamble.tex (beside paper/metadata.yaml, where the lint reads the
paper's own definitions and packages), and the body, split at each top-level \\chapter or \\section line, to
paper/sections/smokeNN.tex. The first .bib that \\bibliography or \\addbibresource names is the bibliography. The
lint's report is printed. The research-question checks (R, S codes) mean nothing here: the split has no
Research Questions section, so the first part stands in for it.

The split is plain text: a \\section inside a brace group or an environment (pandoc's \\hypertarget{x}{% before
it, an appendices environment) leaves braces or an environment open in two parts, and a subfile's preamble is
in its main file. Read the findings with that in mind. The documents measured this way, with their commits, are
listed in tests/real_documents.tsv (README, Lint).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from scripts.stages.lint.parse import group_end

HEADING = re.compile(r"^[ \t]*\\(?:chapter|section)\*?\s*(?:\[[^\]]*\])?\s*\{", re.M)
BIBLIOGRAPHY = re.compile(r"\\(?:addbibresource|bibliography)\s*(?:\[[^\]]*\])?\{([^},]+)")


def split_body(body: str) -> list[tuple[str, str]]:
    """(title, text) of each part of a document body: the text before the first heading ("Front"), then each
    top-level \\chapter or \\section's text, without its heading line's command."""
    parts, start, title = [], 0, "Front"
    for match in HEADING.finditer(body):
        close = group_end(body, match.end() - 1) or match.end()
        parts.append((title, body[start : match.start()]))
        title = " ".join(body[match.end() : close - 1].split()) or "Untitled"
        start = close
    return [*parts, (title, body[start:])]


def metadata(titles: Sequence[str], bibliography: str) -> dict:
    """The lint's settings for the parts: each is required, the first stands in for the questions' section."""
    ids = [f"s{number:02d}" for number in range(len(titles))]
    sections = [
        {"id": sid, "title": title[:200], "file": f"paper/sections/smoke{number:02d}.tex"}
        for number, (sid, title) in enumerate(zip(ids, titles, strict=True))
    ]
    answers = ids[1:] or ids
    return {
        "sections": sections,
        "bibliography": bibliography,
        "lint": {
            "required_sections": ids,
            "research_questions_section": ids[0],
            "coverage_sections": answers,
            "answer_sections": answers,
        },
    }


_PREAMBLE_INPUT = re.compile(r"\\input\s*\{\s*([^}]+?)\s*\}")


def bibliography_name(text: str, folder: Path) -> str | None:
    """The first .bib that \\bibliography or \\addbibresource names in a text, or in a file it \\inputs from `folder`
    (a preamble kept in its own file)."""
    if named := BIBLIOGRAPHY.search(text):
        return named[1].strip()
    for name in _PREAMBLE_INPUT.findall(text):
        path = folder / (name if name.endswith(".tex") else f"{name}.tex")
        if path.is_file() and (named := BIBLIOGRAPHY.search(path.read_text(encoding="utf-8", errors="replace"))):
            return named[1].strip()
    return None


def wrap(tree: Path, main: str, dest: Path) -> Path:
    """Lay the document out in `dest` for `--root`; the document's own files are copied unchanged."""
    main_path = tree / main
    if dest.exists() and not (dest / "paper/_smoke_preamble.tex").is_file():
        # DEST is replaced: never a folder this tool did not make (the repository itself, say)
        raise SystemExit(f"error: {dest} exists and was not made by lint_smoke; give a new folder")
    text = main_path.read_text(encoding="utf-8", errors="replace")
    begin = text.index("\\begin{document}")
    end = text.find("\\end{document}", begin)
    body = text[begin + len("\\begin{document}") : end if end > 0 else None]
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(main_path.parent, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    (dest / main_path.name).unlink()
    (dest / "paper/sections").mkdir(parents=True, exist_ok=True)
    (dest / "paper/_smoke_preamble.tex").write_text(text[:begin], encoding="utf-8")
    parts = split_body(body)
    for number, (_, part) in enumerate(parts):
        (dest / f"paper/sections/smoke{number:02d}.tex").write_text(part, encoding="utf-8")
    bibliography = bibliography_name(text[:begin], main_path.parent) or bibliography_name(text, main_path.parent)
    bibliography = bibliography or "none.bib"
    bibliography += "" if bibliography.endswith(".bib") else ".bib"
    # none, or one made by the build: an empty one (a link to a file outside the repository stays, for B001)
    if not (dest / bibliography).exists() and not (dest / bibliography).is_symlink():
        (dest / bibliography).parent.mkdir(parents=True, exist_ok=True)
        (dest / bibliography).write_text("", encoding="utf-8")
    settings = metadata([title for title, _ in parts], bibliography)
    (dest / "paper/metadata.yaml").write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path, help="a checked-out repository")
    parser.add_argument("main", help="its main .tex file, relative to the tree")
    parser.add_argument("dest", type=Path, help="the folder to lay the document out in (replaced)")
    args = parser.parse_args(argv)
    folder = wrap(args.tree, args.main, args.dest)
    command = [sys.executable, "-m", "scripts.stages.lint", "--root", str(folder), "--exit-zero"]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
