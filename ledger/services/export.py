"""Export the whole ledger in beancount's format, for an auditor's independent tools.

This module owns the translation of the journal into a beancount file that
``bean-check`` accepts, so the books can be checked by software we did not
write. Nothing is summarised: one transaction per journal entry, one posting
per leg, amounts exact (up to ten decimal places, as stored).

Account names. Beancount wants ``Root:Component:...`` with a root among
Assets, Liabilities, Equity, Income and Expenses and components that start with
a capital letter or digit and hold only letters, digits and dashes. The mapping
(:func:`beancount_account`):

* the root comes from the account's type (``asset`` -> ``Assets``,
  ``liability`` -> ``Liabilities``, ``income`` -> ``Income``, ``expense`` ->
  ``Expenses``, ``equity`` -> ``Equity``);
* each segment of the code is a component: every character other than an ASCII
  letter, digit or dash becomes a dash (so ``_`` and ``.`` become ``-``), and the
  first letter is capitalised; a component that would not start with a letter or
  digit gets an ``X`` in front;
* ``payable:rust`` -> ``Liabilities:Payable:Rust``, ``receivable:streamco`` ->
  ``Assets:Receivable:Streamco``, ``income:fees`` -> ``Income:Fees``,
  ``bank`` -> ``Assets:Bank``: a first segment that repeats the root
  (``income``, ``expense``, ``equity``) is dropped;
* two codes that would map to the same name (``payable:a_b`` and
  ``payable:a-b``) are told apart by the first 8 hex digits of the code's
  SHA-256 added to the later one (in code order); each ``open`` directive keeps
  the original code as ``code`` metadata either way.

Dates. A transaction is dated the last day of its ledger period (the period
is the accounting date; entries of October posted in November belong to
October), so beancount's balances by date are the ledger's balances by
period. The time it was posted is ``posted_at`` metadata; the entry id,
idempotency key, hash, kind, source and reversal link are metadata too, and
each posting carries its dimensions (ISRC, source, territory, usage, usage
period, rule, memo). Accounts are opened on the first day of the earliest
period.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import text
from sqlmodel import Session

from ledger.domain.money import from_units, parts_to_units
from ledger.store import settings

ROOTS = {
    "asset": "Assets",
    "liability": "Liabilities",
    "income": "Income",
    "expense": "Expenses",
    "equity": "Equity",
}
_BAD = re.compile(r"[^A-Za-z0-9-]")
_BATCH = 20_000
_POSTING_META = ("isrc", "source", "territory", "usage", "usage_period", "rule_ref", "memo")


def _component(segment: str) -> str:
    part = _BAD.sub("-", segment) or "X"
    if not part[0].isalnum():
        part = "X" + part
    return part[0].upper() + part[1:]


def beancount_account(code: str, type_: str) -> str:
    """The beancount name of a ledger account (see the module docstring for the rule)."""
    root = ROOTS[type_]
    segments = code.split(":")
    if len(segments) > 1 and segments[0].lower() in (root.lower(), root.lower().rstrip("s")):
        segments = segments[1:]  # income:fees -> Income:Fees, not Income:Income:Fees
    return ":".join([root, *(_component(s) for s in segments)])


def account_names(accounts: list[tuple[str, str]]) -> dict[str, str]:
    """Beancount names for (code, type) pairs, unique even when two codes collide."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for code, type_ in sorted(accounts):
        name = beancount_account(code, type_)
        if name in used:
            name = f"{name}-{hashlib.sha256(code.encode()).hexdigest()[:8]}"
        used.add(name)
        names[code] = name
    return names


def quote(value: object) -> str:
    """A beancount string: double quotes, backslash and quote escaped, one line."""
    s = " ".join(str(value).split())
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _period_end(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{period}-{calendar.monthrange(year, month)[1]:02d}"


def _amount(whole: Any, frac: Any) -> str:
    value = from_units(parts_to_units(whole, frac))
    return format(value, "f")


def _entries(session: Session) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        rows = session.execute(
            text(
                "SELECT id, idempotency_key, period, kind, description, source_ref, "
                "reverses_id, posted_at, hash FROM journal_entry WHERE id > :last "
                "ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        yield from (tuple(r) for r in rows)
        last = int(rows[-1][0])


def _postings(session: Session) -> Iterator[tuple[Any, ...]]:
    last = (0, 0)
    while True:
        rows = session.execute(
            text(
                "SELECT entry_id, id, account_id, currency, amount_whole, amount_frac, isrc, "
                "source, territory, usage, usage_period, rule_ref, memo FROM posting "
                "WHERE entry_id > :e OR (entry_id = :e AND id > :i) "
                "ORDER BY entry_id, id LIMIT :n"
            ),
            {"e": last[0], "i": last[1], "n": _BATCH},
        ).all()
        if not rows:
            return
        yield from (tuple(r) for r in rows)
        last = (int(rows[-1][0]), int(rows[-1][1]))


def export_beancount(session: Session, out: IO[str]) -> None:
    """Write every account and journal entry to ``out`` as a beancount file.

    Streams entries and postings in id order, so memory stays flat on a large
    ledger. The file balances exactly as the ledger does; ``bean-check`` on it
    reports no error.
    """
    ccy = settings.get(session, settings.LEDGER_CURRENCY)
    accounts = [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in session.execute(text("SELECT id, code, type FROM account ORDER BY code"))
    ]
    names = account_names([(code, type_) for _, code, type_ in accounts])
    by_id = {id_: names[code] for id_, code, _ in accounts}
    first = session.execute(text("SELECT MIN(code) FROM period")).scalar()
    open_date = f"{first}-01" if first else "1970-01-01"

    out.write(";; Royalty Ledger journal, exported for beancount (bean-check).\n")
    out.write(";; One transaction per journal entry, dated the last day of its period.\n")
    out.write('option "title" "Royalty Ledger"\n')
    if ccy:
        out.write(f'option "operating_currency" {quote(ccy)}\n')
    out.write("\n")
    for _, code, _type in accounts:
        out.write(f"{open_date} open {names[code]}\n  code: {quote(code)}\n")
    out.write("\n")

    postings = _postings(session)
    pending = next(postings, None)
    for entry in _entries(session):
        eid, key, period, kind, description, source_ref, reverses, posted_at, hash_ = entry
        out.write(f"{_period_end(period)} * {quote(description)}\n")
        out.write(f"  entry_id: {quote(eid)}\n")
        out.write(f"  period: {quote(period)}\n")
        out.write(f"  kind: {quote(kind)}\n")
        out.write(f"  idempotency_key: {quote(key)}\n")
        out.write(f"  hash: {quote(hash_)}\n")
        out.write(f"  posted_at: {quote(posted_at)}\n")
        if source_ref:
            out.write(f"  source_ref: {quote(source_ref)}\n")
        if reverses:
            out.write(f"  reverses: {quote(reverses)}\n")
        while pending is not None and int(pending[0]) == int(eid):
            account, cur = by_id[int(pending[2])], pending[3]
            out.write(f"  {account}  {_amount(pending[4], pending[5])} {cur}\n")
            for name, value in zip(_POSTING_META, pending[6:13], strict=True):
                if value:
                    out.write(f"    {name}: {quote(value)}\n")
            pending = next(postings, None)
        out.write("\n")


__all__ = ["ROOTS", "account_names", "beancount_account", "export_beancount", "quote"]
