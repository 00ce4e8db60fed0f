"""Revenue import: one file, one transaction, every line kept, one balanced entry.

Pipeline (the parsers are pure; this module is the database edge):

1. parse and validate the whole file (:mod:`ledger.parsers`): every problem is
   reported at once and nothing is written;
2. refuse a file whose content was imported before, naming that import, unless
   ``replace`` is given: then the earlier import's entries are reversed;
3. convert amounts to the ledger currency (the file's own rate where it carries
   one, else the rates file; a missing rate is an error, never a guess);
4. store every line with its file and line number; lines whose ISRC is
   malformed or not in the catalog are marked for suspense with the reason;
5. post one entry: the source's receivable is debited, undistributed revenue
   (or suspense) credited per track, source, territory, usage type, usage
   period and currency.

Everything happens in the caller's transaction, so a crash or Ctrl-C part-way
leaves the database exactly as it was.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain.errors import Conflict, InputError, Problem
from ledger.domain.fx import Rates, UnitConverter, parse_rates
from ledger.domain.money import FRAC_PER_WHOLE, from_units, to_text, units_to_text
from ledger.domain.periods import parse_period
from ledger.parsers import ParsedFile, open_revenue_file, parse_mapping
from ledger.parsers.base import Progress
from ledger.store import accounts, journal, settings
from ledger.store.bulkwork import Offload, collector_paused
from ledger.store.journal import EntryDraft, Leg
from ledger.store.models import RevenueImport, RevenueLine, SuspenseRelease, Track

REASON_MALFORMED = "malformed ISRC"
REASON_UNKNOWN = "ISRC not in catalog"
_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    import_id: int | None
    filename: str
    sha256: str
    format: str
    source: str
    period: str
    lines: int
    totals: dict[str, Decimal]
    """Per currency as the file states it: check these against the file's own totals."""
    ledger_currency: str
    ledger_total: Decimal
    suspense_lines: int
    suspense_amount: Decimal
    entry_id: int | None
    replaced_imports: tuple[int, ...] = ()
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class ImportInfo:
    id: int
    filename: str
    sha256: str
    format: str
    source: str
    period: str
    lines: int
    suspense_lines: int
    totals: dict[str, Decimal]
    status: str
    entry_id: int | None
    superseded_by: int | None
    imported_at: str


_GroupKey = tuple[str, str, str, str, str, str]
"""(isrc, source, territory, usage, usage period, suspense reason or ""): one credit leg."""


@dataclass(slots=True)
class _Plan:
    """What the lines add up to: the entry's legs, the file's totals, the suspense."""

    groups: dict[_GroupKey, list[int]]
    """Per credit leg: [units in the ledger currency, quantity]."""
    receivable: dict[str, int]
    file_totals: dict[str, int]
    """Per currency as the file states it, in units."""
    lines: int
    suspense_lines: int
    suspense_units: int


