"""Rates file and conversion: exact rates, one named rounding, a missing rate is an error."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import InputError, InvalidAmount
from ledger.domain.fx import MissingRate, Rates, UnitConverter, convert, parse_rates
from ledger.domain.money import MONEY_CONTEXT, from_units, to_units
from ledger.domain.periods import Period
from tests.fixtures_revenue import RATES_CSV


def test_rates_file_is_read_exactly() -> None:
    rates = parse_rates(RATES_CSV, "rates.csv", base="USD")
    assert rates.period == Period(2026, 10)
    assert rates.period.code == "2026-10"
    assert rates.base == "USD"
    assert dict(rates.rates) == {
        "CAD": Decimal("0.7301"),
        "EUR": Decimal("1.0812"),
        "GBP": Decimal("1.2644"),
    }


def test_convert_matches_the_tunecore_sample() -> None:
    rates = parse_rates(RATES_CSV, "rates.csv", base="USD")
    assert convert(Decimal("1995.548"), "EUR", rates) == (
        Decimal("2157.5864976"),
        Decimal("1.0812"),
    )


def test_convert_rounds_half_even_at_ten_places() -> None:
    rates = parse_rates("period,currency,rate\n2026-10,EUR,0.5\n", "r.csv", base="USD")
    assert convert(Decimal("0.0000000001"), "EUR", rates)[0] == Decimal("0E-10")
    assert convert(Decimal("0.0000000003"), "EUR", rates)[0] == Decimal("2E-10")
    assert convert(Decimal("-0.0000000003"), "EUR", rates)[0] == Decimal("-2E-10")


def test_base_currency_converts_at_one() -> None:
    rates = parse_rates(RATES_CSV, "rates.csv", base="USD")
    assert convert(Decimal("12.5"), "usd", rates) == (Decimal("12.5"), Decimal(1))


def test_a_result_beyond_the_ledger_range_is_refused() -> None:
    rates = parse_rates("period,currency,rate\n2026-10,VND,100000000\n", "r.csv", base="USD")
    with pytest.raises(InvalidAmount, match="too large"):
        convert(Decimal("10000000000000"), "VND", rates)


def test_missing_rate_names_currency_and_period() -> None:
    rates = parse_rates(RATES_CSV, "rates.csv", base="USD")
    with pytest.raises(MissingRate) as caught:
        convert(Decimal("1"), "JPY", rates)
    assert "JPY" in str(caught.value) and "2026-10" in str(caught.value)
    assert "rates.csv" in str(caught.value)


def test_base_column_in_the_file() -> None:
    rates = parse_rates("period,base,currency,rate\n2026-10,EUR,USD,0.92\n", "r.csv")
    assert (rates.base, rates.rate("USD")) == ("EUR", Decimal("0.92"))
    with pytest.raises(InputError, match="ledger currency is USD"):
        parse_rates("period,base,currency,rate\n2026-10,EUR,USD,0.92\n", "r.csv", base="USD")


def test_every_problem_in_a_rates_file_is_reported() -> None:
    text = (
        "period,currency,rate\n2026-10,EUR,1.08\n2026-10,EUR,1.09\n2026-11,GBP,1.2\n"
        "2026-10,EURO,1\n2026-10,CAD,1,5\n2026-10,JPY,-1\n2026-10,CHF,1e\n"
    )
    with pytest.raises(InputError) as caught:
        parse_rates(text, "r.csv", base="USD")
    where = {(p.line, p.field) for p in caught.value.problems}
    assert {
        (3, "currency"),
        (5, "currency"),
        (6, None),
        (7, "rate"),
        (8, "rate"),
        (None, "period"),
    } <= where


def test_rates_file_needs_a_base_and_a_header() -> None:
    # No base given and no base column: the rates convert into the ledger currency,
    # bound (and checked) once the ledger is known.
    unbound = parse_rates(RATES_CSV, "r.csv")
    assert unbound.base is None
    bound = unbound.for_ledger("USD")
    assert bound == parse_rates(RATES_CSV, "r.csv", base="USD")
    assert bound.base == "USD"
    with_base = parse_rates("period,base,currency,rate\n2026-10,EUR,USD,0.92\n", "r.csv")
    with pytest.raises(InputError, match="ledger currency is USD"):
        with_base.for_ledger("USD")
    with pytest.raises(InputError, match="header"):
        parse_rates("when,what,how\n", "r.csv", base="USD")
    with pytest.raises(InputError, match="empty"):
        parse_rates("", "r.csv", base="USD")


@given(
    units=st.integers(min_value=-(10**20), max_value=10**20),  # up to 10^10 whole units
    rate_units=st.integers(min_value=1, max_value=10**12),
    rate_scale=st.integers(min_value=4, max_value=12),  # rates up to 10^8: results < 10^18
)
def test_convert_is_the_exact_product_rounded_once(
    units: int, rate_units: int, rate_scale: int
) -> None:
    amount = Decimal(units).scaleb(-10)
    rate_text = f"{Decimal(rate_units).scaleb(-rate_scale):f}"
    rates = parse_rates(f"period,currency,rate\n2026-10,EUR,{rate_text}\n", "r.csv", base="USD")
    converted, rate = convert(amount, "EUR", rates)
    assert rate == Decimal(rate_text)
    exact = MONEY_CONTEXT.multiply(amount, rate)  # 21 + 12 digits: wider than the default 28
    assert abs(converted - exact) <= Decimal("0.00000000005")
    assert converted == exact.quantize(Decimal("1E-10"), rounding=ROUND_HALF_EVEN)


def _converted(units: int, rates: Rates) -> int | type[Exception]:
    try:
        return to_units(convert(from_units(units), "EUR", rates)[0])
    except (InvalidAmount, ArithmeticError) as exc:
        return type(exc)


def _unit_converted(units: int, rates: Rates) -> int | type[Exception]:
    try:
        return UnitConverter("EUR", rates)(units)
    except (InvalidAmount, ArithmeticError) as exc:
        return type(exc)


@given(
    units=st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1),
    rate_units=st.integers(min_value=1, max_value=10**40),
    rate_exponent=st.integers(min_value=-45, max_value=10),
)
def test_unit_converter_is_convert_in_units(
    units: int, rate_units: int, rate_exponent: int
) -> None:
    # Any rate: short ones take the integer path, long ones (and results out of range)
    # go through convert() itself; either way the result or the error is convert()'s.
    rate = Decimal(rate_units).scaleb(rate_exponent)
    rates = Rates(Period(2026, 10), "USD", MappingProxyType({"EUR": rate}))
    assert _unit_converted(units, rates) == _converted(units, rates)
    assert UnitConverter("EUR", rates).rate == rates.rate("EUR") == rate


@pytest.mark.parametrize("rate", ["0.5", "1.5", "2.5", "0.25", "1.0812", "3", "1E+2"])
@pytest.mark.parametrize("units", [-7, -5, -3, -1, 0, 1, 3, 5, 7, 10**27, -(10**27)])
def test_unit_converter_rounds_ties_to_even(rate: str, units: int) -> None:
    rates = Rates(Period(2026, 10), "USD", MappingProxyType({"EUR": Decimal(rate)}))
    assert _unit_converted(units, rates) == _converted(units, rates)


def test_unit_converter_missing_rate_and_base() -> None:
    rates = parse_rates(RATES_CSV, "rates.csv", base="USD")
    with pytest.raises(MissingRate, match="JPY"):
        UnitConverter("JPY", rates)
    assert UnitConverter("USD", rates)(123) == 123
