"""The state of accounting periods: open until closed, closed for good.

A period row is created open the first time something is posted into it. A
closed period accepts no posting, ever (the database refuses one too); a
correction of a closed month lands in the next open one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from ledger.domain.errors import Conflict, PeriodClosed
from ledger.domain.periods import Period
from ledger.store.models import AccountingPeriod


def ensure(session: Session, period: Period) -> AccountingPeriod:
    """The period's row, created open if it does not exist yet."""
    row = session.get(AccountingPeriod, period)
    if row is None:
        row = AccountingPeriod(code=period, status="open")
        session.add(row)
        session.flush()
    return row


def is_closed(session: Session, period: Period) -> bool:
    """Whether a period is closed (without creating it)."""
    row = session.get(AccountingPeriod, period)
    return row is not None and row.status == "closed"


def require_open(session: Session, period: Period) -> None:
    """Refuse a closed period (creating the row of a new one)."""
    if ensure(session, period).status != "open":
        raise PeriodClosed(
            f"period {period} is closed", hint="post corrections into the next open period"
        )


def last_closed(session: Session) -> Period | None:
    code = session.scalars(
        select(func.max(col(AccountingPeriod.code))).where(col(AccountingPeriod.status) == "closed")
    ).first()
    return None if code is None else Period.of_code(str(code))


def open_period_for(session: Session, wanted: Period | None = None) -> Period:
    """The open period a correction lands in: ``wanted`` if it is open, else the
    month after the last closed period (created if needed)."""
    closed = last_closed(session)
    if wanted is not None:
        period = wanted
    else:
        latest_open = session.scalars(
            select(func.max(col(AccountingPeriod.code))).where(
                col(AccountingPeriod.status) == "open"
            )
        ).first()
        if latest_open is None and closed is None:
            raise Conflict("no period exists yet", hint="give --period YYYY-MM")
        if latest_open is not None:
            period = Period.of_code(str(latest_open))
        else:
            assert closed is not None
            period = closed.next()
    if closed is not None and period <= closed:
        period = closed.next()
    ensure(session, period)
    return period


def close(session: Session, period: Period) -> AccountingPeriod:
    """Lock a period for good: no posting will ever land in it again."""
    row = ensure(session, period)
    if row.status == "closed":
        raise PeriodClosed(f"period {period} is already closed")
    earlier_open = session.scalars(
        select(col(AccountingPeriod.code)).where(
            col(AccountingPeriod.code) < period, col(AccountingPeriod.status) == "open"
        )
    ).first()
    if earlier_open:
        raise Conflict(f"period {earlier_open} is still open", hint=f"close it before {period}")
    row.status = "closed"
    row.closed_at = datetime.now(UTC)
    session.add(row)
    session.flush()
    return row
