"""Read and validate paper/metadata.yaml (the paper's metadata and the workflow's config)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from scripts.common import ROOT, UNKNOWN, UserError, atomic_write_text, load_yaml, run_main
from scripts.paths import CONFIG, PUBLISHED_FIGURE

METADATA = Path("paper/metadata.yaml")
SCHEMA = ROOT / "scripts" / "workflow" / "schemas" / "metadata.schema.yaml"


@cache
def _yaml_tree(path: str):
    import yaml

    try:
        return yaml.compose(
            Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except (OSError, yaml.YAMLError):
        return None


def yaml_line(path: Path, keys: list[str | int]) -> int | None:
    """Line (1-based) of the node at `keys` in a YAML file, or of its deepest existing parent."""
    import yaml

    node = _yaml_tree(str(path))
    if node is None:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                break
            key_node = next(k for k, v in node.value if k.value == key)
            line, node = key_node.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _dotted(keys: list[str | int]) -> str:
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "(top level)"


# What a paper linted with `python -m scripts.stages.lint --root DIR` must give; the rest of the lint keys default.
LINT_ONLY_REQUIRED = ["sections", "bibliography", "lint"]
LINT_ONLY_LINT_REQUIRED = ["research_questions_section", "coverage_sections", "answer_sections"]


def lint_only_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema for a paper folder that only the lint reads: the same keys, fewer of them required."""
    import copy

    relaxed = copy.deepcopy(schema)
    relaxed["required"] = LINT_ONLY_REQUIRED
    relaxed["properties"]["lint"]["required"] = LINT_ONLY_LINT_REQUIRED
    return relaxed


@cache
def lint_defaults() -> dict[str, Any]:
    """The default of each lint key, from the schema (the one place they are written)."""
    properties = load_yaml(SCHEMA)["properties"]["lint"]["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    import copy

    for section in data["sections"]:
        section.setdefault("numbered", True)
    for key, value in lint_defaults().items():
        data["lint"].setdefault(key, copy.deepcopy(value))
    return data


def validate_metadata(data: Any, path: Path = METADATA, lint_only: bool = False) -> dict[str, Any]:
    """Check `data` against the schema; the first problem becomes a UserError naming the key. With
    `lint_only`, only the keys the lint needs are required (a paper folder linted with --root).

    The workflow validates once per run; its steps read the validated copy, build/config.json."""
    import jsonschema

    schema = lint_only_schema(load_yaml(SCHEMA)) if lint_only else load_yaml(SCHEMA)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        keys = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            keys = keys + extra[:1]
            message = f"unknown key '{_dotted(keys)}'"
            hint = f"allowed keys here: {', '.join(sorted(err.schema.get('properties', {})))}"
        elif err.validator == "required":
            missing = err.message.split("'")[1]
            message = f"missing required key '{_dotted([*keys, missing])}'"
            hint = "see the key's description in scripts/workflow/schemas/metadata.schema.yaml"
        else:
            message = f"'{_dotted(keys)}': {err.message}"
            hint = "see scripts/workflow/schemas/metadata.schema.yaml for what this key accepts"
        line = yaml_line(path, keys)
        raise UserError(f"{path}:{line}" if line else str(path), message, hint)
    return with_defaults(data)


def load_metadata(path: Path = METADATA, lint_only: bool = False) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise UserError(str(path), "expected a mapping of keys (title:, doi:, ...)")
    return validate_metadata(data, path, lint_only)


def config_json(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def read_config(path: Path = CONFIG) -> dict[str, Any]:
    """The validated metadata as the workflow wrote it: what every step reads instead of metadata.yaml."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(str(path), f"cannot read the workflow's config: {err}", "run `make` to write it") from None


def config_or_metadata(config: Path | None, metadata: Path = METADATA) -> dict[str, Any]:
    """A step's settings: the workflow's validated config when given (--config), else the metadata file
    itself (a command run by hand, outside the workflow)."""
    return read_config(config) if config else load_metadata(metadata)


def figure_path(figure_id: str) -> str:
    """Where the workflow writes figure <id> (convention, not configuration)."""
    return PUBLISHED_FIGURE.format(figure=figure_id)


def is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == UNKNOWN)


def to_epoch(source_date: str) -> int:
    """An ISO 8601 source date as seconds since 1970 (SOURCE_DATE_EPOCH)."""
    return int(datetime.fromisoformat(str(source_date)).timestamp())


def source_date_epoch(metadata: dict[str, Any]) -> int:
    """The fixed timestamp (seconds since 1970) written into every output."""
    return to_epoch(metadata["build"]["source_date"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.metadata", description="validate the metadata once")
    parser.add_argument("--metadata", type=Path, default=METADATA)
    parser.add_argument("--out", type=Path, default=CONFIG)
    args = parser.parse_args(argv)
    atomic_write_text(args.out, config_json(load_metadata(args.metadata)))
    print(f"{args.metadata}: valid; wrote {args.out}")
    return 0


if __name__ == "__main__":
    run_main(main)
