"""`royalty import` and `royalty suspense`: revenue in, and what cannot be attributed yet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.context import collector_paused, state
from cli.files import read_mapping, read_rates
from cli.output import amount, console, print_json, progress_bar, table

suspense_app = typer.Typer(help="Revenue held until it can be attributed.", no_args_is_help=True)


def import_command(
    files: Annotated[list[Path], typer.Argument(help="Revenue files (.tsv, .csv, .gz).")],
    fmt: Annotated[
        str, typer.Option("--format", help="auto, dsr, distrokid, tunecore or csv.")
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping YAML for other CSV files.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Who pays (DSP or distributor name).")] = None,
    period: Annotated[
        str | None, typer.Option(help="Accounting period YYYY-MM (default: the file's).")
    ] = None,
    fx: Annotated[Path | None, typer.Option(help="Exchange rates CSV for the period.")] = None,
    replace: Annotated[
        bool, typer.Option(help="Supersede an earlier import of the same file.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and summarise; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Import revenue files; each file is one transaction, exact to the last decimal.

    Example: royalty import DSR_*.tsv distrokid.tsv --period 2026-10 --fx rates-2026-10.csv
    """
    from ledger.domain.periods import Period
    from ledger.parsers import open_revenue_file
    from ledger.services import imports

    wanted = Period.parse(period) if period else None
    parsed_mapping = read_mapping(mapping) if mapping is not None else None
    rates = read_rates(fx) if fx is not None else None
    db = state().ledger()
    results = []
    for path in files:
        with progress_bar(f"Importing {path.name}", in_bytes=True) as bar:
            progress = (
                None
                if bar is None
                else (lambda phase, done, total, bar=bar: bar(done, total, phase))
            )
            with (
                open_revenue_file(
                    path,
                    fmt="csv" if parsed_mapping is not None and fmt == "auto" else fmt,
                    mapping=parsed_mapping,
                    source=source,
                    period=wanted,
                    progress=progress,
                ) as parsed,
                collector_paused(),
                db.read() if dry_run else db.write() as session,
            ):
                result = imports.import_revenue(
                    session,
                    parsed,
                    source=source,
                    period=wanted,
                    rates=rates,
                    replace=replace,
                    dry_run=dry_run,
                )
        results.append(result)
        if not as_json:
            totals = ", ".join(f"{amount(v)} {c}" for c, v in result.totals.items()) or "0"
            verb = "Would import" if dry_run else f"Imported #{result.import_id}"
            console.print(
                f"{verb} {result.filename}: {result.lines} lines, {totals} "
                f"({amount(result.ledger_total)} {result.ledger_currency} in the ledger), "
                f"source {result.source}, period {result.period}; "
                f"suspense {result.suspense_lines} lines, {amount(result.suspense_amount)} {result.ledger_currency}"
                + (
                    f"; superseded #{', #'.join(map(str, result.replaced_imports))}"
                    if result.replaced_imports and not dry_run
                    else ""
                )
            )
    if as_json:
        print_json(results if len(results) != 1 else results[0])


@suspense_app.command("list")
def suspense_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Revenue held in suspense, per import and ISRC, with the reason.

    Example: royalty suspense list --json
    """
    from ledger.services import suspense

    with state().ledger().read() as session:
        items = suspense.list_suspense(session)
    if as_json:
        print_json(items)
        return
    table(
        "Suspense",
        ["Import", "File", "ISRC", "Reason", "Lines", "Amount", "Currency"],
        [(i.import_id, i.filename, i.isrc, i.reason, i.lines, i.amount, i.currency) for i in items],
        right=["Lines", "Amount"],
    )
    if not items:
        console.print("Nothing in suspense.")


@suspense_app.command("resolve")
def suspense_resolve(
    period: Annotated[str | None, typer.Option(help="Open period to post the release in.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Release suspense whose ISRC the catalog now knows into undistributed revenue.

    Example: royalty catalog load catalog.yaml && royalty suspense resolve
    """
    from ledger.domain.periods import Period
    from ledger.services import suspense

    wanted = Period.parse(period) if period else None
    with state().ledger().write() as session:
        result = suspense.resolve_suspense(session, period=wanted)
    if as_json:
        print_json(result)
        return
    if not result.groups:
        console.print(
            f"Nothing to release: {result.remaining_lines} lines remain in suspense "
            "(their ISRCs are still unknown to the catalog)."
        )
        return
    console.print(
        f"Released {result.groups} suspense group(s), {result.lines} lines, "
        f"{amount(result.amount)} {result.currency} into period {result.period}; "
        f"{result.remaining_lines} lines remain in suspense."
    )
