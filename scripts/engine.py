"""Run Snakemake: `python -m scripts.engine ARGS` does what `python -m snakemake ARGS` does, minus two waits.

- Start-up: Snakemake checks whether a rule's params changed by serialising them, and when pandas is
  installed it imports pandas first (0.4-0.6 s here) in case a param is a DataFrame. This workflow's
  params are plain strings and numbers, which Snakemake's builtin serialiser encodes the same way, so
  the pandas path is skipped. The switch is guarded: if a Snakemake release renames these internals,
  Snakemake runs unchanged, only slower (see also snakemake/snakemake#4220 on start-up imports).
- Exit: see `exit_now`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn


def skip_pandas_param_serialiser() -> bool:
    """Make Snakemake serialise params without importing pandas; False if its internals differ."""
    try:
        from snakemake.persistence import PersistenceBase as Persistence
    except ImportError:
        return False
    if not isinstance(vars(Persistence).get("_serialize_param"), property):
        return False
    if not callable(getattr(Persistence, "_serialize_param_builtin", None)):
        return False
    Persistence._serialize_param = property(lambda self: self._serialize_param_builtin)
    return True


def exit_status(code: object) -> int:
    """The process status sys.exit(code) would give."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(status: int) -> NoReturn:
    """Flush and leave without Python's interpreter teardown.

    Once Snakemake has finished, two waits remain: the scheduler's rate-limit timers (threading.Timer,
    not daemon threads: Python joins the last one, up to 1 s) and the teardown of the 1,500 modules it
    loaded (0.4 s here). Snakemake registers no exit handlers and has written and closed its outputs
    and metadata by then; logging is shut down here, so its log files are complete."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main() -> None:
    skip_pandas_param_serialiser()
    from snakemake.cli import main as snakemake_main

    try:
        snakemake_main()
    except SystemExit as finished:
        exit_now(exit_status(finished.code))
    exit_now(0)


if __name__ == "__main__":
    main()
