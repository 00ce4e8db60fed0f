"""Account rows by code, created on demand (the chart itself is :mod:`ledger.domain.accounts`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.domain.accounts import account_type, party_of
from ledger.domain.errors import NotFound
from ledger.store.models import Account, Party


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

    def ids_and_parties(self) -> dict[str, tuple[int, bool]]:
        """Every known code's id and whether it is a party's account (for hot loops)."""
        if len(self._with_party) != len(self._ids):
            self._with_party = {c: (i, party_of(c) is not None) for c, i in self._ids.items()}
        return self._with_party


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
