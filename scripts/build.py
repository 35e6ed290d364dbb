"""Build the paper with one command and report a failure as one readable line.

    python -m scripts.build [TARGET ...] [--cores N]      (what `make` runs)

Snakemake's own output goes to build/logs/snakemake.log. When a step fails, this prints that step's
`error: file:line: message` and `hint:` lines (every stage writes them to its log) and the log's path.
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

from scripts.common import ROOT, venv_environment

SNAKEMAKE_LOG = Path("build/logs/snakemake.log")
LINT_REPORT = Path("build/lint/report.json")
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


def lint_summary(report: Path) -> str:
    counts = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return (
        f"lint: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes "
        f"(`make lint` lists them; {report.with_suffix('.md').relative_to(ROOT)})"
    )


def snakemake_command(targets: Sequence[str], cores: int, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "scripts.engine", "--cores", str(cores), "--rerun-incomplete", *extra, *targets]


def check_inputs() -> str | None:
    """After a failed run: validate the metadata and the files it names (Snakemake's own error for a
    broken YAML file would be a traceback); the message of the first problem, or None."""
    from scripts.common import UserError
    from scripts.data import DESCRIPTOR, load_descriptor
    from scripts.metadata import load_metadata
    from scripts.preflight import preflight

    try:
        preflight(load_metadata(), load_descriptor(DESCRIPTOR), ROOT)
    except UserError as err:
        (ROOT / PREFLIGHT_LOG).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / PREFLIGHT_LOG).write_text(f"{err}\n", encoding="utf-8")
        return str(err)
    return None


def exclusive_lock(path: Path) -> IO[str] | None:
    """An open file holding an exclusive lock on `path`, or None when another process holds it.

    The kernel releases the lock when the process ends, however it ends (Ctrl-C, kill -9)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


# A process with one of these in its command line, working in the project folder, belongs to a build.
BUILD_PROCESS_WORDS = ("snakemake", "latexmk", "pdflatex", "biber", "-m scripts.")


def leftover_processes(root: Path) -> list[int]:
    """Processes of an earlier build still working in `root` (read from Linux's /proc)."""
    ours = {os.getpid(), os.getppid()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != root:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(word in command for word in BUILD_PROCESS_WORDS) and "scripts.build" not in command:
            found.append(int(entry.name))
    return found


def wait_for_leftovers(root: Path, seconds: float = 60) -> bool:
    """Wait until a killed build's processes (shutting down after SIGTERM) are gone; False on time-out."""
    deadline = time.monotonic() + seconds
    while leftover_processes(root):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def stop_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when this build dies, so that a killed build never
    leaves Snakemake running behind the build lock."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C still reaches the whole process group
        pass


def run_snakemake(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=stop_with_parent,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="Snakemake targets (default: the PDF)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args, extra = parser.parse_known_args(argv)
    env = venv_environment()
    started = time.perf_counter()
    lock = exclusive_lock(ROOT / BUILD_LOCK)
    if lock is None:
        print("error: another build is running in this folder", file=sys.stderr)
        print("  hint: wait for it to finish, then build again", file=sys.stderr)
        return 1
    with lock:
        if not wait_for_leftovers(ROOT):
            print("error: an earlier build in this folder is still shutting down", file=sys.stderr)
            print("  hint: wait a minute, then build again", file=sys.stderr)
            return 1
        command = snakemake_command(args.targets, args.cores, extra)
        result = run_snakemake(command, env)
        if "LockException" in result.stdout:
            # This process holds the build lock, so no other build runs: a killed build left Snakemake's lock.
            run_snakemake([sys.executable, "-m", "snakemake", "--unlock", "--cores", "1"], env)
            result = run_snakemake(command, env)
    (ROOT / SNAKEMAKE_LOG).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / SNAKEMAKE_LOG).write_text(result.stdout, encoding="utf-8")
    seconds = time.perf_counter() - started
    if "lint" in args.targets:
        print(lint_lines(), end="")
    if result.returncode != 0:
        # The Snakefile runs the same checks, but a broken metadata file fails before it can say why.
        problem = check_inputs()
        explained = [problem, f"  log: {PREFLIGHT_LOG}"] if problem else explain_failure(result.stdout)
        print("\n".join(explained), file=sys.stderr)
        print(f"build failed after {seconds:.1f} s; the last good PDF and figures are unchanged", file=sys.stderr)
        return 1
    jobs = len(re.findall(r"^Finished jobid: \d+ \(Rule: (?!all\))", result.stdout, re.M))
    made = sorted((ROOT / "build/archive").glob("*.tar.gz")) if "archive" in args.targets else []
    made = made or [ROOT / "build" / "paper.pdf"]
    summary = f"{made[0].relative_to(ROOT)}: {made[0].stat().st_size:,} bytes" if made[0].exists() else "done"
    print(f"{summary} ({jobs} step{'s' if jobs != 1 else ''} ran, {seconds:.1f} s)")
    if "lint" not in args.targets and (ROOT / LINT_REPORT).exists():
        print(lint_summary(ROOT / LINT_REPORT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
