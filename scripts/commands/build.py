"""Build the paper with one command and report a failure as one readable line.

    python -m scripts.commands.build [TARGET ...] [--cores N]      (what `make` runs)

Snakemake's own output goes to build/logs/snakemake.log; it is read as it comes, to show each step as
it starts and ends (`Progress`). When a step fails, this prints that step's `error: file:line: message`
and `hint:` lines (every stage writes them to its log) and the log's path.

One build per folder, and nothing left running: a flock on build/.build.lock, which Snakemake inherits;
Snakemake runs in its own process group, which a signal to this process stops as a whole, and Linux
stops it when this process is killed outright (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from scripts import paths
from scripts.common import ROOT, venv_environment

SNAKEMAKE_LOG = paths.SNAKEMAKE_LOG
LINT_REPORT = paths.LINT_REPORT_JSON
BUILD_LOCK = Path("build/.build.lock")
PREFLIGHT_LOG = Path("build/logs/preflight.log")


def failed_logs(snakemake_output: str) -> list[tuple[str, str]]:
    """(rule, log path) for every `Error in rule` block of Snakemake's output."""
    found = []
    for block in re.split(r"(?=^Error in rule )", snakemake_output, flags=re.M)[1:]:
        rule = re.match(r"Error in rule (\S+?):", block)
        log = re.search(r"^\s+log: ([^,\s]+)", block, re.M)  # the first of a rule's logs
        if rule:
            found.append((rule[1], log[1] if log else ""))
    return found


def user_error_lines(log_text: str) -> list[str]:
    """The `error:` line(s) a stage wrote, each with the hint that follows it."""
    lines = log_text.splitlines()
    picked = []
    for index, line in enumerate(lines):
        if line.startswith("error: "):
            picked.append(line)
            if index + 1 < len(lines) and lines[index + 1].startswith("  hint: "):
                picked.append(lines[index + 1])
    return picked


def explain_failure(snakemake_output: str, root: Path = ROOT) -> list[str]:
    """What to tell the user after Snakemake failed."""
    messages: list[str] = []
    for rule, log in failed_logs(snakemake_output):
        log_path = root / log if log else None
        text = log_path.read_text(encoding="utf-8", errors="replace") if log_path and log_path.exists() else ""
        lines = user_error_lines(text)
        if lines:
            messages += [*lines, f"  log: {log}"]
        else:  # not a user error: a bug or a crash; show where to look
            messages += [f"error: step '{rule}' failed unexpectedly", f"  log: {log or SNAKEMAKE_LOG}"]
    if messages:
        return messages
    if "LockException" in snakemake_output or "cannot be locked" in snakemake_output:
        return [
            "error: another Snakemake run holds this folder",
            "  hint: wait for it to finish; if none is running (it was killed), run `make unlock`",
        ]
    missing = re.search(r"MissingInputException.*?affected files:\s*\n\s*(\S+)", snakemake_output, re.S)
    if missing:
        return [
            f"error: {missing[1]}: missing input file",
            f"  hint: restore it (`git checkout -- {missing[1]}`) or create it",
            f"  log: {SNAKEMAKE_LOG}",
        ]
    workflow_error = re.search(r"^(error: .*)(?:\n(  hint: .*))?", snakemake_output, re.M)
    if workflow_error:
        return [line for line in workflow_error.groups() if line] + [f"  log: {SNAKEMAKE_LOG}"]
    return ["error: the workflow failed before running any step", f"  log: {SNAKEMAKE_LOG}"]


def lint_lines(log: Path = ROOT / "build/logs/lint.log") -> str:
    """The findings `make lint` shows: the lint step's compiler-style lines, without its error summary."""
    if not log.exists():
        return ""
    lines = [
        line
        for line in log.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith(("error: ", "  hint: "))
    ]
    return "".join(lines)


def lint_summary(report: Path, short: bool = False) -> str:
    counts = json.loads(report.read_text(encoding="utf-8"))["summary"]
    summary = f"lint: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes"
    return summary if short else f"{summary} (`make lint` lists them; {report.with_suffix('.md').relative_to(ROOT)})"


