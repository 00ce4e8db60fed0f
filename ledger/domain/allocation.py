"""Exact allocation: split an amount by weights into parts that always sum to it.

This is the one function every split in the product goes through (a DSR
summary over its usage lines, a revenue line over its rights-holders, a pool
over its licensors).

The rule, written once:

1. Work in integer units of ``10^-scale``. Weights (int, Decimal, Fraction, or
   text such as ``"25%"``) are made exact fractions of their total.
2. Each part gets the floor of its exact share of ``abs(amount)``.
3. The leftover units (fewer than the number of parts) go one each to the parts
   with the largest remainder; ties go to the smallest key. Keys are compared,
   never their position in the input, so the same inputs in any order give
   every party the same part.
4. A negative amount (a refund) is allocated as its absolute value and negated,
   so a refund mirrors the original payment exactly.

With ``remaining=KEY`` the weights are shares of the whole (they may sum to at
most 1) and ``KEY`` receives the rest, rounding included in the same rule.
Every part is within one unit of its exact share.

:class:`Splitter` is the same rule for one set of integer weights applied to
many amounts (a split run applies a few split sheets to hundreds of thousands
of revenue groups): the weights' total and the keys' order are worked out once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Any, Generic, Protocol, TypeVar

from ledger.domain.errors import AllocationError
from ledger.domain.money import (
    MONEY_CONTEXT,
    SCALE,
    Money,
    check_amount,
    format_share,
    parse_share,
)


class _Orderable(Hashable, Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Orderable)
Weight = int | Decimal | Fraction | str


def _as_fraction(weight: Weight, key: object) -> Fraction:
    return parse_share(weight, what=f"weight of {key}")


def allocate(
    amount: Money,
    weights: Mapping[K, Weight] | Iterable[tuple[K, Weight]],
    *,
    scale: int = SCALE,
    remaining: K | None = None,
) -> dict[K, Money]:
    """Split ``amount`` by ``weights`` into parts summing exactly to ``amount``.

    Parts are whole multiples of 10^-``scale`` (the ledger's 10^-10 by default; 2
    for cents), so ``amount`` must be one too.

    Raises :class:`AllocationError` for duplicate keys, a total weight of zero
    with a non-zero amount, or shares over 100 % when ``remaining`` is given.
    """
    items = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
    fractions: dict[K, Fraction] = {}
    for key, weight in items:
        if key in fractions:
            raise AllocationError(f"allocation: {key!r} appears twice")
        fractions[key] = _as_fraction(weight, key)
    if remaining is not None:
        if remaining in fractions:
            raise AllocationError(
                f"allocation: {remaining!r} is both a share and the remaining part"
            )
        explicit = sum(fractions.values(), Fraction(0))
        if explicit > 1:
            raise AllocationError(
                f"allocation: shares sum to {format_share(explicit)}, over 100%",
                hint="lower the shares or remove 'remaining'",
            )
        fractions[remaining] = 1 - explicit
    return _allocate_fractions(amount, fractions, scale)


def allocate_units(total: int, weights: Mapping[K, int]) -> dict[K, int]:
    """Integer core of :func:`allocate`: split ``total`` units by integer weights
    (the rule of :class:`Splitter`, which holds the one implementation)."""
    if not weights:
        if total == 0:
            return {}
        raise AllocationError("allocation: nothing to allocate to")
    splitter = Splitter(weights)
    return dict(zip(splitter.keys, splitter.split(total), strict=True))


class Splitter(Generic[K]):
    """:func:`allocate_units` for fixed integer weights, prepared once for many amounts.

    ``split(total)`` gives the parts in the order of :attr:`keys` (the weights'
    order); they are exactly ``allocate_units(total, weights)``: floor of each
    exact share, the leftover units one each to the largest remainders, ties to
    the smallest key, a negative total mirrored.
    """

    __slots__ = ("_by_key", "_total", "_weights", "keys")

    def __init__(self, weights: Mapping[K, int]) -> None:
        total = 0
        for key, w in weights.items():
            if w < 0:
                raise AllocationError(f"allocation: weight of {key!r} is negative")
            total += w
        self.keys: tuple[K, ...] = tuple(weights)
        self._weights = tuple(weights.values())
        self._total = total
        # Positions, smallest key first: a stable sort by remainder over this
        # order gives equal remainders to the smallest key.
        keys = self.keys
        self._by_key = tuple(sorted(range(len(keys)), key=keys.__getitem__))

    def split(self, total: int) -> list[int]:
        """The parts of ``total`` units, in the order of :attr:`keys`; they sum to it."""
        wsum = self._total
        if not wsum:
            if total == 0:
                return [0] * len(self._weights)
            if not self._weights:
                raise AllocationError("allocation: nothing to allocate to")
            raise AllocationError(
                "allocation: all weights are zero", hint="give at least one a weight"
            )
        magnitude = -total if total < 0 else total
        products = [magnitude * w for w in self._weights]
        parts = [p // wsum for p in products]
        leftover = magnitude - sum(parts)
        if leftover:
            # At most one unit each, to the largest remainders; max() and a stable
            # sort keep the first of equal remainders in key order.
            remainders = [p % wsum for p in products]
            if leftover == 1:
                parts[max(self._by_key, key=remainders.__getitem__)] += 1
            else:
                ranked = sorted(self._by_key, key=remainders.__getitem__, reverse=True)
                for i in ranked[:leftover]:
                    parts[i] += 1
        if total < 0:
            return [-p for p in parts]
        return parts


def _allocate_fractions(
    amount: Money, fractions: Mapping[K, Fraction], scale: int
) -> dict[K, Money]:
    checked = check_amount(amount.amount, scale=scale)
    total_units = int(checked.scaleb(scale, context=MONEY_CONTEXT))
    denominator = lcm(*(f.denominator for f in fractions.values())) if fractions else 1
    int_weights = {k: f.numerator * (denominator // f.denominator) for k, f in fractions.items()}
    units = allocate_units(total_units, int_weights)
    code = amount.currency
    return {
        k: Money(Decimal(u).scaleb(-scale, context=MONEY_CONTEXT), code) for k, u in units.items()
    }
