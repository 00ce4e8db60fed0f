"""Statement CSV: the same statement as the PDF, one flat table at full precision.

This module owns the machine-readable statement. One rectangular table, so it
loads straight into a spreadsheet, pandas or a database; the ``record`` column
says what each row is:

* ``info``: who and what (operator, party, identifiers, issue date, what the
  figures were generated from); the value is in ``description``.
* ``summary``: one row per balance figure (``opening``, ``earned``, ``fees``,
  ``recouped``, ``paid``, ``closing``, ``payable_now``, ``carried_forward``),
  named in ``kind``; the carry reason is the ``carried_forward`` description.
* ``line``: every statement line, exactly as given (the PDF shows their totals).
* ``adjustment``, ``fee``, ``recoupment``, ``payment``: the balance movements.

Every row repeats ``period``, ``party_id`` and ``currency`` so many statements
can be concatenated. Amounts are written at the ledger's full scale, ten
decimal places, unrounded: summing the ``line`` amounts gives the ``earned``
figure (less adjustments) exactly. ``share`` and ``attribution_weight`` are
written twice: as an exact fraction (``1/3``) and as a decimal to ten places.

Decisions:

* **UTF-8 with a byte-order mark, CRLF line ends.** Excel opens a CSV without
  a BOM in the machine's legacy code page and turns "Zoë Müller" or "山田太郎"
  into mojibake; with the BOM it reads UTF-8. Python (``utf-8-sig``), pandas,
  LibreOffice and every database loader accept the BOM. CRLF is RFC 4180.
* **Formula injection.** A text cell that begins with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with an apostrophe, so a
  spreadsheet shows it as text instead of running it (the OWASP advice).
  Only *text* columns are neutralised. Numeric columns (amounts, quantities,
  shares) are never user text: they are written here from ``Money``,
  ``int`` or ``Fraction`` values and can only be plain numbers such as
  ``-12.5000000000``, which a spreadsheet reads as a number and cannot
  execute. So a refund stays a negative number that sums correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from ledger.domain.money import MONEY_CONTEXT, SCALE, Money
from ledger.domain.statement import Movement, Statement

COLUMNS: tuple[str, ...] = (
    "record",
    "period",
    "party_id",
    "currency",
    "kind",
    "date",
    "isrc",
    "track_title",
    "role",
    "share",
    "share_fraction",
    "rule_ref",
    "attribution_weight",
    "attribution_weight_fraction",
    "source",
    "territory",
    "usage",
    "quantity",
    "amount",
    "description",
)
"""The header row, in order."""

NUMERIC_COLUMNS = frozenset(
    {
        "share",
        "share_fraction",
        "attribution_weight",
        "attribution_weight_fraction",
        "quantity",
        "amount",
    }
)
"""Columns written only from numbers, never neutralised (see the module docstring)."""

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_QUANT = Decimal(1).scaleb(-SCALE)


def neutralise(text: str) -> str:
    """Make a text cell safe to open in a spreadsheet: prefix an apostrophe when it
    starts with a character a spreadsheet would treat as the start of a formula."""
    return "'" + text if text.startswith(_DANGEROUS) else text


def amount_text(amount: Money) -> str:
    """An amount at the ledger's full scale: ``-12.5000000000``."""
    return format(amount.amount.quantize(_QUANT, context=MONEY_CONTEXT), "f")


def fraction_decimal(value: Fraction | None) -> str:
    """A share or weight as a decimal to ten places (exact when it terminates)."""
    if value is None:
        return ""
    quotient = MONEY_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return format(quotient.quantize(_QUANT, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT), "f")


def fraction_text(value: Fraction | None) -> str:
    """A share or weight exactly: ``1/3``, ``1`` (what an auditor recomputes with)."""
    return "" if value is None else str(value)


def _rows(st: Statement) -> Iterator[dict[str, str]]:
    base = {"period": st.period.code, "party_id": st.party.id, "currency": st.currency}

    def info(kind: str, value: str | None) -> dict[str, str] | None:
        if value is None:
            return None
        return {**base, "record": "info", "kind": kind, "description": value}

    infos = [
        info("operator", st.operator.name),
        info("operator_address", st.operator.address),
        *(info(f"operator_id:{scheme}", value) for scheme, value in st.operator.ids),
        info("party_name", st.party.name),
        info("party_kind", st.party.kind),
        info("party_ipi", st.party.ipi),
        info("party_isni", st.party.isni),
        info("party_email", st.party.email),
        info("statement_id", st.statement_id),
        info("issued_on", st.issued_on),
        *(info("generated_from", source) for source in st.generated_from),
    ]
    yield from (row for row in infos if row is not None)

    s = st.summary
    for kind, amount in (
        ("opening", s.opening),
        ("earned", s.earned),
        ("fees", s.fees),
        ("recouped", s.recouped),
        ("paid", s.paid),
        ("closing", s.closing),
        ("payable_now", s.payable_now),
        ("carried_forward", s.carried_forward),
    ):
        row = {**base, "record": "summary", "kind": kind, "amount": amount_text(amount)}
        if kind == "carried_forward" and s.carry_reason:
            row["description"] = s.carry_reason
        yield row

    for ln in st.lines:
        yield {
            **base,
            "record": "line",
            "isrc": ln.isrc,
            "track_title": ln.track_title,
            "role": ln.role,
            "share": fraction_decimal(ln.share),
            "share_fraction": fraction_text(ln.share),
            "rule_ref": ln.rule_ref,
            "attribution_weight": fraction_decimal(ln.attribution_weight),
            "attribution_weight_fraction": fraction_text(ln.attribution_weight),
            "source": ln.source,
            "territory": ln.territory,
            "usage": ln.usage,
            "quantity": str(int(ln.quantity)),
            "amount": amount_text(ln.amount),
        }

    groups: tuple[tuple[str, tuple[Movement, ...]], ...] = (
        ("adjustment", st.adjustments),
        ("fee", st.fees),
        ("recoupment", st.recoupments),
        ("payment", st.payments),
    )
    for record, movements in groups:
        for m in movements:
            yield {
                **base,
                "record": record,
                "kind": m.kind,
                "date": m.date,
                "description": m.description,
                "amount": amount_text(m.amount),
            }


def render_csv(statement: Statement) -> bytes:
    """The statement as CSV bytes (UTF-8 with BOM, CRLF); same statement, same bytes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows(statement):
        writer.writerow(
            [
                row.get(col, "") if col in NUMERIC_COLUMNS else neutralise(row.get(col, ""))
                for col in COLUMNS
            ]
        )
    return out.getvalue().encode("utf-8-sig")


__all__ = ["COLUMNS", "NUMERIC_COLUMNS", "neutralise", "render_csv"]
