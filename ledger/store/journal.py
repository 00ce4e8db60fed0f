"""The journal writer: balanced, append-only, hash-chained, idempotent entries in the database.

Everything that moves money goes through :func:`post` (one entry) or
:func:`post_many` (hundreds of thousands, for imports and split runs). Both
apply the rules of :mod:`ledger.domain.entries` in code, and the database
applies them again, so a bug cannot break the books: PostgreSQL's statement
triggers check every insert; SQLite checks a whole write when the ledger head
advances (migration 0003), and rows slipped in behind the head are reported by
:mod:`ledger.store.verify`.

* Every entry has an idempotency key. Posting the same key with the same
  content returns the entry already posted; with other content it is an
  :class:`IdempotencyConflict`.
* Posted entries are never changed. :func:`reverse` posts the mirror entry,
  linked to the original; an entry can be reversed once.
* Nothing is posted into a closed period.

Writers must hold the ledger lock (``Database.write``); ids and the chain are
assigned under it. Rows are written on the caller's thread with
:func:`ledger.store.bulk.insert_rows`.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ledger.domain.entries import EntryDraft, Leg, PostedEntry, chain_hash, check_balanced
from ledger.domain.entries import reversal_draft as _reversal_draft
from ledger.domain.errors import (
    Conflict,
    IdempotencyConflict,
    LedgerTampered,
    NotFound,
    UnbalancedEntry,
)
from ledger.domain.money import parts_to_units, units_to_parts
from ledger.domain.periods import Period
from ledger.store import periods
from ledger.store.accounts import AccountCache
from ledger.store.bulk import insert_rows, small_page_cache
from ledger.store.models import Account, JournalEntry, LedgerHead, Posting

POSTING_COLUMNS = (
    "id",
    "entry_id",
    "account_id",
    "currency",
    "amount_whole",
    "amount_frac",
    "isrc",
    "source",
    "territory",
    "usage",
    "usage_period",
    "rule_ref",
    "memo",
)
ENTRY_COLUMNS = (
    "id",
    "idempotency_key",
    "period",
    "kind",
    "description",
    "source_ref",
    "reverses_id",
    "posted_at",
    "content_hash",
    "prev_hash",
    "hash",
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_id_for_key(session: Session, key: str) -> int | None:
    return session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.idempotency_key) == key)
    ).first()


# ---------------------------------------------------------------------------
# Posting


def _head(session: Session) -> LedgerHead:
    head = session.get(LedgerHead, 1, with_for_update=True)
    if head is None:  # pragma: no cover - the migration inserts it
        raise LedgerTampered(
            "ledger head is missing", hint="the database was altered behind the ledger"
        )
    return head


def _posted(entry: JournalEntry, *, created: bool) -> PostedEntry:
    return PostedEntry(
        entry.id,
        entry.idempotency_key,
        entry.period,
        entry.kind,
        entry.description,
        entry.hash,
        created=created,
    )


def _existing(session: Session, draft: EntryDraft, content: str) -> PostedEntry | None:
    entry = session.scalars(
        select(JournalEntry).where(col(JournalEntry.idempotency_key) == draft.key)
    ).first()
    if entry is None:
        return None
    if entry.content_hash != content:
        raise IdempotencyConflict(
            f"idempotency key {draft.key!r} was already used for entry {entry.id} with other content",
            hint="use a new key for a new entry",
        )
    return _posted(entry, created=False)


def post(session: Session, draft: EntryDraft) -> PostedEntry:
    """Post one entry (or return the identical one already posted under its key)."""
    check_balanced(draft)
    content = draft.content_hash()
    existing = _existing(session, draft, content)
    if existing is not None:
        return existing
    periods.require_open(session, draft.period)
    if draft.reverses is not None:
        _check_reversible(session, draft.reverses)
    accounts = AccountCache(session)
    accounts.ensure(leg.account for leg in draft.legs)
    writer = _Writer(session, _head(session), accounts)
    posted = writer.write([(draft, content)])[0]
    writer.finish()
    return posted


def post_many(
    session: Session,
    drafts: Iterable[EntryDraft],
    *,
    chunk: int = 20_000,
    max_legs: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Post many entries in the caller's transaction; same checks as :func:`post`.

    Streams ``drafts`` in chunks of at most ``chunk`` entries or about ``max_legs``
    legs, so memory stays flat. Keys must be new: a key already in the ledger is an
    :class:`IdempotencyConflict` (bulk callers such as imports refuse duplicates
    before posting). Returns the number posted.
    """
    with small_page_cache(session):
        return _post_many(session, iter(drafts), chunk, max_legs, progress)


