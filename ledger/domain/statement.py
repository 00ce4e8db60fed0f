"""Statement data: what one party is told about one period, as frozen values.

A statement is the product as a rights-holder sees it, so every figure on it
must be provable. This module owns the *shape* of that data and the pure
arithmetic over it; the service fills it from postings, and ``reports/``
renders it (PDF, CSV) without running any query.

Conventions, written once:

* All amounts are :class:`~decimal.Decimal` at ledger scale (at most 10
  places), in the statement's one currency.
* The balance is what the operator owes the party. The summary reads
  ``closing = opening + earned - fees - recouped - paid``, where ``fees``,
  ``recouped`` and ``paid`` are positive when they reduce the balance.
* ``earned`` is the sum of the statement lines plus the adjustments, and
  ``fees``, ``recouped`` and ``paid`` are the sums of their movements, so
  every summary figure is a sum of listed items. :class:`Statement` refuses
  data that does not add up (:class:`StatementMismatch`).
* ``closing = payable_now + carried_forward``: what is paid now (already
  rounded down to the currency's minor unit by the service) and what stays
  in the balance, with ``carry_reason`` saying why.

Display rounding happens only here (:func:`display_column`): each figure is
rounded half-even to the currency's minor unit, and when the rounded figures
do not add up to the rounded total a separate ``rounding`` figure is shown,
so a reader's sum of the displayed column always equals the displayed total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TypeVar

from ledger.domain.errors import LedgerError
from ledger.domain.money import MONEY_CONTEXT, ZERO, check_amount, currency
from ledger.domain.periods import parse_period


class StatementMismatch(LedgerError):
    """Statement data whose figures are not the sums they claim to be (a service bug)."""

    code = "statement-mismatch"
    title = "Statement figures do not add up"
    http_status = 500


# ---------------------------------------------------------------------------
# The data


@dataclass(frozen=True, slots=True)
class Operator:
    """The label or distributor issuing the statement; ``ids`` are (scheme, value) pairs
    such as ("DPID", "PADPIDA2026...") in the order they should be shown."""

    name: str
    ids: tuple[tuple[str, str], ...] = ()
    address: str | None = None


@dataclass(frozen=True, slots=True)
class PartyInfo:
    """The rights-holder the statement is for, with the identifiers a society would check."""

    id: str
    name: str
    kind: str
    ipi: str | None = None
    isni: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The balance walk of the period, plus what is paid now and what is carried forward."""

    opening: Decimal
    earned: Decimal
    fees: Decimal
    recouped: Decimal
    paid: Decimal
    closing: Decimal
    payable_now: Decimal
    carried_forward: Decimal
    carry_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StatementLine:
    """The party's earnings from one track, through one rule, from one source, territory
    and usage type: a sum of postings, at full ledger precision.

    ``rule_ref`` names the agreement rule that set the share (``agreement@version#rule``);
    ``attribution_weight`` is the weight a training-data licensor had in the period's
    attribution report (``None`` for every other role).
    """

    isrc: str
    track_title: str
    role: str
    share: Fraction
    rule_ref: str
    attribution_weight: Fraction | None
    source: str
    territory: str
    usage: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Movement:
    """A balance movement that is not a split line: an adjustment, fee, recoupment or
    payment. ``date`` is an ISO date or a period; ``amount`` has the sign the summary
    uses (fees, recoupments and payments are positive when they reduce the balance)."""

    date: str
    kind: str
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    """One party's statement for one period, complete and self-consistent.

    ``generated_from`` lists what the figures came from (a ledger hash, split run
    ids) so an auditor can trace them; ``issued_on`` is given, never taken from
    the clock, so the same data renders to the same bytes.
    """

    operator: Operator
    party: PartyInfo
    period: str
    currency: str
    summary: Summary
    lines: tuple[StatementLine, ...] = ()
    adjustments: tuple[Movement, ...] = ()
    fees: tuple[Movement, ...] = ()
    recoupments: tuple[Movement, ...] = ()
    payments: tuple[Movement, ...] = ()
    generated_from: tuple[str, ...] = ()
    issued_on: str | None = None
    locale: str = "en_US"
    statement_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", parse_period(self.period))
        object.__setattr__(self, "currency", currency(self.currency).code)
        problems = reconcile(self)
        if problems:
            raise StatementMismatch(
                f"statement for {self.party.id} {self.period}: " + "; ".join(problems),
                hint="every summary figure must be the sum of the items listed",
            )