def snakemake_command(targets: Sequence[str], cores: int, extra: Sequence[str] = ()) -> list[str]:
    # --nolock: the build lock (see `exclusive_lock`) already keeps a second run out of this folder, so
    # Snakemake's own lock, which a killed run leaves behind, is not needed. --scheduler greedy: the default
    # ILP scheduler solves a linear program to pick among ready jobs, which a 15-step DAG does not need; it
    # cost 1.2 s of CPU (1 s of wall time) per cold build, measured on 2 cores (README, "Measured").
    return [
        sys.executable,
        "-m",
        "scripts.commands.engine",
        "--cores",
        str(cores),
        "--rerun-incomplete",
        "--nolock",
        "--scheduler",
        "greedy",
        *extra,
        *targets,
    ]


def check_inputs() -> str | None:
    """After a failed run: validate the metadata and the files it names (Snakemake's own error for a
    broken YAML file would be a traceback); the message of the first problem, or None."""
    from scripts.common import UserError
    from scripts.stages.data import DESCRIPTOR, load_descriptor
    from scripts.stages.metadata import load_metadata
    from scripts.stages.preflight import preflight

    try:
        preflight(load_metadata(), load_descriptor(DESCRIPTOR), ROOT)
    except UserError as err:
        (ROOT / PREFLIGHT_LOG).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / PREFLIGHT_LOG).write_text(f"{err}\n", encoding="utf-8")
        return str(err)
    return None


