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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger import accounts, journal, settings
from ledger.errors import Conflict, InputError, Problem
from ledger.fx import Rates, convert, parse_rates
from ledger.journal import EntryDraft, Leg
from ledger.models import RevenueImport, RevenueLine, SuspenseRelease, Track
from ledger.money import FRAC_PER_WHOLE, from_units, to_text, to_units
from ledger.parsers import open_revenue_file, parse_mapping
from ledger.parsers.base import Progress
from ledger.periods import parse_period

REASON_MALFORMED = "malformed ISRC"
REASON_UNKNOWN = "ISRC not in catalog"
_CHUNK = 50_000


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


@dataclass(slots=True)
class _Group:
    units: int = 0
    quantity: int = 0


@dataclass(slots=True)
class _Plan:
    groups: dict[tuple[str, str, str, str, str, str, str | None], _Group] = field(
        default_factory=lambda: defaultdict(_Group)
    )
    receivable: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    file_totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: int = 0
    suspense_lines: int = 0
    suspense_units: int = 0


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
    name = display_name or Path(path).name
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
    line_id = _max_id(session, "revenue_line") + 1
    plan = _Plan()
    rows: list[tuple[Any, ...]] = []
    writer = None if dry_run else _LineWriter(session)
    for line in parsed:
        amount = line.amount
        original_amount, original_ccy, rate = (
            line.original_amount,
            line.original_currency,
            line.fx_rate,
        )
        units = to_units(amount)
        plan.file_totals[line.currency] += units
        if line.currency != ledger_ccy:
            assert rates is not None  # _check_rates refused the file otherwise
            original_amount, original_ccy = amount, line.currency
            amount, rate = convert(amount, line.currency, rates)
            units = to_units(amount)
        if not line.isrc_valid:
            reason: str | None = REASON_MALFORMED
        elif line.isrc not in known:
            reason = REASON_UNKNOWN
        else:
            reason = None
        key = (line.isrc, line.source, line.territory, line.usage, line.period, ledger_ccy, reason)
        group = plan.groups[key]
        group.units += units
        group.quantity += line.quantity
        plan.receivable[ledger_ccy] += units
        plan.lines += 1
        if reason:
            plan.suspense_lines += 1
            plan.suspense_units += units
        if writer is not None:
            whole, frac = divmod(-units if units < 0 else units, FRAC_PER_WHOLE)
            if units < 0:
                whole, frac = -whole, -frac
            rows.append(
                (
                    line_id,
                    import_id,
                    line.line_no,
                    line.isrc[:64],
                    line.territory,
                    line.usage,
                    line.period,
                    line.source[:100],
                    line.quantity,
                    ledger_ccy,
                    whole,
                    frac,
                    None if original_amount is None else to_text(original_amount),
                    original_ccy,
                    None if rate is None else str(rate),
                    reason,
                    (line.detail or "")[:200] or None,
                )
            )
            line_id += 1
            if len(rows) >= _CHUNK:
                writer.write(rows)
                rows = []

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

    writer.write(rows)
    replaced = [_supersede(session, old, import_id, import_period) for old in earlier]
    entry_id = None
    if plan.lines:
        posted = journal.post(session, _entry(import_id, name, file_source, import_period, plan))
        entry_id = posted.id
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
    legs: list[Leg] = []
    receivable = accounts.receivable(source)
    for ccy, units in sorted(plan.receivable.items()):
        legs.append(
            Leg(receivable, units, ccy, source=source, memo=f"import #{import_id}")
        )
    for key in sorted(plan.groups, key=_sort_key):
        isrc, src, territory, usage, usage_period, ccy, reason = key
        group = plan.groups[key]
        legs.append(
            Leg(
                accounts.SUSPENSE if reason else accounts.UNDISTRIBUTED,
                -group.units,
                ccy,
                isrc=isrc,
                source=src,
                territory=territory,
                usage=usage,
                usage_period=usage_period,
                memo=f"{reason}; {group.quantity} units" if reason else f"{group.quantity} units",
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


def _sort_key(key: tuple[str, str, str, str, str, str, str | None]) -> tuple[str, ...]:
    return tuple(k or "" for k in key)


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
    """Bulk insert of revenue lines: executemany on SQLite, COPY on PostgreSQL."""

    COLS = (
        "id, import_id, line_no, isrc, territory, usage, usage_period, source, quantity, currency, "
        "amount_whole, amount_frac, original_amount, original_currency, fx_rate, suspense_reason, detail"
    )

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        dbapi: Any = self.session.connection().connection.dbapi_connection
        assert dbapi is not None
        try:
            if self.postgres:
                with (
                    dbapi.cursor() as cur,
                    cur.copy(f"COPY revenue_line ({self.COLS}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                cur = dbapi.cursor()
                try:
                    cur.executemany(
                        f"INSERT INTO revenue_line ({self.COLS}) VALUES ({', '.join('?' * 17)})",
                        rows,
                    )
                finally:
                    cur.close()
        except (sqlite3.IntegrityError, psycopg.IntegrityError) as exc:  # pragma: no cover
            raise Conflict(f"revenue lines refused by the database: {exc}") from None


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
