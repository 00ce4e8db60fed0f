"""`royalty tokens ...`: create, list and revoke API tokens (only hashes are stored)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import state
from cli.output import console, print_json, table

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    party: Annotated[
        str | None, typer.Option("--party", help="The rights-holder (party id) the token reads as.")
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="A finance-team token for every route.")
    ] = False,
    label: Annotated[str | None, typer.Option(help="A note saying who holds the token.")] = None,
) -> None:
    """Create a token and print it once; only its hash is kept, so store it now.

    Example: royalty tokens create --party rust --label "Rust, web page"
    """
    from ledger.store import tokens

    with state().ledger().write() as session:
        token_id, plaintext = tokens.create_token(session, party_id=party, admin=admin, label=label)
    who = "admin" if admin else f"party {party}"
    typer.echo(plaintext)
    console.print(
        f"Token {token_id} for {who}. It is shown only now: give it to its holder safely.",
        style="dim",
        highlight=False,
        markup=False,
    )


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens: id, holder, label, dates (never the token itself).

    Example: royalty tokens list --json
    """
    from ledger.store import tokens

    with state().ledger().read() as session:
        rows = tokens.list_tokens(session)
    if as_json:
        print_json(rows)
        return
    table(
        "API tokens",
        ["Id", "For", "Label", "Created", "Revoked"],
        [
            (
                t.id,
                "admin" if t.is_admin else t.party_id,
                t.label or "",
                t.created_at.isoformat(timespec="seconds"),
                t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "",
            )
            for t in rows
        ],
    )


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `royalty tokens list`).")],
) -> None:
    """Stop a token from working, at once and for good.

    Example: royalty tokens revoke 3
    """
    from ledger.store import tokens

    with state().ledger().write() as session:
        info = tokens.revoke(session, token_id)
    console.print(f"Token {info.id} revoked.", highlight=False)
