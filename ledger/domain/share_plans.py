"""Share plans: a resolved split sheet compiled into exact integer allocations.

A :class:`SharePlan` is what the rule engine (:mod:`ledger.domain.rules`)
resolves a line's context to: the fees, then the shares, without amounts. It
splits any amount of the context exactly: the amount is taken in units of
10^-10 and every division is one allocation by the rule of
:mod:`ledger.domain.allocation` (largest remainder, ties to the smallest key:
party id, role, kind, position), prepared once per plan as a
:class:`~ledger.domain.allocation.Splitter`. The percentage fees written before
a per-unit fee are one allocation of what is left (what goes on wins a tie),
then the per-unit fee is cut in whole units; the last percentage fees and the
split sheet are one final allocation. A negative amount is split as its
absolute value and mirrored, so a refund reverses the original parts exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from math import lcm
from typing import Final

from ledger.domain.agreements import Agreement, Fee, Rule
from ledger.domain.allocation import Splitter
from ledger.domain.errors import LedgerError
from ledger.domain.money import Money, format_share


@dataclass(frozen=True, slots=True)
class Part:
    """One party's part of a line.

    ``share``: for a share or pool part, its share of what is left after fees;
    for a percentage fee, the percentage; for a per-unit fee, its amount over
    the line's amount (0 on a zero line).
    """

    party_id: str
    role: str
    share: Fraction
    amount: Money
    rule_ref: str
    kind: str  # fee | share | pool
    attribution_weight: Fraction | None = None


@dataclass(frozen=True, slots=True)
class PlannedFee:
    party_id: str
    role: str
    rule_ref: str
    percent: Fraction | None
    per_unit_units: int | None  # rate in units of 10^-10
    cap: Fraction | None
    fee: Fee = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        """The fee's terms in words (built only when asked)."""
        return self.fee.describe()


@dataclass(frozen=True, slots=True)
class PlannedShare:
    party_id: str
    role: str
    share: Fraction  # of what is left after fees
    rule_ref: str
    kind: str  # share | pool
    attribution_weight: Fraction | None
    method: str  # how it was reached, e.g. "by declared contribution weight"
    pool_share: Fraction | None = None  # the role's share, for a pool member
    pool_weight: Fraction | None = None  # the member's weight within the pool

    @property
    def basis(self) -> str:
        """Why this share, in words (built only when asked)."""
        if self.pool_share is None or self.pool_weight is None:
            return self.method
        return (
            f"{format_share(self.pool_weight)} of the {self.role} pool "
            f"({format_share(self.pool_share)}) {self.method}"
        )


