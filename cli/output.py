"""Terminal output for the CLI: rich tables for people, JSON (amounts as strings) for machines.

rich and the ledger helpers are imported on first use, so that `royalty --help` and
`royalty X --help` start without them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ledger.domain.money import Money


class _LazyConsole:
    """A rich Console built the first time something is printed (rich costs ~30 ms to import)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            if self._stderr:
                self._console = Console(stderr=True, highlight=False, soft_wrap=True)
            else:
                # Not a terminal (a pipe, a CI log): wide enough that tables keep their figures whole.
                self._console = Console(
                    highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200
                )
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.get().print(*objects, **kwargs)


console = _LazyConsole(stderr=False)
err_console = _LazyConsole(stderr=True)


def to_json(data: Any) -> str:
    """JSON with every amount as an exact string, never a number."""
    import json

    from ledger.domain.jsonable import plain

    return json.dumps(plain(data), indent=2, ensure_ascii=False, default=str)


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")


def amount(value: Money) -> str:
    """An amount's exact text, without its currency (``"12.50"``)."""
    return value.text


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[str] = (),
) -> None:
    from rich.table import Table

    from ledger.domain.money import Money

    t = Table(title=title, show_lines=False, title_justify="left")
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left")
    for row in rows:
        t.add_row(*(v.text if isinstance(v, Money) else str(v) for v in row))
    console.print(t)


Update = Callable[[int, int, str], None]
"""Progress callback: (done, total, what is being worked on)."""


@contextmanager
def progress_bar(label: str, *, in_bytes: bool = False) -> Iterator[Update | None]:
    """A progress bar on stderr for long work; silent (None) when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    counter = DownloadColumn() if in_bytes else MofNCompleteColumn()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        counter,
        TimeRemainingColumn(),
        console=err_console.get(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, note: str) -> None:
            bar.update(task, description=f"{label} ({note})", completed=done, total=total or None)

        yield update
