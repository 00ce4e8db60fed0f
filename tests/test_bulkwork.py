"""The bulk-job helpers: calls run in order on a worker thread, errors come back, memory
stays bounded, and the process is left as it was found."""

from __future__ import annotations

import sys
import threading
import time
from functools import partial

import pytest

from ledger.bulkwork import InOrder


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
    assert not worker._thread.is_alive()


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