@dataclass(frozen=True, slots=True)
class SharePlan:
    """The resolved split for a context, without amounts; cached by :class:`Resolver`."""

    matched: str
    agreement: Agreement
    fees: tuple[PlannedFee, ...]
    shares: tuple[PlannedShare, ...]
    rule: Rule = field(repr=False, compare=False)
    # Allocation steps, precomputed from the fees' order (see :meth:`split_units`).
    _steps: tuple[_Step, ...] = field(repr=False, compare=False)
    _final: _Step = field(repr=False, compare=False)  # the split sheet (and last fees)

    @property
    def explanation(self) -> tuple[str, ...]:
        """The rule, fees and shares in words (built only when asked)."""
        rule = self.rule
        lines = [f"rule {self.matched} (priority {rule.priority}) applies: {rule.when.describe()}"]
        lines += [f"fee {f.rule_ref.rpartition(':')[2]}: {f.text}" for f in self.fees]
        lines += [
            f"{s.party_id} ({s.role}): {format_share(s.share)} of the split, {s.basis}"
            for s in self.shares
        ]
        return tuple(lines)

    def allocate(self, amount: Money, quantity: int = 0) -> tuple[Part, ...]:
        """The parts of ``amount``; they sum to it exactly (see :meth:`split_units`)."""
        units = amount.units
        code = amount.currency
        split = self.split_units(units, quantity)
        magnitude = -units if units < 0 else units
        parts: list[Part] = []
        n_fees = len(self.fees)
        for fee, fu in zip(self.fees, split, strict=False):
            if fee.percent is not None:
                share = fee.percent
            else:
                share = Fraction(abs(fu), magnitude) if magnitude else Fraction(0)
            parts.append(
                Part(
                    fee.party_id,
                    fee.role,
                    share,
                    Money.of_units(fu, code),
                    fee.rule_ref,
                    "fee",
                    None,
                )
            )
        for s, su in zip(self.shares, split[n_fees:], strict=True):
            parts.append(
                Part(
                    s.party_id,
                    s.role,
                    s.share,
                    Money.of_units(su, code),
                    s.rule_ref,
                    s.kind,
                    s.attribution_weight,
                )
            )
        return tuple(parts)

    def split_units(self, units: int, quantity: int = 0) -> list[int]:
        """Integer core of :meth:`allocate` for the split run, which holds amounts in
        units of 10^-10: one amount per fee, then per share, in the order of
        ``fees + shares``; they sum to ``units`` exactly.

        The fees split the work into steps: the percentage fees up to a
        per-unit fee are one allocation of what is left (the rest going on),
        then the per-unit fee is taken; the last percentage fees and the split
        sheet are one final allocation.
        """
        final = self._final
        if not self._steps and final.direct:
            # No per-unit fee and no zero share: one allocation gives every part.
            return final.splitter.split(units)  # type: ignore[union-attr]
        sign = -1 if units < 0 else 1
        magnitude = units * sign
        rest = magnitude
        out = [0] * self._size
        for step in self._steps:
            if step.splitter is not None:
                for pos, part in zip(step.positions, step.splitter.split(rest), strict=True):
                    if pos < 0:
                        rest = part
                    else:
                        out[pos] = part
            fee = step.per_unit
            if fee is not None:
                cut = (fee.per_unit_units or 0) * abs(quantity)
                if fee.cap is not None:
                    cut = min(cut, magnitude * fee.cap.numerator // fee.cap.denominator)
                cut = min(cut, rest)
                out[step.per_unit_pos] = cut
                rest -= cut
        if final.splitter is not None:
            for pos, part in zip(final.positions, final.splitter.split(rest), strict=True):
                out[pos] = part
        elif rest:
            raise LedgerError(f"{self.matched}: nothing to split {rest} units over")
        if sign < 0:
            return [-u for u in out]
        return out

    @property
    def splitter(self) -> Splitter[PartKey] | None:
        """The one allocation that gives every part (fees, then shares, in order) when
        the plan has no per-unit fee and no zero share; else None."""
        final = self._final
        return final.splitter if not self._steps and final.direct else None

    @property
    def _size(self) -> int:
        return len(self.fees) + len(self.shares)


PartKey = tuple[str, str, str, int]
_REST: Final[PartKey] = ("", "", "rest", 0)


@dataclass(frozen=True, slots=True)
class _Step:
    """One allocation of what is left of a line, then (optionally) a per-unit fee.

    ``positions``: where each of the splitter's parts goes in ``fees + shares``
    (-1: what is left, which goes on to the next step).
    """

    splitter: Splitter[PartKey] | None
    positions: tuple[int, ...] = ()
    per_unit: PlannedFee | None = None
    per_unit_pos: int = -1
    direct: bool = False  # the parts are exactly ``fees + shares``, in order


def int_weights(fractions: dict[PartKey, Fraction]) -> dict[PartKey, int]:
    denominator = lcm(*(f.denominator for f in fractions.values())) if fractions else 1
    return {k: f.numerator * (denominator // f.denominator) for k, f in fractions.items()}


def _allocation(weights: dict[PartKey, int], index: dict[PartKey, int]) -> _Step:
    """A step allocating by ``weights`` (keyed as in ``index``: position in the plan)."""
    if not weights:
        return _Step(None)
    positions = tuple(index.get(k, -1) for k in weights)
    return _Step(Splitter(weights), positions, direct=positions == tuple(range(len(index))))


def plan_steps(
    fees: Sequence[PlannedFee], share_weights: dict[PartKey, int], keys: Sequence[PartKey]
) -> tuple[tuple[_Step, ...], _Step]:
    """Group fees into allocation steps; the last step also holds the split sheet.

    ``share_weights`` are the split sheet's shares as integers over their sum;
    ``keys`` name the plan's parts, fees then shares.
    """
    index = {k: i for i, k in enumerate(keys)}
    steps: list[_Step] = []
    pending: dict[PartKey, Fraction] = {}
    carry = Fraction(1)
    for i, fee in enumerate(fees):
        key = (fee.party_id, fee.role, "fee", i)
        if fee.percent is not None:
            pending[key] = carry * fee.percent
            carry *= 1 - fee.percent
            continue
        step = _Step(None)
        if pending:
            pending[_REST] = carry
            step = _allocation(int_weights(pending), index)
        steps.append(replace(step, per_unit=fee, per_unit_pos=index[key]))
        pending, carry = {}, Fraction(1)
    if not pending:
        return tuple(steps), _allocation(share_weights, index)
    # Trailing percentage fees and the split sheet: one allocation. Over a common
    # denominator L: a fee gets its fraction of L, a share carry * its weight / total.
    total = sum(share_weights.values())
    whole = carry / total
    fractions = [f for f in pending.values() if f] + [whole]
    common = lcm(*(f.denominator for f in fractions))
    final = {k: f.numerator * (common // f.denominator) for k, f in pending.items() if f}
    scale = whole.numerator * (common // whole.denominator)
    for k, w in share_weights.items():
        if w and scale:
            final[k] = w * scale
    return tuple(steps), _allocation(final, index)
