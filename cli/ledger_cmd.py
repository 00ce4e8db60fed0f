"""`royalty ledger ...`: the books themselves (trial balance, verification)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.context import state
from cli.output import console, print_json, table

if TYPE_CHECKING:
    from ledger.domain.money import Money

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
    from ledger.domain.periods import Period
    from ledger.store import verify as verification

    month = Period.parse(period) if period else None
    with state().ledger().read() as session:
        tb = verification.trial_balance(session, up_to_period=month)
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
    rows: list[tuple[object, ...]] = [
        (r.account, r.type, r.currency, r.debit, r.credit) for r in tb.rows
    ]
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
    from ledger.store import verify as verification

    with state().ledger().read() as session:
        report = verification.verify(session)
        tb = verification.trial_balance(session)
    if not tb.balanced:
        typer.echo("error: the trial balance is not zero", err=True)
        raise typer.Exit(1)
    console.print(
        f"OK: {report.entries} entries and {report.postings} postings verified; "
        f"chain head {report.last_hash[:16]}; trial balance zero."
    )


@app.command()
def trace(
    posting: Annotated[int | None, typer.Argument(help="Posting id to trace.")] = None,
    party: Annotated[str | None, typer.Option(help="List a party's postings of --period.")] = None,
    period: Annotated[str | None, typer.Option(help="Period YYYY-MM, with --party.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Trace a posting back to the revenue file lines and the rule behind it.

    Example: royalty ledger trace --party rust --period 2026-10   then   royalty ledger trace 42
    """
    from ledger.domain.errors import InvalidPeriod
    from ledger.domain.periods import Period
    from ledger.services import trace as trace_mod

    if posting is None and not (party and period):
        raise InvalidPeriod("give a posting id, or --party and --period to list postings")
    month = Period.parse(period) if period else None
    with state().ledger().read() as session:
        if posting is None:
            assert party is not None and month is not None
            rows = trace_mod.postings_of(session, party=party, period=month)
            if as_json:
                print_json(
                    [
                        {
                            "posting": r.posting_id,
                            "account": r.account,
                            "amount": r.amount,
                            "isrc": r.isrc,
                            "rule": r.rule_ref,
                        }
                        for r in rows
                    ]
                )
            else:
                table(
                    f"Postings of {party} in {month}",
                    ["Posting", "Account", "Amount", "ISRC", "Rule"],
                    [
                        (r.posting_id, r.account, r.amount, r.isrc or "", r.rule_ref or "")
                        for r in rows
                    ],
                    right=["Amount"],
                )
            return
        result = trace_mod.trace_posting(session, posting)
    if as_json:
        print_json(result)
        return
    console.print(
        f"Posting {result.posting_id}: {result.account} {_plain(result.amount)} {result.currency} "
        f"({result.memo or ''}), rule {result.rule_ref or '-'}\n"
        f"Entry {result.entry_id} ({result.entry_kind}, period {result.period}): {result.entry_description}\n"
        f"Track {result.isrc or '-'}, source {result.source or '-'}, territory {result.territory or '-'}, "
        f"usage {result.usage or '-'}, usage period {result.usage_period or '-'}",
        markup=False,
    )
    table(
        f"{len(result.lines)} revenue line(s) behind it, total {_plain(result.lines_total)} "
        f"{result.currency}" + (" (first lines only)" if result.truncated else ""),
        ["Import", "File", "Line", "Quantity", "Amount", "Original", "Rate"],
        [
            (
                r.import_id,
                r.filename,
                r.line_no,
                r.quantity,
                r.amount,
                f"{r.original_amount} {r.original_currency}" if r.original_amount else "",
                r.fx_rate or "",
            )
            for r in result.lines
        ],
        right=["Quantity", "Amount"],
    )


def _plain(money: Money) -> str:
    """An amount at the ledger's ten places, as an auditor compares it with the file lines."""
    return str(money.amount) if money else "0"
