"""Benchmark the build against the bare TeX floor (not part of the tests; issue 6, first part).

    python -m scripts.devtools.benchmark [--repeat 3] [--json tests/benchmarks/results.json]

Each case runs in a fresh copy of the project, `--repeat` times; the median wall time is reported:
- floor: the figure scripts run directly, then latexmk from clean on the same generated .tex;
- cold: the workflow from an empty build folder;
- no-op: the workflow with nothing to do;
- sentence: after editing one sentence of one section;
- raw value: after changing one value of one raw CSV (and rehashing it);
- citation: after adding a citation to a section.
It prints each as a ratio to the floor (cold) or to one pdflatex pass (the incremental cases).

With `--author-loop` (alone: `--author-loop-only`), the author's loop (issue 14): the pdflatex pass
profile (variants of one pass, wall and CPU time), and a one-sentence edit through `make watch` next
to the same edit through `make`, in one copy, one after the other; each watch edit counts only once
the PDF holds the new sentence (pdftotext).

With `--lint-corpus-only`, the lint on every labelled real paper (issue 10: under 3 s on the largest), as
`python -m scripts.stages.lint --root tests/real_papers/<paper>` runs it, Python's start-up included.

Then the scaling table (`--scaling 1,4,16`): synthetic papers 1, 4 and 16 times this one's sections
and figures (scripts/devtools/synthetic.py), each built once from cold on 1 and on 2 cores, then edited by one
sentence and rebuilt, then linted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.common import ROOT, copy_project_files
from scripts.stages.compile import latexmk_command, tex_environment
from scripts.stages.data import DESCRIPTOR, find_resource, load_descriptor, process_command
from scripts.stages.figures import plot_command
from scripts.stages.metadata import load_metadata, source_date_epoch


def run(command: list[str], folder: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(command)} failed in {folder}:\n{done.stderr.decode()[-3000:]}")
    return time.perf_counter() - started


def build(folder: Path, cores: int | None = None) -> float:
    return run([sys.executable, "-m", "scripts.commands.build", "--cores", str(cores or os.cpu_count() or 1)], folder)


def floor(folder: Path) -> float:
    """The work itself without the workflow: the figure scripts (processing the raw data, plotting),
    one after the other, then latexmk from clean. Not in it: the engine, the data checks (hash and
    schema), the provenance manifest and the lint, which the workflow adds."""
    build(folder)  # makes build/tex/paper.tex once, untimed
    metadata = load_metadata(folder / "paper/metadata.yaml")
    descriptor = load_descriptor(folder / DESCRIPTOR)
    started = time.perf_counter()
    for figure in metadata["figures"]:
        raw = DESCRIPTOR.parent / find_resource(descriptor, figure["data"])["path"]
        table = Path(f"/tmp/bench-{figure['id']}.csv")
        settings = metadata["processing"][figure["kind"]]
        run(process_command(figure["kind"], raw, find_resource(descriptor, figure["data"]), table, settings), folder)
        out = Path(f"/tmp/bench-{figure['id']}.pdf")
        run(plot_command(figure["kind"], table, "illustrative", Path("paper/figure-style.mplstyle"), out), folder)
    for suffix in (".aux", ".bbl", ".bcf", ".blg", ".fdb_latexmk", ".fls", ".log", ".out", ".run.xml", ".pdf"):
        (folder / "build/tex/paper").with_suffix(suffix).unlink(missing_ok=True)
    env = tex_environment(source_date_epoch(metadata))
    subprocess.run(latexmk_command(Path("build/tex/paper.tex")), cwd=folder, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def engine_start(folder: Path) -> float:
    """Snakemake itself with nothing to do, on a one-rule workflow: the engine's own start-up."""
    (folder / "done.txt").write_text("done\n")
    (folder / "Snakefile").write_text('rule all:\n    input:\n        "done.txt",\n')
    return run([sys.executable, "-m", "snakemake", "--cores", "1"], folder)


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
    subprocess.run([sys.executable, "-m", "scripts.stages.data", "rehash"], cwd=folder, check=True, capture_output=True)


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


def lint_only(folder: Path) -> float:
    """The lint step alone, as the workflow runs it, on a built folder."""
    command = [sys.executable, "-m", "scripts.stages.lint", "--exit-zero", "--pdf", "build/paper.pdf"]
    return run([*command, "--json", "build/lint/bench.json", "--markdown", "build/lint/bench.md"], folder)


