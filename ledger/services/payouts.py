"""Payouts: pay what can be paid, carry forward what cannot.

For every party (not the operator) the payable balance is rounded *down* to
the currency's minor unit (:func:`ledger.domain.money.round_down_minor`, the ledger's
one rounding point). If that reaches the party's minimum threshold, a payout
entry moves it from their payable account to the bank. The sub-cent remainder
and balances below the threshold stay in the balance and carry forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain.money import from_units, parts_to_units, round_down_minor, to_text
from ledger.domain.periods import parse_period
from ledger.store import accounts, journal, settings
from ledger.store.journal import EntryDraft, Leg
from ledger.store.models import Party, Payout


@dataclass(frozen=True, slots=True)
class PayoutLine:
    party_id: str
    name: str
    currency: str
    balance: Decimal
    paid: Decimal
    carried: Decimal
    reason: str
    """Why the party is paid or what is carried: 'paid', 'below threshold of 50.00 USD', ..."""


@dataclass(frozen=True, slots=True)
class PayoutResult:
    period: str
    posted_in: str | None
    currency: str
    lines: tuple[PayoutLine, ...]
    total_paid: Decimal
    dry_run: bool


def payable_balances(session: Session, ccy: str) -> dict[str, Decimal]:
    """What the ledger owes each party now (positive = owed to them)."""
    rows = session.execute(
        text(
            "SELECT a.party_id, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN account a ON a.id = p.account_id "
            "WHERE a.code LIKE 'payable:%' AND p.currency = :c GROUP BY a.party_id"
        ),
        {"c": ccy},
    )
    return {party: -from_units(parts_to_units(w, f)) for party, w, f in rows}


def pay(session: Session, period: str, *, dry_run: bool = False) -> PayoutResult:
    period = parse_period(period)
    ccy = settings.ledger_currency(session)
    owed = payable_balances(session, ccy)
    parties = {p.id: p for p in session.scalars(select(Party).order_by(col(Party.id)))}
    posted_in = None if dry_run else journal.open_period_for(session, period)
    lines: list[PayoutLine] = []
    total = Decimal(0)
    for party_id in sorted(owed):
        party = parties.get(party_id)
        if party is None or party.is_operator:
            continue
        balance = owed[party_id]
        payable = round_down_minor(balance, ccy) if balance > 0 else Decimal(0)
        threshold = party.payout_threshold or Decimal(0)
        if payable <= 0:
            reason = "nothing payable" if balance <= 0 else "less than one minor unit"
            lines.append(
                PayoutLine(party_id, party.name, ccy, balance, Decimal(0), balance, reason)
            )
            continue
        if payable < threshold:
            lines.append(
                PayoutLine(
                    party_id,
                    party.name,
                    ccy,
                    balance,
                    Decimal(0),
                    balance,
                    f"below threshold of {to_text(threshold)} {ccy}",
                )
            )
            continue
        if not dry_run:
            assert posted_in is not None
            count = session.execute(
                text("SELECT COUNT(*) FROM payout WHERE party_id = :p AND period = :per"),
                {"p": party_id, "per": period},
            ).scalar_one()
            entry = journal.post(
                session,
                EntryDraft(
                    key=f"payout:{period}:{party_id}:{count + 1}",
                    period=posted_in,
                    kind="payout",
                    description=f"Payout to {party.name} for {period}",
                    legs=(
                        Leg.of(accounts.payable(party_id), payable, ccy, memo="paid"),
                        Leg.of(accounts.BANK, -payable, ccy, memo=f"payout to {party_id}"),
                    ),
                    source_ref=f"payout:{period}",
                ),
            )
            session.add(
                Payout(
                    period=period,
                    party_id=party_id,
                    currency=ccy,
                    amount=payable,
                    entry_id=entry.id,
                    created_at=datetime.now(UTC),
                )
            )
        total += payable
        lines.append(
            PayoutLine(party_id, party.name, ccy, balance, payable, balance - payable, "paid")
        )
    session.flush()
    return PayoutResult(period, posted_in, ccy, tuple(lines), total, dry_run)
