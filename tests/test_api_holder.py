"""Rights-holder routes: my statements, downloads, and nobody else's."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from pypdf import PdfReader

from api.routes_holder import content_disposition, download_name
from ledger.services import documents
from ledger.store import tokens
from ledger.store.db import Database
from tests.api_support import ALICE_NAME, CATALOG, split_month


def _carol(database: Database) -> str:
    """A third party with a token but no revenue at all."""
    import yaml

    doc = dict(CATALOG)
    doc["parties"] = [
        *CATALOG["parties"],
        {"id": "carol", "name": "Carol", "kind": "person", "payout_currency": "USD"},
    ]
    with database.write() as session:
        documents.load_catalog(session, yaml.safe_dump(doc), "catalog.yaml")
        return tokens.create_token(session, party_id="carol")[1]


def test_a_holder_lists_their_statements(database: Database) -> None:
    seeded, http = split_month(database)
    listed = http.get("/api/me/statements", headers=seeded.bearer(seeded.alice))
    assert listed.status_code == 200
    assert [(s["period"], s["formats"]) for s in listed.json()] == [("2026-10", ["pdf", "csv"])]


def test_a_holder_downloads_their_pdf_with_their_name_in_the_file_name(
    database: Database,
) -> None:
    seeded, http = split_month(database)
    response = http.get("/api/me/statements/2026-10/pdf", headers=seeded.bearer(seeded.alice))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Statement 2026-10 - Zoe Angstrom.pdf"')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"Statement 2026-10 - {ALICE_NAME}.pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "12,490.09" in text or "12490.09" in text


def test_a_holder_downloads_their_csv_and_it_is_about_them_only(database: Database) -> None:
    seeded, http = split_month(database)
    response = http.get("/api/me/statements/2026-10/csv", headers=seeded.bearer(seeded.alice))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert ALICE_NAME in body and "Bob Lee" not in body
    rows = [line.split(",") for line in body.splitlines()[1:]]
    assert {r[2] for r in rows} == {"alice"}


def test_another_holders_statement_is_404_like_a_guessed_one(database: Database) -> None:
    seeded, http = split_month(database)
    carol = _carol(database)
    theirs = http.get("/api/me/statements/2026-10/pdf", headers=seeded.bearer(carol))
    guessed = http.get("/api/me/statements/2019-01/pdf", headers=seeded.bearer(seeded.alice))
    assert theirs.status_code == guessed.status_code == 404
    assert theirs.json()["type"] == guessed.json()["type"]
    assert "alice" not in theirs.text and "Zo" not in theirs.text
    assert http.get("/api/me/statements", headers=seeded.bearer(carol)).json() == []
    assert http.get("/api/me/balances", headers=seeded.bearer(carol)).json() == []


@pytest.mark.parametrize("period", ["abc", "2026-13", "0000-00", "2026-10-01", "..%2F..", "-1"])
def test_malformed_periods_are_404_too(database: Database, period: str) -> None:
    seeded, http = split_month(database)
    response = http.get(f"/api/me/statements/{period}/csv", headers=seeded.bearer(seeded.alice))
    assert response.status_code == 404


def test_a_format_other_than_pdf_or_csv_is_refused(database: Database) -> None:
    seeded, http = split_month(database)
    response = http.get("/api/me/statements/2026-10/xlsx", headers=seeded.bearer(seeded.alice))
    assert response.status_code == 422


def test_the_admin_cannot_use_holder_routes_to_read_statements(database: Database) -> None:
    seeded, http = split_month(database)
    response = http.get("/api/me/statements/2026-10/pdf", headers=seeded.bearer(seeded.admin))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "ascii_part"),
    [
        ("Statement 2026-10 - Zoë.pdf", 'filename="Statement 2026-10 - Zoe.pdf"'),
        ("周杰伦.csv", 'filename="download.csv"'),
        ("周杰伦", 'filename="download"'),
        ('quote" and \\ back.pdf', 'filename="quote and back.pdf"'),
    ],
)
def test_content_disposition_has_an_ascii_fallback_and_the_exact_name(
    name: str, ascii_part: str
) -> None:
    header = content_disposition(name)
    assert header.startswith("attachment; ") and ascii_part in header
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name
    assert all(32 <= ord(c) < 127 for c in header)


def test_download_names_carry_no_path_or_control_characters() -> None:
    assert (
        download_name("../etc/pass\nwd", "2026-10", "pdf")
        == "Statement 2026-10 - .. etc pass wd.pdf"
    )
    assert download_name("", "2026-10", "csv") == "Statement 2026-10 - statement.csv"
