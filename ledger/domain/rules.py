"""Resolution: a revenue line's context plus the agreements in force give exact parts.

:func:`resolve` is a pure function. Given a line (track, source, territory,
usage type, period, amount, currency, quantity) it finds the one rule that
applies, takes the fees, divides the rest by the rule's split sheet and
returns :class:`Part` values whose amounts sum *exactly* to the line's amount
(refunds too), each naming the rule that produced it.

How a line is resolved, in order:

1. The track must be in the catalog; the agreements considered are those in
   force for the line's period whose scope covers the track, the highest
   version of each id.
2. Of their rules that match the line's source, territory, usage and period,
   the one with the highest priority applies. None: :class:`NoAgreement`;
   two of equal priority: :class:`AmbiguousRules`. The split service sends
   such a line (and one of an unknown track) to suspense.
3. The fees of that agreement whose conditions match are taken in the order
   written: a percentage of what is left at that point, or a rate per unit
   times the line's quantity, capped at ``cap`` of the line's amount and never
   more than what is left.
4. What is left is divided by the split sheet: a party's share; a role's pool
   divided by declared weights, equally, or by the period's attribution
   report (falling back to declared weights, then equal); ``remaining``.

Amounts: the line amount is taken in units of 10^-10 and every division is
one allocation by the rule of :mod:`ledger.domain.allocation` (largest remainder, ties
to the smallest key: party id, role, kind, position), prepared once per plan
as a :class:`~ledger.domain.allocation.Splitter`. The fees make steps:
the percentage fees written before a per-unit fee are one allocation of what
is left (what goes on wins a tie), then the per-unit fee is cut in whole
units; the last percentage fees and the split sheet are one final
allocation. A negative amount is resolved as its absolute value and mirrored,
so a refund reverses the original parts exactly.

The share plan (steps 1 to 4 without amounts) depends only on the line's
context, not its amount or quantity, so :class:`Resolver` caches it: the
rule chosen per group of tracks with the same agreements and per source,
territory, usage and period; the plan per choice and set of contributors.
A million distinct contexts cost a few thousand choices and plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Final

from ledger.domain.agreements import Agreement, Fee, Rule, ShareEntry
from ledger.domain.allocation import Splitter
from ledger.domain.attribution import AttributionReport
from ledger.domain.catalog import Catalog, Contribution
from ledger.domain.errors import LedgerError
from ledger.domain.money import (
    format_share,
    from_units,
    parse_amount,
    to_text,
    to_units,
)

EXAMPLE_AMOUNT: Final = Decimal("1000.00")
_NO_AMOUNT: Final = Decimal(0)  # a plan does not depend on the amount


class ResolutionError(LedgerError):
    """A line that cannot be split yet; the split service holds it in suspense."""

    code = "unresolved"
    title = "Line cannot be resolved"
    http_status = 422


class NoAgreement(ResolutionError):
    code = "no-agreement"
    title = "No agreement applies"


class AmbiguousRules(ResolutionError):
    code = "ambiguous-rules"
    title = "More than one rule applies"


class NoContributor(ResolutionError):
    code = "no-contributor"
    title = "A role's pool has nobody to divide among"


class FeeCurrencyMismatch(ResolutionError):
    code = "fee-currency-mismatch"
    title = "A per-unit fee is in another currency than the line"


@dataclass(frozen=True, slots=True)
class LineContext:
    """What the rule engine needs to know about one revenue line."""

    isrc: str
    source: str
    territory: str
    usage: str
    period: str
    amount: Decimal
    currency: str
    quantity: int = 0

    @classmethod
    def example(
        cls,
        isrc: str,
        period: str,
        *,
        source: str = "any",
        territory: str = "WW",
        usage: str = "stream",
        currency: str = "USD",
        quantity: int = 0,
    ) -> LineContext:
        """A context for ``royalty agreements explain`` when some flags are left out:
        no store, worldwide, streams; the amount is the example's."""
        return cls(isrc, source, territory, usage, period, EXAMPLE_AMOUNT, currency, quantity)

    def key(self) -> tuple[str, str, str, str, str, str]:
        """Everything that decides the share plan: all but amount and quantity."""
        return (
            self.isrc,
            self.source.casefold(),
            self.territory,
            self.usage,
            self.period,
            self.currency,
        )


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
    amount: Decimal
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
class RuleCheck:
    """One rule considered for a line, and whether (and why) it matched."""

    rule_ref: str
    priority: int
    matched: bool
    reason: str


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

    def allocate(self, amount: Decimal, quantity: int = 0) -> tuple[Part, ...]:
        """The parts of ``amount``; they sum to it exactly (see :meth:`split_units`)."""
        units = to_units(amount)
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
                Part(fee.party_id, fee.role, share, from_units(fu), fee.rule_ref, "fee", None)
            )
        for s, su in zip(self.shares, split[n_fees:], strict=True):
            parts.append(
                Part(
                    s.party_id,
                    s.role,
                    s.share,
                    from_units(su),
                    s.rule_ref,
                    s.kind,
                    s.attribution_weight,
                )
            )
        return tuple(parts)

    def split_units(self, units: int, quantity: int = 0) -> tuple[int, ...]:
        """Integer core of :meth:`allocate` for bulk paths that store units of 10^-10
        (see :func:`ledger.domain.money.to_parts`): one amount per fee, then per share, in the
        order of ``fees + shares``; they sum to ``units`` exactly.

        The fees split the work into steps: the percentage fees up to a
        per-unit fee are one allocation of what is left (the rest going on),
        then the per-unit fee is taken; the last percentage fees and the split
        sheet are one final allocation.
        """
        return tuple(self.split_list(units, quantity))

    def split_list(self, units: int, quantity: int = 0) -> list[int]:
        """:meth:`split_units` as a list (the split run's hot path)."""
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
    def splitter(self) -> Splitter[_Key] | None:
        """The one allocation that gives every part (fees, then shares, in order) when
        the plan has no per-unit fee and no zero share; else None."""
        final = self._final
        return final.splitter if not self._steps and final.direct else None

    @property
    def _size(self) -> int:
        return len(self.fees) + len(self.shares)


