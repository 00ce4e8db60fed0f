"""The double-entry journal: balanced, append-only, hash-chained, idempotent.

Everything that moves money goes through :func:`post` (one entry) or
:func:`post_many` (hundreds of thousands, for imports and split runs). Both
apply the same checks in code, and the database applies them again, so a bug
cannot break the books: PostgreSQL's statement triggers check every insert;
SQLite checks a whole write when the ledger head advances (migration 0003), and
rows slipped in behind the head are reported by :func:`verify`.

* An entry balances per currency: the legs of each currency sum to zero
  (debits positive, credits negative).
* Every entry has an idempotency key. Posting the same key with the same
  content returns the entry already posted; with other content it is an
  :class:`IdempotencyConflict`.
* Posted entries are never changed. :func:`reverse` posts the mirror entry,
  linked to the original; an entry can be reversed once.
* Nothing is posted into a closed period.
* Each entry's hash covers its content and the previous entry's hash; the
  ledger head keeps the tip, so :func:`verify` detects an altered, inserted or
  removed entry or posting.

Writers must hold the ledger lock (``Database.write``); ids and the chain are
assigned under it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache, partial
from itertools import chain, groupby
from typing import Any, NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ledger.domain.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidAmount,
    LedgerTampered,
    NotFound,
    PeriodClosed,
    UnbalancedEntry,
)
from ledger.domain.money import (
    FRAC_PER_WHOLE,
    MAX_UNITS,
    currency,
    from_units,
    parts_to_units,
    to_text,
    to_units,
    units_to_parts,
)
from ledger.domain.periods import next_period, parse_period
from ledger.store.accounts import AccountCache
from ledger.store.bulkwork import Offload
from ledger.store.models import Account, AccountTotal, JournalEntry, LedgerHead, Period, Posting

GENESIS = "0" * 64
KINDS = frozenset(
    {
        "import",
        "split",
        "adjustment",
        "fee",
        "recoupment",
        "advance",
        "payout",
        "suspense",
        "reversal",
        "manual",
        "fx",
    }
)


class Leg(NamedTuple):
    """One side of an entry: an account, a signed amount (debit +, credit -), and
    where the money came from.

    The amount is held as an integer of 10^-10 units, the form the journal stores
    and sums; bulk producers (imports, split runs) build legs from units directly,
    so a million legs cost no Decimal arithmetic. :meth:`of` takes a Decimal. A
    named tuple, not a frozen dataclass: as immutable, and four times cheaper to
    build (a split run builds millions).
    """

    account: str
    units: int
    currency: str
    isrc: str | None = None
    source: str | None = None
    territory: str | None = None
    usage: str | None = None
    rule_ref: str | None = None
    memo: str | None = None
    usage_period: str | None = None

    @classmethod
    def of(
        cls,
        account: str,
        amount: Decimal,
        currency: str,
        isrc: str | None = None,
        source: str | None = None,
        territory: str | None = None,
        usage: str | None = None,
        rule_ref: str | None = None,
        memo: str | None = None,
        usage_period: str | None = None,
    ) -> Leg:
        """A leg of a Decimal amount (exact at ledger scale, or :class:`InvalidAmount`)."""
        return cls(
            account,
            to_units(amount),
            currency,
            isrc,
            source,
            territory,
            usage,
            rule_ref,
            memo,
            usage_period,
        )

    @property
    def amount(self) -> Decimal:
        return from_units(self.units)

    def canonical(self) -> str:
        return "\x1f".join(
            (
                self.account,
                self.currency,
                str(self.units),
                self.isrc or "",
                self.source or "",
                self.territory or "",
                self.usage or "",
                self.rule_ref or "",
                self.memo or "",
                self.usage_period or "",
            )
        )


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry not yet posted: what a service wants to record."""

    key: str
    period: str
    kind: str
    description: str
    legs: tuple[Leg, ...]
    source_ref: str | None = None
    reverses: int | None = None
    _content_hash: str | None = field(default=None, init=False, repr=False, compare=False)
    """Memo of :meth:`content_hash` (a draft is immutable; large ones take a while)."""

    def __post_init__(self) -> None:
        if type(self.legs) is not tuple:  # a list could change under the memo
            object.__setattr__(self, "legs", tuple(self.legs))

    def content_hash(self) -> str:
        if self._content_hash is not None:
            return self._content_hash
        head = "\x1e".join(
            (
                self.key,
                self.period,
                self.kind,
                self.description,
                self.source_ref or "",
                str(self.reverses or ""),
            )
        )
        body = "\x1e".join(leg.canonical() for leg in self.legs)
        digest = hashlib.sha256(f"{head}\x1d{body}".encode()).hexdigest()
        object.__setattr__(self, "_content_hash", digest)
        return digest


