"""Helpers for the long bulk jobs (imports, split runs) that build millions of objects."""

from __future__ import annotations

import contextlib
import gc
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the length of a bulk job.

    A job keeps hundreds of thousands of short-lived objects alive (lines, legs,
    rows) and the collector would walk all of them again and again as they pile
    up: about a tenth of a million-line import or split. Reference counting still
    frees everything; the few cycles made meanwhile are collected once it runs
    again. The pause is process-wide: in the API server, other requests run
    without the collector for the seconds a job takes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class SmallPageCache:
    """Hold a SQLite connection's page cache small while a bulk job appends rows.

    Rows appended in id order go to the right edge of a table and of its id-ordered
    indexes; other indexes (postings by account, entries by period) take them at
    one leaf per key. With the few keys of an import, a split or the bulk-post
    benchmark, 8 MiB of cache stored them as fast as the connection's 128 MiB,
    which would only have held written pages until the commit (a bulk post of
    600,000 entries peaked 135 MB higher with it). A write over thousands of
    distinct accounts was not measured. :meth:`restore` gives the connection its
    size back, and the pool does so again when the connection is returned
    (``ledger.store.db``). Not for PostgreSQL.
    """

    KIB = 8192

    def __init__(self, dbapi: Any) -> None:
        self._dbapi = dbapi
        self._saved: int | None = None

    def hold(self) -> None:
        size = int(self._dbapi.execute("PRAGMA cache_size").fetchone()[0])
        page = int(self._dbapi.execute("PRAGMA page_size").fetchone()[0])
        if self._saved is None and (-size * 1024 if size < 0 else size * page) > self.KIB * 1024:
            self._saved = size  # first: an interruption between the two still restores
            self._dbapi.execute(f"PRAGMA cache_size = -{self.KIB}")

    def restore(self) -> None:
        if self._saved is not None:
            self._dbapi.execute(f"PRAGMA cache_size = {int(self._saved)}")
            self._saved = None


class Offload:
    """One bulk write's worker thread (:class:`InOrder`), started on the first
    :meth:`submit`, and on SQLite its :class:`SmallPageCache`, held until :meth:`release`.

    :meth:`wait` lets the worker end (raising what it raised) so that the caller
    may use the connection again; a later :meth:`submit` starts another worker and
    the cache stays held. After an error the caller calls :meth:`cancel`.
    """

    def __init__(self, name: str, *, backlog: int) -> None:
        self.name = name
        self.backlog = backlog
        self._worker: InOrder | None = None
        self._cache: SmallPageCache | None = None

    @property
    def active(self) -> bool:
        """A worker may be using the connection."""
        return self._worker is not None

    def submit(
        self, call: Callable[[], object], *, connection: Connection, dbapi: Any, sqlite: bool
    ) -> None:
        """Run ``call`` (which writes through ``dbapi``, the raw side of ``connection``)
        on the worker, after the calls submitted before it."""
        if self._worker is None:
            if sqlite and self._cache is None:
                self._cache = SmallPageCache(dbapi)
                self._cache.hold()
            self._worker = InOrder(self.name, self.backlog, guard=connection)
        self._worker.submit(call)

    def wait(self) -> None:
        """Wait until every call has run; raise the first error (then call cancel)."""
        if self._worker is not None:
            self._worker.finish()
            self._worker = None

    def release(self) -> None:
        """Give the page cache its size back (after wait, once the write is read back)."""
        assert self._worker is None, "release() while the worker may use the connection"
        if self._cache is not None:
            self._cache.restore()
            self._cache = None

    def cancel(self) -> None:
        """After an error: drop the calls not yet run, wait for the running one, release
        (also when Ctrl-C comes while it waits)."""
        try:
            if self._worker is not None:
                self._worker.cancel()  # waits until the worker has ended, even on Ctrl-C
        finally:
            if self._worker is not None and not self._worker.running:
                self._worker = None
            # The error being handled matters more than the cache size; the pool sets
            # it again when the connection is returned.
            with contextlib.suppress(Exception):
                self.release()


