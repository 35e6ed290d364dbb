"""Processed tables -> figure files (vector PDF), one plotting function per figure.

    python -m scripts.stages.figures poll --table build/processed/neutrality-poll.csv \
        --provenance illustrative --style paper/figure-style.mplstyle --out figures/neutrality-poll.pdf

Output is deterministic: no dates or software versions in the PDF metadata, fonts from matplotlib
itself, so rebuilding a figure from the same data leaves `git status` clean.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scripts.common import atomic_write_bytes, run_main

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ILLUSTRATIVE_MARK = "Illustrative data \N{EN DASH} the original values could not be recovered"
# What else a figure of stand-in data must say about itself, by kind (the data package's descriptions).
ILLUSTRATIVE_NOTES = {
    "poll": "The answer options are placeholders: the poll\N{RIGHT SINGLE QUOTATION MARK}s real options are not known"
}
WATERMARK = "ILLUSTRATIVE"
ILLUSTRATIVE_NOTE_GID = "illustrative-note"
# No creation date or producer version: the same data must give the same bytes.
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}


def _pyplot(style: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use(str(style))
    return plt


# The watermark's height in points, and the share of the plot's height kept free of data and labels for
# it and for the margin below it (the plotters leave that headroom).
WATERMARK_SIZE = 22
HEADROOM = 0.2
NOTE_COLOUR = "#8b0000"
NOTE_PAD = 0.3  # the note box's padding, in font sizes


def watermark(figure: Figure, text: str) -> None:
    """`text` as outlined letters, level, centred in the empty top band of the first plot, in front.

    Outlined, not filled or translucent: a thin dark line needs no transparency (which PDF/A-1 forbids);
    in the headroom that the plotters leave above their data and labels it covers neither.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D, ScaledTranslation

    axes = figure.axes[0]
    path = TextPath((0, 0), text, size=WATERMARK_SIZE)  # in points, in the style's serif
    box = path.get_extents()
    # top centre of the letters at the top centre of the plot area, 3 pt below its upper edge
    anchored = Affine2D().translate(-box.x0 - box.width / 2, -box.y1 - 3)
    transform = anchored.scale(1 / 72) + figure.dpi_scale_trans + ScaledTranslation(0.5, 1.0, axes.transAxes)
    outline = PathPatch(path, transform=transform, facecolor="none", edgecolor="0.15", linewidth=0.45, zorder=10)
    outline.set_gid(WATERMARK)
    figure.add_artist(outline)


def mark_illustrative(figure: Figure, kind: str) -> None:
    """Stamp the figure so that stand-in values can never pass for the published ones."""
    watermark(figure, WATERMARK)
    lines = [ILLUSTRATIVE_MARK, *([ILLUSTRATIVE_NOTES[kind]] if kind in ILLUSTRATIVE_NOTES else [])]
    fontsize = 8
    # Just above the plot area, its box (padding and frame included) flush with the plot's right edge.
    inset = NOTE_PAD * fontsize + 0.6
    figure.axes[0].annotate(
        "\n".join(lines),
        xy=(1, 1),
        xycoords="axes fraction",
        xytext=(-inset, inset + 2),
        textcoords="offset points",
        fontsize=fontsize,
        ha="right",
        va="bottom",
        color=NOTE_COLOUR,
        bbox={"boxstyle": f"square,pad={NOTE_PAD}", "facecolor": "white", "edgecolor": NOTE_COLOUR, "linewidth": 0.6},
        gid=ILLUSTRATIVE_NOTE_GID,
    )