@dataclass(frozen=True, slots=True)
class PostedEntry:
    id: int
    key: str
    period: str
    kind: str
    description: str
    hash: str
    created: bool
    """False when an identical entry with the same key was already posted."""


def chain_hash(prev_hash: str, entry_id: int, posted_at: str, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{entry_id}|{posted_at}|{content_hash}".encode()).hexdigest()


@lru_cache(maxsize=256)
def _is_month(period: str) -> bool:
    """``period`` is a month written canonically (cached: every entry of a write asks)."""
    return parse_period(period) == period


def check_balanced(draft: EntryDraft) -> None:
    """Refuse an entry whose legs do not sum to zero in every currency (pure)."""
    if not draft.key or len(draft.key) > 200:
        raise UnbalancedEntry(
            f"entry {draft.key!r}: an idempotency key of 1 to 200 characters is needed"
        )
    if draft.kind not in KINDS:
        raise UnbalancedEntry(f"entry {draft.key}: unknown kind {draft.kind!r}")
    if not _is_month(draft.period):
        raise UnbalancedEntry(
            f"entry {draft.key}: period {draft.period!r} is not written YYYY-MM",
            hint="pass the period through parse_period first",
        )
    if len(draft.legs) < 2:
        raise UnbalancedEntry(f"entry {draft.key}: needs at least two legs")
    totals: dict[str, int] = {}
    for leg in draft.legs:
        u = leg.units
        if type(u) is not int or not -MAX_UNITS < u < MAX_UNITS:
            raise InvalidAmount(
                f"entry {draft.key}: leg {leg.account}: {u!r} is not an amount in 10^-10 units",
                hint="build legs from a Decimal with Leg.of",
            )
        totals[leg.currency] = totals.get(leg.currency, 0) + u
    for code in totals:
        currency(code)
    off = {c: t for c, t in totals.items() if t}
    if off:
        detail = ", ".join(f"{c} off by {to_text(from_units(t))}" for c, t in sorted(off.items()))
        raise UnbalancedEntry(
            f"entry {draft.key}: does not balance ({detail})",
            hint="debits and credits must sum to zero in each currency",
        )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------
# Periods


def ensure_period(session: Session, code: str) -> Period:
    """The period row, created open if it does not exist yet."""
    code = parse_period(code)
    period = session.get(Period, code)
    if period is None:
        period = Period(code=code, status="open")
        session.add(period)
        session.flush()
    return period


def entry_id_for_key(session: Session, key: str) -> int | None:
    return session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.idempotency_key) == key)
    ).first()


def is_closed(session: Session, code: str) -> bool:
    """Whether a period is closed (without creating it)."""
    period = session.get(Period, parse_period(code))
    return period is not None and period.status == "closed"


def require_open(session: Session, code: str) -> None:
    period = ensure_period(session, code)
    if period.status != "open":
        raise PeriodClosed(
            f"period {code} is closed", hint="post corrections into the next open period"
        )


def last_closed_period(session: Session) -> str | None:
    return session.scalars(
        select(func.max(col(Period.code))).where(col(Period.status) == "closed")
    ).first()