_Key = tuple[str, str, str, int]
_REST: Final[_Key] = ("", "", "rest", 0)


@dataclass(frozen=True, slots=True)
class _Step:
    """One allocation of what is left of a line, then (optionally) a per-unit fee.

    ``positions``: where each of the splitter's parts goes in ``fees + shares``
    (-1: what is left, which goes on to the next step).
    """

    splitter: Splitter[_Key] | None
    positions: tuple[int, ...] = ()
    per_unit: PlannedFee | None = None
    per_unit_pos: int = -1
    direct: bool = False  # the parts are exactly ``fees + shares``, in order


def _int_weights(fractions: dict[_Key, Fraction]) -> dict[_Key, int]:
    denominator = lcm(*(f.denominator for f in fractions.values())) if fractions else 1
    return {k: f.numerator * (denominator // f.denominator) for k, f in fractions.items()}


def _allocation(weights: dict[_Key, int], index: dict[_Key, int]) -> _Step:
    """A step allocating by ``weights`` (keyed as in ``index``: position in the plan)."""
    if not weights:
        return _Step(None)
    positions = tuple(index.get(k, -1) for k in weights)
    return _Step(Splitter(weights), positions, direct=positions == tuple(range(len(index))))


def _steps(
    fees: Sequence[PlannedFee], share_weights: dict[_Key, int], keys: Sequence[_Key]
) -> tuple[tuple[_Step, ...], _Step]:
    """Group fees into allocation steps; the last step also holds the split sheet.

    ``share_weights`` are the split sheet's shares as integers over their sum;
    ``keys`` name the plan's parts, fees then shares.
    """
    index = {k: i for i, k in enumerate(keys)}
    steps: list[_Step] = []
    pending: dict[_Key, Fraction] = {}
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
            step = _allocation(_int_weights(pending), index)
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


@dataclass(frozen=True, slots=True)
class Resolution:
    """The parts of one line, the rule that produced them, and why."""

    parts: tuple[Part, ...]
    matched: str
    plan: SharePlan = field(repr=False, compare=False)

    @property
    def explanation(self) -> tuple[str, ...]:
        return self.plan.explanation


Attribution = Mapping[str, AttributionReport] | AttributionReport | None


@dataclass(frozen=True, slots=True)
class _Selection:
    agreement: Agreement
    rule: Rule
    fees: tuple[Fee, ...]
    checks: tuple[RuleCheck, ...]
    reasons: tuple[str, ...]
    plan_id: int = 0  # the same agreement version, rule and fees have the same id


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why the lines of a context cannot be split (cached; the error is built per line)."""

    error: type[ResolutionError]
    message: str
    hint: str | None

    @classmethod
    def of(cls, exc: ResolutionError) -> Unresolved:
        return cls(type(exc), exc.message, exc.hint)

    @property
    def code(self) -> str:
        return self.error.code

    def for_line(
        self, isrc: str, source: str, territory: str, usage: str, period: str
    ) -> ResolutionError:
        """The error for one line, naming it."""
        where = f"ISRC {isrc} ({source}, {territory}, {usage}, {period})"
        return self.error(f"{where}: {self.message}", hint=self.hint)


class Resolver:
    """Resolves lines against fixed agreements, caching the share plan per distinct context.

    Holds only a cache derived from its immutable inputs; build one per split run.
    """

    def __init__(
        self,
        agreements: Sequence[Agreement],
        catalog: Catalog,
        attribution: Attribution = None,
    ) -> None:
        self.agreements = tuple(agreements)
        self.catalog = catalog
        if isinstance(attribution, AttributionReport):
            attribution = {attribution.period: attribution}
        self.attribution: Mapping[str, AttributionReport] = attribution or {}
        self._tracks: dict[str, tuple[int, int] | Unresolved] = {}
        self._ids: dict[tuple[object, ...], int] = {}
        self._rows: dict[str, frozenset[str]] = {}
        self._selections: dict[tuple[object, ...], _Selection | Unresolved] = {}
        self._plans: dict[tuple[object, ...], SharePlan | Unresolved] = {}
        self._sheets: dict[tuple[object, ...], tuple[list[PlannedShare], dict[_Key, int]]] = {}
        self._by_track: dict[str, tuple[Agreement, ...]] = {}

    def resolve(self, ctx: LineContext) -> Resolution:
        """Parts for one line; raises a :class:`ResolutionError` if it cannot be split."""
        plan = self.plan(ctx)
        return Resolution(plan.allocate(ctx.amount, ctx.quantity), plan.matched, plan)

    def plan(self, ctx: LineContext) -> SharePlan:
        """The share plan for a line's context (cached); raises :class:`ResolutionError`."""
        found = self.lookup(
            ctx.isrc, ctx.source, ctx.territory, ctx.usage, ctx.period, ctx.currency
        )
        if isinstance(found, Unresolved):
            raise found.for_line(ctx.isrc, ctx.source, ctx.territory, ctx.usage, ctx.period)
        return found

    def lookup(
        self, isrc: str, source: str, territory: str, usage: str, period: str, currency: str
    ) -> SharePlan | Unresolved:
        """The share plan for a context, or why it has none (cached; for bulk callers
        such as the split run, which hold revenue groups rather than line contexts).

        Three small caches instead of one per raw context: the track's candidate
        agreements (per ISRC), the rule and fees chosen (per group of tracks with
        the same candidates, source, territory, usage and period), and the plan
        (per choice, ISRC, period and currency). A million distinct contexts
        cost a few thousand choices and plans, and memory stays flat.
        """
        track = self._tracks.get(isrc)
        if track is None:
            track = self._track_for(isrc)
        if isinstance(track, Unresolved):
            return track
        group, signature = track
        skey = (group, source.casefold(), territory, usage, period)
        sel = self._selections.get(skey)
        ctx = None
        if sel is None:
            ctx = LineContext(isrc, source, territory, usage, period, _NO_AMOUNT, currency)
            try:
                sel = self._select(ctx, verbose=False)
            except ResolutionError as exc:
                sel = Unresolved.of(exc)
            self._selections[skey] = sel
        if isinstance(sel, Unresolved):
            return sel
        rows = self._rows.get(period)
        if rows is None:
            rows = self._rows_for(period)
        own = isrc if isrc in rows else ""
        pkey = (sel.plan_id, signature, period, currency, own)
        plan = self._plans.get(pkey)
        if plan is None:
            if ctx is None:
                ctx = LineContext(isrc, source, territory, usage, period, _NO_AMOUNT, currency)
            try:
                plan = self._build(ctx, sel)
            except ResolutionError as exc:
                plan = Unresolved.of(exc)
            self._plans[pkey] = plan
        return plan

    def _track_for(self, isrc: str) -> tuple[int, int] | Unresolved:
        """(group, signature) of a track: the ids of its candidate agreements and of its
        contributors (party, role, weight), which are all a plan depends on."""
        found: tuple[int, int] | Unresolved
        if not self.catalog.has_track(isrc):
            found = Unresolved(
                NoAgreement,
                "the track is not in the catalog",
                "add it to the catalog; the line waits in suspense",
            )
        else:
            refs = tuple(a.ref for a in self._candidates(isrc))
            group = self._ids.setdefault(("group", refs), len(self._ids))
            contributors = tuple(
                (c.party_id, c.role, c.weight) for c in self.catalog.contributions_for(isrc)
            )
            found = (group, self._ids.setdefault(("signature", contributors), len(self._ids)))
        self._tracks[isrc] = found
        return found

    def _rows_for(self, period: str) -> frozenset[str]:
        """Tracks with attribution rows of their own in the period's report."""
        report = self.attribution.get(period)
        rows = frozenset(w.isrc for w in report.weights if w.isrc) if report else frozenset()
        self._rows[period] = rows
        return rows

    @property
    def cached_choices(self) -> int:
        return len(self._selections)

    @property
    def cached_plans(self) -> int:
        return len(self._plans)

    # -- choosing the rule -----------------------------------------------

    def _candidates(self, isrc: str) -> tuple[Agreement, ...]:
        found = self._by_track.get(isrc)
        if found is None:
            track = self.catalog.track(isrc)
            found = tuple(a for a in self.agreements if a.scope.covers(track))
            self._by_track[isrc] = found
        return found

    def _select(self, ctx: LineContext, *, verbose: bool) -> _Selection:
        """The agreement, rule and fees that apply to a context (``verbose``: and why)."""
        if not self.catalog.has_track(ctx.isrc):
            raise NoAgreement(
                "the track is not in the catalog",
                hint="add it to the catalog; the line waits in suspense",
            )
        lines: list[str] = []
        if verbose:
            track = self.catalog.track(ctx.isrc)
            lines.append(
                f"track {track.isrc} {track.title!r} by {track.display_artist}"
                + (f", release {track.release_upc}" if track.release_upc else "")
            )
        current: dict[str, Agreement] = {}
        for a in self._candidates(ctx.isrc):
            if not a.in_force(ctx.period):
                if verbose:
                    lines.append(
                        f"{a.ref} covers the track but is not in force in {ctx.period} "
                        f"({a.effective_from} to {a.effective_to or 'open'})"
                    )
                continue
            old = current.get(a.id)
            if old is None or a.version > old.version:
                if old is not None and verbose:
                    lines.append(f"{old.ref} is superseded by {a.ref}")
                current[a.id] = a
            elif verbose:
                lines.append(f"{a.ref} is superseded by {old.ref}")
        if not current:
            raise NoAgreement(
                "no agreement in force covers the track",
                hint="load an agreement for it; the line waits in suspense",
            )
        checks: list[RuleCheck] = []
        matches: list[tuple[int, Agreement, Rule]] = []
        source, territory, usage, period = ctx.source, ctx.territory, ctx.usage, ctx.period
        for a in (
            sorted(current.values(), key=lambda x: x.id) if len(current) > 1 else current.values()
        ):
            if verbose:
                lines.append(f"{a.ref} ({a.title}) is in force and covers {a.scope.describe()}")
            for rule in a.rules:
                if rule.when.matches(source, territory, usage, period):
                    matches.append((rule.priority, a, rule))
                    if verbose:
                        checks.append(
                            RuleCheck(
                                f"{a.ref}#{rule.id}", rule.priority, True, rule.when.describe()
                            )
                        )
                elif verbose:
                    why = rule.when.why_not(source, territory, usage, period) or ""
                    checks.append(RuleCheck(f"{a.ref}#{rule.id}", rule.priority, False, why))
        if not matches:
            raise NoAgreement(
                f"no rule of {', '.join(a.ref for a in current.values())} matches",
                hint="add a rule without conditions, or one for this line",
            )
        top = max(p for p, _, _ in matches)
        tied = [(a, r) for p, a, r in matches if p == top]
        if len(tied) > 1:
            refs = " and ".join(f"{a.ref}#{r.id}" for a, r in tied)
            raise AmbiguousRules(
                f"{refs} both match with priority {top}",
                hint="give the narrower rule a higher priority",
            )
        agreement, rule = tied[0]
        fees = tuple(f for f in agreement.fees if f.when.matches(source, territory, usage, period))
        if verbose:
            matched = f"{agreement.ref}#{rule.id}"
            for c in checks:
                if c.matched and c.rule_ref != matched:
                    lines.append(
                        f"rule {c.rule_ref} (priority {c.priority}) also matches but is overridden"
                    )
                elif not c.matched:
                    lines.append(
                        f"rule {c.rule_ref} (priority {c.priority}) does not match: {c.reason}"
                    )
            for fee in agreement.fees:
                if fee not in fees:
                    fee_why = fee.when.why_not(source, territory, usage, period)
                    lines.append(f"fee {fee.id} does not apply: {fee_why}")
        plan_id = self._ids.setdefault(
            ("choice", agreement.ref, rule.id, tuple(f.id for f in fees)), len(self._ids)
        )
        return _Selection(agreement, rule, fees, tuple(checks), tuple(lines), plan_id)

    # -- building a plan -------------------------------------------------

    def _build(self, ctx: LineContext, sel: _Selection) -> SharePlan:
        agreement, rule = sel.agreement, sel.rule
        matched = f"{agreement.ref}#{rule.id}"
        fees = [self._plan_fee(fee, agreement, ctx) for fee in sel.fees]
        shares, share_weights = self._sheet(ctx, sel, matched)
        keys = [(f.party_id, f.role, "fee", i) for i, f in enumerate(fees)]
        keys += [(x.party_id, x.role, x.kind, i) for i, x in enumerate(shares)]
        steps, final = _steps(fees, share_weights, keys)
        return SharePlan(
            matched=matched,
            agreement=agreement,
            fees=tuple(fees),
            shares=tuple(shares),
            rule=rule,
            _steps=steps,
            _final=final,
        )

    def _sheet(
        self, ctx: LineContext, sel: _Selection, matched: str
    ) -> tuple[list[PlannedShare], dict[_Key, int]]:
        """The split sheet for a track: its shares and their integer weights (cached per
        rule and contributors: the fees vary by line, the sheet does not)."""
        track = self._tracks[ctx.isrc]
        if isinstance(track, Unresolved):  # a plan is built only for a track with a group
            raise track.for_line(ctx.isrc, ctx.source, ctx.territory, ctx.usage, ctx.period)
        rows = self._rows.get(ctx.period) or frozenset()
        key = (matched, track[1], ctx.period, ctx.isrc if ctx.isrc in rows else "")
        found = self._sheets.get(key)
        if found is None:
            rule = sel.rule
            shares: list[PlannedShare] = []
            remaining = 1 - rule.explicit_total
            for entry in rule.shares:
                share = entry.share if entry.share is not None else remaining
                shares.extend(self._plan_entry(entry, share, ctx, matched))
            shares = [x for x in shares if x.share]
            weights = _int_weights(
                {(x.party_id, x.role, x.kind, i): x.share for i, x in enumerate(shares)}
            )
            found = (shares, weights)
            self._sheets[key] = found
        return found

    def _plan_fee(self, fee: Fee, agreement: Agreement, ctx: LineContext) -> PlannedFee:
        ref = f"{agreement.ref}#fee:{fee.id}"
        role = fee.role or self._role_of(ctx.isrc, fee.party_id)
        if fee.per_unit is not None:
            if fee.currency != ctx.currency:
                raise FeeCurrencyMismatch(
                    f"fee {ref} is {fee.currency} per unit but the line is in {ctx.currency}",
                    hint="convert the line to the ledger currency when importing",
                )
            return PlannedFee(fee.party_id, role, ref, None, to_units(fee.per_unit), fee.cap, fee)
        return PlannedFee(fee.party_id, role, ref, fee.percent, None, None, fee)

    def _plan_entry(
        self, entry: ShareEntry, share: Fraction, ctx: LineContext, ref: str
    ) -> list[PlannedShare]:
        if entry.party_id is not None:
            role = entry.role or self._role_of(ctx.isrc, entry.party_id)
            basis = "named in the split sheet" + (" (remaining)" if entry.is_remaining else "")
            return [PlannedShare(entry.party_id, role, share, ref, "share", None, basis)]
        role = entry.role or "other"
        members = self.catalog.contributions_for(ctx.isrc, role)
        if not members:
            raise NoContributor(
                f"rule {ref} gives {format_share(share)} to the {role}s, "
                f"but no {role} contributes to the track",
                hint="add the contribution to the catalog",
            )
        weights, basis, attributed = self._pool_weights(entry, members, ctx)
        out = []
        for m in members:
            w = weights[m.party_id]
            out.append(
                PlannedShare(
                    m.party_id,
                    role,
                    share * w,
                    ref,
                    "pool",
                    w if attributed else None,
                    basis,
                    share,
                    w,
                )
            )
        return out

    def _pool_weights(
        self, entry: ShareEntry, members: Sequence[Contribution], ctx: LineContext
    ) -> tuple[dict[str, Fraction], str, bool]:
        if entry.divide_by == "attribution":
            report = self.attribution.get(ctx.period)
            found = report.weights_for(ctx.isrc, entry.model) if report is not None else None
            if found is not None:
                restricted = {m.party_id: found.get(m.party_id, Fraction(0)) for m in members}
                total = sum(restricted.values(), Fraction(0))
                if total:
                    model = f", model {entry.model}" if entry.model else ""
                    return (
                        {k: v / total for k, v in restricted.items()},
                        f"by the attribution report for {ctx.period}{model}",
                        True,
                    )
            fallback = f"without an attribution report for {ctx.period}, "
        else:
            fallback = ""
        if entry.divide_by != "equal" and all(m.weight is not None for m in members):
            total = sum((m.weight or Fraction(0) for m in members), Fraction(0))
            return (
                {m.party_id: (m.weight or Fraction(0)) / total for m in members},
                fallback + "by declared contribution weight",
                False,
            )
        n = len(members)
        return {m.party_id: Fraction(1, n) for m in members}, fallback + "in equal parts", False

    def _role_of(self, isrc: str, party_id: str) -> str:
        roles = self.catalog.roles_of(isrc, party_id)
        if roles:
            return roles[0]
        return "label" if party_id == self.catalog.operator_id else "other"


def resolve(
    ctx: LineContext,
    agreements: Sequence[Agreement],
    catalog: Catalog,
    attribution: Attribution = None,
) -> Resolution:
    """Resolve one line (no cache); use :class:`Resolver` for many lines."""
    return Resolver(agreements, catalog, attribution).resolve(ctx)


# ---------------------------------------------------------------------------
# Explanation for `royalty agreements explain`


@dataclass(frozen=True, slots=True)
class Explanation:
    """The resolved tree of one context: what matched and why, the shares, an example split."""

    context: LineContext
    matched: str
    checks: tuple[RuleCheck, ...]
    fees: tuple[PlannedFee, ...]
    shares: tuple[PlannedShare, ...]
    example_amount: Decimal
    example_quantity: int
    example_parts: tuple[Part, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: amounts and shares as strings (shares also as exact fractions)."""
        ctx = self.context
        return {
            "context": {
                "isrc": ctx.isrc,
                "source": ctx.source,
                "territory": ctx.territory,
                "usage": ctx.usage,
                "period": ctx.period,
                "currency": ctx.currency,
            },
            "matched": self.matched,
            "rules": [
                {
                    "rule": c.rule_ref,
                    "priority": c.priority,
                    "matched": c.matched,
                    "reason": c.reason,
                }
                for c in self.checks
            ],
            "fees": [{"rule": f.rule_ref, "party": f.party_id, "terms": f.text} for f in self.fees],
            "shares": [
                {
                    "party": s.party_id,
                    "role": s.role,
                    "share": format_share(s.share),
                    "share_exact": f"{s.share.numerator}/{s.share.denominator}",
                    "rule": s.rule_ref,
                    "kind": s.kind,
                    "attribution_weight": (
                        None if s.attribution_weight is None else format_share(s.attribution_weight)
                    ),
                    "basis": s.basis,
                }
                for s in self.shares
            ],
            "example": {
                "amount": to_text(self.example_amount),
                "quantity": self.example_quantity,
                "parts": [
                    {
                        "party": p.party_id,
                        "role": p.role,
                        "kind": p.kind,
                        "rule": p.rule_ref,
                        "amount": to_text(p.amount),
                    }
                    for p in self.example_parts
                ],
            },
            "reasons": list(self.reasons),
        }

    def render_text(self) -> str:
        ctx = self.context
        out = [
            f"{ctx.isrc}  source {ctx.source}  territory {ctx.territory}  usage {ctx.usage}"
            f"  period {ctx.period}",
            f"rule applied: {self.matched}",
            "",
            "why:",
            *(f"  {r}" for r in self.reasons),
            "",
            f"split of an example {_money2(self.example_amount)} {ctx.currency}"
            + (f" over {self.example_quantity:,} units" if self.example_quantity else "")
            + ":",
        ]
        if not self.example_quantity and any(f.per_unit_units for f in self.fees):
            out.append("  (per-unit fees are 0.00 here: give the example a quantity to see them)")
        width = max((len(p.party_id) + len(p.role) + 3 for p in self.example_parts), default=10)
        out.append(
            f"  {'party (role)':<{width}}  {'kind':<5}  {'share':>12}  {'amount':>12}  rule"
            "  (a fee's share is of the line, the others' of what is left after fees)"
        )
        for p in self.example_parts:
            who = f"{p.party_id} ({p.role})"
            weight = (
                f"  attribution {format_share(p.attribution_weight)}"
                if p.attribution_weight is not None
                else ""
            )
            out.append(
                f"  {who:<{width}}  {p.kind:<5}  {format_share(p.share):>12}  "
                f"{_money2(p.amount):>12}  {p.rule_ref}{weight}"
            )
        total = sum((p.amount for p in self.example_parts), Decimal(0))
        out.append(f"  {'total':<{width}}  {'':<5}  {'':>12}  {_money2(total):>12}")
        return "\n".join(out)


def _money2(amount: Decimal) -> str:
    """Display text with thousands separators; full precision kept when not whole cents."""
    text = to_text(amount)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{frac}"


def explain(
    ctx: LineContext,
    agreements: Sequence[Agreement],
    catalog: Catalog,
    attribution: Attribution = None,
    *,
    example: Decimal | str = EXAMPLE_AMOUNT,
    example_quantity: int | None = None,
) -> Explanation:
    """Explain how a context resolves, with the split of an example amount (1,000.00).

    Raises the same :class:`ResolutionError` as :func:`resolve` when nothing applies.
    """
    amount = parse_amount(example) if isinstance(example, str) else example
    quantity = ctx.quantity if example_quantity is None else example_quantity
    resolver = Resolver(agreements, catalog, attribution)
    selection = resolver._select(ctx, verbose=True)
    plan = resolver.plan(ctx)
    return Explanation(
        context=ctx,
        matched=plan.matched,
        checks=selection.checks,
        fees=plan.fees,
        shares=plan.shares,
        example_amount=amount,
        example_quantity=quantity,
        example_parts=plan.allocate(amount, quantity),
        reasons=selection.reasons + plan.explanation,
    )
