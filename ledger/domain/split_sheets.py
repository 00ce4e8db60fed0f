"""Split sheets: a period's revenue groups turned into the legs a split run posts (pure).

A split run (:mod:`ledger.services.splits`) reads undistributed revenue per
track and *group* (source, territory, usage type, usage period, currency) and
asks this module what should have been posted for it in total:

* each group takes its revenue from ``revenue:undistributed``;
* the fees of the matching rule go to their recipients (memo ``fee``);
* each shareholder gets their share plus their part of the fees (``earned``)
  and gives that part back on one leg per track and usage month (``fees``), so
  every statement figure is a sum of postings;
* the operator's parts go to income; a group no agreement covers goes to
  suspense with the reason (``no agreement``), never dropped.

The run compares that with what earlier runs posted and posts the
:func:`difference`. A split run applies a few share plans to hundreds of
thousands of groups, so each plan is compiled once into a :class:`Sheet` of
integer slots, and amounts stay integer units of 10^-10 throughout.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from operator import add, neg
from typing import Any, Final

from ledger.domain import accounts
from ledger.domain.allocation import Splitter
from ledger.domain.entries import Leg
from ledger.domain.periods import Period
from ledger.domain.rules import Resolver, SharePlan, Unresolved

EARNED, FEES, FEE, SUSPENSE = "earned", "fees", "fee", "no agreement"
EARNED_MEMOS: Final = frozenset({EARNED, FEE, SUSPENSE})  # memos of what a party earns

# (account, isrc, source, territory, usage, usage_period, currency, rule_ref, memo)
LegKey = tuple[str, str, str, str, str, str, str, str, str]
Group = tuple[
    str, str, str, str, str, str
]  # isrc, source, territory, usage, usage_period, currency


def account_for(party_id: str, operator: str, kind: str) -> str:
    if party_id == operator:
        return accounts.FEES if kind == "fee" else accounts.SHARE
    return accounts.payable(party_id)


# A leg of a group, as (account, rule_ref, memo); its dimensions are the group's.
_Slot = tuple[str, str, str]


@dataclass(frozen=True, slots=True, eq=False)
class Sheet:
    """A share plan (or a reason for suspense) compiled for posting groups.

    Every group gets the legs in ``slots`` (slot 0: the undistributed revenue it
    takes), with the group's dimensions; parts of the plan that land on the same
    leg share a slot. Shareholders also get their part of the fees on a FEES leg
    per track and usage month. A split run applies a few sheets to many groups,
    so accounts, refs and the allocations are worked out once here.
    """

    slots: tuple[_Slot, ...]
    # per account, its slots in (rule_ref, memo) order, as (slot, rule_ref, memo) with
    # None for an empty text, as legs hold them
    by_account: dict[str, tuple[tuple[int, str | None, str | None], ...]]
    plan: SharePlan | None = None
    fee_slots: tuple[int, ...] = ()  # slot of each fee
    share_slots: tuple[int, ...] = ()  # slot of each share
    shares: tuple[tuple[str, str], ...] = ()  # (account, rule_ref) of each share
    burden: Splitter[int] | None = None  # the fees, in proportion to the shares
    # the plan's one allocation, if it has one; ``plain``: slots 1.. are fees + shares
    splitter: Splitter[Any] | None = None
    plain: bool = False

    @staticmethod
    def _layout(
        slots: list[_Slot],
    ) -> tuple[dict[_Slot, int], dict[str, tuple[tuple[int, str | None, str | None], ...]]]:
        """Slots numbered (the same leg once) and listed per account in key order."""
        index = {slot: i for i, slot in enumerate(dict.fromkeys(slots))}
        by_account: dict[str, list[tuple[int, str | None, str | None]]] = defaultdict(list)
        for (account, rule_ref, memo), i in sorted(index.items()):
            by_account[account].append((i, rule_ref or None, memo or None))
        return index, {a: tuple(v) for a, v in by_account.items()}

    @classmethod
    def for_plan(cls, plan: SharePlan, operator: str) -> Sheet:
        fee_slots = [(account_for(f.party_id, operator, "fee"), f.rule_ref, FEE) for f in plan.fees]
        shares = [(account_for(s.party_id, operator, "share"), s.rule_ref) for s in plan.shares]
        share_slots = [(account, ref, EARNED) for account, ref in shares]
        index, by_account = cls._layout([_UNDISTRIBUTED, *fee_slots, *share_slots])
        weights = [s.share for s in plan.shares]
        if not any(weights):
            weights = [Fraction(1)] * len(weights)
        common = lcm(*(w.denominator for w in weights))
        burden = Splitter({i: int(w * common) for i, w in enumerate(weights)}) if weights else None
        parts = tuple(index[s] for s in fee_slots + share_slots)
        return cls(
            slots=tuple(index),
            by_account=by_account,
            plan=plan,
            fee_slots=parts[: len(fee_slots)],
            share_slots=parts[len(fee_slots) :],
            shares=tuple(shares),
            burden=burden if plan.fees else None,
            splitter=plan.splitter,
            plain=parts == tuple(range(1, len(index))),
        )

    @classmethod
    def for_suspense(cls, code: str) -> Sheet:
        index, by_account = cls._layout(
            [_UNDISTRIBUTED, (accounts.SUSPENSE, f"suspense:{code}", SUSPENSE)]
        )
        return cls(slots=tuple(index), by_account=by_account)

    def values(self, units: int, quantity: int) -> tuple[list[int], list[int] | None]:
        """Signed units per slot for a group of ``units`` revenue, and each share's part
        of the fees (None without fees or shares)."""
        plan = self.plan
        if plan is None:  # suspense
            return [units, -units], None
        splitter = self.splitter
        # fees first, then shares, in order
        split = splitter.split(units) if splitter is not None else plan.split_units(units, quantity)
        if self.plain:  # one slot per part: the common case, in list operations
            n_fees = len(self.fee_slots)
            fee_units = split[0] if n_fees == 1 else sum(split[:n_fees])
            if not fee_units or self.burden is None:
                return [units, *map(neg, split)], None
            burden = self.burden.split(fee_units)
            fees, shares = split[:n_fees], split[n_fees:]
            return [units, *map(neg, fees), *map(neg, map(add, shares, burden))], burden
        values = [0] * len(self.slots)
        values[0] = units
        fee_units = 0
        for slot, part in zip(self.fee_slots, split, strict=False):
            values[slot] -= part
            fee_units += part
        n_fees = len(self.fee_slots)
        if not fee_units or self.burden is None:
            for slot, part in zip(self.share_slots, split[n_fees:], strict=True):
                values[slot] -= part
            return values, None
        burden = self.burden.split(fee_units)
        for slot, part, fee_part in zip(self.share_slots, split[n_fees:], burden, strict=True):
            values[slot] -= part + fee_part
        return values, burden


_UNDISTRIBUTED: Final[_Slot] = (accounts.UNDISTRIBUTED, "", "")


class Sheets:
    """The sheets of one run: per share plan (the resolver caches plans) and per reason."""

    def __init__(self, resolver: Resolver, operator: str) -> None:
        self.lookup = resolver.lookup
        self.operator = operator
        self._plans: dict[int, tuple[SharePlan, Sheet]] = {}  # id(plan): the plan is kept
        self._suspense: dict[str, Sheet] = {}

    def of(self, plan: SharePlan) -> Sheet:
        found = self._plans.get(id(plan))
        if found is None:
            found = self._plans[id(plan)] = (plan, Sheet.for_plan(plan, self.operator))
        return found[1]

    def suspense(self, code: str) -> Sheet:
        found = self._suspense.get(code)
        if found is None:
            found = self._suspense[code] = Sheet.for_suspense(code)
        return found


@dataclass(slots=True)
class TrackSplit:
    """One track's split: per group (sorted) its sheet and slot values, and the
    shareholders' parts of the fees per (account, usage period, currency, rule_ref)."""

    isrc: str
    groups: list[tuple[Group, Sheet, list[int]]]
    fees: dict[tuple[str, str, str, str], int]
    suspense: int
    reasons: list[str]

    def desired(self) -> dict[LegKey, int]:
        """Signed units per leg key, zeros left out (every key comes from one slot)."""
        legs: dict[LegKey, int] = {}
        for group, sheet, values in self.groups:
            for (account, rule_ref, memo), units in zip(sheet.slots, values, strict=True):
                if units:
                    legs[(account, *group, rule_ref, memo)] = units
        for (account, uperiod, ccy, rule_ref), units in self.fees.items():
            if units:
                legs[(account, self.isrc, "", "", "", uperiod, ccy, rule_ref, FEES)] = units
        return legs

    def legs(self) -> list[Leg]:
        """The legs in key order, as :meth:`desired` sorted, built without sorting.

        Order of keys: account, then the group's dimensions, rule_ref and memo.
        Within an account the groups come sorted and a sheet's slots are in
        (rule_ref, memo) order; the FEES legs (no source) come first, which holds
        when every group has a source (the caller checks).
        """
        isrc = self.isrc or None
        names = {a for _, sheet, _ in self.groups for a in sheet.by_account}
        fees_by_account: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
        for (account, month, ccy, ref), units in sorted(self.fees.items()):
            if units:
                fees_by_account[account].append((month, ccy, ref, units))
                names.add(account)
        rows = [
            (g[5], g[1] or None, g[2] or None, g[3] or None, g[4] or None, sheet, values)
            for g, sheet, values in self.groups
        ]
        out: list[Leg] = []
        append = out.append
        for account in sorted(names):
            for month, ccy, ref, units in fees_by_account.get(account, ()):
                append(
                    Leg(
                        account,
                        units,
                        ccy,
                        isrc,
                        None,
                        None,
                        None,
                        ref or None,
                        FEES,
                        month or None,
                    )
                )
            for ccy, src, terr, usage, uperiod, sheet, values in rows:
                found = sheet.by_account.get(account)
                if found is None:
                    continue
                for i, rule_ref, memo in found:
                    units = values[i]
                    if units:
                        append(
                            Leg(
                                account, units, ccy, isrc, src, terr, usage, rule_ref, memo, uperiod
                            )
                        )
        return out