def _plan(
    parsed: ParsedFile,
    ledger_ccy: str,
    rates: Rates | None,
    known: set[str],
    writer: _LineWriter | None,
    line_id: int,
) -> _Plan:
    """Read the validated file's lines once: convert, classify, total and group them,
    and hand each line's row to ``writer`` (none on a dry run).

    The hot loop of an import: per line, integers and tuples only (amounts in units,
    conversions by :class:`ledger.domain.fx.UnitConverter`, canonical text from units).
    """
    groups: dict[_GroupKey, list[int]] = {}
    file_totals: dict[str, int] = {}
    converters: dict[str, tuple[UnitConverter, str]] = {}
    ledger_units = 0  # lines already in the ledger currency, as the file states them
    converted = 0
    total = 0
    suspense_lines = 0
    suspense_units = 0
    first_id = line_id
    rows: list[Any] = []  # flat: _LineWriter.WIDTH values per line
    room = _CHUNK  # lines before the next write
    unknown = REASON_UNKNOWN
    for (
        line_no,
        isrc,
        valid,
        _title,
        territory,
        usage,
        quantity,
        units,
        ccy,
        period,
        source,
        original,
        original_ccy,
        rate,
        detail,
    ) in parsed.records():
        if ccy == ledger_ccy:
            ledger_units += units
            if original is None and original_ccy is None and rate is None:
                original_text = original_ccy = rate_text = ""
            else:  # the file converted the amount itself
                original_text = "" if original is None else to_text(original)
                original_ccy = original_ccy or ""
                rate_text = "" if rate is None else str(rate)
        else:
            converted += 1
            file_totals[ccy] = file_totals.get(ccy, 0) + units
            found = converters.get(ccy)
            if found is None:
                assert rates is not None  # _check_rates refused the file otherwise
                converter = UnitConverter(ccy, rates)
                found = converters[ccy] = (converter, str(converter.rate))
            convert_units, rate_text = found
            original_text = units_to_text(units)
            original_ccy = ccy
            units = convert_units(units)
        total += units
        if not valid:
            reason = REASON_MALFORMED
        elif isrc in known:
            reason = ""
        else:
            reason = unknown
        if reason:
            suspense_lines += 1
            suspense_units += units
        key = (isrc, source, territory, usage, period, reason)
        group = groups.get(key)
        if group is None:
            groups[key] = [units, quantity]
        else:
            group[0] += units
            group[1] += quantity
        if writer is not None:
            if units < 0:  # money.units_to_parts, inlined: once per line
                whole, frac = divmod(-units, FRAC_PER_WHOLE)
                whole, frac = -whole, -frac
            else:
                whole, frac = divmod(units, FRAC_PER_WHOLE)
            rows.extend(
                (  # _LineWriter's row
                    line_id,
                    line_no,
                    isrc[:64],
                    territory,
                    usage,
                    period,
                    source[:100],
                    quantity,
                    whole,
                    frac,
                    original_text,
                    original_ccy,
                    rate_text,
                    reason,
                    detail[:200] if detail else "",
                )
            )
            room -= 1
            if not room:
                writer.write(rows)  # handed over: a new list for the next batch
                rows = []
                room = _CHUNK
        line_id += 1
    if writer is not None:
        writer.write(rows)
    lines = line_id - first_id
    if lines > converted:
        file_totals[ledger_ccy] = ledger_units
    return _Plan(
        groups=groups,
        receivable={ledger_ccy: total} if lines else {},
        file_totals=file_totals,
        lines=lines,
        suspense_lines=suspense_lines,
        suspense_units=suspense_units,
    )


