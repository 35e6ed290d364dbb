"""Raw data -> processed tables: validation against the data package, and each figure's processing.

Pure functions (`poll_window`, `drop_repeat_respondents`, `wilson_interval`, `yearly_series`, ...)
take and return DataFrames; `main` is the command line the workflow calls:

    python -m scripts.stages.data validate --entry '{"name": "poll-responses", ...}' \
        --report build/data/poll-responses.json
    python -m scripts.stages.data poll --raw data/raw/poll_responses.csv --out build/processed/neutrality-poll.csv ...
    python -m scripts.stages.data survey --raw data/raw/threat_survey.csv \
        --out build/processed/threat-perception.csv ...
    python -m scripts.stages.data rehash      # after editing a raw file on purpose: record its new sha256
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from scripts.common import UserError, atomic_write_text, run_main, sha256_file

if TYPE_CHECKING:  # pandas costs 0.4 s to import; the workflow reads this module for its descriptor helpers only
    import pandas as pd

DESCRIPTOR = Path("data/datapackage.json")
POLL_COLUMNS = ["response_id", "submitted_at", "respondent_token", "answer"]
SURVEY_COLUMNS = ["wave_date", "indicator", "value", "respondents"]


# --- the data package -------------------------------------------------------------------------


def load_descriptor(path: Path = DESCRIPTOR) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(str(path), "data package descriptor not found") from None
    except json.JSONDecodeError as err:
        raise UserError(f"{path}:{err.lineno}", f"invalid JSON: {err.msg}") from None


def find_resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    for resource in descriptor.get("resources", []):
        if resource.get("name") == name:
            return resource
    names = ", ".join(r.get("name", "?") for r in descriptor.get("resources", []))
    raise UserError(str(DESCRIPTOR), f"no resource named '{name}'", f"resources in the package: {names}")


def check_hash(path: Path, expected: str) -> None:
    """Stop when a raw file is not the one the data package describes."""
    actual = sha256_file(path)
    if expected.removeprefix("sha256:") != actual:
        raise UserError(
            str(path),
            f"sha256 {actual} does not match {expected.removeprefix('sha256:')} recorded in {DESCRIPTOR}",
            "if you changed the data on purpose, run `make rehash` and commit data/datapackage.json",
        )


def check_utf8(path: Path) -> None:
    """A raw file must be UTF-8 text (a byte-order mark is fine); say where it is not."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise UserError(
            f"{path}:{line}", f"byte 0x{data[err.start]:02x} in column {column} is not UTF-8", "save the file as UTF-8"
        ) from None


