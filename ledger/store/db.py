"""Database access at the edge: engines, sessions, the writer lock, migrations.

The same code runs on SQLite (the embedded default, one file) and PostgreSQL
(production). Use cases open a session with :meth:`Database.write` (one
transaction, committed once at the end, rolled back on any error) or
:meth:`Database.read`. Writers are serialised: on SQLite every write
transaction starts with ``BEGIN IMMEDIATE``; on PostgreSQL it takes a
transaction-scoped advisory lock. That makes the hash chain of the journal and
"check, then post" sequences safe under concurrency.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from ledger.domain.errors import LedgerError, NotInitialised

DEFAULT_URL = "sqlite:///royalty.db"
SCHEMA_REVISION = "0003"
"""The Alembic head this code expects (a test checks it against the migrations)."""
LEDGER_LOCK_KEY = 0x524F59414C5459  # "ROYALTY": the advisory lock of the journal


class DatabaseError(LedgerError):
    code = "database-error"
    title = "Database unavailable"
    http_status = 503


def resolve_url(url: str | None) -> str:
    """``--db`` / ``ROYALTY_DB`` / the default file, with plain paths accepted for SQLite
    and ``postgresql://`` routed to the psycopg 3 driver."""
    raw = url or os.environ.get("ROYALTY_DB") or DEFAULT_URL
    if "://" not in raw:
        raw = f"sqlite:///{raw}"
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


SQLITE_CACHE_KIB = 131072
"""Page cache of a SQLite connection (128 MiB): index pages of a large ledger stay in memory."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One configured database: an engine plus the session helpers use cases need."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._connect() as conn, Session(bind=conn) as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One use case's transaction: serialised with other writers, committed once."""
        with (
            self._connect(write=True) as conn,
            Session(bind=conn, expire_on_commit=False) as session,
        ):
            if self.is_postgres:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEDGER_LOCK_KEY})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            raise DatabaseError(
                f"cannot open database {self.describe()}: {_first_line(exc.orig)}",
                hint="check --db / ROYALTY_DB",
            ) from None
        try:
            if write and self.is_sqlite:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            yield conn
        finally:
            conn.close()

    def require_schema(self) -> None:
        """Fail with a clear message when ``royalty init`` has not been run, or when the
        schema is older (or newer) than this version of the code expects."""
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    raise NotInitialised(
                        f"database {self.describe()} has no ledger yet",
                        hint="run `royalty init` first",
                    )
                found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as exc:
            raise DatabaseError(
                f"cannot open database {self.describe()}: {_first_line(exc.orig)}"
            ) from None
        if found != SCHEMA_REVISION:
            older = found is None or found < SCHEMA_REVISION
            raise NotInitialised(
                f"database {self.describe()} has schema revision {found or 'none'}; "
                f"this version of royalty needs {SCHEMA_REVISION}",
                hint="run `royalty init` to create or upgrade it (back it up first)"
                if older
                else "use the version of royalty that created it",
            )

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def migrations_dir() -> Path:
    return Path(__file__).parent / "migrations"


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or upgrade the schema with Alembic (what ``royalty init`` runs)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
