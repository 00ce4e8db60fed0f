"""The chart of accounts: structured codes and their types (pure; the store creates them).

Codes say what an account is for, so no lookup table is needed to post:

=====================  =========  ================================================
code                   type       holds
=====================  =========  ================================================
receivable:<source>    asset      revenue a DSP or distributor owes the operator
revenue:undistributed  liability  imported revenue not yet split
suspense:revenue       liability  revenue that cannot be attributed yet
payable:<party>        liability  what the ledger owes a rights-holder
advance:<party>        asset      recoupable advances paid to a party
income:fees            income     the operator's fees
income:share           income     the operator's part of the split
bank                   asset      cash paid out / received
=====================  =========  ================================================

Debits are positive, credits negative, for every type.
"""

from __future__ import annotations

import re

from ledger.domain.errors import LedgerError

UNDISTRIBUTED = "revenue:undistributed"
SUSPENSE = "suspense:revenue"
FEES = "income:fees"
SHARE = "income:share"
BANK = "bank"

_TYPES = {
    "receivable": "asset",
    "advance": "asset",
    "bank": "asset",
    "revenue": "liability",
    "suspense": "liability",
    "payable": "liability",
    "income": "income",
    "expense": "expense",
    "equity": "equity",
}
_PARTY_PREFIXES = ("payable", "advance")
_CODE = re.compile(r"^[a-z]+(:[A-Za-z0-9_.\-]+)*$")


class InvalidAccount(LedgerError):
    code = "invalid-account"
    title = "Invalid account"


def payable(party_id: str) -> str:
    return f"payable:{party_id}"


def advance(party_id: str) -> str:
    return f"advance:{party_id}"


def receivable(source: str) -> str:
    return f"receivable:{slug(source)}"


def slug(text: str) -> str:
    """A source or party name as an account code segment (``StreamCo Premium`` -> ``streamco-premium``)."""
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-").lower()
    return s or "unknown"


def account_type(code: str) -> str:
    if not _CODE.match(code):
        raise InvalidAccount(f"account code {code!r} is malformed", hint="e.g. payable:rust")
    prefix = code.split(":", 1)[0]
    if prefix not in _TYPES:
        raise InvalidAccount(f"account code {code!r}: unknown kind {prefix!r}")
    return _TYPES[prefix]


def party_of(code: str) -> str | None:
    prefix, _, rest = code.partition(":")
    return rest if prefix in _PARTY_PREFIXES and rest else None
