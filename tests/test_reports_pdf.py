"""Statement PDF: read the text back and find every figure, recomputed from the lines.

Expected figures are computed here from the statement's lines and movements with
plain Decimal arithmetic (group, sum, round half-even), not with the helpers the
renderer uses, so a wrong total in ``ledger.domain.statement`` would fail these tests.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from pypdf import PdfReader

from ledger.domain.money import Money, currency, format_share
from ledger.domain.statement import PartyInfo, Statement, StatementLine
from reports.pdf import render_pdf
from reports.pdf_style import (
    format_amount,
    format_amount_with_currency,
    format_period,
    format_quantity,
    humanise,
    territory_name,
)
from tests.test_statement_model import (
    ALL_BUILDERS,
    below_threshold_statement,
    build_statement,
    cjk_statement,
    licensor_statement,
    line,
    long_statement,
    producer_statement,
)

D = Decimal


def pdf_text(data: bytes) -> tuple[int, str]:
    """Number of pages and the text of all pages, whitespace collapsed to single spaces
    (so a cell wrapped over two lines still reads as one phrase)."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def shown(amount: Decimal, st: Statement) -> Decimal:
    return amount.quantize(currency(st.currency).minor, rounding=ROUND_HALF_EVEN)


def fmt(amount: Decimal, st: Statement) -> str:
    return format_amount(Money(shown(amount, st), st.currency), st.locale)


def expect_column(
    st: Statement,
    rows: list[tuple[list[str], Decimal]],
    total_cells: list[str],
    exact_total: Decimal,
) -> list[str]:
    """The phrases a table must contain: each row with its rounded amount, a Rounding row
    when the rounded rows do not add up, and the total row."""
    phrases = [" ".join([*cells, fmt(amount, st)]) for cells, amount in rows]
    displayed = sum((shown(a, st) for _, a in rows), D(0))
    difference = shown(exact_total, st) - displayed
    if difference:
        phrases.append(f"Rounding {format_amount(Money(difference, st.currency), st.locale)}")
    phrases.append(" ".join(["Total", *total_cells, fmt(exact_total, st)]))
    return phrases


K = TypeVar("K")


def grouped(
    lines: Iterable[StatementLine], key: Callable[[StatementLine], K]
) -> dict[K, tuple[int, Decimal]]:
    out: dict[K, tuple[int, Decimal]] = defaultdict(lambda: (0, D(0)))
    for ln in lines:
        q, a = out[key(ln)]
        out[key(ln)] = (q + ln.quantity, a + ln.amount.amount)
    return out


def expected_phrases(st: Statement) -> list[str]:
    """Every figure the statement must show, recomputed from its lines and movements."""
    s, loc, code = st.summary, st.locale, st.currency
    phrases = [
        st.operator.name,
        st.party.name,
        f"Party ID {st.party.id}",
        f"Period {st.period} · Currency {code}",
        format_period(st.period, loc),
        format_amount_with_currency(s.payable_now, loc),
    ]
    phrases += [
        f"{k} {v}"
        for k, v in (("IPI", st.party.ipi), ("ISNI", st.party.isni), ("Email", st.party.email))
        if v
    ]
    if s.carry_reason:
        phrases.append(f"Reason: {s.carry_reason}")

    # The balance walk: opening + earned - fees - recouped - paid = closing.
    assert {m.currency for m in (s.opening, s.earned, s.fees, s.recouped, s.paid)} == {code}
    opening, earned, fees = s.opening.amount, s.earned.amount, s.fees.amount
    recouped, paid = s.recouped.amount, s.paid.amount
    walk = [
        ("Opening balance", opening),
        ("Earnings", earned),
        ("Fees", -fees),
        ("Recoupment of advances", -recouped),
        ("Payments made", -paid),
    ]
    phrases += [f"{label} {fmt(v, st)}" for label, v in walk]
    closing = opening + earned - fees - recouped - paid
    assert closing == s.closing.amount
    phrases.append(f"Balance due {fmt(closing, st)}")
    phrases.append(f"Paid now {fmt(s.payable_now.amount, st)}")
    phrases.append(f"Carried forward {fmt(s.carried_forward.amount, st)}")

    lines = st.lines
    all_units = sum(ln.quantity for ln in lines)
    all_amount = sum((ln.amount.amount for ln in lines), D(0))
    by_track = grouped(
        lines,
        lambda ln: (ln.isrc, ln.track_title, ln.role, ln.share, ln.rule_ref, ln.attribution_weight),
    )
    weights = any(ln.attribution_weight is not None for ln in lines)
    rows = []
    for (isrc, title, role, share, rule, weight), (q, a) in by_track.items():
        cells = [title, isrc, humanise(role), format_share(share), rule]
        if weights:
            cells.append(format_share(weight) if weight is not None else "")
        rows.append(([*cells, format_quantity(q, loc)], a))
    phrases += expect_column(st, rows, [format_quantity(all_units, loc)], all_amount)

    labels: list[tuple[Callable[[StatementLine], str], Callable[[str], str]]] = [
        (lambda ln: ln.source, str),
        (lambda ln: ln.territory, lambda t: f"{territory_name(t, loc)} ({t})"),
        (lambda ln: ln.usage, humanise),
    ]
    for key, label in labels:
        groups = grouped(lines, key)
        rows = [([label(k), format_quantity(q, loc)], a) for k, (q, a) in groups.items()]
        phrases += expect_column(st, rows, [format_quantity(all_units, loc)], all_amount)

    for group, sign in (
        (st.adjustments, 1),
        (st.fees, -1),
        (st.recoupments, -1),
        (st.payments, -1),
    ):
        if group:
            rows = [
                ([m.date, humanise(m.kind), m.description], sign * m.amount.amount) for m in group
            ]
            phrases += expect_column(
                st, rows, [], sum((sign * m.amount.amount for m in group), D(0))
            )
    return phrases


