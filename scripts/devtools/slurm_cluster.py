"""A throw-away single-node SLURM cluster on this machine, for the tests and for trying the SLURM profile.

    python -m scripts.devtools.slurm_cluster start FOLDER     (prints `export SLURM_CONF=FOLDER/slurm.conf`)
    python -m scripts.devtools.slurm_cluster stop FOLDER

It needs Debian's `slurmctld slurmd slurm-client munge` and root (slurmd starts jobs as their user).
Everything lives in FOLDER: a fresh munge key and socket, a generated slurm.conf (loopback only, free
ports, no accounting, one partition `debug`), state, spool and logs. Nothing under /etc or /run is
used, so it runs beside a real SLURM installation. The daemons run in the foreground of their own
sessions; their PIDs are kept in FOLDER/pids.json, and `stop` stops exactly those PIDs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.common import UserError, run_main

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
PROGRAMS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scontrol")
PIDS_FILE = "pids.json"
# Finished jobs stay visible to `squeue --states=all` this long. The SLURM plugin's status interval grows
# to at most 180 s, so a job can never finish unseen; 300 s is also SLURM's own default.
MIN_JOB_AGE_SECONDS = 300


@dataclass(frozen=True)
class Ports:
    controller: int
    node: int


def missing_programs() -> list[str]:
    """The programs this cluster needs that are not installed."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in PROGRAMS if shutil.which(name, path=search) is None]


def program(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if found is None:
        raise UserError(name, "not installed", f"apt-get install -y --no-install-recommends {' '.join(PACKAGES)}")
    return found


def free_ports(count: int) -> list[int]:
    """Ports free on loopback now (held open together, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def memory_mb() -> int:
    """This machine's memory in MB (from /proc/meminfo), as the node's RealMemory."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 1024


def slurm_conf(folder: Path, host: str, ports: Ports, cpus: int, memory: int) -> str:
    """A minimal slurm.conf for one node on loopback, everything under `folder`, no accounting."""
    return f"""\
# A throw-away single-node cluster (scripts/devtools/slurm_cluster.py); every path is under this folder.
ClusterName=throwaway
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ports.controller}
SlurmdPort={ports.node}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge/munge.socket
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
# No cgroups: this also runs inside a container.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
MinJobAge={MIN_JOB_AGE_SECONDS}
SlurmdParameters=config_overrides
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def cluster_environment(folder: Path) -> dict[str, str]:
    """This process's environment pointed at the cluster in `folder` (SLURM_* of an outer job removed)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLURM_")}
    return {**env, "SLURM_CONF": str(folder / "slurm.conf")}


def spawn(command: list[str], folder: Path, log_name: str) -> int:
    """Start a daemon in the foreground of its own session (it outlives this process); its PID."""
    with (folder / log_name).open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=cluster_environment(folder),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def wait_until(condition, seconds: float, what: str, log: Path) -> None:
    """Poll `condition` until it holds; a UserError naming `log` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise UserError(str(log), f"{what} did not happen within {seconds:.0f} s", "read this log")
        time.sleep(0.1)


def node_states(folder: Path) -> list[str]:
    """The node states `sinfo` reports (empty while the controller does not answer)."""
    try:
        result = subprocess.run(
            [program("sinfo"), "--noheader", "--format=%T"],
            env=cluster_environment(folder),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except subprocess.TimeoutExpired:
        return []
    return result.stdout.split() if result.returncode == 0 else []


def alive(pid: int) -> bool:
    """Whether the process runs (a child of this process that ended is reaped here)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child: started by an earlier `start`
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")  # a zombie is gone


def start(folder: Path, cpus: int | None = None, wait_seconds: float = 30) -> dict[str, int]:
    """Start munged, slurmctld and slurmd with their files in `folder`; wait until the node is idle."""
    if os.geteuid() != 0:
        raise UserError("scripts/devtools/slurm_cluster.py", "a SLURM node must run as root", "run it as root")
    folder = folder.resolve()
    if (folder / PIDS_FILE).exists():
        raise UserError(str(folder / PIDS_FILE), "a cluster was already started in this folder", "stop it first")
    for name in ("munge", "state", "spool"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    os.chmod(folder / "munge", 0o700)  # munged refuses a socket or key in a folder others can write to
    key = folder / "munge/munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    os.chmod(key, 0o400)
    host = socket.gethostname().split(".")[0]
    ports = Ports(*free_ports(2))
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder, host, ports, cpus or max(2, os.cpu_count() or 1), memory_mb()))
    pids: dict[str, int] = {}
    try:
        pids["munged"] = spawn(
            [
                program("munged"),
                "--foreground",
                "--force",
                f"--socket={folder}/munge/munge.socket",
                f"--key-file={key}",
                f"--pid-file={folder}/munge/munged.pid",
                f"--log-file={folder}/munge/munged.log",
                f"--seed-file={folder}/munge/munged.seed",
            ],
            folder,
            "munged.out",
        )
        wait_until(lambda: (folder / "munge/munge.socket").exists(), 10, "munged's socket", folder / "munged.out")
        pids["slurmctld"] = spawn([program("slurmctld"), "-D", "-f", str(conf)], folder, "slurmctld.out")
        pids["slurmd"] = spawn([program("slurmd"), "-D", "-f", str(conf), "-N", host], folder, "slurmd.out")
        (folder / PIDS_FILE).write_text(json.dumps(pids, indent=2) + "\n")
        wait_until(lambda: "idle" in node_states(folder), wait_seconds, "the node becoming idle", folder / "slurmd.log")
    except BaseException:
        stop_pids(pids)
        (folder / PIDS_FILE).unlink(missing_ok=True)
        raise
    return pids


def stop_pids(pids: dict[str, int], seconds: float = 10) -> None:
    """SIGTERM each daemon (the node first), then SIGKILL whatever is left after `seconds`."""
    order = ["slurmd", "slurmctld", "munged"]
    for name in sorted(pids, key=lambda name: order.index(name) if name in order else -1):
        if alive(pids[name]):
            os.kill(pids[name], signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids.values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def stop(folder: Path) -> dict[str, int]:
    """Stop the daemons that `start` recorded in `folder`; the PIDs stopped."""
    record = folder / PIDS_FILE
    if not record.exists():
        raise UserError(str(record), "no cluster was started in this folder", "give the folder passed to `start`")
    pids = json.loads(record.read_text())
    stop_pids(pids)
    record.unlink()
    return pids


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.slurm_cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path, help="where the cluster's configuration, state and logs live")
    parser.add_argument("--cpus", type=int, help="the node's CPUs (default: this machine's, at least 2)")
    args = parser.parse_args(argv)
    if args.action == "start":
        missing = missing_programs()
        if missing:
            raise UserError(", ".join(missing), "not installed", f"apt-get install -y {' '.join(PACKAGES)}")
        started = time.perf_counter()
        pids = start(args.folder, args.cpus)
        print(f"# single-node SLURM up in {time.perf_counter() - started:.1f} s; daemons {pids}", file=sys.stderr)
        print(f"export SLURM_CONF={args.folder.resolve() / 'slurm.conf'}")
    else:
        print(f"stopped {stop(args.folder)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