def open_period_for(session: Session, wanted: str | None = None) -> str:
    """The open period a correction lands in: ``wanted`` if it is open, else the
    month after the last closed period (created if needed)."""
    last_closed = last_closed_period(session)
    if wanted:
        code = parse_period(wanted)
    else:
        latest_open = session.scalars(
            select(func.max(col(Period.code))).where(col(Period.status) == "open")
        ).first()
        if latest_open is None and last_closed is None:
            raise Conflict("no period exists yet", hint="give --period YYYY-MM")
        code = latest_open or next_period(last_closed or "")
    if last_closed and code <= last_closed:
        code = next_period(last_closed)
    ensure_period(session, code)
    return code


def close_period(session: Session, code: str) -> Period:
    """Lock a period for good: no posting will ever land in it again."""
    period = ensure_period(session, code)
    if period.status == "closed":
        raise PeriodClosed(f"period {code} is already closed")
    earlier_open = session.scalars(
        select(col(Period.code)).where(col(Period.code) < code, col(Period.status) == "open")
    ).first()
    if earlier_open:
        raise Conflict(f"period {earlier_open} is still open", hint=f"close it before {code}")
    period.status = "closed"
    period.closed_at = datetime.now(UTC)
    session.add(period)
    session.flush()
    return period


# ---------------------------------------------------------------------------
# Posting


def _head(session: Session) -> LedgerHead:
    head = session.get(LedgerHead, 1, with_for_update=True)
    if head is None:  # pragma: no cover - the migration inserts it
        raise LedgerTampered(
            "ledger head is missing", hint="the database was altered behind the ledger"
        )
    return head


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
    return PostedEntry(
        entry.id,
        entry.idempotency_key,
        entry.period,
        entry.kind,
        entry.description,
        entry.hash,
        created=False,
    )


