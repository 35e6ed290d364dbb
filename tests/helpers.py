"""Helpers for the tests that build a whole copy of the project (end to end, broken-input corpus)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.common import ROOT, copy_project_files


def run_build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.commands.build", "--cores", "2"],
        cwd=project,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def jobs_run(project: Path, log_name: str = "snakemake.log") -> list[str]:
    log = (project / "build/logs" / log_name).read_text()
    return sorted(rule for rule in re.findall(r"^Finished jobid: \d+ \(Rule: (\w+)\)", log, re.M) if rule != "all")


def copy_project(root: Path) -> Path:
    """A built copy of the project's sources (what git would check out) in `root`."""
    copy_project_files(root, ROOT)
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    shutil.copy(root / "build/logs/snakemake.log", root / "build/logs/cold-build.log")
    return root


def change_first_survey_value(project: Path, delta: float) -> None:
    """Add `delta` to the first value of the survey's raw CSV (not rehashed)."""
    raw = project / "data/raw/threat_survey.csv"
    lines = raw.read_text().splitlines()
    date, indicator, value, respondents = lines[1].split(",")
    lines[1] = ",".join([date, indicator, f"{float(value) + delta:.1f}", respondents])
    raw.write_text("\n".join(lines) + "\n")
