"""What the CLI does around a service, for tests that call services directly.

Services take values (an opened revenue file, parsed rates, a Period); these
helpers read files and parse text the way ``cli/`` does, so a test reads like
the command it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session

from cli.files import read_mapping, read_rates
from ledger.domain.periods import Period
from ledger.parsers import open_revenue_file
from ledger.services import imports, statements
from ledger.services.imports import ImportSummary


def month(period: str | Period | None) -> Period | None:
    """``"2026-10"`` as a Period (None stays None)."""
    return None if period is None else Period.parse(period)


def import_file(
    session: Session,
    path: Path,
    *,
    display_name: str | None = None,
    fmt: str = "auto",
    mapping_path: Path | None = None,
    source: str | None = None,
    period: str | Period | None = None,
    fx_path: Path | None = None,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportSummary:
    """``royalty import PATH [--format] [--mapping] [--source] [--period] [--fx]`` in a session."""
    mapping = read_mapping(mapping_path) if mapping_path is not None else None
    rates = read_rates(fx_path) if fx_path is not None else None
    wanted = month(period)
    with open_revenue_file(
        path,
        name=display_name,
        fmt="csv" if mapping is not None and fmt == "auto" else fmt,
        mapping=mapping,
        source=source,
        period=wanted,
    ) as parsed:
        return imports.import_revenue(
            session,
            parsed,
            source=source,
            period=wanted,
            rates=rates,
            replace=replace,
            dry_run=dry_run,
        )


def write_statements(
    session: Session,
    period: str | Period,
    out_dir: Path,
    *,
    party: str | None = None,
    formats: Sequence[str] = statements.FORMATS,
) -> list[Path]:
    """``royalty statements --period P --out DIR [--party] [--format]`` in a session: the
    files written, in the order the service gave them."""
    from reports import render

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file in statements.issue_statements(
        session, Period.parse(period), render, party=party, formats=formats
    ):
        path = out / file.filename
        path.write_bytes(file.content)
        written.append(path)
    return written
