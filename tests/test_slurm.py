"""The workflow on a real SLURM cluster: a throw-away single node (scripts/devtools/slurm_cluster.py), driven by
the launcher (`python -m scripts.commands.slurm`, what `make slurm` runs) with the project's profile.

Three runs start together, each in its own copy of the project, so the module costs about as long as
the longest of them: the PDF through SLURM, a run whose raw data are broken, and a run stopped by its
time-out. The reference for the PDF is the session's local build of the same sources (`built_project`),
made while the runs wait on the cluster.
"""

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from scripts.commands import slurm, slurm_engine
from scripts.common import ROOT, UserError, copy_project_files
from scripts.devtools import slurm_cluster

# Short waits for a cluster with nothing else to do; the profile's defaults suit a real one.
FAST_STATUS = ["--first-status-check", "1", "--seconds-between-status-checks", "2"]
RUN_TIMEOUT_SECONDS = 600  # a bound for this test's own waits, far above a normal run
TIME_OUT_MINUTES = 0.25
HELD = [*FAST_STATUS, "--timeout-minutes", str(TIME_OUT_MINUTES)]
HELD += ["--set-resources", "validate_data:slurm_extra='--begin=now+3600'"]  # last: it takes several values


def cluster_unavailable() -> str | None:
    """Why the cluster cannot start here (None if it can). In CI it must: .ci/run installs the packages."""
    missing = slurm_cluster.missing_programs()
    if missing:
        return f"Debian's SLURM packages are not installed (missing: {', '.join(missing)})"
    if os.geteuid() != 0:
        return "a SLURM node must run as root"
    if not (slurm.plugin_folder() / "snakemake_executor_plugin_slurm").is_dir():
        return "the SLURM plugin is not installed (`make cluster-setup`)"
    return None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A single-node SLURM for the session; its daemons are stopped by PID at the end."""
    reason = cluster_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the SLURM tests")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("slurm")
    started = time.perf_counter()
    # More CPUs than this machine has: the three runs' jobs are short and must not wait for each other.
    pids = slurm_cluster.start(folder, cpus=8)
    seconds = time.perf_counter() - started
    yield SimpleNamespace(folder=folder, env=slurm_cluster.cluster_environment(folder), start_seconds=seconds)
    slurm_cluster.stop_pids(pids)
    (folder / slurm_cluster.PIDS_FILE).unlink(missing_ok=True)
    assert not any(slurm_cluster.alive(pid) for pid in pids.values())


@dataclass
class Run:
    folder: Path
    process: subprocess.Popen
    started: float
    seconds: float = 0.0  # from start to exit
    waiter: threading.Thread | None = None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def stdout(self) -> str:
        return (self.folder / "stdout.txt").read_text()

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text()


def start_run(folder: Path, args: list[str], env: dict[str, str]) -> Run:
    with (folder / "stdout.txt").open("w") as out, (folder / "stderr.txt").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    run = Run(folder, process, time.perf_counter())
    # A thread notes when the run exits, whatever the test does meanwhile (it builds the local reference).
    run.waiter = threading.Thread(target=note_exit, args=(run,), daemon=True)
    run.waiter.start()
    return run


def note_exit(run: Run) -> None:
    run.process.wait()
    run.seconds = time.perf_counter() - run.started


def stop_all(runs: dict[str, Run]) -> None:
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def wait_for_all(runs: dict[str, Run], timeout: float) -> dict[str, Run]:
    """Wait until every run has exited; kill them all after `timeout`."""
    deadline = time.perf_counter() + timeout
    for run in runs.values():
        run.waiter.join(max(0.0, deadline - time.perf_counter()))
    waiting = sorted(name for name, run in runs.items() if run.waiter.is_alive())
    stop_all(runs)
    assert not waiting, f"still running after {timeout} s: {waiting}"
    return runs


def break_survey_value(folder: Path) -> None:
    """Replace the first value of the survey's raw CSV by text (the data check fails on it)."""
    raw = folder / "data/raw/threat_survey.csv"
    lines = raw.read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "about 18"
    lines[1] = ",".join(cells)
    raw.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory, request):
    copies = {}
    for name in ("slurm", "broken", "timeout"):
        copies[name] = tmp_path_factory.mktemp(name)
        copy_project_files(copies[name], ROOT)
    break_survey_value(copies["broken"])
    env = cluster.env
    started = {
        "slurm": start_run(copies["slurm"], ["scripts.commands.slurm", *FAST_STATUS, "build/paper.pdf"], env),
        # One figure's chain (one job, which would publish figures/threat-perception.pdf) on broken data.
        "broken": start_run(
            copies["broken"], ["scripts.commands.slurm", *FAST_STATUS, "figures/threat-perception.pdf"], env
        ),
        # A job held in the queue for an hour (as on a full cluster): the run's time-out stops it.
        "timeout": start_run(
            copies["timeout"], ["scripts.commands.slurm", "build/data/poll-responses.json", *HELD], env
        ),
    }
    try:
        request.getfixturevalue("built_project")  # the local reference: built now, while the runs wait on SLURM
    except BaseException:
        stop_all(started)
        raise
    return wait_for_all(started, RUN_TIMEOUT_SECONDS)


