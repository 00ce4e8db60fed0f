"""`royalty serve` runs the app under uvicorn: OpenAPI at /docs, the API answering."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ledger.store import settings
from ledger.store.db import Database
from tests.api_support import seed

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_royalty_serve_answers_on_the_given_port(sqlite_database: Database) -> None:
    with sqlite_database.write() as session:
        settings.initialise(session, "USD")
    tokens = seed(sqlite_database)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "--db",
            sqlite_database.url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-upload-mb",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        docs = None
        for _ in range(150):  # bounded: 15 s at most
            try:
                docs = httpx.get(base + "/docs", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.1)
        assert docs is not None and docs.status_code == 200 and "swagger" in docs.text.lower()
        spec = httpx.get(base + "/openapi.json").json()
        assert "/api/admin/imports" in spec["paths"]
        me = httpx.get(base + "/api/me", headers={"Authorization": f"Bearer {tokens.bob}"})
        assert me.json() == {"party_id": "bob", "name": "Bob Lee"}
        too_big = httpx.post(
            base + "/api/admin/imports",
            params={"filename": "x.csv"},
            content=b"x" * 2_000_000,
            headers={"Authorization": f"Bearer {tokens.admin}"},
        )
        assert too_big.status_code == 413
    finally:
        server.terminate()
        server.wait(timeout=10)
