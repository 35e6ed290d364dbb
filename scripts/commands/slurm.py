"""Run workflow targets on a SLURM cluster through scripts/workflow/profiles/slurm (what `make slurm` runs).

    python -m scripts.commands.slurm [TARGET ...] [--timeout-minutes 120] [--first-status-check S]
        [SNAKEMAKE OPTION ...]

(An option of Snakemake's that takes several values, like --set-resources, goes after the targets.)

What it adds to `snakemake --profile scripts/workflow/profiles/slurm`:
- the jobs run this project's Python: .venv/bin goes first on PATH and the plugin folder on PYTHONPATH,
  both absolute paths in the project folder, which the nodes share; sbatch passes them on (--export=ALL);
- job status works with or without accounting: sacct when the cluster keeps it, else squeue (sacct
  without slurmdbd answers nothing and the run would wait forever);
- every wait is bounded: each job by its `runtime` (SLURM ends it), the status interval by
  --seconds-between-status-checks (scripts/commands/slurm_engine.py), the whole run by --timeout-minutes (then
  Snakemake cancels its jobs);
- a failure ends in the failed step's own error, the SLURM job id and the job's log.
Snakemake's output goes to build/logs/slurm.log.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.commands.build import stop_with_parent, user_error_lines
from scripts.common import ROOT, UserError, load_yaml, run_main, venv_environment

PROFILE = Path("scripts/workflow/profiles/slurm")
SRUN_SHIM = PROFILE / "bin"  # restores SLURM_CONF for the jobstep's srun (see bin/srun)
SLURM_LOG = Path("build/logs/slurm.log")
STOP_GRACE_SECONDS = 60  # after the time-out: how long Snakemake may take to cancel its jobs


@dataclass(frozen=True)
class ClusterConfig:
    accounting: bool
    min_job_age: int | None  # seconds a finished job stays visible to squeue


def plugin_folder() -> Path:
    """Where `make cluster-setup` installs the SLURM plugin: beside this Python's packages, kept out of
    .venv proper so that local builds do not import it (and pay its `scontrol` start-up call)."""
    return Path(sys.prefix) / "cluster"


def parse_config(text: str) -> ClusterConfig:
    """The two settings of `scontrol show config` that decide how job status can be followed."""
    storage = re.search(r"^AccountingStorageType\s*=\s*(\S+)", text, re.M)
    age = re.search(r"^MinJobAge\s*=\s*(\d+)", text, re.M)
    return ClusterConfig(
        accounting=bool(storage) and storage[1] != "accounting_storage/none",
        min_job_age=int(age[1]) if age else None,
    )


def cluster_config(env: dict[str, str]) -> ClusterConfig:
    """Ask the controller for its configuration; a UserError when no controller answers."""
    conf = env.get("SLURM_CONF")
    if conf and not Path(conf).is_file():  # scontrol would retry reading it for a minute
        raise UserError(conf, "SLURM_CONF names no file", "point SLURM_CONF at your cluster's slurm.conf, or unset it")
    try:
        result = subprocess.run(
            ["scontrol", "show", "config"], env=env, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise UserError("scontrol", "SLURM's client commands are not installed", "run this on a login node") from None
    except subprocess.TimeoutExpired:
        raise UserError("scontrol show config", "the controller did not answer in 30 s", "check slurmctld") from None
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no answer"])[0]
        raise UserError("scontrol show config", first, "check that slurmctld runs and SLURM_CONF names its slurm.conf")
    return parse_config(result.stdout)


def status_options(config: ClusterConfig, first_check: int) -> list[str]:
    """The plugin's status options for this cluster; a UserError when the run could not follow its jobs."""
    if config.accounting:
        return ["--slurm-status-command", "sacct", "--slurm-init-seconds-before-status-checks", str(first_check)]
    # Without accounting only squeue knows a job, and only for MinJobAge seconds after it ends. The
    # plugin falls back to sacct (which then never answers) when MinJobAge < 3 x the first wait.
    if config.min_job_age is not None and config.min_job_age < 3 * first_check:
        raise UserError(
            "slurm.conf",
            f"MinJobAge ({config.min_job_age} s) is too short to follow jobs with squeue (no accounting here)",
            f"use --first-status-check {max(1, config.min_job_age // 3)} or less, or raise MinJobAge",
        )
    return [
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",  # accounts mean nothing without accounting; skips the plugin's sacct guess
        "--slurm-init-seconds-before-status-checks",
        str(first_check),
    ]


def job_environment(root: Path = ROOT) -> dict[str, str]:
    """The environment sbatch passes to every job: this project's Python and the plugin, by absolute path."""
    env = venv_environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_folder()), env.get("PYTHONPATH", "")]))
    if env.get("SLURM_CONF"):  # the jobstep plugin drops SLURM_CONF; bin/srun restores it from here
        env["PAPER_SLURM_CONF"] = env["SLURM_CONF"]
        env["PATH"] = f"{root / SRUN_SHIM}{os.pathsep}{env['PATH']}"
    return env


def profile_value(name: str, root: Path = ROOT) -> object:
    return load_yaml(root / PROFILE / "config.yaml").get(name)


def submitted_jobs(output: str) -> list[str]:
    """SLURM job ids in the order Snakemake submitted them."""
    return re.findall(r"has been submitted with SLURM jobid (\d+)", output)


