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
leaves the database exactly as it was. The adapter opens the file
(:func:`ledger.parsers.open_revenue_file`) and reads the rates; this service
takes those values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain import accounts
from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.errors import Conflict, InputError, Problem
from ledger.domain.fx import Rates, UnitConverter
from ledger.domain.money import Money, to_text, units_to_parts, units_to_text
from ledger.domain.periods import Period
from ledger.parsers import FileInfo, ParsedFile
from ledger.store import journal, periods, settings
from ledger.store.bulk import insert_rows, small_page_cache
from ledger.store.journal import integrity_errors
from ledger.store.models import RevenueImport, RevenueLine, SuspenseRelease, Track

REASON_MALFORMED = "malformed ISRC"
REASON_UNKNOWN = "ISRC not in catalog"
_CHUNK = 10_000
"""Lines stored per bulk insert: enough for few statements, little held in memory."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do)."""

    import_id: int | None
    filename: str
    sha256: str
    format: str
    source: str
    period: Period
    lines: int
    totals: dict[str, Money]
    """Per currency as the file states it: check these against the file's own totals."""
    ledger_currency: str
    ledger_total: Money
    suspense_lines: int
    suspense_amount: Money
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
    period: Period
    lines: int
    suspense_lines: int
    totals: dict[str, Money]
    status: str
    entry_id: int | None
    superseded_by: int | None
    imported_at: str


_GroupKey = tuple[str, str, str, str, str, str]
"""(isrc, source, territory, usage, usage period, suspense reason or ""): one credit leg."""

