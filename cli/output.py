"""Terminal output for the CLI: rich tables for people, JSON (amounts as strings) for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ledger.jsonable import plain
from ledger.money import to_text

# Not a terminal (a pipe, a CI log): wide enough that tables keep their figures whole.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def to_json(data: Any) -> str:
    """JSON with every amount as an exact string, never a number."""
    return json.dumps(plain(data), indent=2, ensure_ascii=False, default=str)


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")


def amount(value: Decimal) -> str:
    return to_text(value)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[str] = (),
) -> None:
    t = Table(title=title, show_lines=False, title_justify="left")
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left")
    for row in rows:
        t.add_row(*(amount(v) if isinstance(v, Decimal) else str(v) for v in row))
    console.print(t)


Update = Callable[[int, int, str], None]
"""Progress callback: (done, total, what is being worked on)."""


@contextmanager
def progress_bar(label: str, *, in_bytes: bool = False) -> Iterator[Update | None]:
    """A progress bar on stderr for long work; silent (None) when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    counter = DownloadColumn() if in_bytes else MofNCompleteColumn()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        counter,
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, note: str) -> None:
            bar.update(task, description=f"{label} ({note})", completed=done, total=total or None)

        yield update
