"""Data processing on small hand-made inputs with known answers."""

import json
import math
from pathlib import Path
from statistics import NormalDist

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripts.common import UserError, sha256_file
from scripts.stages.data import (
    POLL_COLUMNS,
    check_hash,
    drop_repeat_respondents,
    parse_poll,
    poll_window,
    process_poll,
    read_csv_columns,
    validate_resource,
    wilson_interval,
    yearly_series,
)

OPTIONS = [{"value": "support", "label": "Support"}, {"value": "oppose", "label": "Oppose"}]
OPENED = "2015-10-30T00:00:00+08:00"


def poll(rows):
    return pd.DataFrame(rows, columns=POLL_COLUMNS).astype({"response_id": str})


def test_window_keeps_exactly_the_24_hours_after_opening():
    frame = parse_poll(
        poll(
            [
                (1, "2015-10-29T23:59:59+08:00", "a", "support"),  # before opening
                (2, "2015-10-30T00:00:00+08:00", "b", "support"),  # first second: in
                (3, "2015-10-30T23:59:59+08:00", "c", "oppose"),  # last second: in
                (4, "2015-10-31T00:00:00+08:00", "d", "oppose"),  # window closed
                (5, "2015-10-30T15:30:00+00:00", "e", "oppose"),  # 23:30 in Ulaanbaatar: in
            ]
        )
    )
    kept = poll_window(frame, OPENED, 24)
    assert kept["respondent_token"].tolist() == ["b", "c", "e"]


