"""Finance routes over HTTP: uploads, imports, suspense, periods, idempotency, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.routes_admin import safe_filename
from ledger.domain.money import Money
from ledger.store.db import Database
from tests.adapters import import_file
from tests.api_support import Seeded, client, seed
from tests.fixtures_revenue import (
    UNKNOWN_ISRC,
    US_BLOCKS,
    US_SUMMARIES,
    Block,
    Usage,
    dsr_text,
    sample_dsr_gb_text,
    sample_dsr_us_text,
    write_rates,
    write_text,
)

DSR_NAME = (
    "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_"
    "20261105T101500.tsv"
)


def _upload(
    http: TestClient,
    tokens: Seeded,
    content: bytes,
    *,
    name: str = DSR_NAME,
    key: str | None = None,
    **params: str | list[str],
) -> httpx.Response:
    headers = tokens.bearer(tokens.admin) | {"Content-Type": "application/octet-stream"}
    if key:
        headers["Idempotency-Key"] = key
    return http.post(
        "/api/admin/imports", params={"filename": name, **params}, content=content, headers=headers
    )


def test_upload_imports_the_file_and_amounts_are_strings(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    response = _upload(http, tokens, sample_dsr_us_text().encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == DSR_NAME and body["format"] == "dsr" and body["lines"] == 7
    assert body["totals"] == {"USD": "24980.18"} or body["totals"]["USD"].startswith("24980.18")
    assert isinstance(body["ledger_total"], str) and isinstance(body["suspense_amount"], str)
    listed = http.get("/api/admin/imports", headers=tokens.bearer(tokens.admin))
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["id"] == body["import_id"] and row["filename"] == DSR_NAME
    assert all(isinstance(v, str) for v in row["totals"].values())
    assert (
        http.get(
            "/api/admin/imports", params={"period": "2026-09"}, headers=tokens.bearer(tokens.admin)
        ).json()
        == []
    )


def test_a_dry_run_upload_posts_nothing(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    response = _upload(http, tokens, sample_dsr_us_text().encode(), dry_run="true")
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert http.get("/api/admin/imports", headers=tokens.bearer(tokens.admin)).json() == []


def test_the_same_file_twice_is_a_conflict_naming_the_first_import(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    assert _upload(http, tokens, sample_dsr_us_text().encode()).status_code == 201
    again = _upload(http, tokens, sample_dsr_us_text().encode())
    assert again.status_code == 409 and again.json()["status"] == 409


def test_a_bad_file_lists_every_problem_with_file_and_line(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    broken = dsr_text(US_SUMMARIES, US_BLOCKS, foot={"NumberOfSummaryRecords": 9})
    response = _upload(http, tokens, broken.encode())
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("invalid-input") and body["problems"]
    first = body["problems"][0]
    assert first["file"] == DSR_NAME and isinstance(first["line"], int)
    assert first["where"] == f"{DSR_NAME}:{first['line']}"
    assert http.get("/api/admin/imports", headers=tokens.bearer(tokens.admin)).json() == []


def test_an_upload_in_another_currency_takes_its_rates_as_parameters(
    database: Database, tmp_path: Path
) -> None:
    # The same figures as `royalty import --fx`: the rates become the period's rates file.
    tokens = seed(database)
    http = client(database)
    gb = sample_dsr_gb_text()
    path = write_text(tmp_path / "gb.tsv", gb)
    rates = write_rates(tmp_path / "rates.csv", "period,currency,rate\n2026-10,GBP,1.2644\n")
    with database.read() as s:
        expected = import_file(s, path, period="2026-10", fx_path=rates, dry_run=True)
    assert expected.ledger_total.amount != expected.totals["GBP"].amount  # converted, not copied

    unpriced = _upload(http, tokens, gb.encode(), period="2026-10")
    assert unpriced.status_code == 422 and "GBP" in unpriced.text  # never a guess

    response = _upload(http, tokens, gb.encode(), period="2026-10", rate=["GBP=1.2644"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert Money.of(body["ledger_total"], "USD") == expected.ledger_total
    assert body["totals"] == {"GBP": "6488.20"}
    with database.read() as s:
        kept = s.execute(text("SELECT DISTINCT original_currency, fx_rate FROM revenue_line")).all()
    assert [tuple(r) for r in kept] == [("GBP", "1.2644")]


def test_bad_rate_parameters_are_named_one_by_one_and_nothing_is_imported(
    database: Database,
) -> None:
    tokens = seed(database)
    http = client(database)
    gb = sample_dsr_gb_text().encode()
    response = _upload(http, tokens, gb, period="2026-10", rate=["GBP=abc", "XX=1.5", "GBP 1.2"])
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert all(p["file"] == "rate" for p in problems)
    assert {p["line"] for p in problems} == {1, 2, 3}  # each parameter, all in one answer
    assert {(p["line"], p["field"]) for p in problems} >= {(1, "rate"), (2, "currency")}
    no_period = _upload(http, tokens, gb, rate=["GBP=1.2644"])
    assert no_period.status_code == 422 and "period" in no_period.text
    comma = _upload(http, tokens, gb, period="2026-10", rate=["GBP=1,26"])
    assert comma.status_code == 422 and comma.json()["problems"][0]["line"] == 1
    assert http.get("/api/admin/imports", headers=tokens.bearer(tokens.admin)).json() == []


def test_an_upload_with_a_declared_size_over_the_limit_is_refused_unread(
    database: Database,
) -> None:
    tokens = seed(database)
    http = client(database, max_upload_bytes=1000)
    response = _upload(http, tokens, b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["type"].endswith("payload-too-large")


def test_a_streamed_upload_is_cut_off_at_the_limit(database: Database) -> None:
    tokens = seed(database)
    http = client(database, max_upload_bytes=100_000)
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(1000):
            sent.append(1)
            yield b"y" * 10_000

    headers = tokens.bearer(tokens.admin)
    response = http.post(
        "/api/admin/imports", params={"filename": "big.csv"}, content=chunks(), headers=headers
    )
    assert response.status_code == 413
    assert http.get("/api/admin/imports", headers=headers).json() == []


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result(
    database: Database,
) -> None:
    tokens = seed(database)
    http = client(database)
    content = sample_dsr_us_text().encode()
    first = _upload(http, tokens, content, key="upload-1")
    retry = _upload(http, tokens, content, key="upload-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers.get("idempotency-replayed") == "true"
    assert len(http.get("/api/admin/imports", headers=tokens.bearer(tokens.admin)).json()) == 1


def test_the_same_idempotency_key_with_another_body_is_a_conflict(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    assert _upload(http, tokens, sample_dsr_us_text().encode(), key="k").status_code == 201
    other = _upload(http, tokens, sample_dsr_us_text().encode() + b"\n", key="k")
    assert other.status_code == 409
    assert other.json()["type"].endswith("idempotency-conflict")
    elsewhere = http.post(
        "/api/admin/suspense/resolve",
        json={},
        headers=tokens.bearer(tokens.admin) | {"Idempotency-Key": "k"},
    )
    assert elsewhere.status_code == 409


def test_an_overlong_idempotency_key_is_refused(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    response = _upload(http, tokens, b"a", key="k" * 201)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.csv", "report.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\März.tsv", "März.tsv"),
        ("..", "upload"),
        ("/", "upload"),
        ("a\x00b\nc.csv", "abc.csv"),
    ],
)
def test_uploaded_names_cannot_leave_the_upload_directory(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_suspense_is_listed_and_resolved(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    blocks = (*US_BLOCKS[:2], Block(UNKNOWN_ISRC, "Chaos Avenue", (Usage("S1", 44698),)))
    assert _upload(http, tokens, dsr_text(US_SUMMARIES, blocks).encode()).status_code == 201
    listed = http.get("/api/admin/suspense", headers=tokens.bearer(tokens.admin))
    assert listed.status_code == 200
    [held] = listed.json()
    assert held["isrc"] == UNKNOWN_ISRC and isinstance(held["amount"], str)
    assert held["resolvable"] is False
    resolved = http.post(
        "/api/admin/suspense/resolve",
        json={"period": "2026-10"},
        headers=tokens.bearer(tokens.admin),
    )
    assert resolved.status_code == 200, resolved.text


def test_closing_a_period_twice_is_a_conflict(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    headers = tokens.bearer(tokens.admin)
    closed = http.post("/api/admin/periods/2026-10/close", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = http.post("/api/admin/periods/2026-10/close", headers=headers)
    assert again.status_code == 409 and again.json()["type"].endswith("period-closed")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/admin/splits", {}),
        ("/api/admin/splits", {"period": "2026-13"}),
        ("/api/admin/splits", {"period": 202610}),
        ("/api/admin/splits", {"period": "2026-10", "surprise": True}),
        ("/api/admin/payouts", {"period": "October"}),
        ("/api/admin/payouts", []),
        ("/api/admin/suspense/resolve", {"period": "26-10"}),
    ],
)
def test_bad_bodies_are_422_problems_naming_the_field(
    database: Database, path: str, body: object
) -> None:
    tokens = seed(database)
    http = client(database)
    response = http.post(path, json=body, headers=tokens.bearer(tokens.admin))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("invalid-request") and problem["problems"]
    assert all(p["where"] for p in problem["problems"])


def test_malformed_json_is_a_422_problem(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    response = http.post(
        "/api/admin/splits",
        content=b"{not json",
        headers=tokens.bearer(tokens.admin) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["status"] == 422


@pytest.mark.parametrize("path", ["/api/admin/periods/2026-13/close", "/api/admin/periods/x/close"])
def test_a_malformed_period_in_the_path_is_422(database: Database, path: str) -> None:
    tokens = seed(database)
    response = client(database).post(path, headers=tokens.bearer(tokens.admin))
    assert response.status_code == 422


def test_a_huge_json_body_is_refused_before_the_token_is_even_checked(
    database: Database,
) -> None:
    http = client(database)
    big = b'{"period": "' + b"9" * (2 * 1024 * 1024) + b'"}'
    declared = http.post(
        "/api/admin/splits", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and declared.json()["status"] == 413

    def chunks() -> Iterator[bytes]:
        yield b'{"period": "'
        for _ in range(300):
            yield b"9" * 10_000
        yield b'"}'

    streamed = http.post(
        "/api/admin/splits", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
