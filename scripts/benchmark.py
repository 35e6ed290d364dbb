"""Benchmark the build against the bare TeX floor (not part of the tests; issue 6, first part).

    python -m scripts.benchmark [--repeat 3] [--json tests/benchmarks/results.json]

Each case runs in a fresh copy of the project, `--repeat` times; the median wall time is reported:
- floor: the figure scripts run directly, then latexmk from clean on the same generated .tex;
- cold: the workflow from an empty build folder;
- no-op: the workflow with nothing to do;
- sentence: after editing one sentence of one section;
- raw value: after changing one value of one raw CSV (and rehashing it);
- citation: after adding a citation to a section.
It prints each as a ratio to the floor (cold) or to one pdflatex pass (the incremental cases).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.common import ROOT, copy_project_files
from scripts.compile import latexmk_command, tex_environment
from scripts.figures import plot_command
from scripts.metadata import load_metadata, source_date_epoch


def run(command: list[str], folder: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def build(folder: Path) -> float:
    return run([sys.executable, "-m", "scripts.build", "--cores", str(os.cpu_count() or 1)], folder)


def floor(folder: Path) -> float:
    """The work itself without the workflow: figure scripts, then latexmk from clean."""
    build(folder)  # makes build/tex/paper.tex and the tables once, untimed
    metadata = load_metadata(folder / "paper/metadata.yaml")
    started = time.perf_counter()
    for figure in metadata["figures"]:
        table = folder / f"build/processed/{figure['id']}.csv"
        out = Path(f"/tmp/bench-{figure['id']}.pdf")
        run(plot_command(figure["kind"], table, "illustrative", Path("paper/figure-style.mplstyle"), out), folder)
    for suffix in (".aux", ".bbl", ".bcf", ".blg", ".fdb_latexmk", ".fls", ".log", ".out", ".run.xml", ".pdf"):
        (folder / "build/tex/paper").with_suffix(suffix).unlink(missing_ok=True)
    env = tex_environment(source_date_epoch(metadata))
    subprocess.run(latexmk_command(Path("build/tex/paper.tex")), cwd=folder, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def pdflatex_pass(folder: Path) -> float:
    """One pdflatex run on the compiled paper (aux files present): the unit of the incremental cases."""
    metadata = load_metadata(folder / "paper/metadata.yaml")
    env = tex_environment(source_date_epoch(metadata))
    command = ["pdflatex", "-interaction=nonstopmode", "-output-directory=build/tex", "build/tex/paper.tex"]
    return run(command, folder, env)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def sentence(folder: Path) -> None:
    edit(folder / "paper/sections/02-problem-statement.tex", "will be a challenge.", "will be a real challenge.")


def raw_value(folder: Path) -> None:
    edit(
        folder / "data/raw/threat_survey.csv", "2008-02-15,threat_perceived,40.2,", "2008-02-15,threat_perceived,40.3,"
    )
    subprocess.run([sys.executable, "-m", "scripts.data", "rehash"], cwd=folder, check=True, capture_output=True)


def citation(folder: Path) -> None:
    edit(
        folder / "paper/sections/02-problem-statement.tex",
        "will be a challenge.",
        "will be a challenge \\parencite{karsh1988}.",
    )


def measure(repeat: int, case: Callable[[Path], float]) -> list[float]:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-") as name:
            folder = Path(name)
            copy_project_files(folder, ROOT)
            times.append(case(folder))
    return times


def after(change: Callable[[Path], None]) -> Callable[[Path], float]:
    def case(folder: Path) -> float:
        build(folder)
        change(folder)
        return build(folder)

    return case


def cold(folder: Path) -> float:
    return build(folder)


def noop(folder: Path) -> float:
    build(folder)
    return build(folder)


def one_pass(folder: Path) -> float:
    build(folder)
    return pdflatex_pass(folder)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "tests/benchmarks/results.json")
    args = parser.parse_args(argv)
    cases = {
        "floor": floor,
        "pdflatex pass": one_pass,
        "cold": cold,
        "no-op": noop,
        "sentence edit": after(sentence),
        "raw value": after(raw_value),
        "citation added": after(citation),
    }
    results = {}
    for name, case in cases.items():
        times = measure(args.repeat, case)
        results[name] = {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}
        print(f"{name:15s} median {results[name]['median_s']:6.2f} s  runs {results[name]['runs_s']}", flush=True)
    unit = {
        "cold": "floor",
        "no-op": "pdflatex pass",
        "sentence edit": "pdflatex pass",
        "raw value": "pdflatex pass",
        "citation added": "pdflatex pass",
    }
    for name, base in unit.items():
        results[name]["ratio"] = round(results[name]["median_s"] / results[base]["median_s"], 2)
        results[name]["ratio_to"] = base
    print("\n| case | median (s) | ratio |\n|---|---|---|")
    for name, value in results.items():
        ratio = f"{value['ratio']}x {value['ratio_to']}" if "ratio" in value else ""
        print(f"| {name} | {value['median_s']} | {ratio} |")
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine, "repeat": args.repeat, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
