"""Statement CSV: full precision, the same lines as the PDF, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.statement import PartyInfo, Statement
from reports.csv import COLUMNS, neutralise, render_csv
from tests.test_statement_model import (
    ALL_BUILDERS,
    build_statement,
    cjk_statement,
    line,
    producer_statement,
)

D = Decimal


def read(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("build", ALL_BUILDERS)
def test_lines_are_written_at_full_precision_and_add_up(build) -> None:
    statement: Statement = build()
    rows = read(render_csv(statement))
    lines = [r for r in rows if r["record"] == "line"]
    assert [D(r["amount"]) for r in lines] == [ln.amount.amount for ln in statement.lines]
    assert all(ln.amount.currency == statement.currency for ln in statement.lines)
    assert all(len(r["amount"].split(".")[1]) == 10 for r in lines)
    summary = {r["kind"]: D(r["amount"]) for r in rows if r["record"] == "summary"}
    adjustments = sum((D(r["amount"]) for r in rows if r["record"] == "adjustment"), D(0))
    assert sum((D(r["amount"]) for r in lines), D(0)) + adjustments == summary["earned"]
    for record, kind in (("fee", "fees"), ("recoupment", "recouped"), ("payment", "paid")):
        assert sum((D(r["amount"]) for r in rows if r["record"] == record), D(0)) == summary[kind]
    assert summary["closing"] == (
        summary["opening"]
        + summary["earned"]
        - summary["fees"]
        - summary["recouped"]
        - summary["paid"]
    )
    assert summary["closing"] == summary["payable_now"] + summary["carried_forward"]
    assert {r["period"] for r in rows} == {statement.period.code} == {"2026-10"}
    assert {r["party_id"] for r in rows} == {statement.party.id}


def test_header_row_and_line_ends() -> None:
    data = render_csv(producer_statement())
    first = data.decode("utf-8-sig").split("\r\n")[0]
    assert first == ",".join(COLUMNS)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_shares_and_weights_are_exact() -> None:
    rows = read(render_csv(producer_statement()))
    producer = next(r for r in rows if r["record"] == "line" and r["role"] == "producer")
    assert (producer["share"], producer["share_fraction"]) == ("0.2500000000", "1/4")
    third = replace(producer_statement().lines[0], share=Fraction(1, 3))
    party = PartyInfo(id="P-X", name="X", kind="producer")
    rows = read(render_csv(build_statement(party, [third])))
    row = next(r for r in rows if r["record"] == "line")
    assert (row["share"], row["share_fraction"]) == ("0.3333333333", "1/3")


def test_summary_and_identity_rows() -> None:
    rows = read(render_csv(cjk_statement()))
    info = {r["kind"]: r["description"] for r in rows if r["record"] == "info"}
    assert info["party_name"] == "山田太郎"
    assert info["operator"] == "Rust Label Ltd"
    carried = next(r for r in rows if r["kind"] == "carried_forward")
    assert carried["description"] == "below threshold of 5000.00 JPY"
    assert D(carried["amount"]) == D("1062.4410000000")


def test_formula_injection_is_neutralised_but_negative_amounts_stay_numbers() -> None:
    party = PartyInfo(
        id="P-EVIL", name='=HYPERLINK("http://x","click")', kind="artist", email="@SUM(1+1)"
    )
    lines = [
        line(
            "USRW12600001", "+cmd|' /C calc'!A0", "-2+3", "\tUS", "\rstream", 10, "-12.5000000000"
        ),
        line(
            "USRW12600001",
            "Plain title - with a dash",
            "Spotify",
            "US",
            "stream",
            10,
            "100.0000000000",
        ),
    ]
    data = render_csv(build_statement(party, lines))
    rows = read(data)
    info = {r["kind"]: r["description"] for r in rows if r["record"] == "info"}
    assert info["party_name"] == '\'=HYPERLINK("http://x","click")'
    assert info["party_email"] == "'@SUM(1+1)"
    evil = next(r for r in rows if r["record"] == "line" and r["amount"].startswith("-"))
    assert evil["track_title"] == "'+cmd|' /C calc'!A0"
    assert evil["source"] == "'-2+3"
    assert evil["territory"] == "'\tUS"
    assert evil["usage"] == "'\rstream"
    assert evil["amount"] == "-12.5000000000"  # still a number a spreadsheet can sum
    plain = next(r for r in rows if r["record"] == "line" and r["source"] == "Spotify")
    assert plain["track_title"] == "Plain title - with a dash"
    for row in rows:
        for column in COLUMNS:
            if column != "amount":
                assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.text(max_size=30))
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    safe = neutralise(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)


def test_same_statement_gives_identical_bytes() -> None:
    assert render_csv(producer_statement()) == render_csv(producer_statement())
