"""The catalog, agreements and attribution reports in the database.

The pure parsers (:mod:`ledger.domain.catalog`, :mod:`ledger.domain.agreement_files`,
:mod:`ledger.domain.attribution`) validate a file completely before anything is
stored (:mod:`ledger.services.documents`). Here the result is saved in the
caller's transaction and read back as domain values:

* catalog loads upsert parties and tracks; a track's contributions are replaced
  by those the file states (the file is the provenance record of the tracks it
  lists). Loading the same file twice changes nothing;
* agreement and attribution files are kept verbatim (:class:`DocumentVersion`)
  and parsed again when needed, so a split run can name exactly the documents
  (by hash) that produced it;
* every document is also identified by its SHA-256, which split runs record.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlmodel import Session, col

from ledger.domain import catalog as cat
from ledger.domain.agreement_files import parse_agreements
from ledger.domain.agreements import Agreement
from ledger.domain.attribution import AttributionReport, parse_attribution
from ledger.domain.errors import NotInitialised
from ledger.domain.periods import Period
from ledger.store import settings
from ledger.store.models import Contribution, DocumentVersion, Party, Track


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def keep(
    session: Session, kind: str, name: str, text: str, period: Period | None = None
) -> tuple[int, bool]:
    """Keep a document verbatim once: (its id, whether the same text was kept already)."""
    sha = sha256_of(text)
    existing = session.scalars(
        select(DocumentVersion).where(
            col(DocumentVersion.kind) == kind,
            col(DocumentVersion.sha256) == sha,
            col(DocumentVersion.period) == period,
        )
    ).first()
    if existing is not None and existing.id is not None:
        return existing.id, True
    doc = DocumentVersion(
        kind=kind, name=name, sha256=sha, period=period, content=text, loaded_at=datetime.now(UTC)
    )
    session.add(doc)
    session.flush()
    assert doc.id is not None
    return doc.id, False


# ---------------------------------------------------------------------------
# Catalog


def save_catalog(session: Session, parsed: cat.Catalog) -> None:
    """Upsert the catalog's parties and tracks; a listed track's contributions are
    replaced by those given."""
    for p in parsed.parties:
        row = session.get(Party, p.id) or Party(id=p.id, name=p.name)
        row.name, row.kind, row.payout_currency = p.name, p.kind, p.payout_currency
        row.payout_threshold, row.email, row.ipi, row.isni = (
            p.payout_threshold,
            p.email,
            p.ipi,
            p.isni,
        )
        row.is_operator = p.is_operator
        session.add(row)
    session.flush()
    for t in parsed.tracks:
        track = session.get(Track, t.isrc) or Track(
            isrc=t.isrc, title=t.title, display_artist=t.display_artist
        )
        track.title, track.display_artist = t.title, t.display_artist
        track.release_upc, track.release_title = t.release_upc, t.release_title
        session.add(track)
    session.flush()
    listed = sorted({c.isrc for c in parsed.contributions} | {t.isrc for t in parsed.tracks})
    if listed:
        session.execute(delete(Contribution).where(col(Contribution.isrc).in_(listed)))
    for c in parsed.contributions:
        session.add(
            Contribution(
                isrc=c.isrc,
                party_id=c.party_id,
                role=c.role,
                description=c.description,
                weight=None if c.weight is None else f"{c.weight.numerator}/{c.weight.denominator}",
            )
        )
    settings.put(session, settings.OPERATOR, parsed.operator_id)
    session.flush()


def current_catalog(session: Session) -> cat.Catalog:
    """The catalog as the database holds it now, as the pure engine's value."""
    from fractions import Fraction

    operator = settings.get(session, settings.OPERATOR)
    if operator is None:
        raise NotInitialised("no catalog has been loaded", hint="run `royalty catalog load FILE`")
    parties = tuple(
        cat.Party(
            id=p.id,
            name=p.name,
            kind=p.kind,
            payout_currency=p.payout_currency,
            payout_threshold=p.payout_threshold,
            email=p.email,
            ipi=p.ipi,
            isni=p.isni,
            is_operator=p.is_operator,
        )
        for p in session.scalars(select(Party).order_by(col(Party.id)))
    )
    tracks = tuple(
        cat.Track(
            isrc=t.isrc,
            title=t.title,
            display_artist=t.display_artist,
            release_upc=t.release_upc,
            release_title=t.release_title,
        )
        for t in session.scalars(select(Track).order_by(col(Track.isrc)))
    )
    contributions = tuple(
        cat.Contribution(
            isrc=c.isrc,
            party_id=c.party_id,
            role=c.role,
            weight=None if c.weight is None else Fraction(c.weight),
            description=c.description,
        )
        for c in session.scalars(select(Contribution).order_by(col(Contribution.id)))
    )
    return cat.Catalog(
        operator_id=operator, parties=parties, tracks=tracks, contributions=contributions
    )


# ---------------------------------------------------------------------------
# Agreements


def active_documents(session: Session, kind: str) -> list[DocumentVersion]:
    """The documents of a kind in force (an older attribution report of a period is not)."""
    return list(
        session.scalars(
            select(DocumentVersion)
            .where(col(DocumentVersion.kind) == kind, col(DocumentVersion.active) == True)  # noqa: E712
            .order_by(col(DocumentVersion.id))
        )
    )


def stored_agreements(
    session: Session, catalog: cat.Catalog | None = None
) -> tuple[Agreement, ...]:
    """Every agreement version ever loaded (the resolver picks those in force)."""
    catalog = catalog or current_catalog(session)
    seen: dict[tuple[str, int], Agreement] = {}
    for doc in active_documents(session, "agreements"):
        for a in parse_agreements(doc.content, doc.name, catalog, existing=tuple(seen.values())):
            seen.setdefault((a.id, a.version), a)
    return tuple(sorted(seen.values(), key=lambda a: (a.id, a.version)))


def agreement_documents(session: Session) -> list[tuple[str, str]]:
    """(name, sha256) of the agreement files in force, for split-run records."""
    return [(d.name, d.sha256) for d in active_documents(session, "agreements")]


# ---------------------------------------------------------------------------
# Attribution reports


def attribution_reports(
    session: Session, catalog: cat.Catalog | None = None
) -> dict[Period, AttributionReport]:
    catalog = catalog or current_catalog(session)
    reports: dict[Period, AttributionReport] = {}
    for doc in active_documents(session, "attribution"):
        assert doc.period is not None
        reports[doc.period] = parse_attribution(doc.content, doc.name, doc.period, catalog=catalog)
    return reports


def attribution_documents(session: Session) -> list[tuple[str, str, str]]:
    """(period, name, sha256) of the attribution reports in force, for split-run records."""
    return [
        (d.period.code if d.period else "", d.name, d.sha256)
        for d in active_documents(session, "attribution")
    ]
