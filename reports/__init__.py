"""Statement files from statement data: PDF (reportlab) and CSV; no queries here.

The CLI and the API pick :func:`render` and hand it to the statement service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.domain.statement import Statement


def render(statement: Statement, fmt: str) -> bytes:
    """The statement's bytes in ``fmt`` (``pdf`` or ``csv``); the same statement gives
    the same bytes. reportlab is imported only when a PDF is made."""
    if fmt == "pdf":
        from reports.pdf import render_pdf

        return render_pdf(statement)
    if fmt == "csv":
        from reports.csv import render_csv

        return render_csv(statement)
    raise ValueError(f"no renderer for {fmt!r}")