# ---------------------------------------------------------------------------
# Checks


def reconcile(statement: Statement) -> tuple[str, ...]:
    """Every way the statement's figures fail to add up (empty when they all do)."""
    s = statement.summary
    problems: list[str] = []
    for name in (
        "opening",
        "earned",
        "fees",
        "recouped",
        "paid",
        "closing",
        "payable_now",
        "carried_forward",
    ):
        value = getattr(s, name)
        if not isinstance(value, Decimal):
            problems.append(f"summary.{name} is a {type(value).__name__}, not a Decimal")
    for i, line in enumerate(statement.lines):
        if not isinstance(line.amount, Decimal):
            problems.append(f"line {i + 1} amount is a {type(line.amount).__name__}")
    for group in ("adjustments", "fees", "recoupments", "payments"):
        for i, m in enumerate(getattr(statement, group)):
            if not isinstance(m.amount, Decimal):
                problems.append(f"{group} {i + 1} amount is a {type(m.amount).__name__}")
    if problems:
        return tuple(problems)
    for value in _all_amounts(statement):
        try:
            check_amount(value)
        except LedgerError as error:
            problems.append(str(error))
    checks = (
        (
            "earned",
            s.earned,
            exact_sum(
                [*(ln.amount for ln in statement.lines), *(m.amount for m in statement.adjustments)]
            ),
            "lines + adjustments",
        ),
        ("fees", s.fees, exact_sum(m.amount for m in statement.fees), "fee movements"),
        ("recouped", s.recouped, exact_sum(m.amount for m in statement.recoupments), "recoupments"),
        ("paid", s.paid, exact_sum(m.amount for m in statement.payments), "payments"),
        (
            "closing",
            s.closing,
            s.opening + s.earned - s.fees - s.recouped - s.paid,
            "opening + earned - fees - recouped - paid",
        ),
        ("closing", s.closing, s.payable_now + s.carried_forward, "payable_now + carried_forward"),
    )
    for name, stated, computed, what in checks:
        if stated != computed:
            problems.append(f"summary.{name} is {stated} but {what} is {computed}")
    minor = currency(statement.currency).minor
    if s.payable_now != s.payable_now.quantize(minor, context=MONEY_CONTEXT):
        problems.append(
            f"summary.payable_now {s.payable_now} is not whole {statement.currency} minor units"
        )
    if s.payable_now < 0:
        problems.append(f"summary.payable_now {s.payable_now} is negative")
    for i, line in enumerate(statement.lines):
        if line.quantity < 0:
            problems.append(f"line {i + 1} ({line.isrc}) has a negative quantity")
        if line.share < 0 or (line.attribution_weight is not None and line.attribution_weight < 0):
            problems.append(f"line {i + 1} ({line.isrc}) has a negative share or weight")
    return tuple(problems)