def exclusive_lock(path: Path, wait_for_orphan: float = 60) -> IO[str] | None:
    """An open file holding an exclusive lock on `path`, or None when another build holds it.

    The kernel releases the lock when every process holding the file has ended, however it ended.
    Snakemake inherits the file, so the lock lasts until the whole run has stopped. The holder writes
    its pid: a lock held after that build died (kill -9) belongs to its Snakemake, which Linux is
    stopping (`stop_with_parent`); then this waits for it instead of turning the new build away."""
    import psutil

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        if holder.isdigit() and psutil.pid_exists(int(holder)):
            handle.close()
            return None
        if not wait_for_lock(handle, wait_for_orphan):
            handle.close()
            return None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def wait_for_lock(handle: IO[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.1)
    return False


def stop_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when this build dies, even by kill -9, so that a killed
    build never leaves Snakemake running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C still reaches the whole process group
        pass


class Progress:
    """Each step as it starts and ends, read from Snakemake's output as it runs.

    On a terminal, finished steps print with their time under one line that names the running steps;
    in a CI log (CI set, or output not a terminal) every start and end is a plain line."""

    def __init__(self, stream: IO[str], live: bool) -> None:
        self.stream, self.live = stream, live
        self.total = 0
        self.finished = 0
        self.started: dict[str, tuple[str, float]] = {}  # jobid -> (step name, start time)
        self.pending_rule = ""
        self.announce = ""  # the jobid whose start is shown once its block is read

    def feed(self, line: str) -> None:
        if self.announce and not line.startswith(" "):  # the end of a job's block: its name is complete
            self.show(f"start {self.started[self.announce][0]}", transient=True)
            self.announce = ""
        total = re.match(r"^total\s+(\d+)$", line)
        rule = re.match(r"^(?:local)?rule (\w+):$", line)
        jobid = re.match(r"^\s+jobid: (\d+)$", line)
        wildcards = re.match(r"^\s+wildcards: \w+=(\S+)", line)
        finished = re.match(r"^Finished jobid: (\d+) \(Rule: (\w+)\)", line)
        if total:
            self.total = int(total[1]) - 1  # without the target rule `all`
        elif rule:
            self.pending_rule = rule[1] if rule[1] != "all" else ""
        elif jobid and self.pending_rule:
            self.started[jobid[1]] = (self.pending_rule, time.perf_counter())
            self.announce, self.pending_rule = jobid[1], ""
        elif wildcards and self.announce:
            name, began = self.started[self.announce]
            self.started[self.announce] = (f"{name} ({wildcards[1].rstrip(',')})", began)
        elif finished and finished[1] in self.started:
            name, began = self.started.pop(finished[1])
            self.finished += 1
            self.show(f"{name} {time.perf_counter() - began:.1f} s", transient=False)

    def counter(self) -> str:
        width = len(str(self.total or ""))
        return f"[{self.finished:>{width}}/{self.total}]" if self.total else f"[{self.finished}]"

    def show(self, event: str, transient: bool) -> None:
        if not self.live:
            self.stream.write(f"  {self.counter()} {event}\n")
        else:
            running = ", ".join(name for name, _ in self.started.values())
            if not transient:
                self.stream.write(f"\r\x1b[K  {self.counter()} {event}\n")
            if running:
                self.stream.write(f"\r\x1b[K  running: {running}")
        self.stream.flush()

    def close(self) -> None:
        if self.live and self.finished:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def live_terminal(stream: IO[str]) -> bool:
    return stream.isatty() and not os.environ.get("CI")


def stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM Snakemake's process group (its jobs stop their own children), then SIGKILL what is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_snakemake(command: list[str], env: dict[str, str], lock: IO[str], progress: Progress | None) -> tuple[int, str]:
    """Run Snakemake in its own process group, holding the build lock; (exit status, its output)."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        pass_fds=(lock.fileno(),),
        start_new_session=True,  # Ctrl-C reaches this process only; it stops the whole run below
        preexec_fn=stop_with_parent,
    )
    output: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        stop_group(process)
        if progress:
            progress.close()
        print(
            f"\nbuild stopped ({signal.Signals(signum).name}); the last good PDF and figures are unchanged",
            file=sys.stderr,
        )
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if progress:
                progress.feed(line.rstrip("\n"))
        process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if progress:
            progress.close()
    return process.returncode, "".join(output)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.commands.build", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="Snakemake targets (default: the PDF)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the result")
    args, extra = parser.parse_known_args(argv)
    env = venv_environment()
    started = time.perf_counter()
    lock = exclusive_lock(ROOT / BUILD_LOCK)
    if lock is None:
        print("error: another build is running in this folder", file=sys.stderr)
        print("  hint: wait for it to finish, then build again", file=sys.stderr)
        return 1
    with lock:
        command = snakemake_command(args.targets, args.cores, extra)
        progress = None if args.quiet else Progress(sys.stdout, live_terminal(sys.stdout))
        returncode, output = run_snakemake(command, env, lock, progress)
    (ROOT / SNAKEMAKE_LOG).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / SNAKEMAKE_LOG).write_text(output, encoding="utf-8")
    seconds = time.perf_counter() - started
    if "lint" in args.targets:
        print(lint_lines(), end="")
    if returncode != 0:
        # The Snakefile runs the same checks, but a broken metadata file fails before it can say why.
        problem = check_inputs()
        explained = [problem, f"  log: {PREFLIGHT_LOG}"] if problem else explain_failure(output)
        print("\n".join(explained), file=sys.stderr)
        print(f"build failed after {seconds:.1f} s; the last good PDF and figures are unchanged", file=sys.stderr)
        return 1
    jobs = len(re.findall(r"^Finished jobid: \d+ \(Rule: (?!all\))", output, re.M))
    if "--unlock" in extra:
        print("unlocked")
        return 0
    made = sorted((ROOT / "build/archive").glob("*.tar.gz")) if "archive" in args.targets else []
    reports = [ROOT / option.removeprefix("--report=") for option in extra if option.startswith("--report=")]
    made = reports or made
    made = made or [ROOT / "build" / "paper.pdf"]
    summary = f"{made[0].relative_to(ROOT)}: {made[0].stat().st_size:,} bytes" if made[0].exists() else "done"
    result = f"{summary} ({jobs} step{'s' if jobs != 1 else ''} ran, {seconds:.1f} s)"
    if "lint" in args.targets or not (ROOT / LINT_REPORT).exists():
        print(result)
    elif jobs:
        print(f"{result}\n{lint_summary(ROOT / LINT_REPORT)}")
    else:  # a no-op: one line
        print(f"{result}; {lint_summary(ROOT / LINT_REPORT, short=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
