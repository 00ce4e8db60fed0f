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
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Final

from ledger.domain.agreements import Agreement, Fee, Rule, ShareEntry
from ledger.domain.attribution import AttributionReport
from ledger.domain.catalog import Catalog, Contribution
from ledger.domain.errors import LedgerError
from ledger.domain.money import Money, format_share
from ledger.domain.periods import Period
from ledger.domain.share_plans import (
    Part,
    PartKey,
    PlannedFee,
    PlannedShare,
    SharePlan,
    int_weights,
    plan_steps,
)

EXAMPLE_AMOUNT: Final = Decimal("1000.00")


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
    period: Period
    amount: Money
    quantity: int = 0

    @property
    def currency(self) -> str:
        return self.amount.currency

    @classmethod
    def example(
        cls,
        isrc: str,
        period: Period,
        *,
        source: str = "any",
        territory: str = "WW",
        usage: str = "stream",
        currency: str = "USD",
        quantity: int = 0,
    ) -> LineContext:
        """A context for ``royalty agreements explain`` when some flags are left out:
        no store, worldwide, streams; the amount is the example's."""
        return cls(
            isrc, source, territory, usage, period, Money(EXAMPLE_AMOUNT, currency), quantity
        )

    def key(self) -> tuple[str, str, str, str, Period, str]:
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
class RuleCheck:
    """One rule considered for a line, and whether (and why) it matched."""

    rule_ref: str
    priority: int
    matched: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """The parts of one line, the rule that produced them, and why."""

    parts: tuple[Part, ...]
    matched: str
    plan: SharePlan = field(repr=False, compare=False)

    @property
    def explanation(self) -> tuple[str, ...]:
        return self.plan.explanation


Attribution = Mapping[Period, AttributionReport] | AttributionReport | None


@dataclass(frozen=True, slots=True)
class Selection:
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
        self, isrc: str, source: str, territory: str, usage: str, period: Period
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
        self.attribution: Mapping[Period, AttributionReport] = attribution or {}
        self._tracks: dict[str, tuple[int, int] | Unresolved] = {}
        self._ids: dict[tuple[object, ...], int] = {}
        self._rows: dict[Period, frozenset[str]] = {}
        self._selections: dict[tuple[object, ...], Selection | Unresolved] = {}
        self._plans: dict[tuple[object, ...], SharePlan | Unresolved] = {}
        self._sheets: dict[tuple[object, ...], tuple[list[PlannedShare], dict[PartKey, int]]] = {}
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
        self, isrc: str, source: str, territory: str, usage: str, period: Period, currency: str
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
            ctx = LineContext(isrc, source, territory, usage, period, Money.zero(currency))
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
                ctx = LineContext(isrc, source, territory, usage, period, Money.zero(currency))
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

    def _rows_for(self, period: Period) -> frozenset[str]:
        """Tracks with attribution rows of their own in the period's report."""
        report = self.attribution.get(period)
        rows = frozenset(w.isrc for w in report.weights if w.isrc) if report else frozenset()
        self._rows[period] = rows
        return rows

    def select_verbose(self, ctx: LineContext) -> Selection:
        """The rule chosen for a context, with every rule considered and why (for
        explanations; not cached)."""
        return self._select(ctx, verbose=True)

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

    def _select(self, ctx: LineContext, *, verbose: bool) -> Selection:
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
        return Selection(agreement, rule, fees, tuple(checks), tuple(lines), plan_id)

    # -- building a plan -------------------------------------------------

    def _build(self, ctx: LineContext, sel: Selection) -> SharePlan:
        agreement, rule = sel.agreement, sel.rule
        matched = f"{agreement.ref}#{rule.id}"
        fees = [self._plan_fee(fee, agreement, ctx) for fee in sel.fees]
        shares, share_weights = self._sheet(ctx, sel, matched)
        keys = [(f.party_id, f.role, "fee", i) for i, f in enumerate(fees)]
        keys += [(x.party_id, x.role, x.kind, i) for i, x in enumerate(shares)]
        steps, final = plan_steps(fees, share_weights, keys)
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
        self, ctx: LineContext, sel: Selection, matched: str
    ) -> tuple[list[PlannedShare], dict[PartKey, int]]:
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
            weights = int_weights(
                {(x.party_id, x.role, x.kind, i): x.share for i, x in enumerate(shares)}
            )
            found = (shares, weights)
            self._sheets[key] = found
        return found

    def _plan_fee(self, fee: Fee, agreement: Agreement, ctx: LineContext) -> PlannedFee:
        ref = f"{agreement.ref}#fee:{fee.id}"
        role = fee.role or self._role_of(ctx.isrc, fee.party_id)
        if fee.per_unit is not None:
            if fee.per_unit.currency != ctx.currency:
                raise FeeCurrencyMismatch(
                    f"fee {ref} is {fee.per_unit.currency} per unit but the line is in {ctx.currency}",
                    hint="convert the line to the ledger currency when importing",
                )
            return PlannedFee(fee.party_id, role, ref, None, fee.per_unit.units, fee.cap, fee)
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
