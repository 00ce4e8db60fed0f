"""Suspense: revenue that cannot be attributed yet is held, listed and released.

An import credits ``suspense:revenue`` for lines whose ISRC is malformed or
not in the catalog. Nothing is dropped: once the catalog knows the track,
:func:`resolve_suspense` posts a balanced entry moving exactly those amounts
(same track, source, territory, usage and usage period) to undistributed
revenue, in an open period, where the next split run picks them up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain import accounts
from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.money import Money, parts_to_units
from ledger.domain.periods import Period
from ledger.store import journal, periods, settings
from ledger.store.models import SuspenseRelease, Track


@dataclass(frozen=True, slots=True)
class SuspenseItem:
    import_id: int
    filename: str
    isrc: str
    reason: str
    lines: int
    quantity: int
    amount: Money
    currency: str
    first_line: int
    resolvable: bool
    """True when the catalog now knows the ISRC: `suspense resolve` will release it."""


@dataclass(frozen=True, slots=True)
class ResolveSummary:
    period: Period | None
    groups: int
    lines: int
    amount: Money
    currency: str
    entry_id: int | None
    remaining_lines: int


_OPEN_SUSPENSE = """
SELECT l.import_id, i.filename, l.isrc, l.suspense_reason, COUNT(*), SUM(l.quantity),
       SUM(l.amount_whole), SUM(l.amount_frac), l.currency, MIN(l.line_no)
FROM revenue_line l JOIN revenue_import i ON i.id = l.import_id
WHERE l.suspense_reason IS NOT NULL AND i.status = 'posted'
  AND NOT EXISTS (SELECT 1 FROM suspense_release r
                  WHERE r.import_id = l.import_id AND r.isrc = l.isrc)
GROUP BY l.import_id, i.filename, l.isrc, l.suspense_reason, l.currency
ORDER BY l.import_id, l.isrc
"""


def list_suspense(session: Session) -> list[SuspenseItem]:
    known = set(session.scalars(select(col(Track.isrc))))
    return [
        SuspenseItem(
            import_id=int(r[0]),
            filename=r[1],
            isrc=r[2],
            reason=r[3],
            lines=int(r[4]),
            quantity=int(r[5]),
            amount=Money.of_parts(r[6], r[7], r[8]),
            currency=r[8],
            first_line=int(r[9]),
            resolvable=r[2] in known,
        )
        for r in session.execute(text(_OPEN_SUSPENSE))
    ]


def resolve_suspense(session: Session, *, period: Period | None = None) -> ResolveSummary:
    """Release every suspense group whose ISRC the catalog now knows (one entry)."""
    held = list_suspense(session)
    items = [i for i in held if i.resolvable]
    remaining = sum(i.lines for i in held if not i.resolvable)
    ccy = settings.ledger_currency(session)
    if not items:
        return ResolveSummary(None, 0, 0, Money.zero(ccy), ccy, None, remaining)
    target = periods.open_period_for(session, period)
    total = 0
    now = datetime.now(UTC)
    entry_ids: list[int] = []
    by_import: dict[int, list[SuspenseItem]] = defaultdict(list)
    for item in items:
        by_import[item.import_id].append(item)
    # One release entry per import, so superseding an import reverses only its own releases.
    for import_id in sorted(by_import):
        legs: list[Leg] = []
        for item in by_import[import_id]:
            for src, territory, usage, usage_period, cur, whole, frac in session.execute(
                text(
                    "SELECT source, territory, usage, usage_period, currency, "
                    "SUM(amount_whole), SUM(amount_frac) FROM revenue_line "
                    "WHERE import_id = :i AND isrc = :s AND suspense_reason IS NOT NULL "
                    "GROUP BY source, territory, usage, usage_period, currency "
                    "ORDER BY source, territory, usage, usage_period, currency"
                ),
                {"i": import_id, "s": item.isrc},
            ):
                units = parts_to_units(whole, frac)
                dims = dict(
                    isrc=item.isrc,
                    source=src,
                    territory=territory,
                    usage=usage,
                    usage_period=usage_period,
                )
                legs.append(Leg(accounts.SUSPENSE, units, cur, memo=f"import #{import_id}", **dims))
                legs.append(
                    Leg(
                        accounts.UNDISTRIBUTED,
                        -units,
                        cur,
                        memo=f"released from import #{import_id}",
                        **dims,
                    )
                )
                total += units
        isrcs = ",".join(i.isrc for i in by_import[import_id])
        posted = journal.post(
            session,
            EntryDraft(
                key=f"suspense-release:{import_id}:{isrcs}"[:200],
                period=target,
                kind="suspense",
                description=f"Suspense of import #{import_id} released: {isrcs} now in the catalog",
                legs=tuple(legs),
                source_ref="suspense",
            ),
        )
        entry_ids.append(posted.id)
        for item in by_import[import_id]:
            session.add(
                SuspenseRelease(
                    import_id=import_id, isrc=item.isrc, entry_id=posted.id, released_at=now
                )
            )
    session.flush()
    return ResolveSummary(
        target,
        len(items),
        sum(i.lines for i in items),
        Money.of_units(total, ccy),
        ccy,
        entry_ids[0],
        remaining,
    )