def post(session: Session, draft: EntryDraft) -> PostedEntry:
    """Post one entry (or return the identical one already posted under its key)."""
    check_balanced(draft)
    content = draft.content_hash()
    existing = _existing(session, draft, content)
    if existing is not None:
        return existing
    require_open(session, draft.period)
    if draft.reverses is not None:
        _check_reversible(session, draft.reverses)
    accounts = AccountCache(session)
    accounts.ensure(leg.account for leg in draft.legs)
    head = _head(session)
    writer = _Writer(session, head, accounts, pipelined=False)
    try:
        posted = writer.write([(draft, content)])[0]
        writer.finish()
    except BaseException:
        writer.cancel()
        raise
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

    Streams ``drafts`` in chunks so memory stays flat. A chunk of many postings is
    stored on a worker thread while the next is drawn, so iterating ``drafts``
    (and ``progress``) must never use the session: when it happens during such a
    write the statement is refused (:class:`ledger.store.bulkwork.ConnectionBusy`; tests
    lower ``_BACKGROUND_POSTINGS`` to reach that path). Keys must be new: a key
    already in the ledger is an :class:`IdempotencyConflict` (bulk callers such
    as imports refuse duplicates before posting). Returns the number posted.
    """
    head = _head(session)
    accounts = AccountCache(session)
    writer = _Writer(session, head, accounts, pipelined=True)
    periods_ok: set[str] = set()
    total = 0
    iterator = iter(drafts)
    try:
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
                if draft.period not in periods_ok:
                    _refused_rows(writer.sync)  # the session is free again
                    require_open(session, draft.period)
                    periods_ok.add(draft.period)
                if draft.reverses is not None:
                    _refused_rows(writer.sync)
                    _check_reversible(session, draft.reverses)
                prepared.append((draft, draft.content_hash()))
            missing = accounts.missing(leg.account for draft in batch for leg in draft.legs)
            if missing:
                _refused_rows(writer.sync)
                accounts.ensure(missing)
            _refused_rows(partial(writer.write, prepared))
            total += len(batch)
            if progress:
                progress(len(batch))
        _refused_rows(writer.sync)
        writer.finish()
    except BaseException:
        writer.cancel()
        raise
    return total


def _refused_rows(call: Callable[[], object]) -> None:
    """Run a bulk write step; rows the database refuses are (most likely) keys already
    posted, which post_many does not look up one by one."""
    try:
        call()
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


_BACKGROUND_POSTINGS = 20_000
"""A write of this many postings is stored on a worker thread: on SQLite in parts of
this size (an entry's row goes in before its postings), on PostgreSQL whole (its
triggers need an entry's postings in first), and then only by post_many, where the
next chunk is made meanwhile."""


class _Writer:
    """Assigns ids and chain hashes and writes rows with the fastest path per database.

    It also sums what the write moves per account, period, currency and (on party
    accounts) memo, and appends those sums to ``account_total`` when it finishes.

    Large writes are stored on a worker thread (:class:`ledger.store.bulkwork.Offload`):
    the database stores one part while the next one is made (the drivers let go
    of the GIL while the database works). Until :meth:`sync` (or :meth:`finish`,
    or :meth:`cancel` after an error) the session must not be used; the worker's
    guard refuses any statement meanwhile. On SQLite the page cache is held small
    from the first part until :meth:`finish` has advanced the head (or :meth:`cancel`).
    """

    def __init__(
        self, session: Session, head: LedgerHead, accounts: AccountCache, *, pipelined: bool
    ) -> None:
        """``pipelined``: whole writes may go to the worker (the caller makes the next one
        meanwhile); otherwise only the parts of one write on SQLite do."""
        self.session = session
        self.pipelined = pipelined
        self.head = head
        self.accounts = accounts
        self.next_entry = head.last_entry_id + 1
        self.next_posting = head.posting_count + 1
        self.prev_hash = head.last_hash
        self.entries = 0
        self.postings = 0
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.totals: dict[tuple[int, str, str, str | None], list[int]] = {}
        # At most one part waits in the queue while one is stored (and the next is being
        # made): enough to overlap, and memory stays low (on PostgreSQL a part is a whole
        # chunk of post_many).
        self._offload = Offload("journal", backlog=1)
        self._dbapi: Any = None

    def write(self, prepared: Sequence[tuple[EntryDraft, str]]) -> list[PostedEntry]:
        posted_at = _now()
        entry_rows: list[tuple[Any, ...]] = []
        posting_rows: list[tuple[Any, ...]] = []
        result: list[PostedEntry] = []
        accounts = self.accounts.ids_and_parties()
        totals = self.totals
        add_posting = posting_rows.append
        first_posting = next_posting = self.next_posting
        # On SQLite an entry's row goes in before its postings, so a large write can be
        # stored in parts; PostgreSQL's triggers need an entry's postings in first.
        part = 0 if self.postgres else _BACKGROUND_POSTINGS
        for draft, content in prepared:
            entry_id = self.next_entry
            self.next_entry += 1
            period = draft.period
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
                if u < 0:  # units_to_parts, inlined: the hot loop of every write
                    whole, frac = divmod(-u, FRAC_PER_WHOLE)
                    whole, frac = -whole, -frac
                else:
                    whole, frac = divmod(u, FRAC_PER_WHOLE)
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
                if len(posting_rows) == part:
                    self._store(posting_rows, entry_rows)
                    posting_rows, entry_rows = [], []
                    add_posting = posting_rows.append
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
        self._store(posting_rows, entry_rows)
        self.entries += len(prepared)
        self.postings += next_posting - first_posting
        return result

    def _store(self, postings: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]) -> None:
        """Insert the rows now, or hand them to the worker (the lists are its from then on)."""
        if not postings and not entries:
            return
        dbapi = self._connection()
        if not self._offload.active and (
            len(postings) < _BACKGROUND_POSTINGS or (self.postgres and not self.pipelined)
        ):
            self._insert(dbapi, postings, entries)
            return
        self._offload.submit(
            partial(self._insert, dbapi, postings, entries),
            connection=self.session.connection(),
            dbapi=dbapi,
            sqlite=not self.postgres,
        )

    def _connection(self) -> Any:
        if self._dbapi is None:
            self._dbapi = self.session.connection().connection.dbapi_connection
            assert self._dbapi is not None
        return self._dbapi

    def sync(self) -> None:
        """Wait until every row handed to the worker is stored; raise what it raised
        (the caller then cancels)."""
        self._offload.wait()

    def cancel(self) -> None:
        """After an error: drop the rows not yet stored, wait for the part being stored,
        give the page cache its size back."""
        self._offload.cancel()

    def _insert(
        self, dbapi: Any, postings: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]
    ) -> None:
        if self.postgres:
            # Postings first: the entries' statement trigger checks that their legs balance.
            with dbapi.cursor() as cur:
                with cur.copy(f"COPY posting ({POSTING_COLS}) FROM STDIN") as copy:
                    for row in postings:
                        copy.write_row(row)
                with cur.copy(f"COPY journal_entry ({ENTRY_COLS}) FROM STDIN") as copy:
                    for row in entries:
                        copy.write_row(row)
        else:
            # Entries first, so each posting's foreign key finds its entry at once; the
            # whole write is checked when the ledger head advances (finish).
            cur = dbapi.cursor()
            try:
                _insert_rows(cur, "journal_entry", ENTRY_COLS, 11, entries)
                _insert_rows(cur, "posting", POSTING_COLS, 13, postings)
            finally:
                cur.close()

    def finish(self) -> None:
        """Append the write's account totals and advance the ledger head (on SQLite the
        head's trigger checks the whole write: balance, periods, no late legs)."""
        self.sync()
        if not self.entries:
            self._offload.release()
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
        self._offload.release()  # after the head's check has read the write back


POSTING_COLS = (
    "id, entry_id, account_id, currency, amount_whole, amount_frac, isrc, source, territory, "
    "usage, usage_period, rule_ref, memo"
)
ENTRY_COLS = (
    "id, idempotency_key, period, kind, description, source_ref, reverses_id, posted_at, "
    "content_hash, prev_hash, hash"
)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


_ROWS_PER_INSERT = 2000


@lru_cache(maxsize=16)
def _multi_insert(table: str, cols: str, width: int, rows: int) -> str:
    return f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([f"({_marks(width)})"] * rows)


def _insert_rows(
    cur: sqlite3.Cursor, table: str, cols: str, width: int, rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows many to a statement: a third faster than ``executemany`` on SQLite,
    which steps and resets its statement once per row."""
    limit = cur.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(_ROWS_PER_INSERT, limit // width))
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        cur.execute(_multi_insert(table, cols, width, len(part)), list(chain.from_iterable(part)))


# ---------------------------------------------------------------------------
# Reading entries back


def entry_legs(session: Session, entry_id: int) -> tuple[JournalEntry, tuple[Leg, ...]]:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"journal entry {entry_id} does not exist")
    rows = session.execute(
        select(Posting, col(Account.code))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id)
        .order_by(col(Posting.id))
    ).all()
    return entry, tuple(_leg(p, code) for p, code in rows)


def _leg(p: Posting, code: str) -> Leg:
    return Leg(
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


def _check_reversible(session: Session, entry_id: int) -> None:
    if session.get(JournalEntry, entry_id) is None:
        raise NotFound(f"journal entry {entry_id} does not exist")
    already = session.scalars(
        select(col(JournalEntry.id)).where(col(JournalEntry.reverses_id) == entry_id)
    ).first()
    if already:
        raise Conflict(f"journal entry {entry_id} was already reversed by entry {already}")


def reversal_draft(
    entry: JournalEntry,
    legs: Sequence[Leg],
    *,
    key: str,
    period: str,
    description: str | None = None,
) -> EntryDraft:
    """The mirror of a posted entry (pure): same legs, opposite signs."""
    return EntryDraft(
        key=key,
        period=period,
        kind="reversal",
        description=description or f"Reversal of entry {entry.id}: {entry.description}",
        legs=tuple(leg._replace(units=-leg.units) for leg in legs),
        source_ref=entry.source_ref,
        reverses=entry.id,
    )


def reverse(
    session: Session,
    entry_id: int,
    *,
    period: str,
    key: str | None = None,
    description: str | None = None,
) -> PostedEntry:
    """Correct a posted entry the only allowed way: post its mirror image, linked to it."""
    entry, legs = entry_legs(session, entry_id)
    draft = reversal_draft(
        entry, legs, key=key or f"reverse:{entry_id}", period=period, description=description
    )
    return post(session, draft)


# ---------------------------------------------------------------------------
# Trial balance and verification


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account: str
    type: str
    currency: str
    balance: Decimal

    @property
    def debit(self) -> Decimal:
        return self.balance if self.balance > 0 else Decimal(0)

    @property
    def credit(self) -> Decimal:
        return -self.balance if self.balance < 0 else Decimal(0)


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[BalanceRow, ...]
    totals: dict[str, Decimal] = field(default_factory=dict)
    """Sum of all balances per currency: zero in a sound ledger."""

    @property
    def balanced(self) -> bool:
        return all(v == 0 for v in self.totals.values())


def trial_balance(session: Session, *, up_to_period: str | None = None) -> TrialBalance:
    """Every account's balance per currency, summed exactly in SQL from the account
    totals (which :func:`verify` checks against the postings)."""
    stmt = (
        select(
            col(Account.code),
            col(Account.type),
            col(AccountTotal.currency),
            func.sum(col(AccountTotal.amount_whole)),
            func.sum(col(AccountTotal.amount_frac)),
        )
        .join(Account, col(Account.id) == col(AccountTotal.account_id))
        .group_by(col(Account.code), col(Account.type), col(AccountTotal.currency))
        .order_by(col(Account.code), col(AccountTotal.currency))
    )
    if up_to_period:
        stmt = stmt.where(col(AccountTotal.period) <= parse_period(up_to_period))
    rows = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for code, type_, cur, whole, frac in session.execute(stmt):
        balance = from_units(parts_to_units(whole, frac))
        rows.append(BalanceRow(code, type_, cur, balance))
        totals[cur] += balance
    return TrialBalance(tuple(rows), dict(totals))


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    postings: int
    last_hash: str


def verify(session: Session, *, batch: int = 50_000) -> VerifyReport:
    """Recompute every entry's content hash and the chain; raise :class:`LedgerTampered`
    at the first entry that does not match what was posted."""
    head = session.get(LedgerHead, 1)
    if head is None:
        raise LedgerTampered("ledger head is missing")
    codes = {row[0]: row[1] for row in session.execute(select(col(Account.id), col(Account.code)))}
    prev = GENESIS
    expected_id = 1
    postings_seen = 0
    entries = _stream_entries(session, batch)
    legs_by_entry = _stream_postings(session, batch)
    current = next(legs_by_entry, None)
    for entry in entries:
        eid = entry[0]
        if eid != expected_id:
            raise LedgerTampered(f"journal entry {expected_id} is missing (found {eid} next)")
        legs: list[Leg] = []
        while current is not None and current[0] < eid:
            raise LedgerTampered(f"postings of entry {current[0]} have no entry")
        if current is not None and current[0] == eid:
            legs = [_leg_from_row(r, codes) for r in current[1]]
            current = next(legs_by_entry, None)
        postings_seen += len(legs)
        draft = EntryDraft(entry[1], entry[2], entry[3], entry[4], tuple(legs), entry[5], entry[6])
        content = draft.content_hash()
        if content != entry[8]:
            raise LedgerTampered(
                f"journal entry {eid} ({entry[1]}) was altered: its content no longer matches its hash",
                hint="restore the database from a backup and investigate",
            )
        try:
            check_balanced(draft)
        except UnbalancedEntry as exc:
            raise LedgerTampered(f"journal entry {eid} no longer balances: {exc.message}") from None
        if entry[9] != prev or chain_hash(prev, eid, entry[7], content) != entry[10]:
            raise LedgerTampered(f"hash chain broken at journal entry {eid}")
        prev = entry[10]
        expected_id += 1
    if current is not None:
        raise LedgerTampered(f"postings of entry {current[0]} have no entry")
    entries_seen = expected_id - 1
    if (
        entries_seen != head.entry_count
        or prev != head.last_hash
        or head.last_entry_id != entries_seen
    ):
        raise LedgerTampered(
            f"the ledger head records {head.entry_count} entries ending in {head.last_hash[:12]}, "
            f"but {entries_seen} entries ending in {prev[:12]} were found: entries were removed or added"
        )
    if postings_seen != head.posting_count:
        raise LedgerTampered(
            f"the ledger head records {head.posting_count} postings but {postings_seen} were found"
        )
    for table, seen in (("journal_entry", entries_seen), ("posting", postings_seen)):
        # The walk above starts at id 1; rows below it would escape it.
        rows, lowest = session.execute(text(f"SELECT count(*), min(id) FROM {table}")).one()
        if rows != seen or (lowest is not None and lowest < 1):
            raise LedgerTampered(
                f"{table} holds {rows} rows (lowest id {lowest}) but the chain accounts "
                f"for {seen}: rows were added behind the ledger's back"
            )
    _verify_totals(session, codes)
    return VerifyReport(entries_seen, postings_seen, prev)


_TOTALS_FROM_POSTINGS = """
SELECT p.account_id, e.period, p.currency,
       CASE WHEN a.party_id IS NULL THEN NULL ELSE p.memo END,
       SUM(p.amount_whole), SUM(p.amount_frac), COUNT(*)
FROM posting p JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id
GROUP BY p.account_id, e.period, p.currency, CASE WHEN a.party_id IS NULL THEN NULL ELSE p.memo END
"""
_TOTALS_STORED = """
SELECT account_id, period, currency, memo, SUM(amount_whole), SUM(amount_frac), SUM(postings)
FROM account_total GROUP BY account_id, period, currency, memo
"""


def _verify_totals(session: Session, codes: dict[int, str]) -> None:
    """The account totals that balances and the trial balance read must be exactly
    the sums of the (already verified) postings."""

    def load(sql: str) -> dict[tuple[Any, ...], tuple[int, int]]:
        out: dict[tuple[Any, ...], tuple[int, int]] = {}
        for account_id, period, cur, memo, whole, frac, n in session.execute(text(sql)):
            out[(account_id, period, cur, memo)] = (
                parts_to_units(whole, frac),
                int(n),
            )
        return out

    expected, stored = load(_TOTALS_FROM_POSTINGS), load(_TOTALS_STORED)
    if expected != stored:
        key = min(
            (k for k in expected.keys() | stored.keys() if expected.get(k) != stored.get(k)),
            key=str,
        )
        account = codes.get(key[0], f"#{key[0]}")
        raise LedgerTampered(
            f"account totals of {account} in {key[1]} ({key[2]}) do not match its postings",
            hint="the totals that balances read were altered; restore from a backup",
        )


def _stream_entries(session: Session, batch: int) -> Iterator[tuple[Any, ...]]:
    cols = ENTRY_COLS
    last = 0
    while True:
        rows = session.execute(
            text(f"SELECT {cols} FROM journal_entry WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": batch},
        ).all()
        if not rows:
            return
        yield from (tuple(r) for r in rows)
        last = rows[-1][0]


def _stream_postings(session: Session, batch: int) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    def rows() -> Iterator[tuple[Any, ...]]:
        last = (0, 0)
        while True:
            chunk = session.execute(
                text(
                    f"SELECT entry_id, {POSTING_COLS} FROM posting "
                    "WHERE entry_id > :e OR (entry_id = :e AND id > :i) "
                    "ORDER BY entry_id, id LIMIT :n"
                ),
                {"e": last[0], "i": last[1], "n": batch},
            ).all()
            if not chunk:
                return
            yield from (tuple(r) for r in chunk)
            last = (chunk[-1][0], chunk[-1][1])

    for entry_id, group in groupby(rows(), key=lambda r: r[0]):
        yield entry_id, list(group)


def _leg_from_row(r: tuple[Any, ...], codes: dict[int, str]) -> Leg:
    # r = (entry_id, id, entry_id, account_id, currency, whole, frac, isrc, source, territory,
    #      usage, usage_period, rule_ref, memo)
    return Leg(
        codes.get(r[3], f"?{r[3]}"),
        parts_to_units(r[5], r[6]),
        r[4],
        r[7],
        r[8],
        r[9],
        r[10],
        r[12],
        r[13],
        r[11],
    )
