"""Verify a batch of papers through one SLURM session, against the same papers one after the other locally.

    python -m scripts.devtools.slurm_batch [--papers 4] [--size 2] [--throwaway-cluster] [--json FILE]

Each paper is a synthetic paper (scripts/devtools/synthetic.py, its own seed: its own figures' data and section
order), made twice from the same seed in a temporary folder: once for the local runs, once for SLURM,
so that both start from a clean build folder. Locally: `python -m scripts.commands.build verify_report` in each
folder, one after the other, with all cores. On SLURM: `python -m scripts.commands.slurm verify_report` in
every folder at once, all submitting to one cluster (SLURM_CONF, or a throw-away single node with
--throwaway-cluster). Each run must pass verification, and each paper's PDF must be the same bytes
both ways. Not part of the tests: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from scripts.common import UserError, run_main
from scripts.devtools import slurm_cluster
from scripts.devtools.synthetic import make_synthetic

TARGET = "verify_report"


def run_local(folder: Path, cores: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "scripts.commands.build", TARGET, "--cores", str(cores)],
        cwd=folder,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise UserError(str(folder), f"the local run failed: {result.stderr.strip()}")
    return time.perf_counter() - started


def run_slurm_batch(folders: list[Path], env: dict[str, str], options: list[str]) -> tuple[float, list[str]]:
    """Every folder's run at once; (wall time until the last ends, each run's summary line)."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "scripts.commands.slurm", TARGET, *options],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in folders
    ]
    summaries = []
    for folder, process in zip(folders, processes, strict=True):
        out, err = process.communicate()
        if process.returncode != 0:
            raise UserError(str(folder), f"the SLURM run failed: {err.strip()}")
        summaries.append(out.strip())
    return time.perf_counter() - started, summaries


def verified(folder: Path) -> bool:
    report = json.loads((folder / "build/verify/report.json").read_text(encoding="utf-8"))
    return bool(report["passed"])


@contextmanager
def cluster_env(throwaway: bool, workdir: Path):
    """The environment that reaches the cluster: SLURM_CONF as given, or a throw-away node for the batch."""
    if not throwaway:
        yield dict(os.environ)
        return
    folder = workdir / "cluster"
    folder.mkdir()
    pids = slurm_cluster.start(folder, cpus=os.cpu_count() or 1)  # the machine's real cores: a fair race
    try:
        yield slurm_cluster.cluster_environment(folder)
    finally:
        slurm_cluster.stop_pids(pids)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.devtools.slurm_batch", description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=4)
    parser.add_argument("--size", type=int, default=2, help="each paper: this many times the sections and figures")
    parser.add_argument("--throwaway-cluster", action="store_true", help="start a single-node SLURM for the batch")
    parser.add_argument(
        "--slurm-option", action="append", default=[], help="passed to scripts.commands.slurm (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="slurm-batch-") as temporary:
        workdir = Path(temporary)
        seeds = range(1, args.papers + 1)
        local = [workdir / f"local-{seed}" for seed in seeds]
        remote = [workdir / f"slurm-{seed}" for seed in seeds]
        for seed, folder_local, folder_remote in zip(seeds, local, remote, strict=True):
            for folder in (folder_local, folder_remote):
                folder.mkdir()
                make_synthetic(folder, args.size, args.size, seed)
        local_seconds = [run_local(folder, cores) for folder in local]
        with cluster_env(args.throwaway_cluster, workdir) as env:
            slurm_seconds, summaries = run_slurm_batch(remote, env, args.slurm_option)
        same_pdf = [
            (a / "build/paper.pdf").read_bytes() == (b / "build/paper.pdf").read_bytes()
            for a, b in zip(local, remote, strict=True)
        ]
        results = {
            "papers": args.papers,
            "size": args.size,
            "cores": cores,
            "local_seconds_each": [round(seconds, 1) for seconds in local_seconds],
            "local_seconds_total": round(sum(local_seconds), 1),
            "slurm_seconds_total": round(slurm_seconds, 1),
            "slurm_runs": summaries,
            "verified_local": [verified(folder) for folder in local],
            "verified_slurm": [verified(folder) for folder in remote],
            "same_pdf": same_pdf,
        }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    ok = all(results["verified_local"]) and all(results["verified_slurm"]) and all(same_pdf)
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
