"""Test fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

Database tests take the ``database`` fixture, which runs each test twice: on a
SQLite file and on a throwaway PostgreSQL database cloned from a migrated
template. PostgreSQL comes from ``ROYALTY_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``, an admin connection used to
create and drop test databases); when it cannot be reached those tests are
skipped with the reason, never failed. ``--sqlite-only`` skips PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.store.db import Database, migrations_dir, resolve_url, upgrade

PG_ADMIN_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sqlite-only", action="store_true", help="skip the PostgreSQL runs")


def _schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(migrations_dir().rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


class _Postgres:
    """Creates one migrated template per session and a clone of it per test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = resolve_url(admin_url)
        self.error: str | None = None
        self.template = f"rl_tpl_{_schema_fingerprint()}_{os.getpid()}"
        try:
            self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            template_db = Database(self._url(self.template))
            upgrade(template_db)
            template_db.dispose()
        except Exception as exc:  # unreachable server, refused login, ...
            self.error = f"PostgreSQL not reachable at {make_url(self.admin_url).render_as_string()}: {str(exc).splitlines()[0]}"

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create(self) -> tuple[str, str]:
        name = f"rl_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name, self._url(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self.error is None:
            self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres(request: pytest.FixtureRequest) -> Iterator[_Postgres | None]:
    if request.config.getoption("--sqlite-only"):
        yield None
        return
    pg = _Postgres(os.environ.get("ROYALTY_TEST_DATABASE_URL", PG_ADMIN_DEFAULT))
    yield pg
    pg.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres: _Postgres | None,
) -> Iterator[str]:
    """URL of a fresh migrated database (runs the test once per backend)."""
    if request.param == "sqlite":
        path = tmp_path / "royalty.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if _postgres is None:
        pytest.skip("PostgreSQL runs disabled with --sqlite-only")
    if _postgres.error:
        pytest.skip(_postgres.error)
    name, url = _postgres.create()
    try:
        yield url
    finally:
        _postgres.drop(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A fresh migrated :class:`Database` with the ledger currency set to USD."""
    from ledger.store import settings

    db = Database(database_url)
    with db.write() as session:
        settings.initialise(session, "USD")
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, _sqlite_template: Path) -> Iterator[Database]:
    """SQLite only, for tests about SQLite itself."""
    path = tmp_path / "royalty.db"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()
