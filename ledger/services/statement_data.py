"""Statement data: one party's period, built from postings.

This module turns the journal into :class:`~ledger.domain.statement.Statement`
values; :mod:`ledger.services.statements` issues and serves them as files. Every figure is a sum of postings on the
party's ``payable:<party>`` account in entries whose period is the statement's
period (the *posting* period, so a correction of an earlier month that lands in
this one appears here):

* ``lines``: the party's split postings (memo ``earned``, or ``fee`` for a fee
  they receive) from the first split run of a period (entry kind ``split``) for
  usage in that period, one line per track, source, territory, usage type and
  rule. Role, share and attribution weight come from the agreements (the
  resolver's plan for the line's context, matched on the posting's
  ``rule_ref``); units come from the imported revenue lines of the same
  dimensions (0 when none, or when they net to a refund: the model keeps units
  non-negative).
* ``adjustments``: earnings that are not ordinary lines: usage of an earlier
  month reported late or corrected (shown with its usage period and units),
  split reruns (entry kind ``adjustment``), and any other movement.
* ``fees``: the party's part of the fees taken before the split (memo
  ``fees``), one movement per track and rule.
* ``recoupments`` and ``payments``: one movement per entry.

The summary comes from :func:`ledger.services.balances.balances` (one grouped query),
and :class:`Statement` checks that the listed items add up to it. One
decision: the payout *for* this period, when it is posted in this period, is
shown as "paid now" (``payable_now``), not as a payment made during the period;
``summary.paid`` holds the payouts of earlier statements. So a holder paid at
the close of the month reads "Payable now 8,870.70" and the closing balance is
what this statement settles: ``closing = payable_now + carried_forward``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from ledger.domain import accounts
from ledger.domain.agreements import Agreement
from ledger.domain.errors import NotFound
from ledger.domain.money import ZERO, Money, currency, parts_to_units
from ledger.domain.periods import Period
from ledger.domain.rules import LineContext, ResolutionError, Resolver, SharePlan
from ledger.domain.statement import (
    Movement,
    Operator,
    PartyInfo,
    Statement,
    StatementLine,
    Summary,
)
from ledger.services import balances
from ledger.store import documents, settings
from ledger.store.models import AccountingPeriod, Party, Track

# ---------------------------------------------------------------------------
# What stays the same for every party of one run


@dataclass(slots=True)
class StatementContext:
    """Catalog, agreements and resolvers loaded once for many statements.

    Only a cache of immutable inputs read in one session; build one per use case.
    """

    ledger_currency: str
    operator: Operator
    operator_id: str
    parties: dict[str, Party]
    titles: dict[str, str]
    agreements: tuple[Agreement, ...]
    resolver: Resolver
    catalog: Any
    attribution: Any
    _by_ref: dict[str, Resolver] = field(default_factory=dict)
    _terms: dict[tuple[object, ...], tuple[str, Fraction, Fraction | None] | None] = field(
        default_factory=dict
    )

    @classmethod
    def load(cls, session: Session) -> StatementContext:
        ccy = settings.ledger_currency(session)
        catalog = documents.current_catalog(session)
        agreements = documents.stored_agreements(session, catalog)
        attribution = documents.attribution_reports(session, catalog)
        parties = {p.id: p for p in session.scalars(select(Party))}
        titles = {t.isrc: t.title for t in session.scalars(select(Track))}
        op = parties.get(catalog.operator_id)
        ids: list[tuple[str, str]] = []
        if op is not None:
            ids += [(k, v) for k, v in (("IPI", op.ipi), ("ISNI", op.isni)) if v]
            if op.email:
                ids.append(("Email", op.email))
        operator = Operator(name=op.name if op else catalog.operator_id, ids=tuple(ids))
        return cls(
            ccy,
            operator,
            catalog.operator_id,
            parties,
            titles,
            agreements,
            Resolver(agreements, catalog, attribution),
            catalog,
            attribution,
        )

    def terms(
        self, party_id: str, memo: str, rule_ref: str, ctx: LineContext
    ) -> tuple[str, Fraction, Fraction | None]:
        """(role, share, attribution weight) that the agreement gave the party on a line.

        The resolver's plan for the line's context is searched for the posting's rule;
        when the agreements have changed since (a newer version in force), the
        version the posting names is resolved on its own. Unknown terms fall back to
        the party's role on the track and a share of 0 (shown, never invented).
        """
        key = (party_id, memo, rule_ref, ctx.key())
        if key not in self._terms:
            found = self._find(self.resolver, party_id, memo, rule_ref, ctx)
            if found is None:
                ref = rule_ref.split("#", 1)[0]
                if ref not in self._by_ref:
                    self._by_ref[ref] = Resolver(
                        [a for a in self.agreements if a.ref == ref], self.catalog, self.attribution
                    )
                found = self._find(self._by_ref[ref], party_id, memo, rule_ref, ctx)
            self._terms[key] = found
        found = self._terms[key]
        if found is None:
            roles = sorted(
                c.role
                for c in self.catalog.contributions
                if c.isrc == ctx.isrc and c.party_id == party_id
            )
            return (roles[0] if roles else "unknown", Fraction(0), None)
        return found

    @staticmethod
    def _find(
        resolver: Resolver, party_id: str, memo: str, rule_ref: str, ctx: LineContext
    ) -> tuple[str, Fraction, Fraction | None] | None:
        try:
            plan: SharePlan = resolver.plan(ctx)
        except ResolutionError:
            return None
        if memo == "fee":
            for f in plan.fees:
                if f.party_id == party_id and f.rule_ref == rule_ref:
                    return (f.role, f.percent if f.percent is not None else Fraction(0), None)
            return None
        for s in plan.shares:
            if s.party_id == party_id and s.rule_ref == rule_ref:
                return (s.role, s.share, s.attribution_weight)
        return None


# ---------------------------------------------------------------------------
# Building one statement


_POSTINGS = """
SELECT e.id, e.kind, e.source_ref, e.posted_at, e.description, e.hash,
       p.isrc, p.source, p.territory, p.usage, p.usage_period, p.rule_ref, p.memo,
       SUM(p.amount_whole), SUM(p.amount_frac)
