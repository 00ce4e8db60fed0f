"""Shared CLI state: the database chosen with --db, opened once per command.

The root callback sets it for the invocation; commands call :func:`state`.
The database layer (SQLAlchemy) is imported only when a command opens the database.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store.db import Database


class AppState:
    def __init__(self, url: str | None) -> None:
        self.url = url
        self._db: Database | None = None

    def database(self) -> Database:
        if self._db is None:
            from ledger.store.db import Database

            self._db = Database(self.url)
        return self._db

    def ledger(self) -> Database:
        """The database, refusing with a clear message if `royalty init` never ran."""
        database = self.database()
        database.require_schema()
        return database

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


_current: AppState | None = None


def set_state(url: str | None) -> AppState:
    global _current
    if _current is not None:
        _current.close()
    _current = AppState(url)
    return _current


def state() -> AppState:
    if _current is None:
        return set_state(None)
    return _current


def close_state() -> None:
    global _current
    if _current is not None:
        _current.close()
        _current = None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while this CLI process runs a bulk job.

    An import or a split keeps hundreds of thousands of short-lived objects alive
    (lines, legs, rows) and the collector walks all of them again and again as
    they pile up. Reference counting still frees everything; the few cycles made
    meanwhile are collected when it runs again. It is process-wide, which is why
    only the CLI, whose process runs one command, pauses it: never the library or
    the API server.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
