"""Shared set-up for the API tests: parties, one token of each kind, a client."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from api.app import create_app
from ledger import tokens
from ledger.db import Database
from ledger.models import Party

ALICE_NAME = "Zoë Ångström 周"  # non-ASCII on purpose: filenames and pages must survive it


@dataclass(frozen=True)
class Seeded:
    admin: str
    alice: str
    bob: str

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def seed(database: Database) -> Seeded:
    """Two rights-holders (alice, bob) and an admin, each with a token."""
    with database.write() as session:
        session.add(Party(id="alice", name=ALICE_NAME, kind="person"))
        session.add(Party(id="bob", name="Bob Lee", kind="person"))
        session.flush()
        _, admin = tokens.create_token(session, admin=True, label="finance")
        _, alice = tokens.create_token(session, party_id="alice")
        _, bob = tokens.create_token(session, party_id="bob")
    return Seeded(admin=admin, alice=alice, bob=bob)


def client(database: Database, **kwargs: int) -> TestClient:
    return TestClient(create_app(database, **kwargs), raise_server_exceptions=False)
