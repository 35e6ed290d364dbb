"""Make a synthetic paper N times this one's sections and M times its figures, for the scaling benchmark.

    python -m scripts.devtools.synthetic DEST --sections 4 --figures 4 [--seed 1]

DEST gets a copy of the project whose body sections (all but the research questions and the
references) are repeated N times, each copy's paragraphs in a seeded shuffled order, and whose figures
are repeated M times, each copy drawn from its own seeded ILLUSTRATIVE raw data (scripts/devtools/make_standin_data.py)
and placed in a copy of the introduction. Same structure, same citations, so the build and the lint do
the same kind of work per section and per figure. Never part of the build.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.common import ROOT, copy_project_files

KEEP_SINGLE = {"research-questions", "references"}  # a longer paper does not ask more research questions


def paragraphs(tex: str) -> list[str]:
    return [part.strip() for part in tex.split("\n\n") if part.strip()]


def shuffled_copy(tex: str, rng: random.Random) -> str:
    """The section's paragraphs in another order, without figure placements (their labels are unique)."""
    kept = [part for part in paragraphs(tex) if not part.startswith(r"\PaperFigure")]
    rng.shuffle(kept)
    return "\n\n".join(kept) + "\n"


def figure_paragraph(figure_id: str) -> str:
    return f"Figure~\\ref{{fig:{figure_id}}} repeats the analysis on other data.\n\n\\PaperFigure{{{figure_id}}}\n"


def synthetic_sections(metadata: dict[str, Any], root: Path, copies: int, rng: random.Random) -> dict[str, str]:
    """New section entries appended to metadata (before the references); returns file -> text."""
    originals = [section for section in metadata["sections"] if section["id"] not in KEEP_SINGLE]
    files: dict[str, str] = {}
    added = []
    for number in range(2, copies + 1):
        for section in originals:
            name = Path(section["file"]).name
            entry = {**section, "id": f"{section['id']}-{number}", "title": f"{section['title']} ({number})"}
            entry["file"] = f"paper/sections/s{number:02d}-{name}"
            files[entry["file"]] = shuffled_copy((root / section["file"]).read_text(encoding="utf-8"), rng)
            added.append(entry)
    references = [index for index, section in enumerate(metadata["sections"]) if section["id"] == "references"]
    at = references[0] if references else len(metadata["sections"])
    metadata["sections"][at:at] = added
    return files


def synthetic_figures(
    metadata: dict[str, Any], descriptor: dict[str, Any], copies: int, seed: int
) -> tuple[dict[str, Any], dict[int, str]]:
    """Add M-1 copies of every figure, each with its own seeded raw data; returns the new raw tables
    (descriptor path -> DataFrame) and, per copy number, the TeX that places that copy's figures."""
    import numpy as np

    from scripts.devtools.make_standin_data import make_poll, make_survey

    makers = {"poll": make_poll, "survey": make_survey}
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    originals = list(metadata["figures"])
    tables: dict[str, Any] = {}
    placing: dict[int, str] = {}
    for number in range(2, copies + 1):
        for figure in originals:
            new = {**figure, "id": f"{figure['id']}-{number}", "data": f"{figure['data']}-{number}"}
            resource = copy.deepcopy(resources[figure["data"]])
            resource["name"] = new["data"]
            resource["path"] = f"raw/synthetic-{new['data']}.csv"
            resource["title"] = f"{resource['title']} (synthetic copy {number}, ILLUSTRATIVE)"
            descriptor["resources"].append(resource)
            rng = np.random.default_rng(seed * 1000 + number * 10 + len(tables))
            tables[resource["path"]] = makers[figure["kind"]](rng)
            metadata["figures"].append(new)
            placing[number] = placing.get(number, "") + figure_paragraph(new["id"]) + "\n"
    return tables, placing


def make_synthetic(destination: Path, sections: int, figures: int, seed: int = 1, root: Path = ROOT) -> None:
    import yaml

    from scripts.stages.data import DESCRIPTOR, rehash_descriptor

    copy_project_files(destination, root)
    metadata_path = destination / "paper/metadata.yaml"
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    descriptor = json.loads((destination / DESCRIPTOR).read_text(encoding="utf-8"))
    rng = random.Random(seed)
    for name, text in synthetic_sections(metadata, destination, sections, rng).items():
        (destination / name).write_text(text, encoding="utf-8")
    tables, placing = synthetic_figures(metadata, descriptor, figures, seed)
    for path, table in tables.items():
        table.to_csv(destination / DESCRIPTOR.parent / path, index=False, lineterminator="\n")
    # Copy k of the figures goes at the end of copy k of the introduction (or of the introduction itself
    # when there are fewer section copies), so that no page collects more floats than LaTeX can hold.
    files = {section["id"]: section["file"] for section in metadata["sections"]}
    first = metadata["sections"][0]["id"]
    for number, tex in placing.items():
        intro = destination / files.get(f"{first}-{number}", files[first])
        intro.write_text(intro.read_text(encoding="utf-8") + "\n" + tex, encoding="utf-8")
    metadata_path.write_text(yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (destination / DESCRIPTOR).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rehash_descriptor(destination / DESCRIPTOR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.devtools.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--sections", type=int, default=1, help="how many times the body sections")
    parser.add_argument("--figures", type=int, default=1, help="how many times the figures")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.destination.mkdir(parents=True, exist_ok=True)
    make_synthetic(args.destination, args.sections, args.figures, args.seed)
    print(f"{args.destination}: {args.sections}x sections, {args.figures}x figures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
