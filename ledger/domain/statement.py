"""Statement data: what one party is told about one period, as frozen values.

A statement is the product as a rights-holder sees it, so every figure on it
must be provable. This module owns the *shape* of that data and the pure
arithmetic over it; the service fills it from postings, and ``reports/``
renders it (PDF, CSV) without running any query.

Conventions, written once:

* All amounts are :class:`~ledger.domain.money.Money` at ledger scale (at most
  10 places), in the statement's one currency.
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
from decimal import ROUND_HALF_EVEN
from fractions import Fraction
from typing import TypeVar

from ledger.domain.errors import CurrencyMismatch, LedgerError
from ledger.domain.money import MONEY_CONTEXT, Money, currency, total
from ledger.domain.periods import Period


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

    opening: Money
    earned: Money
    fees: Money
    recouped: Money
    paid: Money
    closing: Money
    payable_now: Money
    carried_forward: Money
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
    amount: Money


@dataclass(frozen=True, slots=True)
class Movement:
    """A balance movement that is not a split line: an adjustment, fee, recoupment or
    payment. ``date`` is an ISO date or a period; ``amount`` has the sign the summary
    uses (fees, recoupments and payments are positive when they reduce the balance)."""

    date: str
    kind: str
    description: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Statement:
    """One party's statement for one period, complete and self-consistent.

    ``generated_from`` lists what the figures came from (a ledger hash, split run
    ids) so an auditor can trace them; ``issued_on`` is given, never taken from
    the clock, so the same data renders to the same bytes.
    """

    operator: Operator
    party: PartyInfo
    period: Period
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
    code = statement.currency
    problems: list[str] = []
    for name, value in _named_amounts(statement):
        if not isinstance(value, Money):
            problems.append(f"{name} is a {type(value).__name__}, not Money")
        elif value.currency != code:
            problems.append(f"{name} is in {value.currency}, the statement in {code}")
    if problems:
        return tuple(problems)
    checks = (
        (
            "earned",
            s.earned,
            total(
                [
                    *(ln.amount for ln in statement.lines),
                    *(m.amount for m in statement.adjustments),
                ],
                code,
            ),
            "lines + adjustments",
        ),
        ("fees", s.fees, total((m.amount for m in statement.fees), code), "fee movements"),
        (
            "recouped",
            s.recouped,
            total((m.amount for m in statement.recoupments), code),
            "recoupments",
        ),
        ("paid", s.paid, total((m.amount for m in statement.payments), code), "payments"),
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
            problems.append(f"summary.{name} is {stated.text} but {what} is {computed.text}")
    if s.payable_now != s.payable_now.round_down_minor():
        problems.append(f"summary.payable_now {s.payable_now.text} is not whole {code} minor units")
    if s.payable_now.sign < 0:
        problems.append(f"summary.payable_now {s.payable_now.text} is negative")
    for i, line in enumerate(statement.lines):
        if line.quantity < 0:
            problems.append(f"line {i + 1} ({line.isrc}) has a negative quantity")
        if line.share < 0 or (line.attribution_weight is not None and line.attribution_weight < 0):
            problems.append(f"line {i + 1} ({line.isrc}) has a negative share or weight")
    return tuple(problems)


def _named_amounts(statement: Statement) -> Iterable[tuple[str, object]]:
    s = statement.summary
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
        yield f"summary.{name}", getattr(s, name)
    for i, line in enumerate(statement.lines):
        yield f"line {i + 1} amount", line.amount
    for group in ("adjustments", "fees", "recoupments", "payments"):
        for i, m in enumerate(getattr(statement, group)):
            yield f"{group} {i + 1} amount", m.amount


# ---------------------------------------------------------------------------
# Totals: each a sum of lines, exact


@dataclass(frozen=True, slots=True)
class Total:
    """The sum of the lines that share one key (a source, a territory, a usage type)."""

    key: str
    quantity: int
    amount: Money


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
    amount: Money


K = TypeVar("K")


def _group(
    lines: Iterable[StatementLine], key: Callable[[StatementLine], K]
) -> dict[K, tuple[int, Money]]:
    groups: dict[K, tuple[int, Money]] = {}
    for line in lines:
        k = key(line)
        found = groups.get(k)
        if found is None:
            groups[k] = (line.quantity, line.amount)
        else:
            groups[k] = (found[0] + line.quantity, found[1] + line.amount)
    return groups


def _totals(
    lines: Iterable[StatementLine], key: Callable[[StatementLine], str]
) -> tuple[Total, ...]:
    groups = _group(lines, key)
    # Largest earnings first; equal amounts by key, so input order never matters.
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1][1].amount, kv[0]))
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

    rows: tuple[Money, ...]
    rounding: Money
    total: Money


def round_display(amount: Money) -> Money:
    """Round half-even to the currency's minor unit: how one figure is shown."""
    minor = currency(amount.currency).minor
    return Money(
        amount.amount.quantize(minor, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT),
        amount.currency,
    )


def display_column(
    amounts: Sequence[Money], code: str, *, total_of: Money | None = None
) -> DisplayColumn:
    """Round a column for display so the shown figures add up to the shown total.

    The rule: each row and the total are rounded half-even on their own (each
    shown figure is the nearest to its exact value), and ``rounding`` is the
    shown total minus the sum of the shown rows, a whole number of minor units
    printed as its own "Rounding" line when it is not zero. ``total_of`` defaults
    to the exact sum of ``amounts``; pass it when the column is a walk such as
    ``opening + earned - fees`` (give the signed rows). Every amount is in ``code``.
    """
    exact_total = total(amounts, code) if total_of is None else total_of
    if exact_total.currency != code:
        raise CurrencyMismatch(f"a column in {code} cannot total {exact_total.currency}")
    rows = tuple(round_display(a) for a in amounts)
    shown_total = round_display(exact_total)
    rounding = shown_total - total(rows, code)
    return DisplayColumn(rows, rounding, shown_total)
