"""The stored tables of the ledger (SQLModel, SQLAlchemy 2).

Money columns come in two forms, both exact on SQLite and PostgreSQL:

* amounts that SQL must sum (postings, revenue lines) are two BIGINT columns,
  ``<name>_whole`` and ``<name>_frac`` (units of 10^-10, same sign as the
  amount; see :func:`ledger.domain.money.to_parts`). ``SUM`` over either is an exact
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
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

from ledger.domain.money import check_amount, to_text
from ledger.domain.periods import Period


class PeriodText(TypeDecorator[Period]):
    """A month stored as its code ``YYYY-MM``; read back as a :class:`Period`.

    Accepts a :class:`Period` or its canonical code when binding (bulk writers pass
    the code they already hold).
    """

    impl = String(7)
    cache_ok = True

    def process_bind_param(self, value: Period | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, Period):
            return value.code
        return Period.of_code(value).code

    def process_result_value(self, value: Any, dialect: Dialect) -> Period | None:
        return None if value is None else Period.of_code(value)


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


ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")
"""BIGINT ids; INTEGER on SQLite, where only ``INTEGER PRIMARY KEY`` is the rowid itself."""


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


class AccountingPeriod(SQLModel, table=True):
    """A month of the ledger and its state; closed periods accept no postings, ever."""

    __tablename__ = "period"

    code: Period = Field(primary_key=True, sa_type=PeriodText)
    status: str = Field(default="open", max_length=8)
    closed_at: datetime | None = None

    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="period_status"),)


class JournalEntry(SQLModel, table=True):
    """A balanced, immutable journal entry; its hash chains to the previous one."""

    __tablename__ = "journal_entry"

    id: int = Field(primary_key=True, sa_type=ID_TYPE, sa_column_kwargs={"autoincrement": False})
    idempotency_key: str = Field(max_length=200, unique=True)
    period: Period = Field(foreign_key="period.code", sa_type=PeriodText, index=True)
    kind: str = Field(max_length=24)
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

    id: int = Field(primary_key=True, sa_type=ID_TYPE, sa_column_kwargs={"autoincrement": False})
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
    usage_period: str | None = Field(default=None, max_length=7)
    rule_ref: str | None = Field(default=None, max_length=200)
    memo: str | None = Field(default=None, sa_type=Text)

    __table_args__ = (
        *_parts_checks("amount"),
        Index("ix_posting_entry", "entry_id", "currency"),
        Index("ix_posting_account", "account_id", "currency"),
    )


class AccountTotal(SQLModel, table=True):
    """What one write moved on one account in one period and currency.

    Append-only like the journal: each bulk write adds rows, so balances and the
    trial balance sum a few rows instead of every posting. ``memo`` is the kind of
    movement (earned, fees, paid, ...) on party accounts and empty on the others,
    whose memos are free text. ``royalty ledger verify`` recomputes these rows.
    """

    __tablename__ = "account_total"

    id: int = Field(primary_key=True, sa_type=ID_TYPE)
    through_entry_id: int = Field(sa_type=BigInteger)
    account_id: int = Field(foreign_key="account.id")
    period: Period = Field(foreign_key="period.code", sa_type=PeriodText)
    currency: str = Field(max_length=3)
    memo: str | None = Field(default=None, sa_type=Text)
    amount_whole: int = Field(sa_type=BigInteger)
    amount_frac: int = Field(sa_type=BigInteger)
    postings: int = Field(sa_type=BigInteger)

    __table_args__ = (
        *_parts_checks("amount"),
        Index("ix_account_total_account", "account_id", "period"),
        Index("ix_account_total_through", "through_entry_id"),
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


class Track(SQLModel, table=True):
    """A recording in the catalog, keyed by ISRC."""

    isrc: str = Field(primary_key=True, max_length=12)
    title: str = Field(sa_type=Text)
    display_artist: str = Field(sa_type=Text)
    release_upc: str | None = Field(default=None, max_length=14)
    release_title: str | None = Field(default=None, sa_type=Text)


class Contribution(SQLModel, table=True):
    """Who did what on a track: the provenance record the rules divide money by."""

    id: int | None = Field(default=None, primary_key=True)
    isrc: str = Field(foreign_key="track.isrc", max_length=12, index=True)
    party_id: str = Field(foreign_key="party.id", max_length=64, index=True)
    role: str = Field(max_length=32)
    weight: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", sa_type=Text)

    __table_args__ = (UniqueConstraint("isrc", "party_id", "role", name="uq_contribution"),)


class DocumentVersion(SQLModel, table=True):
    """A loaded input document (catalog, agreements, attribution report), kept verbatim.

    Split runs record the documents they used by hash, so any run can be
    reproduced from exactly the rules that produced it.
    """

    __tablename__ = "document_version"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=300)
    sha256: str = Field(max_length=64, index=True)
    period: Period | None = Field(default=None, sa_type=PeriodText)
    content: str = Field(sa_type=Text)
    loaded_at: datetime
    active: bool = Field(default=True)

    __table_args__ = (UniqueConstraint("kind", "sha256", "period", name="uq_document"),)


class RevenueImport(SQLModel, table=True):
    """One imported file: its hash, where it came from, and the entry it posted."""

    __tablename__ = "revenue_import"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=500)
    format: str = Field(max_length=16)
    source: str = Field(max_length=100)
    period: Period = Field(foreign_key="period.code", sa_type=PeriodText, index=True)
    line_count: int = Field(sa_type=BigInteger)
    suspense_count: int = Field(default=0, sa_type=BigInteger)
    totals: str = Field(sa_type=Text)
    status: str = Field(default="posted", max_length=16)
    entry_id: int | None = Field(default=None, sa_type=BigInteger)
    superseded_by: int | None = Field(default=None)
    imported_at: datetime


class RevenueLine(SQLModel, table=True):
    """Every line of every imported file, kept with its file and line number."""

    __tablename__ = "revenue_line"

    id: int = Field(primary_key=True, sa_type=ID_TYPE, sa_column_kwargs={"autoincrement": False})
    import_id: int = Field(foreign_key="revenue_import.id", index=True)
    line_no: int
    isrc: str = Field(max_length=64)
    territory: str = Field(max_length=8)
    usage: str = Field(max_length=16)
    usage_period: str = Field(max_length=7)
    source: str = Field(max_length=100)
    quantity: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    amount_whole: int = Field(sa_type=BigInteger)
    amount_frac: int = Field(sa_type=BigInteger)
    original_amount: str | None = Field(default=None, max_length=64)
    original_currency: str | None = Field(default=None, max_length=3)
    fx_rate: str | None = Field(default=None, max_length=64)
    suspense_reason: str | None = Field(default=None, max_length=200)
    detail: str | None = Field(default=None, max_length=200)

    __table_args__ = (*_parts_checks("amount"),)


class SuspenseRelease(SQLModel, table=True):
    """Suspense revenue moved out once its track became known: which lines, which entry."""

    __tablename__ = "suspense_release"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="revenue_import.id", index=True)
    isrc: str = Field(max_length=64)
    entry_id: int = Field(sa_type=BigInteger)
    released_at: datetime


class SplitRun(SQLModel, table=True):
    """A recorded split run: its inputs (by hash), what it posted, its totals."""

    __tablename__ = "split_run"

    id: int | None = Field(default=None, primary_key=True)
    period: Period = Field(sa_type=PeriodText, index=True)
    posted_in: Period = Field(sa_type=PeriodText)
    inputs_hash: str = Field(max_length=64)
    inputs: str = Field(sa_type=Text)
    totals: str = Field(sa_type=Text)
    entry_id: int | None = Field(default=None, sa_type=BigInteger)
    adjusts_run_id: int | None = Field(default=None)
    created_at: datetime


class Payout(SQLModel, table=True):
    """A payment recorded for a party, rounded down to the currency's minor unit."""

    id: int | None = Field(default=None, primary_key=True)
    period: Period = Field(sa_type=PeriodText, index=True)
    party_id: str = Field(foreign_key="party.id", max_length=64, index=True)
    currency: str = Field(max_length=3)
    amount: Decimal = Field(sa_type=DecimalText)
    entry_id: int = Field(sa_type=BigInteger)
    created_at: datetime


class IssuedStatement(SQLModel, table=True):
    """A statement as issued for a closed period: bytes and hash, served verbatim later."""

    __tablename__ = "issued_statement"

    id: int | None = Field(default=None, primary_key=True)
    party_id: str = Field(foreign_key="party.id", max_length=64, index=True)
    period: Period = Field(sa_type=PeriodText, index=True)
    format: str = Field(max_length=8)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime

    __table_args__ = (UniqueConstraint("party_id", "period", "format", name="uq_issued"),)


class ApiToken(SQLModel, table=True):
    """An API token: only its SHA-256 is stored; shown once at creation."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    party_id: str | None = Field(default=None, foreign_key="party.id", max_length=64)
    is_admin: bool = Field(default=False)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime
    revoked_at: datetime | None = None


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a money-moving API request, replayed on retry."""

    __tablename__ = "idempotency_record"

    key: str = Field(primary_key=True, max_length=200)
    scope: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: str = Field(sa_type=Text)
    created_at: datetime


__all__ = [
    "Account",
    "AccountTotal",
    "AccountingPeriod",
    "DecimalText",
    "JournalEntry",
    "LedgerHead",
    "Party",
    "PeriodText",
    "Posting",
    "Setting",
    "UniqueConstraint",
]