def plot_poll(table: pd.DataFrame, plt) -> Figure:
    """Figure 1: share of each answer with its Wilson interval, and the count on each bar."""
    figure, axes = plt.subplots()
    shares = table["share"] * 100
    errors = [shares - table["ci_low"] * 100, table["ci_high"] * 100 - shares]
    positions = range(len(table))
    axes.bar(positions, shares, width=0.6, color="0.55", edgecolor="0.2", linewidth=0.6, zorder=2)
    axes.errorbar(positions, shares, yerr=errors, fmt="none", ecolor="black", elinewidth=0.8, capsize=4, zorder=3)
    for position, share, count, high in zip(positions, shares, table["count"], table["ci_high"] * 100, strict=True):
        axes.text(position, high + 1.2, f"{share:.1f}% (n = {count:,})", ha="center", va="bottom", fontsize=8)
    axes.set_xticks(list(positions), table["label"])
    n = int(table["n"].iloc[0]) if len(table) else 0
    axes.set_ylabel("Share of respondents (%)")
    axes.set_xlabel(f"Answer (N = {n:,} respondents; bars: 95% Wilson intervals)")
    # room for the count labels above the intervals, and the watermark's headroom above them
    axes.set_ylim(0, max(70.0, (float((table["ci_high"] * 100).max()) + 6) / (1 - HEADROOM)))
    axes.yaxis.grid(True, linewidth=0.4, color="0.85", zorder=0)
    return figure


def plot_survey(table: pd.DataFrame, plt) -> Figure:
    """Figure 2: yearly series of threat perception, preferred security policy and appreciation."""
    figure, axes = plt.subplots()
    styles = {
        "threat_perceived": {"color": "black", "linestyle": "-", "marker": "o"},
        "approve_foreign_policy": {"color": "#8b0000", "linestyle": "-", "marker": "s"},
        "prefer_neutrality": {"color": "0.35", "linestyle": "--", "marker": "^"},
        "prefer_third_neighbour": {"color": "0.35", "linestyle": "-.", "marker": "v"},
        "prefer_alliance": {"color": "0.35", "linestyle": ":", "marker": "D"},
    }
    for indicator, series in table.groupby("indicator", sort=False):
        style = styles.get(str(indicator), {"linestyle": "-", "marker": "."})
        axes.plot(series["year"], series["value"], label=series["label"].iloc[0], markersize=3.5, **style)
    years = sorted(table["year"].unique())
    axes.set_xticks(years, [str(y) for y in years])
    axes.set_xlabel("Year (respondent-weighted mean of the survey waves)")
    axes.set_ylabel("Respondents (%)")
    axes.set_ylim(0, max(100.0, float(table["value"].max()) / (1 - HEADROOM)))  # headroom for the watermark
    axes.yaxis.grid(True, linewidth=0.4, color="0.85")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return figure


PLOTTERS = {"poll": plot_poll, "survey": plot_survey}


def draw(kind: str, table: pd.DataFrame, style: Path, illustrative: bool) -> Figure:
    """The figure of `kind` for `table`, marked when its data are illustrative."""
    plt = _pyplot(style)
    figure = PLOTTERS[kind](table, plt)
    for axes in figure.axes:
        # The style's axes face is "none", yet drawing it writes a PDF graphics state with stroke
        # opacity 0, a transparency that PDF/A-1 forbids; not drawing it changes nothing visible.
        axes.patch.set_visible(False)
    if illustrative:
        mark_illustrative(figure, kind)
    return figure


def render(kind: str, table: pd.DataFrame, style: Path, illustrative: bool) -> bytes:
    """The figure as PDF bytes."""
    import matplotlib.pyplot as plt

    figure = draw(kind, table, style, illustrative)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf", bbox_inches="tight", metadata=PDF_METADATA)
    plt.close(figure)
    return buffer.getvalue()


def plot_command(kind: str, table: Path, provenance: str, style: Path, out: Path) -> list[str]:
    """The command line that makes one figure, as the workflow runs it."""
    return [
        sys.executable,
        "-m",
        "scripts.stages.figures",
        kind,
        "--table",
        str(table),
        "--provenance",
        provenance,
        "--style",
        str(style),
        "--out",
        str(out),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stages.figures", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(PLOTTERS))
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--provenance", choices=["illustrative", "real"], required=True, help="status of the data")
    parser.add_argument("--style", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    table = pd.read_csv(args.table)
    atomic_write_bytes(args.out, render(args.kind, table, args.style, illustrative=args.provenance != "real"))
    print(f"{args.out}: {args.kind} figure, data {args.provenance}")
    return 0


if __name__ == "__main__":
    run_main(main)
