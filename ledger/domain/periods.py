"""Accounting periods: calendar months, parsed once and carried as :class:`Period` values.

Revenue, split runs, payouts and statements belong to one month. Adapters
parse what a person typed (``2026-10``, also ``202610`` or ``2026-10-31``)
with :meth:`Period.parse`; from there on a period is a value that is known to
be valid, orders as months do and prints as ``YYYY-MM``. The store keeps the
canonical text and reads it back with :meth:`Period.of_code`, which accepts
that form only (a stored ``202610`` would be a tampered row, not a month).

Inside the hot loops of an import or a split run, a line's usage period stays
its canonical text, as its amount stays integer units (see
:mod:`ledger.domain.money`): millions of lines share a few months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ledger.domain.errors import InvalidPeriod

_CODE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_COMPACT = re.compile(r"(\d{4})(0[1-9]|1[0-2])")
_DATE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])-\d{2}")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """One calendar month; ``str(period)`` is its code, ``YYYY-MM``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (type(self.year) is int and type(self.month) is int):
            raise InvalidPeriod(f"period {self.year!r}-{self.month!r} is not a month")
        if not (1 <= self.year <= 9999 and 1 <= self.month <= 12):
            raise InvalidPeriod(
                f"period {self.year}-{self.month} is not a month",
                hint="write it as YYYY-MM, e.g. 2026-10",
            )

    @staticmethod
    def parse(value: str | Period) -> Period:
        """What a person or a file wrote: ``YYYY-MM``, ``YYYYMM`` or a date ``YYYY-MM-DD``."""
        if isinstance(value, Period):
            return value
        return _parse(str(value).strip())

    @staticmethod
    def of_code(code: str) -> Period:
        """A stored code, exactly ``YYYY-MM``; anything else is refused."""
        return _of_code(code)

    @property
    def code(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.code

    def next(self) -> Period:
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def previous(self) -> Period:
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)


@lru_cache(maxsize=1024)
def _parse(text: str) -> Period:
    for pattern in (_CODE, _COMPACT, _DATE):
        match = pattern.fullmatch(text)
        if match:
            return Period(int(match[1]), int(match[2]))
    raise InvalidPeriod(f"period {text!r} is not a month", hint="write it as YYYY-MM, e.g. 2026-10")


@lru_cache(maxsize=1024)
def _of_code(code: str) -> Period:
    match = _CODE.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        raise InvalidPeriod(f"period {code!r} is not written YYYY-MM")
    return Period(int(match[1]), int(match[2]))