@pytest.mark.parametrize("build", ALL_BUILDERS)
def test_every_figure_is_on_the_statement(build: Callable[[], Statement]) -> None:
    st = build()
    pages, text = pdf_text(render_pdf(st))
    missing = [p for p in expected_phrases(st) if " ".join(p.split()) not in text]
    assert missing == []
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in text


def test_producer_statement_shows_sources_in_the_chart_and_the_payment() -> None:
    st = producer_statement()
    _, text = pdf_text(render_pdf(st))
    assert "PAYABLE NOW $108,027.53" in text
    # The chart lists each source with its rounded total, largest first.
    assert "Earnings by source Spotify 76,906.67 Apple Music 28,858.66 YouTube 1,932.75" in text
    # A rounding line keeps the by-track column adding up to its total.
    assert "Rounding -0.01 Total 32,178,039 109,085.19" in text


def test_licensor_statement_shows_the_attribution_weight() -> None:
    _, text = pdf_text(render_pdf(licensor_statement()))
    assert "Training data licensor 3% ai-licensor-pool@1#pool 12.71%" in text


def test_cjk_and_accented_names_render_as_text() -> None:
    st = cjk_statement()
    data = render_pdf(st)
    _, text = pdf_text(data)
    assert "山田太郎" in text
    assert "夜明けのリズム (Zoë Müller remix)" in text
    assert "¥0" in text and "Carried forward 1,062 JPY" in text
    # Both bundled fonts are embedded as subsets, never referenced from the system.
    assert b"DejaVuSans" in data and b"DroidSansFallback" in data


def test_below_threshold_is_carried_forward_with_the_reason() -> None:
    _, text = pdf_text(render_pdf(below_threshold_statement()))
    assert "Zoë Müller" in text
    assert "NOTHING PAYABLE THIS PERIOD $0.00 Carried forward 29.38 USD" in text
    assert "Reason: below threshold of 50.00 USD" in text


def test_a_large_catalogue_runs_to_three_pages_with_headers_repeated() -> None:
    pages, text = pdf_text(render_pdf(long_statement()))
    assert pages == 3
    assert "Page 3 of 3" in text
    assert "Reason: advance not yet recouped (25,000.00 remaining)" in text
    # Later pages carry the party in a running header.
    assert text.count("Ngozi Okafor-Lindqvist · P-CATALOGUE · October 2026") == 2


def test_same_statement_gives_identical_bytes() -> None:
    first = render_pdf(producer_statement())
    render_pdf(cjk_statement())  # other fonts and glyphs used in between
    assert render_pdf(producer_statement()) == first
    assert b"CreationDate" not in first or b"D:20000101" in first


def test_identical_bytes_in_a_fresh_process() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        "import hashlib, sys; sys.path.insert(0, '.');"
        "from tests.test_statement_model import licensor_statement;"
        "from reports.pdf import render_pdf;"
        "print(hashlib.sha256(render_pdf(licensor_statement())).hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == hashlib.sha256(render_pdf(licensor_statement())).hexdigest()


def test_different_statements_give_different_bytes() -> None:
    assert render_pdf(producer_statement()) != render_pdf(licensor_statement())


def test_german_locale_formats_amounts_and_the_period() -> None:
    base = producer_statement()
    st = build_statement(
        base.party,
        list(base.lines),
        opening=base.summary.opening.amount,
        adjustments=base.adjustments,
        fees=base.fees,
        payments=base.payments,
        locale="de_DE",
    )
    _, text = pdf_text(render_pdf(st))
    assert "Oktober 2026" in text
    assert "Spotify 25.227.556 76.906,67" in text
    assert [p for p in expected_phrases(st) if " ".join(p.split()) not in text] == []


def test_a_party_with_only_a_balance_gets_a_statement() -> None:
    party = PartyInfo(id="P-QUIET", name="Quiet Party", kind="songwriter")
    st = build_statement(party, [], opening=D("75.5000000000"))
    _, text = pdf_text(render_pdf(st))
    assert "No earnings were posted to you this period." in text
    assert "Opening balance 75.50" in text and "PAYABLE NOW $75.50" in text


def test_markup_characters_in_names_are_shown_literally() -> None:
    party = PartyInfo(id="P-AMP", name="Smith & Sons <Ltd> </para>", kind="label")
    st = build_statement(
        party,
        [
            line(
                "USRW12600001",
                "A&B <i>not italic</i>",
                "Spotify",
                "US",
                "stream",
                10,
                "60.0000000000",
            )
        ],
    )
    _, text = pdf_text(render_pdf(st))
    assert "Smith & Sons <Ltd> </para>" in text
    assert "A&B <i>not italic</i>" in text