LINE_COLUMNS = (
    "id",
    "line_no",
    "isrc",
    "territory",
    "usage",
    "usage_period",
    "source",
    "quantity",
    "amount_whole",
    "amount_frac",
    "original_amount",
    "original_currency",
    "fx_rate",
    "suspense_reason",
    "detail",
)
"""A stored line's columns, as :func:`_plan` builds its rows (import and currency are constants)."""
_EMPTY_IS_NULL = ("original_amount", "original_currency", "fx_rate", "suspense_reason", "detail")
"""Line texts that are never empty: ``""`` stands for NULL (see ledger.store.bulk)."""


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
    store: _LineStore | None,
    line_id: int,
) -> _Plan:
    """Read the validated file's lines once: convert, classify, total and group them,
    and hand each line's row to ``store`` (none on a dry run).

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
    rows: list[tuple[Any, ...]] = []
    add_row = rows.append
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
        if store is not None:
            whole, frac = units_to_parts(units)
            add_row(
                (
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
            if len(rows) == _CHUNK:
                store.write(rows)
                rows.clear()
        line_id += 1
    if store is not None:
        store.write(rows)
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


class _LineStore:
    """Stores an import's lines in bulk (:func:`ledger.store.bulk.insert_rows`); the import
    id and the ledger currency are the same on every line."""

    def __init__(self, session: Session, import_id: int, currency: str) -> None:
        self.session = session
        self.constants: dict[str, int | str] = {"import_id": import_id, "currency": currency}

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        try:
            insert_rows(
                self.session,
                "revenue_line",
                LINE_COLUMNS,
                rows,
                constants=self.constants,
                empty_is_null=_EMPTY_IS_NULL,
            )
        except integrity_errors() as exc:  # pragma: no cover - the lines were checked
            raise Conflict(f"revenue lines refused by the database: {exc}") from None


def import_revenue(
    session: Session,
    parsed: ParsedFile,
    *,
    source: str | None = None,
    period: Period | None = None,
    rates: Rates | None = None,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportSummary:
    """Import one opened revenue file in the caller's transaction (see the module docstring).

    ``source`` overrides the sender's name, ``period`` the accounting period (a file
    with lines for several months needs it); ``rates`` convert other currencies.
    """
    name = PurePath(parsed.name).name  # stored and named in messages without its folder
    info = parsed.validate()
    import_period = _import_period(name, period, info.period, info.periods)
    file_source = source or info.source
    ledger_ccy = settings.ledger_currency(session)
    if rates is not None:
        rates = _bind_rates(rates, import_period, ledger_ccy)
    _check_rates(name, info.totals, ledger_ccy, rates)

    if periods.is_closed(session, import_period):
        periods.require_open(session, import_period)  # says the period is closed, and what to do
    earlier = _earlier_imports(session, info.sha256, name, file_source, import_period)
    if earlier and not replace:
        first = earlier[0]
        raise Conflict(
            f"{name}: this file was already imported as import #{first.id} "
            f"({first.filename}, period {first.period}, {first.imported_at:%Y-%m-%d %H:%M} UTC)",
            hint="nothing was imported; use --replace to supersede that import",
        )
    if not dry_run:
        periods.require_open(session, import_period)  # a dry run creates no period row

    known = set(session.scalars(select(col(Track.isrc))))
    import_id = None
    store = None
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
        assert import_id is not None
        store = _LineStore(session, import_id, ledger_ccy)
    first_line = _max_id(session, "revenue_line") + 1
    with small_page_cache(session):
        plan = _plan(parsed, ledger_ccy, rates, known, store, first_line)
        return _conclude(
            session, info, name, file_source, import_period, ledger_ccy, plan, earlier, import_id
        )


def _conclude(
    session: Session,
    info: FileInfo,
    name: str,
    file_source: str,
    import_period: Period,
    ledger_ccy: str,
    plan: _Plan,
    earlier: list[RevenueImport],
    import_id: int | None,
) -> ImportSummary:
    """After the lines: the summary, and unless it is a dry run, the supersessions, the
    import's entry and the import's record."""
    summary_totals = {c: Money.of_units(u, c) for c, u in sorted(plan.file_totals.items())}
    base: dict[str, Any] = dict(
        filename=name,
        sha256=info.sha256,
        format=info.format,
        source=file_source,
        period=import_period,
        lines=plan.lines,
        totals=summary_totals,
        ledger_currency=ledger_ccy,
        ledger_total=Money.of_units(sum(plan.receivable.values()), ledger_ccy),
        suspense_lines=plan.suspense_lines,
        suspense_amount=Money.of_units(plan.suspense_units, ledger_ccy),
    )
    if import_id is None:
        return ImportSummary(
            import_id=None,
            entry_id=None,
            replaced_imports=tuple(e.id for e in earlier if e.id),
            dry_run=True,
            **base,
        )

    replaced = [_supersede(session, old, import_id, import_period) for old in earlier]
    entry_id = None
    if plan.lines:
        entry_id = journal.post(
            session, _entry(import_id, name, file_source, import_period, plan)
        ).id
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
            "t": json.dumps({c: v.text for c, v in summary_totals.items()}),
        },
    )
    return ImportSummary(
        import_id=import_id, entry_id=entry_id, replaced_imports=tuple(replaced), **base
    )


def _entry(import_id: int, name: str, source: str, period: Period, plan: _Plan) -> EntryDraft:
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


def _supersede(session: Session, old: RevenueImport, new_id: int, period: Period) -> int:
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
    session: Session, sha256: str, name: str, source: str, period: Period
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
    name: str, option: Period | None, file_period: str | None, months: Iterable[str]
) -> Period:
    if option is not None:
        return option
    if file_period:
        return Period.of_code(file_period)
    found = ", ".join(sorted(months)) or "none"
    raise InputError(
        [
            Problem(
                name,
                None,
                "period",
                f"the file has lines for several months ({found}); "
                "give the accounting period with --period YYYY-MM",
            )
        ]
    )


def _bind_rates(rates: Rates, period: Period, ledger_ccy: str) -> Rates:
    """The rates for this import: of its period, converting into the ledger currency."""
    if rates.period != period:
        raise InputError(
            [
                Problem(
                    rates.source,
                    None,
                    "period",
                    f"rates are for {rates.period}, the import is for {period}",
                )
            ]
        )
    return rates.for_ledger(ledger_ccy)


def _check_rates(
    name: str, totals: dict[str, Any] | Any, ledger_ccy: str, rates: Rates | None
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


def _max_id(session: Session, table: str) -> int:
    return int(session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one())


def list_imports(session: Session, period: Period | None = None) -> list[ImportInfo]:
    stmt = select(RevenueImport).order_by(col(RevenueImport.id))
    if period is not None:
        stmt = stmt.where(col(RevenueImport.period) == period)
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
            totals={c: Money.of(v, c) for c, v in json.loads(r.totals).items()},
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