def _post_many(
    session: Session,
    iterator: Iterator[EntryDraft],
    chunk: int,
    max_legs: int,
    progress: Callable[[int], None] | None,
) -> int:
    accounts = AccountCache(session)
    writer = _Writer(session, _head(session), accounts)
    open_periods: set[Period] = set()
    total = 0
    while True:
        batch = _batch(iterator, chunk, max_legs)
        if not batch:
            break
        prepared: list[tuple[EntryDraft, str]] = []
        keys: set[str] = set()
        for draft in batch:
            check_balanced(draft)
            if draft.key in keys:
                raise IdempotencyConflict(
                    f"idempotency key {draft.key!r} appears twice in one batch"
                )
            keys.add(draft.key)
            if draft.period not in open_periods:
                periods.require_open(session, draft.period)
                open_periods.add(draft.period)
            if draft.reverses is not None:
                _check_reversible(session, draft.reverses)
            prepared.append((draft, draft.content_hash()))
        accounts.ensure(leg.account for draft in batch for leg in draft.legs)
        _refused_rows(lambda prepared=prepared: writer.write(prepared))  # type: ignore[misc]
        total += len(batch)
        if progress:
            progress(len(batch))
    writer.finish()
    return total


def _refused_rows(call: Callable[[], list[PostedEntry]]) -> list[PostedEntry]:
    """Run a bulk write step; rows the database refuses are (most likely) keys already
    posted, which post_many does not look up one by one."""
    try:
        return call()
    except integrity_errors() as exc:
        raise IdempotencyConflict(
            f"bulk posting refused by the database: {str(exc).splitlines()[0]}",
            hint="an idempotency key may already be in the ledger",
        ) from None


def integrity_errors() -> tuple[type[Exception], ...]:
    """The errors a write refused by the database raises (psycopg only if it is loaded: it
    costs 50 ms of start-up on SQLite, where it is never used)."""
    psycopg = sys.modules.get("psycopg")
    errors: tuple[type[Exception], ...] = (IntegrityError, sqlite3.IntegrityError)
    return (*errors, psycopg.IntegrityError) if psycopg is not None else errors


def _batch(iterator: Iterator[EntryDraft], chunk: int, max_legs: int) -> list[EntryDraft]:
    """Up to ``chunk`` entries or about ``max_legs`` legs, whichever comes first."""
    batch: list[EntryDraft] = []
    legs = 0
    for draft in iterator:
        batch.append(draft)
        legs += len(draft.legs)
        if len(batch) >= chunk or legs >= max_legs:
            break
    return batch