def split_track(
    isrc: str, groups: dict[Group, tuple[int, int]], sheets: Sheets, max_reasons: int = 20
) -> TrackSplit:
    """Split one track's groups (pure): each by its sheet, or to suspense with a reason
    (the first ``max_reasons`` of them in words)."""
    burdens: dict[tuple[Sheet, str, str], list[int]] = {}  # per sheet, month, currency
    done: list[tuple[Group, Sheet, list[int]]] = []
    suspense = 0
    reasons: list[str] = []
    lookup = sheets.lookup
    for group in sorted(groups):
        units, quantity = groups[group]
        _, src, terr, usage, uperiod, ccy = group
        plan = lookup(group[0], src, terr, usage, Period.of_code(uperiod), ccy)
        if isinstance(plan, Unresolved):
            sheet = sheets.suspense(plan.code)
            suspense += units
            if len(reasons) < max_reasons:
                error = plan.for_line(group[0], src, terr, usage, Period.of_code(uperiod))
                reasons.append(f"{group[0]} {src} {terr} {usage} {uperiod}: {error.message}")
            done.append((group, sheet, [units, -units]))
            continue
        sheet = sheets.of(plan)
        values, burden = sheet.values(units, quantity)
        done.append((group, sheet, values))
        if burden is not None:
            # A holder's part of the fees is kept per track and usage month, not
            # per source and territory: it is one figure on their statement, and
            # it keeps the split's posting count close to one leg per share.
            key = (sheet, uperiod, ccy)
            summed = burdens.get(key)
            burdens[key] = burden if summed is None else list(map(add, summed, burden))
    fees: dict[tuple[str, str, str, str], int] = {}
    for (sheet, uperiod, ccy), burden in burdens.items():
        for (account, rule_ref), part in zip(sheet.shares, burden, strict=True):
            leg = (account, uperiod, ccy, rule_ref)
            fees[leg] = fees.get(leg, 0) + part
    return TrackSplit(isrc, done, fees, suspense, reasons)


