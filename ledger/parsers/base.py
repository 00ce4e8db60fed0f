"""The shared shape of every revenue parser: validated lines out, every problem at once.

A parser turns one file into :class:`RevenueLine` values. It works in two
passes so memory stays flat whatever the file size:

1. :meth:`ParsedFile.validate` reads the whole file once, checks every line and
   the file's own totals, and either raises one :class:`InputError` listing every
   problem (up to a limit) or returns a :class:`FileInfo`.
2. Iterating the :class:`ParsedFile` reads the file again and yields final lines.
   After a clean ``validate()`` iteration does not raise, unless the file changes
   on disk between the passes (the content hash is compared at the end). A DSR
   is not read again: pass 1 keeps what pass 2 needs in a temporary file.
   :meth:`ParsedFile.records` is the same second pass for bulk consumers (the
   import service): the same lines as plain tuples (:data:`Record`), amounts in
   integer 10^-10 units, no object or Decimal per line. :meth:`ParsedFile.close`
   releases what pass 1 kept.

An ISRC that is malformed is not a file error: the line is yielded with
``isrc_valid=False`` and the import service puts it in suspense.

The helpers below parse the fields every format shares (amounts, quantities,
currencies, territories, usage types), each returning a value or raising
:class:`FieldError` whose message says what is wrong and how to fix it.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Final, cast

from ledger.domain.errors import (
    InputError,
    InvalidAmount,
    InvalidPeriod,
    LedgerError,
    Problem,
    UnknownCurrency,
)
from ledger.domain.identifiers import InvalidIdentifier, normalise_isrc, normalise_territory
from ledger.domain.money import Money, check_amount, currency, from_units, to_units
from ledger.domain.periods import Period

FORMATS: Final = ("dsr", "distrokid", "tunecore", "csv")
USAGES: Final = frozenset({"stream", "download", "ugc", "radio", "other"})
PROBLEM_LIMIT: Final = 100


@dataclass(frozen=True, slots=True)
class RevenueLine:
    """One revenue line, exactly as the file states it (DSR: after allocation).

    A row of the file's columns, amount and currency side by side, as it is stored:
    the import reads lines as :data:`Record` tuples (amounts in integer units), so
    a million lines cost no Money value each. What crosses into the services as
    amounts is Money (:attr:`FileInfo.totals`).
    """

    line_no: int
    """Physical line in the file, from 1."""
    isrc: str
    """Normalised ISRC when ``isrc_valid``, else the raw text from the file."""
    isrc_valid: bool
    title: str | None
    territory: str
    """ISO 3166 alpha-2 country, or ``WW`` for worldwide."""
    usage: str
    """One of :data:`USAGES`."""
    quantity: int
    amount: Decimal
    """In ``currency``, at most 10 decimal places."""
    currency: str
    period: str
    """Usage period of this line (``YYYY-MM``): corrections can be for earlier months."""
    source: str
    """The store or DSP the revenue came from."""
    original_amount: Decimal | None = None
    original_currency: str | None = None
    fx_rate: Decimal | None = None
    """Set when the file itself converted the amount: amount = original_amount x fx_rate."""
    detail: str | None = None
    """Format-specific context (DSR: summary id and commercial model)."""


class _LineBuilder:
    """Builds a :class:`RevenueLine` in hot loops at a third of the dataclass ``__init__`` cost.

    A frozen dataclass's ``__init__`` calls ``object.__setattr__`` once per field.
    This class has the very same slots, so it sets them with plain attribute
    stores and then becomes a ``RevenueLine`` (``__class__`` assignment between
    identical slot layouts, which CPython allows). The result is an ordinary,
    frozen ``RevenueLine``, equal to one built the usual way. Arguments are
    positional, in field order, and are not checked: parsers check them first.
    """

    __slots__ = RevenueLine.__slots__

    def __init__(
        self,
        line_no: int,
        isrc: str,
        isrc_valid: bool,
        title: str | None,
        territory: str,
        usage: str,
        quantity: int,
        amount: Decimal,
        currency: str,
        period: str,
        source: str,
        original_amount: Decimal | None,
        original_currency: str | None,
        fx_rate: Decimal | None,
        detail: str | None,
    ) -> None:
        self.line_no = line_no
        self.isrc = isrc
        self.isrc_valid = isrc_valid
        self.title = title
        self.territory = territory
        self.usage = usage
        self.quantity = quantity
        self.amount = amount
        self.currency = currency
        self.period = period
        self.source = source
        self.original_amount = original_amount
        self.original_currency = original_currency
        self.fx_rate = fx_rate
        self.detail = detail
        self.__class__ = RevenueLine  # type: ignore[assignment]


if tuple(f.name for f in fields(RevenueLine)) != RevenueLine.__slots__:
    raise RuntimeError("RevenueLine's fields and slots differ; update _LineBuilder")

fast_line = cast(Callable[..., RevenueLine], _LineBuilder)
"""``fast_line(line_no, isrc, ..., detail)``: the hot-loop constructor of RevenueLine."""


Record = tuple[
    int,  # line_no
    str,  # isrc
    bool,  # isrc_valid
    str | None,  # title
    str,  # territory
    str,  # usage
    int,  # quantity
    int,  # amount, in 10^-10 units (RevenueLine.amount is the Decimal)
    str,  # currency
    str,  # period
    str,  # source
    Decimal | None,  # original_amount
    str | None,  # original_currency
    Decimal | None,  # fx_rate
    str | None,  # detail
]
"""A revenue line as a plain tuple: :class:`RevenueLine`'s fields in order, except that
the amount is an integer number of 10^-10 units (``to_units(line.amount)``)."""


def record_of(line: RevenueLine) -> Record:
    """The :data:`Record` of a line."""
    return (
        line.line_no,
        line.isrc,
        line.isrc_valid,
        line.title,
        line.territory,
        line.usage,
        line.quantity,
        to_units(line.amount),
        line.currency,
        line.period,
        line.source,
        line.original_amount,
        line.original_currency,
        line.fx_rate,
        line.detail,
    )


def line_of(record: Record) -> RevenueLine:
    """The :class:`RevenueLine` of a record."""
    (line_no, isrc, valid, title, territory, usage, quantity, units, *rest) = record
    cur, period, source, original, original_cur, rate, detail = rest
    return fast_line(
        line_no,
        isrc,
        valid,
        title,
        territory,
        usage,
        quantity,
        from_units(units),
        cur,
        period,
        source,
        original,
        original_cur,
        rate,
        detail,
    )


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a validated file is: its format, sender, period, totals and identity."""

    format: str
    source: str
    """The sender: DSP for a DSR, the distributor for an export, the mapping's name."""
    period: str | None
    """The file's period, or None when lines carry different periods (see ``periods``)."""
    declared_totals: MappingProxyType[str, Money] | None
    """Totals per currency the file states itself (DSR: summaries' NetRevenue), if any."""
    totals: MappingProxyType[str, Money]
    """Sum of the yielded lines' amounts per currency."""
    line_count: int
    """Revenue lines the iteration yields."""
    physical_lines: int
    periods: tuple[str, ...]
    """Distinct line periods, sorted."""
    sha256: str
    """SHA-256 of the decompressed bytes: the import's content identity."""
    size: int
    """Decompressed size in bytes."""
    encoding: str
    name: str
    """The path as given: used in every problem message."""
    reference: str | None = None
    """The sender's own id for the report (DSR MessageId), if any."""