class _Writer:
    """Assigns ids and chain hashes and writes the rows of one use case's entries.

    It also sums what the write moves per account, period, currency and (on party
    accounts) memo, and appends those sums to ``account_total`` when it finishes,
    together with the new ledger head.
    """

    def __init__(self, session: Session, head: LedgerHead, accounts: AccountCache) -> None:
        self.session = session
        self.head = head
        self.accounts = accounts
        self.next_entry = head.last_entry_id + 1
        self.next_posting = head.posting_count + 1
        self.prev_hash = head.last_hash
        self.entries = 0
        self.postings = 0
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.totals: dict[tuple[int, str, str, str | None], list[int]] = {}

    def write(self, prepared: Sequence[tuple[EntryDraft, str]]) -> list[PostedEntry]:
        posted_at = _now()
        entry_rows: list[tuple[Any, ...]] = []
        posting_rows: list[tuple[Any, ...]] = []
        result: list[PostedEntry] = []
        accounts = self.accounts.ids_and_parties()
        totals = self.totals
        add_posting = posting_rows.append
        first_posting = next_posting = self.next_posting
        for draft, content in prepared:
            entry_id = self.next_entry
            self.next_entry += 1
            period = draft.period.code
            digest = chain_hash(self.prev_hash, entry_id, posted_at, content)
            entry_rows.append(
                (
                    entry_id,
                    draft.key,
                    period,
                    draft.kind,
                    draft.description,
                    draft.source_ref,
                    draft.reverses,
                    posted_at,
                    content,
                    self.prev_hash,
                    digest,
                )
            )
            for leg in draft.legs:
                u = leg.units
                account_id, is_party = accounts[leg.account]
                whole, frac = units_to_parts(u)
                add_posting(
                    (
                        next_posting,
                        entry_id,
                        account_id,
                        leg.currency,
                        whole,
                        frac,
                        leg.isrc,
                        leg.source,
                        leg.territory,
                        leg.usage,
                        leg.usage_period,
                        leg.rule_ref,
                        leg.memo,
                    )
                )
                next_posting += 1
                key = (account_id, period, leg.currency, leg.memo if is_party else None)
                slot = totals.get(key)
                if slot is None:
                    totals[key] = [u, 1]
                else:
                    slot[0] += u
                    slot[1] += 1
            self.prev_hash = digest
            result.append(
                PostedEntry(
                    entry_id,
                    draft.key,
                    draft.period,
                    draft.kind,
                    draft.description,
                    digest,
                    created=True,
                )
            )
        self.next_posting = next_posting
        if self.postgres:
            # Postings first: the entries' statement trigger checks that their legs balance.
            insert_rows(self.session, "posting", POSTING_COLUMNS, posting_rows)
            insert_rows(self.session, "journal_entry", ENTRY_COLUMNS, entry_rows)
        else:
            # Entries first, so each posting's foreign key finds its entry at once; the
            # whole write is checked when the ledger head advances (finish).
            insert_rows(self.session, "journal_entry", ENTRY_COLUMNS, entry_rows)
            insert_rows(self.session, "posting", POSTING_COLUMNS, posting_rows)
        self.entries += len(prepared)
        self.postings += next_posting - first_posting
        return result

    def finish(self) -> None:
        """Append the write's account totals and advance the ledger head (on SQLite the
        head's trigger checks the whole write: balance, periods, no late legs)."""
        if not self.entries:
            return
        rows = []
        for (account_id, period, ccy, memo), (units, n) in sorted(
            self.totals.items(),
            key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3] or ""),
        ):
            whole, frac = units_to_parts(units)
            rows.append(
                {
                    "t": self.next_entry - 1,
                    "a": account_id,
                    "p": period,
                    "c": ccy,
                    "m": memo,
                    "w": whole,
                    "f": frac,
                    "n": n,
                }
            )
        self.session.execute(
            text(
                "INSERT INTO account_total (through_entry_id, account_id, period, currency, memo,"
                " amount_whole, amount_frac, postings) VALUES (:t, :a, :p, :c, :m, :w, :f, :n)"
            ),
            rows,
        )
        try:
            self.session.execute(
                text(
                    "UPDATE ledger_head SET last_entry_id = :e, last_hash = :h, "
                    "entry_count = entry_count + :n, posting_count = posting_count + :p WHERE id = 1"
                ),
                {
                    "e": self.next_entry - 1,
                    "h": self.prev_hash,
                    "n": self.entries,
                    "p": self.postings,
                },
            )
        except integrity_errors() as exc:
            # Only reachable if the code's checks and the database's disagree.
            raise UnbalancedEntry(
                f"the database refused the write: {str(exc).splitlines()[0]}",
                hint="nothing was posted; run `royalty ledger verify`",
            ) from None
        self.session.expire(self.head)
        self.totals = {}


# ---------------------------------------------------------------------------
# Reading entries back, and reversing them


def entry_legs(
    session: Session, entry_id: int
) -> tuple[PostedEntry, JournalEntry, tuple[Leg, ...]]:
    """A posted entry, its row and its legs in posting order."""
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"journal entry {entry_id} does not exist")
    rows = session.execute(
        select(Posting, col(Account.code))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
    legs = tuple(
        Leg(
            code,
            parts_to_units(p.amount_whole, p.amount_frac),
            p.currency,
            p.isrc,
            p.source,
            p.territory,
            p.usage,
            p.rule_ref,
            p.memo,
            p.usage_period,
        )
        for p, code in rows
    )
    return _posted(entry, created=False), entry, legs


def _check_reversible(session: Session, entry_id: int) -> None:
    if session.get(JournalEntry, entry_id) is None:
        raise NotFound(f"journal entry {entry_id} does not exist")
    already = session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.reverses_id) == entry_id)
    ).first()
    if already:
        raise Conflict(f"journal entry {entry_id} was already reversed by entry {already}")


def reverse(
    session: Session,
    entry_id: int,
    *,
    period: Period,
    key: str | None = None,
    description: str | None = None,
) -> PostedEntry:
    """Correct a posted entry the only allowed way: post its mirror image, linked to it."""
    posted, row, legs = entry_legs(session, entry_id)
    draft = _reversal_draft(
        posted,
        legs,
        key=key or f"reverse:{entry_id}",
        period=period,
        source_ref=row.source_ref,
        description=description,
    )
    return post(session, draft)