def job_states(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Job id -> (job name, state) of every job the controller remembers (MinJobAge = 300 s)."""
    listing = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%j|%T"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return {job: (name, state) for job, name, state in (line.split("|") for line in listing.split())}


def test_the_cluster_starts_and_its_controller_answers(cluster):
    # How long it took (cluster.start_seconds) is reported in README, not asserted: no timed tests.
    assert slurm_cluster.node_states(cluster.folder)  # the controller answers


def test_the_paper_is_built_by_slurm_jobs(runs, cluster):
    run = runs["slurm"]
    assert run.returncode == 0, run.stderr + run.stdout
    log = (run.folder / slurm.SLURM_LOG).read_text()
    jobs = slurm.submitted_jobs(log)
    assert len(jobs) == 3  # two figure chains, then the paper's own steps
    assert f"13 steps ran in 3 SLURM jobs: {', '.join(jobs)}" in run.stdout
    # The controller ran them: each is COMPLETED under the run's id, which is its SLURM job name.
    states = job_states(cluster.env)
    assert all(states[job] == (slurm.run_id(log), "COMPLETED") for job in jobs), states


def test_slurm_outputs_are_byte_identical_to_a_local_build(runs, built_project):
    slurm_run = runs["slurm"]
    assert (slurm_run.folder / "build/paper.pdf").read_bytes() == (built_project / "build/paper.pdf").read_bytes()
    figures = sorted(path.name for path in (ROOT / "figures").glob("*.pdf"))
    assert figures
    for name in figures:
        made = (slurm_run.folder / "build/figures" / name).read_bytes()
        assert made == (built_project / "build/figures" / name).read_bytes(), name
        assert (slurm_run.folder / "figures" / name).read_bytes() == (ROOT / "figures" / name).read_bytes(), name


def test_a_failed_job_fails_the_run_with_its_error_and_logs(runs):
    run = runs["broken"]
    assert run.returncode == 1
    assert run.seconds < RUN_TIMEOUT_SECONDS
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert any(line.startswith("error: data/raw/threat_survey.csv") for line in lines), run.stderr
    assert "  log: build/logs/validate_data/threat-survey.log" in lines
    failed = re.search(r"^  SLURM job (\d+) failed; its log: (\S+)$", run.stderr, re.M)
    assert failed, run.stderr
    assert "Error in rule validate_data" in (run.folder / failed[2]).read_text()
    # The failed job's group would publish this figure: it must stay as committed, not be deleted.
    kept = "figures/threat-perception.pdf"
    assert (run.folder / kept).read_bytes() == (ROOT / kept).read_bytes()


def test_a_run_past_its_time_out_is_stopped_and_its_job_cancelled(runs, cluster):
    run = runs["timeout"]
    assert run.returncode == 1
    assert f"error: the SLURM run did not finish within {TIME_OUT_MINUTES:g} min" in run.stderr
    # Bounded, not hung: the launcher kills what is left after its grace; the second grace is a loaded
    # machine's margin for starting Snakemake (this is a hang check, not a speed target).
    assert run.seconds < TIME_OUT_MINUTES * 60 + 2 * slurm.STOP_GRACE_SECONDS
    jobs = slurm.submitted_jobs((run.folder / slurm.SLURM_LOG).read_text())
    assert len(jobs) == 1
    assert job_states(cluster.env)[jobs[0]][1] == "CANCELLED"


def test_a_missing_slurm_conf_is_one_error_not_a_minute_of_retries(tmp_path):
    env = {**os.environ, "SLURM_CONF": str(tmp_path / "no-such-slurm.conf")}
    with pytest.raises(UserError, match="SLURM_CONF names no file"):
        slurm.cluster_config(env)


# The rules the launcher decides by (no cluster needed).


def test_without_accounting_status_comes_from_squeue():
    config = slurm.parse_config("AccountingStorageType = accounting_storage/none\nMinJobAge = 300 sec\n")
    assert config == slurm.ClusterConfig(accounting=False, min_job_age=300)
    options = slurm.status_options(config, first_check=10)
    assert options[options.index("--slurm-status-command") + 1] == "squeue"


def test_with_accounting_status_comes_from_sacct():
    config = slurm.parse_config("AccountingStorageType   = accounting_storage/slurmdbd\nMinJobAge = 2\n")
    options = slurm.status_options(config, first_check=40)
    assert options[options.index("--slurm-status-command") + 1] == "sacct"


def test_a_min_job_age_the_plugin_would_answer_with_sacct_is_refused():
    # The plugin switches from squeue to sacct when MinJobAge < 3 x the first wait: without accounting
    # sacct never answers and the run would wait forever.
    with pytest.raises(UserError, match=r"MinJobAge \(20 s\)") as refused:
        slurm.status_options(slurm.ClusterConfig(accounting=False, min_job_age=20), first_check=10)
    assert "--first-status-check 6" in refused.value.hint


def test_jobs_get_the_project_python_first_on_path(monkeypatch):
    monkeypatch.setenv("SLURM_CONF", "/somewhere/slurm.conf")
    env = slurm.job_environment()
    path = env["PATH"].split(os.pathsep)
    assert path[0] == str(ROOT / slurm.SRUN_SHIM)  # restores SLURM_CONF for the jobstep's srun
    assert path[1] == str(Path(sys.executable).parent)
    assert env["PAPER_SLURM_CONF"] == "/somewhere/slurm.conf"
    assert str(slurm.plugin_folder()) in env["PYTHONPATH"].split(os.pathsep)


def test_the_status_interval_is_capped():
    assert slurm_engine.cap_status_interval()
    from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor

    interval = RemoteExecutor.next_seconds_between_status_checks
    settings = SimpleNamespace(seconds_between_status_checks=2)
    executor = SimpleNamespace(workflow=SimpleNamespace(remote_execution_settings=settings))
    interval.fset(executor, 31)  # what the plugin sets after three queries that saw no job finish
    assert interval.fget(executor) == 2
    interval.fset(executor, 1)
    assert interval.fget(executor) == 1


def test_the_srun_shim_is_executable():
    assert os.access(ROOT / slurm.SRUN_SHIM / "srun", os.X_OK)
