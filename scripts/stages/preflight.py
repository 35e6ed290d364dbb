"""Checks that run before any job: every file the metadata names exists, every figure has its data.

Run by the workflow when it loads (scripts/workflow/rules/helpers.smk), so a missing section file is one
readable line naming the metadata entry, not a Snakemake MissingInputException.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.common import UserError
from scripts.stages.metadata import METADATA, yaml_line


def _where(keys: list[str | int]) -> str:
    line = yaml_line(METADATA, keys)
    return f"{METADATA}:{line}" if line else str(METADATA)


# Files the workflow needs by convention (not named in the metadata).
CONVENTIONAL_FILES = ("paper/epsbs.sty", "paper/figure-style.mplstyle")


def preflight(metadata: dict[str, Any], package: dict[str, Any], root: Path = Path(".")) -> None:
    for name in CONVENTIONAL_FILES:
        if not (root / name).is_file():
            raise UserError(name, "missing; the build needs it", f"restore it with `git checkout -- {name}`")
    for resource in package.get("resources", []):
        raw = Path("data") / resource.get("path", "")
        if not (root / raw).is_file():
            raise UserError(
                str(raw), f"raw data of '{resource.get('name')}' is missing", "data/datapackage.json lists it"
            )
    for index, section in enumerate(metadata["sections"]):
        if not (root / section["file"]).is_file():
            raise UserError(
                _where(["sections", index, "file"]),
                f"section '{section['id']}' names {section['file']}, which does not exist",
                "create the file, or remove the section from paper/metadata.yaml",
            )
    if not (root / metadata["bibliography"]).is_file():
        raise UserError(
            _where(["bibliography"]),
            f"bibliography {metadata['bibliography']} does not exist",
            "correct the path, or restore the file",
        )
    resources = {resource["name"] for resource in package.get("resources", [])}
    for index, figure in enumerate(metadata["figures"]):
        if figure["data"] not in resources:
            raise UserError(
                _where(["figures", index, "data"]),
                f"figure '{figure['id']}' uses data '{figure['data']}', which data/datapackage.json does not have",
                f"data resources: {', '.join(sorted(resources))}",
            )
        if figure["kind"] not in metadata["processing"]:
            raise UserError(_where(["figures", index, "kind"]), f"no processing settings for kind '{figure['kind']}'")
