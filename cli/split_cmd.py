"""`royalty split|pay|balances|period`: from revenue to what each holder is owed and paid."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import collector_paused, state
from cli.output import amount, console, print_json, table

period_app = typer.Typer(help="Accounting periods.", no_args_is_help=True)

PeriodOpt = Annotated[str, typer.Option("--period", help="Period YYYY-MM.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def split_command(
    period: PeriodOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be posted; post nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Split the period's revenue by the agreements; a rerun posts only the difference.

    Example: royalty split --period 2026-10 --dry-run
    """
    from ledger.domain.periods import Period
    from ledger.services import splits

    month = Period.parse(period)
    db = state().ledger()
    with collector_paused(), db.read() if dry_run else db.write() as session:
        result = splits.run_split(session, month, dry_run=dry_run)
    if as_json:
        print_json(result)
        return
    head = "Preview of the split" if dry_run else "Split"
    if result.unchanged:
        console.print(
            f"{head} of {result.period}: nothing to post; the ledger already matches "
            f"the inputs ({amount(result.revenue)} {result.currency} of revenue)."
        )
        return
    table(
        f"{head} of {result.period}: {amount(result.revenue)} {result.currency} in "
        f"{result.groups} groups"
        + ("" if dry_run else f", run #{result.run_id} posted in {result.posted_in}"),
        ["Party / account", "Earned", "Fees", "Net change"],
        [(c.party_id, c.earned, c.fees, c.net) for c in result.changes],
        right=["Earned", "Fees", "Net change"],
    )
    if result.suspense:
        console.print(
            f"Held in suspense (no agreement): {amount(result.suspense)} {result.currency}"
        )
        for reason in result.problems:
            console.print(f"  {reason}", markup=False)
    for party, value in result.recoupments:
        console.print(f"Recouped from {party}: {amount(value)} {result.currency}")


def pay_command(
    period: PeriodOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the payouts; record nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record payouts: balances rounded down to the cent, for parties over their threshold.

    Example: royalty pay --period 2026-10 --dry-run
    """
    from ledger.domain.periods import Period
    from ledger.services import payouts

    month = Period.parse(period)
    db = state().ledger()
    with db.read() if dry_run else db.write() as session:
        result = payouts.pay(session, month, dry_run=dry_run)
    if as_json:
        print_json(result)
        return
    table(
        ("Payout preview" if dry_run else "Payouts") + f" for {result.period}",
        ["Party", "Balance", "Paid", "Carried forward", "Why"],
        [
            (line.party_id, line.balance, line.paid, line.carried, line.reason)
            for line in result.lines
        ],
        right=["Balance", "Paid", "Carried forward"],
    )
    console.print(
        f"Total {'to pay' if dry_run else 'paid'}: {amount(result.total_paid)} {result.currency}"
    )


def balances_command(
    period: Annotated[str | None, typer.Option(help="Period YYYY-MM (default: all time).")] = None,
    party: Annotated[str | None, typer.Option(help="One party id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Per party: opening balance, earned, fees, recouped, paid, closing.

    Example: royalty balances --period 2026-10 --party rust
    """
    from ledger.domain.periods import Period
    from ledger.services import balances as balances_mod

    month = Period.parse(period) if period else None
    with state().ledger().read() as session:
        rows = balances_mod.balances(session, period=month, party=party)
    if as_json:
        print_json(rows)
        return
    table(
        f"Balances{f' for {month}' if month else ''}",
        ["Party", "Currency", "Opening", "Earned", "Fees", "Recouped", "Paid", "Closing"],
        [
            (b.party_id, b.currency, b.opening, b.earned, b.fees, b.recouped, b.paid, b.closing)
            for b in rows
        ],
        right=["Opening", "Earned", "Fees", "Recouped", "Paid", "Closing"],
    )


@period_app.command("close")
def period_close(period: Annotated[str, typer.Argument(help="Period YYYY-MM.")]) -> None:
    """Lock a period for good; later corrections land in the next open period.

    Example: royalty period close 2026-10
    """
    from ledger.domain.periods import Period
    from ledger.services import periods

    month = Period.parse(period)
    with state().ledger().write() as session:
        closed = periods.close_period(session, month)
    console.print(f"Period {closed.code} is closed.")


@period_app.command("list")
def period_list(as_json: JsonOpt = False) -> None:
    """Every period and whether it is open or closed.

    Example: royalty period list
    """
    from sqlalchemy import select
    from sqlmodel import col

    from ledger.store.models import AccountingPeriod

    with state().ledger().read() as session:
        rows = [
            (p.code.code, p.status)
            for p in session.scalars(select(AccountingPeriod).order_by(col(AccountingPeriod.code)))
        ]
    if as_json:
        print_json([{"period": c, "status": s} for c, s in rows])
        return
    table("Periods", ["Period", "Status"], rows)