class FieldError(LedgerError):
    """One field of one line is wrong; parsers turn it into a :class:`Problem`."""

    code = "invalid-field"
    title = "Invalid field"


Progress = Callable[[str, int, int], None]
"""Progress callback: (phase, bytes done, bytes total); for a progress bar, never for logic."""


class ParsedFile:
    """A revenue file opened for import: ``validate()``, then iterate.

    Subclasses implement :meth:`_validate` (one full read, collecting problems)
    and either :meth:`_lines` (one full read yielding lines; may assume validity)
    or :meth:`_records` (the same as :data:`Record` tuples); each defaults to
    the other.
    """

    format: str = ""

    def __init__(
        self,
        path: str,
        *,
        name: str | None = None,
        source: str | None = None,
        period: str | None = None,
        limit: int = PROBLEM_LIMIT,
        encoding: str | None = None,
    ) -> None:
        self.path = path
        self.name = name or str(path)
        """The file as the user knows it (an upload's name, not a temp path): in every problem."""
        self.source_override = source
        self.period_override = period
        self.limit = limit
        self.encoding = encoding
        """Declared encoding (e.g. latin-1); a byte-order mark in the file wins."""
        self.progress: Progress | None = None
        """``progress(phase, done, total)``: phase 'validate' or 'read', bytes on disk."""
        self._info: FileInfo | None = None

    def validate(self) -> FileInfo:
        """Read and check the whole file; raise InputError with every problem found."""
        if self._info is None:
            self._info = self._validate()
        return self._info

    @property
    def info(self) -> FileInfo:
        return self.validate()

    def __iter__(self) -> Generator[RevenueLine, None, None]:
        info = self.validate()
        sha = yield from self._lines()
        self._check_unchanged(sha, info)

    def records(self) -> Generator[Record, None, None]:
        """The lines iteration yields, as :data:`Record` tuples (amounts in units)."""
        info = self.validate()
        sha = yield from self._records()
        self._check_unchanged(sha, info)

    def close(self) -> None:
        """Release what ``validate()`` kept for the second pass (iterating again
        validates again)."""
        self._info = None

    def __enter__(self) -> ParsedFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check_unchanged(self, sha: str, info: FileInfo) -> None:
        if sha != info.sha256:
            raise InputError(
                [
                    Problem(
                        self.name,
                        None,
                        None,
                        "the file changed while it was being imported; import it again",
                    )
                ]
            )

    def _progress(self, phase: str) -> Callable[[int, int], None] | None:
        report = self.progress
        if report is None:
            return None

        def progress(done: int, total: int) -> None:
            report(phase, done, total)

        return progress

    def _validate(self) -> FileInfo:
        raise NotImplementedError

    def _lines(self) -> Generator[RevenueLine, None, str]:
        """Yield the lines; return the content hash of what was read."""
        if type(self)._records is ParsedFile._records:
            raise NotImplementedError
        records = self._records()
        make = line_of
        try:
            while True:
                yield make(next(records))
        except StopIteration as stop:
            sha: str = stop.value
            return sha

    def _records(self) -> Generator[Record, None, str]:
        """Yield the lines as records; return the content hash of what was read."""
        if type(self)._lines is ParsedFile._lines:
            raise NotImplementedError
        lines = self._lines()
        make = record_of
        try:
            while True:
                yield make(next(lines))
        except StopIteration as stop:
            sha: str = stop.value
            return sha