FROM posting p
JOIN account a ON a.id = p.account_id
JOIN journal_entry e ON e.id = p.entry_id
WHERE a.code = :account AND e.period = :period AND p.currency = :ccy
GROUP BY e.id, e.kind, e.source_ref, e.posted_at, e.description, e.hash,
         p.isrc, p.source, p.territory, p.usage, p.usage_period, p.rule_ref, p.memo
ORDER BY e.id
"""

_QUANTITIES = """
SELECT i.period, l.isrc, l.source, l.territory, l.usage, l.usage_period, SUM(l.quantity)
FROM revenue_line l JOIN revenue_import i ON i.id = l.import_id
WHERE i.period IN ({periods}) AND i.status = 'posted' AND l.currency = :ccy
  AND l.isrc IN ({isrcs})
GROUP BY i.period, l.isrc, l.source, l.territory, l.usage, l.usage_period
"""

_EARNED = ("earned", "fee", "no agreement")
_QtyKey = tuple[
    str, str, str, str, str, str
]  # split period, isrc, source, territory, usage, usage period


@dataclass(frozen=True, slots=True)
class _Row:
    entry_id: int
    kind: str
    source_ref: str
    date: str
    description: str
    hash: str
    isrc: str
    source: str
    territory: str
    usage: str
    usage_period: str
    rule_ref: str
    memo: str
    units: int  # signed as posted: debit +, credit -

    @property
    def split_period(self) -> str | None:
        ref = self.source_ref
        return ref[6:] if ref.startswith("split:") else None


def _rows(session: Session, party_id: str, period: Period, ccy: str) -> list[_Row]:
    out = []
    for r in session.execute(
        text(_POSTINGS),
        {"account": accounts.payable(party_id), "period": period.code, "ccy": ccy},
    ):
        units = parts_to_units(r[13], r[14])
        if units:
            out.append(
                _Row(
                    int(r[0]),
                    r[1],
                    r[2] or "",
                    (r[3] or "")[:10],
                    r[4] or "",
                    r[5] or "",
                    r[6] or "",
                    r[7] or "",
                    r[8] or "",
                    r[9] or "",
                    r[10] or "",
                    r[11] or "",
                    r[12] or "",
                    units,
                )
            )
    return out


def _quantities(session: Session, rows: Sequence[_Row], ccy: str) -> dict[_QtyKey, int]:
    periods = sorted({r.split_period for r in rows if r.split_period})
    isrcs = sorted({r.isrc for r in rows if r.split_period and r.isrc})
    if not periods or not isrcs:
        return {}
    params: dict[str, object] = {"ccy": ccy}
    params.update({f"p{i}": p for i, p in enumerate(periods)})
    params.update({f"i{i}": s for i, s in enumerate(isrcs)})
    sql = _QUANTITIES.format(
        periods=", ".join(f":p{i}" for i in range(len(periods))),
        isrcs=", ".join(f":i{i}" for i in range(len(isrcs))),
    )
    return {
        (p, isrc, src, terr, usage, uperiod): int(q)
        for p, isrc, src, terr, usage, uperiod, q in session.execute(text(sql), params)
    }


def _is_line(row: _Row) -> bool:
    """An ordinary earnings line: the first split of a period, for usage in that period."""
    split = row.split_period
    return (
        row.kind == "split"
        and split is not None
        and row.memo in ("earned", "fee")
        and row.usage_period in ("", split)
    )


def build_statement(
    session: Session,
    party_id: str,
    period: Period,
    *,
    context: StatementContext | None = None,
) -> Statement:
    """The party's statement for ``period``; every figure a sum of postings (module doc).

    Raises :class:`NotFound` for a party not in the catalog (or the operator, who
    has no statement).
    """
    ctx = context or StatementContext.load(session)
    party = ctx.parties.get(party_id)
    if party is None or party.is_operator:
        raise NotFound(
            f"party {party_id!r} is not a rights-holder in the catalog",
            hint="see `royalty balances` for the parties with statements",
        )
    ccy = ctx.ledger_currency
    rows = _rows(session, party_id, period, ccy)
    quantities = _quantities(session, rows, ccy)

    # -- lines
    line_units: dict[tuple[str, str, str, str, str, str, str], int] = defaultdict(int)
    line_qty: dict[tuple[str, str, str, str, str, str, str], set[_QtyKey]] = defaultdict(set)
    adjust: dict[tuple[str, str, str], int] = defaultdict(int)
    fees: dict[tuple[str, str, str], int] = defaultdict(int)
    recoupments: list[Movement] = []
    payments: list[Movement] = []
    paid_now_units = 0
    for row in rows:
        if _is_line(row):
            split = row.split_period or period.code
            key = (row.isrc, row.source, row.territory, row.usage, row.rule_ref, row.memo, split)
            line_units[key] -= row.units
            line_qty[key].add(
                (split, row.isrc, row.source, row.territory, row.usage, row.usage_period or split)
            )
        elif row.memo in _EARNED:
            adjust[_adjust_key(row, ctx, quantities)] -= row.units
        elif row.memo == "fees":
            fees[_fee_key(row, ctx)] += row.units
        elif row.memo == "recouped":
            recoupments.append(
                Movement(
                    row.date,
                    "recoupment",
                    f"Advance recouped from earnings (entry #{row.entry_id})",
                    Money.of_units(row.units, ccy),
                )
            )
        elif row.memo == "paid":
            if row.source_ref == f"payout:{period}" and row.units > 0:
                paid_now_units += row.units
                continue
            payments.append(
                Movement(
                    row.date,
                    "payment",
                    f"{row.description} (entry #{row.entry_id})",
                    Money.of_units(row.units, ccy),
                )
            )
        else:
            adjust[(row.date, row.kind, f"{row.description} (entry #{row.entry_id})")] -= row.units

    lines = []
    for key in sorted(line_units):
        isrc, source, territory, usage, rule_ref, memo, split = key
        line_ctx = LineContext(
            isrc, source, territory, usage, Period.of_code(split), Money.zero(ccy)
        )
        role, share, weight = ctx.terms(party_id, memo, rule_ref, line_ctx)
        quantity = sum(quantities.get(k, 0) for k in line_qty[key])
        lines.append(
            StatementLine(
                isrc=isrc,
                track_title=ctx.titles.get(isrc, isrc or "(no track)"),
                role=role,
                share=share,
                rule_ref=rule_ref,
                attribution_weight=weight,
                source=source,
                territory=territory,
                usage=usage,
                quantity=max(quantity, 0),
                amount=Money.of_units(line_units[key], ccy),
            )
        )
    adjustments = tuple(
        Movement(date, kind, description, Money.of_units(u, ccy))
        for (date, kind, description), u in sorted(adjust.items())
        if u
    )
    fee_moves = tuple(
        Movement(date, "fees", description, Money.of_units(u, ccy))
        for (date, description, _), u in sorted(fees.items(), key=lambda kv: kv[0][2])
        if u
    )

    # -- summary (balances' one grouped query) and what is paid now
    found = [
        b for b in balances.balances(session, period=period, party=party_id) if b.currency == ccy
    ]
    paid_now = Money.of_units(paid_now_units, ccy)
    if found:
        b = found[0]
        opening, earned, fee_total = b.opening, b.earned + b.other, b.fees
        recouped, paid = b.recouped, b.paid - paid_now
        ledger_closing, advance = b.closing, b.advance_outstanding
    else:
        opening = earned = fee_total = recouped = paid = ledger_closing = advance = Money.zero(ccy)
    closing = ledger_closing + paid_now
    carried = closing - paid_now
    reason = _carry_reason(party, paid_now, carried, advance, closing)
    summary = Summary(
        opening=opening,
        earned=earned,
        fees=fee_total,
        recouped=recouped,
        paid=paid,
        closing=closing,
        payable_now=paid_now,
        carried_forward=carried,
        carry_reason=reason,
    )
    return Statement(
        operator=ctx.operator,
        party=PartyInfo(
            id=party.id,
            name=party.name,
            kind=_party_kind(party, lines),
            ipi=party.ipi,
            isni=party.isni,
            email=party.email,
        ),
        period=period,
        currency=ccy,
        summary=summary,
        lines=tuple(lines),
        adjustments=adjustments,
        fees=fee_moves,
        recoupments=tuple(recoupments),
        payments=tuple(payments),
        generated_from=_generated_from(session, rows, period),
        issued_on=_issued_on(session, period, rows),
        statement_id=f"ST-{period}-{party.id}",
    )


def _adjust_key(
    row: _Row, ctx: StatementContext, quantities: dict[_QtyKey, int]
) -> tuple[str, str, str]:
    """(date, kind, description) of an earnings movement that is not an ordinary line."""
    title = ctx.titles.get(row.isrc, row.isrc or "(no track)")
    where = ", ".join(x for x in (row.source, row.territory, row.usage) if x)
    if row.kind == "adjustment" or (row.split_period is None):
        return (
            row.date,
            "adjustment",
            f"{row.description}: {title} ({row.isrc}), {where}, usage {row.usage_period}, "
            f"{row.rule_ref}",
        )
    split = row.split_period or ""
    qty = quantities.get(
        (split, row.isrc, row.source, row.territory, row.usage, row.usage_period), 0
    )
    kind = "correction" if qty < 0 or row.units > 0 else "earlier usage"
    return (
        split,
        kind,
        f"{title} ({row.isrc}), {where}, usage {row.usage_period}: {qty:,} units, "
        f"reported in {split}; {row.rule_ref}",
    )


def _fee_key(row: _Row, ctx: StatementContext) -> tuple[str, str, str]:
    title = ctx.titles.get(row.isrc, row.isrc or "(no track)")
    when = ""
    if row.kind == "adjustment":
        when = f", adjustment entry #{row.entry_id}"
    elif row.split_period and row.usage_period not in ("", row.split_period):
        when = f", usage {row.usage_period}"
    description = f"Share of fees before the split: {title} ({row.isrc}), {row.rule_ref}{when}"
    order = f"{row.isrc}|{row.rule_ref}|{row.kind}|{row.usage_period}|{row.entry_id:012d}"
    if not when:
        order = f"{row.isrc}|{row.rule_ref}"
    return (row.split_period or row.date, description, order)


def _party_kind(party: Party, lines: Iterable[StatementLine]) -> str:
    """What the party is to the reader: their roles on this statement, else their kind."""
    roles = sorted({ln.role for ln in lines})
    return ", ".join(roles) if roles else party.kind


def _carry_reason(
    party: Party, paid_now: Money, carried: Money, advance: Money, closing: Money
) -> str | None:
    """Why what is not paid now stays in the balance (the same tests as ledger.services.payouts)."""
    ccy = closing.currency
    minor = currency(ccy).minor
    if advance.sign > 0:
        return f"advance not yet recouped ({advance.round_down_minor()} remaining)"
    if not carried:
        return None
    if closing.sign < 0:
        return "negative balance, recovered from future earnings"
    if paid_now.sign > 0:
        return f"the remainder under {minor} {ccy} stays in your balance"
    payable = closing.round_down_minor()
    threshold = Money(party.payout_threshold or ZERO, ccy)
    if payable.sign <= 0:
        return f"less than {minor} {ccy}, too little to pay"
    if payable < threshold:
        return f"below threshold of {threshold}"
    return "not paid yet: no payout has been recorded for this period"


def _generated_from(session: Session, rows: Sequence[_Row], period: Period) -> tuple[str, ...]:
    """What an auditor traces the figures to: entries (with the last hash), runs, imports."""
    if not rows:
        return ("no postings in this period",)
    ids = sorted({r.entry_id for r in rows})
    last = max(rows, key=lambda r: r.entry_id)
    out = [f"journal entries {_id_list(ids)} (entry #{last.entry_id} hash {last.hash[:16]})"]
    splits = sorted({r.split_period for r in rows if r.split_period})
    if splits:
        params = {f"p{i}": p for i, p in enumerate(splits)}
        runs = [
            int(r[0])
            for r in session.execute(
                text(
                    "SELECT DISTINCT id FROM split_run WHERE posted_in = :period AND period IN ("
                    + ", ".join(f":p{i}" for i in range(len(splits)))
                    + ") ORDER BY id"
                ),
                {"period": period.code, **params},
            )
        ]
        if runs:
            out.append("split runs " + _id_list(runs))
        imports = [
            int(r[0])
            for r in session.execute(
                text(
                    "SELECT id FROM revenue_import WHERE status = 'posted' AND period IN ("
                    + ", ".join(f":p{i}" for i in range(len(splits)))
                    + ") ORDER BY id"
                ),
                params,
            )
        ]
        if imports:
            out.append("revenue imports " + _id_list(imports))
    return tuple(out)


def _id_list(ids: Sequence[int]) -> str:
    """``#1-#4, #7`` for [1, 2, 3, 4, 7]."""
    parts: list[str] = []
    start = prev = ids[0]
    for i in [*ids[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(f"#{start}" if start == prev else f"#{start}-#{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)


def _issued_on(session: Session, period: Period, rows: Sequence[_Row]) -> str | None:
    """The close date of a closed period; else the date of the latest posting shown."""
    row = session.get(AccountingPeriod, period)
    if row is not None and row.status == "closed" and row.closed_at is not None:
        return row.closed_at.strftime("%Y-%m-%d")
    return max((r.date for r in rows), default=None)


# ---------------------------------------------------------------------------
# Who gets a statement


def parties_with_activity(session: Session, period: Period) -> list[str]:
    """Rights-holders with a posting in ``period`` or a balance (or advance) to report."""
    ccy = settings.ledger_currency(session)
    operator = settings.get(session, settings.OPERATOR)
    out = set()
    for b in balances.balances(session, period=period):
        if b.party_id == operator or b.currency != ccy:
            continue
        figures = (
            b.opening,
            b.earned,
            b.fees,
            b.recouped,
            b.paid,
            b.other,
            b.closing,
            b.advance_outstanding,
        )
        if any(figures):
            out.add(b.party_id)
    active = session.execute(
        text(
            "SELECT DISTINCT a.party_id FROM posting p JOIN account a ON a.id = p.account_id "
            "JOIN journal_entry e ON e.id = p.entry_id "
            "WHERE a.party_id IS NOT NULL AND e.period = :period"
        ),
        {"period": period.code},
    )
    out.update(r[0] for r in active if r[0] != operator)
    return sorted(out)


def has_statement(session: Session, party_id: str, period: Period) -> bool:
    """The one-party form of :func:`parties_with_activity`."""
    operator = settings.get(session, settings.OPERATOR)
    if party_id == operator:
        return False
    for b in balances.balances(session, period=period, party=party_id):
        if any(
            (
                b.opening,
                b.earned,
                b.fees,
                b.recouped,
                b.paid,
                b.other,
                b.closing,
                b.advance_outstanding,
            )
        ):
            return True
    return (
        session.execute(
            text(
                "SELECT 1 FROM posting p JOIN account a ON a.id = p.account_id "
                "JOIN journal_entry e ON e.id = p.entry_id "
                "WHERE a.party_id = :party AND e.period = :period LIMIT 1"
            ),
            {"party": party_id, "period": period.code},
        ).first()
        is not None
    )
