"""Run rocrate-validator (PyPI roc-validator) offline: the JSON-LD contexts it fetches come from tests/vendor/.

As a module, for the tests: `validate(crate_folder, profile, severity)`.
As a command, for archivists (the validator's own CLI, offline):

    .venv/bin/python tests/rocrate_offline.py -y validate --no-cache --no-paging -p workflow-run-crate-0.5 \\
        -l recommended path/to/unpacked/archive

Any other request, through requests or a raw socket, is refused with NetworkEscape and recorded in
`ESCAPED`, so a caller can fail even when the validator swallows the error.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"
# URL -> vendored copy (source and licence: tests/vendor/README.md).
CONTEXTS = {"https://w3id.org/ro/crate/1.1/context": VENDOR / "ro-crate-1.1-context.jsonld"}
# The profiles this project's crate claims, besides RO-Crate 1.1 itself.
PROFILES = ("ro-crate-1.1", "workflow-ro-crate-1.0", "process-run-crate-0.5", "workflow-run-crate-0.5")
ESCAPED: list[str] = []


class NetworkEscape(RuntimeError):
    """A request that would have gone to the network."""


def _refuse(what: str) -> NetworkEscape:
    ESCAPED.append(what)
    return NetworkEscape(f"rocrate_offline: a request escaped to the network: {what}")


@contextmanager
def offline() -> Iterator[None]:
    """Serve the vendored contexts through requests; refuse every other request and every socket connection."""
    import requests
    from requests.adapters import HTTPAdapter

    def send(adapter: HTTPAdapter, request: Any, **kwargs: Any) -> requests.Response:
        path = CONTEXTS.get(request.url.rstrip("/"))
        if path is None:
            raise _refuse(request.url)
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response.headers["Content-Type"] = "application/ld+json"
        response._content = path.read_bytes()
        return response

    def connect(sock: socket.socket, address: Any) -> None:
        raise _refuse(f"socket connection to {address}")

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        raise _refuse(f"socket connection to {address}")

    saved = HTTPAdapter.send, socket.socket.connect, socket.create_connection
    HTTPAdapter.send, socket.socket.connect, socket.create_connection = send, connect, create_connection
    try:
        yield
    finally:
        HTTPAdapter.send, socket.socket.connect, socket.create_connection = saved


def validate(crate: Path, profile: str, severity: str) -> Any:
    """rocrate-validator's ValidationResult for one profile at one severity (REQUIRED, RECOMMENDED, OPTIONAL)."""
    from rocrate_validator import services

    settings = services.ValidationSettings(
        rocrate_uri=str(crate), profile_identifier=profile, requirement_severity=severity, no_cache=True
    )
    with offline():
        return services.validate(settings)


def findings(result: Any) -> set[tuple[str, str, str]]:
    """Each issue as (severity, check identifier, the entity it is about)."""
    return {(issue.severity.name, issue.check.identifier, issue.violatingEntity or "") for issue in result.get_issues()}


if __name__ == "__main__":
    from rocrate_validator.cli.main import cli

    with offline():
        try:
            cli(sys.argv[1:], standalone_mode=False)
            status = 0
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    if ESCAPED:
        print(f"rocrate_offline: requests escaped to the network: {ESCAPED}", file=sys.stderr)
        status = 2
    sys.exit(status)
