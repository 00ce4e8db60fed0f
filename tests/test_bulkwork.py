"""The bulk-job helpers: calls run in order on a worker thread, errors come back, memory
stays bounded, and the process is left as it was found."""

from __future__ import annotations

import signal
import sys
import threading
import time
from functools import partial

import pytest
from sqlalchemy import event, text
from sqlmodel import Session

from ledger.store.bulkwork import ConnectionBusy, InOrder
from ledger.store.db import Database
from ledger.store.models import Party


class Boom(Exception):
    pass


def test_calls_run_in_order_on_another_thread() -> None:
    done: list[tuple[int, str]] = []
    worker = InOrder("test")

    def record(i: int) -> None:
        done.append((i, threading.current_thread().name))

    for i in range(200):
        worker.submit(partial(record, i))
    worker.finish()
    assert [i for i, _ in done] == list(range(200))
    assert {name for _, name in done} == {"test"}


def test_first_error_is_raised_by_finish_and_later_calls_are_dropped() -> None:
    done: list[int] = []

    def fail() -> None:
        raise Boom("disk full")

    worker = InOrder("test")
    worker.submit(lambda: done.append(1))
    worker.submit(fail)
    worker.submit(lambda: done.append(3))
    with pytest.raises(Boom, match="disk full"):
        worker.finish()
    assert done == [1]


def test_an_earlier_error_is_raised_by_a_later_submit() -> None:
    def fail() -> None:
        raise Boom("refused")

    worker = InOrder("test")
    worker.submit(fail)
    deadline = time.monotonic() + 10
    with pytest.raises(Boom, match="refused"):
        while time.monotonic() < deadline:  # raised once the worker has recorded it
            worker.submit(lambda: None)
            time.sleep(0.001)
    worker.finish()  # the error was handed over once; nothing more to raise


def test_backlog_is_bounded_submit_waits_for_room() -> None:
    release = threading.Event()
    started = threading.Event()
    worker = InOrder("test", backlog=2)

    def hold() -> None:
        started.set()
        release.wait(10)

    worker.submit(hold)
    assert started.wait(10)
    worker.submit(lambda: None)
    worker.submit(lambda: None)  # the backlog is full now
    blocked = threading.Thread(target=worker.submit, args=(lambda: None,))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # waits for room
    release.set()
    blocked.join(10)
    assert not blocked.is_alive()
    worker.finish()


def test_cancel_drops_waiting_calls_and_forgets_the_error() -> None:
    release = threading.Event()
    started = threading.Event()
    done: list[int] = []
    worker = InOrder("test", backlog=3)

    def first() -> None:
        started.set()
        release.wait(10)
        raise Boom("ignored after cancel")

    worker.submit(first)
    assert started.wait(10)
    worker.submit(lambda: done.append(2))
    worker.submit(lambda: done.append(3))
    release.set()
    worker.cancel()  # does not raise
    assert done == []
    assert not worker.running


def test_switch_interval_is_shortened_while_running_and_restored() -> None:
    before = sys.getswitchinterval()
    worker = InOrder("test")
    assert sys.getswitchinterval() == pytest.approx(min(before, InOrder.SWITCH_INTERVAL))
    worker.finish()
    assert sys.getswitchinterval() == before
    worker = InOrder("test")
    worker.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        worker.finish()
    assert sys.getswitchinterval() == before
    worker = InOrder("test")
    worker.cancel()
    assert sys.getswitchinterval() == before


def test_ctrl_c_while_finish_waits_stops_the_worker_first() -> None:
    # Ctrl-C cannot cut the wait short: the calls still waiting are dropped, the one
    # running ends, and only then is KeyboardInterrupt raised (so that the caller's
    # rollback never races a write).
    done: list[str] = []
    release = threading.Event()
    before = sys.getswitchinterval()

    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main

    def interrupt_then_hold() -> None:
        release.wait(0.2)  # the main thread is waiting in finish() by now
        signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C, delivered to the main thread
        release.wait(0.3)
        done.append("running call ended")

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        worker = InOrder("test", backlog=8)
        worker.submit(interrupt_then_hold)
        for i in range(5):
            worker.submit(partial(done.append, f"waiting {i}"))
        with pytest.raises(KeyboardInterrupt):
            worker.finish()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not worker.running
    assert done == ["running call ended"]
    assert sys.getswitchinterval() == pytest.approx(before)
    with pytest.raises(RuntimeError, match="finished"):
        worker.submit(lambda: None)


def test_after_an_error_is_handed_over_later_calls_are_still_dropped() -> None:
    done: list[int] = []
    failed = threading.Event()

    def fail() -> None:
        failed.set()
        raise Boom("refused")

    worker = InOrder("test", backlog=16)
    worker.submit(fail)
    assert failed.wait(10)
    with pytest.raises(Boom):
        for _ in range(10_000):
            worker.submit(partial(done.append, 1))
            time.sleep(0.001)
    worker.submit(partial(done.append, 2))
    worker.finish()
    assert done == []


def test_switch_interval_comes_back_when_the_last_of_two_workers_ends() -> None:
    before = sys.getswitchinterval()
    first, second = InOrder("first"), InOrder("second")
    first.finish()
    assert sys.getswitchinterval() == pytest.approx(min(before, InOrder.SWITCH_INTERVAL))
    second.cancel()
    assert sys.getswitchinterval() == pytest.approx(before)


@pytest.mark.parametrize("misuse", ["statement", "flush", "commit", "rollback"])
def test_the_guard_stops_the_worker_before_the_connection_is_used(
    sqlite_database: Database, misuse: str
) -> None:
    done: list[str] = []
    release = threading.Event()
    started = threading.Event()

    def running_write() -> None:
        started.set()
        release.wait(10)
        done.append("running")

    with Session(sqlite_database.engine) as session:
        connection = session.connection()
        worker = InOrder("test", backlog=4, guard=connection)
        worker.submit(running_write)
        worker.submit(partial(done.append, "waiting"))
        assert started.wait(10)
        threading.Timer(0.2, release.set).start()
        if misuse == "rollback":
            session.rollback()  # goes ahead, once the worker has stopped
        else:
            with pytest.raises(ConnectionBusy):
                if misuse == "statement":
                    session.execute(text("SELECT 1"))
                elif misuse == "flush":
                    session.add(Party(id="late", name="Late", kind="person"))
                    session.flush()
                else:
                    session.commit()
        assert done == ["running"]  # the running call ended first; the waiting one dropped
        assert not worker.running
        with pytest.raises(ConnectionBusy, match="dropped"):
            worker.finish()  # an owner that goes on is told its calls were dropped
        worker.cancel()
        assert not event.contains(
            connection, "before_cursor_execute", worker._on_before_cursor_execute
        )


@pytest.mark.parametrize("end", ["finish", "cancel", "error"])
def test_the_guard_is_removed_however_the_worker_ends(sqlite_database: Database, end: str) -> None:
    with Session(sqlite_database.engine) as session:
        connection = session.connection()
        worker = InOrder("test", guard=connection)
        if end == "error":
            worker.submit(lambda: 1 / 0)
            with pytest.raises(ZeroDivisionError):
                worker.finish()
        elif end == "finish":
            worker.finish()
        else:
            worker.cancel()
        for name in ("before_cursor_execute", "commit", "rollback"):
            assert not event.contains(connection, name, getattr(worker, f"_on_{name}"))
        assert session.execute(text("SELECT 1")).scalar_one() == 1
