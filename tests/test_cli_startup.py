"""The CLI's start-up: each command imports only what it uses (no timing asserted here).

Each check runs in a fresh Python process, since this test session has long since
imported everything. Timings are in benchmarks/bench_startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ledger.store import settings
from ledger.store.db import Database

REPO = Path(__file__).resolve().parent.parent

# What other commands use: the services of import (and the revenue file parsers its
# adapter opens), demo, statements, export and trace, the API, the PDF reports and
# their libraries, Alembic (init) and the real click (serve).
# (ledger.services.balances itself may grow; only what the CLI would drag in is listed.)
OTHER_COMMANDS = [
    "ledger.services.imports",
    "ledger.parsers",
    "cli.demo_month",
    "ledger.services.statement_data",
    "ledger.services.statements",
    "ledger.services.export",
    "ledger.services.trace",
    "api",
    "reports",
    "fastapi",
    "uvicorn",
    "reportlab",
    "babel",
    "alembic",
    "click",
]
# What no help text needs: the database layer (every module of ledger.store) and the
# use cases (every module of ledger.services), nor their libraries.
NOT_FOR_HELP = [
    *OTHER_COMMANDS,
    "sqlalchemy",
    "sqlmodel",
    "ledger.store",
    "ledger.services",
    "psycopg",
    "yaml",
    "stdnum",
]


_PROBE = """
import contextlib, io, json, sys
from cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*argv: str) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(proc.stdout.splitlines()[-1])
    return result["code"], set(result["modules"])


def _loaded(modules: set[str], names: list[str]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_help_imports_no_database_layer_and_no_service() -> None:
    code, modules = _modules_after("--help")
    assert code == 0
    assert _loaded(modules, [*NOT_FOR_HELP, "rich"]) == []
    assert sorted(m for m in modules if m.startswith("ledger.")) == [
        "ledger.domain",
        "ledger.domain.errors",
    ]


def test_command_help_imports_no_database_layer() -> None:
    code, modules = _modules_after("balances", "--help")
    assert code == 0
    assert _loaded(modules, NOT_FOR_HELP) == []


def test_balances_imports_only_what_balances_needs(sqlite_database: Database) -> None:
    with sqlite_database.write() as session:
        settings.initialise(session, "USD")
    url = sqlite_database.url
    sqlite_database.dispose()
    code, modules = _modules_after("--db", url, "balances", "--period", "2026-10")
    assert code == 0
    assert "ledger.services.balances" in modules
    assert _loaded(modules, OTHER_COMMANDS) == []
