"""Accounting periods: calendar months written ``YYYY-MM``.

Revenue, split runs, payouts and statements all belong to one period. Periods
order as text, so comparing codes compares months.
"""

from __future__ import annotations

import re

from ledger.domain.errors import InvalidPeriod

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(value: str) -> str:
    """Validate ``YYYY-MM`` (also accepts ``YYYYMM`` and ``YYYY-MM-DD``, returning the month)."""
    text = str(value).strip()
    if re.fullmatch(r"\d{6}", text):
        text = f"{text[:4]}-{text[4:]}"
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text = text[:7]
    if not _PERIOD.match(text):
        raise InvalidPeriod(
            f"period {value!r} is not a month", hint="write it as YYYY-MM, e.g. 2026-10"
        )
    return text


def next_period(period: str) -> str:
    year, month = (int(p) for p in parse_period(period).split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"
