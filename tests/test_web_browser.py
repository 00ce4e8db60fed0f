"""The rights-holder web page in a real browser: headless Debian Chromium driven by
Playwright, against the app served by uvicorn on 127.0.0.1.

Skipped, with the reason, when /usr/bin/chromium or Playwright is missing
(`.ci/system-deps` installs Chromium on CI).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from api.app import create_app
from ledger.store import settings
from ledger.store.db import Database
from tests.api_support import ALICE_NAME, Seeded, client, seed
from tests.fixtures_revenue import sample_dsr_us_text

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DSR_NAME = (
    "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_"
    "20261105T101500.tsv"
)

if not CHROMIUM.exists():
    pytest.skip(
        "Debian chromium is not installed (/usr/bin/chromium); run .ci/system-deps",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(sqlite_database: Database) -> Iterator[tuple[str, Seeded]]:
    """The app on a free port with one month imported and split."""
    with sqlite_database.write() as session:
        settings.initialise(session, "USD")
    seeded = seed(sqlite_database)
    http = client(sqlite_database)
    admin = seeded.bearer(seeded.admin)
    assert (
        http.post(
            "/api/admin/imports",
            params={"filename": DSR_NAME},
            content=sample_dsr_us_text().encode(),
            headers=admin,
        ).status_code
        == 201
    )
    assert http.post("/api/admin/splits", json={"period": "2026-10"}, headers=admin).is_success
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sqlite_database), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for the socket
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", seeded
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_a_holder_signs_in_sees_balances_and_downloads_a_statement(
    served: tuple[str, Seeded], page: Page, tmp_path: Path
) -> None:
    base, seeded = served
    p = page
    p.goto(base + "/")
    assert p.url.endswith("/signin")
    p.fill("#token", seeded.alice)
    p.click("button[type=submit]")
    p.wait_for_url(base + "/account")
    assert p.inner_text("#party-name") == ALICE_NAME
    balances = p.inner_text("#balances")
    assert "12490.09" in balances and "Bob Lee" not in p.content()
    assert "2026-10" in p.inner_text("#statements")
    p.screenshot(path=str(tmp_path / "account.png"), full_page=True)

    with p.expect_download() as pdf_info:
        p.click("#statements a:has-text('PDF')")
    pdf = pdf_info.value
    assert pdf.suggested_filename == f"Statement 2026-10 - {ALICE_NAME}.pdf"
    saved = tmp_path / "statement.pdf"
    pdf.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    with p.expect_download() as csv_info:
        p.click("#statements a:has-text('CSV')")
    csv_path = tmp_path / "statement.csv"
    csv_info.value.save_as(str(csv_path))
    assert ALICE_NAME in csv_path.read_text(encoding="utf-8-sig")


def test_the_cookie_is_not_readable_by_scripts_and_sign_out_ends_the_session(
    served: tuple[str, Seeded], page: Page
) -> None:
    base, seeded = served
    p = page
    p.goto(base + "/signin")
    p.fill("#token", seeded.bob)
    p.click("button[type=submit]")
    p.wait_for_url(base + "/account")
    assert p.evaluate("document.cookie") == ""
    cookies = p.context.cookies()
    [cookie] = cookies
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    p.click("text=Sign out")
    p.wait_for_url(base + "/signin")
    p.goto(base + "/account")
    assert p.url.endswith("/signin")


def test_a_wrong_token_shows_a_clear_message(served: tuple[str, Seeded], page: Page) -> None:
    base, _ = served
    p = page
    p.goto(base + "/signin")
    p.fill("#token", "rl_not-a-token")
    p.click("button[type=submit]")
    assert "not valid" in p.inner_text("#error")
    assert p.context.cookies() == []