def lint_corpus(repeat: int) -> dict[str, object]:
    """The lint's wall time on each labelled real paper (median of `repeat` runs), and the target's verdict."""
    medians = {}
    for folder in sorted(p.parent for p in (ROOT / "tests/real_papers").glob("*/truth.yaml")):
        command = [sys.executable, "-m", "scripts.stages.lint", "--root", str(folder), "--exit-zero"]
        medians[folder.name] = round(statistics.median(run(command, ROOT) for _ in range(repeat)), 2)
    slowest = max(medians, key=medians.__getitem__)
    for name in sorted(medians, key=medians.__getitem__)[-5:]:
        print(f"{name:40s} {medians[name]:5.2f} s", flush=True)
    met = medians[slowest] < 3.0
    print(
        f"slowest: {slowest}, {medians[slowest]} s (target < 3 s on the largest paper: {'met' if met else 'NOT met'})"
    )
    return {"median_s": medians, "slowest": slowest, "target": "< 3 s", "met": met}


def scaling_row(factor: int, seed: int = 1) -> dict[str, float | int]:
    """Cold build on 1 and 2 cores, a one-sentence edit and the lint, for a paper `factor` times this one."""
    from scripts.devtools.synthetic import make_synthetic
    from scripts.stages.lint.__main__ import page_count

    row: dict[str, float | int] = {"factor": factor}
    for cores in (1, 2):
        with tempfile.TemporaryDirectory(prefix=f"scale-{factor}-") as name:
            folder = Path(name)
            make_synthetic(folder, factor, factor, seed)
            row[f"cold_{cores}_cores_s"] = round(build(folder, cores), 2)
            if cores == 2:
                metadata = load_metadata(folder / "paper/metadata.yaml")
                row["sections"], row["figures"] = len(metadata["sections"]), len(metadata["figures"])
                row["pages"] = page_count(folder / "build/paper.pdf") or 0
                sentence(folder)
                row["sentence_edit_s"] = round(build(folder, cores), 2)
                row["lint_s"] = round(lint_only(folder), 2)
    row["speed_up_2_cores"] = round(float(row["cold_1_cores_s"]) / float(row["cold_2_cores_s"]), 2)
    return row


def scaling(factors: Sequence[int]) -> list[dict[str, float | int]]:
    rows = []
    print("\n| × | sections | figures | pages | cold, 1 core | cold, 2 cores | speed-up | sentence edit | lint |")
    print("|---|---|---|---|---|---|---|---|---|")
    for factor in factors:
        row = scaling_row(factor)
        rows.append(row)
        print(
            f"| {factor} | {row['sections']} | {row['figures']} | {row['pages']} | {row['cold_1_cores_s']} s "
            f"| {row['cold_2_cores_s']} s | {row['speed_up_2_cores']}× | {row['sentence_edit_s']} s "
            f"| {row['lint_s']} s |",
            flush=True,
        )
    return rows


def timed_pass(command: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one TeX run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(command)} failed in {folder}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


CITATION = re.compile(
    r"\\(?:parencites(?:\([^)]*\))*(?:\[[^\]]*\]|\{[^}]*\})+|(?:paren|text)cite(?:\[[^\]]*\])*\{[^}]*\})"
)


def pass_variants(folder: Path) -> dict[str, tuple[str, str]]:
    """Variant name -> (preamble or '' for the precompiled format, body) of build/tex/paper.tex."""
    from scripts.commands.watch import split_document

    preamble, body = split_document((folder / "build/tex/paper.tex").read_text(encoding="utf-8"))
    sections = folder / "build/profile/sections"
    sections.mkdir(parents=True, exist_ok=True)
    for path in (folder / "paper/sections").glob("*.tex"):
        (sections / path.name).write_text(CITATION.sub("X", path.read_text(encoding="utf-8")), encoding="utf-8")
    no_manifest = re.sub(r"^\\InputIfFileExists\{build/provenance/.*\n", "", body, flags=re.M)
    return {
        "today: one pass of build/tex/paper.tex": (preamble, body),
        "the preamble only (\\begin{document}\\end{document})": (preamble, "\\begin{document}\n\\end{document}\n"),
        "precompiled preamble (format), whole body": ("", body),
        "format, without the manifest fragment (embedfile)": ("", no_manifest),
        "format, without the figures": ("", "\\renewcommand{\\PaperFigure}[1]{}\n" + body),
        "format, without the reference list": ("", body.replace("\\input{paper/sections/08-references}", "")),
        "format, hyperref links off (draft)": (
            "",
            body.replace("\\begin{document}%", "\\begin{document}\\hypersetup{draft}%", 1),
        ),
        "format, citations replaced by a word": ("", body.replace("{paper/sections/", "{build/profile/sections/")),
    }


