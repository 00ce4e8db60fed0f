"""Audit trail: from any posting back to the file lines and the rule that produced it.

Postings carry their dimensions (track, source, territory, usage type, usage
period) and rule; entries carry what produced them (``import:N``,
``split:PERIOD``, ``suspense``, ...). That is enough to find the stored
revenue lines behind any figure without a link row per line:

* an import posting's lines are that import's lines with the same dimensions;
* a split posting's lines are the lines, with the same dimensions, of the
  imports of the split period still in force (plus suspense released into it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

from ledger.domain.errors import NotFound
from ledger.domain.money import Money, total
from ledger.domain.periods import Period


@dataclass(frozen=True, slots=True)
class TracedLine:
    import_id: int
    filename: str
    sha256: str
    line_no: int
    quantity: int
    amount: Money
    currency: str
    original_amount: str | None
    original_currency: str | None
    fx_rate: str | None


@dataclass(frozen=True, slots=True)
class Trace:
    posting_id: int
    entry_id: int
    entry_kind: str
    entry_description: str
    period: Period
    account: str
    amount: Money
    currency: str
    isrc: str | None
    source: str | None
    territory: str | None
    usage: str | None
    usage_period: str | None
    rule_ref: str | None
    memo: str | None
    lines: tuple[TracedLine, ...]
    lines_total: Money
    """Sum of the traced lines: the revenue the posting was computed from."""
    truncated: bool


def trace_posting(session: Session, posting_id: int, *, limit: int = 1000) -> Trace:
    row = session.execute(
        text(
            "SELECT p.id, e.id, e.kind, e.description, e.period, a.code, p.amount_whole, "
            "p.amount_frac, p.currency, p.isrc, p.source, p.territory, p.usage, p.usage_period, "
            "p.rule_ref, p.memo, e.source_ref FROM posting p "
            "JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id "
            "WHERE p.id = :id"
        ),
        {"id": posting_id},
    ).first()
    if row is None:
        raise NotFound(f"posting {posting_id} does not exist")
    source_ref = row[16] or ""
    # A posting's dimensions select its lines; one left empty (a holder's part of the
    # fees is kept per track and usage month) matches every value.
    where: list[str] = []
    params: dict[str, object] = {"limit": limit + 1}
    for column, value in (
        ("isrc", row[9]),
        ("source", row[10]),
        ("territory", row[11]),
        ("usage", row[12]),
        ("usage_period", row[13]),
    ):
        if value is not None:
            where.append(f"l.{column} = :{column}")
            params[column] = value
    if source_ref.startswith("import:"):
        where.append("l.import_id = :import_id")
        params["import_id"] = int(source_ref.split(":", 1)[1])
    elif source_ref.startswith("split:"):
        where.append("i.period = :period AND i.status = 'posted'")
        params["period"] = source_ref.split(":", 1)[1]
    elif source_ref == "suspense":
        where.append(
            "l.suspense_reason IS NOT NULL AND EXISTS (SELECT 1 FROM suspense_release r "
            "WHERE r.entry_id = :entry AND r.import_id = l.import_id AND r.isrc = l.isrc)"
        )
        params["entry"] = row[1]
    else:
        where.append("1 = 0")  # payouts, recoupments, advances: no revenue lines behind them
    if row[9] is None:
        where = ["1 = 0"]
    lines_rows = session.execute(
        text(
            "SELECT l.import_id, i.filename, i.sha256, l.line_no, l.quantity, l.amount_whole, "
            "l.amount_frac, l.currency, l.original_amount, l.original_currency, l.fx_rate "
            "FROM revenue_line l JOIN revenue_import i ON i.id = l.import_id WHERE "
            + " AND ".join(where)
            + " ORDER BY l.import_id, l.line_no LIMIT :limit"
        ),
        params,
    ).all()
    truncated = len(lines_rows) > limit
    lines = tuple(
        TracedLine(
            int(r[0]),
            r[1],
            r[2],
            int(r[3]),
            int(r[4]),
            Money.of_parts(r[5], r[6], r[7]),
            r[7],
            r[8],
            r[9],
            r[10],
        )
        for r in lines_rows[:limit]
    )
    return Trace(
        posting_id=int(row[0]),
        entry_id=int(row[1]),
        entry_kind=row[2],
        entry_description=row[3],
        period=Period.of_code(row[4]),
        account=row[5],
        amount=Money.of_parts(row[6], row[7], row[8]),
        currency=row[8],
        isrc=row[9],
        source=row[10],
        territory=row[11],
        usage=row[12],
        usage_period=row[13],
        rule_ref=row[14],
        memo=row[15],
        lines=lines,
        lines_total=total((line.amount for line in lines), row[8]),
        truncated=truncated,
    )


@dataclass(frozen=True, slots=True)
class PostingRef:
    """One of a party's postings, to pick one to trace."""

    posting_id: int
    account: str
    amount: Money
    isrc: str | None
    rule_ref: str | None


def postings_of(session: Session, *, party: str, period: Period) -> list[PostingRef]:
    """A party's postings in a period, in posting order."""
    rows = session.execute(
        text(
            "SELECT p.id, a.code, p.amount_whole, p.amount_frac, p.currency, p.isrc, p.rule_ref "
            "FROM posting p JOIN account a ON a.id = p.account_id "
            "JOIN journal_entry e ON e.id = p.entry_id "
            "WHERE a.party_id = :party AND e.period = :period ORDER BY p.id"
        ),
        {"party": party, "period": period.code},
    )
    return [PostingRef(int(r[0]), r[1], Money.of_parts(r[2], r[3], r[4]), r[5], r[6]) for r in rows]
