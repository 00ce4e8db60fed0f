"""The chart of accounts: structured codes, their types, and creating them on demand.

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
bank                   asset      cash paid out / received
=====================  =========  ================================================

Debits are positive, credits negative, for every type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.domain.errors import LedgerError, NotFound
from ledger.store.models import Account, Party

UNDISTRIBUTED = "revenue:undistributed"
SUSPENSE = "suspense:revenue"
FEES = "income:fees"
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


class AccountCache:
    """Account ids by code for one unit of work; creates missing accounts once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, int] = {}
        self._with_party: dict[str, tuple[int, bool]] = {}

    def missing(self, codes: Iterable[str]) -> set[str]:
        """The codes not known yet (:meth:`ensure` would look them up or create them)."""
        known = self._ids
        return {c for c in codes if c not in known}

    def ensure(self, codes: Iterable[str]) -> None:
        missing = self.missing(codes)
        if not missing:
            return
        for chunk in _chunks(sorted(missing), 500):
            for code, id_ in self.session.execute(
                select(col(Account.code), col(Account.id)).where(col(Account.code).in_(chunk))
            ):
                self._ids[code] = id_
        for code in sorted(missing - self._ids.keys()):
            party_id = party_of(code)
            if party_id is not None and self.session.get(Party, party_id) is None:
                raise NotFound(
                    f"account {code}: party {party_id!r} is not in the catalog",
                    hint="load the catalog first",
                )
            account = Account(code=code, name=code, type=account_type(code), party_id=party_id)
            self.session.add(account)
            self.session.flush()
            assert account.id is not None
            self._ids[code] = account.id

    def id_of(self, code: str) -> int:
        return self._ids[code]

    def ids_and_parties(self) -> dict[str, tuple[int, bool]]:
        """Every known code's id and whether it is a party's account (for hot loops)."""
        if len(self._with_party) != len(self._ids):
            self._with_party = {c: (i, party_of(c) is not None) for c, i in self._ids.items()}
        return self._with_party


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