def _all_amounts(statement: Statement) -> Iterable[Decimal]:
    s = statement.summary
    yield from (
        s.opening,
        s.earned,
        s.fees,
        s.recouped,
        s.paid,
        s.closing,
        s.payable_now,
        s.carried_forward,
    )
    yield from (ln.amount for ln in statement.lines)
    for group in (statement.adjustments, statement.fees, statement.recoupments, statement.payments):
        yield from (m.amount for m in group)


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Sum amounts with the money context (never rounds; traps on anything inexact)."""
    total = ZERO
    for amount in amounts:
        total = MONEY_CONTEXT.add(total, amount)
    return total


# ---------------------------------------------------------------------------
# Totals: each a sum of lines, exact


@dataclass(frozen=True, slots=True)
class Total:
    """The sum of the lines that share one key (a source, a territory, a usage type)."""

    key: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TrackTotal:
    """The sum of the lines of one track earned through one role, share and rule."""

    isrc: str
    track_title: str
    role: str
    share: Fraction
    rule_ref: str
    attribution_weight: Fraction | None
    quantity: int
    amount: Decimal


K = TypeVar("K")


def _group(
    lines: Iterable[StatementLine], key: Callable[[StatementLine], K]
) -> dict[K, tuple[int, Decimal]]:
    groups: dict[K, tuple[int, Decimal]] = {}
    for line in lines:
        k = key(line)
        quantity, amount = groups.get(k, (0, ZERO))
        groups[k] = (quantity + line.quantity, MONEY_CONTEXT.add(amount, line.amount))
    return groups


def _totals(
    lines: Iterable[StatementLine], key: Callable[[StatementLine], str]
) -> tuple[Total, ...]:
    groups = _group(lines, key)
    # Largest earnings first; equal amounts by key, so input order never matters.
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))
    return tuple(Total(k, q, a) for k, (q, a) in ordered)


def totals_by_source(lines: Iterable[StatementLine]) -> tuple[Total, ...]:
    """Earnings per source (DSP or distributor), largest first."""
    return _totals(lines, lambda ln: ln.source)


def totals_by_territory(lines: Iterable[StatementLine]) -> tuple[Total, ...]:
    """Earnings per territory code, largest first."""
    return _totals(lines, lambda ln: ln.territory)


def totals_by_usage(lines: Iterable[StatementLine]) -> tuple[Total, ...]:
    """Earnings per usage type (stream, download, UGC, ...), largest first."""
    return _totals(lines, lambda ln: ln.usage)


def totals_by_track(lines: Iterable[StatementLine]) -> tuple[TrackTotal, ...]:
    """Earnings per track and the terms that produced them (role, share, rule, weight).

    A party with two roles on one track, or a share that differs by rule, gets one
    row per combination, so each row names the agreement that set its share.
    Ordered by ISRC, then role and rule, so a track's rows stay together.
    """
    groups = _group(
        lines,
        lambda ln: (ln.isrc, ln.role, ln.rule_ref, ln.share, ln.attribution_weight, ln.track_title),
    )
    ordered = sorted(
        groups.items(),
        key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3], kv[0][4] or Fraction(-1), kv[0][5]),
    )
    return tuple(
        TrackTotal(isrc, title, role, share, rule, weight, q, a)
        for (isrc, role, rule, share, weight, title), (q, a) in ordered
    )


# ---------------------------------------------------------------------------
# Display rounding


@dataclass(frozen=True, slots=True)
class DisplayColumn:
    """A column of amounts as shown: each rounded to the minor unit, a rounding figure,
    and the total, with ``sum(rows) + rounding == total`` exactly."""

    rows: tuple[Decimal, ...]
    rounding: Decimal
    total: Decimal


def round_display(amount: Decimal, code: str) -> Decimal:
    """Round half-even to the currency's minor unit: how one figure is shown."""
    return amount.quantize(currency(code).minor, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)


def display_column(
    amounts: Sequence[Decimal], code: str, *, total: Decimal | None = None
) -> DisplayColumn:
    """Round a column for display so the shown figures add up to the shown total.

    The rule: each row and the total are rounded half-even on their own (each
    shown figure is the nearest to its exact value), and ``rounding`` is the
    shown total minus the sum of the shown rows, a whole number of minor units
    printed as its own "Rounding" line when it is not zero. ``total`` defaults
    to the exact sum of ``amounts``; pass it when the column is a walk such as
    ``opening + earned - fees`` (give the signed rows).
    """
    exact_total = exact_sum(amounts) if total is None else total
    rows = tuple(round_display(a, code) for a in amounts)
    shown_total = round_display(exact_total, code)
    rounding = MONEY_CONTEXT.subtract(shown_total, exact_sum(rows))
    return DisplayColumn(rows, rounding, shown_total)
