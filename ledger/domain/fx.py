"""Exchange rates for one period, from a rates file; conversion with one named rounding.

The rates file is a CSV with a header row::

    period,currency,rate
    2026-10,EUR,1.0812
    2026-10,GBP,1.2644

Each row means: 1 unit of ``currency`` = ``rate`` units of the ledger's base
currency in that period. The base currency is either an optional ``base``
column (the same on every row) or given by the caller; the base currency's own
rate is 1 and need not be listed. One file holds one period. Rates are exact
decimals written as text, never floats.

A missing rate is an error (:class:`MissingRate`) naming the currency and the
period, never a guess. Converted amounts are rounded half-even to the ledger
scale (10 places): the one rounding point of a conversion, and the rate used
is returned with the amount so the line can keep it.

Bulk imports convert through :class:`UnitConverter`: the same function on
integer 10^-10 units (exact rational arithmetic, the same half-even rounding,
the same errors), without Decimal arithmetic per line.
"""

from __future__ import annotations

import csv
import decimal
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from ledger.domain.errors import (
    InputError,
    InvalidPeriod,
    LedgerError,
    Problem,
    ProblemCollector,
    UnknownCurrency,
)
from ledger.domain.money import (
    MAX_UNITS,
    MONEY_CONTEXT,
    SCALE,
    UNIT,
    check_amount,
    currency,
    from_units,
    to_units,
)
from ledger.domain.periods import Period


class MissingRate(LedgerError):
    """No rate for a currency in the period's rates file."""

    code = "missing-rate"
    title = "Exchange rate missing"


@dataclass(frozen=True, slots=True)
class Rates:
    """The rates of one period: 1 unit of a currency = ``rates[currency]`` units of ``base``.

    ``base`` is None when the file names no base currency: it then converts into the
    ledger's currency, bound by :meth:`for_ledger` when the ledger is known.
    """

    period: Period
    base: str | None
    rates: MappingProxyType[str, Decimal]
    source: str = ""
    """The file the rates came from (for messages and the audit trail)."""

    def rate(self, code: str) -> Decimal:
        """The rate of ``code`` into the base currency, or :class:`MissingRate`."""
        normal = code.strip().upper()
        if normal == self.base:
            return Decimal(1)
        found = self.rates.get(normal)
        if found is None:
            where = f" in {self.source}" if self.source else ""
            raise MissingRate(
                f"no exchange rate for {normal} in period {self.period}{where}",
                hint=f"add a row '{self.period},{normal},RATE' (1 {normal} = RATE {self.base})",
            )
        return found

    def for_ledger(self, ledger_currency: str) -> Rates:
        """These rates bound to the ledger currency (refused if they convert to another)."""
        if self.base is None:
            rates = {c: r for c, r in self.rates.items() if c != ledger_currency}
            return replace(self, base=ledger_currency, rates=MappingProxyType(rates))
        if self.base != ledger_currency:
            raise InputError(
                [
                    Problem(
                        self.source,
                        None,
                        "base",
                        f"the file's base is {self.base} but the ledger currency is {ledger_currency}",
                    )
                ]
            )
        return self


class _RatesReader:
    """Collects the rows of one period's rates, checking each (file rows or API parameters)."""

    def __init__(self, filename: str, problems: ProblemCollector) -> None:
        self.filename = filename
        self.problems = problems
        self.periods: set[Period] = set()
        self.bases: set[str] = set()
        self.rates: dict[str, Decimal] = {}

    def row(self, line: int, period: str, code_text: str, rate_text: str, base: str | None) -> None:
        filename, problems = self.filename, self.problems
        try:
            self.periods.add(Period.parse(period))
        except InvalidPeriod as exc:
            problems.add(filename, line, "period", exc.message)
        code = ""
        try:
            code = currency(code_text).code
        except UnknownCurrency as exc:
            problems.add(filename, line, "currency", exc.message)
        if base is not None:
            try:
                self.bases.add(currency(base).code)
            except UnknownCurrency as exc:
                problems.add(filename, line, "base", exc.message)
        rate_text = rate_text.strip()
        try:
            rate = Decimal(rate_text)
            if not rate.is_finite() or rate <= 0:
                raise decimal.InvalidOperation
        except decimal.InvalidOperation:
            problems.add(
                filename,
                line,
                "rate",
                f"{rate_text!r} is not a positive number (write e.g. 1.0812, no commas)",
            )
            return
        if code:
            if code in self.rates:
                problems.add(filename, line, "currency", f"{code} has a rate already")
            self.rates[code] = rate


