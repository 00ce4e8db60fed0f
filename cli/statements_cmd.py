"""`royalty statements` and `royalty export`: statements for holders, the ledger for auditors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.context import state
from cli.output import console, progress_bar

export_app = typer.Typer(help="Export the ledger for other tools.", no_args_is_help=True)


def statements_command(
    period: Annotated[str, typer.Option("--period", help="Period YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the files to.")],
    party: Annotated[str | None, typer.Option("--party", help="Only this party id.")] = None,
    format: Annotated[str, typer.Option("--format", help="pdf, csv or pdf,csv.")] = "pdf,csv",
) -> None:
    """Write a PDF and a CSV statement for every party with activity or a balance.

    Statements of a closed period are issued once and stored with their SHA-256;
    running this again writes exactly the same bytes.

    Example: royalty statements --period 2026-10 --out statements/ --party rust
    """
    from ledger.domain.periods import Period
    from ledger.services import statements
    from reports import render

    month = Period.parse(period)
    formats = [f for f in format.split(",") if f.strip()]
    db = state().ledger()
    written = 0
    parties: set[str] = set()
    with progress_bar(f"Statements {month}") as progress, db.write() as session:
        files = statements.issue_statements(
            session, month, render, party=party, formats=formats, progress=progress
        )
        for file in files:
            if not written:
                out.mkdir(parents=True, exist_ok=True)
            (out / file.filename).write_bytes(file.content)
            written += 1
            parties.add(file.party_id)
        out.mkdir(parents=True, exist_ok=True)
    console.print(f"Wrote {written} files for {len(parties)} statement(s) of {month} to {out}")


@export_app.command("beancount")
def beancount_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """Write the whole ledger in beancount format, for `bean-check` and an auditor's tools.

    Example: royalty export beancount --out ledger.beancount && bean-check ledger.beancount
    """
    from ledger.services import export

    db = state().ledger()
    with db.read() as session:
        if out is None:
            export.export_beancount(session, sys.stdout)
            return
        with out.open("w", encoding="utf-8", newline="\n") as handle:
            export.export_beancount(session, handle)
    console.print(f"Ledger written to {out} (beancount)")
