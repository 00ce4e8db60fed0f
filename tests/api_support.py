"""Shared set-up for the API tests: a small catalog, one token of each kind, a client."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.services import documents
from ledger.store import tokens
from ledger.store.db import Database

ALICE_NAME = "Zoë Ångström 周"  # non-ASCII on purpose: filenames and pages must survive it
TRACKS = ("USRW12600001", "USRW12600002", "USRW12600003")

CATALOG = {
    "parties": [
        {
            "id": "label",
            "name": "Rust Label Ltd.",
            "kind": "company",
            "operator": "true",
            "payout_currency": "USD",
        },
        {"id": "alice", "name": ALICE_NAME, "kind": "person", "payout_currency": "USD"},
        {"id": "bob", "name": "Bob Lee", "kind": "person", "payout_currency": "USD"},
    ],
    "tracks": [{"isrc": i, "title": f"Track {i[-1]}", "display_artist": "Rust"} for i in TRACKS],
    "contributions": [
        {"isrc": i, "party": p, "role": r}
        for i in TRACKS
        for p, r in (("alice", "producer"), ("bob", "curator"))
    ],
}
AGREEMENTS = {
    "agreements": [
        {
            "id": "rust",
            "version": "1",
            "effective_from": "2026-01",
            "scope": {"tracks": list(TRACKS)},
            "rules": [
                {
                    "id": "standard",
                    "shares": [
                        {"party": "alice", "share": "50%"},
                        {"party": "bob", "share": "30%"},
                        {"party": "label", "share": "remaining"},
                    ],
                }
            ],
        }
    ]
}


@dataclass(frozen=True)
class Seeded:
    admin: str
    alice: str
    bob: str

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def seed(database: Database) -> Seeded:
    """The catalog and agreements above, and a token for the admin, alice and bob."""
    with database.write() as session:
        documents.load_catalog(session, yaml.safe_dump(CATALOG), "catalog.yaml")
        documents.load_agreements(session, yaml.safe_dump(AGREEMENTS), "agreements.yaml")
        _, admin = tokens.create_token(session, admin=True, label="finance")
        _, alice = tokens.create_token(session, party_id="alice")
        _, bob = tokens.create_token(session, party_id="bob")
    return Seeded(admin=admin, alice=alice, bob=bob)


def client(database: Database, **kwargs: int) -> TestClient:
    return TestClient(create_app(database, **kwargs), raise_server_exceptions=False)


DSR_NAME = (
    "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_"
    "20261105T101500.tsv"
)


def split_month(database: Database) -> tuple[Seeded, TestClient]:
    """Seed parties and tokens, upload the US sample DSR and split 2026-10 over HTTP."""
    from tests.fixtures_revenue import sample_dsr_us_text

    seeded = seed(database)
    http = client(database)
    admin = seeded.bearer(seeded.admin)
    uploaded = http.post(
        "/api/admin/imports",
        params={"filename": DSR_NAME},
        content=sample_dsr_us_text().encode(),
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert http.post("/api/admin/splits", json={"period": "2026-10"}, headers=admin).is_success
    return seeded, http
