"""Attribution reports: exact normalised weights per licensor, per model, per track."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.attribution import (
    AttributionReport,
    AttributionWeight,
    normalise,
    parse_attribution,
)
from ledger.domain.catalog import parse_catalog
from ledger.domain.errors import InputError, InvalidPeriod
from ledger.domain.periods import Period

OCTOBER = Period(2026, 10)

CATALOG = """
parties:
  - {id: label, name: L, kind: company, payout_currency: USD, operator: true}
  - {id: lic-a, name: A, kind: company, payout_currency: USD}
  - {id: lic-b, name: B, kind: company, payout_currency: USD}
tracks:
  - {isrc: USRW12600001, title: T, display_artist: X}
"""


def test_weights_are_normalised_exactly() -> None:
    report = parse_attribution(
        "licensor,weight\nlic-a,2\nlic-b,1\n", "a.csv", Period.parse("202610")
    )
    assert report.period == OCTOBER
    assert report.period.code == "2026-10"
    assert report.weights_for("USRW12600001") == {"lic-a": Fraction(2, 3), "lic-b": Fraction(1, 3)}
    assert sum(w.weight for w in report.weights) == 1


def test_percentages_fractions_and_decimals_mix() -> None:
    report = parse_attribution(
        "\ufefflicensor,weight\r\nlic-a,50%\r\nlic-b,1/4\r\nlabel,0.25\r\n", "a.csv", OCTOBER
    )
    assert report.weights_for("ANY") == {
        "lic-a": Fraction(1, 2),
        "lic-b": Fraction(1, 4),
        "label": Fraction(1, 4),
    }


def test_track_rows_win_and_models_filter() -> None:
    text = (
        "licensor,model,isrc,weight\n"
        "lic-a,MusicLM,,3\n"
        "lic-b,Jukebox,,1\n"
        "lic-b,MusicLM,USRW12600001,1\n"
    )
    report = parse_attribution(text, "a.csv", OCTOBER)
    assert report.weights_for("USRW12600001") == {"lic-b": Fraction(1)}
    assert report.weights_for("USRW12600003") == {"lic-a": Fraction(3, 4), "lic-b": Fraction(1, 4)}
    assert report.weights_for("USRW12600003", model="jukebox") == {"lic-b": Fraction(1)}
    assert report.weights_for("USRW12600003", model="Other") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weight\n1\n", "a.csv:1: licensor: column is missing"),
        ("licensor,weight,colour\nlic-a,1,red\n", "a.csv:1: colour: unknown column"),
        ("licensor,weight\nlic-a,1.5.3\n", "a.csv:2: weight: weight: '1.5.3' is not a share"),
        ("licensor,weight\nlic-a,-1\n", "a.csv:2: weight: weight: -1 is negative"),
        ("licensor,weight\nlic-a,1e\n", "a.csv:2: weight:"),
        ("licensor,weight\nlic-a\n", "a.csv:2: has 1 columns, the header has 2"),
        ("licensor,weight\n,1\n", "a.csv:2: licensor: is empty"),
        ("licensor,weight\nlic-a,1\nlic-a,2\n", "a.csv:3: licensor: lic-a already has a weight"),
        ("licensor,weight\nlic-a,0\n", "a.csv: weight: all weights without an ISRC are zero"),
        ("licensor,isrc,weight\nlic-a,XX1,1\n", "a.csv:2: isrc: ISRC 'XX1'"),
        ("licensor,weight\n", "a.csv: the file has no weights"),
        ("", "a.csv:1: the file is empty"),
    ],
)
def test_each_problem_names_file_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_attribution(text, "a.csv", OCTOBER)
    assert any(line.startswith(expected) for line in raised.value.lines()), raised.value.lines()


def test_with_a_catalog_licensors_and_tracks_must_exist() -> None:
    catalog = parse_catalog(CATALOG, "c.yaml")
    with pytest.raises(InputError) as raised:
        parse_attribution(
            "licensor,isrc,weight\nghost,,1\nlic-a,USRW12600009,1\n",
            "a.csv",
            OCTOBER,
            catalog=catalog,
        )
    lines = raised.value.lines()
    assert "a.csv:2: licensor: party 'ghost' is not in the catalog" in lines
    assert "a.csv:3: isrc: track USRW12600009 is not in the catalog" in lines


def test_a_bad_period_is_a_problem() -> None:
    # The report's period is a Period now: a bad one is refused where it is parsed.
    with pytest.raises(InvalidPeriod, match="period 'October' is not a month"):
        parse_attribution("licensor,weight\nlic-a,1\n", "a.csv", Period.parse("October"))


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30))
def test_normalised_weights_always_sum_to_exactly_one(raw: list[int]) -> None:
    weights = {f"lic-{i:02d}": Fraction(w) for i, w in enumerate(raw)}
    result = normalise(weights)
    if sum(raw):
        assert sum(result.values()) == 1
        assert all(result[k] * sum(raw) == weights[k] for k in weights)
    else:
        assert result == weights
    report = AttributionReport(
        OCTOBER, tuple(AttributionWeight(k, v) for k, v in result.items() if v)
    )
    found = report.weights_for("USRW12600001")
    if sum(raw):
        assert found is not None and sum(found.values()) == 1
