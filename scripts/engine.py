"""Run Snakemake: `python -m scripts.engine ARGS` is `python -m snakemake ARGS`, starting 0.4 s sooner.

Snakemake checks whether a rule's params changed by serialising them; when pandas is installed it
imports pandas first (0.4-0.6 s here), in case a param is a DataFrame. This workflow's params are
plain strings and numbers, which Snakemake's builtin serialiser encodes identically, so the pandas
path is skipped. The switch is guarded: if a Snakemake release renames these internals, Snakemake runs
unchanged (only slower). See also snakemake/snakemake#4220 on start-up imports.
"""

from __future__ import annotations


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


def main() -> None:
    skip_pandas_param_serialiser()
    from snakemake.cli import main as snakemake_main

    snakemake_main()


if __name__ == "__main__":
    main()
