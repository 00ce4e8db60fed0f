"""Statements as files: issued once for a closed period, served byte for byte ever after.

The figures come from :mod:`ledger.services.statement_data`; the adapter hands in
the renderer (``reports`` makes PDF and CSV bytes), so this service never picks a
file format's library itself.

Statements of a *closed* period are issued once (:class:`IssuedStatement`,
bytes and SHA-256) by :func:`issue_statements`; later reads return exactly those
bytes, whatever is posted afterwards. An open period's statements are drafts:
rendered on each read and never stored.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain.errors import NotFound
from ledger.domain.periods import Period
from ledger.domain.statement import Statement
from ledger.services.statement_data import (
    StatementContext,
    build_statement,
    has_statement,
    parties_with_activity,
)
from ledger.store import periods
from ledger.store.models import IssuedStatement, Party

FORMATS: tuple[str, ...] = ("pdf", "csv")
MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}

Renderer = Callable[[Statement, str], bytes]
"""Makes a statement's bytes in one format (``reports.render``); the same statement
must give the same bytes."""


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A period a party has a statement for; ``sha256`` per format once it is issued."""

    period: Period
    formats: tuple[str, ...]
    issued: bool
    sha256: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class StatementFile:
    """One statement file, ready to send: the exact bytes, a file name, a media type."""

    party_id: str
    format: str
    content: bytes
    filename: str
    media_type: str


def filename(party_id: str, period: Period, fmt: str) -> str:
    """``statement_2026-10_rust.pdf``; a party id is reduced to safe file-name characters."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]+", "-", party_id).strip(".-") or "party"
    return f"statement_{period}_{safe}.{fmt}"


class UnknownFormat(NotFound):
    """A statement format other than pdf or csv (a 404 for the API: no such file)."""

    code = "unknown-format"
    title = "Unknown statement format"


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The wanted formats, each once, or :class:`UnknownFormat`."""
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise UnknownFormat(
            f"format: {', '.join(map(repr, bad)) or 'none given'} is not a statement format",
            hint="use pdf, csv or pdf,csv",
        )
    return wanted


def _issued(session: Session, party_id: str, period: Period) -> dict[str, IssuedStatement]:
    return {
        s.format: s
        for s in session.scalars(
            select(IssuedStatement).where(
                col(IssuedStatement.party_id) == party_id,
                col(IssuedStatement.period) == period,
            )
        )
    }


def _contents(
    session: Session,
    party_id: str,
    period: Period,
    formats: Sequence[str],
    render: Renderer,
    *,
    context: StatementContext | None,
    store: bool,
) -> dict[str, bytes]:
    """The files of one statement: issued bytes when stored, else rendered now (and
    stored when ``store`` and the period is closed)."""
    issued = _issued(session, party_id, period)
    out = {f: issued[f].content for f in formats if f in issued}
    missing = [f for f in formats if f not in out]
    if not missing:
        return out
    statement = build_statement(session, party_id, period, context=context)
    closed = store and periods.is_closed(session, period)
    for fmt in missing:
        data = render(statement, fmt)
        out[fmt] = data
        if closed:
            session.add(
                IssuedStatement(
                    party_id=party_id,
                    period=period,
                    format=fmt,
                    sha256=hashlib.sha256(data).hexdigest(),
                    content=data,
                    created_at=datetime.now(UTC),
                )
            )
    if closed:
        session.flush()
    return out


def issue_statements(
    session: Session,
    period: Period,
    render: Renderer,
    *,
    party: str | None = None,
    formats: Sequence[str] = FORMATS,
    progress: Callable[[int, int, str], None] | None = None,
) -> Iterator[StatementFile]:
    """The statement files of every party with activity (or of one ``party``), party by
    party, for the adapter to write or send.

    For a closed period the files are issued: stored with their SHA-256 the first
    time, and every later call gives exactly the stored bytes (needs a write
    session). An open period's statements are drafts and are not stored.
    ``progress(done, total, party_id)`` is called after each party's files.
    """
    wanted = check_formats(formats)
    if party is not None:
        if session.get(Party, party) is None:
            raise NotFound(f"party {party!r} is not in the catalog")
        if not has_statement(session, party, period) and not _issued(session, party, period):
            raise NotFound(f"party {party!r} has no activity or balance in {period}")
        parties = [party]
    else:
        parties = parties_with_activity(session, period)
    context = StatementContext.load(session)
    for done, party_id in enumerate(parties, 1):
        contents = _contents(session, party_id, period, wanted, render, context=context, store=True)
        for fmt in wanted:
            yield StatementFile(
                party_id,
                fmt,
                contents[fmt],
                filename(party_id, period, fmt),
                MEDIA_TYPES[fmt],
            )
        if progress is not None:
            progress(done, len(parties), party_id)


def list_statements(session: Session, party_id: str) -> list[StatementRef]:
    """The periods the party has a statement for, newest first, with issued hashes."""
    if session.get(Party, party_id) is None:
        raise NotFound(f"party {party_id!r} is not in the catalog")
    found = {
        Period.of_code(r[0])
        for r in session.execute(
            text(
                "SELECT DISTINCT e.period FROM posting p JOIN account a ON a.id = p.account_id "
                "JOIN journal_entry e ON e.id = p.entry_id WHERE a.party_id = :party"
            ),
            {"party": party_id},
        )
    }
    issued: dict[Period, dict[str, str]] = defaultdict(dict)
    for s in session.scalars(
        select(IssuedStatement).where(col(IssuedStatement.party_id) == party_id)
    ):
        issued[s.period][s.format] = s.sha256
    found |= issued.keys()
    return [
        StatementRef(
            period=p,
            formats=FORMATS,
            issued=p in issued,
            sha256=dict(sorted(issued[p].items())) if p in issued else None,
        )
        for p in sorted(found, reverse=True)
    ]


def statement_file(
    session: Session, party_id: str, period: Period, fmt: str, render: Renderer
) -> StatementFile:
    """One statement file: the issued bytes when the statement was issued, else rendered
    now (a draft for an open period; nothing is stored by a read).

    Raises :class:`NotFound` for an unknown party, or a period with nothing in it.
    """
    fmt = check_formats([fmt])[0]
    if session.get(Party, party_id) is None:
        raise NotFound(f"party {party_id!r} is not in the catalog")
    issued = _issued(session, party_id, period)
    if fmt not in issued and not has_statement(session, party_id, period):
        raise NotFound(f"party {party_id!r} has no statement for {period}")
    data = _contents(session, party_id, period, [fmt], render, context=None, store=False)[fmt]
    return StatementFile(party_id, fmt, data, filename(party_id, period, fmt), MEDIA_TYPES[fmt])
