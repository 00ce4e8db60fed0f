"""The stored tables of the ledger (SQLModel, SQLAlchemy 2).

Money columns come in two forms, both exact on SQLite and PostgreSQL:

* amounts that SQL must sum (postings, revenue lines) are two BIGINT columns,
  ``<name>_whole`` and ``<name>_frac`` (units of 10^-10, same sign as the
  amount; see :func:`ledger.money.to_parts`). ``SUM`` over either is an exact
  integer on both databases, and the CHECK constraints keep the form canonical;
* amounts that are only stored and read back (thresholds, advances, rates) are
  canonical decimal text through :class:`DecimalText`.

Journal tables are append-only; the migration adds the triggers that make the
database itself refuse updates, deletes, unbalanced entries and postings into
closed periods.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

from ledger.money import check_amount, to_text


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as canonical text (never a float on any database)."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return to_text(check_amount(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))


def _parts_checks(name: str) -> tuple[CheckConstraint, ...]:
    whole, frac = f"{name}_whole", f"{name}_frac"
    return (
        CheckConstraint(
            f"{frac} > -10000000000 AND {frac} < 10000000000"
            f" AND ({whole} = 0 OR {frac} = 0 OR ({whole} > 0 AND {frac} > 0)"
            f" OR ({whole} < 0 AND {frac} < 0))",
            name=f"{name}_canonical",
        ),
    )


class Setting(SQLModel, table=True):
    """Ledger-wide settings (ledger currency, operator) as key/value text."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)


class Party(SQLModel, table=True):
    """Anyone who can be owed money, the operator included."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(sa_type=Text)
    kind: str = Field(default="person", max_length=16)
    payout_currency: str = Field(default="USD", max_length=3)
    payout_threshold: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    email: str | None = Field(default=None, max_length=320)
    ipi: str | None = Field(default=None, max_length=16)
    isni: str | None = Field(default=None, max_length=16)
    is_operator: bool = Field(default=False)


class Account(SQLModel, table=True):
    """A ledger account. ``code`` is structured: ``payable:rust``, ``receivable:streamco``."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=200, unique=True)
    name: str = Field(sa_type=Text)
    type: str = Field(max_length=16)
    party_id: str | None = Field(default=None, foreign_key="party.id", index=True)

    __table_args__ = (
        CheckConstraint(
            "type IN ('asset', 'liability', 'income', 'expense', 'equity')", name="account_type"
        ),
    )


class Period(SQLModel, table=True):
    """A month of the ledger; closed periods accept no postings, ever."""

    code: str = Field(primary_key=True, max_length=7)
    status: str = Field(default="open", max_length=8)
    closed_at: datetime | None = None

    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="period_status"),)


class JournalEntry(SQLModel, table=True):
    """A balanced, immutable journal entry; its hash chains to the previous one."""

    __tablename__ = "journal_entry"

    id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    idempotency_key: str = Field(max_length=200, unique=True)
    period: str = Field(foreign_key="period.code", max_length=7, index=True)
    kind: str = Field(max_length=24, index=True)
    description: str = Field(sa_type=Text)
    source_ref: str | None = Field(default=None, max_length=200, index=True)
    reverses_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entry.id"), unique=True, nullable=True),
    )
    posted_at: str = Field(max_length=32)
    content_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Posting(SQLModel, table=True):
    """One leg of an entry. Positive is a debit, negative a credit.

    The dimension columns say where the money came from (track, source,
    territory, usage) and which rule moved it, so every statement figure can be
    traced back to import lines and agreement versions.
    """

    id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    entry_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("journal_entry.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        )
    )
    account_id: int = Field(foreign_key="account.id")
    currency: str = Field(max_length=3)
    amount_whole: int = Field(sa_type=BigInteger)
    amount_frac: int = Field(sa_type=BigInteger)
    isrc: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=100)
    territory: str | None = Field(default=None, max_length=8)
    usage: str | None = Field(default=None, max_length=16)
    rule_ref: str | None = Field(default=None, max_length=200)
    memo: str | None = Field(default=None, sa_type=Text)

    __table_args__ = (
        *_parts_checks("amount"),
        Index("ix_posting_entry", "entry_id", "currency"),
        Index("ix_posting_account", "account_id", "currency"),
    )


class LedgerHead(SQLModel, table=True):
    """The tip of the hash chain: last entry id and hash, so removing the newest
    entries is detected too."""

    __tablename__ = "ledger_head"

    id: int = Field(default=1, primary_key=True)
    last_entry_id: int = Field(default=0, sa_type=BigInteger)
    last_hash: str = Field(max_length=64)
    entry_count: int = Field(default=0, sa_type=BigInteger)
    posting_count: int = Field(default=0, sa_type=BigInteger)

    __table_args__ = (CheckConstraint("id = 1", name="ledger_head_single_row"),)


__all__ = [
    "Account",
    "DecimalText",
    "JournalEntry",
    "LedgerHead",
    "Party",
    "Period",
    "Posting",
    "Setting",
    "UniqueConstraint",
]
