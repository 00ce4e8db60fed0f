"""Statement data model: totals are exact sums of lines, data that does not add up is
refused, and display rounding always shows a column that adds up.

The statement builders here (a producer with several tracks, a licensor with an
attribution weight, CJK and accented names, a balance carried forward below the
threshold, a long statement) are imported by the PDF and CSV tests too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.money import Money, currency, parse_share, total
from ledger.domain.periods import Period
from ledger.domain.statement import (
    Movement,
    Operator,
    PartyInfo,
    Statement,
    StatementLine,
    StatementMismatch,
    Summary,
    display_column,
    reconcile,
    round_display,
    totals_by_source,
    totals_by_territory,
    totals_by_track,
    totals_by_usage,
)

D = Decimal


def usd(amount: str | Decimal) -> Money:
    return Money.of(amount, "USD")


def dsum(amounts: Iterable[Money]) -> Decimal:
    """The plain Decimal sum of the amounts (independent of the helpers under test)."""
    return sum((m.amount for m in amounts), D(0))


OPERATOR = Operator(
    name="Rust Label Ltd",
    ids=(("DPID", "PADPIDA2026101501X"), ("Company no.", "12345678")),
    address="12 Harbour Street, London E1 6AN, United Kingdom",
)

# ---------------------------------------------------------------------------
# Builders shared with test_reports_pdf.py and test_reports_csv.py


def build_statement(
    party: PartyInfo,
    lines: list[StatementLine],
    *,
    code: str = "USD",
    opening: Decimal = D(0),
    adjustments: tuple[Movement, ...] = (),
    fees: tuple[Movement, ...] = (),
    recoupments: tuple[Movement, ...] = (),
    payments: tuple[Movement, ...] = (),
    threshold: Decimal = D("50"),
    unrecouped: Decimal | None = None,
    locale: str = "en_US",
) -> Statement:
    """A statement whose summary is derived from its parts the way the service does it:
    pay the closing balance rounded down to the minor unit when it reaches the threshold
    and no advance is unrecouped; otherwise carry it all forward with the reason."""
    earned = total([*(ln.amount for ln in lines), *(m.amount for m in adjustments)], code)
    fee = total((m.amount for m in fees), code)
    recouped = total((m.amount for m in recoupments), code)
    paid = total((m.amount for m in payments), code)
    closing = Money(opening, code) + earned - fee - recouped - paid
    reason: str | None
    if unrecouped is not None:
        payable = Money.zero(code)
        reason = f"advance not yet recouped ({unrecouped:,.2f} remaining)"
    elif closing < Money(threshold, code):
        payable, reason = Money.zero(code), f"below threshold of {threshold:.2f} {code}"
    else:
        minor = currency(code).minor
        payable = Money(closing.amount.quantize(minor, rounding=ROUND_DOWN), code)
        reason = "remainder below one minor unit" if payable != closing else None
    summary = Summary(
        opening=Money(opening, code),
        earned=earned,
        fees=fee,
        recouped=recouped,
        paid=paid,
        closing=closing,
        payable_now=payable,
        carried_forward=closing - payable,
        carry_reason=reason,
    )
    return Statement(
        operator=OPERATOR,
        party=party,
        period=Period(2026, 10),
        currency=code,
        summary=summary,
        lines=tuple(lines),
        adjustments=adjustments,
        fees=fees,
        recoupments=recoupments,
        payments=payments,
        generated_from=("ledger sha256:4f2a9c1e0b7d", "split runs 41, 42"),
        issued_on="2026-11-05",
        locale=locale,
        statement_id=f"ST-2026-10-{party.id}",
    )


def line(
    isrc: str,
    title: str,
    source: str,
    territory: str,
    usage: str,
    quantity: int,
    amount: str,
    *,
    role: str = "producer",
    share: str = "1/4",
    rule: str = "wmw-split@2#producer",
    weight: Fraction | None = None,
    code: str = "USD",
) -> StatementLine:
    return StatementLine(
        isrc=isrc,
        track_title=title,
        role=role,
        share=parse_share(share),
        rule_ref=rule,
        attribution_weight=weight,
        source=source,
        territory=territory,
        usage=usage,
        quantity=quantity,
        amount=Money.of(amount, code),
    )


TRACKS = [
    ("USRW12600001", "Walk My Walk"),
    ("USRW12600002", "Walk My Walk (Club Mix)"),
    ("USRW12600003", "Second Skin"),
]


def producer_statement() -> Statement:
    """Rust, the producer: three tracks, several sources, territories and usage types,
    a distribution fee, a mid-period payment, and an amount payable now."""
    party = PartyInfo(
        id="P-RUST",
        name="Rust",
        kind="producer",
        ipi="00523879512",
        isni="0000000121032683",
        email="rust@example.com",
    )
    lines = [
        line(
            "USRW12600001",
            "Walk My Walk",
            "Spotify",
            "US",
            "stream",
            18_204_331,
            "54612.9930000001",
        ),
        line(
            "USRW12600001", "Walk My Walk", "Spotify", "GB", "stream", 6_120_004, "19584.0128004444"
        ),
        line(
            "USRW12600001",
            "Walk My Walk",
            "Apple Music",
            "US",
            "stream",
            4_002_113,
            "28014.7910000005",
        ),
        line("USRW12600001", "Walk My Walk", "YouTube", "DE", "ugc", 2_500_000, "1875.0000000003"),
        line("USRW12600001", "Walk My Walk", "TuneCore", "CA", "download", 812, "649.6000000000"),
        line(
            "USRW12600002",
            "Walk My Walk (Club Mix)",
            "Spotify",
            "AU",
            "stream",
            903_221,
            "2709.6630000004",
        ),
        line(
            "USRW12600002",
            "Walk My Walk (Club Mix)",
            "DistroKid",
            "FR",
            "stream",
            250_004,
            "750.0120000000",
        ),
        line(
            "USRW12600002",
            "Walk My Walk (Club Mix)",
            "DistroKid",
            "FR",
            "stream",
            0,
            "-12.5000000000",
        ),
        line(
            "USRW12600003", "Second Skin", "Apple Music", "CA", "stream", 120_553, "843.8710000001"
        ),
        line("USRW12600003", "Second Skin", "YouTube", "US", "ugc", 77_001, "57.7507500000"),
        line(
            "USRW12600001",
            "Walk My Walk",
            "Spotify",
            "US",
            "stream",
            0,
            "0.0000000004",
            role="curator",
            share="1/20",
            rule="wmw-split@2#curator-assist",
        ),
    ]
    return build_statement(
        party,
        lines,
        opening=D("1200.4500000000"),
        adjustments=(
            Movement(
                "2026-10-20",
                "correction",
                "September Deezer line re-attributed",
                usd("31.2500000000"),
            ),
        ),
        fees=(
            Movement(
                "2026-10-31",
                "distribution_fee",
                "Distribution fee 1% of earnings",
                usd("1089.3600000000"),
            ),
        ),
        payments=(
            Movement(
                "2026-10-15",
                "payment",
                "Payment for September 2026 (SEPA)",
                usd("1200.0000000000"),
            ),
        ),
    )


def licensor_statement() -> Statement:
    """A training-data licensor paid from a licensor pool by attribution weight."""
    party = PartyInfo(
        id="L-NORTHWIND",
        name="Northwind Songs Publishing",
        kind="training_data_licensor",
        email="royalties@northwind.example",
    )
    weight = Fraction(1271, 10000)
    lines = [
        line(
            isrc,
            title,
            src,
            terr,
            "stream",
            qty,
            amount,
            role="training_data_licensor",
            share="3/100",
            rule="ai-licensor-pool@1#pool",
            weight=weight,
        )
        for (isrc, title), src, terr, qty, amount in [
            (TRACKS[0], "Spotify", "US", 18_204_331, "208.1427330000"),
            (TRACKS[0], "Apple Music", "GB", 4_002_113, "106.8138333333"),
            (TRACKS[1], "Spotify", "AU", 903_221, "10.3305555556"),
        ]
    ]
    return build_statement(party, lines, opening=D("12.3300000000"))


def cjk_statement() -> Statement:
    """A curator named in kanji, with an accented co-writer track title."""
    party = PartyInfo(id="P-YAMADA", name="山田太郎", kind="curator", email="taro@example.jp")
    lines = [
        line(
            "JPX0A2600001",
            "夜明けのリズム (Zoë Müller remix)",
            "LINE MUSIC",
            "JP",
            "stream",
            2_000_000,
            "912.4400000000",
            role="curator",
            share="10%",
            rule="yamada-curation@1#curator",
            code="JPY",
        ),
        line(
            "JPX0A2600001",
            "夜明けのリズム (Zoë Müller remix)",
            "Spotify 韓国",
            "KR",
            "stream",
            410_000,
            "150.0010000000",
            role="curator",
            share="10%",
            rule="yamada-curation@1#curator",
            code="JPY",
        ),
    ]
    return build_statement(party, lines, code="JPY", threshold=D(5000))


def below_threshold_statement() -> Statement:
    """A small licensor balance carried forward below the payment threshold."""
    party = PartyInfo(id="P-ZOE", name="Zoë Müller", kind="artist", isni="0000000359210022")
    lines = [
        line(
            "USRW12600003",
            "Second Skin",
            "Spotify",
            "DE",
            "stream",
            3_001,
            "9.0030000000",
            role="artist",
            share="5%",
            rule="second-skin@1#feature",
        ),
        line(
            "USRW12600003",
            "Second Skin",
            "Deezer",
            "FR",
            "stream",
            1_200,
            "3.1234567891",
            role="artist",
            share="5%",
            rule="second-skin@1#feature",
        ),
    ]
    return build_statement(party, lines, opening=D("17.2500000000"))


def long_statement(n_tracks: int = 40) -> Statement:
    """A producer with a large catalogue: enough lines for a three-page statement."""
    party = PartyInfo(
        id="P-CATALOGUE", name="Ngozi Okafor-Lindqvist", kind="producer", ipi="00523879512"
    )
    sources = ["Spotify", "Apple Music", "YouTube", "Amazon Music", "Deezer", "TIDAL"]
    territories = ["US", "GB", "DE", "FR", "CA", "AU", "JP", "BR", "SE", "NL", "MX", "ES"]
    usages = ["stream", "download", "ugc"]
    lines = []
    for i in range(n_tracks):
        for j in range(3):
            k = i * 3 + j
            lines.append(
                line(
                    f"GBXYZ26{i:05d}",
                    f"Track number {i + 1}",
                    sources[k % len(sources)],
                    territories[k % len(territories)],
                    usages[k % len(usages)],
                    1000 + 37 * k,
                    f"{(k * 7919) % 5000}.{(k * 104729) % 10**10:010d}",
                    rule=f"catalogue@3#t{i}",
                )
            )
    return build_statement(
        party,
        lines,
        unrecouped=D("25000"),
        recoupments=(
            Movement(
                "2026-10-31",
                "recoupment",
                "Advance of 2025-01 recouped from earnings",
                usd("4000.0000000000"),
            ),
        ),
    )


ALL_BUILDERS = [
    producer_statement,
    licensor_statement,
    cjk_statement,
    below_threshold_statement,
    long_statement,
]


# ---------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("build", ALL_BUILDERS)
def test_every_builder_gives_a_consistent_statement(build) -> None:
    statement = build()
    assert reconcile(statement) == ()
    s = statement.summary
    assert s.closing == s.payable_now + s.carried_forward


def test_totals_are_exact_sums_of_lines() -> None:
    statement = producer_statement()
    lines = statement.lines
    for totals, key in (
        (totals_by_source(lines), "source"),
        (totals_by_territory(lines), "territory"),
        (totals_by_usage(lines), "usage"),
    ):
        assert {t.key for t in totals} == {getattr(ln, key) for ln in lines}
        for group in totals:
            members = [ln for ln in lines if getattr(ln, key) == group.key]
            assert group.amount == usd(dsum(ln.amount for ln in members))
            assert group.quantity == sum(ln.quantity for ln in members)
        assert dsum(t.amount for t in totals) == dsum(ln.amount for ln in lines)
    spotify = next(t for t in totals_by_source(lines) if t.key == "Spotify")
    assert spotify.amount == usd("76906.6688004453")


def test_totals_do_not_depend_on_line_order() -> None:
    lines = producer_statement().lines
    backwards = tuple(reversed(lines))
    assert totals_by_source(lines) == totals_by_source(backwards)
    assert totals_by_track(lines) == totals_by_track(backwards)


def test_track_rows_keep_each_role_and_rule_apart() -> None:
    rows = totals_by_track(producer_statement().lines)
    wmw = [r for r in rows if r.isrc == "USRW12600001"]
    assert [(r.role, r.rule_ref) for r in wmw] == [
        ("curator", "wmw-split@2#curator-assist"),
        ("producer", "wmw-split@2#producer"),
    ]
    assert wmw[1].amount == usd("104736.3968004453")
    assert wmw[1].quantity == 18_204_331 + 6_120_004 + 4_002_113 + 2_500_000 + 812


def test_licensor_rows_carry_the_attribution_weight() -> None:
    rows = totals_by_track(licensor_statement().lines)
    assert {r.attribution_weight for r in rows} == {Fraction(1271, 10000)}


def test_a_summary_that_does_not_add_up_is_refused() -> None:
    statement = producer_statement()
    wrong = replace(statement.summary, earned=statement.summary.earned + usd("0.0000000001"))
    with pytest.raises(StatementMismatch, match=r"summary\.earned"):
        replace(statement, summary=wrong)


def test_a_payable_amount_with_sub_cent_digits_is_refused() -> None:
    statement = producer_statement()
    s = statement.summary
    wrong = replace(
        s,
        payable_now=s.payable_now + usd("0.001"),
        carried_forward=s.carried_forward - usd("0.001"),
    )
    with pytest.raises(StatementMismatch, match="minor units"):
        replace(statement, summary=wrong)


def test_a_float_amount_is_refused() -> None:
    statement = below_threshold_statement()
    bad = replace(statement.lines[0], amount=9.003)  # type: ignore[arg-type]
    with pytest.raises(StatementMismatch, match="float"):
        replace(statement, lines=(bad, *statement.lines[1:]))


def test_display_rounding_adds_a_rounding_line_when_needed() -> None:
    column = display_column([usd("0.005"), usd("0.005"), usd("0.005")], "USD")
    # Each row rounds half-even to 0.00; the exact total 0.015 rounds to 0.02.
    assert column.rows == (usd("0.00"), usd("0.00"), usd("0.00"))
    assert column.total == usd("0.02")
    assert column.rounding == usd("0.02")


def test_display_rounding_is_silent_when_the_rows_add_up() -> None:
    column = display_column([usd("1.004"), usd("2.001")], "USD")
    assert column.rows == (usd("1.00"), usd("2.00"))
    assert column.rounding == Money.zero("USD")
    assert column.total == usd("3.00")


def test_display_rounding_follows_the_currency() -> None:
    assert display_column([Money.of("1234.5", "JPY")], "JPY").total == Money.of("1234", "JPY")
    assert round_display(Money.of("1.2345", "KWD")) == Money.of("1.234", "KWD")


amounts = st.decimals(
    min_value=D("-1000000"),
    max_value=D("1000000"),
    places=10,
    allow_nan=False,
    allow_infinity=False,
)


@given(st.lists(amounts, max_size=40), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_displayed_column_always_adds_up(values: list[Decimal], code: str) -> None:
    column = display_column([Money(v, code) for v in values], code)
    minor = currency(code).minor
    assert {m.currency for m in (*column.rows, column.rounding, column.total)} == {code}
    rows = [m.amount for m in column.rows]
    rounding, shown_total = column.rounding.amount, column.total.amount
    assert sum(rows, D(0)) + rounding == shown_total
    assert abs(shown_total - sum(values, D(0))) <= minor / 2
    for shown, exact in zip(rows, values, strict=True):
        assert abs(shown - exact) <= minor / 2
        assert shown == shown.quantize(minor)
    assert rounding == rounding.quantize(minor)
    assert abs(rounding) <= minor / 2 * (len(values) + 1)


@given(st.lists(amounts, min_size=1, max_size=10))
def test_a_walk_column_adds_up_to_its_given_total(values: list[Decimal]) -> None:
    exact_total = sum(values, D(0))
    column = display_column([usd(v) for v in values], "USD", total_of=usd(exact_total))
    assert (
        usd(dsum(column.rows)) + column.rounding == column.total == round_display(usd(exact_total))
    )


line_strategy = st.builds(
    line,
    isrc=st.sampled_from(["USRW12600001", "USRW12600002", "USRW12600003"]),
    title=st.just("Walk My Walk"),
    source=st.sampled_from(["Spotify", "Apple Music", "YouTube"]),
    territory=st.sampled_from(["US", "GB", "DE"]),
    usage=st.sampled_from(["stream", "download", "ugc"]),
    quantity=st.integers(min_value=0, max_value=10**9),
    amount=amounts.map(str),
    role=st.sampled_from(["producer", "curator"]),
)


@given(st.lists(line_strategy, max_size=30))
def test_every_breakdown_sums_to_the_lines(lines: list[StatementLine]) -> None:
    exact = dsum(ln.amount for ln in lines)
    units = sum(ln.quantity for ln in lines)
    for totals in (
        totals_by_source(lines),
        totals_by_territory(lines),
        totals_by_usage(lines),
        totals_by_track(lines),
    ):
        assert all(t.amount.currency == "USD" for t in totals)
        assert dsum(t.amount for t in totals) == exact
        assert sum(t.quantity for t in totals) == units
    assert totals_by_source(lines) == totals_by_source(list(reversed(lines)))
