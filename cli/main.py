"""The `royalty` command: one Typer app, one module per command group.

Every command parses its options, calls one service in ``ledger``, and prints.
User errors (:class:`ledger.domain.errors.LedgerError`) become one line on stderr and
exit code 1; problems in an input file are listed one per line.

Start-up is kept short: the command modules import their ``ledger`` services
(and with them SQLAlchemy, PyYAML, psycopg, ...) inside the commands, and rich
on first output, so ``royalty X`` only pays for what X uses and ``royalty --help``
for none of it (tests/test_cli_startup.py; timings: benchmarks/bench_startup.py).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli import (
    catalog_cmd,
    demo_cmd,
    import_cmd,
    ledger_cmd,
    serve_cmd,
    split_cmd,
    statements_cmd,
    tokens_cmd,
)
from cli.context import close_state, set_state, state
from cli.output import console, err_console
from ledger.domain.errors import InputError, LedgerError

app = typer.Typer(
    name="royalty",
    help="Royalty Ledger: import streaming revenue, split it by agreement, pay and prove it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(catalog_cmd.catalog_app, name="catalog")
app.add_typer(catalog_cmd.agreements_app, name="agreements")
app.add_typer(catalog_cmd.attribution_app, name="attribution")
app.command("import")(import_cmd.import_command)
app.add_typer(import_cmd.suspense_app, name="suspense")
app.command("split")(split_cmd.split_command)
app.command("pay")(split_cmd.pay_command)
app.command("balances")(split_cmd.balances_command)
app.add_typer(split_cmd.period_app, name="period")
app.command("demo")(demo_cmd.demo_command)
app.command("statements")(statements_cmd.statements_command)
app.add_typer(statements_cmd.export_app, name="export")
app.add_typer(tokens_cmd.app, name="tokens")
app.command("serve")(serve_cmd.serve)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="ROYALTY_DB",
            help="Database URL or SQLite file (default: royalty.db in the working directory).",
        ),
    ] = None,
) -> None:
    """Royalty Ledger.

    Example: royalty --db postgresql://localhost/royalty ledger trial-balance
    """
    set_state(db)


@app.command()
def init(
    currency: Annotated[
        str, typer.Option(help="Ledger currency every revenue line is converted to.")
    ] = "USD",
) -> None:
    """Create or upgrade the database schema and set the ledger currency.

    Example: royalty init --currency USD
    """
    from ledger.domain import money
    from ledger.store import db as dbmod
    from ledger.store import settings

    money.currency(currency)  # refuse a bad code before touching the database
    database = state().database()
    dbmod.upgrade(database)
    with database.write() as session:
        code = settings.initialise(session, currency)
    console.print(f"Ledger ready at {database.describe()} (currency {code}).")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every user error becomes one clear line."""
    try:
        # Outside standalone mode typer *returns* the code of a `typer.Exit` raised by a
        # command, and 130 for Ctrl-C (it catches KeyboardInterrupt itself).
        code = app(args=argv, prog_name="royalty", standalone_mode=False)
        if type(code) is int and code:
            if code == 130:
                return _interrupted()
            return code
    except LedgerError as exc:
        _report(exc)
        return 1
    except typer.Abort:
        return _aborted()
    except KeyboardInterrupt:
        return _interrupted()
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:
        # typer vendors its own click; the real click (~20 ms to import) is loaded only by
        # some commands (uvicorn for `serve`), and only then can its exceptions occur.
        click = sys.modules.get("click")
        if click is not None:
            if isinstance(exc, click.exceptions.Abort):
                return _aborted()
            if isinstance(exc, click.exceptions.Exit):
                return int(exc.exit_code or 0)
            if isinstance(exc, click.ClickException):
                exc.show()
                return int(exc.exit_code)
        # typer's vendored click: treat its usage errors the same way
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    finally:
        close_state()
    return 0


def _interrupted() -> int:
    err_console.print(
        "Interrupted: the change in progress was rolled back"
        " (what the command already reported as done is kept)."
    )
    return 130


def run() -> None:
    """Console entry point (``royalty``)."""
    sys.exit(main())


def _aborted() -> int:
    err_console.print("Aborted; nothing was changed.")
    return 130


def _report(exc: LedgerError) -> None:
    if isinstance(exc, InputError):
        for line in exc.lines():
            err_console.print(f"error: {line}", markup=False)
        err_console.print(f"error: {len(exc.problems)} problem(s); {exc.hint}", markup=False)
    else:
        err_console.print(f"error: {exc}", markup=False)


if __name__ == "__main__":  # pragma: no cover
    run()
