"""Helpers for the long bulk jobs (imports, split runs) that build millions of objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