# ---------------------------------------------------------------------------
# Field helpers shared by the formats


def _words(text: str) -> list[str]:
    return text.split()


_USAGE_WORDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        _words(
            "stream streams streaming ondemandstream programmedcontentstream interactivestream"
            " audiostream videostream premiumstream adsupportedstream subscriptionstream"
            " limitedstream"
        ),
        "stream",
    ),
    **dict.fromkeys(
        _words(
            "download downloads permanentdownload paiddownload sale sales trackdownload"
            " albumdownload purchase"
        ),
        "download",
    ),
    **dict.fromkeys(
        _words("ugc usergeneratedcontent usergenerated shortformvideo creatorcontent"), "ugc"
    ),
    **dict.fromkeys(
        _words(
            "radio webcast webcasting noninteractivestream noninteractive internetradio"
            " satelliteradio"
        ),
        "radio",
    ),
    "other": "other",
}


def usage_key(text: str) -> str:
    """Vocabulary key: lower case without spaces, hyphens or underscores."""
    return "".join(ch for ch in text.lower() if ch not in " -_\t")


def map_usage(text: str, extra: Mapping[str, str] | None = None) -> str | None:
    """A source's usage word as one of :data:`USAGES`, or None when unknown."""
    key = usage_key(text)
    if extra and key in extra:
        return extra[key]
    return _USAGE_WORDS.get(key)


