"""Exact money: one value type, one way in from text, every conversion in one place.

Amounts cross module boundaries as :class:`Money`: an exact
:class:`decimal.Decimal` with at most ``SCALE`` (10) decimal places and its
ISO 4217 currency. Ten places hold a per-stream amount such as 0.0000412345 USD
exactly and still leave room for amounts in the hundreds of billions. Input
with more places than that is an error, never a silent rounding: a revenue
line is either represented exactly or refused. Arithmetic refuses floats and
mixed currencies.

Text becomes an amount only through :func:`parse_amount` (or
:meth:`Money.of`) and an amount becomes text only through :func:`to_text`.

Inside the hot loops of an import or a split run, amounts are integer
numbers of 10^-10 *units*; this module owns every conversion between units,
Decimals, text and the two integers the database stores
(:func:`units_to_parts` / :func:`parts_to_units`: a whole part and a
fractional part in units, both with the sign of the amount, so that SQLite,
which has no decimal type, and PostgreSQL both store and sum them exactly).
No other module does that arithmetic by hand.

Rounding to a currency's minor unit happens only at payout
(:meth:`Money.round_down_minor`); what is left stays in the holder's balance.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import Final

from ledger.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

SCALE: Final = 10
"""Decimal places the ledger keeps: amounts are whole multiples of 10^-10."""

UNIT: Final = Decimal(1).scaleb(-SCALE)
FRAC_PER_WHOLE: Final = 10**SCALE
MAX_WHOLE: Final = Decimal(10) ** 18
"""Amounts must stay below 10^18 in magnitude: the whole part is stored in a BIGINT."""
MAX_UNITS: Final = 10 ** (18 + SCALE)
"""Bound (exclusive) of an amount in 10^-10 units: 18 whole digits, as the database stores."""

# One context for every money calculation: enough precision that no sum of
# ledger amounts is ever rounded, and traps on anything inexact.
MONEY_CONTEXT: Final = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO: Final = Decimal(0)

# Python's default context keeps 28 significant digits: enough to round a sum
# of two large ledger amounts (10^18 with 10 places is 29 digits) silently. The
# whole application therefore runs with the money context's precision, in this
# thread and in every thread started later.
decimal.DefaultContext.prec = MONEY_CONTEXT.prec
decimal.getcontext().prec = MONEY_CONTEXT.prec


# ---------------------------------------------------------------------------
# One way in


def parse_amount(text: str | int | Decimal, *, scale: int = SCALE, what: str = "amount") -> Decimal:
    """Parse an amount exactly; the one way text becomes money.

    Accepts ``int``, ``Decimal`` or text such as ``"-12.50"`` or ``"1e-3"``.
    Refuses floats, booleans, NaN, infinities, thousands separators and more
    than ``scale`` decimal places.
    """
    if isinstance(text, (bool, float)):
        raise InvalidAmount(f"{what}: {text!r} is a {type(text).__name__}; money is never a float")
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, Decimal):
        value = text
    elif isinstance(text, str):
        stripped = text.strip()
        if not stripped:
            raise InvalidAmount(f"{what}: empty")
        try:
            value = Decimal(stripped)
        except decimal.InvalidOperation:
            raise InvalidAmount(f"{what}: {text!r} is not a number") from None
    else:
        raise InvalidAmount(f"{what}: {type(text).__name__} is not an amount")
    return check_amount(value, scale=scale, what=what)


def check_amount(value: Decimal, *, scale: int = SCALE, what: str = "amount") -> Decimal:
    """Return ``value`` normalised to ``scale`` places, or refuse it."""
    if not value.is_finite():
        raise InvalidAmount(f"{what}: {value} is not a finite number")
    if _exponent(value) < -scale:
        # Trailing zeros beyond the scale are harmless: 1.50000000000 == 1.5.
        normal = value.normalize(MONEY_CONTEXT)
        if _exponent(normal) < -scale:
            raise InvalidAmount(
                f"{what}: {value} has more than {scale} decimal places",
                hint="the ledger never rounds input silently",
            )
        value = normal
    if abs(value) >= MAX_WHOLE:
        raise InvalidAmount(f"{what}: {value} is too large (the limit is 10^18)")
    return value.quantize(Decimal(1).scaleb(-scale), context=MONEY_CONTEXT)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


# ---------------------------------------------------------------------------
# Units, text and storage parts


def to_units(amount: Decimal) -> int:
    """The amount as an integer number of 10^-10 units (exact or an error).

    On the hot path of bulk posting: the common case is two Decimal operations;
    anything unusual falls back to :func:`check_amount` for the exact message.
    """
    try:
        units = int(amount.scaleb(SCALE, context=MONEY_CONTEXT))
        if units == amount.scaleb(SCALE, context=MONEY_CONTEXT) and -MAX_UNITS < units < MAX_UNITS:
            return units
    except (ValueError, OverflowError, TypeError, AttributeError, decimal.InvalidOperation):
        pass
    if not isinstance(amount, Decimal):
        raise InvalidAmount(f"{amount!r} is not a Decimal", hint="money is never a float")
    checked = check_amount(amount)
    return int(checked.scaleb(SCALE, context=MONEY_CONTEXT))


def from_units(units: int) -> Decimal:
    """An integer number of 10^-10 units as a Decimal amount at ledger scale."""
    return Decimal(units).scaleb(-SCALE, context=MONEY_CONTEXT)


def units_to_text(units: int) -> str:
    """The canonical text of an amount in units: plain notation, no exponent, trailing
    zeros trimmed to at least two places (``"12.50"``, ``"0.0000412345"``).

    In integer arithmetic, so an import can write the text of a million lines' original
    amounts without a Decimal per line; :func:`to_text` is this function of a Decimal.
    """
    if type(units) is not int:
        raise InvalidAmount(f"{units!r} is not a whole number of units")
    if units < 0:
        whole, frac = divmod(-units, FRAC_PER_WHOLE)
        sign = "-"
    else:
        whole, frac = divmod(units, FRAC_PER_WHOLE)
        sign = ""
    if not frac:
        return f"{sign}{whole}.00" if whole else "0.00"
    digits = f"{frac:010d}".rstrip("0")
    return f"{sign}{whole}.{digits}" if len(digits) > 1 else f"{sign}{whole}.{digits}0"


def to_text(amount: Decimal) -> str:
    """Canonical text of an amount at ledger scale (see :func:`units_to_text`)."""
    if not isinstance(amount, Decimal):
        raise InvalidAmount(f"{amount!r} is not a Decimal")
    return units_to_text(to_units(amount))


def units_to_parts(units: int) -> tuple[int, int]:
    """Split an amount in 10^-10 units into the (whole, frac) integers the database stores.

    ``frac`` counts units of 10^-10 and has the sign of the amount, so
    ``whole * 10**10 + frac`` is the amount in units and sums stay exact in SQL.
    """
    if units < 0:
        whole, frac = divmod(-units, FRAC_PER_WHOLE)
        return -whole, -frac
    return divmod(units, FRAC_PER_WHOLE)


def parts_to_units(whole: int, frac: int) -> int:
    """Inverse of :func:`units_to_parts`; also takes SQL sums (``frac`` beyond one whole,
    ``None`` for the sum of no rows)."""
    return int(whole or 0) * FRAC_PER_WHOLE + int(frac or 0)


# ---------------------------------------------------------------------------
# Currencies


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and its minor unit (2 for USD, 0 for JPY, 3 for KWD)."""

    code: str
    minor_units: int

    @property
    def minor(self) -> Decimal:
        return Decimal(1).scaleb(-self.minor_units)