def run_id(output: str) -> str | None:
    found = re.search(r"^SLURM run ID: (\S+)", output, re.M)
    return found[1] if found else None


def failed_steps(output: str) -> list[tuple[str, str]]:
    """(rule, log) of each `Error in rule` block of a Snakemake output."""
    found = []
    for block in re.split(r"(?=^\s*Error in rule )", output, flags=re.M)[1:]:
        rule = re.match(r"\s*Error in rule (\S+?):", block)
        log = re.search(r"^\s+log: ([^,\s]+)", block, re.M)
        if rule and log:
            found.append((rule[1], log[1]))
    return found


def failed_jobs(output: str) -> dict[str, Path]:
    """SLURM job id -> its log, for the jobs Snakemake reports as failed (a failed job's log is kept)."""
    errors = re.findall(r"log: (\S+/slurm_logs/\S*?/(\d+)\.log) \(check log", output)  # not the submission lines
    return {job: Path(log) for log, job in errors}


def explain_failure(output: str, root: Path = ROOT) -> list[str]:
    """Each failed step's own error and log, then each failed SLURM job and its log.

    A failed group job lists all its steps as failed; the job's own log (the Snakemake inside it)
    names the one that did fail, so that is read first."""
    jobs = failed_jobs(output)
    steps: list[tuple[str, str]] = []
    for log in jobs.values():
        if log.exists():
            steps += failed_steps(log.read_text(encoding="utf-8", errors="replace"))
    steps = list(dict.fromkeys(steps)) or failed_steps(output)
    messages: list[str] = []
    for rule, log in steps:
        path = root / log
        lines = user_error_lines(path.read_text(encoding="utf-8", errors="replace")) if path.exists() else []
        messages += [*lines, f"  log: {log}"] if lines else [f"error: step '{rule}' failed", f"  log: {log}"]
    messages += [f"  SLURM job {job} failed; its log: {os.path.relpath(log, root)}" for job, log in jobs.items()]
    if not messages:
        workflow_error = re.search(r"^(error: .*)(?:\n(  hint: .*))?", output, re.M)
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "no output")
        messages = [line for line in workflow_error.groups() if line] if workflow_error else [f"error: {last}"]
    return [*messages, f"  log: {SLURM_LOG}"]


def cancel_run(uuid: str | None, env: dict[str, str]) -> None:
    """Cancel every job of a run (SLURM job name = the run's id), in case Snakemake could not."""
    if uuid:
        subprocess.run(["scancel", "--name", uuid], env=env, capture_output=True, timeout=30, check=False)


def run_bounded(command: list[str], env: dict[str, str], log: Path, timeout: float) -> tuple[int | None, str]:
    """Run Snakemake with its output in `log`; (exit status or None after the time-out, output)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=stop_with_parent,
        )
        try:
            status: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)  # Snakemake cancels its SLURM jobs (SIGTERM would wait for them)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            status = None
    output = log.read_text(encoding="utf-8", errors="replace")
    if status is None:
        cancel_run(run_id(output), env)
    return status, output


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.slurm", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout-minutes", type=float, default=120, help="stop and cancel the run after this")
    parser.add_argument(
        "--first-status-check",
        type=int,
        help="seconds before the first status query of a job (default: the profile's)",
    )
    # Targets and Snakemake's own options pass through in their order (default target: the PDF).
    args, passed = parser.parse_known_args(argv)
    if not (plugin_folder() / "snakemake_executor_plugin_slurm").is_dir():
        raise UserError(str(plugin_folder()), "the SLURM executor plugin is not installed", "run `make cluster-setup`")
    env = job_environment()
    first_check = args.first_status_check or int(profile_value("slurm-init-seconds-before-status-checks") or 40)
    options = status_options(cluster_config(env), first_check)
    command = [sys.executable, "-m", "scripts.commands.slurm_engine", "--profile", str(PROFILE), *options, *passed]
    started = time.perf_counter()
    print(f"running on SLURM; Snakemake's output: {SLURM_LOG}", file=sys.stderr)
    status, output = run_bounded(command, env, ROOT / SLURM_LOG, args.timeout_minutes * 60)
    seconds = time.perf_counter() - started
    jobs = submitted_jobs(output)
    if status is None:
        print(f"error: the SLURM run did not finish within {args.timeout_minutes:g} min", file=sys.stderr)
        print("  hint: its jobs were cancelled; look for pending jobs or raise --timeout-minutes", file=sys.stderr)
        print(f"  log: {SLURM_LOG}", file=sys.stderr)
        return 1
    if status != 0:
        print("\n".join(explain_failure(output)), file=sys.stderr)
        print(f"SLURM run failed after {seconds:.1f} s ({counted(len(jobs), 'job')} submitted)", file=sys.stderr)
        return 1
    steps = len(re.findall(r"^Finished jobid: \d+ \(Rule: (?!all\))", output, re.M))
    ids = f": {', '.join(jobs)}" if jobs else ""
    print(f"{counted(steps, 'step')} ran in {counted(len(jobs), 'SLURM job')}{ids} ({seconds:.1f} s; {SLURM_LOG})")
    return 0


if __name__ == "__main__":
    run_main(main)