def parse_quantity(text: str) -> int:
    """A whole count of plays or units; negative on correction lines."""
    s = text.strip()
    if not s:
        raise FieldError("empty; give a whole number (0 if none)")
    try:
        return int(s)
    except ValueError:
        pass
    if (
        any(sep in s for sep in ",' \u00a0")
        and s.replace(",", "")
        .replace("'", "")
        .replace(" ", "")
        .replace("\u00a0", "")
        .lstrip("-")
        .isdigit()
    ):
        raise FieldError(f"{text!r} has a thousands separator; write the number without it")
    raise FieldError(f"{text!r} is not a whole number")


def parse_money(text: str, decimal_sep: str = ".") -> Decimal:
    """An exact amount from a file field; refuses thousands separators and >10 decimals."""
    s = text.strip()
    if not s:
        raise FieldError("empty; give an amount (0 if none)")
    if decimal_sep != ".":
        if "." in s:
            raise FieldError(
                f"{text!r} contains '.', but this file's decimal separator is {decimal_sep!r}"
                " (thousands separators are not accepted)"
            )
        s = s.replace(decimal_sep, ".")
    elif "," in s or "'" in s or "\u00a0" in s or " " in s:
        raise FieldError(
            f"{text!r} has a thousands separator or a decimal comma; write it as 1234.56"
            " (or set decimal: ',' in the mapping)"
        )
    if s.startswith("(") and s.endswith(")"):
        raise FieldError(f"{text!r}: write a negative amount with a minus sign")
    try:
        value = Decimal(s)
    except decimal.InvalidOperation:
        raise FieldError(f"{text!r} is not a number") from None
    try:
        return check_amount(value)
    except InvalidAmount as exc:
        raise FieldError(str(exc).removeprefix("amount: ")) from None


def parse_rate(text: str) -> Decimal:
    """An exchange rate: a positive exact decimal."""
    s = text.strip()
    try:
        value = Decimal(s)
    except decimal.InvalidOperation:
        raise FieldError(f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise FieldError(f"{text!r} is not a positive rate")
    return value


def parse_currency(text: str) -> str:
    try:
        return currency(text).code
    except UnknownCurrency as exc:
        raise FieldError(str(exc)) from None


def parse_territory(text: str) -> str:
    if not text.strip():
        raise FieldError("empty; give an ISO 3166 country code such as US, or WW for worldwide")
    try:
        return normalise_territory(text)
    except InvalidIdentifier as exc:
        raise FieldError(str(exc)) from None


def parse_line_period(text: str) -> str:
    """A line's usage month as its code (lines keep periods as text, see ledger.domain.periods)."""
    try:
        return Period.parse(text).code
    except InvalidPeriod as exc:
        raise FieldError(str(exc)) from None


class IsrcCache:
    """Normalises ISRCs once per distinct raw text (files repeat them on every line)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, bool]] = {}

    def __call__(self, raw: str) -> tuple[str, bool]:
        hit = self._seen.get(raw)
        if hit is None:
            try:
                hit = (normalise_isrc(raw), True)
            except InvalidIdentifier:
                hit = (raw.strip(), False)
            if len(self._seen) < 1_000_000:
                self._seen[raw] = hit
        return hit


def freeze_totals(totals: dict[str, Decimal]) -> MappingProxyType[str, Money]:
    """A file's totals per currency, as Money, in currency order."""
    return MappingProxyType({c: Money(a, c) for c, a in sorted(totals.items())})
