"""Payouts: pay what can be paid, carry forward what cannot.

For every party (not the operator) the payable balance is rounded *down* to
the currency's minor unit (:meth:`ledger.domain.money.Money.round_down_minor`, the ledger's
one rounding point). If that reaches the party's minimum threshold, a payout
entry moves it from their payable account to the bank. The sub-cent remainder
and balances below the threshold stay in the balance and carry forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain import accounts
from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.money import Money, parts_to_units
from ledger.domain.periods import Period
from ledger.store import journal, periods, settings
from ledger.store.models import Party, Payout


@dataclass(frozen=True, slots=True)
class PayoutLine:
    party_id: str
    name: str
    currency: str
    balance: Money
    paid: Money
    carried: Money
    reason: str
    """Why the party is paid or what is carried: 'paid', 'below threshold of 50.00 USD', ..."""


@dataclass(frozen=True, slots=True)
class PayoutResult:
    period: Period
    posted_in: Period | None
    currency: str
    lines: tuple[PayoutLine, ...]
    total_paid: Money
    dry_run: bool


def payable_balances(session: Session, ccy: str) -> dict[str, Money]:
    """What the ledger owes each party now (positive = owed to them)."""
    rows = session.execute(
        text(
            "SELECT a.party_id, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN account a ON a.id = p.account_id "
            "WHERE a.code LIKE 'payable:%' AND p.currency = :c GROUP BY a.party_id"
        ),
        {"c": ccy},
    )
    return {party: Money.of_units(-parts_to_units(w, f), ccy) for party, w, f in rows}


def pay(session: Session, period: Period, *, dry_run: bool = False) -> PayoutResult:
    """Pay every party what can be paid now; carry forward what cannot (module doc)."""
    ccy = settings.ledger_currency(session)
    zero = Money.zero(ccy)
    owed = payable_balances(session, ccy)
    parties = {p.id: p for p in session.scalars(select(Party).order_by(col(Party.id)))}
    posted_in = None if dry_run else periods.open_period_for(session, period)
    lines: list[PayoutLine] = []
    total = zero
    for party_id in sorted(owed):
        party = parties.get(party_id)
        if party is None or party.is_operator:
            continue
        balance = owed[party_id]
        payable = balance.round_down_minor() if balance > zero else zero
        # The threshold is in the ledger currency until payout currencies are built.
        threshold = Money(party.payout_threshold, ccy) if party.payout_threshold else zero
        if payable <= zero:
            reason = "nothing payable" if balance <= zero else "less than one minor unit"
            lines.append(PayoutLine(party_id, party.name, ccy, balance, zero, balance, reason))
            continue
        if payable < threshold:
            lines.append(
                PayoutLine(
                    party_id,
                    party.name,
                    ccy,
                    balance,
                    zero,
                    balance,
                    f"below threshold of {threshold}",
                )
            )
            continue
        if not dry_run:
            assert posted_in is not None
            count = session.execute(
                text("SELECT COUNT(*) FROM payout WHERE party_id = :p AND period = :per"),
                {"p": party_id, "per": period.code},
            ).scalar_one()
            entry = journal.post(
                session,
                EntryDraft(
                    key=f"payout:{period}:{party_id}:{count + 1}",
                    period=posted_in,
                    kind="payout",
                    description=f"Payout to {party.name} for {period}",
                    legs=(
                        Leg.of(accounts.payable(party_id), payable, memo="paid"),
                        Leg.of(accounts.BANK, -payable, memo=f"payout to {party_id}"),
                    ),
                    source_ref=f"payout:{period}",
                ),
            )
            session.add(
                Payout(
                    period=period,
                    party_id=party_id,
                    currency=ccy,
                    amount=payable.amount,
                    entry_id=entry.id,
                    created_at=datetime.now(UTC),
                )
            )
        total = total + payable
        lines.append(
            PayoutLine(party_id, party.name, ccy, balance, payable, balance - payable, "paid")
        )
    session.flush()
    return PayoutResult(period, posted_in, ccy, tuple(lines), total, dry_run)
