"""Closing a period: once its revenue is split, a month is locked for good."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from ledger.domain import accounts
from ledger.domain.errors import Conflict
from ledger.domain.money import Money, parts_to_units
from ledger.domain.periods import Period
from ledger.store import periods
from ledger.store.models import AccountingPeriod


def close_period(session: Session, period: Period) -> AccountingPeriod:
    """Close a period once its revenue is fully split: a finance team never locks a
    month whose imported revenue still waits in ``revenue:undistributed``."""
    row = session.execute(
        text(
            "SELECT p.currency, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id "
            "WHERE a.code = :acct AND e.period = :period GROUP BY p.currency"
        ),
        {"acct": accounts.UNDISTRIBUTED, "period": period.code},
    ).all()
    waiting = [-Money.of_parts(w, f, ccy) for ccy, w, f in row if parts_to_units(w, f)]
    if waiting:
        amounts = ", ".join(str(m) for m in waiting)
        raise Conflict(
            f"period {period} still has {amounts} of revenue that was not split",
            hint=f"run `royalty split --period {period}` first",
        )
    return periods.close(session, period)
