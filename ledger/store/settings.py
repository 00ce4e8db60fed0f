"""Ledger-wide settings stored in the database (ledger currency, operator party)."""

from __future__ import annotations

from sqlmodel import Session

from ledger.domain.errors import Conflict, NotInitialised
from ledger.domain.money import currency
from ledger.store.models import Setting

LEDGER_CURRENCY = "ledger_currency"
OPERATOR = "operator_party"


def get(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def put(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
    session.flush()


def ledger_currency(session: Session) -> str:
    """The currency every revenue line is converted to before it is split."""
    value = get(session, LEDGER_CURRENCY)
    if value is None:
        raise NotInitialised("the ledger has no currency yet", hint="run `royalty init`")
    return value


def initialise(session: Session, ledger_ccy: str) -> str:
    """Record the ledger currency once; changing it later would re-value history."""
    code = currency(ledger_ccy).code
    current = get(session, LEDGER_CURRENCY)
    if current is not None and current != code:
        raise Conflict(
            f"the ledger currency is already {current}",
            hint="the ledger currency cannot change once set",
        )
    put(session, LEDGER_CURRENCY, code)
    return code
