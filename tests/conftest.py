import fcntl
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpers import copy_project  # noqa: E402 (needs the project root on sys.path)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory, worker_id: str) -> Path:
    """The project's sources, built once from scratch per test session. Read only: a test that changes
    anything works on a copy (`project`, `copy_built`).

    With xdist the workers share it: the first to ask builds it under a lock, the others wait for it
    (pytest-xdist's recipe for a session fixture that runs once). One cold build less per run."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the folder all workers' temp folders are in
    root, done = shared / "built", shared / "built.done"
    with (shared / "built.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if the build fails
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # what a failed attempt left
            copy_project(root)
            done.touch()
    return root


@pytest.fixture(scope="session")
def copy_built(built_project, tmp_path_factory):
    """Make a private copy of the built project: sources, build/ and Snakemake's state, mtimes kept."""

    def copy(name: str = "project") -> Path:
        destination = tmp_path_factory.mktemp(name)
        shutil.copytree(built_project, destination, symlinks=True, dirs_exist_ok=True)
        return destination

    return copy


@pytest.fixture(scope="module")
def project(copy_built) -> Path:
    """A copy of the built project for one test module."""
    return copy_built()


# The modules that take longest start first, so that the short ones fill in at the end: longest first packs
# two workers best (measured on 2 cores: incremental 150 s, corpus 50, SLURM 47, verify and archive 40,
# research questions 17 (48 real papers), validators 19, end to end 16, diff 10, watch 11, submission 7,
# engine 7, figures 5, bibliography style 4). The SLURM module goes first of all: it mostly waits on the
# cluster and leaves CPU to the other worker. xdist hands out work in this collection order (pyproject.toml:
# --no-loadscope-reorder); the modules not named here take a few seconds or less.
LONG_MODULES = (
    "test_slurm",
    "test_incremental",
    "test_corpus",
    "test_verify_and_archive",
    "test_research_questions",
    "test_archive_validators",
    "test_end_to_end",
    "test_diff",
    "test_watch",
    "test_submission",
    "test_engine",
    "test_figures",
    "test_bibliography_style",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.module.__name__ if item.module else ""
        return LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES)

    items.sort(key=rank)  # stable: each module keeps its own order
