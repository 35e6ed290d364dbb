"""scripts/commands/engine.py: Snakemake without its avoidable start-up import and exit waits, same results."""

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.commands.engine import exit_status, skip_pandas_param_serialiser
from scripts.common import ROOT

RULE = (
    'rule all:\n    output: "x.txt"\n    params: option="--window-hours {hours}"\n'
    '    shell: "echo {{params.option}} > {{output}}"\n'
)


def imports_pandas(folder: Path, module: str, patch: str = "1") -> bool:
    """Whether a no-op run of `python -m <module>` in `folder` imports pandas."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, "--cores", "1"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PAPER_ENGINE_PATCH": patch},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return any(line.rstrip().endswith("| pandas") for line in result.stderr.splitlines())


def test_params_are_checked_without_importing_pandas(tmp_path):
    assert skip_pandas_param_serialiser()  # fails when a Snakemake upgrade moves these internals
    (tmp_path / "Snakefile").write_text(RULE.format(hours=24))
    assert engine(tmp_path).returncode == 0  # the job runs; the no-op runs below compare its params
    assert imports_pandas(tmp_path, "snakemake")  # Snakemake alone imports pandas for this check
    assert not imports_pandas(tmp_path, "scripts.commands.engine")
    assert imports_pandas(tmp_path, "scripts.commands.engine", patch="0")  # the switch turns the patch off
    (tmp_path / "Snakefile").write_text(RULE.format(hours=12))
    rerun = engine(tmp_path)  # a changed param still reruns the job
    assert rerun.returncode == 0 and (tmp_path / "x.txt").read_text() == "--window-hours 12\n"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), ("a message", 1)])
def test_exit_status(code, status):
    assert exit_status(code) == status


def engine(folder: Path, patch: str = "1") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.commands.engine", "--cores", "1"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PAPER_ENGINE_PATCH": patch},
    )


def test_the_engine_runs_jobs_and_reports_failure_like_snakemake(tmp_path):
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: "b.txt"\n\n'
        'rule a:\n    output: "a.txt"\n    shell: "echo a > {output}"\n\n'
        'rule b:\n    input: "a.txt"\n    output: "b.txt"\n    shell: "cat {input} > {output}"\n'
    )
    done = engine(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.txt").read_text() == "a\n"
    (log,) = (tmp_path / ".snakemake/log").glob("*.snakemake.log")
    assert "3 of 3 steps (100%) done" in log.read_text()  # the log is complete although exit is immediate

    (tmp_path / "Snakefile").write_text('rule all:\n    output: "c.txt"\n    shell: "exit 3"\n')
    for patch in ("1", "0"):  # the same results with the shortcuts and without them
        failed = engine(tmp_path, patch)
        assert failed.returncode == 1
        assert "Error in rule all" in failed.stderr + failed.stdout