def rehash_descriptor(path: Path = DESCRIPTOR) -> dict[str, Any]:
    """Record each resource's current sha256 and size in the descriptor."""
    descriptor = load_descriptor(path)
    for resource in descriptor["resources"]:
        data_path = Path(path).parent / resource["path"]
        resource["hash"] = "sha256:" + sha256_file(data_path)
        resource["bytes"] = data_path.stat().st_size
    atomic_write_text(Path(path), json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    return descriptor


def provenance_status(resource: dict[str, Any]) -> str:
    """'illustrative' (stand-in values) or 'real'; anything unmarked counts as illustrative."""
    status = resource.get("provenance", {}).get("status", "illustrative")
    return "real" if status == "real" else "illustrative"


def validate_resource(resource: dict[str, Any], basepath: Path) -> dict[str, Any]:
    """Check a raw file against its hash and Table Schema; return a small report, or raise."""
    from frictionless import Resource

    data_path = basepath / resource["path"]
    if not data_path.is_file():
        raise UserError(str(data_path), "raw data file not found", f"it is listed in {DESCRIPTOR}")
    check_hash(data_path, resource.get("hash", ""))
    check_utf8(data_path)
    checked = {k: v for k, v in resource.items() if k not in ("hash", "bytes")}  # hash checked above
    report = Resource(checked, basepath=str(basepath)).validate()
    task = report.tasks[0]
    if not report.valid:
        error = (task.errors or report.errors)[0]
        row = getattr(error, "row_number", None)
        field = getattr(error, "field_name", None)
        where = f"{data_path}:{row}" if row else str(data_path)
        cell = getattr(error, "cell", None)
        if "label" in error.type:  # a header problem: a missing, extra or renamed column
            where = f"{data_path}:1"
            message = f"header: {error.message}"
        elif field and cell is not None:
            message = f"column '{field}': value '{cell}' breaks the schema ({error.note or error.title})"
        else:
            message = error.message
        raise UserError(where, message, f"the file must follow the schema of '{resource['name']}' in {DESCRIPTOR}")
    return {
        "resource": resource["name"],
        "path": str(data_path),
        "sha256": sha256_file(data_path),
        "rows": task.stats.get("rows"),
        "provenance": provenance_status(resource),
    }


def read_csv_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read a raw CSV as text (BOM and CRLF are harmless) and insist on the expected columns."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(str(path), "raw data file not found") from None
    except UnicodeDecodeError as err:
        raise UserError(str(path), f"not UTF-8 text (byte {err.start})", "save the file as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise UserError(str(path), "the file is empty", f"expected a header row: {','.join(columns)}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(
            f"{path}:1", f"missing column(s) {', '.join(missing)}", f"expected columns: {','.join(columns)}"
        )
    return frame[columns]


# --- Figure 1: the 24-hour online poll ----------------------------------------------------------


def parse_poll(frame: pd.DataFrame, source: str = "poll responses") -> pd.DataFrame:
    """Submission times as UTC timestamps; a time that is not ISO 8601 is a UserError at its row."""
    import pandas as pd

    frame = frame.copy()
    parsed = pd.to_datetime(frame["submitted_at"], utc=True, format="ISO8601", errors="coerce")
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().argmax())
        raise UserError(
            f"{source}:{row + 2}",  # + header line, 1-based
            f"column 'submitted_at': '{frame['submitted_at'].iloc[row]}' is not an ISO 8601 time",
            "write times with their UTC offset, e.g. 2015-10-30T09:12:33+08:00",
        )
    frame["submitted_at"] = parsed
    return frame


def poll_window(frame: pd.DataFrame, opened_at: str, window_hours: float) -> pd.DataFrame:
    """Responses submitted in [opened_at, opened_at + window_hours)."""
    import pandas as pd

    start = pd.Timestamp(opened_at).tz_convert("UTC")
    end = start + pd.Timedelta(hours=window_hours)
    inside = (frame["submitted_at"] >= start) & (frame["submitted_at"] < end)
    return frame[inside]


def drop_repeat_respondents(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep each respondent's first response (ties broken by response id)."""
    ordered = frame.sort_values(["submitted_at", "response_id"], kind="stable")
    return ordered.drop_duplicates("respondent_token", keep="first").sort_index()


def known_answers(frame: pd.DataFrame, options: Sequence[str]) -> pd.DataFrame:
    return frame[frame["answer"].isin(options)]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarise_poll(frame: pd.DataFrame, options: Sequence[dict[str, str]], confidence: float) -> pd.DataFrame:
    """Counts, shares and Wilson intervals per answer option, in the options' order."""
    import pandas as pd

    n = len(frame)
    counts = frame["answer"].value_counts()
    rows = []
    for option in options:
        count = int(counts.get(option["value"], 0))
        low, high = wilson_interval(count, n, confidence)
        rows.append(
            {
                "option": option["value"],
                "label": option["label"],
                "count": count,
                "share": count / n if n else math.nan,
                "ci_low": low,
                "ci_high": high,
                "n": n,
            }
        )
    return pd.DataFrame(rows)


def process_poll(
    raw: pd.DataFrame,
    opened_at: str,
    window_hours: float,
    options: Sequence[dict[str, str]],
    confidence: float,
    source: str = "poll responses",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Window, then repeat respondents, then unknown answers; return the summary and what was dropped."""
    frame = parse_poll(raw, source)
    in_window = poll_window(frame, opened_at, window_hours)
    first = drop_repeat_respondents(in_window)
    valid = known_answers(first, [o["value"] for o in options])
    dropped = {
        "submitted": len(frame),
        "outside_window": len(frame) - len(in_window),
        "repeat_respondent": len(in_window) - len(first),
        "unknown_answer": len(first) - len(valid),
        "kept": len(valid),
    }
    return summarise_poll(valid, options, confidence), dropped


# --- Figure 2: survey waves -> yearly series ---------------------------------------------------


def yearly_series(frame: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """Respondent-weighted yearly mean of each indicator, for the years in [first_year, last_year]."""
    import pandas as pd

    data = frame.copy()
    data["year"] = pd.to_datetime(data["wave_date"]).dt.year
    data["value"] = data["value"].astype(float)
    data["respondents"] = data["respondents"].astype(int)
    data = data[(data["year"] >= first_year) & (data["year"] <= last_year)]
    data["weighted"] = data["value"] * data["respondents"]
    grouped = data.groupby(["indicator", "year"], sort=True).agg(
        weighted=("weighted", "sum"), respondents=("respondents", "sum"), waves=("value", "size")
    )
    grouped["value"] = grouped["weighted"] / grouped["respondents"]
    return grouped.reset_index()[["indicator", "year", "value", "respondents", "waves"]]


# --- command line ------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_text(Path(path), frame.to_csv(index=False, lineterminator="\n", float_format="%.6f"))


def processing_options(settings: dict[str, Any]) -> list[str]:
    """Command-line options of `scripts.stages.data <kind>` from the metadata's processing.<kind> settings."""
    return [item for key, value in settings.items() for item in (f"--{key.replace('_', '-')}", str(value))]


def process_command(kind: str, raw: Path, resource: dict[str, Any], out: Path, settings: dict[str, Any]) -> list[str]:
    """The processing step's command line, as the workflow runs it (the benchmark's floor runs it too)."""
    import sys

    entry = json.dumps(resource, sort_keys=True)
    command = [
        sys.executable,
        "-m",
        "scripts.stages.data",
        kind,
        "--raw",
        str(raw),
        "--entry",
        entry,
        "--out",
        str(out),
    ]
    return command + processing_options(settings)


def field(resource: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in resource["schema"]["fields"] if f["name"] == name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.data", description=__doc__.splitlines()[0])
    parser.add_argument("--descriptor", type=Path, default=DESCRIPTOR)
    # The steps get their resource's descriptor entry from the workflow (--entry, JSON) rather than
    # reading the whole descriptor, so that editing one resource reruns only its own chain.
    entry = argparse.ArgumentParser(add_help=False)
    entry.add_argument("--entry", type=json.loads, required=True, help="the resource's descriptor entry (JSON)")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", parents=[entry], help="check a raw file against the data package")
    validate.add_argument("--report", type=Path, required=True)
    poll = commands.add_parser("poll", parents=[entry], help="Figure 1: poll responses -> shares with Wilson intervals")
    poll.add_argument("--raw", type=Path, required=True)
    poll.add_argument("--out", type=Path, required=True)
    poll.add_argument("--opened-at", required=True)
    poll.add_argument("--window-hours", type=float, required=True)
    poll.add_argument("--confidence", type=float, default=0.95)
    survey = commands.add_parser("survey", parents=[entry], help="Figure 2: survey waves -> yearly series")
    survey.add_argument("--raw", type=Path, required=True)
    survey.add_argument("--out", type=Path, required=True)
    survey.add_argument("--first-year", type=int, required=True)
    survey.add_argument("--last-year", type=int, required=True)
    commands.add_parser("rehash", help="record the current sha256 of every raw file in the descriptor")
    args = parser.parse_args(argv)

    if args.command == "rehash":
        for resource in rehash_descriptor(args.descriptor)["resources"]:
            print(f"{resource['path']}: {resource['hash']}")
        return 0
    if args.command == "validate":
        report = validate_resource(args.entry, args.descriptor.parent)
        atomic_write_text(args.report, json.dumps(report, indent=2) + "\n")
        print(f"{report['path']}: valid, {report['rows']} rows, data {report['provenance']}")
    elif args.command == "poll":
        options = field(args.entry, "answer")["answerOptions"]
        table, dropped = process_poll(
            read_csv_columns(args.raw, POLL_COLUMNS),
            args.opened_at,
            args.window_hours,
            options,
            args.confidence,
            str(args.raw),
        )
        write_table(table, args.out)
        print(f"{args.raw}: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))
    elif args.command == "survey":
        table = yearly_series(read_csv_columns(args.raw, SURVEY_COLUMNS), args.first_year, args.last_year)
        labels = field(args.entry, "indicator").get("labels", {})
        table.insert(1, "label", table["indicator"].map(labels).fillna(table["indicator"]))
        write_table(table, args.out)
        print(f"{args.raw}: {table['indicator'].nunique()} indicators x {table['year'].nunique()} years")
    return 0


if __name__ == "__main__":
    run_main(main)
