"""Read and validate paper/metadata.yaml (the paper's metadata and the workflow's config)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from scripts.common import ROOT, UNKNOWN, UserError, load_yaml

METADATA = Path("paper/metadata.yaml")
SCHEMA = ROOT / "scripts" / "schemas" / "metadata.schema.yaml"


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


VALIDATED = ROOT / "build" / ".cache" / "valid-metadata"  # one empty file per metadata already found valid


def validation_key(data: Any, lint_only: bool = False) -> str:
    """sha256 of the metadata (as data), the schema and the mode: what a validation result depends on."""
    import hashlib
    import json

    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False) + ("\0lint-only" if lint_only else "")
    return hashlib.sha256(text.encode("utf-8") + SCHEMA.read_bytes()).hexdigest()


# What a paper linted with `python -m scripts.lint --root DIR` must give; the rest of the lint keys default.
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

    Metadata found valid once is remembered by its hash (build/.cache), so that the workflow and each
    step do not import jsonschema and validate again on every build: 0.1-0.2 s each. Problems are never
    cached; they are found again every time."""
    key = validation_key(data, lint_only)
    if (VALIDATED / key).exists():
        return with_defaults(data)
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
            hint = "see the key's description in scripts/schemas/metadata.schema.yaml"
        else:
            message = f"'{_dotted(keys)}': {err.message}"
            hint = "see scripts/schemas/metadata.schema.yaml for what this key accepts"
        line = yaml_line(path, keys)
        raise UserError(f"{path}:{line}" if line else str(path), message, hint)
    try:
        VALIDATED.mkdir(parents=True, exist_ok=True)
        (VALIDATED / key).touch()
    except OSError:  # a read-only checkout: validate every time
        pass
    return with_defaults(data)


def load_metadata(path: Path = METADATA, lint_only: bool = False) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise UserError(str(path), "expected a mapping of keys (title:, doi:, ...)")
    return validate_metadata(data, path, lint_only)


def figure_path(figure_id: str) -> str:
    """Where the workflow writes figure <id> (convention, not configuration)."""
    return f"figures/{figure_id}.pdf"


def is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == UNKNOWN)


def source_date_epoch(metadata: dict[str, Any]) -> int:
    """The fixed timestamp (seconds since 1970) written into every output."""
    return int(datetime.fromisoformat(metadata["build"]["source_date"]).timestamp())
