"""The SLURM profile (scripts/workflow/profiles/slurm) is valid: Snakemake accepts it and plans the jobs it shapes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.common import ROOT, copy_project_files


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cluster")
    copy_project_files(folder, ROOT)
    return folder


PLUGINS = ROOT / ".venv/cluster"  # `make cluster-setup` (run by `make test`) installs the SLURM plugin here


def dry_run(folder: Path, profile: Path) -> subprocess.CompletedProcess:
    assert (PLUGINS / "snakemake_executor_plugin_slurm").is_dir(), "run `make cluster-setup` first"
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", str(profile), "--dry-run", "verify_report", "archive"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(PLUGINS)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_dry_run_with_the_slurm_profile_plans_every_job(sources):
    result = dry_run(sources, sources / "scripts/workflow/profiles/slurm")
    assert result.returncode == 0, result.stderr + result.stdout
    for rule in ("validate_data", "plot_figure", "compile", "verify_report", "archive"):
        assert f"rule {rule}:" in result.stdout or f"{rule} " in result.stdout, rule
    assert "runtime=30" in result.stdout and "cpus_per_task=2" in result.stdout  # set-resources applied
    assert "mem_mb=2000" in result.stdout  # default-resources applied


def test_a_broken_profile_is_refused(sources, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(sources / "scripts/workflow/profiles/slurm", broken)
    config = broken / "config.yaml"
    config.write_text(config.read_text().replace("executor: slurm", "executor: no-such-executor"))
    result = dry_run(sources, broken)
    assert result.returncode != 0
