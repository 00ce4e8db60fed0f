"""Proof and the trial balance: the journal read back and checked against its hashes.

:func:`verify` recomputes every entry's content hash and the hash chain from the
stored rows (with the rules of :mod:`ledger.domain.entries`), checks the ledger
head's counts and that no row lies outside the chain, and recomputes the
account totals that balances read. :func:`trial_balance` sums those totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from ledger.domain.entries import GENESIS, EntryDraft, Leg, chain_hash, check_balanced
from ledger.domain.errors import InvalidPeriod, LedgerTampered, UnbalancedEntry
from ledger.domain.money import Money, parts_to_units, total
from ledger.domain.periods import Period
from ledger.store.journal import ENTRY_COLUMNS, POSTING_COLUMNS
from ledger.store.models import Account, AccountTotal, LedgerHead


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account: str
    type: str
    currency: str
    balance: Money

    @property
    def debit(self) -> Money:
        return self.balance if self.balance.sign > 0 else Money.zero(self.currency)

    @property
    def credit(self) -> Money:
        return -self.balance if self.balance.sign < 0 else Money.zero(self.currency)


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[BalanceRow, ...]
    totals: dict[str, Money] = field(default_factory=dict)
    """Sum of all balances per currency: zero in a sound ledger."""

    @property
    def balanced(self) -> bool:
        return not any(self.totals.values())


def trial_balance(session: Session, *, up_to_period: Period | None = None) -> TrialBalance:
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
    if up_to_period is not None:
        stmt = stmt.where(col(AccountTotal.period) <= up_to_period)
    rows = []
    by_currency: dict[str, list[Money]] = defaultdict(list)
    for code, type_, cur, whole, frac in session.execute(stmt):
        balance = Money.of_parts(whole, frac, cur)
        rows.append(BalanceRow(code, type_, cur, balance))
        by_currency[cur].append(balance)
    return TrialBalance(
        tuple(rows), {cur: total(amounts, cur) for cur, amounts in by_currency.items()}
    )


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
        try:
            period = Period.of_code(entry[2])
        except InvalidPeriod:
            raise LedgerTampered(
                f"journal entry {eid} ({entry[1]}) was altered: period {entry[2]!r} is not a month"
            ) from None
        draft = EntryDraft(entry[1], period, entry[3], entry[4], tuple(legs), entry[5], entry[6])
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
    cols = ", ".join(ENTRY_COLUMNS)
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
                    f"SELECT entry_id, {', '.join(POSTING_COLUMNS)} FROM posting "
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