@cache
def _iso_codes() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@lru_cache(maxsize=512)
def currency(code: str) -> Currency:
    """Look up an ISO 4217 currency by code, or raise :class:`UnknownCurrency`."""
    from babel.numbers import get_currency_precision

    if not isinstance(code, str):
        raise UnknownCurrency(f"currency {code!r} is not a code")
    normal = code.strip().upper()
    if len(normal) != 3 or normal not in _iso_codes():
        raise UnknownCurrency(
            f"currency {code!r} is not an ISO 4217 code", hint="use a code such as USD, EUR or GBP"
        )
    return Currency(normal, get_currency_precision(normal))


# ---------------------------------------------------------------------------
# The money value


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency; arithmetic refuses floats and mixed currencies."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise InvalidAmount(
                f"Money needs a Decimal amount, got {type(self.amount).__name__}",
                hint="parse text with Money.of",
            )
        object.__setattr__(self, "amount", check_amount(self.amount))
        object.__setattr__(self, "currency", currency(self.currency).code)

    @classmethod
    def of(cls, amount: str | int | Decimal, code: str) -> Money:
        """Money from text, an int or a Decimal (exact, or :class:`InvalidAmount`)."""
        return cls(parse_amount(amount), code)

    @classmethod
    def of_units(cls, units: int, code: str) -> Money:
        """Money from an integer number of 10^-10 units (a sum the store or a hot loop made)."""
        if type(units) is not int or not -MAX_UNITS < units < MAX_UNITS:
            raise InvalidAmount(f"{units!r} is not an amount in 10^-10 units")
        return cls(from_units(units), code)

    @classmethod
    def of_parts(cls, whole: int, frac: int, code: str) -> Money:
        """Money from the two integers the database stores (or their SQL sums)."""
        return cls.of_units(parts_to_units(whole, frac), code)

    @classmethod
    def zero(cls, code: str) -> Money:
        return cls(ZERO, code)

    @property
    def units(self) -> int:
        """The amount in 10^-10 units."""
        return to_units(self.amount)

    @property
    def text(self) -> str:
        """The amount's canonical text, without the currency (``"12.50"``)."""
        return to_text(self.amount)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise CurrencyMismatch(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(MONEY_CONTEXT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(MONEY_CONTEXT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        """Non-zero, as for a Decimal."""
        return bool(self.amount)

    @property
    def sign(self) -> int:
        return (self.amount > 0) - (self.amount < 0)

    def round_down_minor(self) -> Money:
        """Toward zero to the currency's minor unit: what can actually be paid.

        The named rounding point of the ledger: payouts only. The difference stays
        in the holder's balance and is carried forward.
        """
        minor = currency(self.currency).minor
        return Money(
            self.amount.quantize(minor, rounding=ROUND_DOWN, context=MONEY_CONTEXT), self.currency
        )

    def __str__(self) -> str:
        return f"{to_text(self.amount)} {self.currency}"


def total(amounts: Iterable[Money], code: str) -> Money:
    """The sum of ``amounts`` in ``code`` (zero for none); a mixed currency is an error."""
    result = Money.zero(code)
    for m in amounts:
        result = result + m
    return result


# ---------------------------------------------------------------------------
# Shares and weights


def parse_share(text: str | int | Decimal | Fraction, *, what: str = "share") -> Fraction:
    """Parse a share or weight exactly: ``"25%"``, ``"12.5 %"``, ``"1/3"``, ``"0.25"``, ``3``.

    Returns a :class:`Fraction`; refuses floats, negatives and nonsense.
    """
    if isinstance(text, (bool, float)):
        raise InvalidAmount(f"{what}: {text!r} is a {type(text).__name__}; use text such as '25%'")
    if isinstance(text, Fraction):
        value = text
    elif isinstance(text, int | Decimal):
        if isinstance(text, Decimal) and not text.is_finite():
            raise InvalidAmount(f"{what}: {text} is not a finite number")
        value = Fraction(text)
    elif isinstance(text, str):
        s = text.strip()
        try:
            if s.endswith("%"):
                value = Fraction(Decimal(s[:-1].strip())) / 100
            elif "/" in s:
                num, _, den = s.partition("/")
                value = Fraction(Decimal(num.strip())) / Fraction(Decimal(den.strip()))
            else:
                value = Fraction(Decimal(s))
        except (decimal.InvalidOperation, ValueError, ZeroDivisionError):
            raise InvalidAmount(
                f"{what}: {text!r} is not a share", hint="write 25%, 1/4 or 0.25"
            ) from None
    else:
        raise InvalidAmount(f"{what}: {type(text).__name__} is not a share")
    if value < 0:
        raise InvalidAmount(f"{what}: {text} is negative")
    return value


def format_share(share: Fraction) -> str:
    """A share for people: ``25%``, ``33.333333%`` (six places, exact value kept elsewhere)."""
    pct = Decimal(share.numerator) * 100 / Decimal(share.denominator)
    text = format(pct.quantize(Decimal("0.000001")).normalize(), "f")
    return f"{text}%"
