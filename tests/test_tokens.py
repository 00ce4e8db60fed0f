"""API tokens: shown once, stored as a hash, bound to a party or admin, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger import tokens
from ledger.db import Database
from ledger.errors import NotFound, Unauthorized
from ledger.models import ApiToken, Party


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
