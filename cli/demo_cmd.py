"""`royalty demo`: the product's main job on a fresh SQLite file, in under a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import console, err_console, table
from ledger import demo


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
    result = demo.run_demo(out, force=force, progress=lambda msg: err_console.print(f"… {msg}"))
    table(
        f"Walk My Walk, {demo.PERIOD} ({result.currency})",
        ["Party", "Name", "Role", "Earned", "Paid", "Carried forward"],
        [(r.party_id, r.name, r.roles, r.earned, r.paid, r.carried) for r in result.rows],
        right=["Earned", "Paid", "Carried forward"],
    )
    console.print(f"{demo.describe(result)}.")
    console.print(f"Database:   {result.database}  (try: royalty --db {result.database} balances)")
    console.print(f"Revenue:    {result.revenue_dir}/")
    console.print(f"Statements: {result.statements_dir}/ ({result.statements} files, PDF and CSV)")
