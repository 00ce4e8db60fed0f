"""API tokens: shown once, stored as a hash, bound to a party or admin, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.domain.errors import NotFound, Unauthorized
from ledger.store import tokens
from ledger.store.db import Database
from ledger.store.models import ApiToken, Party


def _party(database: Database, pid: str = "rust") -> None:
    with database.write() as session:
        session.add(Party(id=pid, name=pid.title()))


def test_a_party_token_authenticates_as_that_party_and_only_its_hash_is_stored(
    database: Database,
) -> None:
    _party(database)
    with database.write() as session:
        token_id, plaintext = tokens.create_token(session, party_id="rust", label="web")
    assert plaintext.startswith("rl_") and len(plaintext) > 40
    with database.read() as session:
        stored = [(r.token_hash, r.label) for r in session.scalars(select(ApiToken)).all()]
        who = tokens.authenticate(session, plaintext)
    assert stored == [(tokens.hash_token(plaintext), "web")]
    assert who == tokens.Principal(token_id=token_id, party_id="rust", is_admin=False)


def test_an_admin_token_belongs_to_no_party(database: Database) -> None:
    with database.write() as session:
        _, plaintext = tokens.create_token(session, admin=True)
    with database.read() as session:
        who = tokens.authenticate(session, plaintext)
    assert who.is_admin and who.party_id is None


def test_each_token_is_different(database: Database) -> None:
    with database.write() as session:
        made = {tokens.create_token(session, admin=True)[1] for _ in range(5)}
    assert len(made) == 5


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, tokens.InvalidTokenRequest),
        ({"admin": True, "party_id": "rust"}, tokens.InvalidTokenRequest),
        ({"party_id": "nobody"}, NotFound),
    ],
)
def test_a_token_is_either_admin_or_for_an_existing_party(
    database: Database, kwargs: dict[str, object], error: type[Exception]
) -> None:
    _party(database)
    with pytest.raises(error), database.write() as session:
        tokens.create_token(session, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("presented", [None, "", "rl_wrong", "not-a-token", "rl_" + "x" * 500])
def test_unknown_or_malformed_tokens_are_unauthorized(
    database: Database, presented: str | None
) -> None:
    with database.write() as session:
        tokens.create_token(session, admin=True)
    with pytest.raises(Unauthorized), database.read() as session:
        tokens.authenticate(session, presented)


def test_a_revoked_token_no_longer_authenticates_and_stays_listed(database: Database) -> None:
    _party(database)
    with database.write() as session:
        token_id, plaintext = tokens.create_token(session, party_id="rust")
        _, other = tokens.create_token(session, admin=True)
    with database.write() as session:
        first = tokens.revoke(session, token_id)
    with database.write() as session:
        again = tokens.revoke(session, token_id)
    assert first.revoked_at is not None and again.revoked_at == first.revoked_at
    with pytest.raises(Unauthorized), database.read() as session:
        tokens.authenticate(session, plaintext)
    with database.read() as session:
        assert tokens.authenticate(session, other).is_admin
        listed = tokens.list_tokens(session)
    assert [(t.id, t.party_id, t.revoked_at is not None) for t in listed] == [
        (token_id, "rust", True),
        (token_id + 1, None, False),
    ]


def test_revoking_an_unknown_token_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound), database.write() as session:
        tokens.revoke(session, 999)


# ---------------------------------------------------------------------------
# `royalty tokens ...` (the Typer group; the lead mounts it on the root app)


def _run(database: Database, *args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from cli import tokens_cmd
    from cli.context import close_state, set_state

    set_state(database.url)
    try:
        result = CliRunner().invoke(tokens_cmd.app, list(args))
    finally:
        close_state()
    return result.exit_code, result.output


def test_the_cli_prints_a_token_once_and_never_lists_it(database: Database) -> None:
    _party(database)
    code, out = _run(database, "create", "--party", "rust", "--label", "web page")
    assert code == 0, out
    plaintext = out.splitlines()[0].strip()
    assert plaintext.startswith("rl_")
    with database.read() as session:
        assert tokens.authenticate(session, plaintext).party_id == "rust"
    code, listed = _run(database, "list", "--json")
    assert code == 0 and plaintext not in listed and tokens.hash_token(plaintext) not in listed
    assert '"party_id": "rust"' in listed and '"label": "web page"' in listed


def test_the_cli_revokes_a_token(database: Database) -> None:
    code, out = _run(database, "create", "--admin")
    plaintext = out.splitlines()[0].strip()
    with database.read() as session:
        token_id = tokens.authenticate(session, plaintext).token_id
    code, out = _run(database, "revoke", str(token_id))
    assert code == 0 and f"Token {token_id} revoked" in out
    with pytest.raises(Unauthorized), database.read() as session:
        tokens.authenticate(session, plaintext)


def test_every_tokens_command_has_an_example() -> None:
    from cli import serve_cmd, tokens_cmd

    docs = [c.callback.__doc__ or "" for c in tokens_cmd.app.registered_commands if c.callback]
    docs.append(serve_cmd.serve.__doc__ or "")
    assert len(docs) == 4 and all("Example: royalty " in d for d in docs)
