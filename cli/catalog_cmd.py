"""`royalty catalog|agreements|attribution ...`: who made what, and how it is shared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.context import state
from cli.files import read_text
from cli.output import console, print_json
from ledger.domain.errors import InputError

catalog_app = typer.Typer(help="Parties, tracks and contributions.", no_args_is_help=True)
agreements_app = typer.Typer(help="Versioned split agreements.", no_args_is_help=True)
attribution_app = typer.Typer(help="Training-data attribution reports.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="YAML file.", exists=False)]


@catalog_app.command("load")
def catalog_load(file: FileArg) -> None:
    """Load or update the catalog (parties, tracks, contributions); all or nothing.

    Example: royalty catalog load examples/catalog.yaml
    """
    from ledger.services import documents

    text = read_text(file)
    with state().ledger().write() as session:
        result = documents.load_catalog(session, text, str(file))
    note = " (unchanged)" if result.unchanged else ""
    console.print(
        f"Catalog loaded{note}: {result.parties} parties, {result.tracks} tracks, "
        f"{result.contributions} contributions."
    )


@agreements_app.command("load")
def agreements_load(file: FileArg) -> None:
    """Validate agreements against the catalog and load them; all or nothing.

    Example: royalty agreements load examples/agreements.yaml
    """
    from ledger.services import documents

    text = read_text(file)
    with state().ledger().write() as session:
        result = documents.load_agreements(session, text, str(file))
    note = " (unchanged)" if result.unchanged else ""
    console.print(f"Agreements loaded{note}: {', '.join(result.agreements)}.")


@agreements_app.command("check")
def agreements_check(file: FileArg) -> None:
    """Check an agreements file without loading it; lists every problem.

    Example: royalty agreements check examples/agreements.yaml
    """
    from ledger.services import documents

    text = read_text(file)
    with state().ledger().read() as session:
        problems = documents.check_agreement_file(session, text, str(file))
    if problems:
        raise InputError(problems)
    console.print(f"{file}: OK")


@agreements_app.command("explain")
def agreements_explain(
    isrc: Annotated[str, typer.Option(help="Track ISRC.")],
    source: Annotated[str, typer.Option(help="Store or DSP, as revenue files name it.")] = "any",
    territory: Annotated[str, typer.Option(help="ISO country code, or WW.")] = "WW",
    usage: Annotated[str, typer.Option(help="stream, download, ugc, radio or other.")] = "stream",
    period: Annotated[
        str | None, typer.Option(help="Period YYYY-MM (default: this month).")
    ] = None,
    quantity: Annotated[int, typer.Option(help="Units (streams) for per-unit fees.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show which rule applies to a track and how an example 1,000.00 would be split.

    Example: royalty agreements explain --isrc USRW12600001 --territory US --quantity 250000
    """
    from datetime import date

    from cli.explain_view import render_text
    from ledger.domain.identifiers import normalise_isrc, normalise_territory
    from ledger.domain.periods import Period
    from ledger.services import documents

    month = Period.parse(period) if period else Period.parse(date.today().strftime("%Y-%m"))
    with state().ledger().read() as session:
        result = documents.explain_line(
            session,
            normalise_isrc(isrc),
            month,
            source=source,
            territory=normalise_territory(territory),
            usage=usage,
            quantity=quantity,
        )
    if as_json:
        print_json(result.as_dict())
    else:
        console.print(render_text(result), markup=False, highlight=False)


@attribution_app.command("load")
def attribution_load(
    file: Annotated[Path, typer.Argument(help="CSV: licensor,weight[,model][,isrc].")],
    period: Annotated[str, typer.Option(help="Period the report covers, YYYY-MM.")],
) -> None:
    """Load a period's attribution report (weights per training-data licensor).

    Example: royalty attribution load examples/attribution-2026-10.csv --period 2026-10
    """
    from ledger.domain.periods import Period
    from ledger.services import documents

    month = Period.parse(period)
    text = read_text(file)
    with state().ledger().write() as session:
        result = documents.load_attribution(session, text, str(file), month)
    note = " (unchanged)" if result.unchanged else ""
    console.print(f"Attribution for {result.period} loaded{note}: {result.licensors} licensors.")
