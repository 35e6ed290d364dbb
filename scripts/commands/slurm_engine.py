"""Snakemake for SLURM runs (started by `python -m scripts.commands.slurm`): scripts.commands.engine, plus a cap on the
SLURM plugin's status interval.

snakemake-executor-plugin-slurm 2.8 waits `--slurm-init-seconds-before-status-checks` before its first
status query, then 10 s longer after each query that sees no job finish, up to 180 s. For jobs of a
few seconds to a few minutes that back-off dominates: with a first wait of 1 s, a 40 s job is seen
after 64 s, and a failed run waits one more interval before it exits. Here Snakemake's own
`--seconds-between-status-checks` (which the plugin otherwise ignores after the first query) caps the
interval. The switch is guarded: if the interface renames these internals, the plugin's back-off
applies unchanged.
"""

from __future__ import annotations

from scripts.commands.engine import main as engine_main


def cap_status_interval() -> bool:
    """Cap every remote executor's next status interval at --seconds-between-status-checks."""
    try:
        from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor
    except ImportError:
        return False
    interval = vars(RemoteExecutor).get("next_seconds_between_status_checks")
    if not isinstance(interval, property) or interval.fset is None or interval.fget is None:
        return False
    set_interval = interval.fset

    def set_capped(self, seconds):
        cap = self.workflow.remote_execution_settings.seconds_between_status_checks
        set_interval(self, seconds if seconds is None or cap is None else min(seconds, cap))

    RemoteExecutor.next_seconds_between_status_checks = property(interval.fget, set_capped)
    return True


def main() -> None:
    cap_status_interval()
    engine_main()


if __name__ == "__main__":
    main()
