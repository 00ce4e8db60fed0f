"""Money: one way in from text, exact storage parts, currencies, named rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from ledger.domain.money import (
    Money,
    currency,
    from_units,
    parse_amount,
    parse_share,
    parts_to_units,
    to_text,
    to_units,
    units_to_parts,
    units_to_text,
)

amounts = st.decimals(
    min_value=Decimal("-999999999999999999.9999999999"),
    max_value=Decimal("999999999999999999.9999999999"),
    places=10,
    allow_nan=False,
    allow_infinity=False,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.50", Decimal("12.5")),
        ("-0.000003", Decimal("-0.000003")),
        ("0.0000000001", Decimal("1E-10")),
        ("99999999999.9999999999", Decimal("99999999999.9999999999")),
        ("1e-3", Decimal("0.001")),
        ("  7 ", Decimal(7)),
        ("1.50000000000000", Decimal("1.5")),
    ],
)
def test_parse_amount_is_exact(text: str, expected: Decimal) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "bad", ["0.00000000001", "NaN", "inf", "-Infinity", "", "1,234.50", "abc", "1e18"]
)
def test_parse_amount_refuses(bad: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(bad)


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(InvalidAmount, match="never a float"):
        parse_amount(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        parse_share(0.25)  # type: ignore[arg-type]


@given(amounts)
def test_storage_parts_round_trip(amount: Decimal) -> None:
    whole, frac = units_to_parts(to_units(amount))
    assert from_units(parts_to_units(whole, frac)) == amount
    assert Money.of_parts(whole, frac, "USD") == Money(amount, "USD")
    assert abs(frac) < 10**10
    assert whole == 0 or frac == 0 or (whole > 0) == (frac > 0)


@given(st.lists(amounts, max_size=20))
def test_summed_parts_equal_the_sum(values: list[Decimal]) -> None:
    parts = [units_to_parts(to_units(v)) for v in values]
    whole_sum, frac_sum = sum(p[0] for p in parts), sum(p[1] for p in parts)
    assert from_units(parts_to_units(whole_sum, frac_sum)) == sum(values, Decimal(0))


def test_currencies_know_their_minor_units() -> None:
    assert currency("usd").minor_units == 2
    assert currency("JPY").minor_units == 0
    assert currency("KWD").minor_units == 3
    with pytest.raises(UnknownCurrency):
        currency("XYZ")


def test_round_down_minor_is_toward_zero() -> None:
    assert Money.of("10.019999", "USD").round_down_minor() == Money.of("10.01", "USD")
    assert Money.of("-10.019999", "USD").round_down_minor() == Money.of("-10.01", "USD")
    assert Money.of("1234.9", "JPY").round_down_minor() == Money.of(1234, "JPY")
    assert Money.of("1234.9", "JPY").round_down_minor().amount == Decimal(1234)


def test_money_refuses_mixed_currencies() -> None:
    assert Money.of("1.10", "USD") + Money.of("2.20", "USD") == Money.of("3.30", "USD")
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "USD") + Money.of("1", "EUR")


def test_to_text_is_plain_and_stable() -> None:
    assert to_text(Decimal("1E-10")) == "0.0000000001"
    assert to_text(Decimal("12.5000000000")) == "12.50"
    assert to_text(Decimal("-0E-10")) == "0.00"
    assert to_text(Decimal(3)) == "3.00"


@given(st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1))
def test_units_to_text_is_to_text_of_the_amount(units: int) -> None:
    assert units_to_text(units) == to_text(from_units(units))


@pytest.mark.parametrize("units", [0, 1, -1, 10, 100, 10**10, -(10**10), 5 * 10**9, 12345])
def test_units_to_text_edges(units: int) -> None:
    assert units_to_text(units) == to_text(from_units(units))


def test_units_to_text_refuses_anything_but_an_integer() -> None:
    with pytest.raises(InvalidAmount):
        units_to_text(0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        units_to_text(Decimal(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("25%", Fraction(1, 4)),
        ("12.5 %", Fraction(1, 8)),
        ("1/3", Fraction(1, 3)),
        ("0.2", Fraction(1, 5)),
        (3, Fraction(3)),
    ],
)
def test_parse_share(text: str, share: Fraction) -> None:
    assert parse_share(text) == share


@pytest.mark.parametrize("bad", ["-5%", "1/0", "abc", "%"])
def test_parse_share_refuses(bad: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_share(bad)