def desired_postings(
    groups: dict[Group, tuple[int, int]], resolver: Resolver, operator: str
) -> tuple[dict[LegKey, int], int, list[str]]:
    """What the split of these groups should have posted in total (pure).

    Returns the legs (signed units per key), the units sent to suspense, and
    the reasons lines went to suspense. Each group takes its revenue from
    ``revenue:undistributed``; the fees go to their recipients (``fee``), each
    shareholder gets their share plus their part of the fees (``earned``) and
    gives that part back on a leg per track and usage month (``fees``). A
    group no agreement covers goes to suspense.
    """
    sheets = Sheets(resolver, operator)
    by_track: dict[str, dict[Group, tuple[int, int]]] = defaultdict(dict)
    for group, value in groups.items():
        by_track[group[0]][group] = value
    legs: dict[LegKey, int] = {}
    suspense = 0
    reasons: list[str] = []
    for isrc in sorted(by_track):
        track = split_track(isrc, by_track[isrc], sheets, 20 - len(reasons))
        legs.update(track.desired())
        suspense += track.suspense
        reasons += track.reasons
    return legs, suspense, reasons


def difference(desired: dict[LegKey, int], already: dict[LegKey, int]) -> list[Leg]:
    """The legs that bring what is posted (``already``) to ``desired``, in key order."""
    delta = {k: desired.get(k, 0) - already.get(k, 0) for k in desired.keys() | already.keys()}
    return [
        Leg(
            k[0],
            u,
            k[6],
            k[1] or None,
            k[2] or None,
            k[3] or None,
            k[4] or None,
            k[7] or None,
            k[8] or None,
            k[5] or None,
        )
        for k, u in sorted(delta.items())
        if u
    ]