def import_file(
    session: Session,
    path: Path,
    *,
    display_name: str | None = None,
    fmt: str = "auto",
    mapping_path: Path | None = None,
    source: str | None = None,
    period: str | None = None,
    fx_path: Path | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one revenue file in the caller's transaction (see the module docstring)."""
    mapping = None
    if mapping_path is not None:
        mapping = parse_mapping(_read_text(mapping_path), str(mapping_path))
        if fmt == "auto":
            fmt = "csv"
    parsed = open_revenue_file(
        path,
        fmt=fmt,
        mapping=mapping,
        source=source,
        period=parse_period(period) if period else None,
        progress=progress,
    )
    try:
        with collector_paused():
            return _import(
                session,
                parsed,
                path,
                display_name=display_name,
                source=source,
                period=period,
                fx_path=fx_path,
                replace=replace,
                dry_run=dry_run,
            )
    finally:
        parsed.close()


def _import(
    session: Session,
    parsed: ParsedFile,
    path: Path,
    *,
    display_name: str | None,
    source: str | None,
    period: str | None,
    fx_path: Path | None,
    replace: bool,
    dry_run: bool,
) -> ImportSummary:
    name = display_name or Path(path).name
    try:
        info = parsed.validate()
    except InputError as exc:
        if display_name is None:
            raise
        # Problems name the file as the user knows it (an upload's name, not a temp path).
        raise InputError(
            [dataclasses.replace(p, file=name) if p.file == str(path) else p for p in exc.problems],
            truncated=exc.truncated,
        ) from None
    import_period = _import_period(name, period, info.period, info.periods)
    file_source = source or info.source
    ledger_ccy = settings.ledger_currency(session)
    rates = _load_rates(fx_path, import_period, ledger_ccy) if fx_path else None
    _check_rates(name, info.totals, ledger_ccy, rates)

    if journal.is_closed(session, import_period):
        journal.require_open(session, import_period)  # says the period is closed, and what to do
    earlier = _earlier_imports(session, info.sha256, name, file_source, import_period)
    if earlier and not replace:
        first = earlier[0]
        raise Conflict(
            f"{name}: this file was already imported as import #{first.id} "
            f"({first.filename}, period {first.period}, {first.imported_at:%Y-%m-%d %H:%M} UTC)",
            hint="nothing was imported; use --replace to supersede that import",
        )
    if not dry_run or journal.is_closed(session, import_period):
        journal.require_open(session, import_period)  # a dry run creates no period row

    known = set(session.scalars(select(col(Track.isrc))))
    import_id = None
    if not dry_run:
        record = RevenueImport(
            sha256=info.sha256,
            filename=name,
            format=info.format,
            source=file_source,
            period=import_period,
            line_count=0,
            totals="{}",
            status="posted",
            imported_at=datetime.now(UTC),
        )
        session.add(record)
        session.flush()
        import_id = record.id
    writer = None if dry_run or import_id is None else _LineWriter(session, import_id, ledger_ccy)
    first_line = _max_id(session, "revenue_line") + 1
    draft = None
    try:
        plan = _plan(parsed, ledger_ccy, rates, known, writer, first_line)
        if writer is not None and import_id is not None and plan.lines:
            # Made and hashed (the hash is kept) while the writer stores the last lines;
            # journal.post checks it.
            draft = _entry(import_id, name, file_source, import_period, plan)
            draft.content_hash()
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.cancel()
        raise

    summary_totals = {c: from_units(u) for c, u in sorted(plan.file_totals.items())}
    ledger_total = from_units(sum(plan.receivable.values()))
    base: dict[str, Any] = dict(
        filename=name,
        sha256=info.sha256,
        format=info.format,
        source=file_source,
        period=import_period,
        lines=plan.lines,
        totals=summary_totals,
        ledger_currency=ledger_ccy,
        ledger_total=ledger_total,
        suspense_lines=plan.suspense_lines,
        suspense_amount=from_units(plan.suspense_units),
    )
    if dry_run or writer is None or import_id is None:
        return ImportSummary(
            import_id=None,
            entry_id=None,
            replaced_imports=tuple(e.id for e in earlier if e.id),
            dry_run=True,
            **base,
        )

    replaced = [_supersede(session, old, import_id, import_period) for old in earlier]
    entry_id = None
    if draft is not None:
        entry_id = journal.post(session, draft).id
    session.execute(
        text(
            "UPDATE revenue_import SET entry_id = :e, line_count = :n, suspense_count = :s, "
            "totals = :t WHERE id = :i"
        ),
        {
            "e": entry_id,
            "n": plan.lines,
            "s": plan.suspense_lines,
            "i": import_id,
            "t": json.dumps({c: to_text(v) for c, v in summary_totals.items()}),
        },
    )
    return ImportSummary(
        import_id=import_id, entry_id=entry_id, replaced_imports=tuple(replaced), **base
    )


def _entry(import_id: int, name: str, source: str, period: str, plan: _Plan) -> EntryDraft:
    """The import's entry; it consumes ``plan.groups`` (each group is freed as its leg
    is made, so the groups and the legs are not all in memory at once)."""
    legs: list[Leg] = []
    receivable = accounts.receivable(source)
    for ccy, units in sorted(plan.receivable.items()):
        legs.append(Leg(receivable, units, ccy, source=source, memo=f"import #{import_id}"))
    (ccy,) = plan.receivable or ("",)  # one currency: every line is converted to the ledger's
    suspense, undistributed = accounts.SUSPENSE, accounts.UNDISTRIBUTED
    # In (isrc, source, territory, usage, usage period, reason) order, no reason first:
    # sorted backwards and taken from the end.
    groups = sorted(plan.groups.items(), reverse=True)
    plan.groups.clear()
    while groups:
        (isrc, src, territory, usage, usage_period, reason), (units, quantity) = groups.pop()
        legs.append(
            Leg(
                suspense if reason else undistributed,
                -units,
                ccy,
                isrc=isrc,
                source=src,
                territory=territory,
                usage=usage,
                usage_period=usage_period,
                memo=f"{reason}; {quantity} units" if reason else f"{quantity} units",
            )
        )
    return EntryDraft(
        key=f"import:{import_id}:{plan.lines}",
        period=period,
        kind="import",
        description=f"Revenue import #{import_id}: {name} ({source})",
        legs=tuple(legs),
        source_ref=f"import:{import_id}",
    )


def _supersede(session: Session, old: RevenueImport, new_id: int, period: str) -> int:
    """Reverse what an earlier import posted (and any suspense it released)."""
    assert old.id is not None
    entry_ids = [old.entry_id] if old.entry_id else []
    entry_ids += list(
        session.scalars(
            select(col(SuspenseRelease.entry_id)).where(col(SuspenseRelease.import_id) == old.id)
        ).unique()
    )
    for entry_id in sorted(set(entry_ids)):
        journal.reverse(
            session,
            entry_id,
            period=period,
            key=f"supersede:{old.id}:{entry_id}:by:{new_id}",
            description=f"Import #{old.id} superseded by import #{new_id}",
        )
    session.execute(
        text("UPDATE revenue_import SET status = 'superseded', superseded_by = :n WHERE id = :o"),
        {"n": new_id, "o": old.id},
    )
    return old.id


def _earlier_imports(
    session: Session, sha256: str, name: str, source: str, period: str
) -> list[RevenueImport]:
    """Posted imports this file would duplicate: same content, or same name, source and period."""
    rows = session.scalars(
        select(RevenueImport)
        .where(col(RevenueImport.status) == "posted")
        .where(
            (col(RevenueImport.sha256) == sha256)
            | (
                (col(RevenueImport.filename) == name)
                & (col(RevenueImport.source) == source)
                & (col(RevenueImport.period) == period)
            )
        )
        .order_by(col(RevenueImport.id))
    )
    return list(rows)


def _import_period(
    name: str, option: str | None, file_period: str | None, periods: Iterable[str]
) -> str:
    if option:
        return parse_period(option)
    if file_period:
        return file_period
    months = ", ".join(sorted(periods)) or "none"
    raise InputError(
        [
            Problem(
                name,
                None,
                "period",
                f"the file has lines for several months ({months}); "
                "give the accounting period with --period YYYY-MM",
            )
        ]
    )


def _load_rates(path: Path, period: str, base: str) -> Rates:
    rates = parse_rates(_read_text(path), str(path), base=base)
    if rates.period != period:
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    "period",
                    f"rates are for {rates.period}, the import is for {period}",
                )
            ]
        )
    return rates