def parse_rates(text: str, filename: str, *, base: str | None = None) -> Rates:
    """Read a rates CSV; every problem in the file is reported at once (InputError).

    Without ``base`` and without a ``base`` column the rates convert into the ledger
    currency (:meth:`Rates.for_ledger`).
    """
    problems = ProblemCollector()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise InputError(
            [Problem(filename, 1, None, "empty file; expected a header 'period,currency,rate'")]
        )
    cols = {h.strip().lower(): i for i, h in enumerate(header)}
    missing = [c for c in ("period", "currency", "rate") if c not in cols]
    if missing:
        problems.add(
            filename,
            1,
            None,
            f"header has no {', '.join(missing)} column; expected 'period,currency,rate'",
        )
        problems.raise_if_any()
    if base is not None:
        try:
            base = currency(base).code
        except UnknownCurrency as exc:
            problems.add(filename, None, "base", exc.message)
    rows = _RatesReader(filename, problems)
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(filename, line, None, f"{len(row)} fields, the header has {len(header)}")
            continue
        rows.row(
            line,
            row[cols["period"]],
            row[cols["currency"]],
            row[cols["rate"]],
            row[cols["base"]] if "base" in cols else None,
        )
    if len(rows.bases) > 1:
        problems.add(
            filename, None, "base", f"rows disagree on the base: {', '.join(sorted(rows.bases))}"
        )
    file_base = next(iter(rows.bases)) if len(rows.bases) == 1 else None
    if base and file_base and base != file_base:
        problems.add(
            filename,
            None,
            "base",
            f"the file's base is {file_base} but the ledger currency is {base}",
        )
    return _finish(rows, base or file_base)


def rates_from_parameters(
    pairs: Sequence[str], period: Period | None, *, name: str = "rate"
) -> Rates:
    """Rates given as ``CUR=RATE`` texts (the API's ``rate`` parameters) for ``period``:
    the same checks as a rates file, each problem naming parameter ``name`` number k."""
    problems = ProblemCollector()
    if period is None:
        problems.add(name, None, "period", "exchange rates are for a period: give period=YYYY-MM")
    for line, text_ in enumerate(pairs, start=1):
        if any(c in text_ for c in ',"\r\n'):
            problems.add(name, line, None, f"{text_!r}: write CUR=RATE, e.g. EUR=1.0812")
    problems.raise_if_any()
    rows = _RatesReader(name, problems)
    for line, text_ in enumerate(pairs, start=1):
        code, _, value = text_.partition("=")  # without "=", no rate is found
        rows.row(line, str(period), code.strip(), value, None)
    return _finish(rows, None)


def _finish(rows: _RatesReader, base: str | None) -> Rates:
    problems, filename = rows.problems, rows.filename
    if len(rows.periods) > 1:
        problems.add(
            filename,
            None,
            "period",
            f"one rates file holds one period; found {', '.join(map(str, sorted(rows.periods)))}",
        )
    if not rows.periods and not problems:
        problems.add(filename, None, None, "no rates in the file")
    problems.raise_if_any()
    rates = dict(rows.rates)
    if base is not None:
        rates.pop(base, None)
    return Rates(
        period=next(iter(rows.periods)),
        base=base,
        rates=MappingProxyType(dict(sorted(rates.items()))),
        source=filename,
    )


def convert(amount: Decimal, from_currency: str, rates: Rates) -> tuple[Decimal, Decimal]:
    """``amount`` in ``from_currency`` as (amount in ``rates.base``, rate used).

    Rounded half-even to the ledger scale; :class:`MissingRate` if there is no rate,
    :class:`~ledger.domain.errors.InvalidAmount` if the result is beyond the ledger's range.
    """
    rate = rates.rate(from_currency)
    exact = MONEY_CONTEXT.multiply(check_amount(amount), rate)
    converted = exact.quantize(UNIT, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    return check_amount(converted, scale=SCALE), rate


_EXACT_RATE_DIGITS = MONEY_CONTEXT.prec - (18 + SCALE)
"""A rate with at most this many significant digits times any ledger amount (at most
28 digits) fits the money context's precision: :func:`convert`'s product is exact."""


class UnitConverter:
    """:func:`convert` from one currency on integer 10^-10 units (for hot loops).

    ``converter(units)`` equals ``to_units(convert(from_units(units), code, rates)[0])``:
    the rate is the exact fraction n/d, the product ``units x n / d`` is rounded half-even
    to a whole unit, as ``convert`` rounds. Anything unusual (a rate too long for the
    money context to multiply exactly, a result beyond the ledger's range) goes through
    ``convert`` itself, for its exact result or error. :class:`MissingRate` is raised
    at construction.
    """

    __slots__ = ("_d", "_n", "code", "rate", "rates")

    def __init__(self, code: str, rates: Rates) -> None:
        self.code = code
        self.rates = rates
        self.rate = rates.rate(code)
        """The rate used, as :func:`convert` returns it."""
        self._n = 0
        self._d = 0  # 0: every conversion goes through convert()
        rate = self.rate
        if rate.is_finite() and len(rate.as_tuple().digits) <= _EXACT_RATE_DIGITS:
            self._n, self._d = rate.as_integer_ratio()

    def __call__(self, units: int) -> int:
        d = self._d
        if d:
            product = units * self._n
            negative = product < 0
            q, r = divmod(-product if negative else product, d)
            r += r
            if r > d or (r == d and q & 1):
                q += 1
            if q < MAX_UNITS:
                return -q if negative else q
        amount, _ = convert(from_units(units), self.code, self.rates)
        return to_units(amount)