class InOrder:
    """Run calls one after another on a worker thread, in the order they were given.

    A bulk job hands the database its rows through this while it goes on reading
    and checking the next part of the file: the sqlite3 and psycopg drivers let
    go of the GIL while the database stores rows, so that time overlaps the job's
    own Python work on a second core. At most ``backlog`` calls wait (memory stays
    bounded: :meth:`submit` blocks until there is room).

    The caller must not use the same connection itself until :meth:`finish` (or
    :meth:`cancel`) has returned: with ``guard`` (the SQLAlchemy connection the
    calls write through, raw) a statement, commit or rollback run through it
    meanwhile first stops the worker, then a statement or commit is refused with
    :class:`ConnectionBusy`. On SQLite this matters beyond the race: after a
    rollback the worker's next statements would commit on their own.

    The first error a call raises is raised again by the next :meth:`submit` or
    by :meth:`finish`, and every later call is dropped. Waiting for the worker
    cannot be cut short: Ctrl-C while :meth:`finish` or :meth:`cancel` waits
    drops the calls not yet run, waits for the one running, and is raised then.

    While a worker runs, the interpreter's switch interval is shortened
    (process-wide) so that the worker gets the GIL back soon after the database
    has stored a batch: by default it may wait 5 ms each time, which starved it
    (a million-line import's lines took 3 s instead of 2).
    """

    SWITCH_INTERVAL = 0.0002

    def __init__(self, name: str, backlog: int = 4, *, guard: Connection | None = None) -> None:
        self._calls: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=backlog)
        self._error: BaseException | None = None  # not yet handed to the caller
        self._failed = False  # a call raised: drop the rest
        self._cancelled = False
        self._stopped = False
        self._halted = False  # stopped by the guard: calls were dropped
        self._guarded: Connection | None = None
        # Set by the worker as it ends. Not Thread.join(): in Python 3.11 a join cut short
        # by Ctrl-C can mark a thread that still runs as stopped.
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        _shorten_switch_interval(self.SWITCH_INTERVAL)
        self._holds_interval = True
        try:
            if guard is not None:
                for name_ in _GUARDED_EVENTS:
                    event.listen(guard, name_, getattr(self, f"_on_{name_}"))
                self._guarded = guard
            self._thread.start()
        except BaseException:
            self._ended.set()
            self._release()
            raise

    @property
    def running(self) -> bool:
        """The worker has not ended yet."""
        return not self._ended.is_set()

    def _run(self) -> None:
        try:
            while True:
                call = self._calls.get()
                if call is None:
                    return
                if self._failed or self._cancelled:
                    continue
                try:
                    call()
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc
                    self._failed = True
        finally:
            self._ended.set()

    def submit(self, call: Callable[[], object]) -> None:
        """Queue one call (blocks while the backlog is full); raises an earlier call's error."""
        if self._stopped:
            raise RuntimeError("this worker has finished; start another")
        self._raise()
        self._calls.put(call)

    def finish(self) -> None:
        """Wait for every call to have run; raise the first error one of them raised (or
        :class:`ConnectionBusy` if the guard stopped the worker: calls were dropped)."""
        self._stop()
        self._raise()
        if self._halted:
            raise ConnectionBusy(
                "the bulk writer was stopped by a statement, commit or rollback on its"
                " connection; what it had not stored yet was dropped"
            )

    def cancel(self) -> None:
        """Drop the calls not yet run, wait for the running one, and forget any error."""
        self._cancelled = True
        try:
            self._stop()
        finally:
            self._error = None

    def _stop(self) -> None:
        """Wait for the worker to end; Ctrl-C meanwhile only makes it end sooner."""
        self._stopped = True
        interrupted: BaseException | None = None
        sent = False
        try:
            while self.running:
                try:
                    if self._cancelled:
                        _drain(self._calls)  # only this thread puts: there is room now
                        sent = False
                    if not sent:
                        self._calls.put(None)
                        sent = True
                    self._ended.wait()
                except BaseException as exc:
                    self._cancelled = True
                    interrupted = interrupted or exc
        finally:
            self._release()
        if interrupted is not None:
            raise interrupted

    def _release(self) -> None:
        """Remove the guard and give back the switch interval (once; the worker has ended)."""
        guarded, self._guarded = self._guarded, None
        if guarded is not None:
            for name_ in _GUARDED_EVENTS:
                event.remove(guarded, name_, getattr(self, f"_on_{name_}"))
        self._give_back_interval()

    def _give_back_interval(self) -> None:
        if self._holds_interval:
            self._holds_interval = False
            _restore_switch_interval()

    def _raise(self) -> None:
        error = self._error
        if error is not None:
            self._error = None
            raise error

    # The guard's listeners (SQLAlchemy calls them on the caller's thread).
    def _halt(self) -> bool:
        """Stop a running worker (dropping what waits); True if it was running."""
        if self._stopped:
            return False
        self._cancelled = True
        self._stopped = True
        self._halted = True
        _drain(self._calls)
        self._calls.put(None)
        self._ended.wait()
        self._give_back_interval()  # the guard stays until finish() or cancel()
        return True

    def _on_before_cursor_execute(self, *_args: object) -> None:
        if self._halt():
            raise ConnectionBusy(
                "a statement was run on the connection while a bulk writer used it;"
                " the writer was stopped"
            )

    def _on_commit(self, *_args: object) -> None:
        if self._halt():
            raise ConnectionBusy("a commit while a bulk writer used the connection; refused")

    def _on_rollback(self, *_args: object) -> None:
        self._halt()  # the rollback goes ahead once the writer has stopped


_GUARDED_EVENTS = ("before_cursor_execute", "commit", "rollback")


class ConnectionBusy(RuntimeError):
    """A statement was run through a connection while a worker wrote through it: a bug."""


def _drain(calls: queue.Queue[Callable[[], object] | None]) -> None:
    while True:
        try:
            calls.get_nowait()
        except queue.Empty:
            return


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


def _shorten_switch_interval(interval: float) -> None:
    """Shorten the switch interval for one more worker (restored when the last one ends)."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, interval))
        _switch_users += 1


def _restore_switch_interval() -> None:
    global _switch_users
    with _switch_lock:
        _switch_users -= 1
        if _switch_users == 0:
            sys.setswitchinterval(_switch_saved)