def pass_profile(folder: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Where a pass goes: each variant's median wall and CPU time over `repeat` runs."""
    metadata = load_metadata(folder / "paper/metadata.yaml")
    env = tex_environment(source_date_epoch(metadata))
    work = folder / "build/profile"
    work.mkdir(parents=True, exist_ok=True)
    preamble, _ = pass_variants(folder)["today: one pass of build/tex/paper.tex"]
    (work / "preamble.tex").write_text(preamble + "\\begin{document}\n\\end{document}\n", encoding="utf-8")
    dump = ["pdflatex", "-ini", "-interaction=nonstopmode", "-output-directory=build/profile", "-jobname=preamble"]
    format_wall, _ = timed_pass([*dump, "&pdflatex", "mylatexformat.ltx", "build/profile/preamble.tex"], folder, env)
    results = {"dumping the format (once per preamble change)": {"wall_s": round(format_wall, 2), "cpu_s": 0.0}}
    for name, (variant_preamble, body) in pass_variants(folder).items():
        for suffix in (".aux", ".bbl", ".bcf", ".out", ".run.xml"):
            shutil.copy(folder / f"build/tex/paper{suffix}", work / f"paper{suffix}")
        (work / "paper.tex").write_text(variant_preamble + body, encoding="utf-8")
        command = ["pdflatex", "-interaction=nonstopmode", "-output-directory=build/profile", "build/profile/paper.tex"]
        if not variant_preamble:
            command.insert(1, "-fmt=build/profile/preamble")
        runs = [timed_pass(command, folder, env) for _ in range(repeat)]
        results[name] = {
            "wall_s": round(statistics.median(wall for wall, _ in runs), 2),
            "cpu_s": round(statistics.median(cpu for _, cpu in runs), 2),
        }
        print(f"  {name}: {results[name]['wall_s']} s wall, {results[name]['cpu_s']} s CPU", flush=True)
    return results


# Where the watch edits go: a short section, and the introduction (80% of the text, 80 citations).
EDIT_SITES = {
    "problem statement": ("paper/sections/02-problem-statement.tex", "will be a challenge."),
    "introduction": ("paper/sections/01-introduction.tex", "As the Cold War ended,"),
}


def watch_edits(folder: Path, repeat: int) -> tuple[dict[str, list[float]], list[float]]:
    """One-sentence edits `repeat` times at each site through `make watch`, then `repeat` times through `make`."""
    import queue
    import threading

    watcher = subprocess.Popen(
        [sys.executable, "-m", "scripts.commands.watch", "--cores", str(os.cpu_count() or 1)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            lines.put((time.perf_counter(), line))

    def next_line(*fragments: str) -> tuple[float, str]:
        while True:
            arrived, line = lines.get(timeout=600)
            if any(fragment in line for fragment in fragments):
                return arrived, line

    threading.Thread(target=read, daemon=True).start()
    watch_times: dict[str, list[float]] = {}
    try:
        next_line("watching ")
        for site, (name, sentence_start) in EDIT_SITES.items():
            section = folder / name
            original = section.read_text(encoding="utf-8")
            watch_times[site] = []
            for number in range(repeat):
                words = f"{sentence_start.rstrip('.,')}, measured {number + 1} times{sentence_start[-1]}"
                started = time.perf_counter()
                section.write_text(original.replace(sentence_start, words, 1), encoding="utf-8")
                arrived, line = next_line("updated in", "error:", "steps ran")
                if "updated in" not in line:
                    raise SystemExit(f"benchmark: make watch did not take the fast path: {line}")
                watch_times[site].append(arrived - started)
                pdf = subprocess.run(["pdftotext", "build/paper.pdf", "-"], cwd=folder, capture_output=True, check=True)
                if words not in " ".join(pdf.stdout.decode("utf-8").replace("-\n", "").split()):
                    raise SystemExit(f"benchmark: build/paper.pdf does not hold the edit {words!r}")
                next_line("lint: ")  # the lint prints after the PDF; let it finish before the next edit,
                time.sleep(2)  # and the next pass reach its pause, as it does while an author types
            section.write_text(original, encoding="utf-8")
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=60)
    make_times = []
    name, sentence_start = EDIT_SITES["problem statement"]
    section = folder / name
    original = section.read_text(encoding="utf-8")
    for number in range(repeat):
        section.write_text(original.replace(sentence_start, f"will be a challenge ({number}).", 1))
        make_times.append(build(folder))
    return watch_times, make_times


def author_loop(repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as name:
        folder = Path(name)
        copy_project_files(folder, ROOT)
        build(folder)
        print("pdflatex pass profile (medians):", flush=True)
        profile = pass_profile(folder, repeat)
        watch_times, make_times = watch_edits(folder, repeat)
    series = {f"watch, sentence edit in the {site}": times for site, times in watch_times.items()}
    series["make, sentence edit in the problem statement"] = make_times
    loop: dict[str, dict[str, object]] = {
        name: {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}
        for name, times in series.items()
    }
    for name, value in loop.items():
        if name.startswith("watch"):
            value["target"], value["met"] = "≤ 1.0 s", float(value["median_s"]) <= 1.0
    for name, value in loop.items():
        print(f"{name}: median {value['median_s']} s  runs {value['runs_s']}", flush=True)
    return {"pass profile": profile, "edits": loop, "load average": os.getloadavg()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.devtools.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "tests/benchmarks/results.json")
    parser.add_argument("--scaling", default="1,4,16", help="paper sizes for the scaling table ('' to skip)")
    parser.add_argument("--skip-cases", action="store_true", help="only the scaling table (keeps the JSON's cases)")
    parser.add_argument("--author-loop", action="store_true", help="also the pass profile and the watch edits")
    parser.add_argument("--author-loop-only", action="store_true", help="only those (keeps the JSON's other parts)")
    parser.add_argument("--lint-corpus-only", action="store_true", help="only the lint on each labelled real paper")
    args = parser.parse_args(argv)
    factors = [int(factor) for factor in args.scaling.split(",") if factor]
    previous = json.loads(args.json.read_text()) if args.json.exists() else {}
    if args.lint_corpus_only:
        args.json.write_text(json.dumps({**previous, "lint corpus": lint_corpus(args.repeat)}, indent=2) + "\n")
        return 0
    if args.author_loop_only:
        repeat = max(args.repeat, 5)
        args.json.write_text(json.dumps({**previous, "author loop": author_loop(repeat)}, indent=2) + "\n")
        return 0
    if args.skip_cases:
        rows = scaling(factors)
        args.json.write_text(json.dumps({**previous, "scaling": rows}, indent=2) + "\n")
        return 0
    cases = {
        "engine start-up": lambda folder: (engine_start(folder), engine_start(folder))[1],
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
        "no-op": "engine start-up",
        "sentence edit": "pdflatex pass",
        "raw value": "pdflatex pass",
        "citation added": "pdflatex pass",
    }
    for name, base in unit.items():
        results[name]["ratio"] = round(results[name]["median_s"] / results[base]["median_s"], 2)
        results[name]["ratio_to"] = base
    median = {name: value["median_s"] for name, value in results.items()}
    targets = {  # issue 6: the targets, checked here and never in a timed test
        "cold": ("≤ 1.25 × floor", median["cold"] <= 1.25 * median["floor"]),
        "no-op": ("≤ engine start-up + 0.5 s", median["no-op"] <= median["engine start-up"] + 0.5),
        "sentence edit": ("≤ 2.5 pdflatex passes", median["sentence edit"] <= 2.5 * median["pdflatex pass"]),
    }
    for name, (target, met) in targets.items():
        results[name]["target"], results[name]["met"] = target, met
    print("\n| case | median (s) | ratio | target |\n|---|---|---|---|")
    for name, value in results.items():
        ratio = f"{value['ratio']}× {value['ratio_to']}" if "ratio" in value else ""
        target = f"{value['target']}: {'met' if value['met'] else 'NOT met'}" if "target" in value else ""
        print(f"| {name} | {value['median_s']} | {ratio} | {target} |")
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = {"machine": machine, "repeat": args.repeat, "results": results, "scaling": previous.get("scaling", [])}
    summary["author loop"] = author_loop(max(args.repeat, 5)) if args.author_loop else previous.get("author loop")
    args.json.write_text(json.dumps(summary, indent=2) + "\n")  # the cases are kept if the scaling run fails
    if factors:
        summary["scaling"] = scaling(factors)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
