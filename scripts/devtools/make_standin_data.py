"""Make the ILLUSTRATIVE stand-in raw data for the two figures (kept for transparency; not a build step).

The values behind the published figures could not be recovered: the article shows only the images (see README,
"Data"). This seeded generator makes data with the shape the real data would have, so that the whole
pipeline runs and an author can drop the real files in. It encodes only what the paper's text says:
- Figure 1: "Domestic public opinion was mixed, but the overall has supportive attitude."
- Figure 2: "from 2013 onwards the figure above shows a decline in the trend of the people's
  appreciation of the government policies." Everything else is flat plus noise.
The poll data also contain the flaws the processing must handle (late responses, repeat respondents,
unknown answers), so that those steps do real work.

Run: python -m scripts.devtools.make_standin_data   (rewrites data/raw/*.csv and the hashes in data/datapackage.json)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from scripts.common import ROOT
from scripts.stages.data import DESCRIPTOR, rehash_descriptor

SEED = 20151030
POLL_OPENED = datetime(2015, 10, 30, 0, 0, tzinfo=timezone(timedelta(hours=8)))


def make_poll(rng: np.random.Generator, n_respondents: int = 2400) -> pd.DataFrame:
    tokens = [f"{value:012x}" for value in rng.integers(0, 16**12, size=n_respondents)]
    answers = rng.choice(["support", "oppose", "undecided"], p=[0.52, 0.31, 0.17], size=n_respondents)
    # Most responses come early; about 2% arrive after the 24-hour window closed.
    minutes = np.minimum(rng.exponential(scale=420, size=n_respondents), 26 * 60 - 1)
    rows = [
        (POLL_OPENED + timedelta(minutes=float(m)), token, answer)
        for m, token, answer in zip(minutes, tokens, answers, strict=True)
    ]
    # About 3% of respondents submit a second time, later, sometimes with another answer.
    for index in rng.choice(n_respondents, size=n_respondents * 3 // 100, replace=False):
        when, token, _ = rows[index]
        rows.append(
            (when + timedelta(minutes=float(rng.uniform(1, 120))), token, str(rng.choice(["support", "oppose"])))
        )
    # About 1% of submissions carry an answer code the poll did not offer (blank or malformed).
    for index in rng.choice(len(rows), size=len(rows) // 100, replace=False):
        when, token, _ = rows[index]
        rows[index] = (when, token, str(rng.choice(["", "other", "SUPPORT!"])))
    rows.sort(key=lambda row: row[0])
    return pd.DataFrame(
        {
            "response_id": range(1, len(rows) + 1),
            "submitted_at": [when.isoformat(timespec="seconds") for when, _, _ in rows],
            "respondent_token": [token for _, token, _ in rows],
            "answer": [answer for _, _, answer in rows],
        }
    )


def make_survey(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for year in range(2008, 2017):
        for quarter in range(4):
            wave = datetime(year, 3 * quarter + 2, 15).date().isoformat()
            respondents = int(rng.integers(900, 1100))
            approval = 58.0 if year < 2013 else 58.0 - 4.5 * (year - 2012)
            policy = rng.dirichlet([35, 45, 20]) * 100
            values = {
                "threat_perceived": 40 + rng.normal(0, 2.5),
                "prefer_neutrality": policy[0],
                "prefer_third_neighbour": policy[1],
                "prefer_alliance": policy[2],
                "approve_foreign_policy": approval + rng.normal(0, 2.0),
            }
            rows += [(wave, indicator, round(float(v), 1), respondents) for indicator, v in values.items()]
    return pd.DataFrame(rows, columns=["wave_date", "indicator", "value", "respondents"])


def main(argv: Sequence[str] | None = None) -> int:
    rng = np.random.default_rng(SEED)
    raw = ROOT / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    make_poll(rng).to_csv(raw / "poll_responses.csv", index=False, lineterminator="\n")
    make_survey(rng).to_csv(raw / "threat_survey.csv", index=False, lineterminator="\n")
    rehash_descriptor(ROOT / DESCRIPTOR)
    print(f"wrote {raw}/*.csv and updated {DESCRIPTOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
