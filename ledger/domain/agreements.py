"""Agreements as values: versioned, effective-dated split sheets with fees and advances.

An agreement is declarative data (never code): who gets what share of a
revenue line, under which conditions, after which fees.
:mod:`ledger.domain.agreement_files` reads and checks agreement files into
these values; :mod:`ledger.domain.rules` resolves a revenue line against them.
An agreement's ``content_hash`` is the SHA-256 of its canonical JSON form, so a
loaded version can never change unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from ledger.domain.catalog import Track
from ledger.domain.errors import LedgerError
from ledger.domain.money import Money, format_share
from ledger.domain.periods import Period

USAGES: Final = ("stream", "download", "ugc", "radio", "other")
"""Usage types a revenue line can have (the parsers map each format's vocabulary onto these)."""

DIVIDE_BY: Final = ("weights", "equal", "attribution")
SCOPE_KINDS: Final = ("tracks", "releases", "artists", "catalog")


# ---------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Conditions:
    """When a rule or fee applies. ``None`` for a dimension means "any"."""

    sources: frozenset[str] | None = None  # casefolded store names
    territories: frozenset[str] | None = None  # expanded ISO countries (and WW)
    usages: frozenset[str] | None = None
    period_from: Period | None = None
    period_to: Period | None = None
    written: tuple[tuple[str, str], ...] = ()  # (key, text as written) for explanations

    def matches(self, source: str, territory: str, usage: str, period: Period) -> bool:
        if self.sources is not None and source.casefold() not in self.sources:
            return False
        if self.territories is not None and territory not in self.territories:
            return False
        if self.usages is not None and usage not in self.usages:
            return False
        if self.period_from is not None and period < self.period_from:
            return False
        return not (self.period_to is not None and period > self.period_to)

    def overlaps(self, other: Conditions) -> bool:
        """Could one line satisfy both? (Each dimension must intersect.)"""
        for mine, theirs in (
            (self.sources, other.sources),
            (self.territories, other.territories),
            (self.usages, other.usages),
        ):
            if mine is not None and theirs is not None and not (mine & theirs):
                return False
        return periods_overlap(self.period_from, self.period_to, other.period_from, other.period_to)

    def describe(self) -> str:
        if not self.written:
            return "always"
        return ", ".join(f"{key} {text}" for key, text in self.written)

    def why_not(self, source: str, territory: str, usage: str, period: Period) -> str | None:
        """The first condition a line fails, in words; None if it matches."""
        if self.sources is not None and source.casefold() not in self.sources:
            return f"source {source!r} is not {self._text('source')}"
        if self.territories is not None and territory not in self.territories:
            return f"territory {territory} is not in {self._text('territory')}"
        if self.usages is not None and usage not in self.usages:
            return f"usage {usage} is not {self._text('usage')}"
        if not periods_overlap(period, period, self.period_from, self.period_to):
            return f"period {period} is outside {self._text('period')}"
        return None

    def _text(self, key: str) -> str:
        return next((text for k, text in self.written if k == key), "")


def periods_overlap(
    a_from: Period | None, a_to: Period | None, b_from: Period | None, b_to: Period | None
) -> bool:
    starts = [p for p in (a_from, b_from) if p is not None]
    ends = [p for p in (a_to, b_to) if p is not None]
    return not starts or not ends or max(starts) <= min(ends)


ALWAYS: Final = Conditions()


@dataclass(frozen=True, slots=True)
class Scope:
    """Which tracks an agreement covers."""

    kind: str  # tracks | releases | artists | catalog
    values: frozenset[str] = frozenset()

    def covers(self, track: Track) -> bool:
        if self.kind == "catalog":
            return True
        if self.kind == "tracks":
            return track.isrc in self.values
        if self.kind == "releases":
            return track.release_upc is not None and track.release_upc in self.values
        return track.display_artist in self.values

    def describe(self) -> str:
        if self.kind == "catalog":
            return "the whole catalog"
        return f"{self.kind} {', '.join(sorted(self.values))}"


@dataclass(frozen=True, slots=True)
class ShareEntry:
    """One line of a split sheet: a party's share, or a role's pool."""

    share: Fraction | None  # None means "remaining"
    party_id: str | None = None
    role: str | None = None
    divide_by: str = "weights"
    model: str | None = None
    line: int = 0

    @property
    def is_pool(self) -> bool:
        return self.party_id is None

    @property
    def is_remaining(self) -> bool:
        return self.share is None


@dataclass(frozen=True, slots=True)
class Rule:
    """A complete split sheet with the conditions under which it applies."""

    id: str
    shares: tuple[ShareEntry, ...]
    priority: int = 0
    when: Conditions = ALWAYS
    line: int = 0

    @property
    def explicit_total(self) -> Fraction:
        return sum((s.share for s in self.shares if s.share is not None), Fraction(0))


@dataclass(frozen=True, slots=True)
class Fee:
    """Taken before the split: a percentage of what is left, or a rate per unit (capped)."""

    id: str
    party_id: str
    percent: Fraction | None = None
    per_unit: Money | None = None
    """A rate per unit (per stream) in its currency."""
    cap: Fraction | None = None
    role: str | None = None  # None: the party's role on the track (label for the operator)
    when: Conditions = ALWAYS
    line: int = 0

    def describe(self) -> str:
        if self.percent is not None:
            return f"{format_share(self.percent)} to {self.party_id}"
        text = f"{self.per_unit} per unit to {self.party_id}"
        if self.cap is not None:
            text += f", capped at {format_share(self.cap)} of the line"
        return text


@dataclass(frozen=True, slots=True)
class Advance:
    """A recoupable advance: recouped from the party's earnings before they are payable."""

    party_id: str
    amount: Money
    description: str = ""


@dataclass(frozen=True, slots=True)
class Agreement:
    """One version of an agreement, exactly as loaded; ``content_hash`` identifies it."""

    id: str
    version: int
    title: str
    effective_from: Period
    effective_to: Period | None
    scope: Scope
    rules: tuple[Rule, ...]
    fees: tuple[Fee, ...] = ()
    advances: tuple[Advance, ...] = ()
    content_hash: str = ""
    line: int = 0

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"

    def in_force(self, period: Period) -> bool:
        if period < self.effective_from:
            return False
        return self.effective_to is None or period <= self.effective_to

    def canonical(self) -> dict[str, object]:
        """A JSON-ready form with exact text values; its hash is ``content_hash``."""

        def cond(c: Conditions) -> dict[str, object]:
            return {
                "sources": sorted(c.sources) if c.sources is not None else None,
                "territories": sorted(c.territories) if c.territories is not None else None,
                "usages": sorted(c.usages) if c.usages is not None else None,
                "period_from": _code(c.period_from),
                "period_to": _code(c.period_to),
            }

        def frac(f: Fraction | None) -> str | None:
            return None if f is None else f"{f.numerator}/{f.denominator}"

        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "effective_from": self.effective_from.code,
            "effective_to": _code(self.effective_to),
            "scope": {"kind": self.scope.kind, "values": sorted(self.scope.values)},
            "rules": [
                {
                    "id": r.id,
                    "priority": r.priority,
                    "when": cond(r.when),
                    "shares": [
                        {
                            "share": frac(s.share) if s.share is not None else "remaining",
                            "party": s.party_id,
                            "role": s.role,
                            "divide_by": s.divide_by,
                            "model": s.model,
                        }
                        for s in r.shares
                    ],
                }
                for r in self.rules
            ],
            "fees": [
                {
                    "id": f.id,
                    "party": f.party_id,
                    "role": f.role,
                    "percent": frac(f.percent),
                    "per_unit": f.per_unit.text if f.per_unit is not None else None,
                    "currency": f.per_unit.currency if f.per_unit is not None else None,
                    "cap": frac(f.cap),
                    "when": cond(f.when),
                }
                for f in self.fees
            ],
            "advances": [
                {
                    "party": a.party_id,
                    "amount": a.amount.text,
                    "currency": a.amount.currency,
                    "description": a.description,
                }
                for a in self.advances
            ],
        }


def _code(period: Period | None) -> str | None:
    return None if period is None else period.code


def content_hash(agreement: Agreement) -> str:
    text = json.dumps(agreement.canonical(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class InvalidAgreement(LedgerError):
    code = "invalid-agreement"
    title = "Invalid agreement"


def current_versions(agreements: Iterable[Agreement]) -> list[Agreement]:
    """The highest version of each agreement id."""
    best: dict[str, Agreement] = {}
    for a in agreements:
        if a.id not in best or a.version > best[a.id].version:
            best[a.id] = a
    return sorted(best.values(), key=lambda a: a.id)
