"""What every stage shares: the project's paths, reading the metadata, and the user-error type.

A `UserError` is a mistake in the paper's sources or data that its author can fix. It prints as
one line `path:line: what is wrong`, a hint line, and no traceback (see `run_main`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN = "unknown"


@dataclass
class UserError(Exception):
    """A fixable problem in the user's inputs, reported as `where: message` plus a hint."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"error: {self.where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


def sha256_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_yaml(path: Path) -> Any:
    """Read a YAML file, turning a syntax error into a UserError with its line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser, where PyYAML has it
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise UserError(str(path), "file not found") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise UserError(where, f"invalid YAML: {problem}", "check the indentation and quotes on that line") from None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def project_files(root: Path = ROOT) -> list[str]:
    """The project's source files, as git would check them out (tracked and not ignored).

    Outside a git checkout (an unpacked archive, a copied folder) every file that .gitignore does not
    exclude."""
    import subprocess

    if not (root / ".git").exists():
        return ignored_filtered_files(root)
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listing.split("\0") if name and (root / name).is_file())


def ignored_filtered_files(root: Path) -> list[str]:
    """Files under `root` that the project's .gitignore (simple name and glob lines) does not exclude."""
    from fnmatch import fnmatch

    ignore = root / ".gitignore"
    patterns = [".git/"]
    if ignore.exists():
        patterns += [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]

    def ignored(name: str, is_folder: bool) -> bool:
        return any(fnmatch(name, pattern.rstrip("/")) for pattern in patterns if is_folder or not pattern.endswith("/"))

    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not ignored(name, True)]  # prune: never walk .venv
        relative = Path(folder).relative_to(root)
        found += [(relative / name).as_posix() for name in files if not ignored(name, False)]
    return sorted(found)


def copy_project_files(destination: Path, root: Path = ROOT) -> None:
    """Copy the project's sources to `destination` (mtimes kept), for a build elsewhere."""
    import shutil

    for name in project_files(root):
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination / name)


def venv_environment() -> dict[str, str]:
    """This process's environment with its Python's bin folder first on PATH, so that the workflow's
    steps (`python -m scripts.stages.<stage>`) run with the same Python and packages."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> None:
    """Run a stage's `main`: a UserError becomes its readable message and exit status 1."""
    try:
        status = main(argv)
    except UserError as err:
        print(err, file=sys.stderr)
        status = 1
    sys.exit(status)
