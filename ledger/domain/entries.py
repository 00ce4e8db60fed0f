"""Journal entries as values: legs, drafts, the balance rule and the hash chain (pure).

A service describes what it wants recorded as an :class:`EntryDraft` of
:class:`Leg` values; :mod:`ledger.store.journal` checks it with
:func:`check_balanced` and posts it. Nothing here touches the database, so the
same rules are applied when an entry is posted and when :mod:`ledger.store.verify`
reads it back.

* An entry balances per currency: the legs of each currency sum to zero
  (debits positive, credits negative).
* Its content hash covers every field and leg in a fixed text form; its chain
  hash covers the previous entry's hash, its id, when it was posted and that
  content hash (:func:`chain_hash`).
* A correction is the mirror entry (:func:`reversal_draft`), never an edit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.domain.errors import InvalidAmount, UnbalancedEntry
from ledger.domain.money import MAX_UNITS, Money, currency, from_units, units_to_text
from ledger.domain.periods import Period

GENESIS = "0" * 64
"""The hash before the first entry."""

KINDS = frozenset(
    {
        "import",
        "split",
        "adjustment",
        "fee",
        "recoupment",
        "advance",
        "payout",
        "suspense",
        "reversal",
        "manual",
        "fx",
    }
)


class Leg(NamedTuple):
    """One side of an entry: an account, a signed amount (debit +, credit -), and
    where the money came from.

    The amount is held as an integer of 10^-10 units, the form the journal stores
    and sums; bulk producers (imports, split runs) build legs from units directly,
    so a million legs cost no Decimal arithmetic. :meth:`of` takes a :class:`Money`.
    A named tuple, not a frozen dataclass: as immutable, and four times cheaper to
    build (a split run builds millions).
    """

    account: str
    units: int
    currency: str
    isrc: str | None = None
    source: str | None = None
    territory: str | None = None
    usage: str | None = None
    rule_ref: str | None = None
    memo: str | None = None
    usage_period: str | None = None

    @classmethod
    def of(
        cls,
        account: str,
        money: Money,
        *,
        isrc: str | None = None,
        source: str | None = None,
        territory: str | None = None,
        usage: str | None = None,
        rule_ref: str | None = None,
        memo: str | None = None,
        usage_period: str | None = None,
    ) -> Leg:
        """A leg of ``money`` (a :class:`Money`, exact at ledger scale)."""
        if not isinstance(money, Money):
            raise InvalidAmount(
                f"leg {account}: {money!r} is not Money", hint="build it with Money.of"
            )
        return cls(
            account,
            money.units,
            money.currency,
            isrc,
            source,
            territory,
            usage,
            rule_ref,
            memo,
            usage_period,
        )

    @property
    def money(self) -> Money:
        return Money(from_units(self.units), self.currency)

    def canonical(self) -> str:
        return "\x1f".join(
            (
                self.account,
                self.currency,
                str(self.units),
                self.isrc or "",
                self.source or "",
                self.territory or "",
                self.usage or "",
                self.rule_ref or "",
                self.memo or "",
                self.usage_period or "",
            )
        )


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry not yet posted: what a service wants to record."""

    key: str
    period: Period
    kind: str
    description: str
    legs: tuple[Leg, ...]
    source_ref: str | None = None
    reverses: int | None = None
    _content_hash: str | None = field(default=None, init=False, repr=False, compare=False)
    """Memo of :meth:`content_hash` (a draft is immutable; large ones take a while)."""

    def __post_init__(self) -> None:
        if type(self.legs) is not tuple:  # a list could change under the memo
            object.__setattr__(self, "legs", tuple(self.legs))

    def content_hash(self) -> str:
        if self._content_hash is not None:
            return self._content_hash
        head = "\x1e".join(
            (
                self.key,
                str(self.period),
                self.kind,
                self.description,
                self.source_ref or "",
                str(self.reverses or ""),
            )
        )
        body = "\x1e".join(leg.canonical() for leg in self.legs)
        digest = hashlib.sha256(f"{head}\x1d{body}".encode()).hexdigest()
        object.__setattr__(self, "_content_hash", digest)
        return digest


@dataclass(frozen=True, slots=True)
class PostedEntry:
    id: int
    key: str
    period: Period
    kind: str
    description: str
    hash: str
    created: bool
    """False when an identical entry with the same key was already posted."""


def chain_hash(prev_hash: str, entry_id: int, posted_at: str, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{entry_id}|{posted_at}|{content_hash}".encode()).hexdigest()


def check_balanced(draft: EntryDraft) -> None:
    """Refuse an entry whose legs do not sum to zero in every currency."""
    if not draft.key or len(draft.key) > 200:
        raise UnbalancedEntry(
            f"entry {draft.key!r}: an idempotency key of 1 to 200 characters is needed"
        )
    if draft.kind not in KINDS:
        raise UnbalancedEntry(f"entry {draft.key}: unknown kind {draft.kind!r}")
    if not isinstance(draft.period, Period):
        raise UnbalancedEntry(
            f"entry {draft.key}: period {draft.period!r} is not a Period",
            hint="parse it once with Period.parse",
        )
    if len(draft.legs) < 2:
        raise UnbalancedEntry(f"entry {draft.key}: needs at least two legs")
    totals: dict[str, int] = {}
    for leg in draft.legs:
        u = leg.units
        if type(u) is not int or not -MAX_UNITS < u < MAX_UNITS:
            raise InvalidAmount(
                f"entry {draft.key}: leg {leg.account}: {u!r} is not an amount in 10^-10 units",
                hint="build legs from Money with Leg.of",
            )
        totals[leg.currency] = totals.get(leg.currency, 0) + u
    for code in totals:
        currency(code)
    off = {c: t for c, t in totals.items() if t}
    if off:
        detail = ", ".join(f"{c} off by {units_to_text(t)}" for c, t in sorted(off.items()))
        raise UnbalancedEntry(
            f"entry {draft.key}: does not balance ({detail})",
            hint="debits and credits must sum to zero in each currency",
        )


def reversal_draft(
    entry: PostedEntry,
    legs: Sequence[Leg],
    *,
    key: str,
    period: Period,
    source_ref: str | None,
    description: str | None = None,
) -> EntryDraft:
    """The mirror of a posted entry: same legs, opposite signs, linked to it."""
    return EntryDraft(
        key=key,
        period=period,
        kind="reversal",
        description=description or f"Reversal of entry {entry.id}: {entry.description}",
        legs=tuple(leg._replace(units=-leg.units) for leg in legs),
        source_ref=source_ref,
        reverses=entry.id,
    )