def test_repeat_respondents_keep_their_first_response_whatever_the_row_order():
    frame = parse_poll(
        poll(
            [
                (2, "2015-10-30T05:00:00+08:00", "a", "oppose"),
                (1, "2015-10-30T01:00:00+08:00", "a", "support"),
                (3, "2015-10-30T02:00:00+08:00", "b", "oppose"),
            ]
        )
    )
    kept = drop_repeat_respondents(frame)
    assert sorted(zip(kept["respondent_token"], kept["answer"], strict=True)) == [("a", "support"), ("b", "oppose")]


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (5, 10, 0.236593, 0.763407),  # Wilson (1927); also R's prop.test(5, 10, correct=FALSE)
        (0, 10, 0.0, 0.277533),
        (10, 10, 0.722467, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    assert wilson_interval(successes, n, 0.95) == pytest.approx((low, high), abs=1e-6)


@given(n=st.integers(1, 5000), data=st.data(), confidence=st.sampled_from([0.9, 0.95, 0.99]))
def test_wilson_bounds_solve_the_score_equation(n, data, confidence):
    """Each bound p solves (k/n - p)^2 = z^2 p (1 - p) / n: the definition, not the closed form."""
    successes = data.draw(st.integers(0, n))
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    observed = successes / n
    for bound in wilson_interval(successes, n, confidence):
        assert (observed - bound) ** 2 == pytest.approx(z * z * bound * (1 - bound) / n, abs=1e-12)


def test_wilson_interval_of_no_responses_is_undefined():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_process_poll_counts_what_it_drops_and_shares_sum_to_one():
    raw = poll(
        [
            (1, "2015-10-30T01:00:00+08:00", "a", "support"),
            (2, "2015-10-30T02:00:00+08:00", "a", "oppose"),  # repeat of a
            (3, "2015-10-30T03:00:00+08:00", "b", "oppose"),
            (4, "2015-10-30T04:00:00+08:00", "c", "SUPPORT!"),  # unknown answer
            (5, "2015-11-02T04:00:00+08:00", "d", "support"),  # late
            (6, "2015-10-30T05:00:00+08:00", "e", "support"),
        ]
    )
    table, dropped = process_poll(raw, OPENED, 24, OPTIONS, 0.95)
    assert dropped == {"submitted": 6, "outside_window": 1, "repeat_respondent": 1, "unknown_answer": 1, "kept": 3}
    assert table["count"].tolist() == [2, 1]
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["n"].unique().tolist() == [3]
    assert (table["ci_low"] <= table["share"]).all() and (table["share"] <= table["ci_high"]).all()


def test_yearly_series_is_the_respondent_weighted_mean():
    waves = pd.DataFrame(
        [
            ("2013-02-15", "approve", "60", "100"),
            ("2013-08-15", "approve", "40", "300"),
            ("2014-02-15", "approve", "50", "10"),
            ("2007-02-15", "approve", "99", "10"),  # before first_year
        ],
        columns=["wave_date", "indicator", "value", "respondents"],
    )
    series = yearly_series(waves, 2008, 2016)
    assert series["year"].tolist() == [2013, 2014]
    assert series["value"].tolist() == pytest.approx([45.0, 50.0])  # (60*100 + 40*300) / 400
    assert series["respondents"].tolist() == [400, 10]


def test_missing_column_names_the_file_header_and_the_column(tmp_path):
    path = tmp_path / "poll.csv"
    path.write_text("response_id,submitted_at,answer\n1,2015-10-30T01:00:00+08:00,support\n")
    with pytest.raises(UserError) as caught:
        read_csv_columns(path, POLL_COLUMNS)
    assert caught.value.where == f"{path}:1"
    assert "respondent_token" in caught.value.message


def test_byte_order_mark_and_windows_line_endings_are_harmless(tmp_path):
    path = tmp_path / "poll.csv"
    path.write_bytes(
        b"\xef\xbb\xbfresponse_id,submitted_at,respondent_token,answer\r\n1,2015-10-30T01:00:00+08:00,a,support\r\n"
    )
    frame = read_csv_columns(path, POLL_COLUMNS)
    assert frame.columns.tolist() == POLL_COLUMNS
    assert frame["answer"].tolist() == ["support"]


def test_changed_raw_file_is_caught_with_both_hashes(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    expected = "sha256:" + sha256_file(path)
    check_hash(path, expected)  # unchanged: passes
    path.write_text("a\n2\n")
    with pytest.raises(UserError) as caught:
        check_hash(path, expected)
    assert expected.removeprefix("sha256:") in caught.value.message
    assert sha256_file(path) in caught.value.message


def test_shipped_data_package_is_valid_and_marked_illustrative():
    descriptor = json.loads(Path("data/datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["provenance"]["status"] == "illustrative"
    for resource in descriptor["resources"]:
        report = validate_resource(resource, Path("data"))
        assert report["provenance"] == "illustrative"
        assert report["rows"] > 0


def test_non_numeric_value_is_reported_with_row_and_column(tmp_path):
    descriptor = json.loads(Path("data/datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in descriptor["resources"] if r["name"] == "threat-survey")
    (tmp_path / "raw").mkdir()
    lines = Path("data/raw/threat_survey.csv").read_text(encoding="utf-8").splitlines()
    date, indicator, _, respondents = lines[3].split(",")
    lines[3] = ",".join([date, indicator, "forty", respondents])
    (tmp_path / "raw" / "threat_survey.csv").write_text("\n".join(lines) + "\n")
    resource = dict(resource, hash="sha256:" + sha256_file(tmp_path / "raw" / "threat_survey.csv"))
    with pytest.raises(UserError) as caught:
        validate_resource(resource, tmp_path)
    assert caught.value.where.endswith("threat_survey.csv:4")
    assert "column 'value'" in caught.value.message and "'forty'" in caught.value.message


def test_a_time_that_is_not_iso_8601_is_reported_at_its_row():
    raw = poll([(1, "2015-10-30T01:00:00+08:00", "a", "support"), (2, "30/10/2015 02:00", "b", "oppose")])
    with pytest.raises(UserError) as caught:
        process_poll(raw, OPENED, 24, OPTIONS, 0.95, "data/raw/poll.csv")
    assert caught.value.where == "data/raw/poll.csv:3"
    assert "'30/10/2015 02:00'" in caught.value.message
