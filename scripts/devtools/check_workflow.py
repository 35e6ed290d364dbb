"""Run `snakemake --lint` and fail on every lint except the conda/container one.

That lint does not apply here: tools come from pip (requirements.txt) and apt (scripts/setup/install-tex.sh).
Snakemake 9.27 prints lints as text on stderr even with `--lint json`, so the titles are read from it.
"""

from __future__ import annotations

import re
import subprocess
import sys

IGNORED = {"Specify a conda environment or container for each rule."}


def lint_titles(lint_output: str) -> list[str]:
    return re.findall(r"^\s+\* (.+?):?$", lint_output, re.M)


def main() -> int:
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], capture_output=True, text=True)
    titles = [t for t in lint_titles(result.stdout + result.stderr) if t not in IGNORED]
    for title in sorted(set(titles)):
        print(f"snakemake --lint: {title} ({titles.count(title)}x)")
    if titles or (result.returncode != 0 and not lint_titles(result.stderr)):
        print(result.stderr[-2000:] if not titles else "", file=sys.stderr)
        return 1
    print("snakemake --lint: only the conda/container lint, which does not apply (pip + apt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
