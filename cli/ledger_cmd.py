"""`royalty ledger ...`: the books themselves (trial balance, verification)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import state
from cli.output import console, print_json, table
from ledger import journal

app = typer.Typer(help="Inspect and verify the journal.", no_args_is_help=True)


@app.command("trial-balance")
def trial_balance(
    period: Annotated[
        str | None, typer.Option(help="Only entries up to and including this period (YYYY-MM).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every account's balance per currency; the totals are zero in a sound ledger.

    Example: royalty ledger trial-balance --json
    """
    with state().ledger().read() as session:
        tb = journal.trial_balance(session, up_to_period=period)
    if as_json:
        print_json(
            {
                "accounts": [
                    {
                        "account": r.account,
                        "type": r.type,
                        "currency": r.currency,
                        "debit": r.debit,
                        "credit": r.credit,
                        "balance": r.balance,
                    }
                    for r in tb.rows
                ],
                "totals": tb.totals,
                "balanced": tb.balanced,
            }
        )
        return
    rows = [(r.account, r.type, r.currency, r.debit, r.credit) for r in tb.rows]
    for cur, total in sorted(tb.totals.items()):
        rows.append(("TOTAL (debits - credits)", "", cur, total, ""))
    table(
        "Trial balance",
        ["Account", "Type", "Currency", "Debit", "Credit"],
        rows,
        right=["Debit", "Credit"],
    )
    if not tb.rows:
        console.print("The journal is empty.")
    console.print("Balanced." if tb.balanced else "NOT BALANCED.")
    if not tb.balanced:
        raise typer.Exit(1)


@app.command()
def verify() -> None:
    """Recompute every entry's hash and the chain: proves nothing was altered or removed.

    Example: royalty ledger verify
    """
    with state().ledger().read() as session:
        report = journal.verify(session)
        tb = journal.trial_balance(session)
    if not tb.balanced:
        typer.echo("error: the trial balance is not zero", err=True)
        raise typer.Exit(1)
    console.print(
        f"OK: {report.entries} entries and {report.postings} postings verified; "
        f"chain head {report.last_hash[:16]}; trial balance zero."
    )
