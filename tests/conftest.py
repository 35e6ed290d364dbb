import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpers import copy_project  # noqa: E402 (needs the project root on sys.path)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's sources, built once from scratch, for one test module."""
    return copy_project(tmp_path_factory.mktemp("project"))
