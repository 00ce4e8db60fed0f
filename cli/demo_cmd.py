"""`royalty demo`: the product's main job on a fresh SQLite file, in under a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import console, err_console, table


def demo_command(
    out: Annotated[
        Path, typer.Option(help="Folder for the database, revenue files and statements.")
    ] = Path("royalty-demo"),
    force: Annotated[
        bool, typer.Option(help="Start again if the folder already holds a demo.")
    ] = False,
) -> None:
    """Run a whole month for Walk My Walk: import, split, pay and write every statement.

    Example: royalty demo --out royalty-demo
    """
    from cli import demo_month
    from ledger.domain.statement import round_display

    result = demo_month.run_demo(
        out, force=force, progress=lambda msg: err_console.print(f"... {msg}")
    )
    ccy = result.currency
    table(
        f"Walk My Walk, {demo_month.PERIOD}: what each party earned (after fees), was paid and carries forward ({ccy})",
        ["Party", "Role", "Earned after fees", "Recouped", "Paid", "Carried forward"],
        [
            (
                r.name,
                r.roles,
                round_display(r.earned),
                round_display(r.recouped),
                r.paid,
                r.carried,
            )
            for r in result.rows
        ],
        right=["Earned after fees", "Recouped", "Paid", "Carried forward"],
    )
    console.print(
        f"Imported {round_display(result.imported).text} {ccy} from "
        f"{result.revenue_dir}/ ({round_display(result.suspense).text} {ccy} held in "
        "suspense: an ISRC the label does not own)."
    )
    console.print(f"Statements: {result.statements_dir}/ ({result.statements} files, PDF and CSV)")
    console.print(f"Ledger:     {result.database}  (next: royalty --db {result.database} balances)")
