"""The rights-holder web page through TestClient: sign-in, cookie, pages, downloads.

(tests/test_web_browser.py drives the same page in a real headless Chromium.)
"""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient

from api.auth import COOKIE_NAME
from ledger.services import documents
from ledger.store import tokens
from ledger.store.db import Database
from tests.api_support import ALICE_NAME, CATALOG, client, seed, split_month


def _sign_in(http: TestClient, token: str) -> None:
    response = http.post("/signin", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account"


def test_the_sign_in_page_is_plain_html_with_a_strict_policy(database: Database) -> None:
    page = client(database).get("/signin")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/signin">' in page.text and "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_signing_in_sets_an_httponly_strict_cookie(database: Database) -> None:
    seeded = seed(database)
    http = client(database)
    response = http.post("/signin", data={"token": seeded.alice}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Path=/" in cookie


def test_a_wrong_token_shows_an_error_and_sets_no_cookie(database: Database) -> None:
    seed(database)
    http = client(database)
    response = http.post("/signin", data={"token": "rl_wrong"}, follow_redirects=False)
    assert response.status_code == 401 and "not valid" in response.text
    assert "set-cookie" not in response.headers
    empty = http.post("/signin", data={}, follow_redirects=False)
    assert empty.status_code == 401


def test_an_admin_token_cannot_sign_in_to_the_holder_page(database: Database) -> None:
    seeded = seed(database)
    response = client(database).post(
        "/signin", data={"token": seeded.admin}, follow_redirects=False
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_pages_without_a_session_send_you_to_sign_in(database: Database) -> None:
    seed(database)
    http = client(database)
    for path in ("/", "/account", "/account/statements/2026-10/pdf"):
        response = http.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/signin", path
    http.cookies.set(COOKIE_NAME, "rl_forged")
    assert http.get("/account", follow_redirects=False).status_code == 303


def test_the_account_page_shows_only_the_holders_balance_and_statements(
    database: Database,
) -> None:
    seeded, http = split_month(database)
    _sign_in(http, seeded.alice)
    page = http.get("/account")
    assert page.status_code == 200
    assert ALICE_NAME in page.text and "Bob Lee" not in page.text
    assert "12490.09" in page.text
    assert 'href="/account/statements/2026-10/pdf"' in page.text
    assert 'href="/account/statements/2026-10/csv"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_downloads_from_the_page_are_the_holders_own(database: Database) -> None:
    seeded, http = split_month(database)
    _sign_in(http, seeded.alice)
    pdf = http.get("/account/statements/2026-10/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
    missing = http.get("/account/statements/2019-01/csv")
    assert missing.status_code == 404 and "Statement not found" in missing.text


def test_names_are_escaped_on_the_page(database: Database) -> None:
    _, http = split_month(database)
    doc = dict(CATALOG)
    doc["parties"] = [
        *CATALOG["parties"],
        {
            "id": "mallory",
            "name": "<script>alert(1)</script>",
            "kind": "person",
            "payout_currency": "USD",
        },
    ]
    with database.write() as session:
        documents.load_catalog(session, yaml.safe_dump(doc), "catalog.yaml")
        _, token = tokens.create_token(session, party_id="mallory")
    _sign_in(http, token)
    page = http.get("/account")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "Nothing owed to you yet" in page.text


def test_signing_out_clears_the_cookie(database: Database) -> None:
    seeded = seed(database)
    http = client(database)
    _sign_in(http, seeded.bob)
    assert http.get("/account", follow_redirects=False).status_code == 200
    out = http.post("/signout", follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE_NAME}=""' in out.headers["set-cookie"]
    assert http.get("/account", follow_redirects=False).status_code == 303
