"""Advances and their recoupment: what a party was paid ahead is taken back from earnings.

An agreement in force may grant a party a recoupable advance. The first split
run after it comes into force posts the advance (``advance:<party>`` debited,
the bank credited) once; every run then recoups every outstanding advance
from the party's payable balance, as far as it reaches, in an entry of its own.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import text
from sqlmodel import Session

from ledger.domain import accounts
from ledger.domain.agreements import Agreement, current_versions
from ledger.domain.catalog import Catalog
from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.money import Money, parts_to_units
from ledger.domain.periods import Period
from ledger.store import journal


def _balance(session: Session, account: str, ccy: str) -> int:
    row = session.execute(
        text(
            "SELECT COALESCE(SUM(p.amount_whole), 0), COALESCE(SUM(p.amount_frac), 0) FROM posting p "
            "JOIN account a ON a.id = p.account_id WHERE a.code = :c AND p.currency = :ccy"
        ),
        {"c": account, "ccy": ccy},
    ).one()
    return parts_to_units(row[0], row[1])


def _outstanding_advances(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        text(
            "SELECT a.party_id, p.currency, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN account a ON a.id = p.account_id WHERE a.code LIKE 'advance:%' "
            "GROUP BY a.party_id, p.currency ORDER BY a.party_id, p.currency"
        )
    )
    return [(party, ccy) for party, ccy, whole, frac in rows if parts_to_units(whole, frac) > 0]


def recoup(
    session: Session,
    period: Period,
    posted_in: Period,
    catalog: Catalog,
    agreements: tuple[Agreement, ...],
    run_id: int,
) -> tuple[tuple[str, Money], ...]:
    """Record advances of agreements in force (once), then recoup every outstanding
    advance from the party's payable balance."""
    in_force = [a for a in current_versions(agreements) if a.in_force(period)]
    advances: dict[tuple[str, str], list[tuple[str, Money, str]]] = defaultdict(list)
    for a in in_force:
        for adv in a.advances:
            advances[(adv.party_id, adv.amount.currency)].append(
                (a.id, adv.amount, adv.description)
            )
    for (party_id, ccy), items in sorted(advances.items()):
        if party_id == catalog.operator_id:
            continue
        for agreement_id, amount, description in items:
            key = f"advance:{agreement_id}:{party_id}:{ccy}"
            if journal.entry_id_for_key(session, key) is not None:
                continue  # paid once, when the agreement first came into force
            journal.post(
                session,
                EntryDraft(
                    key=key,
                    period=posted_in,
                    kind="advance",
                    description=f"Recoupable advance to {party_id} under {agreement_id}: {description}",
                    legs=(
                        Leg.of(accounts.advance(party_id), amount, memo="advance"),
                        Leg.of(accounts.BANK, -amount, memo=f"advance to {party_id}"),
                    ),
                    source_ref=f"advance:{agreement_id}",
                ),
            )
    # Recoup every outstanding advance, whether or not the agreement that granted it is
    # still in force: an advance is recouped across periods until fully recouped.
    done: list[tuple[str, Money]] = []
    for party_id, ccy in _outstanding_advances(session):
        outstanding = _balance(session, accounts.advance(party_id), ccy)
        owed = -_balance(session, accounts.payable(party_id), ccy)
        amount_units = min(outstanding, owed)
        if amount_units <= 0:
            continue
        amount = Money.of_units(amount_units, ccy)
        journal.post(
            session,
            EntryDraft(
                key=f"recoup:{period}:run{run_id}:{party_id}:{ccy}",
                period=posted_in,
                kind="recoupment",
                description=f"Recoupment of {party_id}'s advance from {period} earnings",
                legs=(
                    Leg(accounts.payable(party_id), amount_units, ccy, memo="recouped"),
                    Leg(accounts.advance(party_id), -amount_units, ccy, memo="recouped"),
                ),
                source_ref=f"recoup:{period}",
            ),
        )
        done.append((party_id, amount))
    return tuple(done)
