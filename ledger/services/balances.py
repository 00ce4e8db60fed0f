"""Balances per rights-holder: opening, earned, fees, recouped, paid, closing.

Every figure is a sum of postings on the party's payable account (and, for
the operator, its income accounts), classified by what moved it: split
shares (``earned``), their part of fees (``fees``), recoupment, payouts,
adjustments. The sums come from ``account_total`` (what each write moved per
account, period, currency and kind, checked against the postings by
``royalty ledger verify``), so the query reads a few rows per party, not
every posting.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel import Session

from ledger.domain.errors import NotFound
from ledger.domain.money import Money, parts_to_units
from ledger.domain.periods import Period
from ledger.store import settings
from ledger.store.models import Party


@dataclass(frozen=True, slots=True)
class PartyBalance:
    party_id: str
    name: str
    currency: str
    period: Period | None
    opening: Money
    earned: Money
    fees: Money
    recouped: Money
    paid: Money
    other: Money
    closing: Money
    advance_outstanding: Money

    def check(self) -> bool:
        return (
            self.opening + self.earned - self.fees - self.recouped - self.paid + self.other
            == self.closing
        )


_QUERY = """
SELECT a.party_id, a.code, t.currency,
       CASE WHEN CAST(:period AS VARCHAR(7)) IS NULL THEN 0
            WHEN t.period < CAST(:period AS VARCHAR(7)) THEN -1
            WHEN t.period = CAST(:period AS VARCHAR(7)) THEN 0 ELSE 1 END AS bucket,
       t.memo, SUM(t.amount_whole), SUM(t.amount_frac)
FROM account_total t
JOIN account a ON a.id = t.account_id
WHERE a.party_id IS NOT NULL {party_filter}
GROUP BY a.party_id, a.code, t.currency, bucket, t.memo
"""


def balances(
    session: Session, *, period: Period | None = None, party: str | None = None
) -> list[PartyBalance]:
    """Per party: the movements of ``period`` (or of all time) and the balances around them."""
    ccy = settings.ledger_currency(session)
    names = {p.id: p.name for p in session.scalars(select(Party))}
    if party is not None and party not in names:
        raise NotFound(f"party {party!r} is not in the catalog")
    sql = _QUERY.format(party_filter="AND a.party_id = :party" if party else "")
    params: dict[str, object] = {"period": None if period is None else period.code}
    if party:
        params["party"] = party
    acc: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for party_id, code, cur, bucket, memo, whole, frac in session.execute(text(sql), params):
        units = parts_to_units(whole, frac)
        slot = acc[(party_id, cur)]
        if code.startswith("advance:"):
            if bucket <= 0:
                slot["advance"] += units
            continue
        if bucket < 0:
            slot["opening"] -= units
            continue
        if bucket > 0:
            continue
        if memo in ("earned", "fee", "no agreement"):
            slot["earned"] -= units
        elif memo == "fees":
            slot["fees"] += units
        elif memo == "recouped":
            slot["recouped"] += units
        elif memo == "paid":
            slot["paid"] += units
        else:
            slot["other"] -= units
    out = []
    for (party_id, cur), s in sorted(acc.items()):
        opening, earned, fees = s["opening"], s["earned"], s["fees"]
        recouped, paid, other = s["recouped"], s["paid"], s["other"]
        closing = opening + earned - fees - recouped - paid + other
        code = cur or ccy
        out.append(
            PartyBalance(
                party_id=party_id,
                name=names.get(party_id, party_id),
                currency=code,
                period=period,
                opening=Money.of_units(opening, code),
                earned=Money.of_units(earned, code),
                fees=Money.of_units(fees, code),
                recouped=Money.of_units(recouped, code),
                paid=Money.of_units(paid, code),
                other=Money.of_units(other, code),
                closing=Money.of_units(closing, code),
                advance_outstanding=Money.of_units(s["advance"], code),
            )
        )
    return out
