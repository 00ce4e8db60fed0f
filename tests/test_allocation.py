"""Allocation: parts always sum to the whole; leftovers by a rule independent of order."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.allocation import Splitter, Weight, allocate, allocate_units
from ledger.domain.errors import AllocationError
from ledger.domain.money import Money, total

CENT = Decimal("0.01")


def usd(amount: str | int) -> Money:
    return Money.of(amount, "USD")


def test_ten_by_three_gives_the_extra_cent_to_the_smallest_key() -> None:
    parts = allocate(usd(10), {"c": 1, "a": 1, "b": 1}, scale=2)
    assert parts == {"a": usd("3.34"), "b": usd("3.33"), "c": usd("3.33")}


def test_largest_remainder_wins_before_key_order() -> None:
    # exact shares 0.0333.., 0.0666..: b has the larger remainder and gets the cent
    parts = allocate(usd("0.10"), {"a": 1, "b": 2}, scale=2)
    assert parts == {"a": usd("0.03"), "b": usd("0.07")}


def test_refund_mirrors_the_payment() -> None:
    pay = allocate(usd(10), {"a": 1, "b": 1, "c": 1}, scale=2)
    refund = allocate(usd(-10), {"a": 1, "b": 1, "c": 1}, scale=2)
    assert refund == {k: -v for k, v in pay.items()}


def test_zero_weights_get_nothing() -> None:
    parts = allocate(usd("1.00"), {"a": 0, "b": 1}, scale=2)
    assert parts == {"a": usd(0), "b": usd("1.00")}


def test_all_zero_weights_cannot_take_money() -> None:
    with pytest.raises(AllocationError, match="all weights are zero"):
        allocate(usd(1), {"a": 0, "b": 0})
    assert allocate(usd(0), {"a": 0}) == {"a": usd(0)}


def test_remaining_takes_the_rest_including_rounding() -> None:
    parts = allocate(usd(100), {"fee": "15%", "curator": "1/3"}, remaining="producer", scale=2)
    assert parts == {
        "fee": usd("15.00"),
        "curator": usd("33.33"),
        "producer": usd("51.67"),
    }
    assert total(parts.values(), "USD") == usd(100)


def test_shares_over_one_hundred_percent_are_refused() -> None:
    with pytest.raises(AllocationError, match="over 100%"):
        allocate(usd(1), {"a": "60%", "b": "50%"}, remaining="c")


def test_weights_in_every_form() -> None:
    weights: dict[str, Weight] = {
        "pct": "25%",
        "frac": Fraction(1, 4),
        "text": "1/4",
        "dec": Decimal("0.25"),
    }
    parts = allocate(usd(8), weights)
    assert set(parts.values()) == {usd(2)}


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(AllocationError, match="twice"):
        allocate(usd(1), [("a", 1), ("a", 2)])


weights_st = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.integers(min_value=0, max_value=10**6),
    min_size=1,
    max_size=12,
).filter(lambda w: sum(w.values()) > 0)
units_st = st.integers(min_value=-(10**15), max_value=10**15)


@given(units_st, weights_st)
def test_parts_sum_exactly_and_stay_within_one_unit(total: int, weights: dict[str, int]) -> None:
    parts = allocate_units(total, weights)
    assert sum(parts.values()) == total
    wsum = sum(weights.values())
    for key, part in parts.items():
        exact = Fraction(total * weights[key], wsum)
        assert abs(part - exact) < 1


@given(units_st, weights_st, st.randoms())
def test_order_of_inputs_does_not_matter(
    total: int, weights: dict[str, int], rnd: random.Random
) -> None:
    items = list(weights.items())
    rnd.shuffle(items)
    assert allocate_units(total, dict(items)) == allocate_units(total, weights)


@given(units_st, weights_st, st.randoms())
def test_a_prepared_splitter_gives_exactly_allocate_units(
    total: int, weights: dict[str, int], rnd: random.Random
) -> None:
    items = list(weights.items())
    rnd.shuffle(items)
    splitter = Splitter(dict(items))
    assert dict(zip(splitter.keys, splitter.split(total), strict=True)) == allocate_units(
        total, weights
    )


@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=9),
)
def test_splitter_ties_go_to_the_smallest_key_whatever_the_order(
    total: int, small: list[int]
) -> None:
    # small weights make many equal remainders; keys in reverse order
    weights = {f"k{i}": w for i, w in reversed(list(enumerate(small)))}
    if not any(small):
        return
    splitter = Splitter(weights)
    assert dict(zip(splitter.keys, splitter.split(total), strict=True)) == allocate_units(
        total, weights
    )


def test_splitter_refuses_what_allocate_units_refuses() -> None:
    with pytest.raises(AllocationError, match="negative"):
        Splitter({"a": -1})
    with pytest.raises(AllocationError, match="all weights are zero"):
        Splitter({"a": 0}).split(1)
    with pytest.raises(AllocationError, match="nothing to allocate"):
        Splitter({}).split(1)
    assert Splitter({"a": 0, "b": 0}).split(0) == [0, 0]


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=10, allow_nan=False),
    st.lists(st.sampled_from(["5%", "12.5%", "1/3", "1/7", "0.01", "2/9"]), min_size=1, max_size=5),
)
def test_decimal_amounts_with_remaining_sum_exactly(amount: Decimal, shares: list[str]) -> None:
    weights = {f"p{i}": s for i, s in enumerate(shares)}
    explicit = sum((Fraction(0) + _share(s) for s in shares), Fraction(0))
    money = Money(amount, "EUR")
    if explicit > 1:
        with pytest.raises(AllocationError):
            allocate(money, weights, remaining="rest")
        return
    parts = allocate(money, weights, remaining="rest")
    assert total(parts.values(), "EUR") == money
    assert sum((p.amount for p in parts.values()), Decimal(0)) == amount
    for part in parts.values():
        assert part.currency == "EUR"
        assert part.amount == part.amount.quantize(Decimal(1).scaleb(-10))


def _share(s: str) -> Fraction:
    from ledger.domain.money import parse_share

    return parse_share(s)
