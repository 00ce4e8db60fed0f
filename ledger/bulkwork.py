"""Helpers for the long bulk jobs (imports, split runs) that build millions of objects."""

from __future__ import annotations

import gc
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

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


class InOrder:
    """Run calls one after another on a worker thread, in the order they were given.

    A bulk job hands the database its rows through this while it goes on reading
    and checking the next part of the file: the sqlite3 and psycopg drivers let
    go of the GIL while the database stores rows, so that time overlaps the job's
    own Python work on a second core. At most ``backlog`` calls wait (memory stays
    bounded: :meth:`submit` blocks until there is room).

    The caller must not use the same connection itself until :meth:`finish` (or
    :meth:`cancel`) has returned. The first error a call raises is raised again
    by the next :meth:`submit` or by :meth:`finish`; the calls after it are
    dropped. Until :meth:`finish` or :meth:`cancel`, the interpreter's switch
    interval is shortened (process-wide) so that the worker gets the GIL back
    soon after the database has stored a batch: by default it may wait 5 ms each
    time, which starved it (a million-line import's lines took 3 s instead of 2).
    """

    SWITCH_INTERVAL = 0.0002

    def __init__(self, name: str, backlog: int = 4, *, guard: Connection | None = None) -> None:
        """``guard``: the SQLAlchemy connection the calls write through (raw); any
        statement run through it meanwhile is refused (:class:`ConnectionBusy`)."""
        self._calls: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=backlog)
        self._error: BaseException | None = None
        self._cancelled = False
        self._guarded = guard
        if guard is not None:
            event.listen(guard, "before_cursor_execute", _refuse)
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, self.SWITCH_INTERVAL))
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            if self._error is not None or self._cancelled:
                continue
            try:
                call()
            except BaseException as exc:
                self._error = exc

    def submit(self, call: Callable[[], object]) -> None:
        """Queue one call (blocks while the backlog is full); raises an earlier call's error."""
        self._raise()
        self._calls.put(call)

    def finish(self) -> None:
        """Wait for every call to have run; raise the first error one of them raised."""
        self._stop()
        self._raise()

    def cancel(self) -> None:
        """Drop the calls not yet run, wait for the running one, and forget any error."""
        self._cancelled = True
        self._stop()
        self._error = None

    def _stop(self) -> None:
        if self._thread.is_alive():
            if self._cancelled:
                while True:  # make room for the stop marker without running what waits
                    try:
                        self._calls.get_nowait()
                    except queue.Empty:
                        break
            self._calls.put(None)
            self._thread.join()
        sys.setswitchinterval(self._interval)
        if self._guarded is not None:
            event.remove(self._guarded, "before_cursor_execute", _refuse)
            self._guarded = None

    def _raise(self) -> None:
        error = self._error
        if error is not None:
            self._error = None
            raise error


class ConnectionBusy(RuntimeError):
    """A statement was run through a connection while a worker writes through it: a bug."""


def _refuse(*_args: object) -> None:
    raise ConnectionBusy(
        "the database connection is in use by a bulk writer; wait for it (finish) first"
    )
