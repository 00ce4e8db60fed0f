"""A month over HTTP: upload, split (preview, then post), balances, payouts, close."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from ledger.store import tokens as token_service
from ledger.store.db import Database
from tests.api_support import client, seed
from tests.fixtures_revenue import sample_dsr_us_text

DSR_NAME = (
    "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_"
    "20261105T101500.tsv"
)


def _month(database: Database) -> tuple[TestClient, dict[str, str]]:
    tokens = seed(database)
    http = client(database)
    admin = tokens.bearer(tokens.admin)
    uploaded = http.post(
        "/api/admin/imports",
        params={"filename": DSR_NAME},
        content=sample_dsr_us_text().encode(),
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    return http, admin


def test_a_split_preview_posts_nothing_and_the_run_posts_the_shares(database: Database) -> None:
    http, admin = _month(database)
    preview = http.post(
        "/api/admin/splits", json={"period": "2026-10", "dry_run": True}, headers=admin
    )
    assert preview.status_code == 200 and preview.json()["dry_run"] is True
    assert http.get("/api/admin/balances", headers=admin).json() == []
    run = http.post("/api/admin/splits", json={"period": "2026-10"}, headers=admin)
    assert run.status_code == 201, run.text
    assert run.json()["revenue"] == "24980.18"
    rows = {b["party_id"]: b for b in http.get("/api/admin/balances", headers=admin).json()}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["closing"] == "12490.09"  # 50% of 24980.18, a string
    assert Decimal(rows["bob"]["closing"]) == Decimal("24980.18") * 3 / 10


def test_each_holder_sees_only_their_own_balance(database: Database) -> None:
    http, admin = _month(database)
    with database.write() as session:
        _, alice_token = token_service.create_token(session, party_id="alice")
        _, bob_token = token_service.create_token(session, party_id="bob")
    assert http.post("/api/admin/splits", json={"period": "2026-10"}, headers=admin).is_success
    alice = http.get("/api/me/balances", headers={"Authorization": f"Bearer {alice_token}"}).json()
    bob = http.get("/api/me/balances", headers={"Authorization": f"Bearer {bob_token}"}).json()
    assert [b["party_id"] for b in alice] == ["alice"]
    assert [b["party_id"] for b in bob] == ["bob"]
    assert alice[0]["closing"] == "12490.09" and isinstance(bob[0]["closing"], str)


def test_a_payout_retried_with_its_key_pays_once(database: Database) -> None:
    http, admin = _month(database)
    assert http.post("/api/admin/splits", json={"period": "2026-10"}, headers=admin).is_success
    keyed = admin | {"Idempotency-Key": "payout-2026-10"}
    first = http.post("/api/admin/payouts", json={"period": "2026-10"}, headers=keyed)
    retry = http.post("/api/admin/payouts", json={"period": "2026-10"}, headers=keyed)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and first.json()["total_paid"] == "19984.14"
    rows = {b["party_id"]: b for b in http.get("/api/admin/balances", headers=admin).json()}
    assert rows["alice"]["paid"] == "12490.09" and rows["alice"]["closing"] == "0.00"
    assert rows["bob"]["closing"] == "0.004"  # sub-cent remainder carried, paid once only
    other = http.post(
        "/api/admin/payouts", json={"period": "2026-10", "dry_run": True}, headers=keyed
    )
    assert other.status_code == 409


def test_a_split_retried_with_its_key_runs_once(database: Database) -> None:
    http, admin = _month(database)
    keyed = admin | {"Idempotency-Key": "split-1"}
    first = http.post("/api/admin/splits", json={"period": "2026-10"}, headers=keyed)
    retry = http.post("/api/admin/splits", json={"period": "2026-10"}, headers=keyed)
    assert first.status_code == 201 and retry.json()["run_id"] == first.json()["run_id"]
    rows = {b["party_id"]: b for b in http.get("/api/admin/balances", headers=admin).json()}
    assert rows["alice"]["closing"] == "12490.09"
