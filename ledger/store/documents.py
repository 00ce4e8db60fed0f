"""The catalog, agreements and attribution reports in the database.

The pure parsers (:mod:`ledger.domain.catalog`, :mod:`ledger.domain.agreements`,
:mod:`ledger.domain.attribution`) validate a file completely before anything is
stored. Here the result is saved in the caller's transaction:

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
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlmodel import Session, col

from ledger.domain import catalog as cat
from ledger.domain.agreements import Agreement, check_agreements, parse_agreements
from ledger.domain.attribution import AttributionReport, parse_attribution
from ledger.domain.errors import InputError, NotInitialised, Problem
from ledger.domain.periods import parse_period
from ledger.store import settings
from ledger.store.models import Contribution, DocumentVersion, Party, Track


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    parties: int
    tracks: int
    contributions: int
    document_id: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class AgreementsLoad:
    agreements: tuple[str, ...]
    """``id@vN`` of every agreement in the file."""
    document_id: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class AttributionLoad:
    period: str
    licensors: int
    document_id: int
    unchanged: bool


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(
    session: Session, kind: str, name: str, text: str, period: str | None = None
) -> tuple[int, bool]:
    sha = _sha(text)
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


def load_catalog(session: Session, text: str, filename: str) -> CatalogLoad:
    """Validate a catalog file completely, then upsert it."""
    parsed = cat.parse_catalog(text, filename)
    operator = settings.get(session, settings.OPERATOR)
    if operator is not None and operator != parsed.operator_id:
        raise InputError(
            [
                Problem(
                    filename,
                    None,
                    "operator",
                    f"the ledger's operator is {operator!r}, this file names "
                    f"{parsed.operator_id!r}",
                )
            ]
        )
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
    doc_id, unchanged = _store(session, "catalog", filename, text)
    session.flush()
    return CatalogLoad(
        len(parsed.parties), len(parsed.tracks), len(parsed.contributions), doc_id, unchanged
    )


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


def _documents(session: Session, kind: str) -> list[DocumentVersion]:
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
    for doc in _documents(session, "agreements"):
        for a in parse_agreements(doc.content, doc.name, catalog, existing=tuple(seen.values())):
            seen.setdefault((a.id, a.version), a)
    return tuple(sorted(seen.values(), key=lambda a: (a.id, a.version)))


def agreement_documents(session: Session) -> list[tuple[str, str]]:
    """(name, sha256) of the agreement files in force, for split-run records."""
    return [(d.name, d.sha256) for d in _documents(session, "agreements")]


def check_agreement_file(session: Session, text: str, filename: str) -> tuple[Problem, ...]:
    catalog = current_catalog(session)
    existing = stored_agreements(session, catalog)
    return check_agreements(text, filename, catalog, existing=existing)


def load_agreements(session: Session, text: str, filename: str) -> AgreementsLoad:
    """Validate an agreements file against the catalog and the loaded versions, then keep it."""
    catalog = current_catalog(session)
    existing = stored_agreements(session, catalog)
    parsed = parse_agreements(text, filename, catalog, existing=existing)
    doc_id, unchanged = _store(session, "agreements", filename, text)
    return AgreementsLoad(tuple(a.ref for a in parsed), doc_id, unchanged)


# ---------------------------------------------------------------------------
# Attribution reports


def load_attribution(session: Session, text: str, filename: str, period: str) -> AttributionLoad:
    """Keep a period's attribution report; a newer report for the period replaces the older."""
    period = parse_period(period)
    report = parse_attribution(text, filename, period, catalog=current_catalog(session))
    sha = _sha(text)
    for doc in _documents(session, "attribution"):
        if doc.period == period and doc.sha256 != sha:
            doc.active = False
            session.add(doc)
    doc_id, unchanged = _store(session, "attribution", filename, text, period)
    row = session.get(DocumentVersion, doc_id)
    if row is not None and not row.active:
        row.active = True
        session.add(row)
    session.flush()
    return AttributionLoad(period, len({w.licensor_id for w in report.weights}), doc_id, unchanged)


def attribution_reports(
    session: Session, catalog: cat.Catalog | None = None
) -> dict[str, AttributionReport]:
    catalog = catalog or current_catalog(session)
    reports: dict[str, AttributionReport] = {}
    for doc in _documents(session, "attribution"):
        assert doc.period is not None
        reports[doc.period] = parse_attribution(doc.content, doc.name, doc.period, catalog=catalog)
    return reports


def attribution_documents(session: Session) -> list[tuple[str, str, str]]:
    return [(d.period or "", d.name, d.sha256) for d in _documents(session, "attribution")]