def _check_rates(
    name: str, totals: dict[str, Decimal] | Any, ledger_ccy: str, rates: Rates | None
) -> None:
    missing = []
    for ccy in sorted(totals):
        if ccy == ledger_ccy:
            continue
        if rates is None or (ccy != rates.base and ccy not in rates.rates):
            missing.append(ccy)
    if missing:
        where = (
            "no rates file was given" if rates is None else f"not in the rates for {rates.period}"
        )
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "currency",
                    f"amounts in {ccy} need an exchange rate to {ledger_ccy} ({where}); "
                    "pass --fx RATES.csv with period,currency,rate",
                )
                for ccy in missing
            ]
        )
    if rates is not None and rates.base != ledger_ccy:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "currency",
                    f"the rates file converts to {rates.base}, the ledger currency is {ledger_ccy}",
                )
            ]
        )


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), None, None, f"not UTF-8 text ({exc.reason})")]
        ) from None


def _max_id(session: Session, table: str) -> int:
    return int(session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one())


class _LineWriter:
    """Bulk insert of revenue lines: multi-row INSERT on SQLite, COPY on PostgreSQL.

    Rows come flat, :attr:`WIDTH` values per line: ``id, line_no, isrc, territory,
    usage, usage_period, source, quantity, amount_whole, amount_frac,
    original_amount, original_currency, fx_rate, suspense_reason, detail``, with
    ``""`` for NULL (none of those texts is ever empty). The import id and the
    ledger currency are the same on every row.

    On SQLite one statement inserts up to :attr:`ROWS_PER_INSERT` lines: a third
    less time than ``executemany`` (the statement is set up once per batch, not
    once per line). The two constants are written into the statement (an integer
    and an ISO code) rather than bound on every line, and ``NULLIF(?, '')`` makes
    NULLs: binding None costs the sqlite3 module an adapter lookup per value.
    While it writes, the connection's page cache is held small
    (:class:`ledger.store.bulkwork.SmallPageCache`).

    The statements run on a worker thread (:class:`ledger.store.bulkwork.InOrder`), so the
    database stores one batch while the import reads the next (SQLite stores a
    million lines in about 1.8 s, half of it without the GIL). Statements are
    large because the worker waits for the GIL after each one. The caller hands
    each list over and must not touch it again, nor use the connection until
    :meth:`close` (which waits for the last batch and gives the cache its size
    back) or :meth:`cancel` (after an error) has returned.
    """

    COLS = (
        "id, import_id, line_no, isrc, territory, usage, usage_period, source, quantity, currency, "
        "amount_whole, amount_frac, original_amount, original_currency, fx_rate, suspense_reason, detail"
    )
    WIDTH = 15
    ROWS_PER_INSERT = 2000
    BACKLOG = 4

    def __init__(self, session: Session, import_id: int, currency: str) -> None:
        self.session = session
        self.import_id = import_id
        self.currency = currency
        self.postgres = session.get_bind().dialect.name == "postgresql"
        if not (type(import_id) is int and currency.isascii() and currency.isalpha()):
            raise ValueError(f"import {import_id!r} in {currency!r}")  # pragma: no cover
        self._values = (
            f"(?, {import_id}, ?, ?, ?, ?, ?, ?, ?, '{currency}', ?, ?, NULLIF(?, ''), "
            "NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''))"
        )
        self._batch = 0
        self._batch_sql = ""
        self._dbapi: Any = None
        self._offload = Offload("revenue-lines", backlog=self.BACKLOG)

    def _insert_sql(self, rows: int) -> str:
        return f"INSERT INTO revenue_line ({self.COLS}) VALUES " + ", ".join([self._values] * rows)

    def write(self, flat: list[Any]) -> None:
        """Queue one batch of rows (the list is the writer's from now on)."""
        if not flat:
            return
        if self._dbapi is None:
            self._dbapi = self.session.connection().connection.dbapi_connection
            assert self._dbapi is not None
        self._offload.submit(
            partial(self._store, flat),
            connection=self.session.connection(),
            dbapi=self._dbapi,
            sqlite=not self.postgres,
        )

    def _store(self, flat: list[Any]) -> None:
        """Insert one batch (on the worker thread)."""
        dbapi = self._dbapi
        width = self.WIDTH
        try:
            if self.postgres:
                import_id, ccy = self.import_id, self.currency
                with (
                    dbapi.cursor() as cur,
                    cur.copy(f"COPY revenue_line ({self.COLS}) FROM STDIN") as copy,
                ):
                    write_row = copy.write_row
                    for i in range(0, len(flat), width):
                        r = flat[i : i + width]
                        write_row(
                            (
                                r[0],
                                import_id,
                                *r[1:8],
                                ccy,
                                r[8],
                                r[9],
                                r[10] or None,
                                r[11] or None,
                                r[12] or None,
                                r[13] or None,
                                r[14] or None,
                            )
                        )
            else:
                if not self._batch:
                    # Within SQLite's limit on bound values per statement.
                    limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
                    self._batch = max(1, min(self.ROWS_PER_INSERT, limit // width))
                    self._batch_sql = self._insert_sql(self._batch)
                step = self._batch * width
                cur = dbapi.cursor()
                try:
                    for i in range(0, len(flat), step):
                        part = flat[i : i + step]
                        if len(part) == step:
                            cur.execute(self._batch_sql, part)
                        else:
                            cur.execute(self._insert_sql(len(part) // width), part)
                finally:
                    cur.close()
        except journal.integrity_errors() as exc:  # pragma: no cover
            raise Conflict(f"revenue lines refused by the database: {exc}") from None

    def close(self) -> None:
        """Wait until every batch is stored, then give the page cache its size back (on an
        error the caller cancels)."""
        self._offload.wait()
        self._offload.release()

    def cancel(self) -> None:
        """After an error: drop the batches not yet stored and wait for the running one."""
        self._offload.cancel()


def list_imports(session: Session, period: str | None = None) -> list[ImportInfo]:
    stmt = select(RevenueImport).order_by(col(RevenueImport.id))
    if period:
        stmt = stmt.where(col(RevenueImport.period) == parse_period(period))
    return [
        ImportInfo(
            id=r.id or 0,
            filename=r.filename,
            sha256=r.sha256,
            format=r.format,
            source=r.source,
            period=r.period,
            lines=r.line_count,
            suspense_lines=r.suspense_count,
            totals={c: Decimal(v) for c, v in json.loads(r.totals).items()},
            status=r.status,
            entry_id=r.entry_id,
            superseded_by=r.superseded_by,
            imported_at=r.imported_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for r in session.scalars(stmt)
    ]


def lines_of(session: Session, import_id: int) -> list[RevenueLine]:
    """The stored lines of one import in file order (for audits and tests)."""
    return list(
        session.scalars(
            select(RevenueLine)
            .where(col(RevenueLine.import_id) == import_id)
            .order_by(col(RevenueLine.line_no))
        )
    )
