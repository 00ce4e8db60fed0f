"""Identifiers the music business runs on, validated with their check digits.

ISRC (recordings), UPC/EAN (releases), ISNI and IPI (parties), ISO 3166
territories and named territory groups. python-stdnum does ISRC, EAN and
ISNI; it has no IPI, so the IPI name-number check (mod 101) lives here.
Every function returns the compact canonical form or raises
:class:`InvalidIdentifier`, whose message says what is wrong.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum import ean, isni, isrc
from stdnum.exceptions import ValidationError

from ledger.domain.errors import LedgerError


class InvalidIdentifier(LedgerError):
    code = "invalid-identifier"
    title = "Invalid identifier"


def normalise_isrc(value: str) -> str:
    """``US-RW1-26-00001`` -> ``USRW12600001``; refuses a malformed ISRC."""
    try:
        return isrc.validate(str(value).strip().upper())
    except ValidationError as exc:
        raise InvalidIdentifier(f"ISRC {value!r}: {exc}") from None


def normalise_upc(value: str) -> str:
    """A UPC-A (12 digits) or EAN-13 release code, check digit verified."""
    try:
        return ean.validate(str(value).strip())
    except ValidationError as exc:
        raise InvalidIdentifier(f"UPC/EAN {value!r}: {exc}") from None


def normalise_isni(value: str) -> str:
    try:
        return isni.validate(str(value))
    except ValidationError as exc:
        raise InvalidIdentifier(f"ISNI {value!r}: {exc}") from None


def normalise_ipi(value: str) -> str:
    """An IPI name number: 11 digits, the last two a mod-101 check of the first nine."""
    digits = "".join(ch for ch in str(value) if not ch.isspace())
    if not digits.isdigit():
        raise InvalidIdentifier(f"IPI {value!r}: only digits allowed")
    digits = digits.zfill(11)
    if len(digits) != 11:
        raise InvalidIdentifier(f"IPI {value!r}: an IPI name number has 11 digits")
    weighted = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    if (101 - weighted % 101) % 100 != int(digits[9:]):
        raise InvalidIdentifier(f"IPI {value!r}: check digits do not match")
    return digits


# Codes in CLDR's territory list that are not ISO 3166-1 countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})

_EU = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)

TERRITORY_GROUPS: dict[str, frozenset[str]] = {
    "EU": _EU,
    "EEA": _EU | {"IS", "LI", "NO"},
    "DACH": frozenset({"DE", "AT", "CH"}),
    "NORDICS": frozenset({"DK", "FI", "IS", "NO", "SE"}),
    "LATAM": frozenset(
        [
            "AR",
            "BO",
            "BR",
            "CL",
            "CO",
            "CR",
            "CU",
            "DO",
            "EC",
            "SV",
            "GT",
            "HN",
            "MX",
            "NI",
            "PA",
            "PY",
            "PE",
            "PR",
            "UY",
            "VE",
        ]
    ),
}
"""Named groups an agreement may use in its conditions instead of listing countries."""

WORLDWIDE = "WW"
"""Territory of a line the source reports worldwide (DDEX ``Worldwide``)."""


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from CLDR via babel), plus XK as DSPs use it."""
    from babel import Locale

    codes = {
        c for c in Locale("en").territories if isinstance(c, str) and len(c) == 2 and c.isalpha()
    }
    return frozenset(codes - _NOT_COUNTRIES)


def normalise_territory(value: str) -> str:
    """An ISO 3166-1 alpha-2 country (``gb`` -> ``GB``), or ``WW`` for worldwide."""
    code = str(value).strip().upper()
    if code in {"WW", "WORLDWIDE", "WORLD"}:
        return WORLDWIDE
    if code == "UK":
        return "GB"
    if code not in countries():
        raise InvalidIdentifier(
            f"territory {value!r} is not an ISO 3166 country code", hint="use e.g. US, GB, DE"
        )
    return code
